//! The VelociraptorLogs driver: artifact results collected by Velociraptor, one JSON
//! object per line in a file per artifact (`Windows.System.Pslist.json`).
//!
//! Every `*.json` file under the data folders is a table named, as MSTICPy names it,
//! after its path below the folder without `.json`, with characters that cannot stand
//! in a Python name replaced by `_` (`Windows_System_Pslist`). Files of the same name
//! in different folders (collections from several hosts) are one table. Each is
//! offered as the driver query `velociraptor.<table>`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use huntbook_table::{read_table, Table};

use crate::driver::{Driver, DriverError, QueryRequest};
use crate::environment::Environment;
use crate::osquery::files_with;
use crate::template::QuerySource;

/// Velociraptor artifact logs as a data environment.
pub struct VelociraptorLogs {
    artifacts: BTreeMap<String, Vec<PathBuf>>,
}

/// `Windows.System.Pslist` → `Windows_System_Pslist`.
pub fn table_name(artifact: &str) -> String {
    artifact
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl VelociraptorLogs {
    pub fn new(folders: &[PathBuf]) -> Result<VelociraptorLogs, DriverError> {
        let mut artifacts: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for folder in folders {
            for file in files_with(folder, |p| p.extension().is_some_and(|e| e == "json"))? {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                artifacts.entry(table_name(&stem)).or_default().push(file);
            }
        }
        Ok(VelociraptorLogs { artifacts })
    }

    fn read(&self, query: &str, name: &str) -> Result<Table, DriverError> {
        let err = |message: String| DriverError::Query {
            query: query.to_string(),
            message,
        };
        let files = self
            .artifacts
            .get(name)
            .ok_or_else(|| err(format!("no artifact '{name}' in the Velociraptor logs")))?;
        let mut tables = files
            .iter()
            .map(|f| read_table(f).map_err(|e| err(e.to_string())));
        let mut first = tables.next().expect("each artifact has a file")?;
        for (table, file) in tables.zip(&files[1..]) {
            let table = table?;
            if table.schema.fields() != first.schema.fields() {
                return Err(err(format!(
                    "{} has other columns than {}; collect both with the same artifact version",
                    file.display(),
                    files[0].display()
                )));
            }
            first.batches.extend(table.batches);
        }
        Ok(first)
    }
}

impl Driver for VelociraptorLogs {
    fn environment(&self) -> Environment {
        Environment::VelociraptorLogs
    }

    fn driver_queries(&self) -> Result<Vec<QuerySource>, DriverError> {
        self.artifacts
            .iter()
            .map(|(name, files)| {
                QuerySource::from_driver(
                    Environment::VelociraptorLogs,
                    "velociraptor",
                    name,
                    format!(
                        "Velociraptor artifact {name} ({} file{})",
                        files.len(),
                        if files.len() == 1 { "" } else { "s" }
                    ),
                    name,
                    Vec::new(),
                )
                .map_err(DriverError::Other)
            })
            .collect()
    }

    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError> {
        self.read(&request.source.name, request.text.trim())
    }
}
