//! The [`Driver`] seam: what runs a rendered query against a data environment, and
//! [`QueryProvider`], which pairs a driver with the store of its environment's queries.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};
use huntbook_core::time::{Period, TimeSpan};
use huntbook_table::Table;

use crate::environment::Environment;
use crate::render::{bind, convert, render, Bindings, ParamValue, RenderError};
use crate::store::{QueryStore, StoreError};
use crate::template::{ParamType, QuerySource};

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

    /// The tables the driver queries and their columns, as MSTICPy's
    /// `QueryProvider.schema` lists them; empty when the service does not say.
    fn schema(&self) -> Result<Vec<TableColumns>, DriverError> {
        Ok(Vec::new())
    }
}

/// A table and its columns' names and types (in the service's words: Kusto's
/// `datetime`, `string`, `long`...; for local files, the same words for their types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumns {
    pub table: String,
    pub columns: Vec<(String, String)>,
}

/// The driver of a local environment (LocalData, OSQueryLogs, VelociraptorLogs)
/// over the data in `folders`, or `None` for environments whose queries run on a
/// remote service.
pub fn local_driver(
    environment: &Environment,
    folders: &[std::path::PathBuf],
) -> Result<Option<Box<dyn Driver>>, DriverError> {
    Ok(Some(match environment {
        Environment::LocalData => Box::new(crate::LocalData::new(folders.to_vec())?),
        Environment::OSQueryLogs => Box::new(crate::OsQueryLogs::new(folders)?),
        Environment::VelociraptorLogs => Box::new(crate::VelociraptorLogs::new(folders)?),
        _ => return Ok(None),
    }))
}

/// How many slices of a split query run at once: enough to overlap the waits of a
/// remote service, few enough not to trip its rate limits.
pub const SPLIT_CONCURRENCY: usize = 4;

/// An environment's queries and the connections that run them:
/// `provider.run("SecurityAlert.list_alerts", ...)`. This is what the Python
/// `QueryProvider` is a face for: its attribute path `qp.SecurityAlert.list_alerts` is
/// the store's family and query name.
///
/// A provider starts unconnected (its queries can be listed and rendered) and runs
/// them once [`connect`](QueryProvider::connect)ed. Further connections
/// ([`add_connection`](QueryProvider::add_connection): another workspace, another
/// cluster) run every query too, and their rows are joined, as MSTICPy does.
pub struct QueryProvider {
    store: QueryStore,
    /// The first is the default connection; each has an alias.
    connections: Vec<(String, Box<dyn Driver>)>,
}

/// The alias of the connection made by [`QueryProvider::connect`].
pub const DEFAULT_CONNECTION: &str = "Default";

impl QueryProvider {
    /// The built-in queries of `environment` and those in `query_paths`; not connected.
    pub fn new(
        environment: Environment,
        query_paths: &[std::path::PathBuf],
    ) -> Result<QueryProvider, StoreError> {
        Ok(QueryProvider {
            store: QueryStore::load(environment, query_paths)?,
            connections: Vec::new(),
        })
    }

    /// A provider connected through `driver`, with its environment's queries, those in
    /// `query_paths` and the driver's own.
    pub fn connected(
        driver: Box<dyn Driver>,
        query_paths: &[std::path::PathBuf],
    ) -> Result<QueryProvider, StoreError> {
        let mut provider = QueryProvider::new(driver.environment(), query_paths)?;
        provider.connect(driver)?;
        Ok(provider)
    }

    /// Runs queries through `driver` from now on, in place of any earlier
    /// connections, and adds the queries the driver offers itself.
    pub fn connect(&mut self, driver: Box<dyn Driver>) -> Result<(), StoreError> {
        self.check_environment(driver.as_ref())?;
        for q in driver.driver_queries()? {
            self.store.add_query(q);
        }
        self.connections = vec![(DEFAULT_CONNECTION.to_string(), driver)];
        Ok(())
    }

    /// Runs every query through `driver` as well, under `alias`.
    pub fn add_connection(
        &mut self,
        alias: &str,
        driver: Box<dyn Driver>,
    ) -> Result<(), StoreError> {
        self.check_environment(driver.as_ref())?;
        if self.connections.is_empty() {
            return Err(DriverError::Other(
                "connect first; add_connection adds to a connection".into(),
            )
            .into());
        }
        if self.connections.iter().any(|(a, _)| a == alias) {
            return Err(DriverError::Other(format!(
                "there is already a connection called {alias:?}"
            ))
            .into());
        }
        self.connections.push((alias.to_string(), driver));
        Ok(())
    }

    /// The default connection's tables and columns.
    pub fn schema(&self) -> Result<Vec<TableColumns>, StoreError> {
        match self.connections.first() {
            Some((_, driver)) => Ok(driver.schema()?),
            None => Err(DriverError::Other(
                "not connected; call connect() to see the schema".into(),
            )
            .into()),
        }
    }

    /// The aliases of the connections, the default first.
    pub fn connections(&self) -> Vec<&str> {
        self.connections.iter().map(|(a, _)| a.as_str()).collect()
    }

    fn check_environment(&self, driver: &dyn Driver) -> Result<(), StoreError> {
        let (mine, its) = (self.store.environment(), driver.environment());
        if *mine != its {
            return Err(
                DriverError::Other(format!("a {its} driver cannot run {mine} queries")).into(),
            );
        }
        Ok(())
    }

    /// Runs `request` on every connection (at once when there are several) and joins
    /// the rows.
    fn run_everywhere(&self, request: &QueryRequest<'_>) -> Result<Table, StoreError> {
        match self.connections.as_slice() {
            [] => Err(DriverError::Other(format!(
                "not connected; call connect() before running {}",
                request.source.name
            ))
            .into()),
            [(_, driver)] => Ok(driver.run(request)?),
            several => {
                let tables = std::thread::scope(|scope| {
                    let running: Vec<_> = several
                        .iter()
                        .map(|(alias, driver)| {
                            scope.spawn(move || {
                                driver.run(request).map_err(|e| {
                                    DriverError::Other(format!("connection {alias}: {e}"))
                                })
                            })
                        })
                        .collect();
                    running
                        .into_iter()
                        .map(|t| t.join().expect("a connection's query panicked"))
                        .collect::<Result<Vec<_>, _>>()
                })?;
                Table::union(tables).map_err(|e| DriverError::Other(e.to_string()).into())
            }
        }
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

    /// Runs query `qualified` once per `period` slice of its `start`..`end` range,
    /// at most [`SPLIT_CONCURRENCY`] slices at a time, and joins the rows in time
    /// order: MSTICPy's `split_query_by`. Each slice but the last ends 1 ns before the
    /// next begins, as MSTICPy does, so a row on a boundary is returned once.
    /// `progress(done, total)` is called as slices finish.
    pub fn run_split(
        &self,
        qualified: &str,
        values: &[(String, ParamValue)],
        period: Period,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Table, StoreError> {
        let source = self.store.get(qualified)?;
        let time_of = |param: &str| -> Result<(String, DateTime<Utc>), StoreError> {
            let bad = |message: String| RenderError::BadValue {
                query: qualified.to_string(),
                param: param.to_string(),
                message,
            };
            let spec = source
                .param(param)
                .filter(|p| p.kind == ParamType::Datetime)
                .ok_or_else(|| {
                    bad("splitting by time needs a datetime parameter of this name".into())
                })?;
            let given = values
                .iter()
                .find(|(name, _)| *name == spec.name || spec.aliases.contains(name))
                .ok_or_else(|| bad("give it a value to split the query by time".into()))?;
            match convert(spec, given.1.clone()).map_err(bad)? {
                ParamValue::Time(t) => Ok((given.0.clone(), t)),
                other => Err(bad(format!("expected a time, got {other:?}")).into()),
            }
        };
        let (start_name, start) = time_of("start")?;
        let (end_name, end) = time_of("end")?;
        let span = TimeSpan::new(start, end).map_err(|e| RenderError::BadValue {
            query: qualified.to_string(),
            param: "start".into(),
            message: e.to_string(),
        })?;
        let slices: Vec<TimeSpan> = span.split(period).collect();
        let last = slices.len() - 1;
        let slice_values = |k: usize| {
            let slice_end = if k == last {
                slices[k].end()
            } else {
                slices[k].end() - TimeDelta::nanoseconds(1)
            };
            values
                .iter()
                .map(|(name, v)| match name {
                    n if *n == start_name => (n.clone(), ParamValue::Time(slices[k].start())),
                    n if *n == end_name => (n.clone(), ParamValue::Time(slice_end)),
                    _ => (name.clone(), v.clone()),
                })
                .collect::<Vec<_>>()
        };
        let (done, total) = (AtomicUsize::new(0), slices.len());
        let mut tables = Vec::with_capacity(slices.len());
        for chunk in (0..total).collect::<Vec<_>>().chunks(SPLIT_CONCURRENCY) {
            let results: Vec<Result<Table, StoreError>> = std::thread::scope(|scope| {
                let running: Vec<_> = chunk
                    .iter()
                    .map(|&k| {
                        let slice = slice_values(k);
                        let done = &done;
                        scope.spawn(move || {
                            let result = self.run(qualified, &slice);
                            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                            result
                        })
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|t| t.join().expect("a query slice panicked"))
                    .collect()
            });
            for table in results {
                tables.push(table?);
            }
        }
        Table::union(tables).map_err(|e| DriverError::Other(e.to_string()).into())
    }

    /// Runs a query written in the environment's own terms (for local data, a file
    /// name) rather than from a template: MSTICPy's `exec_query`.
    pub fn exec(&self, text: &str) -> Result<Table, StoreError> {
        let environment = self.store.environment().clone();
        let source = QuerySource::from_driver(
            environment,
            "exec",
            "exec_query",
            String::new(),
            text,
            Vec::new(),
        )
        .map_err(|message| StoreError::from(DriverError::Other(message)))?;
        self.run_everywhere(&QueryRequest {
            source: &source,
            bindings: &Bindings::new(),
            text,
        })
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
        self.run_everywhere(&QueryRequest {
            source,
            bindings: &bindings,
            text: &text,
        })
    }
}
