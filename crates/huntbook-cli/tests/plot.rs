//! `huntbook plot` end to end: the real binary draws a CSV written here; the page's
//! spec is read back. Bad input must exit non-zero, say what is wrong and leave no
//! page behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn huntbook(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huntbook"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running the huntbook binary")
}

fn events(dir: &Path) {
    let text = "TimeGenerated,Operation,UserId,Bytes\n\
        2024-03-01T10:00:00Z,FileAccessed,ann,10\n\
        2024-03-01T10:05:00Z,UserLoggedIn,bob,20\n\
        2024-03-01T10:01:00Z,FileAccessed,cat,30\n";
    std::fs::write(dir.join("events.csv"), text).unwrap();
}

/// The JSON spec inside a chart page.
fn spec(page: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let start = html.find("application/json\">").expect("a spec") + 18;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn a_timeline_page_holds_the_lanes_and_references_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    events(dir.path());
    let out = huntbook(
        dir.path(),
        &[
            "plot",
            "timeline",
            "events.csv",
            "--group-by",
            "Operation",
            "--source-columns",
            "UserId",
            "--alert",
            "2024-03-01T10:02:00Z=Mass download",
            "-o",
            "t.html",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = spec(&dir.path().join("t.html"));
    assert_eq!(
        spec["lanes"],
        serde_json::json!(["FileAccessed", "UserLoggedIn"])
    );
    assert_eq!(
        spec["series"][0]["t"],
        serde_json::json!([0, 60000, 300000])
    );
    assert_eq!(spec["refs"][0]["label"], "Mass download");
    assert_eq!(spec["refs"][0]["alert"], true);
}

#[test]
fn values_and_durations_draw_too() {
    let dir = tempfile::tempdir().unwrap();
    events(dir.path());
    let out = huntbook(
        dir.path(),
        &[
            "plot",
            "values",
            "events.csv",
            "--value",
            "Bytes",
            "--kind",
            "line",
            "-o",
            "v.html",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        spec(&dir.path().join("v.html"))["series"][0]["y"],
        serde_json::json!([10, 30, 20])
    );
    let out = huntbook(
        dir.path(),
        &[
            "plot",
            "duration",
            "events.csv",
            "--group-by",
            "UserId",
            "-o",
            "d.html",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        spec(&dir.path().join("d.html"))["count"],
        serde_json::json!([1, 1, 1])
    );
}

#[test]
fn bad_input_exits_non_zero_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    events(dir.path());
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "plot",
                "timeline",
                "events.csv",
                "--group-by",
                "Nope",
                "-o",
                "t.html",
            ],
            "'Nope'",
        ),
        (
            &["plot", "timeline", "events.csv", "-o", "t.png"],
            "something.html",
        ),
        (
            &[
                "plot",
                "values",
                "events.csv",
                "--value",
                "Bytes",
                "--kind",
                "pie",
                "-o",
                "t.html",
            ],
            "kind 'pie'",
        ),
        (
            &[
                "plot",
                "timeline",
                "events.csv",
                "--ref",
                "yesterday-ish",
                "-o",
                "t.html",
            ],
            "--ref",
        ),
    ];
    for (args, needle) in cases {
        let out = huntbook(dir.path(), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("events.csv")]);
}

#[test]
fn every_plot_command_has_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "timeline",
        "values",
        "duration",
        "tree",
        "network",
        "incidents",
        "matrix",
        "map",
        "anomalies",
    ] {
        let out = huntbook(dir.path(), &["plot", command, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("Examples:"),
            "{command}: {text}"
        );
    }
}

#[test]
fn the_sample_data_draws_as_tree_graphs_matrix_and_map() {
    let dir = tempfile::tempdir().unwrap();
    let out = huntbook(dir.path(), &["sample-data", "-o", "data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "tree",
                "data/processes.parquet",
                "--legend-col",
                "SubjectUserName",
            ],
            "process_tree",
        ),
        (
            &[
                "network",
                "data/network.parquet",
                "--source",
                "SourceIP",
                "--target",
                "DestinationIP",
            ],
            "network",
        ),
        (&["incidents", "data/alerts.parquet"], "network"),
        (
            &[
                "matrix",
                "data/network.parquet",
                "--x",
                "SourceIP",
                "--y",
                "DestinationPort",
            ],
            "matrix",
        ),
        (
            &[
                "map",
                "data/signins.parquet",
                "--layer",
                "UserPrincipalName",
            ],
            "map",
        ),
    ];
    for (args, kind) in cases {
        let mut all = vec!["plot"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "chart.html"]);
        let out = huntbook(dir.path(), &all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let spec = spec(&dir.path().join("chart.html"));
        assert_eq!(spec["kind"], kind, "{args:?}");
        match args[0] {
            "tree" => assert_eq!(spec["legend_col"], "SubjectUserName"),
            "incidents" => assert_eq!(spec["mode"], "entities"),
            "map" => assert_eq!(spec["layer_column"], "UserPrincipalName"),
            _ => {}
        }
    }
    let out = huntbook(
        dir.path(),
        &[
            "plot",
            "network",
            "data/network.parquet",
            "--source",
            "Nope",
            "--target",
            "DestinationIP",
            "-o",
            "x.html",
        ],
    );
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("'Nope'"));
}
