//! The built-in query library: every file loads for the environments it names, and
//! every query renders with values of its parameters' types (JSON queries to valid
//! JSON), in each environment's language.

use chrono::{TimeZone, Utc};
use huntbook_data::template::ParamType;
use huntbook_data::{Dialect, Environment, ParamValue, QueryStore};

fn sample_value(kind: ParamType) -> ParamValue {
    match kind {
        ParamType::Datetime => ParamValue::Time(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()),
        ParamType::List => ParamValue::List(vec!["10.0.0.1".into(), "o'brien".into()]),
        ParamType::Int => ParamValue::Int(443),
        ParamType::Float => ParamValue::Float(0.5),
        ParamType::Bool => ParamValue::Bool(true),
        ParamType::Str => ParamValue::Text("web01".into()),
    }
}

#[test]
fn every_environment_loads_and_renders() {
    let expected = [
        ("MSSentinel", 30),
        ("Kusto", 3),
        ("MDE", 7),
        ("M365D", 7),
        ("M365DGraph", 7),
        ("Splunk", 6),
        ("Elastic", 4),
        ("OpenSearch", 4),
        ("LocalData", 20),
    ];
    for (name, at_least) in expected {
        let env = Environment::parse(name);
        let store = QueryStore::load(env.clone(), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            store.warnings().is_empty(),
            "{name}: {:?}",
            store.warnings()
        );
        assert!(store.len() >= at_least, "{name}: {} queries", store.len());
        for (qualified, q) in store.queries() {
            let values: Vec<(String, ParamValue)> = q
                .params
                .iter()
                .filter(|p| p.required())
                .map(|p| (p.name.clone(), sample_value(p.kind)))
                .collect();
            let text = store
                .render(&qualified, &values)
                .unwrap_or_else(|e| panic!("{name} {qualified}: {e}"));
            assert!(
                !text.contains("{start}") && !text.trim().is_empty(),
                "{qualified}"
            );
            match env.dialect() {
                Dialect::EsJson => {
                    serde_json::from_str::<serde_json::Value>(&text)
                        .unwrap_or_else(|e| panic!("{qualified}: not JSON: {e}\n{text}"));
                }
                Dialect::Kql if q.param("start").is_some() => {
                    assert!(
                        text.contains("datetime(2024-05-01T00:00:00.000000Z)"),
                        "{qualified}: {text}"
                    );
                }
                _ => {}
            }
        }
    }
}

#[test]
fn sentinel_reads_the_defender_folder_too() {
    let store = QueryStore::load(Environment::parse("AzureSentinel"), &[]).unwrap();
    assert!(store.get("MDE.list_host_processes").is_ok());
    assert!(store.get("WindowsSecurity.list_host_processes").is_ok());
    let splunk = QueryStore::load(Environment::Splunk, &[]).unwrap();
    assert!(splunk.get("MDE.list_host_processes").is_err());
}
