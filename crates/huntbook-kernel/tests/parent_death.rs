//! A kernel never outlives huntbook, even when huntbook is killed with SIGKILL and
//! gets no chance to clean up (Linux: the parent-death signal).
//!
//! The test re-runs this test binary as a child process that starts a kernel and
//! waits; the parent kills that child and checks the kernel dies with it. The kernel
//! is a plain Python sleep marked with a unique string, not ipykernel, so that
//! ipykernel's own parent polling cannot be what ends it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use huntbook_kernel::{Kernel, KernelSpec, LaunchOptions};

const CHILD_ENV: &str = "HUNTBOOK_PARENT_DEATH_CHILD";

/// Live processes whose `/proc/PID/{file}` (`cmdline`, `environ`) holds `marker`.
fn processes_with(file: &str, marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let text = std::fs::read(e.path().join(file)).ok()?;
            String::from_utf8_lossy(&text).contains(marker).then_some(pid)
        })
        .filter(|pid| !process_gone(*pid))
        .collect()
}

fn marked_processes(marker: &str) -> Vec<u32> {
    processes_with("cmdline", marker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kernel_dies_with_a_killed_parent() {
    if let Ok(marker) = std::env::var(CHILD_ENV) {
        return run_as_child(&marker).await;
    }
    let marker = format!("huntbook-parent-death-{}", uuid_like());
    // A process killed with SIGKILL cannot remove its connection directory; give the
    // child a temp dir of ours so that what it leaves behind is cleaned up here.
    let tmp = tempfile::tempdir().unwrap();
    let mut child = start_child("kernel_dies_with_a_killed_parent", CHILD_ENV, &marker, tmp.path(), "KERNEL SPAWNED");
    assert!(
        eventually(Duration::from_secs(10), || !marked_processes(&marker)
            .is_empty())
        .await,
        "no kernel process found"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || marked_processes(&marker)
            .is_empty())
        .await,
        "kernel survived its parent: {:?}",
        marked_processes(&marker)
    );
    let leftovers = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(leftovers, 1, "the child's connection directory should be in our temp dir");
}

/// Re-runs this binary's `test` as a child with `env_name=marker`, its temp files in
/// `tmp`, and waits until it prints `ready`.
fn start_child(test: &str, env_name: &str, marker: &str, tmp: &std::path::Path, ready: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env(env_name, marker)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = lines.any(|l| l.map(|l| l.contains(ready)).unwrap_or(false));
    assert!(started, "the child process never printed {ready:?}");
    child
}

/// In the child: start a "kernel" that never becomes ready, and wait to be killed.
async fn run_as_child(marker: &str) {
    let spec = KernelSpec {
        name: "sleeper".into(),
        display_name: "sleeper".into(),
        language: "python".into(),
        argv: vec![
            python().to_string_lossy().into_owned(),
            "-c".into(),
            format!("import time; time.sleep(120)  # {marker}"),
        ],
        env: Default::default(),
        interrupt_mode: Default::default(),
        resource_dir: "/".into(),
    };
    let launch = tokio::spawn(async move {
        let opts = LaunchOptions {
            start_timeout: Duration::from_secs(120),
            ..LaunchOptions::default()
        };
        let _ = Kernel::launch(&spec, opts).await;
    });
    // Spawning happens right away; the launch itself waits for a handshake that never
    // comes, so by now the process exists.
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("KERNEL SPAWNED");
    launch.await.unwrap();
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::time::SystemTime::now())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

const FORKED_CHILD_ENV: &str = "HUNTBOOK_PARENT_DEATH_FORKED_CHILD";

/// Processes whose environment holds `marker` (a kernel forked from the fork server
/// has the server's command line, so the marker travels in the environment).
fn processes_with_env(marker: &str) -> Vec<u32> {
    processes_with("environ", marker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_kernels_and_their_fork_server_die_with_a_killed_parent() {
    if let Ok(marker) = std::env::var(FORKED_CHILD_ENV) {
        let pool = huntbook_kernel::KernelPool::new(1);
        let opts = LaunchOptions {
            env: vec![("HB_PARENT_DEATH_MARK".into(), marker)],
            ..LaunchOptions::default()
        };
        let spec = python_spec();
        let _taken = pool.take(&spec, &opts).await.unwrap();
        assert!(eventually(Duration::from_secs(60), || pool.idle() == 1).await);
        println!("KERNELS FORKED");
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let marker = format!("huntbook-forked-death-{}", uuid_like());
    let tmp = tempfile::tempdir().unwrap();
    let mut child = start_child(
        "pooled_kernels_and_their_fork_server_die_with_a_killed_parent",
        FORKED_CHILD_ENV,
        &marker,
        tmp.path(),
        "KERNELS FORKED",
    );
    // The server, the kernel in use and the spare.
    assert_eq!(processes_with_env(&format!("HB_PARENT_DEATH_MARK={marker}")).len(), 3);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(2), || processes_with_env(&marker).is_empty()).await,
        "processes survived their parent: {:?}",
        processes_with_env(&marker)
    );
}
