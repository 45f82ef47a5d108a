//! The OSQueryLogs driver: osqueryd's JSON-lines result logs as tables.
//!
//! Every `*.log` file under the data folders is read; each line is one result of a
//! scheduled query (`name`), its row in `columns` (differential results) or its rows
//! in `snapshot` (snapshot results). Each query name becomes a table, offered as the
//! driver query `osquery.<name>`, with the line's `name`, `hostIdentifier`,
//! `calendarTime` (as a UTC time, from `unixTime`), `action` and the row's columns
//! (as text, which is how osquery writes them). Optional `start`, `end` and
//! `host_name` parameters filter the rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use huntbook_table::Table;
use serde_json::Value;

use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;
use crate::local::{conditions, filter_table};
use crate::template::{ColumnFilter, DefaultValue, FilterOp, ParamSpec, ParamType, QuerySource};

/// One row of a result log.
struct Row {
    host: String,
    unix_time: i64,
    action: String,
    columns: serde_json::Map<String, Value>,
}

/// osqueryd result logs as a data environment.
pub struct OsQueryLogs {
    tables: BTreeMap<String, Vec<Row>>,
    files: Vec<PathBuf>,
}

impl OsQueryLogs {
    /// Reads every `*.log` under `folders`. A line that is not a JSON object is an
    /// error naming the file and line.
    pub fn new(folders: &[PathBuf]) -> Result<OsQueryLogs, DriverError> {
        let mut tables: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        let mut files = Vec::new();
        for folder in folders {
            for file in files_with(folder, |p| p.extension().is_some_and(|e| e == "log"))? {
                read_log(&file, &mut tables)?;
                files.push(file);
            }
        }
        Ok(OsQueryLogs { tables, files })
    }

    /// The log files read.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn table(&self, name: &str) -> Option<Table> {
        let rows = self.tables.get(name)?;
        let mut names: Vec<String> = Vec::new();
        for r in rows {
            for k in r.columns.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
        let mut fields = vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("hostIdentifier", DataType::Utf8, true),
            Field::new(
                "calendarTime",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("action", DataType::Utf8, true),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![name; rows.len()])),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.host.as_str()),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    rows.iter().map(|r| r.unix_time * 1_000_000),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.action.as_str()),
            )),
        ];
        for n in names.iter().filter(|n| {
            !matches!(
                n.as_str(),
                "name" | "hostIdentifier" | "calendarTime" | "action"
            )
        }) {
            fields.push(Field::new(n, DataType::Utf8, true));
            arrays.push(Arc::new(StringArray::from_iter(rows.iter().map(|r| {
                r.columns.get(n).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }))));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).expect("columns match the schema");
        Some(Table::from_batches(schema, vec![batch]))
    }
}

/// Files under `dir` (recursively) that `keep` accepts, sorted.
pub(crate) fn files_with(
    dir: &Path,
    keep: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, DriverError> {
    if !dir.is_dir() {
        return Err(DriverError::Other(format!(
            "{}: not a folder",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| DriverError::Other(format!("{}: {e}", d.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_log(file: &Path, tables: &mut BTreeMap<String, Vec<Row>>) -> Result<(), DriverError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| DriverError::Other(format!("{}: {e}", file.display())))?;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |why: String| DriverError::Other(format!("{} line {}: {why}", file.display(), i + 1));
        let value: Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not a JSON object: {e}")))?;
        let name = value["name"]
            .as_str()
            .ok_or_else(|| bad("no query 'name'".into()))?
            .to_string();
        let unix_time = match &value["unixTime"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| bad("no 'unixTime'".into()))?;
        let host = value["hostIdentifier"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let action = value["action"].as_str().unwrap_or("snapshot").to_string();
        let rows: Vec<serde_json::Map<String, Value>> =
            match (&value["columns"], &value["snapshot"]) {
                (Value::Object(c), _) => vec![c.clone()],
                (_, Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_object().cloned())
                    .collect(),
                _ => return Err(bad("neither 'columns' nor 'snapshot'".into())),
            };
        let table = tables.entry(name).or_default();
        for columns in rows {
            table.push(Row {
                host: host.clone(),
                unix_time,
                action: action.clone(),
                columns,
            });
        }
    }
    Ok(())
}

/// The optional time range and host filters every log-table query takes.
pub(crate) fn log_params(time_column: &str, host_column: Option<&str>) -> Vec<ParamSpec> {
    let param = |name: &str, description: &str, kind, column: &str, op| ParamSpec {
        name: name.into(),
        description: description.into(),
        kind,
        default: Some(DefaultValue::Text(String::new())),
        aliases: Vec::new(),
        format: None,
        filter: Some(ColumnFilter {
            column: column.into(),
            op,
        }),
    };
    let mut params = vec![
        param(
            "start",
            "Earliest time (optional)",
            ParamType::Datetime,
            time_column,
            FilterOp::Ge,
        ),
        param(
            "end",
            "Latest time (optional)",
            ParamType::Datetime,
            time_column,
            FilterOp::Le,
        ),
    ];
    if let Some(host) = host_column {
        params.push(param(
            "host_name",
            "Host (optional)",
            ParamType::Str,
            host,
            FilterOp::Eq,
        ));
    }
    params
}

impl Driver for OsQueryLogs {
    fn environment(&self) -> Environment {
        Environment::OSQueryLogs
    }

    fn driver_queries(&self) -> Result<Vec<QuerySource>, DriverError> {
        self.tables
            .iter()
            .map(|(name, rows)| {
                QuerySource::from_driver(
                    Environment::OSQueryLogs,
                    "osquery",
                    name,
                    format!("Results of osquery query '{name}' ({} rows)", rows.len()),
                    name,
                    log_params("calendarTime", Some("hostIdentifier")),
                )
                .map_err(DriverError::Other)
            })
            .collect()
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        let name = request.text.trim();
        let table = self.table(name).ok_or_else(|| DriverError::Query {
            query: request.source.name.clone(),
            message: format!("no results named '{name}' in the osquery logs"),
        })?;
        let conds = conditions(request.source, request)?;
        filter_table(Path::new(name), table, &conds).map_err(|message| DriverError::Query {
            query: request.source.name.clone(),
            message,
        })
    }
}
