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
