//! Security data acquisition: query templates in MSTICPy's YAML format, the built-in
//! query library, and drivers that run them.
//!
//! - [`template`] reads a query file into [`QuerySource`]s (metadata, parameters with
//!   their types and defaults, the query text split into literals and placeholders) and
//!   checks it: an undeclared `{param}`, an unknown type or a bad default is an error
//!   naming file, query and parameter.
//! - [`QueryStore`] holds one [`Environment`]'s queries by family and name, from the
//!   built-in library (`queries/`, compiled in) and from custom folders.
//! - [`render`] fills a query with values: defaults, aliases, each type written the
//!   way the environment's language reads it, and every caller value kept a literal.
//! - A [`Driver`] runs a rendered query and returns an Arrow [`huntbook_table::Table`];
//!   [`QueryProvider`] pairs one with its environment's store, so that
//!   `provider.run("SecurityAlert.list_alerts", values)` is the Python
//!   `qp.SecurityAlert.list_alerts(start=..., end=...)`. The local drivers are
//!   [`LocalData`] (CSV, JSON lines and Parquet files, each parameter filtering the
//!   column its query names), [`OsQueryLogs`] and [`VelociraptorLogs`].
//! - [`sample`] writes a seeded sample SOC dataset that the LocalData library reads.
//!
//! ```
//! use huntbook_data::{Environment, QueryStore, ParamValue};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("q.yaml"), r#"
//! metadata:
//!   version: 1
//!   description: Logons
//!   data_environments: [LogAnalytics]
//!   data_families: [WindowsSecurity]
//! sources:
//!   list_host_logons:
//!     description: Logons on a host
//!     args:
//!       query: 'SecurityEvent | where EventID == 4624 | where Computer == "{host_name}"'
//!     parameters:
//!       host_name: {description: Host, type: str, aliases: hostname}
//! "#).unwrap();
//! let store = QueryStore::load(Environment::parse("AzureSentinel"), &[dir.path().into()]).unwrap();
//! let text = store
//!     .render("WindowsSecurity.list_host_logons", &[("hostname".into(), ParamValue::from("web\"01"))])
//!     .unwrap();
//! assert_eq!(text, r#"SecurityEvent | where EventID == 4624 | where Computer == "web\"01""#);
//! ```

pub mod driver;
pub mod environment;
mod library;
pub mod local;
pub mod osquery;
pub mod remote;
pub mod render;
pub mod sample;
pub mod store;
pub mod template;
pub mod velociraptor;
mod yaml;

pub use driver::{
    local_driver, Driver, DriverError, QueryProvider, QueryRequest, TableColumns,
    DEFAULT_CONNECTION,
};
pub use environment::{Dialect, Environment};
pub use local::LocalData;
pub use osquery::OsQueryLogs;
pub use render::{ParamValue, RenderError};
pub use store::{import_folders, QueryStore, StoreError};
pub use template::{ParamSpec, ParamType, QuerySource, TemplateError};
pub use velociraptor::VelociraptorLogs;
