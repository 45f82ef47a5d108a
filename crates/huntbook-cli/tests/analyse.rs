//! `huntbook analyse` end to end: the real binary on a CSV series written here, the
//! scored output read back; bad input must exit non-zero, name the column and leave no
//! output file behind.

use std::fmt::Write;
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Hourly byte counts over a week with a daily cycle; two hours pushed far up, one at
/// a busy time (hour 6 of day 3) and one at a quiet time (hour 19 of day 5).
fn bytes_csv(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("TimeGenerated,TotalBytesSent,Host\n");
    for i in 0..24 * 7 {
        let hour = i % 24;
        let cycle = (hour as f64 * std::f64::consts::TAU / 24.0).sin();
        let mut value = 50_000.0 + 20_000.0 * cycle + ((i * 37) % 11) as f64 * 300.0;
        if i == 3 * 24 + 6 || i == 5 * 24 + 19 {
            value += 30_000.0;
        }
        let day = 1 + i / 24;
        writeln!(text, "2024-05-{day:02}T{hour:02}:00:00Z,{value:.0},web01").unwrap();
    }
    let path = dir.join("bytes.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The header and rows of a CSV file with no quoted fields.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    let header = lines.next().expect("a header line");
    (header, lines.collect())
}

fn int_column(csv: &(Vec<String>, Vec<Vec<String>>), name: &str) -> Vec<i64> {
    let at = csv
        .0
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name}"));
    csv.1.iter().map(|row| row[at].parse().unwrap()).collect()
}

#[test]
fn timeseries_scores_a_csv_and_flags_both_planted_spikes() {
    let dir = tempfile::tempdir().unwrap();
    bytes_csv(dir.path());
    let args = [
        "analyse",
        "timeseries",
        "bytes.csv",
        "--time",
        "TimeGenerated",
        "--value",
        "TotalBytesSent",
        "--period",
        "24",
        "--seasonal",
        "7",
        "--threshold",
        "3.0",
        "-o",
        "scored.csv",
    ];
    let out = huntbook(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("168 rows written"),
        "{}",
        stderr(&out)
    );

    let scored = read_csv(&dir.path().join("scored.csv"));
    assert_eq!(
        scored.0,
        [
            "TimeGenerated",
            "TotalBytesSent",
            "residual",
            "trend",
            "seasonal",
            "weights",
            "baseline",
            "score",
            "anomalies"
        ]
    );
    assert_eq!(scored.1.len(), 168);
    assert!(
        scored.1[0][0].starts_with("2024-05-01T00:00:00"),
        "{:?}",
        scored.1[0]
    );
    let marks = int_column(&scored, "anomalies");
    let flagged: Vec<(usize, i64)> = marks
        .iter()
        .enumerate()
        .filter(|(_, m)| **m != 0)
        .map(|(i, m)| (i, *m))
        .collect();
    assert_eq!(flagged, vec![(3 * 24 + 6, 1), (5 * 24 + 19, -1)]);
    // baseline is seasonal + trend (each truncated on its own, so within one).
    let (seasonal, trend, baseline) = (
        int_column(&scored, "seasonal"),
        int_column(&scored, "trend"),
        int_column(&scored, "baseline"),
    );
    for i in 0..168 {
        assert!((seasonal[i] + trend[i] - baseline[i]).abs() <= 1, "row {i}");
    }
}

#[test]
fn a_missing_column_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    bytes_csv(dir.path());
    let out = huntbook(
        dir.path(),
        &[
            "analyse",
            "timeseries",
            "bytes.csv",
            "--time",
            "TimeGenerated",
            "--value",
            "BytesOut",
            "-o",
            "scored.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("'BytesOut'") && text.contains("TotalBytesSent"),
        "{text}"
    );
    assert!(!dir.path().join("scored.csv").exists());

    // A bad setting fails before anything is written, too.
    let out = huntbook(
        dir.path(),
        &[
            "analyse",
            "timeseries",
            "bytes.csv",
            "--time",
            "TimeGenerated",
            "--value",
            "TotalBytesSent",
            "--seasonal",
            "8",
            "-o",
            "scored.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("seasonal must be an odd integer"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("scored.csv").exists());
}

#[test]
fn help_shows_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = huntbook(dir.path(), &["analyse", "timeseries", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("huntbook analyse timeseries bytes.csv --time TimeGenerated"),
        "{text}"
    );
}

#[test]
fn polling_puts_the_beacon_first_and_refuses_unknown_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("TimeGenerated,SourceIP,DestinationIP\n");
    // A beacon every 60 s (+-2 s) for two hours, and irregular traffic elsewhere.
    for i in 0..120u32 {
        let t = 1_700_000_000 + i * 60 + (i * 7) % 5;
        writeln!(text, "{t},10.0.1.57,203.0.113.66").unwrap();
    }
    let mut t = 1_700_000_000u32;
    for i in 0..120u32 {
        t += 1 + (i * i * 7919 + 13) % 977;
        writeln!(text, "{t},10.0.1.58,142.250.180.14").unwrap();
    }
    let flows = dir.path().join("flows.csv");
    std::fs::write(&flows, text).unwrap();
    let out = huntbook(
        dir.path(),
        &[
            "analyse",
            "polling",
            "flows.csv",
            "--group-by",
            "SourceIP,DestinationIP",
            "-o",
            "beacons.csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (header, rows) = read_csv(&dir.path().join("beacons.csv"));
    assert_eq!(
        header[..4],
        ["SourceIP", "DestinationIP", "event_count", "p_value"]
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][..3], ["10.0.1.57", "203.0.113.66", "120"]);

    let out = huntbook(
        dir.path(),
        &[
            "analyse",
            "polling",
            "flows.csv",
            "--group-by",
            "SrcIP",
            "-o",
            "bad.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("SrcIP"), "{}", stderr(&out));
    assert!(!dir.path().join("bad.csv").exists());
}
