//! File drop: a folder watched for parameter files, each run once by its notebook.
//!
//! ```yaml
//! watch: inbox/hosts                       # or:
//! watch: {folder: inbox/hosts, settle: 2s} # scan every 2 s (the default)
//! ```
//!
//! The folder is scanned (no file-system notifications: they do not work on network
//! mounts). `*.yaml`, `*.yml` and `*.json` files are parameter files, a mapping of
//! parameter names to values read as `huntbook run -f` reads them; dotfiles and
//! names ending `.tmp`, `.part` or `~` are left alone, so a writer can write under
//! such a name and rename when done. A file is taken only when its size and
//! modification time are the same as at the previous scan, so one still being
//! written waits for the next scan.
//!
//! A taken file is asked for with the key `drop:<notebook>:<file name>:<sha256 of its
//! content>` and then moved to `done/`; a file that does not parse, or whose request
//! is refused, goes to `failed/` with `<name>.reason.txt` beside it saying why. A name
//! already in `done/` or `failed/` gets a time prefix. Should the service stop
//! between the enqueue and the move, the next scan asks again with the same key, gets
//! the job already queued, and moves the file: each file runs once. (So does the same
//! content dropped again under the same name: it is the same request.) When the store
//! cannot take the job (a full queue), the file stays where it is for the next scan.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use huntbook_core::config::{Kind, Value};
use huntbook_notebook::params::parse_yaml;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{pause, report, Context, SubmitError};
use crate::config::{Problems, ServiceConfig};
use crate::model::TriggerKind;

/// The default time between scans.
const SETTLE: Duration = Duration::from_secs(2);
const KEYS: &[&str] = &["folder", "settle"];

/// One watched folder.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The notebook its files run.
    pub notebook: String,
    /// The folder.
    pub folder: PathBuf,
    /// The time between scans: how long a file must stay unchanged to be taken.
    pub settle: Duration,
    /// Where it was set, for errors found when it is prepared.
    at: String,
    setting: Value,
}

impl Watch {
    pub(crate) fn read(
        service: &ServiceConfig,
        notebook: &str,
        at: &str,
        value: &Value,
        problems: &mut Problems,
    ) -> Option<Watch> {
        let (folder_value, settle) = match &value.kind {
            Kind::Str(_) => (value, Some(SETTLE)),
            Kind::Map(_) => {
                problems.unknown_keys(at, value, KEYS);
                let settle = match value.get("settle").filter(|v| !v.is_null()) {
                    None => Some(SETTLE),
                    Some(settle) => problems.length(&format!("{at}.settle"), settle),
                };
                match value.get("folder").filter(|v| v.as_str().is_some()) {
                    Some(folder) => (folder, settle),
                    None => {
                        problems.error(at, value, "a watch needs a `folder`");
                        return None;
                    }
                }
            }
            _ => {
                problems.error(
                    at,
                    value,
                    format!(
                        "expected a folder, or a mapping with `folder` and `settle`, found {}",
                        value.type_name()
                    ),
                );
                return None;
            }
        };
        Some(Watch {
            notebook: notebook.to_owned(),
            folder: service.config.path(folder_value)?,
            settle: settle?,
            at: at.to_owned(),
            setting: folder_value.clone(),
        })
    }

    /// Create the folder and its `done/` and `failed/` when missing.
    pub(crate) fn prepare(&self, problems: &mut Problems) {
        for folder in [self.folder.clone(), self.done(), self.failed()] {
            if let Err(e) = fs::create_dir_all(&folder) {
                problems.error(
                    &self.at,
                    &self.setting,
                    format!("cannot create the folder {}: {e}", folder.display()),
                );
            }
        }
    }

    fn done(&self) -> PathBuf {
        self.folder.join("done")
    }

    fn failed(&self) -> PathBuf {
        self.folder.join("failed")
    }

    /// The idempotency key of the file `name` holding `content`.
    pub fn job_key(&self, name: &str, content: &[u8]) -> String {
        let digest = hex::encode(Sha256::digest(content));
        format!("drop:{}:{name}:{digest}", self.notebook)
    }
}

/// Whether a file name is a parameter file (and not a file being written).
fn is_parameter_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(name.starts_with('.')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || name.ends_with('~'))
        && [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// What one scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Files asked for and moved to `done/`.
    pub done: usize,
    /// Files moved to `failed/`.
    pub failed: usize,
    /// Files seen changing, or new, that wait for the next scan.
    pub waiting: usize,
}

/// Scans one watched folder.
pub struct Watcher {
    context: Context,
    watch: Watch,
    /// Each file's size and modification time at the previous scan.
    seen: HashMap<String, (u64, SystemTime)>,
}

impl Watcher {
    pub fn new(context: Context, watch: Watch) -> Watcher {
        Watcher {
            context,
            watch,
            seen: HashMap::new(),
        }
    }

    /// One scan: take each file unchanged since the previous scan.
    pub async fn scan(&mut self) -> Scan {
        let mut scan = Scan::default();
        let mut files = match self.list() {
            Ok(files) => files,
            Err(e) => {
                report(&self.name(), format!("cannot list the folder: {e}"));
                return scan;
            }
        };
        files.sort();
        let mut seen = HashMap::new();
        for (name, state) in files {
            if self.seen.get(&name) != Some(&state) {
                seen.insert(name, state);
                scan.waiting += 1;
                continue;
            }
            match self.take(&name).await {
                Taken::Done => scan.done += 1,
                Taken::Failed => scan.failed += 1,
                Taken::Later => {
                    seen.insert(name, state);
                    scan.waiting += 1;
                }
            }
        }
        self.seen = seen;
        scan
    }

    fn name(&self) -> String {
        format!(
            "watch {} ({})",
            self.watch.folder.display(),
            self.watch.notebook
        )
    }

    /// The parameter files in the folder with their size and modification time.
    fn list(&self) -> std::io::Result<Vec<(String, (u64, SystemTime))>> {
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.watch.folder)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let metadata = match entry.metadata() {
                Ok(metadata) if metadata.is_file() => metadata,
                _ => continue,
            };
            if is_parameter_file(&name) {
                files.push((name, (metadata.len(), metadata.modified()?)));
            }
        }
        Ok(files)
    }

    async fn take(&self, name: &str) -> Taken {
        let path = self.watch.folder.join(name);
        let content = match fs::read(&path) {
            Ok(content) => content,
            Err(e) => {
                report(
                    &self.name(),
                    format!("cannot read {name}: {e}; trying again next scan"),
                );
                return Taken::Later;
            }
        };
        let parameters = match std::str::from_utf8(&content)
            .map_err(|e| format!("{name} is not UTF-8 text: {e}"))
            .and_then(|text| parse_yaml(text, name).map_err(|e| e.to_string()))
        {
            Ok(parameters) => parameters,
            Err(reason) => return self.fail(name, &reason),
        };
        let serde_json::Value::Object(parameters) = parameters.to_json() else {
            unreachable!("parameters are a mapping")
        };
        let key = self.watch.job_key(name, &content);
        match self
            .context
            .submit(&self.watch.notebook, TriggerKind::Event, parameters, key)
            .await
        {
            Ok(_) => match move_into(&path, &self.watch.done()) {
                Ok(_) => Taken::Done,
                Err(e) => {
                    // The job is queued; the next scan finds it by its key.
                    report(&self.name(), format!("cannot move {name} to done/: {e}"));
                    Taken::Later
                }
            },
            Err(SubmitError::Refused(e)) => self.fail(name, &e.to_string()),
            Err(SubmitError::Store(e)) => {
                report(&self.name(), format!("{name}: {e}; trying again next scan"));
                Taken::Later
            }
        }
    }

    /// Move `name` to `failed/` and write why beside it.
    fn fail(&self, name: &str, reason: &str) -> Taken {
        let moved = move_into(&self.watch.folder.join(name), &self.watch.failed()).and_then(|to| {
            let mut note = to.into_os_string();
            note.push(".reason.txt");
            fs::write(note, format!("{reason}\n"))
        });
        match moved {
            Ok(()) => Taken::Failed,
            Err(e) => {
                report(&self.name(), format!("cannot move {name} to failed/: {e}"));
                Taken::Later
            }
        }
    }

    /// Scan until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow_and_update() {
            self.scan().await;
            if !pause(&mut shutdown, self.watch.settle).await {
                break;
            }
        }
    }
}

enum Taken {
    Done,
    Failed,
    Later,
}

/// Move `file` into `folder` under its name, or with a time prefix when the name is
/// taken there; where it went.
fn move_into(file: &Path, folder: &Path) -> std::io::Result<PathBuf> {
    let name = file
        .file_name()
        .expect("a file in the watched folder")
        .to_string_lossy();
    let mut to = folder.join(name.as_ref());
    if to.exists() {
        let prefix = Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        to = folder.join(format!("{prefix}-{name}"));
    }
    fs::rename(file, &to)?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{on_both_stores, Fixture, Kind};
    use crate::triggers::testing::{eventually, probe, problems_of, Probe};
    use crate::JobFilter;

    #[test]
    fn only_finished_parameter_files_are_candidates() {
        for name in ["a.yaml", "b.YML", "c.json"] {
            assert!(is_parameter_file(name), "{name}");
        }
        for name in [
            ".a.yaml",
            "a.yaml.tmp",
            "a.json.part",
            "a.yaml~",
            "a.txt",
            "done",
        ] {
            assert!(!is_parameter_file(name), "{name}");
        }
    }

    #[test]
    fn bad_settings_are_reported_with_their_line() {
        let problems = problems_of("    watch: {settle: soon, every: 1s}\n");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(
            has("Notebooks.probe.watch.settle (") && has("huntbook.yaml:4"),
            "{text:#?}"
        );
        assert!(
            has("Notebooks.probe.watch.every") && has("unknown setting"),
            "{text:#?}"
        );
        assert!(has("needs a `folder`"), "{text:#?}");
    }

    fn watcher(probe: &Probe, context: Context) -> Watcher {
        let watch = super::super::Triggers::from_service(&probe.service)
            .unwrap()
            .watches
            .remove(0);
        let mut problems = Problems::default();
        watch.prepare(&mut problems);
        assert!(problems.0.is_empty());
        Watcher::new(context, watch)
    }

    fn names(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != "done" && n != "failed")
            .collect();
        names.sort();
        names
    }

    on_both_stores!(
        a_file_written_in_two_halves_is_taken_once_whole,
        a_bad_file_goes_to_failed_with_the_reason,
        sixty_files_across_a_restart_run_once_each,
    );

    async fn a_file_written_in_two_halves_is_taken_once_whole(f: Fixture) {
        let catalogue = probe("    watch: inbox\n");
        let inbox = catalogue.folder.path().join("inbox");
        let context = catalogue.context(&f).await;
        let mut watcher = watcher(&catalogue, context.clone());
        let file = inbox.join("host.yaml");
        fs::write(&file, "host_name: WS1\n").unwrap();
        fs::write(inbox.join("note.txt"), "not a parameter file").unwrap();
        fs::write(inbox.join("next.yaml.part"), "host_name: WS2\n").unwrap();
        assert_eq!(
            watcher.scan().await,
            Scan {
                waiting: 1,
                ..Scan::default()
            }
        );
        let mut writer = fs::OpenOptions::new().append(true).open(&file).unwrap();
        std::io::Write::write_all(&mut writer, b"ip_address: 10.0.0.1\n").unwrap();
        drop(writer);
        assert_eq!(
            watcher.scan().await,
            Scan {
                waiting: 1,
                ..Scan::default()
            }
        );
        assert_eq!(
            watcher.scan().await,
            Scan {
                done: 1,
                ..Scan::default()
            }
        );
        assert_eq!(watcher.scan().await, Scan::default());
        let jobs = context.store.jobs(JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].trigger, TriggerKind::Event);
        assert_eq!(jobs[0].parameters["host_name"], "WS1");
        assert_eq!(jobs[0].parameters["ip_address"], "10.0.0.1");
        let content = b"host_name: WS1\nip_address: 10.0.0.1\n";
        assert_eq!(
            jobs[0].idempotency_key.as_deref(),
            Some(watcher.watch.job_key("host.yaml", content).as_str())
        );
        assert_eq!(fs::read(inbox.join("done/host.yaml")).unwrap(), content);
        assert_eq!(names(&inbox), ["next.yaml.part", "note.txt"]);
    }

    async fn a_bad_file_goes_to_failed_with_the_reason(f: Fixture) {
        let catalogue = probe("    watch: {folder: inbox, settle: 1s}\n");
        let inbox = catalogue.folder.path().join("inbox");
        let mut watcher = watcher(&catalogue, catalogue.context(&f).await);
        fs::write(
            inbox.join("broken.yaml"),
            "host_name: WS1\nip_address: [1.2.3.4\n",
        )
        .unwrap();
        fs::write(inbox.join("list.json"), "[1, 2]").unwrap();
        fs::write(inbox.join("typo.json"), "{\"host_nme\": \"WS1\"}").unwrap();
        fs::write(inbox.join("secret.yaml"), "api_key: abc\n").unwrap();
        // A second file of the same name fails later: it gets a time prefix.
        fs::create_dir_all(inbox.join("failed")).unwrap();
        fs::write(inbox.join("failed/typo.json"), "earlier").unwrap();
        watcher.scan().await;
        assert_eq!(
            watcher.scan().await,
            Scan {
                failed: 4,
                ..Scan::default()
            }
        );
        let reason = |name: &str| {
            fs::read_to_string(inbox.join("failed").join(format!("{name}.reason.txt"))).unwrap()
        };
        let broken = reason("broken.yaml");
        assert!(broken.contains("broken.yaml: line 3, column 1"), "{broken}");
        assert!(reason("list.json").contains("must be a mapping"));
        assert!(reason("secret.yaml").contains("looks like a credential"));
        let renamed: Vec<String> = names(&inbox.join("failed"))
            .into_iter()
            .filter(|n| n.ends_with("-typo.json.reason.txt"))
            .collect();
        assert_eq!(renamed.len(), 1, "{:?}", names(&inbox.join("failed")));
        let typo = fs::read_to_string(inbox.join("failed").join(&renamed[0])).unwrap();
        assert!(typo.contains("no parameter named host_nme"), "{typo}");
        assert!(names(&inbox).is_empty());
        let store = &watcher.context.store;
        assert_eq!(store.counts().await.unwrap().total(), 0);
    }

    async fn sixty_files_across_a_restart_run_once_each(f: Fixture) {
        let catalogue = probe("    watch: {folder: inbox, settle: 20ms}\n");
        let inbox = catalogue.folder.path().join("inbox");
        let context = catalogue.context(&f).await;
        let content = |i: usize| format!("host_name: WS{i}\nlookback: {i}\n");
        let name = |i: usize| format!("host-{i:02}.yaml");

        // As if a watcher had died between the enqueue of file 59 and its move.
        let first = watcher(&catalogue, context.clone());
        let key = first.watch.job_key(&name(59), content(59).as_bytes());
        let mut params = serde_json::Map::new();
        params.insert("host_name".into(), "WS59".into());
        params.insert("lookback".into(), 59.into());
        context
            .submit("probe", TriggerKind::Event, params, key)
            .await
            .unwrap();

        let writer = {
            let inbox = inbox.clone();
            tokio::spawn(async move {
                for i in 0..60 {
                    fs::write(inbox.join(name(i)), content(i)).unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let done = || names(&inbox.join("done")).len();
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(first.run(shutdown));
        eventually("15 files done", || done() >= 15).await;
        stop.send(true).unwrap();
        running.await.unwrap();
        let after_first = done();
        assert!(after_first < 60, "the first watcher was stopped mid-way");

        let second = watcher(&catalogue, context.clone());
        let (stop, shutdown) = watch::channel(false);
        let running = tokio::spawn(second.run(shutdown));
        writer.await.unwrap();
        eventually("60 files done", || done() == 60).await;
        stop.send(true).unwrap();
        running.await.unwrap();

        assert_eq!(
            names(&inbox.join("done")),
            (0..60).map(name).collect::<Vec<_>>()
        );
        assert!(names(&inbox).is_empty());
        let jobs = context.store.jobs(JobFilter::default()).await.unwrap();
        assert_eq!(jobs.len(), 60);
        let mut hosts: Vec<String> = jobs
            .iter()
            .map(|j| j.parameters["host_name"].as_str().unwrap().to_owned())
            .collect();
        hosts.sort();
        let mut expected: Vec<String> = (0..60).map(|i| format!("WS{i}")).collect();
        expected.sort();
        assert_eq!(hosts, expected);
    }
}
