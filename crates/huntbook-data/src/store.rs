//! [`QueryStore`]: the queries of one data environment, by family and name.
//!
//! A store is filled from the built-in library (the files under `queries/`, compiled
//! into the binary), from custom query folders and from single files. As in MSTICPy, a
//! query lands under each of its families, a later file's query replaces an earlier
//! one of the same family and name, and files that are not query files (no `metadata`
//! or `sources`) are skipped with a warning; a malformed query file is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::environment::Environment;
use crate::library::BUILTIN;
use crate::render::{bind, render, ParamValue, RenderError};
use crate::template::{parse_file, FileContents, QuerySource, TemplateError};

/// Why queries could not be loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a folder of query files")]
    NotAFolder { path: PathBuf },
    #[error("no query '{name}' for {environment}{hint}")]
    NoSuchQuery {
        name: String,
        environment: String,
        hint: String,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Driver(#[from] crate::driver::DriverError),
}

/// The queries of one environment: family → name → query.
#[derive(Debug, Clone)]
pub struct QueryStore {
    environment: Environment,
    families: BTreeMap<String, BTreeMap<String, Arc<QuerySource>>>,
    warnings: Vec<String>,
}

impl QueryStore {
    /// An empty store for `environment`.
    pub fn new(environment: Environment) -> QueryStore {
        QueryStore {
            environment,
            families: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// The built-in library's queries for `environment` (its folders, see
    /// [`Environment::library_folders`]), then those in `query_paths` (folders, read
    /// recursively, or single `.yaml` files), later ones replacing earlier ones.
    pub fn load(
        environment: Environment,
        query_paths: &[PathBuf],
    ) -> Result<QueryStore, StoreError> {
        let mut store = QueryStore::new(environment);
        store.add_builtin()?;
        for path in query_paths {
            store.add_path(path)?;
        }
        Ok(store)
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// Files skipped because they were not query files, with the reason.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds the built-in library's queries for this store's environment.
    pub fn add_builtin(&mut self) -> Result<(), StoreError> {
        let folders = self.environment.library_folders();
        for (path, text) in BUILTIN {
            let folder = path.split('/').next().unwrap_or_default();
            if folders.iter().any(|f| f == folder) {
                self.add_text(Path::new(&format!("queries/{path}")), text)?;
            }
        }
        Ok(())
    }

    /// Adds the queries of a file, or of every `.yaml`/`.yml` file under a folder.
    pub fn add_path(&mut self, path: &Path) -> Result<(), StoreError> {
        if path.is_file() {
            return self.add_file(path);
        }
        if !path.is_dir() {
            return Err(StoreError::NotAFolder {
                path: path.to_path_buf(),
            });
        }
        for file in yaml_files(path)? {
            self.add_file(&file)?;
        }
        Ok(())
    }

    fn add_file(&mut self, path: &Path) -> Result<(), StoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_text(path, &text)
    }

    /// Adds the queries of a file's text (those for this store's environment).
    pub fn add_text(&mut self, path: &Path, text: &str) -> Result<(), StoreError> {
        match parse_file(path, text)? {
            FileContents::NotQueries(why) => {
                self.warnings.push(format!(
                    "{}: skipped, not a query file: {why}",
                    path.display()
                ));
            }
            FileContents::Queries(queries) => {
                for q in queries {
                    if q.environments.contains(&self.environment) {
                        self.add_query(q);
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds one query under each of its families.
    pub fn add_query(&mut self, query: QuerySource) {
        let query = Arc::new(query);
        for family in &query.families {
            self.families
                .entry(family.clone())
                .or_default()
                .insert(query.name.clone(), query.clone());
        }
    }

    /// The family names, sorted.
    pub fn families(&self) -> impl Iterator<Item = &str> {
        self.families.keys().map(String::as_str)
    }

    /// The queries of a family, sorted by name.
    pub fn family(&self, family: &str) -> impl Iterator<Item = &Arc<QuerySource>> {
        self.families
            .get(family)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Every `Family.name` with its query, sorted.
    pub fn queries(&self) -> impl Iterator<Item = (String, &Arc<QuerySource>)> {
        self.families
            .iter()
            .flat_map(|(f, qs)| qs.iter().map(move |(n, q)| (format!("{f}.{n}"), q)))
    }

    pub fn len(&self) -> usize {
        self.families.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.families.is_empty()
    }

    /// A query by `Family.name` (the family may itself be dotted: `A.B.name`).
    pub fn get(&self, qualified: &str) -> Result<&Arc<QuerySource>, StoreError> {
        let found = qualified
            .rsplit_once('.')
            .and_then(|(family, name)| self.families.get(family)?.get(name));
        found.ok_or_else(|| {
            let name = qualified.rsplit('.').next().unwrap_or(qualified);
            let elsewhere: Vec<String> = self
                .queries()
                .filter(|(_, q)| q.name == name)
                .map(|(n, _)| n)
                .collect();
            let hint = if elsewhere.is_empty() {
                ". `huntbook query list` shows the queries".to_string()
            } else {
                format!("; did you mean {}?", elsewhere.join(" or "))
            };
            StoreError::NoSuchQuery {
                name: qualified.to_string(),
                environment: self.environment.to_string(),
                hint,
            }
        })
    }

    /// Queries whose qualified name, description or tags contain `term` (ignoring
    /// case); all of them for an empty term.
    pub fn search(&self, term: &str) -> Vec<(String, &Arc<QuerySource>)> {
        let term = term.to_lowercase();
        self.queries()
            .filter(|(name, q)| {
                term.is_empty()
                    || name.to_lowercase().contains(&term)
                    || q.description.to_lowercase().contains(&term)
                    || q.tags.iter().any(|t| t.to_lowercase().contains(&term))
            })
            .collect()
    }

    /// The text of query `qualified` with `values`, written for this environment.
    pub fn render(
        &self,
        qualified: &str,
        values: &[(String, ParamValue)],
    ) -> Result<String, StoreError> {
        let query = self.get(qualified)?;
        let bindings = bind(query, values)?;
        Ok(render(query, &bindings, self.environment.dialect())?)
    }
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, sorted so that loading order
/// (and so which duplicate wins) does not depend on the file system.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| StoreError::Io {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| StoreError::Io {
                    path: d.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every query file under the folders, for every environment they name: the
/// stores MSTICPy's `QueryStore.import_files` returns.
pub fn import_folders(
    folders: &[PathBuf],
) -> Result<BTreeMap<Environment, QueryStore>, StoreError> {
    let mut stores: BTreeMap<Environment, QueryStore> = BTreeMap::new();
    for folder in folders {
        if !folder.is_dir() {
            return Err(StoreError::NotAFolder {
                path: folder.clone(),
            });
        }
        for file in yaml_files(folder)? {
            let text = std::fs::read_to_string(&file).map_err(|source| StoreError::Io {
                path: file.clone(),
                source,
            })?;
            if let FileContents::Queries(queries) = parse_file(&file, &text)? {
                for q in queries {
                    for env in &q.environments {
                        stores
                            .entry(env.clone())
                            .or_insert_with(|| QueryStore::new(env.clone()))
                            .add_query(q.clone());
                    }
                }
            }
        }
    }
    Ok(stores)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
metadata:
  version: 1
  description: t
  data_environments: [AzureSentinel, Splunk]
  data_families: [Net.Flows]
  tags: [network, beacon]
sources:
  by_ip:
    description: Flows for an IP address
    args: {query: 'T | where SrcIP == "{ip}"'}
    parameters:
      ip: {description: The IP, type: str}
"#;

    #[test]
    fn loads_folders_and_finds_dotted_families() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/net.yaml"), FILE).unwrap();
        std::fs::write(dir.path().join("notes.yaml"), "title: not queries\n").unwrap();
        let store = QueryStore::load(
            Environment::parse("LogAnalytics"),
            &[dir.path().to_path_buf()],
        )
        .unwrap();
        let q = store.get("Net.Flows.by_ip").unwrap();
        assert_eq!(q.name, "by_ip");
        assert_eq!(store.warnings().len(), 1);
        assert!(store.warnings()[0].contains("notes.yaml: skipped"));
        assert_eq!(store.search("BEACON").len(), 1);
        assert_eq!(store.search("flows for").len(), 1);
        assert!(store
            .search("logon")
            .iter()
            .all(|(n, _)| n != "Net.Flows.by_ip"));
        let text = store
            .render("Net.Flows.by_ip", &[("ip".into(), "10.1.1.1".into())])
            .unwrap();
        assert_eq!(text, r#"T | where SrcIP == "10.1.1.1""#);

        let err = store.get("Flows.by_ip").unwrap_err().to_string();
        assert!(err.contains("did you mean Net.Flows.by_ip?"), "{err}");

        let other = QueryStore::load(Environment::Kusto, &[dir.path().to_path_buf()]).unwrap();
        assert!(other.get("Net.Flows.by_ip").is_err(), "not a Kusto query");
    }

    #[test]
    fn a_broken_file_stops_loading_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.yaml"),
            FILE.replace("{ip}", "{ipaddr}"),
        )
        .unwrap();
        let err =
            QueryStore::load(Environment::MSSentinel, &[dir.path().to_path_buf()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("bad.yaml: query 'by_ip', parameter 'ipaddr'"),
            "{err}"
        );
        let err =
            QueryStore::load(Environment::MSSentinel, &[dir.path().join("nope")]).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
    }
}
