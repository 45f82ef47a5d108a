//! The LocalData library over the sample dataset: every shipped LocalData query runs,
//! and every parameter it declares really filters its column.
//!
//! For each query, one row of its file is picked and every parameter gets a value
//! taken from that row (an equality in another case, a list with that value and a
//! stranger, a piece of the text for `contains`, an hour either side for the time
//! range). The rows returned must be exactly those this test counts itself from the
//! whole file, at least the picked one. Then each parameter alone gets a value no row
//! has, and the query must return nothing.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use chrono::{DateTime, Duration, TimeZone, Utc};
use huntbook_data::sample::{generate, SampleOptions};
use huntbook_data::template::{FilterOp, ParamType};
use huntbook_data::{LocalData, ParamValue, QueryProvider, QuerySource};
use huntbook_table::read_table;

fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &SampleOptions {
            rows: 3000,
            seed: 3,
            anchor: anchor(),
        },
        |_| {},
    )
    .unwrap();
    dir
}

/// A cell as text (the sample tables hold text, integers and times).
fn cell(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let col = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    if col.is_null(row) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(row).to_string(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Timestamp(..) => col
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .to_string(),
        other => panic!("unexpected type {other}"),
    })
}

fn micros(batch: &RecordBatch, column: &str, row: usize) -> i64 {
    batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>()
        .value(row)
}

/// A value for each parameter of `q` taken from row `row`, as (name, value, the test's
/// own predicate over a row).
type Pred = Box<dyn Fn(&RecordBatch, usize) -> bool>;

fn values_from_row(
    q: &QuerySource,
    batch: &RecordBatch,
    row: usize,
) -> Vec<(String, ParamValue, Pred)> {
    let mut out: Vec<(String, ParamValue, Pred)> = Vec::new();
    for p in &q.params {
        let filter = p
            .filter
            .clone()
            .unwrap_or_else(|| panic!("{}: parameter {} has no column", q.name, p.name));
        let column = filter.column.clone();
        let value = cell(batch, &column, row).expect("the picked row has a value");
        let (given, pred): (ParamValue, Pred) = match (filter.op, p.kind) {
            (FilterOp::Ge, ParamType::Datetime) => {
                let t = micros(batch, &column, row) - 3_600_000_000;
                (
                    ParamValue::Time(DateTime::from_timestamp_micros(t).unwrap()),
                    Box::new(move |b, r| micros(b, &column, r) >= t),
                )
            }
            (FilterOp::Le, ParamType::Datetime) => {
                let t = micros(batch, &column, row) + 3_600_000_000;
                (
                    ParamValue::Time(DateTime::from_timestamp_micros(t).unwrap()),
                    Box::new(move |b, r| micros(b, &column, r) <= t),
                )
            }
            (FilterOp::Eq, _) => {
                let wanted = value.to_lowercase();
                (
                    ParamValue::Text(value.to_uppercase()),
                    Box::new(move |b, r| {
                        cell(b, &column, r).is_some_and(|v| v.to_lowercase() == wanted)
                    }),
                )
            }
            (FilterOp::In, _) => {
                let wanted = value.to_lowercase();
                (
                    ParamValue::List(vec![
                        ParamValue::Text(value.to_uppercase()),
                        "no-such-value".into(),
                    ]),
                    Box::new(move |b, r| {
                        cell(b, &column, r).is_some_and(|v| v.to_lowercase() == wanted)
                    }),
                )
            }
            (FilterOp::Contains, _) => {
                let chars: Vec<char> = value.chars().collect();
                let piece: String = chars[chars.len() / 4..(chars.len() / 4 + 6).min(chars.len())]
                    .iter()
                    .collect();
                let wanted = piece.to_lowercase();
                (
                    ParamValue::Text(piece.to_uppercase()),
                    Box::new(move |b, r| {
                        cell(b, &column, r).is_some_and(|v| v.to_lowercase().contains(&wanted))
                    }),
                )
            }
            (op, kind) => panic!(
                "{}: no test value for {} {kind:?} with {op:?}",
                q.name, p.name
            ),
        };
        out.push((p.name.clone(), given, pred));
    }
    out
}

/// A value that no row has, for one parameter.
fn stranger(q: &QuerySource, name: &str) -> ParamValue {
    let p = q.param(name).unwrap();
    match p.kind {
        ParamType::Datetime => ParamValue::Time(match p.filter.as_ref().unwrap().op {
            FilterOp::Ge => anchor() + Duration::days(1),
            _ => anchor() - Duration::days(30),
        }),
        ParamType::Int => ParamValue::Text("-424242".into()),
        ParamType::List => ParamValue::List(vec!["no-such-value".into()]),
        _ => ParamValue::Text("no-such-value-anywhere".into()),
    }
}

#[test]
fn every_local_query_and_parameter_filters() {
    let dir = dataset();
    let provider = QueryProvider::connected(
        Box::new(LocalData::new(vec![dir.path().into()]).unwrap()),
        &[],
    )
    .unwrap();
    let queries: Vec<(String, Arc<QuerySource>)> = provider
        .store()
        .queries()
        .map(|(n, q)| (n, q.clone()))
        .collect();
    assert!(queries.len() >= 20, "{} LocalData queries", queries.len());
    let mut checked_params = 0;
    for (name, q) in &queries {
        let table = read_table(&dir.path().join(q.query.trim()))
            .unwrap()
            .concat()
            .unwrap();
        // Rows late in the file are the intrusion's for several tables; the middle
        // row is an ordinary one. Sparse tables (an indicator has an address or a
        // domain, not both) take the next row, round the end, that has every filtered column.
        let filled = |r: &usize| {
            q.params.iter().all(|p| {
                let column = &p.filter.as_ref().unwrap().column;
                cell(&table, column, *r).is_some()
            })
        };
        let n = table.num_rows();
        let row = (0..n)
            .map(|i| (n / 2 + i) % n)
            .find(filled)
            .unwrap_or_else(|| panic!("{name}: no row has every filtered column"));
        let params = values_from_row(q, &table, row);
        let values: Vec<(String, ParamValue)> = params
            .iter()
            .map(|(n, v, _)| (n.clone(), v.clone()))
            .collect();
        let expected = (0..table.num_rows())
            .filter(|r| params.iter().all(|(_, _, p)| p(&table, *r)))
            .count();
        assert!(expected >= 1, "{name}: the picked row matches");
        let got = provider
            .run(name, &values)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.num_rows(), expected, "{name} with {values:?}");

        for (param, _, _) in &params {
            let mut others = values.clone();
            others.retain(|(n, _)| n != param);
            others.push((param.clone(), stranger(q, param)));
            // A time bound out of the data moves the other bound along, so that
            // start stays before end.
            let shift = match param.as_str() {
                "start" => Some(("end", anchor() + Duration::days(2))),
                "end" => Some(("start", anchor() - Duration::days(31))),
                _ => None,
            };
            if let Some((other, t)) = shift {
                others.retain(|(n, _)| n != other);
                others.push((other.to_string(), ParamValue::Time(t)));
            }
            let got = provider.run(name, &others).unwrap();
            assert_eq!(
                got.num_rows(),
                0,
                "{name}: parameter {param} does not filter"
            );
            checked_params += 1;
        }
    }
    assert!(checked_params >= 40, "{checked_params} parameters checked");
}

#[test]
fn the_intrusion_is_found_by_its_queries() {
    let dir = dataset();
    let provider = QueryProvider::connected(
        Box::new(LocalData::new(vec![dir.path().into()]).unwrap()),
        &[],
    )
    .unwrap();
    let range = |extra: &[(&str, &str)]| {
        let mut v = vec![
            (
                "start".to_string(),
                ParamValue::Time(anchor() - Duration::days(7)),
            ),
            ("end".to_string(), ParamValue::Time(anchor())),
        ];
        v.extend(
            extra
                .iter()
                .map(|(k, x)| (k.to_string(), ParamValue::from(*x))),
        );
        v
    };
    let procs = provider
        .run(
            "WindowsSecurity.list_processes_by_cmdline",
            &range(&[("cmd_line", "comsvcs.dll")]),
        )
        .unwrap();
    assert_eq!(procs.num_rows(), 1);
    let spray = provider
        .run(
            "WindowsSecurity.list_logons_by_ip",
            &range(&[("ip_address", "198.51.100.23")]),
        )
        .unwrap();
    assert_eq!(spray.num_rows(), 241, "240 failures and the success");
    let beacon = provider
        .run(
            "Network.list_network_flows_by_ip",
            &range(&[("ip_address_list", "203.0.113.66")]),
        )
        .unwrap();
    assert!(
        beacon.num_rows() > 300,
        "{} beacon flows",
        beacon.num_rows()
    );
    let high = provider
        .run("SecurityAlert.list_alerts_by_severity", &range(&[]))
        .unwrap();
    assert!(
        high.num_rows() >= 4,
        "the default severity filter keeps High alerts"
    );
}

#[test]
fn parquet_row_groups_outside_the_range_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    // 200,000 events make four row groups of 65,536 rows over seven days.
    generate(
        dir.path(),
        &SampleOptions {
            rows: 200_000,
            seed: 1,
            anchor: anchor(),
        },
        |_| {},
    )
    .unwrap();
    let path = dir.path().join("processes.parquet");
    let cond = |op, t: DateTime<Utc>| huntbook_data::local::filter::Condition {
        param: "start".into(),
        column: "TimeGenerated".into(),
        op,
        operand: huntbook_data::local::filter::Operand::Time(t),
    };
    let last_hour = huntbook_data::local::read_parquet(
        &path,
        &[cond(FilterOp::Ge, anchor() - Duration::hours(1))],
    )
    .unwrap();
    let whole = read_table(&path).unwrap().concat().unwrap();
    let expected = (0..whole.num_rows())
        .filter(|r| {
            micros(&whole, "TimeGenerated", *r)
                >= (anchor() - Duration::hours(1)).timestamp_micros()
        })
        .count();
    assert_eq!(last_hour.num_rows(), expected);
    // The row groups read are exactly those holding a row in the range, found here by
    // reading each group whole.
    let file = std::fs::File::open(&path).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let groups = builder.metadata().num_row_groups();
    let bound = (anchor() - Duration::hours(1)).timestamp_micros();
    let mut holding = 0;
    for g in 0..groups {
        let file = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .with_row_groups(vec![g])
            .build()
            .unwrap();
        let any = reader
            .map(|b| b.unwrap())
            .any(|b| (0..b.num_rows()).any(|r| micros(&b, "TimeGenerated", r) >= bound));
        holding += usize::from(any);
    }
    let report = huntbook_data::local::prune_report(
        &path,
        &[cond(FilterOp::Ge, anchor() - Duration::hours(1))],
    )
    .unwrap();
    assert!(groups >= 4, "{groups} row groups");
    assert_eq!(report, (holding, groups));
    assert!(holding < groups, "some row groups are skipped");
}

#[test]
fn bad_queries_and_paths_are_reported() {
    let dir = dataset();
    let queries = tempfile::tempdir().unwrap();
    std::fs::write(
        queries.path().join("q.yaml"),
        r#"
metadata: {version: 1, description: t, data_environments: [LocalData], data_families: [T]}
sources:
  escape:
    description: a file outside the data folder
    args: {query: ../secrets.csv}
  no_column:
    description: a parameter without a column
    args: {query: alerts.parquet}
    parameters:
      host: {description: h, type: str}
  wrong_column:
    description: a column the file lacks
    args: {query: alerts.parquet}
    parameters:
      host: {description: h, type: str, column: HostName}
"#,
    )
    .unwrap();
    let provider = QueryProvider::connected(
        Box::new(LocalData::new(vec![dir.path().into()]).unwrap()),
        &[queries.path().to_path_buf()],
    )
    .unwrap();
    let err = provider.run("T.escape", &[]).unwrap_err().to_string();
    assert!(err.contains("'../secrets.csv' is not a file name"), "{err}");
    let err = provider
        .run("T.no_column", &[("host".into(), "x".into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("parameter 'host' declares no column"), "{err}");
    let err = provider
        .run("T.wrong_column", &[("host".into(), "x".into())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("filters column 'HostName', which the file does not have; its columns are: TimeGenerated"), "{err}");
    let err = provider.run("T.nothing", &[]).unwrap_err().to_string();
    assert!(err.contains("no query 'T.nothing'"), "{err}");
}

#[test]
fn csv_and_json_lines_files_filter_like_parquet() {
    let dir = dataset();
    let whole = read_table(&dir.path().join("logons.parquet")).unwrap();
    for ext in ["csv", "jsonl"] {
        let copy = tempfile::tempdir().unwrap();
        huntbook_table::write_table(&copy.path().join(format!("logons.{ext}")), &whole).unwrap();
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/queries/localdata/local_data.yaml"
        ))
        .unwrap()
        .replace("logons.parquet", &format!("logons.{ext}"));
        let qdir = tempfile::tempdir().unwrap();
        std::fs::write(qdir.path().join("local.yaml"), text).unwrap();
        let provider = QueryProvider::connected(
            Box::new(LocalData::new(vec![copy.path().into()]).unwrap()),
            &[qdir.path().into()],
        )
        .unwrap();
        let values = vec![
            (
                "start".to_string(),
                ParamValue::Time(anchor() - Duration::days(7)),
            ),
            ("end".to_string(), ParamValue::Time(anchor())),
            (
                "ip_address_list".to_string(),
                ParamValue::from("198.51.100.23"),
            ),
        ];
        let got = provider
            .run("WindowsSecurity.list_logons_by_ip", &values)
            .unwrap();
        assert_eq!(got.num_rows(), 241, "{ext}");
    }
}

/// Files of a format read elsewhere (pandas pickles, read by the Python package) are
/// served under their own names and filtered like the others.
#[test]
fn files_read_by_a_given_reader_are_filtered_like_the_others() {
    let dir = dataset();
    // The stand-in "pickle" holds the alerts in Parquet; the reader says which it read.
    std::fs::copy(
        dir.path().join("alerts.parquet"),
        dir.path().join("old_alerts.pkl"),
    )
    .unwrap();
    let read_paths = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = read_paths.clone();
    let reader: huntbook_data::local::FileReader = Arc::new(move |path| {
        seen.lock().unwrap().push(path.to_path_buf());
        let bytes = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let batches = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(huntbook_table::Table::from_batches(
            batches[0].schema(),
            batches,
        ))
    });
    let local = LocalData::new(vec![dir.path().into()])
        .unwrap()
        .with_reader("PKL", reader)
        .unwrap();
    let queries = tempfile::tempdir().unwrap();
    std::fs::write(
        queries.path().join("old.yaml"),
        "metadata:\n  version: 1\n  description: old alerts\n  data_environments: [LocalData]\n  data_families: [Archive]\nsources:\n  old_alerts:\n    description: alerts from a pickle\n    args:\n      query: old_alerts.pkl\n    parameters:\n      start:\n        description: from\n        type: datetime\n        column: TimeGenerated\n        op: ge\n",
    )
    .unwrap();
    let provider = QueryProvider::connected(Box::new(local), &[queries.path().into()]).unwrap();
    let all = provider.exec("old_alerts.pkl").unwrap().num_rows();
    let since = |t: DateTime<Utc>| {
        provider
            .run(
                "Archive.old_alerts",
                &[("start".into(), ParamValue::Time(t))],
            )
            .unwrap()
            .num_rows()
    };
    assert!(all > 0);
    assert_eq!(since(anchor() - Duration::days(30)), all);
    let recent = since(anchor() - Duration::days(1));
    assert!(0 < recent && recent < all, "{recent} of {all}");
    assert_eq!(read_paths.lock().unwrap().len(), 3);
    let schema = provider.schema().unwrap();
    let alerts = schema.iter().find(|t| t.table == "old_alerts.pkl").unwrap();
    assert!(alerts
        .columns
        .contains(&("TimeGenerated".into(), "datetime".into())));
    let logons = schema.iter().find(|t| t.table == "logons.parquet").unwrap();
    assert!(logons.columns.iter().any(|(_, kind)| kind == "string"));
    assert!(read_paths.lock().unwrap()[0].ends_with("old_alerts.pkl"));
}
