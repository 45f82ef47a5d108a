//! The kernel pool against a real ipykernel: pre-started kernels are handed out once,
//! only to runs started the same way (secrets included), and replaced behind them.

mod common;

use std::time::Duration;

use common::*;
use huntbook_kernel::{KernelPool, LaunchOptions};

const START: Duration = Duration::from_secs(60);

fn with_secret(value: &str) -> LaunchOptions {
    LaunchOptions {
        env: vec![("POOL_TEST_SECRET".into(), value.into())],
        isolate_env: true,
        ..LaunchOptions::default()
    }
}

async fn secret_and_count(kernel: &mut huntbook_kernel::Kernel) -> (String, Option<i64>) {
    let (events, reply) = run_ok(kernel, "import os; print(os.environ.get('POOL_TEST_SECRET'))").await;
    (stream_text(&events, "stdout"), reply.execution_count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_kernels_are_fresh_used_once_and_keyed_by_their_secrets() {
    let pool = KernelPool::new(1);
    let spec = python_spec();
    let a = with_secret("alpha");
    pool.warm(&spec, &a);
    assert!(eventually(START, || pool.idle() == 1).await, "the spare kernel never started");

    // The spare goes to a run started the same way, which sees a fresh kernel.
    let mut first = pool.take(&spec, &a).await.unwrap();
    assert_eq!(secret_and_count(&mut first).await, ("alpha\n".into(), Some(1)));
    let first_pid = first.pid();

    // A run with another secret never gets that kernel, nor its replacement.
    let b = with_secret("bravo");
    let mut other = pool.take(&spec, &b).await.unwrap();
    assert_eq!(secret_and_count(&mut other).await.0, "bravo\n");

    // The replacement is a new process; the used kernel never comes back.
    assert!(eventually(START, || pool.idle() == 2).await, "no replacements: {pool:?}");
    let mut second = pool.take(&spec, &a).await.unwrap();
    assert_ne!(second.pid(), first_pid);
    assert_eq!(secret_and_count(&mut second).await, ("alpha\n".into(), Some(1)));

    first.shutdown(Duration::from_secs(5)).await;
    other.shutdown(Duration::from_secs(5)).await;
    second.shutdown(Duration::from_secs(5)).await;
    assert!(eventually(START, || pool.idle() == 2).await);
    pool.close().await;
    assert_eq!(pool.idle(), 0);
}

/// The parent pid of `pid`, from /proc.
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    after.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_ipykernels_are_forked_fresh_in_their_folder_and_group() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("helper_mod.py"), "VALUE = 42\n").unwrap();
    let opts = LaunchOptions {
        cwd: Some(folder.path().to_path_buf()),
        ..with_secret("charlie")
    };
    let pool = KernelPool::new(1);
    let spec = python_spec();
    let mut kernels = Vec::new();
    for _ in 0..3 {
        let mut kernel = pool.take(&spec, &opts).await.unwrap();
        let (events, reply) = run_ok(
            &mut kernel,
            "import os, helper_mod\nprint(os.getpid(), os.getpgid(0), os.getcwd(), helper_mod.VALUE, os.environ['POOL_TEST_SECRET'])",
        )
        .await;
        assert_eq!(reply.execution_count, Some(1));
        let pid = kernel.pid();
        let cwd = folder.path().canonicalize().unwrap();
        assert_eq!(stream_text(&events, "stdout"), format!("{pid} {pid} {} 42 charlie\n", cwd.display()));
        kernels.push(kernel);
    }
    // Forked by one server, not spawned by us.
    let server = parent_of(kernels[0].pid());
    assert_ne!(server, std::process::id());
    assert!(kernels.iter().all(|k| parent_of(k.pid()) == server));
    assert_eq!(parent_of(server), std::process::id());

    // Used kernels wind down in the background.
    let pids: Vec<u32> = kernels.iter().map(|k| k.pid()).collect();
    for kernel in kernels {
        pool.retire(kernel);
    }
    assert!(eventually(Duration::from_secs(10), || pids.iter().all(|&pid| process_gone(pid))).await);
    pool.close().await;
    // The last kernel and the pool gone, the server goes too.
    assert!(eventually(Duration::from_secs(5), || process_gone(server)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_kernel_that_dies_is_seen_dead_with_its_signal() {
    let pool = KernelPool::new(1);
    let spec = python_spec();
    let opts = LaunchOptions::default();
    let mut kernel = pool.take(&spec, &opts).await.unwrap();
    run_ok(&mut kernel, "x = 1").await;
    let died = kernel
        .execute("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", &Default::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(died.to_string().contains("signal 9"), "{died}");
    assert!(kernel.has_exited());
    kernel.kill().await;

    // If the server itself dies, its kernels die with it, are seen dead, and the pool
    // starts a new server for the next run.
    let mut spare = pool.take(&spec, &opts).await.unwrap();
    let server = parent_of(spare.pid());
    assert_ne!(server, std::process::id(), "not forked");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(server as i32, libc::SIGKILL) };
    assert!(eventually(Duration::from_secs(5), || spare.has_exited()).await);
    let mut next = pool.take(&spec, &opts).await.unwrap();
    assert_ne!(parent_of(next.pid()), server);
    assert_eq!(run_ok(&mut next, "1 + 1").await.1.execution_count, Some(1));
    next.shutdown(Duration::from_secs(5)).await;
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_kernel_keeps_its_memory_limit() {
    let opts = LaunchOptions {
        memory_max: Some(200 << 20),
        ..LaunchOptions::default()
    };
    let pool = KernelPool::new(1);
    let mut kernel = match pool.take(&python_spec(), &opts).await {
        Ok(kernel) => kernel,
        // No writable cgroup here: refused as for a spawned kernel (tested there).
        Err(huntbook_kernel::KernelError::MemoryLimit { .. }) => return,
        Err(other) => panic!("{other}"),
    };
    assert_ne!(parent_of(kernel.pid()), std::process::id(), "not forked");
    run_ok(&mut kernel, "small = b'x' * (20 << 20)").await;
    let died = kernel
        .execute("big = b'x' * (600 << 20)", &Default::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(died.to_string().contains("signal 9"), "{died}");
    pool.close().await;
}
