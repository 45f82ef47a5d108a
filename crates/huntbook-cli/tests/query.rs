//! `huntbook query` and `huntbook sample-data` end to end: the real binary writes the
//! sample dataset, lists and shows queries, runs them over the files and writes the
//! results, which are read back. Bad input exits with code 2, says what is wrong, and
//! leaves no output file.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{wait_for, Outcome, RUN_LIMIT};
use huntbook_table::read_table;

const ANCHOR: &str = "2024-06-01T12:00:00Z";

fn huntbook(dir: &Path, args: &[&str]) -> Outcome {
    let line = format!("huntbook {}", args.join(" "));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_huntbook"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting huntbook");
    // The outputs here are small; the deadline guards against a hang.
    if wait_for(RUN_LIMIT, || child.try_wait().expect("waiting").map(|_| ())).is_none() {
        let _ = child.kill();
        panic!("`{line}` still running after {RUN_LIMIT:?}");
    }
    let out = child.wait_with_output().unwrap();
    Outcome {
        status: out.status,
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
        line,
    }
}

fn sample(dir: &Path) {
    huntbook(
        dir,
        &[
            "sample-data",
            "-o",
            "data",
            "--rows",
            "500",
            "--anchor",
            ANCHOR,
        ],
    )
    .expect_code(0);
}

#[test]
fn sample_data_then_run_queries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    sample(dir);
    for table in [
        "alerts",
        "processes",
        "logons",
        "signins",
        "network",
        "office",
        "syslog",
        "auditd",
    ] {
        assert!(
            dir.join(format!("data/{table}.parquet")).is_file(),
            "{table}"
        );
    }
    assert!(dir.join("data/osquery/osqueryd.results.log").is_file());

    let out = huntbook(
        dir,
        &[
            "query",
            "run",
            "SecurityAlert.list_alerts",
            "--data",
            "data",
            "--start",
            "2024-05-25T12:00:00Z",
            "--end",
            ANCHOR,
            "-o",
            "alerts.parquet",
        ],
    );
    out.expect_code(0);
    assert!(
        out.stderr.contains("rows written to alerts.parquet"),
        "{}",
        out.stderr
    );
    let all = read_table(&dir.join("alerts.parquet")).unwrap().num_rows();
    assert!(all >= 25, "{all} alerts");

    let out = huntbook(
        dir,
        &[
            "query",
            "run",
            "WindowsSecurity.list_host_processes",
            "--data",
            "data",
            "--start",
            "2024-05-25T12:00:00Z",
            "--end",
            ANCHOR,
            "-p",
            "hostname=workstation-07.CONTOSO.local",
            "-o",
            "procs.csv",
        ],
    );
    out.expect_code(0);
    let procs = read_table(&dir.join("procs.csv"))
        .unwrap()
        .concat()
        .unwrap();
    let hosts = procs.column_by_name("Computer").unwrap();
    let hosts = hosts
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
        .unwrap();
    assert!(
        procs.num_rows() >= 10,
        "the intrusion's ten processes at least"
    );
    assert!(hosts
        .iter()
        .all(|h| h == Some("WORKSTATION-07.contoso.local")));

    // A narrower time range gives fewer rows.
    let out = huntbook(
        dir,
        &[
            "query",
            "run",
            "SecurityAlert.list_alerts",
            "--data",
            "data",
            "--start",
            "2024-05-31T12:00:00Z",
            "--end",
            ANCHOR,
            "-o",
            "recent.jsonl",
        ],
    );
    out.expect_code(0);
    assert!(read_table(&dir.join("recent.jsonl")).unwrap().num_rows() < all);

    let out = huntbook(
        dir,
        &[
            "query",
            "run",
            "osquery.pack_hunt_processes",
            "--env",
            "OSQuery",
            "--data",
            "data",
            "-p",
            "host_name=lnx-web01",
            "-o",
            "osq.parquet",
        ],
    );
    out.expect_code(0);
    assert!(read_table(&dir.join("osq.parquet")).unwrap().num_rows() >= 1);
    let out = huntbook(
        dir,
        &[
            "query",
            "list",
            "--env",
            "VelociraptorLogs",
            "--data",
            "data",
        ],
    );
    out.expect_code(0);
    assert!(
        out.stdout_text()
            .contains("velociraptor.Windows_System_Pslist"),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn list_and_show_render_for_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = huntbook(
        dir,
        &[
            "query",
            "list",
            "--env",
            "LogAnalytics",
            "--search",
            "logon",
        ],
    );
    out.expect_code(0);
    let text = out.stdout_text();
    assert!(text.contains("WindowsSecurity.list_host_logons"), "{text}");
    assert!(!text.contains("SecurityAlert.list_alerts "), "{text}");

    let out = huntbook(
        dir,
        &[
            "query",
            "show",
            "WindowsSecurity.list_host_logons",
            "--env",
            "MSSentinel",
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-02T06:30:00Z",
            "-p",
            r#"host_name=web" | take 1"#,
        ],
    );
    out.expect_code(0);
    let text = out.stdout_text();
    assert!(
        text.contains(
            "datetime(2024-05-01T00:00:00.000000Z) .. datetime(2024-05-02T06:30:00.000000Z)"
        ),
        "{text}"
    );
    assert!(text.contains(r#"Computer has "web\" | take 1""#), "{text}");

    let out = huntbook(
        dir,
        &[
            "query",
            "show",
            "Network.list_flows_by_ip",
            "--env",
            "Splunk",
            "--start",
            "-1d",
            "-p",
            "ip_address_list=10.0.0.1,10.0.0.2",
        ],
    );
    out.expect_code(0);
    assert!(
        out.stdout_text()
            .contains(r#"src_ip IN ("10.0.0.1","10.0.0.2")"#),
        "{}",
        out.stdout_text()
    );

    let out = huntbook(
        dir,
        &[
            "query",
            "show",
            "WindowsSecurity.list_host_logons",
            "--env",
            "MSSentinel",
            "--describe",
        ],
    );
    out.expect_code(0);
    assert!(
        out.stdout_text()
            .contains("host_name (str) required aliases: hostname"),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn mistakes_exit_2_and_say_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    sample(dir);
    let cases: &[(&[&str], &str)] = &[
        (
            &["query", "list", "--env", "Nope"],
            "unknown environment 'Nope'",
        ),
        (
            &[
                "query",
                "show",
                "SecurityAlert.list_alertz",
                "--env",
                "MSSentinel",
            ],
            "no query 'SecurityAlert.list_alertz'",
        ),
        (
            &[
                "query",
                "show",
                "WindowsSecurity.list_host_logons",
                "--env",
                "MSSentinel",
            ],
            "required parameters were not set: host_name",
        ),
        (
            &[
                "query",
                "show",
                "WindowsSecurity.list_host_logons",
                "--env",
                "MSSentinel",
                "-p",
                "host=x",
            ],
            "has no parameter 'host'",
        ),
        (
            &[
                "query",
                "show",
                "SecurityAlert.list_alerts",
                "--env",
                "MSSentinel",
                "--start",
                "-3x",
            ],
            "--start '-3x'",
        ),
        (
            &[
                "query",
                "run",
                "SecurityAlert.list_alerts",
                "--env",
                "MSSentinel",
                "-o",
                "x.parquet",
            ],
            "query show",
        ),
        (
            &[
                "query",
                "run",
                "SecurityAlert.list_alerts",
                "--data",
                "nowhere",
                "-o",
                "x.parquet",
            ],
            "nowhere: not a folder",
        ),
        (
            &[
                "query",
                "run",
                "WindowsSecurity.list_flows_to_port",
                "--data",
                "data",
                "-o",
                "x.parquet",
            ],
            "no query",
        ),
        (
            &[
                "query",
                "run",
                "Network.list_flows_to_port",
                "--data",
                "data",
                "-p",
                "port=https",
                "-o",
                "x.parquet",
            ],
            "expected a whole number, got 'https'",
        ),
        (
            &[
                "query",
                "run",
                "SecurityAlert.list_alerts",
                "--data",
                "data",
                "-o",
                "x.txt",
            ],
            "unknown table format",
        ),
    ];
    for (args, words) in cases {
        let out = huntbook(dir, args);
        out.expect_code(2);
        assert!(out.stderr.contains(words), "`{}`: {}", out.line, out.stderr);
        assert!(!dir.join("x.parquet").exists() && !dir.join("x.txt").exists());
    }
}

#[test]
fn help_has_examples() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["query", "run", "--help"][..],
        &["query", "show", "--help"],
        &["query", "list", "--help"],
        &["sample-data", "--help"],
    ] {
        let out = huntbook(tmp.path(), args);
        out.expect_code(0);
        assert!(out.stdout_text().contains("Examples:"), "{:?}", args);
    }
}
