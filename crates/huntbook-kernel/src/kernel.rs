//! [`Kernel`]: a running kernel and the client connected to it — launch, the readiness
//! handshake, interrupt, shutdown and the wait loop every operation is built on.
//!
//! All waiting goes through one loop (`Kernel::next`) that listens on shell, control
//! and IOPub at once and wakes at least every [`POLL`] to check whether the kernel
//! process is still alive, so a crash, `os._exit` or an OOM kill is noticed within a
//! fraction of a second whatever the caller is waiting for, and every wait that has a
//! deadline returns at it. Messages that fail signature checks are dropped with a
//! warning on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zeromq::{DealerSocket, Socket, SocketOptions, SocketRecv, SocketSend, SubSocket, ZmqMessage};

use crate::cgroup::MemoryCgroup;
use crate::connection::{ConnectionFile, ConnectionInfo, Transport};
use crate::forkserver::ForkServer;
use crate::kernelspec::{InterruptMode, KernelSpec};
use crate::process::{describe_exit, KernelProcess};
use crate::wire::{Message, Signer};
use crate::KernelError;

/// How often every wait checks that the kernel process is alive.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// How long one `kernel_info_request` is given before it is sent again.
const KERNEL_INFO_ATTEMPT: Duration = Duration::from_secs(1);
/// After the first `kernel_info_reply`, how long to wait for proof that IOPub works.
const IOPUB_PROOF_WAIT: Duration = Duration::from_millis(200);
/// How long one connection attempt may take before it is retried from scratch.
const CONNECT_ATTEMPT: Duration = Duration::from_millis(500);
/// A send that cannot be queued for this long means the kernel is wedged.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start a kernel.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The kernel's working directory (default: ours).
    pub cwd: Option<PathBuf>,
    /// How long the kernel may take to answer its first `kernel_info_request`.
    pub start_timeout: Duration,
    /// IPC (default) or TCP.
    pub transport: Transport,
    /// Environment added on top of ours and the spec's (these win).
    pub env: Vec<(String, String)>,
    /// Start from a few variables of ours (see [`BASE_ENV`]) instead of all of them, so
    /// that a service's own credentials never reach a notebook.
    pub isolate_env: bool,
    /// The most memory the kernel and what it starts may use, in bytes, enforced by a
    /// cgroup of its own; refused with [`KernelError::MemoryLimit`] where none can be
    /// made.
    pub memory_max: Option<u64>,
}

/// The variables an isolated kernel keeps from our environment: what finds programs,
/// files, the locale and the configuration, and nothing that carries a credential.
pub const BASE_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "JUPYTER_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
    "HUNTBOOK_CONFIG",
    "MSTICPYCONFIG",
];

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            cwd: None,
            start_timeout: Duration::from_secs(60),
            transport: Transport::default(),
            env: Vec::new(),
            isolate_env: false,
            memory_max: None,
        }
    }
}

/// The sockets of a connected client. stdin is never connected: huntbook runs
/// unattended, so `allow_stdin` is always false and `input()` fails in the kernel.
struct Channels {
    shell: DealerSocket,
    control: DealerSocket,
    iopub: SubSocket,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Channel {
    Shell,
    Control,
}

/// What the wait loop produced.
/// How long a kernel that confirmed its shutdown gets to exit by itself.
const EXIT_AFTER_REPLY: Duration = Duration::from_millis(250);

pub(crate) enum Next {
    Shell(Message),
    /// A control-channel reply (shutdown, interrupt): only its arrival matters.
    Control,
    Iopub(Message),
    /// The deadline passed.
    Deadline,
    /// The kernel process exited.
    Exited(ExitStatus),
}

/// A running kernel with a connected client. Dropping it kills the kernel's whole
/// process group; prefer [`Kernel::shutdown`], which asks the kernel to stop first.
pub struct Kernel {
    name: String,
    interrupt_mode: InterruptMode,
    channels: Channels,
    signer: Signer,
    session: String,
    kernel_info: Value,
    dropped_messages: u64,
    process: KernelProcess,
    // Last, so the socket files go only after the kernel is dead.
    connection: ConnectionFile,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("name", &self.name)
            .field("pid", &self.process.pid())
            .field("connection_file", &self.connection.path())
            .finish_non_exhaustive()
    }
}

impl Kernel {
    /// Starts the kernel described by `spec` and waits until it is ready: it has
    /// answered `kernel_info_request` and its IOPub channel is proven connected.
    ///
    /// Fails with [`KernelError::DiedAtStart`] (with the kernel's last stderr output)
    /// as soon as the process exits, and with [`KernelError::StartTimeout`] when
    /// `opts.start_timeout` passes; either way no process is left behind.
    pub async fn launch(spec: &KernelSpec, opts: LaunchOptions) -> Result<Kernel, KernelError> {
        Kernel::start(spec, opts, None).await
    }

    /// [`Kernel::launch`], with the process forked by `server` (started for the same
    /// spec and options) instead of spawned.
    pub(crate) async fn launch_forked(
        spec: &KernelSpec,
        opts: LaunchOptions,
        server: &ForkServer,
    ) -> Result<Kernel, KernelError> {
        Kernel::start(spec, opts, Some(server)).await
    }

    async fn start(
        spec: &KernelSpec,
        opts: LaunchOptions,
        server: Option<&ForkServer>,
    ) -> Result<Kernel, KernelError> {
        let deadline = Instant::now() + opts.start_timeout;
        let connection = ConnectionFile::create(opts.transport, &spec.name)?;
        let argv = kernel_argv(spec, connection.path());
        let memory = opts.memory_max.map(MemoryCgroup::create).transpose()?;
        let mut process = match server {
            Some(server) => server.fork(&argv, memory, deadline).await?,
            None => {
                let (base, env) = process_env(spec, &opts);
                KernelProcess::spawn(&argv, base, &env, opts.cwd.as_deref(), memory, None).await?
            }
        };

        let channels = match connect_all(connection.info(), deadline, &mut process).await {
            Ok(channels) => channels,
            Err(()) => {
                return Err(start_failure(&mut process, opts.start_timeout, opts.transport).await)
            }
        };
        let mut kernel = Kernel {
            name: spec.name.clone(),
            interrupt_mode: spec.interrupt_mode,
            channels,
            signer: Signer::new(&connection.info().key),
            session: uuid::Uuid::new_v4().to_string(),
            kernel_info: Value::Null,
            dropped_messages: 0,
            process,
            connection,
        };
        if kernel.wait_for_ready(deadline).await.is_err() {
            return Err(
                start_failure(&mut kernel.process, opts.start_timeout, opts.transport).await,
            );
        }
        kernel.process.pass_stderr_through();
        Ok(kernel)
    }

    /// The nbclient handshake: send `kernel_info_request` and give it a second; once
    /// a reply came, also require one IOPub message (any: `iopub_welcome`, a status),
    /// because a SUB socket may connect after the kernel published its first
    /// messages and they would be lost ("slow joiner").
    async fn wait_for_ready(&mut self, deadline: Instant) -> Result<(), ()> {
        let mut iopub_seen = false;
        let mut reply: Option<Value> = None;
        loop {
            if Instant::now() >= deadline {
                return Err(());
            }
            if reply.is_none() {
                let request = Message::new("kernel_info_request", &self.session, json!({}));
                let id = request.msg_id().to_string();
                self.send(Channel::Shell, &request).await.map_err(|_| ())?;
                let attempt_end = deadline.min(Instant::now() + KERNEL_INFO_ATTEMPT);
                loop {
                    match self.next(Some(attempt_end), true).await {
                        Next::Shell(msg)
                            if msg.parent_msg_id() == Some(id.as_str())
                                && msg.msg_type() == "kernel_info_reply" =>
                        {
                            reply = Some(msg.content);
                            break;
                        }
                        Next::Iopub(_) => iopub_seen = true,
                        Next::Exited(_) => return Err(()),
                        Next::Deadline => break,
                        _ => {}
                    }
                }
            }
            if let Some(info) = &reply {
                let proof_end = deadline.min(Instant::now() + IOPUB_PROOF_WAIT);
                while !iopub_seen {
                    match self.next(Some(proof_end), true).await {
                        Next::Iopub(_) => iopub_seen = true,
                        Next::Exited(_) => return Err(()),
                        Next::Deadline => break,
                        _ => {}
                    }
                }
                if iopub_seen {
                    self.kernel_info = info.clone();
                    return Ok(());
                }
                // No IOPub yet: ask again, which makes the kernel publish statuses.
                reply = None;
            }
        }
    }

    /// The kernel's name (its kernelspec directory name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The connection file, for tools such as `jupyter console --existing`.
    pub fn connection_file(&self) -> &Path {
        self.connection.path()
    }

    /// The full `kernel_info_reply` content received at start.
    pub fn kernel_info(&self) -> &Value {
        &self.kernel_info
    }

    /// `language_info` from the kernel_info reply (the notebook's
    /// `metadata.language_info`), or `Null` if the kernel sent none.
    pub fn language_info(&self) -> &Value {
        &self.kernel_info["language_info"]
    }

    /// The session id put in every header we send.
    pub(crate) fn session(&self) -> &str {
        &self.session
    }

    /// Interrupts the running execution: SIGINT to the kernel's process group, or an
    /// `interrupt_request` on the control channel when the spec asks for messages.
    /// Returns without waiting for the kernel to react.
    pub async fn interrupt(&mut self) -> Result<(), KernelError> {
        if let Some(status) = self.process.try_exit() {
            return Err(KernelError::Died {
                status: describe_exit(status),
            });
        }
        match self.interrupt_mode {
            InterruptMode::Signal => {
                self.process.signal_group(libc::SIGINT);
                Ok(())
            }
            InterruptMode::Message => {
                let request = Message::new("interrupt_request", &self.session, json!({}));
                self.send(Channel::Control, &request).await
            }
        }
    }

    /// Stops the kernel: sends `shutdown_request` on the control channel, waits up to
    /// `grace` for the process to exit, then kills its process group (which also ends
    /// anything the notebook left running), reaps it and removes the connection file
    /// and socket directory.
    pub async fn shutdown(mut self, grace: Duration) {
        if self.process.try_exit().is_none() {
            let request =
                Message::new("shutdown_request", &self.session, json!({"restart": false}));
            if self.send(Channel::Control, &request).await.is_ok() {
                let mut deadline = Instant::now() + grace;
                loop {
                    match self.next(Some(deadline), true).await {
                        Next::Exited(_) | Next::Deadline => break,
                        // The reply means the kernel has run its shutdown handlers; what
                        // is left (thread joins, interpreter teardown) can take seconds
                        // on a busy machine and holds nothing of ours, so it gets a
                        // short while before the process group is killed.
                        Next::Control => deadline = deadline.min(Instant::now() + EXIT_AFTER_REPLY),
                        _ => {}
                    }
                }
            }
        }
        self.process.kill_and_reap();
    }

    /// Whether the kernel process has ended (a pooled kernel may die while it waits).
    pub fn has_exited(&mut self) -> bool {
        self.process.try_exit().is_some()
    }

    /// Kills the kernel's process group at once, reaps it and cleans up.
    pub async fn kill(mut self) {
        self.process.kill_and_reap();
    }

    /// Sends a message on shell or control, failing if the kernel dies or the socket
    /// cannot take it for [`SEND_TIMEOUT`].
    pub(crate) async fn send(
        &mut self,
        channel: Channel,
        msg: &Message,
    ) -> Result<(), KernelError> {
        let mut frames = self.signer.encode(msg).into_iter();
        let mut zmsg = ZmqMessage::from(frames.next().expect("a message has frames"));
        for frame in frames {
            zmsg.push_back(frame.into());
        }
        let Kernel {
            channels, process, ..
        } = self;
        let socket = match channel {
            Channel::Shell => &mut channels.shell,
            Channel::Control => &mut channels.control,
        };
        let deadline = Instant::now() + SEND_TIMEOUT;
        let send = socket.send(zmsg);
        tokio::pin!(send);
        loop {
            tokio::select! {
                result = &mut send => {
                    return result.map_err(|e| match process.try_exit() {
                        Some(status) => KernelError::Died { status: describe_exit(status) },
                        None => KernelError::Transport {
                            context: format!("cannot send {} to the kernel", msg.msg_type()),
                            message: e.to_string(),
                        },
                    });
                }
                _ = tokio::time::sleep(POLL) => {
                    if let Some(status) = process.try_exit() {
                        return Err(KernelError::Died { status: describe_exit(status) });
                    }
                    if Instant::now() >= deadline {
                        return Err(KernelError::Transport {
                            context: format!("cannot send {} to the kernel", msg.msg_type()),
                            message: format!("not accepted within {} s", SEND_TIMEOUT.as_secs()),
                        });
                    }
                }
            }
        }
    }

    /// Waits for the next message on any channel, the deadline, or (when
    /// `watch_process`) the kernel's exit, whichever comes first.
    pub(crate) async fn next(&mut self, deadline: Option<Instant>, watch_process: bool) -> Next {
        loop {
            if watch_process {
                if let Some(status) = self.process.try_exit() {
                    return Next::Exited(status);
                }
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Next::Deadline;
            }
            let wake = deadline.map_or(now + POLL, |d| d.min(now + POLL));
            let Channels {
                shell,
                control,
                iopub,
            } = &mut self.channels;
            // Unbiased: a flood on IOPub must not starve the shell reply.
            let (channel, received) = tokio::select! {
                r = iopub.recv() => ("iopub", r),
                r = shell.recv() => ("shell", r),
                r = control.recv() => ("control", r),
                _ = tokio::time::sleep_until(wake.into()) => continue,
            };
            match received {
                Ok(zmsg) => match self.signer.decode(&zmsg.into_vec()) {
                    Ok(msg) => {
                        return match channel {
                            "iopub" => Next::Iopub(msg),
                            "shell" => Next::Shell(msg),
                            _ => Next::Control,
                        }
                    }
                    Err(e) => self.warn_dropped(channel, &e.to_string()),
                },
                Err(e) => {
                    self.warn_dropped(channel, &e.to_string());
                    // A broken socket may fail at once again: don't spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn warn_dropped(&mut self, channel: &str, why: &str) {
        self.dropped_messages += 1;
        let n = self.dropped_messages;
        if n <= 5 || n.is_power_of_two() {
            eprintln!(
                "huntbook: warning: dropped a message on the {channel} channel of kernel \
                 '{}' (pid {}): {why} ({n} dropped so far)",
                self.name,
                self.process.pid()
            );
        }
    }

    /// The connection details (for tests and diagnostics).
    pub fn connection_info(&self) -> &ConnectionInfo {
        self.connection.info()
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        self.process.kill_and_reap();
    }
}

/// Connects IOPub first (it is the slowest to become useful), then shell and control.
/// `Err(())` means the kernel exited or the deadline passed; the caller says which.
async fn connect_all(
    info: &ConnectionInfo,
    deadline: Instant,
    process: &mut KernelProcess,
) -> Result<Channels, ()> {
    let mut iopub: SubSocket = connect(&info.endpoint(info.iopub_port), deadline, process).await?;
    iopub.subscribe("").await.map_err(|_| ())?;
    let shell = connect(&info.endpoint(info.shell_port), deadline, process).await?;
    let control = connect(&info.endpoint(info.control_port), deadline, process).await?;
    Ok(Channels {
        shell,
        control,
        iopub,
    })
}

/// Connects a fresh socket, retrying on any error: right after spawn the kernel may
/// not have bound yet (refused, missing socket file) or may reset the connection
/// while binding, which zeromq's own connect loop does not retry.
async fn connect<S: Socket>(
    endpoint: &str,
    deadline: Instant,
    process: &mut KernelProcess,
) -> Result<S, ()> {
    loop {
        if process.try_exit().is_some() {
            return Err(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(());
        }
        let mut options = SocketOptions::default();
        options.connect_timeout(CONNECT_ATTEMPT.min(deadline - now));
        let mut socket = S::with_options(options);
        if socket.connect(endpoint).await.is_ok() {
            return Ok(socket);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Turns a failed start into the right error: died (with its stderr) or too slow.
pub(crate) async fn start_failure(
    process: &mut KernelProcess,
    timeout: Duration,
    transport: Transport,
) -> KernelError {
    if let Some(status) = process.try_exit() {
        process.settle_stderr().await;
        return KernelError::DiedAtStart {
            status: describe_exit(status),
            command: process.command().to_string(),
            stderr_tail: process.stderr_tail(),
        };
    }
    process.kill_and_reap();
    KernelError::StartTimeout {
        after: timeout,
        command: process.command().to_string(),
        transport,
        stderr_tail: process.stderr_tail(),
    }
}

/// The spec's argv with its placeholders filled in; for ipykernel, command history
/// goes to memory so parallel runs don't contend for one SQLite file (as nbclient).
fn kernel_argv(spec: &KernelSpec, connection_file: &Path) -> Vec<String> {
    let connection_file = connection_file.to_string_lossy();
    let resource_dir = spec.resource_dir.to_string_lossy();
    let mut argv: Vec<String> = spec
        .argv
        .iter()
        .map(|a| {
            a.replace("{connection_file}", &connection_file)
                .replace("{resource_dir}", &resource_dir)
        })
        .collect();
    let is_ipykernel = argv.iter().any(|a| {
        a == "ipykernel_launcher" || a == "ipykernel" || a.ends_with("ipykernel_launcher.py")
    });
    if is_ipykernel {
        argv.push("--HistoryManager.hist_file=:memory:".to_string());
    }
    argv
}

type Vars = Vec<(String, String)>;

/// What a kernel process starts from: `Some` base variables when the environment is
/// isolated (else all of ours), then the spec's and the options' variables on top.
pub(crate) fn process_env(spec: &KernelSpec, opts: &LaunchOptions) -> (Option<Vars>, Vars) {
    let env = kernel_env(spec, &opts.env, |key| std::env::var(key).ok());
    let base = opts.isolate_env.then(|| {
        BASE_ENV.iter().filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?))).collect()
    });
    (base, env)
}

/// The spec's env with `${VAR}` expanded from ours, then `extra` (which wins).
fn kernel_env(
    spec: &KernelSpec,
    extra: &[(String, String)],
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), expand_vars(v, &lookup)))
        .collect();
    env.extend(extra.iter().cloned());
    env
}

/// Expands `${NAME}`; unknown names are left as written, as jupyter_client does.
fn expand_vars(value: &str, lookup: &impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(argv: &[&str]) -> KernelSpec {
        KernelSpec {
            name: "k".into(),
            display_name: "K".into(),
            language: "python".into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: BTreeMap::from([("PATHS".to_string(), "${HOME}/x:${NOPE}:$PLAIN".to_string())]),
            interrupt_mode: InterruptMode::Signal,
            resource_dir: PathBuf::from("/res"),
        }
    }

    #[test]
    fn argv_placeholders_and_ipykernel_history() {
        let s = spec(&[
            "python",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--r={resource_dir}",
        ]);
        let argv = kernel_argv(&s, Path::new("/tmp/c.json"));
        assert_eq!(
            argv,
            [
                "python",
                "-m",
                "ipykernel_launcher",
                "-f",
                "/tmp/c.json",
                "--r=/res",
                "--HistoryManager.hist_file=:memory:"
            ]
        );
        let s = spec(&["python", "-m", "bash_kernel", "-f", "{connection_file}"]);
        assert_eq!(kernel_argv(&s, Path::new("/c")).last().unwrap(), "/c");
    }

    #[test]
    fn env_expansion_and_precedence() {
        let s = spec(&["x"]);
        let lookup = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let env = kernel_env(&s, &[("PATHS".into(), "override".into())], lookup);
        assert_eq!(
            env[0],
            ("PATHS".to_string(), "/home/u/x:${NOPE}:$PLAIN".to_string())
        );
        // Later entries win when the command is built.
        assert_eq!(env[1], ("PATHS".to_string(), "override".to_string()));
        assert_eq!(expand_vars("a${", &lookup), "a${");
    }
}
