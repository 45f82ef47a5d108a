//! The one error type of this crate, [`KernelError`].
//!
//! Every variant says what went wrong, where (the kernel, the path, the command) and,
//! when there is one, what the user can do about it, because these messages end up on
//! the terminal of someone running `huntbook run` unattended.

use std::path::PathBuf;
use std::time::Duration;

use crate::Transport;

/// Everything that can go wrong while finding, starting, talking to or stopping a kernel.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// No kernelspec with that name exists in any searched directory.
    #[error(
        "no Jupyter kernel named '{name}'.\n{}\nFix: pass `-k NAME` with one of the kernels found, \
         or `--python PATH` to use the kernels installed in that Python interpreter or venv \
         (install one with `PATH -m ipykernel install --sys-prefix`).",
        describe_search(found, searched)
    )]
    NoSuchKernel {
        /// The name asked for.
        name: String,
        /// Every kernel found, as `(name, directory)`.
        found: Vec<(String, PathBuf)>,
        /// Every `kernels` directory searched, in order.
        searched: Vec<PathBuf>,
    },

    /// No kernelspec declares that language.
    #[error(
        "no Jupyter kernel for the language '{language}'.\n{}\nFix: pass `-k NAME` with one of the \
         kernels found, or `--python PATH` to use the kernels installed in that Python \
         interpreter or venv.",
        describe_search(found, searched)
    )]
    NoKernelForLanguage {
        /// The language asked for.
        language: String,
        /// Every kernel found, as `(name, directory)`.
        found: Vec<(String, PathBuf)>,
        /// Every `kernels` directory searched, in order.
        searched: Vec<PathBuf>,
    },

    /// A `kernel.json` exists but cannot be used.
    #[error("invalid kernelspec {path}: {reason}. Fix or remove that kernel.json.")]
    BadKernelSpec {
        /// The `kernel.json` file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The Python interpreter or venv named with `--python` does not exist.
    #[error(
        "no Python interpreter at {path}: give the path of a python executable or of a venv \
         directory (one holding bin/python)"
    )]
    PythonNotFound {
        /// The path given.
        path: PathBuf,
    },

    /// A file-system operation needed to start a kernel failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The kernel command could not be executed at all.
    #[error(
        "could not start the kernel command `{command}`: {source}. Check argv[0] of the \
         kernelspec (is the interpreter installed?) or name one with `--python PATH`."
    )]
    Spawn {
        /// The command line.
        command: String,
        /// The error from exec.
        #[source]
        source: std::io::Error,
    },

    /// A memory limit was asked for and cannot be enforced here.
    #[error(
        "cannot limit the kernel's memory: {reason}. Remove the memory limit (`memory_max`) \
         or run where a cgroup can be created for the kernel."
    )]
    MemoryLimit {
        /// What failed, naming the cgroup file.
        reason: String,
    },

    /// The kernel process exited before it answered `kernel_info_request`.
    #[error(
        "the kernel exited while starting ({status}); command `{command}`.{}",
        tail_suffix(stderr_tail)
    )]
    DiedAtStart {
        /// How it exited, e.g. "exited with code 1".
        status: String,
        /// The command line.
        command: String,
        /// The last few KB the kernel wrote to stderr.
        stderr_tail: String,
    },

    /// The kernel did not become ready within the start timeout.
    #[error(
        "the kernel did not become ready within {} s; command `{command}`. Raise the start \
         timeout if the machine is slow, or check that the kernel works on its own.{}{}",
        after.as_secs_f64(),
        transport_hint(*transport),
        tail_suffix(stderr_tail)
    )]
    StartTimeout {
        /// The start timeout that expired.
        after: Duration,
        /// The command line.
        command: String,
        /// The transport that was tried.
        transport: Transport,
        /// The last few KB the kernel wrote to stderr.
        stderr_tail: String,
    },

    /// The kernel process died while it was in use.
    #[error("the kernel died ({status})")]
    Died {
        /// How it exited, e.g. "killed by signal 9 (SIGKILL: out of memory?)".
        status: String,
    },

    /// An execution exceeded its timeout; the kernel was interrupted.
    #[error(
        "the cell timed out after {} s and the kernel was interrupted",
        after.as_secs_f64()
    )]
    Timeout {
        /// The timeout that expired.
        after: Duration,
    },

    /// The kernel replied, but its output stream (IOPub) never reported the end of the
    /// execution; output may be missing.
    #[error(
        "timeout waiting for the kernel's output: no IOPub message for {} s after the \
         execute reply, so output may be missing",
        grace.as_secs_f64()
    )]
    IopubTimeout {
        /// The silence that was tolerated.
        grace: Duration,
    },

    /// Talking to the kernel's ZeroMQ sockets failed.
    #[error("{context}: {message}")]
    Transport {
        /// What was being done.
        context: String,
        /// The underlying error.
        message: String,
    },
}

impl KernelError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        KernelError::Io {
            context: context.into(),
            source,
        }
    }
}

fn describe_search(found: &[(String, PathBuf)], searched: &[PathBuf]) -> String {
    let mut out = String::new();
    if found.is_empty() {
        out.push_str("No kernels were found.");
    } else {
        out.push_str("Kernels found:");
        for (name, dir) in found {
            out.push_str(&format!("\n  {name}  ({})", dir.display()));
        }
    }
    out.push_str("\nSearched:");
    for dir in searched {
        let note = if dir.is_dir() { "" } else { "  (missing)" };
        out.push_str(&format!("\n  {}{note}", dir.display()));
    }
    out
}

/// Kernels not built on ipykernel may not support IPC sockets; they then wait forever
/// on endpoints we never connect to, which looks like a slow start.
fn transport_hint(transport: Transport) -> &'static str {
    match transport {
        Transport::Ipc => {
            " A kernel that does not support IPC sockets needs the TCP transport \
             (`--transport tcp`)."
        }
        Transport::Tcp => "",
    }
}

fn tail_suffix(tail: &str) -> String {
    let tail = tail.trim_end();
    if tail.is_empty() {
        " It wrote nothing to stderr.".to_string()
    } else {
        format!(" Its last stderr output:\n{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_such_kernel_lists_found_kernels_and_fixes() {
        let err = KernelError::NoSuchKernel {
            name: "pyhton3".into(),
            found: vec![(
                "python3".into(),
                PathBuf::from("/venv/share/jupyter/kernels/python3"),
            )],
            searched: vec![PathBuf::from("/nonexistent/kernels")],
        };
        let text = err.to_string();
        assert!(text.contains("'pyhton3'"), "{text}");
        assert!(
            text.contains("python3  (/venv/share/jupyter/kernels/python3)"),
            "{text}"
        );
        assert!(text.contains("/nonexistent/kernels  (missing)"), "{text}");
        assert!(
            text.contains("-k NAME") && text.contains("--python PATH"),
            "{text}"
        );
    }

    #[test]
    fn died_at_start_shows_stderr_tail() {
        let err = KernelError::DiedAtStart {
            status: "exited with code 1".into(),
            command: "python -m nope".into(),
            stderr_tail: "No module named nope\n".into(),
        };
        let text = err.to_string();
        assert!(text.contains("exited with code 1"));
        assert!(text.ends_with("No module named nope"), "{text}");
    }
}
