//! `huntbook serve` with the real binary and real kernels: tokens, `submit`, `runs`,
//! refusals shown as CLI errors, a clean stop on SIGTERM, and a restart after
//! `kill -9` that loses no accepted job.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{code, notebook, params_cell, python, wait_for, write_nb};
use serde_json::Value;

/// A folder with huntbook.yaml and the notebooks `double`, `fails` and `sleeps`.
fn service_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_nb(
        d,
        "double.ipynb",
        &notebook(vec![params_cell("x = 1"), code("print('result', x * 2)")]),
    );
    write_nb(
        d,
        "fails.ipynb",
        &notebook(vec![
            params_cell("x = 1"),
            code("raise ValueError('bad %s' % x)"),
        ]),
    );
    write_nb(
        d,
        "sleeps.ipynb",
        &notebook(vec![
            params_cell("seconds = 60"),
            code("import time; time.sleep(seconds)"),
        ]),
    );
    std::fs::write(
        d.join("huntbook.yaml"),
        "Service:\n  store: sqlite:state/jobs.db\n  listen: 127.0.0.1:0\n  workers: 2\n\
         Notebooks:\n  double: double.ipynb\n  fails: fails.ipynb\n  sleeps:\n    path: sleeps.ipynb\n    max_attempts: 1\n",
    )
    .unwrap();
    dir
}

fn huntbook(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_huntbook"));
    cmd.current_dir(dir)
        .env_remove("HUNTBOOK_CONFIG")
        .env_remove("HUNTBOOK_URL")
        .env_remove("HUNTBOOK_TOKEN")
        .env_remove("HUNTBOOK_PYTHON")
        .env_remove("VIRTUAL_ENV");
    cmd
}

/// A running `huntbook serve`; killed when dropped.
struct Serve {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    fn start(dir: &Path) -> Serve {
        let mut child = huntbook(dir)
            .arg("serve")
            .arg("--python")
            .arg(python())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (sink, mut pipe) = (stderr.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "serve printed {first:?}; stderr: {}",
                    stderr.lock().unwrap()
                )
            })
            .to_owned();
        Serve { child, url, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a CLI command ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `huntbook ARGS` in `dir` against `serve` with `token`, for at most two minutes.
fn cli(dir: &Path, serve: &Serve, token: &str, args: &[&str]) -> Ran {
    let mut child = huntbook(dir)
        .args(args)
        .env("HUNTBOOK_URL", &serve.url)
        .env("HUNTBOOK_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("huntbook {args:?} still running after two minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn token(dir: &Path, scope: &str) -> String {
    let out = huntbook(dir)
        .args(["token", "create", "--scope", scope, "--name", "test"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("hb_"), "{token}");
    token
}

fn show(dir: &Path, serve: &Serve, token: &str, id: &str) -> Value {
    let ran = cli(dir, serve, token, &["runs", "show", id]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    serde_json::from_str(&ran.stdout).unwrap()
}

fn until_state(dir: &Path, serve: &Serve, token: &str, id: &str, state: &str) -> Value {
    wait_for(Duration::from_secs(60), || {
        let job = show(dir, serve, token, id);
        (job["job"]["state"] == state).then_some(job)
    })
    .unwrap_or_else(|| panic!("job {id} never {state}: {}", show(dir, serve, token, id)))
}

/// `GET path` with the token: the status and the body.
fn get(serve: &Serve, token: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = serve.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// The stored output notebook whose name holds `run_id`, below `folder`.
fn stored_output(folder: &Path, run_id: &str) -> Option<std::path::PathBuf> {
    std::fs::read_dir(folder).ok()?.flatten().find_map(|entry| {
        let path = entry.path();
        if path.is_dir() {
            stored_output(&path, run_id)
        } else {
            let name = path.file_name()?.to_string_lossy().into_owned();
            (name.contains(run_id) && name.ends_with(".ipynb")).then_some(path)
        }
    })
}

#[test]
fn submit_list_show_log_and_cancel_through_the_service() {
    let folder = service_folder();
    let dir = folder.path();
    let serve = Serve::start(dir);
    let token = token(dir, "run");

    let ran = cli(
        dir,
        &serve,
        &token,
        &["submit", "double", "-p", "x", "21", "--wait"],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let id = ran.stdout.trim().to_owned();
    assert!(ran.stderr.contains("succeeded"), "{}", ran.stderr);
    let detail = show(dir, &serve, &token, &id);
    let job = &detail["job"];
    assert_eq!(
        (job["state"].as_str(), job["parameters"]["x"].as_i64()),
        (Some("succeeded"), Some(21))
    );
    let run_id = detail["runs"][0]["id"].as_str().unwrap().to_owned();
    // The parameters cell, the injected one, the cell that prints: the last of three.
    assert_eq!(
        detail["progress"],
        serde_json::json!({"cell": 3, "total": 3})
    );
    // Stored under the naming scheme (`outputs/{year}/{month}/{day}/double__RUN_..._DATE.ipynb`).
    let output = stored_output(&dir.join("outputs"), &run_id)
        .unwrap_or_else(|| panic!("no output notebook of run {run_id} below {}", dir.display()));
    assert!(std::fs::read_to_string(&output)
        .unwrap()
        .contains("result 42"));
    // The same notebook through the API, and what else the run left.
    let (status, body) = get(&serve, &token, &format!("/api/v1/runs/{run_id}/output.ipynb"));
    assert_eq!(status, 200);
    assert!(body.contains("result 42"));
    let (status, body) = get(&serve, &token, &format!("/api/v1/runs/{id}/output.html"));
    assert_eq!(status, 404, "no finding, so no HTML copy: {body}");
    let (status, body) = get(&serve, &token, "/api/v1/findings");
    assert_eq!((status, body.as_str()), (200, r#"{"findings":[]}"#));
    let (status, body) = get(&serve, &token, "/api/v1/incidents?limit=5");
    assert_eq!((status, body.as_str()), (200, r#"{"incidents":[]}"#));
    let log = cli(dir, &serve, &token, &["runs", "log", &run_id]);
    assert_eq!(
        (log.code, log.stdout.as_str()),
        (Some(0), "result 42\n"),
        "{}",
        log.stderr
    );

    let failed = cli(
        dir,
        &serve,
        &token,
        &["submit", "fails", "-p", "x", "7", "--wait"],
    );
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("bad 7"), "{}", failed.stderr);

    let list = cli(
        dir,
        &serve,
        &token,
        &["runs", "list", "--status", "succeeded"],
    );
    assert_eq!(list.code, Some(0));
    assert_eq!(list.stdout.lines().count(), 1, "{}", list.stdout);
    assert!(list.stdout.starts_with(&id));

    let refused = cli(dir, &serve, &token, &["submit", "double", "-p", "y", "2"]);
    assert_eq!(refused.code, Some(2));
    assert_eq!(
        refused.stderr.trim(),
        "huntbook: error: the service refused the request (HTTP 400): notebook \"double\" has no \
         parameter named y (it declares: x)"
    );
    assert!(serve
        .stderr()
        .contains("POST /api/v1/runs 400 notebook \"double\" has no parameter named y"));

    let later = cli(
        dir,
        &serve,
        &token,
        &["submit", "double", "--at", "2099-01-01T00:00Z"],
    );
    let later = later.stdout.trim().to_owned();
    assert_eq!(
        show(dir, &serve, &token, &later)["job"]["not_before"],
        "2099-01-01T00:00:00.000Z"
    );
    let cancelled = cli(dir, &serve, &token, &["runs", "cancel", &later]);
    assert!(
        cancelled.stdout.starts_with("cancelled: "),
        "{}",
        cancelled.stdout
    );

    let sleeper = cli(dir, &serve, &token, &["submit", "sleeps"])
        .stdout
        .trim()
        .to_owned();
    until_state(dir, &serve, &token, &sleeper, "running");
    let cancel = cli(dir, &serve, &token, &["runs", "cancel", &sleeper]);
    assert!(
        cancel.stdout.starts_with("cancel requested: "),
        "{}",
        cancel.stdout
    );
    let job = until_state(dir, &serve, &token, &sleeper, "cancelled");
    assert_eq!(job["runs"][0]["state"], "cancelled");

    let reader = self::token(dir, "read");
    let forbidden = cli(dir, &serve, &reader, &["submit", "double"]);
    assert_eq!(forbidden.code, Some(2));
    assert!(forbidden.stderr.contains("HTTP 403") && forbidden.stderr.contains("scope 'run'"));
}

#[test]
fn sigterm_stops_the_service_cleanly() {
    let folder = service_folder();
    let mut serve = Serve::start(folder.path());
    let rc = unsafe { libc::kill(serve.child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = wait_for(Duration::from_secs(20), || serve.child.try_wait().unwrap());
    assert_eq!(
        status.map(|s| s.code()),
        Some(Some(0)),
        "{}",
        serve.stderr()
    );
}

/// The store's jobs, read with the store's own client (the service is down).
fn stored_jobs(dir: &Path) -> Vec<(String, Option<String>)> {
    let path: PathBuf = dir.join("state/jobs.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = huntbook_runner::JobStore::open(
            &huntbook_runner::StoreLocation::Sqlite(path),
            huntbook_runner::StoreOptions::default(),
        )
        .await
        .unwrap();
        store
            .jobs(huntbook_runner::JobFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|job| (job.state.to_string(), job.reason))
            .collect()
    })
}

#[test]
fn after_kill_9_and_a_restart_every_accepted_job_ends_with_a_reason() {
    let folder = service_folder();
    let dir = folder.path();
    write_nb(
        dir,
        "pause.ipynb",
        &notebook(vec![
            params_cell("n = 0"),
            code("import time; time.sleep(2)"),
        ]),
    );
    let yaml = std::fs::read_to_string(dir.join("huntbook.yaml")).unwrap();
    std::fs::write(
        dir.join("huntbook.yaml"),
        format!("{yaml}  pause:\n    path: pause.ipynb\n"),
    )
    .unwrap();
    let token = token(dir, "run");

    let mut serve = Serve::start(dir);
    let accepted: Vec<String> = (0..6)
        .map(|n| {
            let ran = cli(
                dir,
                &serve,
                &token,
                &["submit", "pause", "-p", "n", &n.to_string()],
            );
            assert_eq!(ran.code, Some(0), "{}", ran.stderr);
            ran.stdout.trim().to_owned()
        })
        .collect();
    until_state(dir, &serve, &token, &accepted[0], "running");
    serve.child.kill().unwrap(); // SIGKILL: no chance to finish anything
    serve.child.wait().unwrap();

    // The runs the killed process held end when their lease runs out; the rest run.
    let serve = Serve::start(dir);
    for id in &accepted {
        wait_for(Duration::from_secs(150), || {
            let state = show(dir, &serve, &token, id)["job"]["state"]
                .as_str()
                .unwrap()
                .to_owned();
            (state != "queued" && state != "running").then_some(())
        })
        .unwrap_or_else(|| panic!("job {id} never ended: {}", serve.stderr()));
    }
    drop(serve);
    let stored = stored_jobs(dir);
    assert_eq!(stored.len(), accepted.len());
    for (state, reason) in &stored {
        assert!(
            state == "succeeded" || reason.is_some(),
            "{state} without a reason"
        );
    }
    assert!(
        stored
            .iter()
            .any(|(_, reason)| reason.as_deref().is_some_and(|r| r.contains("worker lost"))),
        "{stored:?}"
    );
}
