//! `huntbook run` end to end: the real binary, real ipykernel and bash kernels, and
//! every output notebook checked by Python's nbformat validator.
//!
//! The tests cover what a SOC pipeline relies on: where parameters land and how they
//! are typed, that values can never become code, the exit code of every way a run
//! can end, that no failure can hang a run or leave a kernel behind, the files and
//! streams a run writes while it goes, and bounded memory on huge output.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use huntbook_notebook::execution::{ERROR_MARKER_TAG, INJECTED_TAG};
use serde_json::json;

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("huntbook-run-")
        .tempdir()
        .expect("a temporary directory")
}

/// Asserts that one line of `stderr` contains every one of `words` (case-insensitive).
fn assert_line_with(stderr: &str, words: &[&str]) {
    let found = stderr.lines().any(|line| {
        let line = line.to_lowercase();
        words.iter().all(|w| line.contains(&w.to_lowercase()))
    });
    assert!(found, "no stderr line contains all of {words:?}:\n{stderr}");
}

/// Every `.ipynb` file under `root`, recursively.
fn notebooks_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ipynb") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

// ---------------------------------------------------------------------------------
// 1. Parameters

#[test]
fn parameters_land_after_the_parameters_cell_and_a_rerun_replaces_them() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        markdown("# Triage"),
        params_cell("a = 1\nname = 'default'"),
        code("print(f'a={a} name={name}')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);

    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out1.ipynb",
            "-p",
            "a",
            "2",
            "-p",
            "name",
            "first",
        ])
        .run()
        .success();
    let out1 = read(&dir.join("out1.ipynb"));
    assert_eq!(
        injected(&out1),
        [2],
        "injected right after the parameters cell: {:#?}",
        sources(&out1)
    );
    let cell1 = &out1.cells[2];
    assert_eq!(cell1.tags().collect::<Vec<_>>(), [INJECTED_TAG]);
    assert!(
        cell1.source.contains("a = 2") && cell1.source.contains("name = \"first\""),
        "{}",
        cell1.source
    );
    assert_eq!(
        out1.cells[1].source, "a = 1\nname = 'default'",
        "the parameters cell is left alone"
    );
    assert_eq!(stdout_of(cell(&out1, "print(f'a=")), "a=2 name=first\n");
    assert_eq!(
        papermill_meta(&out1)["parameters"],
        json!({"a": 2, "name": "first"})
    );
    for c in &out1.cells {
        assert_eq!(status(c), "completed", "{:?}", c.source);
    }

    // Re-running the output notebook replaces the injected cell in place.
    huntbook_run(dir)
        .args(["out1.ipynb", "out2.ipynb", "-p", "a", "3"])
        .run()
        .success();
    validate_all(&[dir.join("out1.ipynb"), dir.join("out2.ipynb")]);
    let out2 = read(&dir.join("out2.ipynb"));
    assert_eq!(out2.cells.len(), 4, "{:#?}", sources(&out2));
    assert_eq!(injected(&out2), [2]);
    let cell2 = &out2.cells[2];
    assert!(cell2.source.contains("a = 3"), "{}", cell2.source);
    assert!(
        !cell2.source.contains("a = 2") && !cell2.source.contains("first"),
        "{}",
        cell2.source
    );
    assert_eq!(stdout_of(cell(&out2, "print(f'a=")), "a=3 name=default\n");
    assert_eq!(papermill_meta(&out2)["parameters"], json!({"a": 3}));
}

#[test]
fn without_a_parameters_cell_parameters_go_on_top_with_a_warning() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print(a * 2)")]));
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-p", "a", "5"])
        .run();
    out.success();
    assert_line_with(&out.stderr, &["warning", "parameters"]);
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(injected(&nb), [0]);
    assert_eq!(stdout_of(cell(&nb, "print(a")), "10\n");
    assert_eq!(papermill_meta(&nb)["parameters"], json!({"a": 5}));
}

#[test]
fn cli_values_are_typed_as_papermill_types_them() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        params_cell("n = 0\nf = 0.0\nb = False\ns = ''\nt = 'x'"),
        code("print(repr(n), repr(f), repr(b), repr(s), repr(t))"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "-p",
            "n",
            "5",
            "-p",
            "f",
            "1e3",
            "-p",
            "b",
            "True",
            "-r",
            "s",
            "5",
        ])
        .args(["-p", "t", "true"])
        .spawn()
        .wait_leaving_nothing()
        .0
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(
        stdout_of(cell(&nb, "print(repr")),
        "5 1000.0 True '5' 'true'\n"
    );
    assert_eq!(
        papermill_meta(&nb)["parameters"],
        json!({"n": 5, "f": 1000.0, "b": true, "s": "5", "t": "true"})
    );
}

#[test]
fn parameter_sources_merge_in_papermill_order() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        params_cell("a = 'default'\nb = 'default'\nc = 'default'\nd = 'default'\ne = []"),
        code("print(a, b, c, d, repr(e))"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    std::fs::write(dir.join("params.yaml"), "a: file\nb: file\nc: file\n").unwrap();
    let b64 = base64(b"a: b64\nb: b64\nc: b64\nd: b64\n");
    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "-p",
            "c",
            "cli",
            "-y",
            "b: yaml\nc: yaml",
            "-f",
            "params.yaml",
            "-b",
            &b64,
        ])
        .args(["-y", "e: [1, two, 3.5, null, yes]"])
        .run()
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    // -p beats -y beats -f beats -b, whatever the order on the command line.
    assert_eq!(
        stdout_of(cell(&nb, "print(a, b")),
        "file yaml cli b64 [1, 'two', 3.5, None, True]\n"
    );
    let params = &papermill_meta(&nb)["parameters"];
    assert_eq!(params["a"], "file");
    assert_eq!(params["c"], "cli");
    assert_eq!(params["d"], "b64");
    assert_eq!(params["e"], json!([1, "two", 3.5, null, true]));
}

#[test]
fn an_unknown_parameter_name_is_a_warning() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![params_cell("a = 1"), code("print(a, zzz_unknown)")]),
    );
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-p", "zzz_unknown", "7"])
        .run();
    out.success();
    assert_line_with(&out.stderr, &["Passed unknown parameter", "zzz_unknown"]);
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(
        stdout_of(cell(&nb, "print(a")),
        "1 7\n",
        "the value is injected all the same"
    );
}

// ---------------------------------------------------------------------------------
// 2. Values are literals

#[test]
fn parameter_values_are_never_code() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![
            params_cell("cmd = ''\nodd = ''"),
            code("print(cmd)"),
            code("print(odd)"),
        ]),
    );
    let evil = r#""; import os; os.system("touch PWNED"); ""#;
    let evil_yaml = "y: \"'''\\n__import__('os').system('touch PWNED2')\\n'''\"";
    let odd = "é😍 \\x\\n \\\" \t {a} %s $HOME `id`";
    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "-p",
            "cmd",
            evil,
            "-y",
            evil_yaml,
            "-r",
            "odd",
            odd,
        ])
        .run()
        .success();
    assert!(!dir.join("PWNED").exists(), "a -p value ran as code");
    assert!(!dir.join("PWNED2").exists(), "a -y value ran as code");
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(stdout_of(cell(&nb, "print(cmd)")), format!("{evil}\n"));
    assert_eq!(papermill_meta(&nb)["parameters"]["cmd"], evil);
    assert_eq!(stdout_of(cell(&nb, "print(odd)")), format!("{odd}\n"));
}

// ---------------------------------------------------------------------------------
// 3. Exit codes

#[test]
fn a_clean_sys_exit_is_success() {
    let tmp = tempdir();
    let dir = tmp.path();
    let runs: Vec<_> = ["sys.exit()", "sys.exit(0)"]
        .iter()
        .enumerate()
        .map(|(i, exit)| {
            let nb = notebook(vec![
                code("import sys\nprint('before')"),
                code(exit),
                code("print('after')"),
            ]);
            write_nb(dir, &format!("in{i}.ipynb"), &nb);
            let run = huntbook_run(dir)
                .args([format!("in{i}.ipynb"), format!("out{i}.ipynb")])
                .spawn();
            (exit, i, run)
        })
        .collect();
    let outcomes: Vec<_> = runs
        .into_iter()
        .map(|(exit, i, run)| (exit, i, run.wait()))
        .collect();
    validate_all(&[dir.join("out0.ipynb"), dir.join("out1.ipynb")]);
    for (exit, i, outcome) in outcomes {
        outcome.success();
        let nb = read(&dir.join(format!("out{i}.ipynb")));
        assert_eq!(marker_count(&nb), 0, "{exit}: no error markers");
        assert_eq!(stdout_of(cell(&nb, "print('before')")), "before\n");
        let after = cell(&nb, "print('after')");
        assert!(
            after.outputs.is_empty() && after.execution_count.is_none(),
            "{exit}: later cells do not run"
        );
    }
}

#[test]
fn sys_exit_1_is_a_failure_with_markers() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![
            code("import sys\nsys.exit(1)"),
            code("print('after')"),
        ]),
    );
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb"])
        .run()
        .expect_code(1);
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(marker_count(&nb), 2, "{:#?}", sources(&nb));
    let failing = index_of(&nb, "sys.exit(1)");
    assert!(
        nb.cells[failing - 1].has_tag(ERROR_MARKER_TAG),
        "anchor right before the failing cell"
    );
    assert!(nb.cells[0].has_tag(ERROR_MARKER_TAG), "header on top");
    assert_eq!(status(&nb.cells[failing]), "failed");
    assert_eq!(status(cell(&nb, "print('after')")), "pending");

    // Re-running the output drops the old markers.
    huntbook_run(dir)
        .args(["out.ipynb", "again.ipynb", "--allow-errors"])
        .run()
        .success();
    let again = read_valid(&dir.join("again.ipynb"));
    assert_eq!(marker_count(&again), 0, "{:#?}", sources(&again));
    assert_eq!(stdout_of(cell(&again, "print('after')")), "after\n");
}

#[test]
fn a_raising_cell_fails_the_run_and_stops_it() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        markdown("# Title"),
        params_cell("x = 1"),
        code("print('ok')"),
        code("raise ValueError(f'bad value {x * 42}')"),
        markdown("after"),
        code("print('never')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let (out, _) = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb"])
        .spawn()
        .wait_leaving_nothing();
    out.expect_code(1);
    assert!(
        out.stderr.contains("ValueError") && out.stderr.contains("bad value 42"),
        "traceback on stderr:\n{}",
        out.stderr
    );

    let nb = read_valid(&dir.join("out.ipynb"));
    let failing = index_of(&nb, "raise ValueError");
    assert_eq!(status(&nb.cells[failing]), "failed");
    assert_eq!(
        errors(&nb.cells[failing]),
        [("ValueError".to_string(), "bad value 42".to_string())]
    );
    assert_eq!(status(cell(&nb, "print('ok')")), "completed");
    assert_eq!(stdout_of(cell(&nb, "print('ok')")), "ok\n");
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
    assert!(cell(&nb, "print('never')").outputs.is_empty());
    assert_eq!(papermill_meta(&nb)["exception"], true);
    assert_eq!(marker_count(&nb), 2);
    assert!(nb.cells[failing - 1].has_tag(ERROR_MARKER_TAG));
}

#[test]
fn an_error_from_a_magic_fails_the_run() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![
            code("%this_magic_does_not_exist"),
            code("print('never')"),
        ]),
    );
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb"])
        .run()
        .expect_code(1);
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(status(cell(&nb, "%this_magic")), "failed");
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
    assert_eq!(marker_count(&nb), 2);
}

#[test]
fn the_raises_exception_tag_lets_a_cell_fail_and_the_run_go_on() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        tagged("raise RuntimeError('expected')", &["raises-exception"]),
        code("print('went on')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let out = huntbook_run(dir).args(["in.ipynb", "out.ipynb"]).run();
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(
        errors(cell(&nb, "raise RuntimeError")),
        [("RuntimeError".to_string(), "expected".to_string())]
    );
    assert_eq!(
        stdout_of(cell(&nb, "print('went on')")),
        "went on\n",
        "exit {:?}\n{}",
        out.code,
        out.stderr
    );
    assert_eq!(status(cell(&nb, "print('went on')")), "completed");
    // The error was declared expected: the run succeeded.
    out.success();
    assert_eq!(marker_count(&nb), 0);
}

#[test]
fn allow_errors_runs_every_cell_and_exits_0() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        code("print('first')"),
        code("1 / 0"),
        code("print('went on')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--allow-errors"])
        .run()
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(errors(cell(&nb, "1 / 0"))[0].0, "ZeroDivisionError");
    assert_eq!(stdout_of(cell(&nb, "print('went on')")), "went on\n");
    assert_eq!(status(cell(&nb, "print('went on')")), "completed");
}

#[test]
fn skip_execution_cells_do_not_run() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        tagged(
            "open('RAN', 'w').write('x')\nprint('skipped')",
            &["skip-execution"],
        ),
        code("print('ran')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb"])
        .run()
        .success();
    assert!(!dir.join("RAN").exists());
    let nb = read_valid(&dir.join("out.ipynb"));
    let skipped = cell(&nb, "print('skipped')");
    assert!(skipped.outputs.is_empty() && skipped.execution_count.is_none());
    assert_eq!(stdout_of(cell(&nb, "print('ran')")), "ran\n");
}

// ---------------------------------------------------------------------------------
// 4. A run never hangs

/// Allowance for starting huntbook and the kernel on a busy machine.
const TOTAL_LIMIT: Duration = Duration::from_secs(15);

fn assert_kernel_death(dir: &Path, killer: &str) {
    // Output sent before the kernel dies belongs in the notebook. (The pause lets the
    // kernel's socket thread send it: a message still queued in the kernel at the
    // moment of death is lost whatever the client does.)
    let dying = format!("import time\nprint('last words', flush=True)\ntime.sleep(0.5)\n{killer}");
    let nb = notebook(vec![
        code("print('start')"),
        code(&dying),
        code("print('never')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let (out, _) = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb"])
        .spawn()
        .wait_leaving_nothing();
    out.expect_code(138);
    assert!(
        out.elapsed < TOTAL_LIMIT,
        "{killer}: took {:?}",
        out.elapsed
    );
    let nb = read_valid(&dir.join("out.ipynb"));
    let dead = cell(&nb, killer);
    assert_eq!(status(dead), "failed");
    assert!(
        errors(dead)
            .iter()
            .any(|(ename, _)| ename == "DeadKernelError"),
        "the dead cell says why: {:?}",
        dead.outputs
    );
    assert_eq!(stdout_of(dead), "last words\n");
    let seconds = dead.metadata["papermill"]["duration"]
        .as_f64()
        .expect("the dead cell has a duration");
    assert!(seconds < 3.0, "{killer}: death noticed after {seconds} s");
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
    assert_eq!(status(cell(&nb, "print('start')")), "completed");
    assert_eq!(marker_count(&nb), 2);
}

#[test]
fn a_kernel_that_exits_is_noticed_at_once() {
    let tmp = tempdir();
    assert_kernel_death(tmp.path(), "import os\nos._exit(1)");
}

#[test]
fn a_kernel_killed_by_a_signal_is_noticed_at_once() {
    let tmp = tempdir();
    assert_kernel_death(
        tmp.path(),
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    );
}

#[test]
fn execution_timeout_stops_a_long_cell() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        code("import time\ntime.sleep(60)"),
        code("print('never')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let (out, seen) = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--execution-timeout", "1"])
        .spawn()
        .wait_leaving_nothing();
    out.expect_code(124);
    assert!(!seen.is_empty(), "the kernel was seen running");
    assert!(
        out.elapsed < Duration::from_secs(20),
        "took {:?}",
        out.elapsed
    );
    let nb = read_valid(&dir.join("out.ipynb"));
    let slow = cell(&nb, "time.sleep(60)");
    assert_eq!(status(slow), "failed");
    assert!(
        errors(slow).iter().any(|(e, _)| e == "CellTimeoutError"),
        "{:?}",
        slow.outputs
    );
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
    assert_eq!(marker_count(&nb), 2);
}

#[test]
fn start_timeout_gives_up_on_a_kernel_that_never_answers() {
    let tmp = tempdir();
    let dir = tmp.path();
    let spec_dir = dir.join("jupyter/kernels/sleepy");
    std::fs::create_dir_all(&spec_dir).unwrap();
    std::fs::write(
        spec_dir.join("kernel.json"),
        json!({"argv": ["/bin/sleep", "60"], "display_name": "Sleepy", "language": "python"})
            .to_string(),
    )
    .unwrap();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print('never')")]));
    let (out, seen) = huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "-k",
            "sleepy",
            "--start-timeout",
            "2",
        ])
        .env("JUPYTER_PATH", dir.join("jupyter"))
        .spawn()
        .wait_leaving_nothing();
    out.expect_code(3);
    assert!(
        out.elapsed < Duration::from_secs(12),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stderr.contains("/bin/sleep"),
        "the message names the kernel command:\n{}",
        out.stderr
    );
    assert!(
        seen.iter().any(|p| p.command.contains("sleep")),
        "the sleeping kernel was started: {seen:?}"
    );
}

/// Sends SIGTERM to a run whose kernel never finishes starting; returns the output.
fn stop_during_kernel_start(dir: &Path) -> huntbook_notebook::Notebook {
    let spec_dir = dir.join("jupyter/kernels/sleepy");
    std::fs::create_dir_all(&spec_dir).unwrap();
    std::fs::write(
        spec_dir.join("kernel.json"),
        json!({"argv": ["/bin/sleep", "59"], "display_name": "Sleepy", "language": "python"})
            .to_string(),
    )
    .unwrap();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print('never')")]));
    let run = huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "-k",
            "sleepy",
            "--start-timeout",
            "60",
        ])
        .env("JUPYTER_PATH", dir.join("jupyter"))
        .spawn();
    let kernels = wait_for(Duration::from_secs(30), || {
        let kids = descendants(run.pid());
        kids.iter()
            .any(|p| p.command.contains("sleep 59"))
            .then_some(kids)
    })
    .expect("the kernel process never started");
    run.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let out = run.wait_at_most(Duration::from_secs(60));
    out.expect_code(143);
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "took {:?} to stop",
        signalled.elapsed()
    );
    let gone = wait_for(Duration::from_secs(5), || {
        kernels.iter().all(|p| !alive(p)).then_some(())
    });
    assert!(
        gone.is_some(),
        "left behind: {:?}",
        kernels.iter().filter(|p| alive(p)).collect::<Vec<_>>()
    );
    read_valid(&dir.join("out.ipynb"))
}

#[test]
fn a_signal_while_the_kernel_starts_stops_at_once() {
    let tmp = tempdir();
    stop_during_kernel_start(tmp.path());
}

#[test]
fn a_run_stopped_while_the_kernel_starts_shows_no_cell_ran() {
    let tmp = tempdir();
    let nb = stop_during_kernel_start(tmp.path());
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
}

#[test]
fn a_cell_that_ignores_interrupts_still_times_out() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![code(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)",
    )]);
    write_nb(dir, "in.ipynb", &nb);
    let (out, _) = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--execution-timeout", "1"])
        .spawn()
        .wait_leaving_nothing();
    out.expect_code(124);
    // 1 s timeout, then the interrupt grace (5 s) before the kernel is killed.
    assert!(
        out.elapsed < Duration::from_secs(25),
        "took {:?}",
        out.elapsed
    );
    let nb = read_valid(&dir.join("out.ipynb"));
    let slow = cell(&nb, "time.sleep(60)");
    assert_eq!(status(slow), "failed");
    assert!(
        errors(slow).iter().any(|(e, _)| e == "CellTimeoutError"),
        "{:?}",
        slow.outputs
    );
}

#[test]
fn an_unknown_kernel_lists_the_available_ones() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print(1)")]));
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-k", "nope"])
        .run();
    out.expect_code(3);
    for word in ["nope", "python3", "bash"] {
        assert!(
            out.stderr.contains(word),
            "stderr should mention {word}:\n{}",
            out.stderr
        );
    }
}

// ---------------------------------------------------------------------------------
// 5. Options

#[test]
fn cwd_sets_the_kernel_working_directory() {
    let tmp = tempdir();
    let dir = tmp.path();
    let work = dir.join("work dir");
    std::fs::create_dir(&work).unwrap();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![code("import os\nprint(os.getcwd())")]),
    );
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--cwd"])
        .arg(&work)
        .run()
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    let printed = stdout_of(cell(&nb, "os.getcwd()"));
    assert_eq!(
        Path::new(printed.trim_end()).canonicalize().unwrap(),
        work.canonicalize().unwrap()
    );
}

#[test]
fn report_mode_hides_code_inputs() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        markdown("# Report"),
        params_cell("a = 1"),
        code("print(a)"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--report-mode", "-p", "a", "2"])
        .run()
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    for c in &nb.cells {
        assert_eq!(c.source_hidden(), c.is_code(), "cell {:?}", c.source);
    }
    assert_eq!(stdout_of(cell(&nb, "print(a)")), "2\n");
}

#[test]
fn prepare_only_needs_no_kernel_and_runs_nothing() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![
        params_cell("a = 1"),
        code("open('RAN', 'w')\nprint(a)"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let out = huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "--prepare-only",
            "-k",
            "kernel-that-does-not-exist",
            "-p",
            "a",
            "9",
        ])
        .run();
    out.success();
    assert!(!dir.join("RAN").exists());
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(injected(&nb), [1]);
    assert!(nb.cells[1].source.contains("a = 9"));
    for c in &nb.cells {
        assert!(
            c.outputs.is_empty() && c.execution_count.is_none(),
            "cell ran: {:?}",
            c.source
        );
    }
    assert_eq!(papermill_meta(&nb)["parameters"], json!({"a": 9}));
}

#[test]
fn stream_files_receive_the_cells_output() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![code(
        "import sys\nprint('to-out')\nprint('to-err', file=sys.stderr)",
    )]);
    write_nb(dir, "in.ipynb", &nb);
    std::fs::write(dir.join("so.txt"), "kept\n").unwrap();
    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out.ipynb",
            "--stdout-file",
            "so.txt",
            "--stderr-file",
            "se.txt",
        ])
        .run()
        .success();
    let so = std::fs::read_to_string(dir.join("so.txt")).unwrap();
    let se = std::fs::read_to_string(dir.join("se.txt")).unwrap();
    assert!(so.starts_with("kept\n"), "the file is appended to: {so:?}");
    assert!(so.contains("to-out") && !so.contains("to-err"), "{so:?}");
    assert!(se.contains("to-err") && !se.contains("to-out"), "{se:?}");
    read_valid(&dir.join("out.ipynb"));
}

#[test]
fn log_output_echoes_cell_output_to_stderr() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![code("print('log-me-please')"), code("6 * 7")]),
    );
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--log-output"])
        .run();
    out.success();
    assert!(out.stderr.contains("log-me-please"), "{}", out.stderr);
    assert!(
        out.stderr.contains("42"),
        "results are echoed too:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("Executing Cell"), "{}", out.stderr);
    read_valid(&dir.join("out.ipynb"));
}

#[test]
fn stdin_and_stdout_can_stand_for_the_notebooks() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![params_cell("a = 1"), code("print(a + 1)")]);
    let text = huntbook_notebook::io::to_string(&nb);
    let out = huntbook_run(dir)
        .args(["-", "-", "-p", "a", "7"])
        .stdin(text.into_bytes())
        .run();
    out.success();
    let path = dir.join("from-stdout.ipynb");
    std::fs::write(&path, &out.stdout).unwrap();
    let nb = read_valid(&path);
    assert_eq!(stdout_of(cell(&nb, "print(a + 1)")), "8\n");
    assert_eq!(notebooks_under(dir), [path], "nothing else written");
}

#[test]
fn remote_paths_are_refused() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print(1)")]));
    for args in [
        ["s3://bucket/key.ipynb", "out.ipynb"],
        ["in.ipynb", "s3://bucket/out.ipynb"],
    ] {
        let out = huntbook_run(dir).args(args).run();
        out.expect_code(2);
        assert!(out.stderr.contains("not supported"), "{}", out.stderr);
        assert!(
            out.stderr.contains("s3://bucket/"),
            "the message names the path:\n{}",
            out.stderr
        );
    }
    assert!(!dir.join("out.ipynb").exists());
}

// ---------------------------------------------------------------------------------
// 6. Autosave

#[test]
fn autosave_shows_progress_while_a_cell_runs() {
    let tmp = tempdir();
    let dir = tmp.path();
    let nb = notebook(vec![code(
        "import sys, time\nprint('early')\nsys.stdout.flush()\ntime.sleep(4)\nprint('late')",
    )]);
    write_nb(dir, "in.ipynb", &nb);
    let out_path = dir.join("out.ipynb");
    let mut run = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--autosave-cell-every", "1"])
        .spawn();
    let (mut saw_running, mut saw_early) = (false, false);
    while run.is_running() {
        if let Some(nb) = peek_nb(&out_path) {
            let c = cell(&nb, "print('early')");
            if status(c) == "running" {
                saw_running = true;
                saw_early |= stdout_of(c).contains("early");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run.wait();
    out.success();
    assert!(saw_running, "the file never showed the cell running");
    assert!(
        saw_early,
        "output printed before a long sleep was not autosaved while the cell ran"
    );
    let nb = read_valid(&out_path);
    assert_eq!(stdout_of(cell(&nb, "print('early')")), "early\nlate\n");
}

// ---------------------------------------------------------------------------------
// 7. Output path templates

#[test]
fn output_templates_create_folders_from_fields() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![params_cell("ip = ''"), code("print(ip)")]),
    );
    huntbook_run(dir)
        .args([
            "in.ipynb",
            "out/{year}/triage_{ip}_{run_id}.ipynb",
            "-p",
            "ip",
            "1.2.3.4",
        ])
        .run()
        .success();
    let found = notebooks_under(&dir.join("out"));
    assert_eq!(found.len(), 1, "{found:?}");
    let nb = read_valid(&found[0]);
    let year = &papermill_meta(&nb)["start_time"].as_str().unwrap()[..4];
    let relative = found[0]
        .strip_prefix(dir.join("out").join(year))
        .expect("under out/{year}");
    let name = relative.to_str().unwrap();
    let run_id = name
        .strip_prefix("triage_1.2.3.4_")
        .and_then(|n| n.strip_suffix(".ipynb"));
    assert!(
        run_id.is_some_and(|id| !id.is_empty() && !id.contains('/')),
        "{name}"
    );
    assert_eq!(stdout_of(cell(&nb, "print(ip)")), "1.2.3.4\n");
}

#[test]
fn template_values_cannot_leave_the_output_folder() {
    let tmp = tempdir();
    // Run two levels down, so that an escape would still land inside the temp dir.
    let dir = tmp.path().join("a/b");
    std::fs::create_dir_all(&dir).unwrap();
    write_nb(
        &dir,
        "in.ipynb",
        &notebook(vec![params_cell("ip = ''"), code("print(ip)")]),
    );
    huntbook_run(&dir)
        .args(["in.ipynb", "out/{ip}.ipynb", "-p", "ip", "../../evil"])
        .run()
        .success();
    let written: Vec<_> = notebooks_under(tmp.path())
        .into_iter()
        .filter(|p| *p != dir.join("in.ipynb"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].parent().unwrap(), dir.join("out"), "{written:?}");
    let nb = read_valid(&written[0]);
    assert_eq!(
        stdout_of(cell(&nb, "print(ip)")),
        "../../evil\n",
        "the value itself is untouched"
    );
}

#[test]
fn a_template_field_with_no_value_is_an_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print(1)")]));
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out/{host}.ipynb"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("host"), "{}", out.stderr);
    assert!(!dir.join("out").exists() || notebooks_under(&dir.join("out")).is_empty());
}

// ---------------------------------------------------------------------------------
// 8. Huge output

#[test]
fn huge_output_is_truncated_in_bounded_memory() {
    let tmp = tempdir();
    let dir = tmp.path();
    // Each print is flushed so the kernel sends ~1 MB messages; unflushed, ipykernel
    // may batch hundreds of MB into one message, which no client can receive in less.
    let nb = notebook(vec![
        code("for _ in range(300):\n    print('x' * 1_000_000, flush=True)"),
        code("print('after')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let mut run = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--max-cell-output", "1000000"])
        .spawn();
    let pid = run.pid();
    let mut peak_kib = 0;
    while run.is_running() {
        if let Some(rss) = rss_kib(pid) {
            peak_kib = peak_kib.max(rss);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    run.wait().success();
    let nb = read_valid(&dir.join("out.ipynb"));
    let big = cell(&nb, "range(300)");
    let text = all_text(big);
    assert!(text.contains("output truncated"), "no truncation notice");
    assert!(text.len() < 2_000_000, "kept {} bytes", text.len());
    assert_eq!(stdout_of(cell(&nb, "print('after')")), "after\n");
    assert!(
        peak_kib < 150 * 1024,
        "huntbook peaked at {} MiB",
        peak_kib / 1024
    );
}

// ---------------------------------------------------------------------------------
// 9. Signals

fn stop_with_signal(signal: i32, expected: i32) {
    let tmp = tempdir();
    let dir = tmp.path();
    // The cell also starts a process of its own, which must not outlive the run either.
    let nb = notebook(vec![
        code("print('first')"),
        code("import subprocess, time\nhelper = subprocess.Popen(['sleep', '61'])\nprint('started', flush=True)\ntime.sleep(60)"),
        code("print('never')"),
    ]);
    write_nb(dir, "in.ipynb", &nb);
    let out_path = dir.join("out.ipynb");
    let run = huntbook_run(dir).args(["in.ipynb", "out.ipynb"]).spawn();
    let children = wait_for(Duration::from_secs(60), || {
        let kids = descendants(run.pid());
        kids.iter()
            .any(|p| p.command.contains("sleep 61"))
            .then_some(kids)
    })
    .expect("the cell's helper process never started");
    assert!(
        peek_nb(&out_path).is_some_and(|nb| status(cell(&nb, "time.sleep(60)")) == "running"),
        "the output file shows the sleeping cell running"
    );

    run.signal(signal);
    let signalled = Instant::now();
    let out = run.wait_at_most(Duration::from_secs(60));
    out.expect_code(expected);
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "took {:?} to stop",
        signalled.elapsed()
    );

    let nb = read_valid(&out_path);
    assert_eq!(status(cell(&nb, "print('first')")), "completed");
    assert_eq!(stdout_of(cell(&nb, "print('first')")), "first\n");
    let stopped = cell(&nb, "time.sleep(60)");
    assert_eq!(status(stopped), "failed");
    assert!(!errors(stopped).is_empty(), "the stopped cell says why");
    assert_eq!(status(cell(&nb, "print('never')")), "pending");
    let gone = wait_for(Duration::from_secs(5), || {
        children.iter().all(|p| !alive(p)).then_some(())
    });
    assert!(
        gone.is_some(),
        "left behind: {:?}",
        children.iter().filter(|p| alive(p)).collect::<Vec<_>>()
    );
}

#[test]
fn sigterm_stops_the_run_saves_and_kills_the_kernel() {
    stop_with_signal(libc::SIGTERM, 143);
}

#[test]
fn sigint_stops_the_run_saves_and_kills_the_kernel() {
    stop_with_signal(libc::SIGINT, 130);
}

// ---------------------------------------------------------------------------------
// 10. Concurrency

#[test]
fn ten_runs_at_once_all_succeed() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(
        dir,
        "in.ipynb",
        &notebook(vec![params_cell("n = 0"), code("print(n * n)")]),
    );
    let runs: Vec<_> = (0..10)
        .map(|n| {
            huntbook_run(dir)
                .args([
                    "in.ipynb".to_string(),
                    format!("out{n}.ipynb"),
                    "-p".into(),
                    "n".into(),
                    n.to_string(),
                ])
                .spawn()
        })
        .collect();
    let outcomes: Vec<_> = runs.into_iter().map(Running::wait).collect();
    for outcome in &outcomes {
        outcome.success();
    }
    let paths: Vec<_> = (0..10).map(|n| dir.join(format!("out{n}.ipynb"))).collect();
    validate_all(&paths);
    for (n, path) in paths.iter().enumerate() {
        let nb = read(path);
        assert_eq!(
            stdout_of(cell(&nb, "print(n * n)")),
            format!("{}\n", n * n),
            "{}",
            path.display()
        );
        assert_eq!(papermill_meta(&nb)["parameters"], json!({"n": n}));
    }
}

// ---------------------------------------------------------------------------------
// 11. Bad input

#[test]
fn malformed_notebook_json_is_a_usage_error_naming_the_file() {
    let tmp = tempdir();
    let dir = tmp.path();
    std::fs::write(dir.join("broken.ipynb"), "{\"cells\": [").unwrap();
    let out = huntbook_run(dir).args(["broken.ipynb", "out.ipynb"]).run();
    out.expect_code(2);
    assert!(out.stderr.contains("broken.ipynb"), "{}", out.stderr);
    assert!(!dir.join("out.ipynb").exists());
}

#[test]
fn bad_yaml_parameters_are_a_usage_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &notebook(vec![code("print(1)")]));
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-y", "a: [1, 2"])
        .run();
    out.expect_code(2);
    assert!(!dir.join("out.ipynb").exists());
    let out = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-f", "missing-params.yaml"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("missing-params.yaml"), "{}", out.stderr);
}

#[test]
fn a_missing_input_is_a_usage_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    let out = huntbook_run(dir)
        .args(["no-such-notebook.ipynb", "out.ipynb"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("no-such-notebook.ipynb"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------
// 12. Other kernels

#[test]
fn the_bash_kernel_gets_bash_parameters() {
    let tmp = tempdir();
    let dir = tmp.path();
    let mut nb = notebook(vec![params_cell("x=1"), code("echo \"x is $x\"")]);
    nb.metadata.insert(
        "kernelspec".into(),
        json!({"name": "bash", "language": "bash", "display_name": "Bash"}),
    );
    write_nb(dir, "in.ipynb", &nb);
    huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "-k", "bash", "-p", "x", "42"])
        .run()
        .success();
    let nb = read_valid(&dir.join("out.ipynb"));
    assert_eq!(injected(&nb), [1]);
    assert!(
        all_text(cell(&nb, "echo")).contains("x is 42"),
        "{:?}",
        cell(&nb, "echo").outputs
    );
}

// ---------------------------------------------------------------------------------
// 8. Secrets

const SECRET: &str = "hb-Test-Secret-7f3Q!x9";

/// A notebook that leaks the secret every way it can: printed in two writes, in an
/// exception and its traceback, in HTML, base64 behind a prefix, hex and URL-encoded.
fn leaky_notebook() -> huntbook_notebook::Notebook {
    notebook(vec![
        params_cell("note = 'none'"),
        code(
            "import os, sys, base64, urllib.parse\n\
             s = os.environ['HB_TEST_SECRET']\n\
             print('first half', s[:6], end='', flush=True)\n\
             print(s[6:], flush=True)\n\
             print(base64.b64encode(('user:' + s).encode()).decode())\n\
             print(s.encode().hex(), urllib.parse.quote(s))",
        ),
        code("from IPython.display import HTML\nHTML('<b>' + s + '</b>')"),
        code("raise KeyError(s)"),
    ])
}

fn assert_no_secret(text: &str) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    let hex: String = SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    for (form, what) in [(SECRET, "plain"), (&SECRET[6..], "second write"), (&b64[8..20], "base64"), (&hex[..], "hex")] {
        assert!(!text.contains(form), "the secret ({what}) is in:\n{text}");
    }
    assert!(!text.contains("hb-Test-Secret-7f3Q%21x9"), "URL-encoded secret in:\n{text}");
}

#[test]
fn secrets_reach_the_kernel_and_never_the_output_or_the_log() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &leaky_notebook());
    let out = huntbook_run(dir)
        .env("HB_TEST_SECRET", SECRET)
        .args(["in.ipynb", "out.ipynb", "--secret", "HB_TEST_SECRET", "--log-output"])
        .run();
    out.expect_code(1); // the last cell raises
    let nb = read_valid(&dir.join("out.ipynb"));
    let text = huntbook_notebook::io::to_string(&nb);
    assert_no_secret(&text);
    assert!(text.contains("first half ***"), "the kernel read the secret, and it was masked:\n{text}");
    assert!(text.contains("KeyError"), "{text}");
    assert_no_secret(&out.stderr);
    assert!(out.stderr.contains("first half ***"), "{}", out.stderr);
}

#[test]
fn parameters_that_name_or_hold_a_secret_are_refused() {
    let tmp = tempdir();
    let dir = tmp.path();
    write_nb(dir, "in.ipynb", &leaky_notebook());
    let named = huntbook_run(dir)
        .env("HB_TEST_SECRET", SECRET)
        .args(["in.ipynb", "out.ipynb", "--secret", "HB_TEST_SECRET", "-p", "vt_api_key", "abc"])
        .run();
    named.expect_code(2);
    assert_line_with(&named.stderr, &["vt_api_key", "credential", "environment"]);
    let held = huntbook_run(dir)
        .env("HB_TEST_SECRET", SECRET)
        .args(["in.ipynb", "out.ipynb", "--secret", "HB_TEST_SECRET", "-p", "note"])
        .arg(format!("see {SECRET}"))
        .run();
    held.expect_code(2);
    assert_line_with(&held.stderr, &["note", "holds a configured secret"]);
    assert_no_secret(&held.stderr);
    let unset = huntbook_run(dir)
        .args(["in.ipynb", "out.ipynb", "--secret", "HB_TEST_UNSET_SECRET"])
        .run();
    unset.expect_code(2);
    assert_line_with(&unset.stderr, &["HB_TEST_UNSET_SECRET", "not set"]);
    assert!(notebooks_under(dir).iter().all(|p| p.ends_with("in.ipynb")), "nothing was written");
}
