//! The client against a real ipykernel (and bash_kernel): execution, outputs, errors,
//! death, timeouts, start failures, shutdown and transports.

mod common;

use std::time::{Duration, Instant};

use common::*;
use huntbook_kernel::{
    find_kernelspec, kernelspec_for_language, ExecuteOptions, InterruptMode, IopubEvent, Kernel,
    KernelError, LaunchOptions, ReplyStatus, Transport,
};

fn is_rfc3339(date: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(date).is_ok()
}

#[tokio::test]
async fn one_plus_one_with_timings_and_language_info() {
    let mut kernel = launch().await;
    assert_eq!(kernel.language_info()["name"], "python");
    assert!(kernel.kernel_info()["protocol_version"].is_string());

    let (events, reply) = run_ok(&mut kernel, "1+1").await;
    assert_eq!(reply.status, ReplyStatus::Ok);
    assert_eq!(reply.execution_count, Some(1));
    assert!(is_rfc3339(&reply.date), "{}", reply.date);

    // busy, execute_input, execute_result, idle — the stamps the engine records.
    assert!(
        matches!(events.first(), Some(IopubEvent::Status { busy: true, .. })),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(IopubEvent::Status { busy: false, .. })),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        IopubEvent::ExecuteInput {
            execution_count: Some(1),
            ..
        }
    )));
    let result = events
        .iter()
        .find_map(|e| match e {
            IopubEvent::ExecuteResult {
                data,
                execution_count,
                ..
            } => Some((data, execution_count)),
            _ => None,
        })
        .expect("an execute_result");
    assert_eq!(result.0["text/plain"], "2");
    assert_eq!(*result.1, Some(1));
    assert!(events.iter().all(|e| is_rfc3339(e.date())), "{events:?}");

    let (_, reply) = run_ok(&mut kernel, "x = 5").await;
    assert_eq!(reply.execution_count, Some(2));
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn streams() {
    let mut kernel = launch().await;
    let (events, _) = run_ok(
        &mut kernel,
        "import sys\nprint('out 1')\nprint('err 1', file=sys.stderr)\nprint('out 2')",
    )
    .await;
    assert_eq!(stream_text(&events, "stdout"), "out 1\nout 2\n");
    assert_eq!(stream_text(&events, "stderr"), "err 1\n");
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn display_id_and_update_display_data() {
    let mut kernel = launch().await;
    let code = "from IPython.display import display\n\
                h = display({'text/plain': 'first'}, raw=True, display_id='d1')\n\
                h.update({'text/plain': 'second'}, raw=True)\n\
                display({'text/html': '<b>x</b>'}, raw=True, metadata={'text/html': {'isolated': True}})";
    let (events, _) = run_ok(&mut kernel, code).await;
    let outputs: Vec<&IopubEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                IopubEvent::DisplayData { .. } | IopubEvent::UpdateDisplayData { .. }
            )
        })
        .collect();
    assert_eq!(outputs.len(), 3, "{events:?}");
    match outputs[0] {
        IopubEvent::DisplayData {
            data, display_id, ..
        } => {
            assert_eq!(data["text/plain"], "first");
            assert_eq!(display_id.as_deref(), Some("d1"));
        }
        other => panic!("{other:?}"),
    }
    match outputs[1] {
        IopubEvent::UpdateDisplayData {
            data, display_id, ..
        } => {
            assert_eq!(data["text/plain"], "second");
            assert_eq!(display_id, "d1");
        }
        other => panic!("{other:?}"),
    }
    match outputs[2] {
        IopubEvent::DisplayData {
            data,
            metadata,
            display_id,
            ..
        } => {
            assert_eq!(data["text/html"], "<b>x</b>");
            assert_eq!(metadata["text/html"]["isolated"], true);
            assert_eq!(*display_id, None);
        }
        other => panic!("{other:?}"),
    }
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn clear_output_wait() {
    let mut kernel = launch().await;
    let code = "from IPython.display import clear_output\n\
                print('old', flush=True)\n\
                clear_output(wait=True)\n\
                print('new')\n\
                clear_output()";
    let (events, _) = run_ok(&mut kernel, code).await;
    let seq: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            IopubEvent::Stream { text, .. } => Some(text.trim().to_string()),
            IopubEvent::ClearOutput { wait, .. } => Some(format!("clear(wait={wait})")),
            _ => None,
        })
        .collect();
    assert_eq!(seq, ["old", "clear(wait=true)", "new", "clear(wait=false)"]);
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn errors_and_system_exit() {
    let mut kernel = launch().await;
    let (events, reply) = run_ok(&mut kernel, "raise ValueError('bad value')").await;
    assert_eq!(reply.status, ReplyStatus::Error);
    assert_eq!(reply.ename.as_deref(), Some("ValueError"));
    assert_eq!(reply.evalue.as_deref(), Some("bad value"));
    assert!(!reply.traceback.is_empty());
    let error = events.iter().find_map(|e| match e {
        IopubEvent::Error {
            ename,
            evalue,
            traceback,
            ..
        } => Some((ename, evalue, traceback)),
        _ => None,
    });
    let (ename, evalue, traceback) = error.expect("an error output");
    assert_eq!(
        (ename.as_str(), evalue.as_str()),
        ("ValueError", "bad value")
    );
    assert!(traceback.iter().any(|line| line.contains("ValueError")));

    // ipykernel turns sys.exit into an error reply and an error output with ename
    // SystemExit; the kernel keeps running. evalue is "" for a bare exit.
    for (code, evalue) in [
        ("import sys; sys.exit(0)", "0"),
        ("import sys; sys.exit(1)", "1"),
        ("import sys; sys.exit()", ""),
        ("raise SystemExit", ""),
    ] {
        let (events, reply) = run_ok(&mut kernel, code).await;
        assert_eq!(reply.status, ReplyStatus::Error, "{code}");
        assert_eq!(reply.ename.as_deref(), Some("SystemExit"), "{code}");
        assert_eq!(reply.evalue.as_deref(), Some(evalue), "{code}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, IopubEvent::Error { ename, evalue: v, .. }
                if ename == "SystemExit" && v == evalue)),
            "{code}: {events:?}"
        );
    }
    // stdin is never offered, so input() fails at once instead of waiting forever.
    let (_, reply) = run_ok(&mut kernel, "input('name? ')").await;
    assert_eq!(reply.ename.as_deref(), Some("StdinNotImplementedError"));

    let (_, reply) = run_ok(&mut kernel, "1").await;
    assert_eq!(reply.status, ReplyStatus::Ok);
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn death_by_os_exit_is_detected_quickly() {
    let mut kernel = launch().await;
    let pid = kernel.pid();
    let started = Instant::now();
    let (_, result) = run(
        &mut kernel,
        "import os; os._exit(1)",
        &ExecuteOptions::default(),
    )
    .await;
    let took = started.elapsed();
    match result {
        Err(KernelError::Died { status }) => assert_eq!(status, "exited with code 1"),
        other => panic!("expected Died, got {other:?}"),
    }
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // The dead kernel was reaped by the wait loop.
    assert!(process_gone(pid));
    drop(kernel);
}

#[tokio::test]
async fn sigkill_is_reported_with_the_signal() {
    let mut kernel = launch().await;
    let pid = kernel.pid();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        Instant::now()
    });
    let (_, result) = run(
        &mut kernel,
        "import time; time.sleep(30)",
        &ExecuteOptions::default(),
    )
    .await;
    let killed_at = killer.join().unwrap();
    match result {
        Err(KernelError::Died { status }) => {
            assert_eq!(status, "killed by signal 9 (SIGKILL: out of memory?)")
        }
        other => panic!("expected Died, got {other:?}"),
    }
    assert!(
        killed_at.elapsed() < Duration::from_secs(1),
        "{:?}",
        killed_at.elapsed()
    );
    kernel.kill().await;
}

#[tokio::test]
async fn timeout_interrupts_the_kernel() {
    let mut kernel = launch().await;
    let opts = ExecuteOptions {
        timeout: Some(Duration::from_secs(1)),
        interrupt_grace: Duration::from_secs(5),
        ..ExecuteOptions::default()
    };
    let started = Instant::now();
    let (events, result) = run(
        &mut kernel,
        "print('before', flush=True)\nimport time; time.sleep(30)",
        &opts,
    )
    .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(KernelError::Timeout { after }) if after == Duration::from_secs(1)),
        "{result:?}"
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(1 + 5 + 1), "{took:?}");
    // Output produced before and because of the interrupt was delivered.
    assert_eq!(stream_text(&events, "stdout"), "before\n");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, IopubEvent::Error { ename, .. } if ename == "KeyboardInterrupt")),
        "{events:?}"
    );
    // The interrupted kernel is usable again.
    let (events, _) = run_ok(&mut kernel, "'still here'").await;
    assert!(events
        .iter()
        .any(|e| matches!(e, IopubEvent::ExecuteResult { .. })));
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn timeout_with_message_interrupts() {
    let mut spec = python_spec();
    spec.interrupt_mode = InterruptMode::Message;
    let mut kernel = Kernel::launch(&spec, LaunchOptions::default())
        .await
        .unwrap();
    let opts = ExecuteOptions {
        timeout: Some(Duration::from_millis(800)),
        ..ExecuteOptions::default()
    };
    let (events, result) = run(&mut kernel, "import time; time.sleep(30)", &opts).await;
    assert!(
        matches!(result, Err(KernelError::Timeout { .. })),
        "{result:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, IopubEvent::Error { ename, .. } if ename == "KeyboardInterrupt")),
        "{events:?}"
    );
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn cwd_and_env_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    let mut kernel = launch_with(LaunchOptions {
        cwd: Some(cwd.clone()),
        env: vec![("HUNTBOOK_TEST_VALUE".into(), "forty two".into())],
        ..LaunchOptions::default()
    })
    .await;
    let (events, _) = run_ok(
        &mut kernel,
        "import os; print(os.getcwd()); print(os.environ['HUNTBOOK_TEST_VALUE'])",
    )
    .await;
    assert_eq!(
        stream_text(&events, "stdout"),
        format!("{}\nforty two\n", cwd.display())
    );
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn missing_cwd_is_a_clear_error() {
    let err = Kernel::launch(
        &python_spec(),
        LaunchOptions {
            cwd: Some("/nonexistent/dir".into()),
            ..LaunchOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dir"), "{err}");
}

#[tokio::test]
async fn bad_argv_fails_fast() {
    let mut spec = python_spec();
    spec.argv[0] = "/nonexistent/bin/python".into();
    let started = Instant::now();
    let err = Kernel::launch(&spec, LaunchOptions::default())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(err, KernelError::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/bin/python"), "{err}");
}

#[tokio::test]
async fn kernel_exiting_at_start_reports_its_stderr() {
    let mut spec = python_spec();
    spec.argv = vec![
        python().to_string_lossy().into_owned(),
        "-c".into(),
        "import sys; sys.stderr.write('ModuleNotFoundError: no luck here\\n'); sys.exit(3)".into(),
        "{connection_file}".into(),
    ];
    let started = Instant::now();
    let err = Kernel::launch(&spec, LaunchOptions::default())
        .await
        .unwrap_err();
    // Python's own start-up time dominates; the client reacts within a poll.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    match &err {
        KernelError::DiedAtStart {
            status,
            stderr_tail,
            ..
        } => {
            assert_eq!(status, "exited with code 3");
            assert!(stderr_tail.contains("no luck here"), "{stderr_tail}");
        }
        other => panic!("expected DiedAtStart, got {other:?}"),
    }
    assert!(err.to_string().contains("no luck here"));
}

#[tokio::test]
async fn nonexistent_kernel_lists_the_real_ones() {
    let err = find_kernelspec("no-such-kernel", &discovery()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("python3") && text.contains("bash"), "{text}");
    assert!(text.contains("-k NAME"), "{text}");
}

#[tokio::test]
async fn start_timeout_kills_the_silent_kernel() {
    let marker = format!("huntbook-start-timeout-{}", std::process::id());
    let mut spec = python_spec();
    spec.argv = vec![
        python().to_string_lossy().into_owned(),
        "-c".into(),
        format!("import time; time.sleep(60)  # {marker}"),
        "{connection_file}".into(),
    ];
    let started = Instant::now();
    let err = Kernel::launch(
        &spec,
        LaunchOptions {
            start_timeout: Duration::from_millis(1500),
            ..LaunchOptions::default()
        },
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, KernelError::StartTimeout { .. }), "{err:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(err.to_string().contains("1.5 s"), "{err}");
    assert!(err.to_string().contains("--transport tcp"), "{err}");
    let survivors: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .filter(|c| c.contains(&marker))
        .collect();
    assert!(survivors.is_empty(), "{survivors:?}");
}

#[tokio::test]
async fn shutdown_leaves_no_process_or_files() {
    let mut kernel = launch().await;
    let pid = kernel.pid();
    let connection_dir = kernel.connection_file().parent().unwrap().to_path_buf();
    assert!(connection_dir.exists());
    let (events, _) = run_ok(
        &mut kernel,
        "import subprocess; p = subprocess.Popen(['sleep', '300']); print(p.pid)",
    )
    .await;
    let child: u32 = stream_text(&events, "stdout").trim().parse().unwrap();
    let started = Instant::now();
    kernel.shutdown(Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(process_gone(pid), "kernel {pid} survived shutdown");
    assert!(
        eventually(Duration::from_secs(2), || process_gone(child)).await,
        "the kernel's child {child} survived shutdown"
    );
    assert!(!connection_dir.exists());
}

#[tokio::test]
async fn dropping_kills_the_kernel() {
    let kernel = launch().await;
    let pid = kernel.pid();
    let connection_file = kernel.connection_file().to_path_buf();
    drop(kernel);
    assert!(process_gone(pid));
    assert!(!connection_file.exists());
}

#[tokio::test]
async fn ipc_and_tcp_transports() {
    for transport in [Transport::Ipc, Transport::Tcp] {
        let mut kernel = launch_with(LaunchOptions {
            transport,
            ..LaunchOptions::default()
        })
        .await;
        assert_eq!(kernel.connection_info().transport, transport);
        let (events, _) = run_ok(&mut kernel, "print(6 * 7)").await;
        assert_eq!(stream_text(&events, "stdout"), "42\n", "{transport:?}");
        kernel.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_kernels_at_once() {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10 {
        tasks.spawn(async move {
            let transport = if i % 2 == 0 {
                Transport::Ipc
            } else {
                Transport::Tcp
            };
            let mut kernel = Kernel::launch(
                &python_spec(),
                LaunchOptions {
                    transport,
                    start_timeout: Duration::from_secs(180),
                    ..LaunchOptions::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("kernel {i}: {e}"));
            let mut out = String::new();
            kernel
                .execute(
                    &format!("print({i} * 100)"),
                    &ExecuteOptions::default(),
                    &mut |e| {
                        if let IopubEvent::Stream { text, .. } = e {
                            out.push_str(&text);
                        }
                    },
                )
                .await
                .unwrap();
            kernel.shutdown(Duration::from_secs(5)).await;
            (i, out)
        });
    }
    let mut seen = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, out) = done.unwrap();
        assert_eq!(out, format!("{}\n", i * 100));
        seen.push(i);
    }
    seen.sort();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
}

#[tokio::test]
async fn bash_kernel_runs_echo() {
    let spec = find_kernelspec("bash", &discovery()).unwrap();
    assert_eq!(spec.language, "bash");
    let mut kernel = Kernel::launch(&spec, LaunchOptions::default())
        .await
        .unwrap();
    let (events, reply) = run_ok(&mut kernel, "echo hi").await;
    assert_eq!(reply.status, ReplyStatus::Ok);
    assert_eq!(stream_text(&events, "stdout").trim(), "hi");
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn language_lookup_finds_the_venv_python() {
    let spec = kernelspec_for_language("python", &discovery()).unwrap();
    assert_eq!(spec.name, "python3");
    assert_eq!(std::path::Path::new(&spec.argv[0]), python());
}

#[tokio::test]
async fn an_isolated_kernel_sees_only_the_base_environment_and_what_it_is_given() {
    // Set once for this test binary; no other test reads it.
    std::env::set_var("HUNTBOOK_TEST_SERVICE_CREDENTIAL", "not for notebooks");
    let mut kernel = launch_with(LaunchOptions {
        env: vec![("GIVEN_TO_IT".into(), "yes".into())],
        isolate_env: true,
        ..LaunchOptions::default()
    })
    .await;
    let (events, _) = run_ok(
        &mut kernel,
        "import os\nprint(os.environ.get('HUNTBOOK_TEST_SERVICE_CREDENTIAL'))\nprint(os.environ['GIVEN_TO_IT'])\nprint('PATH' in os.environ)",
    )
    .await;
    assert_eq!(stream_text(&events, "stdout"), "None\nyes\nTrue\n");
    kernel.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_kernel_over_its_memory_limit_dies_or_the_limit_is_refused() {
    let limited = Kernel::launch(
        &python_spec(),
        LaunchOptions {
            memory_max: Some(200 << 20),
            ..LaunchOptions::default()
        },
    )
    .await;
    let mut kernel = match limited {
        Ok(kernel) => kernel,
        // No writable cgroup here: the refusal must say so and what to do.
        Err(KernelError::MemoryLimit { reason }) => {
            let text = KernelError::MemoryLimit { reason }.to_string();
            assert!(text.contains("cgroup") && text.contains("memory_max"), "{text}");
            return;
        }
        Err(other) => panic!("{other}"),
    };
    let (events, _) = run_ok(&mut kernel, "small = b'x' * (20 << 20); print(len(small))").await;
    assert_eq!(stream_text(&events, "stdout"), format!("{}\n", 20 << 20));
    let died = kernel
        .execute("big = b'x' * (600 << 20)", &ExecuteOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(died, KernelError::Died { .. }), "{died}");
    assert!(died.to_string().contains("signal 9"), "{died}");
}
