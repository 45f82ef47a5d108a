//! Shared helpers for the integration tests, which run against a real ipykernel in
//! the workspace's venv.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use huntbook_kernel::{
    find_kernelspec, Discovery, ExecuteOptions, ExecuteReply, IopubEvent, Kernel, KernelError,
    KernelSpec, LaunchOptions,
};

/// The venv interpreter: `$HUNTBOOK_TEST_PYTHON`, else `<workspace>/.venv/bin/python`.
/// Missing is a failure, not a skip: these tests are the proof the client works.
pub fn python() -> PathBuf {
    let path = match std::env::var_os("HUNTBOOK_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    };
    // Tidy `../..` by resolving the directory only: the interpreter itself is a
    // symlink out of the venv, and following it would lose the venv.
    let path = match (
        path.parent().and_then(|d| d.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path,
    };
    assert!(
        path.exists(),
        "no Python interpreter at {}: run `scripts/setup --test` to create the venv with \
         ipykernel and bash_kernel, or set HUNTBOOK_TEST_PYTHON",
        path.display()
    );
    path
}

pub fn discovery() -> Discovery {
    Discovery::with_python(python())
}

pub fn python_spec() -> KernelSpec {
    find_kernelspec("python3", &discovery()).expect("the venv's python3 kernelspec")
}

pub async fn launch() -> Kernel {
    launch_with(LaunchOptions::default()).await
}

pub async fn launch_with(opts: LaunchOptions) -> Kernel {
    Kernel::launch(&python_spec(), opts)
        .await
        .expect("kernel starts")
}

/// Runs `code`, returning every event and the result.
pub async fn run(
    kernel: &mut Kernel,
    code: &str,
    opts: &ExecuteOptions,
) -> (Vec<IopubEvent>, Result<ExecuteReply, KernelError>) {
    let mut events = Vec::new();
    let result = kernel
        .execute(code, opts, &mut |event| events.push(event))
        .await;
    (events, result)
}

/// Runs `code` that must succeed.
pub async fn run_ok(kernel: &mut Kernel, code: &str) -> (Vec<IopubEvent>, ExecuteReply) {
    let (events, result) = run(kernel, code, &ExecuteOptions::default()).await;
    (
        events,
        result.unwrap_or_else(|e| panic!("executing {code:?}: {e}")),
    )
}

/// Concatenated stream text of one name.
pub fn stream_text(events: &[IopubEvent], stream: &str) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            IopubEvent::Stream { name, text, .. } if name == stream => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Whether a process is gone (or only a zombie awaiting its reaper).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

/// Polls `cond` for up to `within`.
pub async fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
