//! The kernel as an operating-system process: spawning it so it cannot outlive us,
//! watching it, signalling it and reaping it.
//!
//! Three choices matter here:
//!
//! - **Own process group.** The kernel leads a new process group, so a Ctrl-C typed
//!   at huntbook's terminal does not reach it directly (huntbook decides whether to
//!   interrupt or shut it down), and so that killing the group also kills whatever
//!   the notebook started.
//! - **Parent-death signal (Linux).** `PR_SET_PDEATHSIG(SIGKILL)` makes the kernel die
//!   if huntbook is killed hard. Linux fires it when the *thread* that forked the
//!   child exits, not the process. Tokio's blocking-pool threads exit after being idle
//!   and a caller's worker thread may belong to a short-lived runtime, so every kernel
//!   is forked from one dedicated spawner thread that lives as long as the process.
//!   `JPY_PARENT_PID` is set as well, which makes ipykernel watch its parent on
//!   platforms without pdeathsig.
//! - **Polling, not waiting.** The child is a plain `std::process::Child` checked with
//!   `try_wait` by the client's wait loops, which already wake up regularly to honour
//!   deadlines; this needs no SIGCHLD machinery from any particular runtime.
//!
//! The kernel's stderr is read by a thread that keeps the last few KB (to explain a
//! failed start) and passes the output through to our stderr once the kernel is up;
//! during start it is held back, so a failure message shows it once, not twice. The
//! kernel's stdout goes to our stderr: our stdout may be carrying a notebook.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::cgroup::{self, MemoryCgroup};
use crate::KernelError;

/// How much of the kernel's stderr is kept for error messages.
const TAIL_BYTES: usize = 4096;
/// How much stderr is held back while the kernel starts.
const HELD_BYTES: usize = 64 * 1024;

/// A running (or exited, not yet dropped) kernel process.
pub(crate) struct KernelProcess {
    handle: Handle,
    exit: Option<ExitStatus>,
    /// Set once the whole group is known to be gone, so we never signal a reused id.
    group_gone: bool,
    stderr: Arc<Mutex<StderrState>>,
    command: String,
    /// Dropped after the kernel is reaped (field order), when the group is empty.
    _memory: Option<MemoryCgroup>,
}

impl KernelProcess {
    /// Spawns `argv` with `env` added to our environment (or, when `base` is given,
    /// to `base` alone), in `cwd`, inside the `memory` group when there is one. Its
    /// stdin is `stdin`, or nothing.
    pub(crate) async fn spawn(
        argv: &[String],
        base: Option<Vec<(String, String)>>,
        env: &[(String, String)],
        cwd: Option<&std::path::Path>,
        memory: Option<MemoryCgroup>,
        stdin: Option<OwnedFd>,
    ) -> Result<KernelProcess, KernelError> {
        let command_line = argv.join(" ");
        let mut cmd = Command::new(&argv[0]);
        if let Some(base) = base {
            cmd.env_clear().envs(base);
        }
        cmd.args(&argv[1..])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("JPY_PARENT_PID", std::process::id().to_string())
            .stdin(stdin.map_or_else(Stdio::null, Stdio::from))
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(cwd) = cwd {
            if !cwd.is_dir() {
                return Err(KernelError::io(
                    format!("cannot start the kernel in {}", cwd.display()),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
                ));
            }
            cmd.current_dir(cwd);
        }
        match std::io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => cmd.stdout(Stdio::from(fd)),
            Err(_) => cmd.stdout(Stdio::null()),
        };
        set_parent_death_signal(&mut cmd);
        if let Some(group) = &memory {
            let procs = group.procs_file().clone();
            // SAFETY: the closure runs between fork and exec and only makes system calls
            // on prepared buffers (see `join_in_child`).
            unsafe { cmd.pre_exec(move || cgroup::join_in_child(&procs)) };
        }

        let mut child =
            spawn_on_spawner_thread(cmd)
                .await
                .map_err(|source| KernelError::Spawn {
                    command: command_line.clone(),
                    source,
                })?;

        let pipe = child.stderr.take().map(OwnedFd::from);
        KernelProcess::watch(Handle::Spawned(child), pipe, command_line, memory)
    }

    /// A kernel forked by a fork server, whose stdout and stderr come through `output`.
    /// `server` is kept alive as long as the kernel: the server reaps it.
    pub(crate) fn forked(
        pid: u32,
        exits: Arc<ExitBoard>,
        server: Arc<dyn std::any::Any + Send + Sync>,
        output: OwnedFd,
        command: String,
        memory: Option<MemoryCgroup>,
    ) -> Result<KernelProcess, KernelError> {
        let handle = Handle::Forked {
            pid,
            exits,
            _server: server,
        };
        KernelProcess::watch(handle, Some(output), command, memory)
    }

    /// Starts the thread that reads `output` (the kernel's stderr) and wraps the process.
    fn watch(
        handle: Handle,
        output: Option<OwnedFd>,
        command: String,
        memory: Option<MemoryCgroup>,
    ) -> Result<KernelProcess, KernelError> {
        let stderr = Arc::new(Mutex::new(StderrState::default()));
        let mut process = KernelProcess {
            handle,
            exit: None,
            group_gone: false,
            stderr: Arc::clone(&stderr),
            command,
            _memory: memory,
        };
        if let Some(pipe) = output {
            let started = std::thread::Builder::new()
                .name("huntbook-kernel-stderr".into())
                .spawn(move || pump_stderr(std::fs::File::from(pipe), &stderr));
            if started.is_err() {
                // Without a reader the kernel would block on a full pipe: kill it.
                process.kill_and_reap();
                return Err(KernelError::io(
                    "cannot start a thread to read the kernel's stderr",
                    std::io::Error::other("thread spawn failed"),
                ));
            }
        }
        Ok(process)
    }

    pub(crate) fn pid(&self) -> u32 {
        match &self.handle {
            Handle::Spawned(child) => child.id(),
            Handle::Forked { pid, .. } => *pid,
        }
    }

    pub(crate) fn command(&self) -> &str {
        &self.command
    }

    /// Replaces the command shown in errors (a long `-c` script says nothing).
    pub(crate) fn set_command(&mut self, command: String) {
        self.command = command;
    }

    /// The exit status if the kernel has exited (reaping it), without blocking.
    pub(crate) fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = match &mut self.handle {
                Handle::Spawned(child) => child.try_wait().ok().flatten(),
                Handle::Forked { pid, exits, .. } => exits.status(*pid),
            };
        }
        self.exit
    }

    /// Sends `signal` to the kernel's whole process group.
    pub(crate) fn signal_group(&mut self, signal: libc::c_int) {
        if self.group_gone {
            return;
        }
        // The kernel was spawned as its group's leader, so the group id is its pid.
        let pgid = self.pid() as libc::pid_t;
        // SAFETY: killpg has no memory-safety preconditions.
        let rc = unsafe { libc::killpg(pgid, signal) };
        if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            self.group_gone = true;
        }
    }

    /// Kills the whole group and reaps the kernel, waiting at most about a second
    /// (a process stuck in uninterruptible I/O is left to init rather than hang us).
    pub(crate) fn kill_and_reap(&mut self) {
        self.signal_group(libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.try_exit().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Once the leader is reaped its id may be reused: never signal the group again.
        if self.exit.is_some() {
            self.group_gone = true;
        }
    }

    /// Starts passing the kernel's stderr through (flushing what was held back).
    pub(crate) fn pass_stderr_through(&self) {
        let mut state = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        state.passthrough = true;
        let held = std::mem::take(&mut state.held);
        let _ = std::io::stderr().write_all(&held);
    }

    /// The last few KB of the kernel's stderr, as text.
    pub(crate) fn stderr_tail(&self) -> String {
        let state = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let bytes: Vec<u8> = state.tail.iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Gives the stderr reader a moment to catch the kernel's last words after exit.
    pub(crate) async fn settle_stderr(&self) {
        for _ in 0..20 {
            if self.stderr.lock().map(|s| s.eof).unwrap_or(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for KernelProcess {
    fn drop(&mut self) {
        // Sweeps the group even if the leader exited on its own, so that nothing the
        // kernel started survives it.
        self.kill_and_reap();
    }
}

/// Describes how a process ended, for people: "exited with code 1",
/// "killed by signal 9 (SIGKILL: out of memory?)".
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    let Some(signal) = status.signal() else {
        return status.to_string();
    };
    let what = match signal {
        libc::SIGKILL => "SIGKILL: out of memory?",
        libc::SIGSEGV => "SIGSEGV: segmentation fault",
        libc::SIGABRT => "SIGABRT: aborted",
        libc::SIGBUS => "SIGBUS: bus error",
        libc::SIGFPE => "SIGFPE: arithmetic error",
        libc::SIGILL => "SIGILL: illegal instruction",
        libc::SIGTERM => "SIGTERM: terminated",
        libc::SIGINT => "SIGINT: interrupted",
        libc::SIGHUP => "SIGHUP: hang-up",
        libc::SIGQUIT => "SIGQUIT: quit",
        libc::SIGPIPE => "SIGPIPE: broken pipe",
        _ => "",
    };
    let core = if status.core_dumped() {
        ", core dumped"
    } else {
        ""
    };
    if what.is_empty() {
        format!("killed by signal {signal}{core}")
    } else {
        format!("killed by signal {signal} ({what}{core})")
    }
}

/// How we hold the kernel process: our own child, or a child of a fork server that
/// reaps it and reports its exit status (see `forkserver`).
enum Handle {
    Spawned(Child),
    Forked {
        pid: u32,
        exits: Arc<ExitBoard>,
        _server: Arc<dyn std::any::Any + Send + Sync>,
    },
}

/// Exit statuses of a fork server's kernels, as the server reports them.
#[derive(Default)]
pub(crate) struct ExitBoard {
    state: Mutex<BoardState>,
}

#[derive(Default)]
struct BoardState {
    exited: std::collections::HashMap<u32, ExitStatus>,
    server_gone: bool,
}

impl ExitBoard {
    pub(crate) fn record(&self, pid: u32, status: ExitStatus) {
        self.lock().exited.insert(pid, status);
    }

    /// The server is gone: its kernels died with it (parent-death signal), and nobody
    /// will report them any more.
    pub(crate) fn server_gone(&self) {
        self.lock().server_gone = true;
    }

    /// How `pid` ended, taking its entry off the board; `None` while it runs.
    fn status(&self, pid: u32) -> Option<ExitStatus> {
        let mut state = self.lock();
        match state.exited.remove(&pid) {
            Some(status) => Some(status),
            None if state.server_gone => Some(ExitStatus::from_raw(libc::SIGKILL)),
            None => None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(target_os = "linux")]
fn set_parent_death_signal(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // system calls (prctl, getppid, raise).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // We may have died between fork and prctl: then nobody would signal us.
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}

struct SpawnJob {
    cmd: Command,
    reply: tokio::sync::oneshot::Sender<std::io::Result<Child>>,
}

/// Forks `cmd` on the process-lifetime spawner thread (see the module doc).
async fn spawn_on_spawner_thread(cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Result<mpsc::Sender<SpawnJob>, String>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("huntbook-kernel-spawner".into())
            .spawn(move || {
                // The static sender never drops, so this thread never ends.
                for mut job in rx {
                    let result = job.cmd.spawn();
                    if let Err(Ok(mut orphan)) = job.reply.send(result) {
                        // The launch was cancelled while we forked: don't leak the kernel.
                        let pgid = orphan.id() as libc::pid_t;
                        // SAFETY: killpg has no memory-safety preconditions.
                        unsafe { libc::killpg(pgid, libc::SIGKILL) };
                        let _ = orphan.wait();
                    }
                }
            })
            .map(|_| tx)
            .map_err(|e| e.to_string())
    });
    let sender = spawner
        .as_ref()
        .map_err(|e| std::io::Error::other(format!("cannot start the spawner thread: {e}")))?;
    let (reply, answer) = tokio::sync::oneshot::channel();
    sender
        .send(SpawnJob { cmd, reply })
        .map_err(|_| std::io::Error::other("the spawner thread is gone"))?;
    answer
        .await
        .map_err(|_| std::io::Error::other("the spawner thread dropped the request"))?
}

#[derive(Default)]
struct StderrState {
    tail: VecDeque<u8>,
    held: Vec<u8>,
    passthrough: bool,
    eof: bool,
}

fn pump_stderr(mut pipe: impl Read, state: &Mutex<StderrState>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.tail.extend(chunk);
        let excess = s.tail.len().saturating_sub(TAIL_BYTES);
        s.tail.drain(..excess);
        if s.passthrough {
            let _ = std::io::stderr().write_all(chunk);
        } else {
            s.held.extend_from_slice(chunk);
            let excess = s.held.len().saturating_sub(HELD_BYTES);
            s.held.drain(..excess);
        }
    }
    state.lock().unwrap_or_else(|e| e.into_inner()).eof = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(script: &str) -> ExitStatus {
        Command::new("sh").arg("-c").arg(script).status().unwrap()
    }

    #[test]
    fn exit_descriptions() {
        assert_eq!(describe_exit(status_of("exit 3")), "exited with code 3");
        assert_eq!(
            describe_exit(status_of("kill -9 $$")),
            "killed by signal 9 (SIGKILL: out of memory?)"
        );
        assert!(
            describe_exit(status_of("kill -SEGV $$")).starts_with("killed by signal 11 (SIGSEGV")
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(64 << 8)),
            "exited with code 64"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(40)),
            "killed by signal 40"
        );
    }

    #[test]
    fn stderr_tail_is_bounded() {
        let state = Mutex::new(StderrState::default());
        let data: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        pump_stderr(&data[..], &state);
        let s = state.lock().unwrap();
        assert_eq!(s.tail.len(), TAIL_BYTES);
        assert_eq!(s.held.len(), HELD_BYTES);
        assert!(s.eof);
        assert_eq!(s.tail.back(), data.last());
    }

    #[tokio::test]
    async fn spawn_failure_names_the_command() {
        let err = KernelProcess::spawn(&["/nonexistent/kernel".into(), "-f".into()], None, &[], None, None, None)
            .await
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/kernel -f"), "{text}");
    }

    #[tokio::test]
    async fn process_runs_in_own_group_and_is_killed_with_it() {
        let mut p = KernelProcess::spawn(
            &[
                "sh".into(),
                "-c".into(),
                "echo oops >&2; sleep 30 & sleep 30".into(),
            ],
            None,
            &[("HB_TEST".into(), "1".into())],
            Some(std::path::Path::new("/")),
            None,
            None,
        )
        .await
        .unwrap();
        let pid = p.pid() as libc::pid_t;
        // SAFETY: getpgid has no memory-safety preconditions.
        assert_eq!(unsafe { libc::getpgid(pid) }, pid);
        assert!(p.try_exit().is_none());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !p.stderr_tail().contains("oops") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(p.stderr_tail(), "oops\n");
        p.kill_and_reap();
        let status = p.try_exit().expect("reaped");
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // The background sleep, in the same group, is gone too (or a zombie waiting
        // for init to reap it).
        let deadline = Instant::now() + Duration::from_secs(2);
        while !live_group_members(pid).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(live_group_members(pid), Vec::<String>::new());
    }

    /// Processes of group `pgid` that are not zombies, from /proc.
    fn live_group_members(pgid: libc::pid_t) -> Vec<String> {
        let mut live = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // Fields after the parenthesised command: state ppid pgrp ...
            let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
                continue;
            };
            let fields: Vec<&str> = after.split_whitespace().collect();
            if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" {
                live.push(stat);
            }
        }
        live
    }
}
