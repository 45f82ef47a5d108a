//! Times decoding a large query answer into Arrow: a Log Analytics answer and a
//! Kusto v2 answer of 500,000 sign-in-like rows each (the services' default result
//! cap), 15 columns of every common type.
//!
//! ```text
//! cargo run -p huntbook-data --example remote_decode [rows]
//! ```
//!
//! The dev profile builds huntbook-data and its dependencies optimised, and is the
//! one the figures in docs/benchmarks.md are for.

use std::fmt::Write;
use std::time::Instant;

use huntbook_data::remote::{kusto, log_analytics};

const COLUMNS: [(&str, &str); 15] = [
    ("TimeGenerated", "datetime"),
    ("Computer", "string"),
    ("EventID", "int"),
    ("Account", "string"),
    ("AccountType", "string"),
    ("LogonType", "int"),
    ("IpAddress", "string"),
    ("IpPort", "string"),
    ("ProcessId", "long"),
    ("LogonProcessName", "string"),
    ("Activity", "string"),
    ("TargetLogonId", "long"),
    ("ElevatedToken", "bool"),
    ("RiskScore", "real"),
    ("AdditionalInfo", "dynamic"),
];

/// The rows as JSON arrays; dynamic values as JSON text (Log Analytics) or as JSON
/// values (Kusto).
fn rows(n: usize, dynamic_as_text: bool) -> String {
    let mut out = String::with_capacity(n * 420);
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let info = format!(
            r#"{{"SubjectUserSid":"S-1-5-21-{}","Elevation":"%%{}","Privileges":["SeDebugPrivilege","SeBackupPrivilege"]}}"#,
            1000 + i % 977,
            1842 + i % 2
        );
        let info = if dynamic_as_text {
            serde_json::to_string(&info).unwrap()
        } else {
            info
        };
        write!(
            out,
            r#"["2024-03-{:02}T{:02}:{:02}:{:02}.{:07}Z","WS{:04}.contoso.com",{},"CONTOSO\\user{}","User",{},"10.{}.{}.{}","{}",{},"Kerberos","{} - An account was successfully logged on.",{},{},{},{}]"#,
            1 + i % 28,
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            i % 10_000_000,
            i % 5000,
            if i % 3 == 0 { 4624 } else { 4625 },
            i % 1200,
            [2, 3, 10][i % 3],
            i % 256,
            i / 256 % 256,
            i % 251,
            49152 + i % 16000,
            4000 + i % 60000,
            if i % 3 == 0 { 4624 } else { 4625 },
            0x3e7 + i as u64 * 7,
            i % 2 == 0,
            (i % 1000) as f64 / 10.0,
            info
        )
        .unwrap();
    }
    out.push(']');
    out
}

fn log_analytics_answer(n: usize) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| format!(r#"{{"name":"{name}","type":"{kind}"}}"#))
        .collect();
    format!(
        r#"{{"tables":[{{"name":"PrimaryResult","columns":[{}],"rows":{}}}]}}"#,
        columns.join(","),
        rows(n, true)
    )
}

fn kusto_answer(n: usize) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, kind)| format!(r#"{{"ColumnName":"{name}","ColumnType":"{kind}"}}"#))
        .collect();
    format!(
        r#"[{{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0"}},{{"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":[{}],"Rows":{}}},{{"FrameType":"DataSetCompletion","HasErrors":false,"Cancelled":false}}]"#,
        columns.join(","),
        rows(n, false)
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the row count is a number"))
        .unwrap_or(500_000);
    for (name, text) in [
        ("Log Analytics", log_analytics_answer(n)),
        ("Kusto v2", kusto_answer(n)),
    ] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let table = if name == "Kusto v2" {
                kusto::decode_frames(&text, false)
            } else {
                log_analytics::decode_response(&text, false)
            }
            .expect("the generated answer decodes");
            best = best.min(started.elapsed().as_secs_f64());
            assert_eq!(table.num_rows(), n);
        }
        println!(
            "{name}: {n} rows x {} columns, {:.1} MB of JSON, decoded to Arrow in {:.3} s (best of 3){}",
            COLUMNS.len(),
            text.len() as f64 / 1e6,
            best,
            load_average().map_or(String::new(), |l| format!(", load average {l}"))
        );
    }
}

/// The one-minute load average, where the system tells it: the figures depend on it.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}
