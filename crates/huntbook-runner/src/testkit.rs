//! A throwaway PostgreSQL cluster for tests (feature `testkit`): real servers, not
//! mocks, started by the tests themselves.
//!
//! [`TempCluster::start`] runs Debian's `initdb` into a temporary folder and starts
//! `postgres` listening only on a unix socket in that folder, so parallel test
//! processes never race for a TCP port. As root (CI) both run as the `postgres`
//! user through `runuser`, since the server refuses to run as root. A small shell
//! guardian owns the server and stops it, then deletes the folder, as soon as its
//! standard input closes: when the [`TempCluster`] is dropped, and also when the
//! test process dies without dropping it (a `static`, a panic, `kill -9`).
//!
//! Missing binaries fail the test with what to run (`scripts/setup --test`); a
//! PostgreSQL test never skips.
//!
//! ```no_run
//! # async fn demo() {
//! use huntbook_runner::{testkit, JobStore, StoreOptions};
//! let location = testkit::shared_cluster().fresh_database().await;
//! let store = JobStore::open(&location, StoreOptions::default()).await.unwrap();
//! # }
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::StoreLocation;

const SETUP_HINT: &str = "run scripts/setup --test (it installs Debian's postgresql)";

/// Runs the server and waits for its own standard input to close; then stops the
/// server (fast shutdown) and removes the cluster's folder. Arguments: the folder
/// of the server binaries, the cluster folder.
const GUARDIAN: &str = r#"
"$1/postgres" -D "$2/data" -k "$2" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 \
    >"$2/server.log" 2>&1 &
server=$!
cat >/dev/null
kill -INT "$server" 2>/dev/null
wait "$server"
rm -rf "$2"
"#;

/// A running throwaway cluster.
#[derive(Debug)]
pub struct TempCluster {
    folder: PathBuf,
    guardian: Child,
    guardian_input: Option<ChildStdin>,
    databases: AtomicU32,
}

/// The cluster shared by every test of this process, started on first use.
///
/// # Panics
/// When PostgreSQL cannot be found or started, with the reason and what to run.
pub fn shared_cluster() -> &'static TempCluster {
    static CLUSTER: OnceLock<TempCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| TempCluster::start().unwrap_or_else(|e| panic!("{e}")))
}

impl TempCluster {
    /// Create and start a cluster; the error says what is missing or what the
    /// server logged.
    pub fn start() -> Result<TempCluster, String> {
        let bin = server_binaries()?;
        // As root: the server's user and the way to become it, checked before
        // anything is created.
        let as_postgres = if is_root() {
            Some((runuser()?, postgres_user()?))
        } else {
            None
        };
        let folder = tempfile::Builder::new()
            .prefix("huntbook-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a folder for a PostgreSQL test cluster: {e}"))?
            .keep();
        let started = Self::start_in(&folder, &bin, as_postgres.as_ref());
        if started.is_err() {
            let _ = std::fs::remove_dir_all(&folder);
        }
        started
    }

    fn start_in(
        folder: &Path,
        bin: &Path,
        as_postgres: Option<&(PathBuf, (u32, u32))>,
    ) -> Result<TempCluster, String> {
        // `program`, run as the postgres user when we are root.
        let command = |program: &Path| match as_postgres {
            Some((runuser, _)) => {
                let mut command = Command::new(runuser);
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        if let Some((_, (uid, gid))) = as_postgres {
            std::os::unix::fs::chown(folder, Some(*uid), Some(*gid)).map_err(|e| {
                format!("cannot give {} to the postgres user: {e}", folder.display())
            })?;
        }
        let initdb = command(&bin.join("initdb"))
            .arg("-D")
            .arg(folder.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .output()
            .map_err(|e| format!("cannot run initdb in {}: {e}; {SETUP_HINT}", bin.display()))?;
        if !initdb.status.success() {
            return Err(format!(
                "initdb failed ({}): {}",
                initdb.status,
                String::from_utf8_lossy(&initdb.stderr)
            ));
        }
        let mut guardian = command(Path::new("sh"))
            .args(["-c", GUARDIAN, "guardian"])
            .arg(bin)
            .arg(folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the PostgreSQL test server: {e}"))?;
        let guardian_input = guardian.stdin.take();
        // From here on, dropping the cluster stops the server.
        let cluster = TempCluster {
            folder: folder.to_path_buf(),
            guardian,
            guardian_input,
            databases: AtomicU32::new(0),
        };
        cluster.wait_until_ready(Duration::from_secs(60))?;
        Ok(cluster)
    }

    /// The folder holding the server's unix socket.
    pub fn socket_folder(&self) -> &Path {
        &self.folder
    }

    /// The URL of `database` in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://postgres@/{database}?host={}",
            self.folder.display()
        )
    }

    /// A new, empty database of its own for one test.
    ///
    /// # Panics
    /// When the server refuses (the message says why).
    pub async fn fresh_database(&self) -> StoreLocation {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            self.databases.fetch_add(1, Ordering::Relaxed)
        );
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        drop(client);
        let _ = connection.await;
        StoreLocation::Postgres(self.url(&name))
    }

    /// The server writes `ready` on the 8th line of `postmaster.pid` once it accepts
    /// connections (what `pg_ctl -w` waits for).
    fn wait_until_ready(&self, within: Duration) -> Result<(), String> {
        let pid_file = self.folder.join("data").join("postmaster.pid");
        let started = Instant::now();
        while started.elapsed() < within {
            let status = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if status
                .lines()
                .nth(7)
                .is_some_and(|line| line.trim() == "ready")
            {
                return Ok(());
            }
            if !self.folder.join("data").exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut log = String::new();
        let _ = std::fs::File::open(self.folder.join("server.log"))
            .and_then(|mut f| f.read_to_string(&mut log));
        Err(format!(
            "the PostgreSQL test server did not become ready within {} s; its log:\n{log}",
            within.as_secs()
        ))
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        // Closing the guardian's input stops the server and removes the folder.
        drop(self.guardian_input.take());
        let _ = self.guardian.wait();
    }
}

/// The folder with `initdb` and `postgres`: `HUNTBOOK_PG_BIN`, then the folder of an
/// `initdb` on PATH, then Debian's `/usr/lib/postgresql/VERSION/bin` (newest first).
fn server_binaries() -> Result<PathBuf, String> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("HUNTBOOK_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_both(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "HUNTBOOK_PG_BIN={} holds no initdb and postgres",
                dir.display()
            ))
        };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .filter_map(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf));
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    on_path
        .chain(debian.into_iter().map(|(_, dir)| dir))
        .find(|dir| has_both(dir))
        .ok_or_else(|| {
            format!(
                "the PostgreSQL tests need the server binaries initdb and postgres, found neither \
                 on PATH nor in /usr/lib/postgresql/*/bin: {SETUP_HINT}"
            )
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn postgres_user() -> Result<(u32, u32), String> {
    // SAFETY: the name is a valid C string; the returned record is read before any
    // other call that could overwrite it.
    let entry = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    if entry.is_null() {
        return Err(format!(
            "running as root, the PostgreSQL tests need the postgres user to run the server: {SETUP_HINT}"
        ));
    }
    // SAFETY: non-null, from getpwnam just above.
    let entry = unsafe { &*entry };
    Ok((entry.pw_uid, entry.pw_gid))
}

/// `runuser` (util-linux), which starts the server as the postgres user when we are
/// root. It lives in /usr/sbin, which a non-login PATH may lack.
fn runuser() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join("runuser"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            "running as root, the PostgreSQL tests start the server as the postgres user \
             with runuser (util-linux), which is not installed"
                .to_owned()
        })
}
