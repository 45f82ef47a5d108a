//! `huntbook ti` end to end: a configuration with a local feed and a VirusTotal
//! served locally, observables from the command line and from a CSV file.

use std::path::Path;
use std::process::{Command, Output};

use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use huntbook_http::testkit::FakeServer;
use serde_json::json;

const KEY: &str = "cli-test-vt-key";

fn huntbook(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huntbook"))
        .args(args)
        .current_dir(dir)
        .env("HUNTBOOK_CLI_TEST_VT_KEY", KEY)
        .env("HOME", dir)
        .env_remove("HUNTBOOK_CONFIG")
        .env_remove("MSTICPYCONFIG")
        .output()
        .unwrap()
}

fn virustotal() -> Router {
    Router::new().route(
        "/api/v3/ip_addresses/{ip}",
        get(|UrlPath(ip): UrlPath<String>, headers: HeaderMap| async move {
            if headers.get("x-apikey").and_then(|v| v.to_str().ok()) != Some(KEY) {
                return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "WrongCredentialsError"}}))).into_response();
            }
            let malicious = if ip == "38.75.137.9" { 4 } else { 0 };
            Json(json!({"data": {"id": ip, "attributes": {"last_analysis_stats": {"malicious": malicious, "suspicious": 0}}}})).into_response()
        }),
    )
}

fn setup(dir: &Path, server: &FakeServer) {
    std::fs::write(
        dir.join("watch.csv"),
        "Indicator,Description\nevil-site.com,phishing kit host\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("huntbook.yaml"),
        format!(
            "TIProviders:
  Watchlist:
    Provider: LocalFeeds
    Primary: true
    Args:
      Paths: [watch.csv]
  VirusTotal:
    Primary: true
    Args:
      AuthKey: {{EnvironmentVar: HUNTBOOK_CLI_TEST_VT_KEY}}
      BaseUrl: {}
TICache:
  Path: cache/ti.sqlite
",
            server.base()
        ),
    )
    .unwrap();
}

#[test]
fn lookup_from_arguments_prints_a_row_per_provider() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(FakeServer::start(virustotal()));
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &server);
    let out = huntbook(
        dir.path(),
        &[
            "ti",
            "lookup",
            "38.75.137.9",
            "evil-site[.]com",
            "--config",
            "huntbook.yaml",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Ioc"), "{stdout}");
    assert!(
        lines.iter().any(|l| l.starts_with("38.75.137.9")
            && l.contains("VirusTotal")
            && l.contains("high")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("38.75.137.9")
            && l.contains("Watchlist")
            && l.contains("Not found.")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("evil-site[.]com")
            && l.contains("Watchlist")
            && l.contains("high")),
        "{stdout}"
    );
    assert!(dir.path().join("cache/ti.sqlite").is_file());

    let status = huntbook(
        dir.path(),
        &["ti", "providers", "--config", "huntbook.yaml"],
    );
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("Watchlist") && text.contains("LocalFeeds") && text.contains("loaded"),
        "{text}"
    );
}

#[test]
fn lookup_from_a_file_writes_the_msticpy_columns() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(FakeServer::start(virustotal()));
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &server);
    std::fs::write(
        dir.path().join("iocs.csv"),
        "Observable,Note\n38.75.137.9,a\n104.16.0.77,b\n10.0.0.1,private\n",
    )
    .unwrap();
    let out = huntbook(
        dir.path(),
        &[
            "ti",
            "lookup",
            "--file",
            "iocs.csv",
            "--column",
            "Observable",
            "--providers",
            "VirusTotal",
            "-o",
            "results.csv",
            "--config",
            "huntbook.yaml",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next().unwrap(), "Ioc,IocType,SafeIoc,QuerySubtype,Provider,Result,Severity,Details,RawResult,Reference,Status");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "the private address is left out: {written}");
    assert!(
        rows[0].starts_with("38.75.137.9,ipv4,38.75.137.9,,VirusTotal,true,high,"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains(",information,"), "{}", rows[1]);

    let out = huntbook(
        dir.path(),
        &[
            "ti",
            "lookup",
            "--file",
            "iocs.csv",
            "--column",
            "Ioc",
            "--config",
            "huntbook.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("iocs.csv: no column 'Ioc'; the columns are: Observable, Note"),
        "{stderr}"
    );

    let out = huntbook(
        dir.path(),
        &[
            "ti",
            "lookup",
            "1.2.3.4",
            "--providers",
            "OTX",
            "--config",
            "huntbook.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no TI provider named OTX; loaded: Watchlist, VirusTotal"));
}
