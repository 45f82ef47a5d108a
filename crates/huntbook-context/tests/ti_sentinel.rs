//! The AzSTI provider (Microsoft Sentinel's threat-intel table) from the
//! configuration, answering from the sample dataset's indicator table through
//! LocalData, and listed as not loaded when its workspace cannot be reached.
use std::path::Path;

use chrono::Utc;
use huntbook_context::ti::{LookupItem, LookupOptions, TiLookup};
use huntbook_core::config::Config;
use huntbook_core::secret::SecretResolver;
use huntbook_data::sample::{generate, SampleOptions};
use serde_json::json;

fn config(yaml: &str) -> Config {
    Config::from_yaml(&[(Path::new("/tmp/huntbook.yaml"), yaml)]).unwrap()
}

#[tokio::test]
async fn the_sample_indicators_answer_by_type_with_msticpys_severities() {
    let dir = tempfile::tempdir().unwrap();
    let anchor = Utc::now();
    generate(
        dir.path(),
        &SampleOptions {
            rows: 400,
            seed: 4,
            anchor,
        },
        |_| {},
    )
    .unwrap();
    let yaml = format!(
        "
TIProviders:
  SentinelTI:
    Provider: AzSTI
    Primary: true
    Args:
      DataEnvironment: LocalData
      DataPaths: [{}]
      Lookback: 8d
TICache:
  Enabled: false
",
        dir.path().display()
    );
    let ti = TiLookup::from_config(&config(&yaml), &SecretResolver::local()).unwrap();
    // The sample's C2 address and URL are documentation addresses, which the
    // pre-checks keep from every provider, as MSTICPy's do.
    let items: Vec<LookupItem> = [
        "203.0.113.66",
        "CDN-UPDATE.example.net",
        "5b0f1c9d3e8a7f2b64c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9",
        "45.142.120.9",
        "8.8.8.8",
    ]
    .into_iter()
    .map(LookupItem::new)
    .collect();
    let rows = ti.lookup(&items, &LookupOptions::default()).await.unwrap();
    let found: Vec<(&str, bool, &str)> = rows
        .iter()
        .map(|r| (r.ioc.as_str(), r.answer.result, r.answer.severity.name()))
        .collect();
    assert_eq!(
        found,
        [
            ("CDN-UPDATE.example.net", true, "high"),
            (
                "5b0f1c9d3e8a7f2b64c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9",
                true,
                "high"
            ),
            ("45.142.120.9", true, "warning"),
            ("8.8.8.8", false, "information"),
        ]
    );
    assert!(rows
        .iter()
        .all(|r| r.provider == "SentinelTI" && r.answer.status.code() == 0));
    let c2 = &rows[0].answer;
    assert_eq!(c2.details["ThreatType"], json!(["C2"]));
    assert_eq!(c2.details["Action"], json!(["alert"]));
    assert_eq!(c2.raw[0]["DomainName"], json!("cdn-update.example.net"));
    assert_eq!(rows[2].answer.details["ConfidenceScore"], json!([70]));
    assert_eq!(rows[3].answer.details, json!("Not found."));

    // Indicators older than the lookback do not count.
    let short = yaml.replace("Lookback: 8d", "Lookback: 1s");
    let ti = TiLookup::from_config(&config(&short), &SecretResolver::local()).unwrap();
    let rows = ti
        .lookup(&items[1..2], &LookupOptions::default())
        .await
        .unwrap();
    assert!(!rows[0].answer.result, "{:?}", rows[0].answer);
}

#[test]
fn a_workspace_that_cannot_be_reached_is_listed_not_loaded() {
    let yaml = "
TIProviders:
  AzSTI:
    Args:
      WorkspaceID: 00000000-0000-0000-0000-000000000000
";
    let ti = TiLookup::from_config(&config(yaml), &SecretResolver::local()).unwrap();
    let status = ti.provider_status();
    assert_eq!(status.len(), 1);
    assert!(!status[0].loaded, "{status:?}");
    assert!(
        status[0].detail.to_lowercase().contains("tenant"),
        "{status:?}"
    );
}

#[test]
fn local_data_without_paths_is_a_configuration_error() {
    let yaml = "
TIProviders:
  AzSTI:
    Args:
      DataEnvironment: LocalData
";
    let err = TiLookup::from_config(&config(yaml), &SecretResolver::local())
        .err()
        .expect("an error")
        .to_string();
    assert!(err.contains("TIProviders.AzSTI.Args.DataPaths"), "{err}");
}
