//! A cell printing 50 MB streams through the client with bounded memory and no loss.
//!
//! Alone in its binary so that the peak-memory reading is not disturbed by other tests.

mod common;

use std::time::Duration;

use common::*;
use huntbook_kernel::{ExecuteOptions, IopubEvent};

/// Peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Resets the peak so `peak_rss` measures from now on.
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

const MB: u64 = 1024 * 1024;

#[tokio::test]
async fn fifty_megabytes_stream_through() {
    let mut kernel = launch().await;
    let opts = ExecuteOptions {
        timeout: Some(Duration::from_secs(300)),
        ..ExecuteOptions::default()
    };

    // 50 chunks of 1 MB, each flushed: memory must not follow the total.
    reset_peak_rss();
    let before = peak_rss();
    let mut received = 0u64;
    let mut messages = 0u32;
    let reply = kernel
        .execute(
            "import sys\nchunk = 'x' * (1024 * 1024 - 1) + '\\n'\n\
             for _ in range(50):\n    sys.stdout.write(chunk)\n    sys.stdout.flush()",
            &opts,
            &mut |event| {
                if let IopubEvent::Stream { text, .. } = event {
                    received += text.len() as u64;
                    messages += 1;
                }
            },
        )
        .await
        .unwrap();
    let growth = peak_rss().saturating_sub(before);
    eprintln!(
        "peak memory growth: {} KB over {messages} messages",
        growth / 1024
    );
    assert_eq!(received, 50 * MB);
    assert!(messages >= 50, "{messages} stream messages");
    assert!(growth < 32 * MB, "peak memory grew by {} MB", growth / MB);
    assert!(reply.execution_count.is_some());

    // A tight print loop (ipykernel batches it into large messages): nothing lost.
    let mut received = 0u64;
    kernel
        .execute(
            "for _ in range(500_000):\n    print('y' * 99)",
            &opts,
            &mut |event| {
                if let IopubEvent::Stream { text, .. } = event {
                    received += text.len() as u64;
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(received, 50_000_000);
    kernel.shutdown(Duration::from_secs(5)).await;
}
