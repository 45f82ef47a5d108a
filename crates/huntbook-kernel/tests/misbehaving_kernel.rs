//! The client against a fake kernel that breaks the rules: forged messages are
//! dropped, and a missing `status: idle` ends in IopubTimeout rather than a hang.

mod common;

use std::time::{Duration, Instant};

use common::*;
use huntbook_kernel::{ExecuteOptions, Kernel, KernelError, KernelSpec, LaunchOptions, Transport};

fn fake_spec(mode: &str) -> KernelSpec {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake_kernel.py");
    KernelSpec {
        name: format!("fake-{mode}"),
        display_name: "Fake".into(),
        language: "fake".into(),
        argv: vec![
            python().to_string_lossy().into_owned(),
            script.to_string_lossy().into_owned(),
            "{connection_file}".into(),
            mode.into(),
        ],
        env: Default::default(),
        interrupt_mode: Default::default(),
        resource_dir: script.parent().unwrap().to_path_buf(),
    }
}

#[tokio::test]
async fn forged_messages_are_dropped() {
    for transport in [Transport::Ipc, Transport::Tcp] {
        let opts = LaunchOptions {
            transport,
            ..LaunchOptions::default()
        };
        let mut kernel = Kernel::launch(&fake_spec("forged"), opts).await.unwrap();
        assert_eq!(kernel.language_info()["name"], "fake");
        let (events, reply) = run_ok(&mut kernel, "anything").await;
        assert_eq!(stream_text(&events, "stdout"), "genuine\n");
        assert_eq!(reply.execution_count, Some(1));
        kernel.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn missing_idle_is_an_iopub_timeout() {
    let mut kernel = Kernel::launch(&fake_spec("no-idle"), LaunchOptions::default())
        .await
        .unwrap();
    let opts = ExecuteOptions {
        iopub_grace: Duration::from_millis(500),
        ..ExecuteOptions::default()
    };
    let started = Instant::now();
    let (events, result) = run(&mut kernel, "anything", &opts).await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(KernelError::IopubTimeout { grace }) if grace == opts.iopub_grace),
        "{result:?}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // What did arrive was delivered.
    assert_eq!(stream_text(&events, "stdout"), "genuine\n");
    // A graceful shutdown of the fake works too (it exits on shutdown_request).
    let pid = kernel.pid();
    kernel.shutdown(Duration::from_secs(5)).await;
    assert!(process_gone(pid));
}
