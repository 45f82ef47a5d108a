//! A fork server for ipykernel: one Python process that has imported ipykernel and
//! forks a fresh kernel per request.
//!
//! Most of an ipykernel start is the interpreter importing IPython, ZeroMQ, tornado
//! and the debugger (about half a second of CPU); ipykernel's own set-up after that is
//! a tenth of it. A service that runs notebook after notebook on a few cores spends
//! most of its CPU on those imports, so [`crate::KernelPool`] starts kernels through a
//! fork server per way of starting them: the server is spawned like a kernel (same
//! interpreter, environment, working directory, parent-death signal) and each kernel
//! is a fork of it, in a process group of its own, in its memory cgroup when it has a
//! limit, with its own stderr pipe. A kernel is as fresh as a spawned one: nothing
//! runs in the server but imports, and a forked kernel starts ipykernel from its
//! command line as `python -m ipykernel_launcher` would.
//!
//! The server (`forkserver.py`) talks over a `SOCK_SEQPACKET` socket on its stdin: a
//! request is a JSON packet carrying the kernel's stderr pipe as an `SCM_RIGHTS`
//! descriptor; the server answers `started PID` and later reports `exit PID STATUS`,
//! since it, not huntbook, is the kernel's parent and reaps it. The exit statuses go
//! on an [`ExitBoard`] that the kernel's [`KernelProcess`] reads, so a forked kernel
//! is watched, signalled and described exactly like a spawned one.
//!
//! Only kernelspecs that run `python -m ipykernel_launcher` (or `-m ipykernel`) are
//! forked; others are spawned as before.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;
use tokio::sync::mpsc;

use crate::cgroup::MemoryCgroup;
use crate::kernel::{process_env, start_failure};
use crate::kernelspec::KernelSpec;
use crate::process::{ExitBoard, KernelProcess};
use crate::{KernelError, LaunchOptions};

const SCRIPT: &str = include_str!("forkserver.py");

/// Where `-m` is in an argv that runs ipykernel as a module (`python [options] -m
/// ipykernel_launcher ...`), if it does: then its kernels can be forked. Interpreter
/// options before `-m` (ipykernel's own spec has `-Xfrozen_modules=off`) are given to
/// the server.
pub(crate) fn module_flag(argv: &[String]) -> Option<usize> {
    let at = argv.iter().position(|a| a == "-m").filter(|&at| at >= 1)?;
    let options_ok = argv[1..at].iter().all(|a| {
        (a.len() > 2 && (a.starts_with("-X") || a.starts_with("-W")))
            || ["-B", "-E", "-I", "-O", "-OO", "-P", "-q", "-s", "-S", "-u"].contains(&a.as_str())
    });
    let module = argv.get(at + 1)?;
    (options_ok && (module == "ipykernel_launcher" || module == "ipykernel")).then_some(at)
}

enum Reply {
    Ready,
    Started(u32),
    Failed(String),
}

/// A running fork server. Its kernels keep it alive: it stops when the last of them
/// and this handle are gone.
pub(crate) struct ForkServer {
    shared: Arc<Shared>,
    replies: tokio::sync::Mutex<mpsc::UnboundedReceiver<Reply>>,
}

struct Shared {
    process: Mutex<KernelProcess>,
    socket: Arc<OwnedFd>,
    exits: Arc<ExitBoard>,
    /// Set when a request went unanswered: a late answer would be taken for the next.
    broken: AtomicBool,
}

impl ForkServer {
    /// Starts a server for kernels of `spec` started with `opts` (its memory limit
    /// excepted: each kernel joins its own group) and waits until it has imported
    /// ipykernel.
    pub(crate) async fn start(spec: &KernelSpec, opts: &LaunchOptions) -> Result<ForkServer, KernelError> {
        let deadline = Instant::now() + opts.start_timeout;
        let (ours, theirs) =
            seqpacket_pair().map_err(|e| KernelError::io("cannot make the fork server's socket", e))?;
        let at = module_flag(&spec.argv).expect("only ipykernel specs get a fork server");
        let mut argv = spec.argv[..at].to_vec();
        argv.extend(["-c".to_string(), SCRIPT.to_string()]);
        let (base, env) = process_env(spec, opts);
        let mut process = KernelProcess::spawn(&argv, base, &env, opts.cwd.as_deref(), None, Some(theirs)).await?;
        process.set_command(format!("{} -c <huntbook kernel fork server>", spec.argv[0]));

        let socket = Arc::new(ours);
        let exits = Arc::new(ExitBoard::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (reader_socket, reader_exits) = (Arc::clone(&socket), Arc::clone(&exits));
        std::thread::Builder::new()
            .name("huntbook-forkserver".into())
            .spawn(move || read_replies(&reader_socket, &reader_exits, &tx))
            .map_err(|e| KernelError::io("cannot start a thread to read the fork server", e))?;

        let ready = tokio::time::timeout_at(deadline.into(), rx.recv()).await;
        if !matches!(ready, Ok(Some(Reply::Ready))) {
            return Err(start_failure(&mut process, opts.start_timeout, opts.transport).await);
        }
        process.pass_stderr_through();
        Ok(ForkServer {
            shared: Arc::new(Shared {
                process: Mutex::new(process),
                socket,
                exits,
                broken: AtomicBool::new(false),
            }),
            replies: tokio::sync::Mutex::new(rx),
        })
    }

    /// Whether the server can still fork kernels.
    pub(crate) fn is_alive(&self) -> bool {
        let mut process = self.shared.process.lock().unwrap_or_else(|e| e.into_inner());
        !self.shared.broken.load(Ordering::Relaxed) && process.try_exit().is_none()
    }

    /// Forks a kernel running `argv` (the spec's, placeholders filled in), in the
    /// `memory` group when there is one.
    pub(crate) async fn fork(
        &self,
        argv: &[String],
        memory: Option<MemoryCgroup>,
        deadline: Instant,
    ) -> Result<KernelProcess, KernelError> {
        let command = format!("{} (forked)", argv.join(" "));
        let failed = |why: String| KernelError::Spawn {
            command: command.clone(),
            source: std::io::Error::other(why),
        };
        let cgroup = match &memory {
            Some(group) => Some(
                group
                    .procs_file()
                    .to_str()
                    .map_err(|_| failed("the cgroup path is not UTF-8".into()))?,
            ),
            None => None,
        };
        // sys.argv as `python -m MODULE args` gives it (the module in place of its path).
        let at = module_flag(argv).expect("only ipykernel specs get a fork server");
        let request = json!({"argv": argv[at + 1..], "cgroup": cgroup}).to_string();
        let (output, kernel_end) = pipe().map_err(|e| KernelError::io("cannot make the kernel's stderr pipe", e))?;

        let mut replies = self.replies.lock().await;
        send_with_fd(&self.shared.socket, request.as_bytes(), &kernel_end)
            .map_err(|e| failed(format!("cannot reach the kernel fork server: {e}")))?;
        drop(kernel_end);
        let reply = tokio::time::timeout_at(deadline.into(), replies.recv()).await;
        drop(replies);
        match reply {
            Ok(Some(Reply::Started(pid))) => {
                let keep_alive: Arc<dyn std::any::Any + Send + Sync> = self.shared.clone();
                KernelProcess::forked(pid, Arc::clone(&self.shared.exits), keep_alive, output, command, memory)
            }
            Ok(Some(Reply::Failed(why))) => Err(failed(format!("the kernel fork server could not fork: {why}"))),
            Ok(Some(Reply::Ready)) | Ok(None) => Err(failed("the kernel fork server stopped".into())),
            Err(_) => {
                self.shared.broken.store(true, Ordering::Relaxed);
                Err(failed("the kernel fork server did not answer in time".into()))
            }
        }
    }
}

/// Reads the server's packets until it is gone, routing answers to requests and exit
/// reports to the board.
fn read_replies(socket: &OwnedFd, exits: &ExitBoard, replies: &mpsc::UnboundedSender<Reply>) {
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: the buffer is valid for its length; the socket outlives this thread.
        let n = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            break;
        }
        let text = String::from_utf8_lossy(&buf[..n as usize]);
        let (word, rest) = text.split_once(' ').unwrap_or((&text, ""));
        match word {
            "ready" => drop(replies.send(Reply::Ready)),
            "started" => match rest.trim().parse() {
                Ok(pid) => drop(replies.send(Reply::Started(pid))),
                Err(_) => drop(replies.send(Reply::Failed(format!("unreadable answer {text:?}")))),
            },
            "failed" => drop(replies.send(Reply::Failed(rest.to_string()))),
            "exit" => {
                let mut fields = rest.split_whitespace().map(str::parse::<i32>);
                if let (Some(Ok(pid)), Some(Ok(status))) = (fields.next(), fields.next()) {
                    exits.record(pid as u32, ExitStatus::from_raw(status));
                }
            }
            _ => {}
        }
    }
    exits.server_gone();
}

fn seqpacket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `data` as one packet with `fd` attached (`SCM_RIGHTS`).
fn send_with_fd(socket: &OwnedFd, data: &[u8], fd: &OwnedFd) -> std::io::Result<()> {
    let fd_size = std::mem::size_of::<libc::c_int>() as u32;
    // SAFETY: CMSG_SPACE and CMSG_LEN are arithmetic on their argument.
    let (space, len) = unsafe { (libc::CMSG_SPACE(fd_size) as usize, libc::CMSG_LEN(fd_size)) };
    // u64s, so that the control buffer is aligned for a cmsghdr.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below outlives the sendmsg call,
    // and CMSG_FIRSTHDR points into `control`, which has room for one descriptor.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = len as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<libc::c_int>(), fd.as_raw_fd());
        if libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn only_ipykernel_run_as_a_module_is_forked() {
        let ipykernel = argv(&[
            "/v/python",
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]);
        assert_eq!(module_flag(&ipykernel), Some(2));
        assert_eq!(module_flag(&argv(&["python", "-m", "ipykernel", "-f", "c"])), Some(1));
        assert_eq!(module_flag(&argv(&["python", "-m", "bash_kernel", "-f", "c"])), None);
        // An option whose value would follow it, a script, or no interpreter at all.
        assert_eq!(module_flag(&argv(&["python", "-X", "-m", "ipykernel_launcher"])), None);
        assert_eq!(
            module_flag(&argv(&["python", "launch.py", "-m", "ipykernel_launcher"])),
            None
        );
        assert_eq!(module_flag(&argv(&["-m", "ipykernel_launcher"])), None);
    }
}
