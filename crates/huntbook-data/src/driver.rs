//! The [`Driver`] seam: what runs a rendered query against a data environment, and
//! [`QueryProvider`], which pairs a driver with the store of its environment's queries.

use huntbook_table::Table;

use crate::environment::Environment;
use crate::render::{bind, render, Bindings, ParamValue};
use crate::store::{QueryStore, StoreError};
use crate::template::QuerySource;

/// A query ready to run: the template, the values it was bound with, and its text.
/// Remote drivers send the text; local ones read files and filter with the values.
#[derive(Debug)]
pub struct QueryRequest<'a> {
    pub source: &'a QuerySource,
    pub bindings: &'a Bindings,
    pub text: &'a str,
}

/// Why a driver could not run a query.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("query '{query}': {message}")]
    Query { query: String, message: String },
    #[error("{0}")]
    Other(String),
}

/// Runs queries against one data environment and returns the rows as Arrow batches.
pub trait Driver: Send + Sync {
    /// The environment whose queries it runs.
    fn environment(&self) -> Environment;

    /// Queries the driver itself offers, found from the data it connects to (one per
    /// OSQuery table or Velociraptor artifact); none by default.
    fn driver_queries(&self) -> Result<Vec<QuerySource>, DriverError> {
        Ok(Vec::new())
    }

    /// Runs one query.
    fn run(&self, request: &QueryRequest<'_>) -> Result<Table, DriverError>;
}

/// A driver with its environment's queries: `provider.run("SecurityAlert.list_alerts",
/// ...)`. This is what the Python `QueryProvider` is a face for: its attribute path
/// `qp.SecurityAlert.list_alerts` is the store's family and query name.
pub struct QueryProvider {
    store: QueryStore,
    driver: Box<dyn Driver>,
}

impl QueryProvider {
    /// The driver's environment's built-in queries, those in `query_paths`, and the
    /// driver's own.
    pub fn new(
        driver: Box<dyn Driver>,
        query_paths: &[std::path::PathBuf],
    ) -> Result<QueryProvider, StoreError> {
        let mut store = QueryStore::load(driver.environment(), query_paths)?;
        for q in driver.driver_queries()? {
            store.add_query(q);
        }
        Ok(QueryProvider { store, driver })
    }

    pub fn store(&self) -> &QueryStore {
        &self.store
    }

    /// The text query `qualified` would run with `values`.
    pub fn query_text(
        &self,
        qualified: &str,
        values: &[(String, ParamValue)],
    ) -> Result<String, StoreError> {
        self.store.render(qualified, values)
    }

    /// Runs query `qualified` with `values`.
    pub fn run(
        &self,
        qualified: &str,
        values: &[(String, ParamValue)],
    ) -> Result<Table, StoreError> {
        let source = self.store.get(qualified)?;
        let bindings = bind(source, values)?;
        let text = render(source, &bindings, self.store.environment().dialect())?;
        self.driver
            .run(&QueryRequest {
                source,
                bindings: &bindings,
                text: &text,
            })
            .map_err(StoreError::from)
    }
}
