//! The Sentinel management API client for the Python package: `_SentinelClient`
//! wraps a `huntbook_sentinel::SentinelClient` and runs each call to the end on a
//! shared tokio runtime with the GIL released. Python receives the API's objects as
//! dicts and lists (`json.loads` shapes); `huntbook.MicrosoftSentinel` makes
//! DataFrames of them.
//!
//! Objects going in (watchlist items, incident changes) cross as JSON text, which
//! Python's `json` writes from any pandas value and which names a bad field here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use huntbook_core::config::{Config, ConfigSearch, Workspace};
use huntbook_sentinel::{
    BookmarkProperties, IncidentProperties, IncidentQuery, SentinelClient,
    SentinelError as RustError, Severity, Status, WatchlistProperties,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::azure;
use crate::notebooks::to_py;

pyo3::create_exception!(
    huntbook,
    SentinelError,
    PyRuntimeError,
    "A Microsoft Sentinel management API call failed: refused credentials, throttling, a service error."
);
pyo3::create_exception!(
    huntbook,
    SentinelNotFoundError,
    SentinelError,
    "The incident, bookmark or watchlist named does not exist in the workspace."
);
pyo3::create_exception!(
    huntbook,
    SentinelConflictError,
    SentinelError,
    "The object changed since it was read (its etag no longer matches): get it again."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SentinelError", py.get_type::<SentinelError>())?;
    m.add(
        "SentinelNotFoundError",
        py.get_type::<SentinelNotFoundError>(),
    )?;
    m.add(
        "SentinelConflictError",
        py.get_type::<SentinelConflictError>(),
    )?;
    m.add_class::<PySentinel>()?;
    Ok(())
}

/// One runtime for every client: calls block the calling thread (with the GIL
/// released) while the runtime's worker drives the connections.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("huntbook-sentinel")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

fn to_py_err(e: RustError) -> PyErr {
    let message = e.to_string();
    match e {
        RustError::NotFound { .. } => SentinelNotFoundError::new_err(message),
        RustError::Conflict { .. } => SentinelConflictError::new_err(message),
        RustError::MissingSetting { .. }
        | RustError::Invalid { .. }
        | RustError::BadChange { .. }
        | RustError::ItemExists { .. } => PyValueError::new_err(message),
        _ => SentinelError::new_err(message),
    }
}

/// The workspace from `settings` (MSTICPy's keys) or from the configuration files.
fn workspace(
    name: Option<&str>,
    config: Option<PathBuf>,
    settings: Option<HashMap<String, String>>,
) -> PyResult<Workspace> {
    if let Some(settings) = settings {
        let get = |key: &str| settings.get(key).cloned();
        return Ok(Workspace {
            name: name.unwrap_or("Default").to_string(),
            workspace_id: get("WorkspaceId").unwrap_or_default(),
            tenant_id: get("TenantId").unwrap_or_default(),
            subscription_id: get("SubscriptionId"),
            resource_group: get("ResourceGroup"),
            workspace_name: get("WorkspaceName"),
        });
    }
    let mut search = ConfigSearch::from_process();
    if let Some(path) = config {
        let is_msticpy = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("msticpy"));
        if is_msticpy {
            search.msticpy_file = Some(path);
        } else {
            search.huntbook_file = Some(path);
        }
    }
    let config = Config::load(&search).map_err(|e| PyValueError::new_err(e.to_string()))?;
    config
        .workspace(name)
        .map_err(|problem| PyValueError::new_err(problem.to_string()))
}

fn parse_json(what: &str, text: &str) -> PyResult<Value> {
    serde_json::from_str(text)
        .map_err(|e| PyValueError::new_err(format!("{what} is not valid JSON: {e}")))
}

fn objects(what: &str, text: &str) -> PyResult<Vec<Map<String, Value>>> {
    match parse_json(what, text)? {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(map),
                other => Err(PyValueError::new_err(format!(
                    "{what}: item {i} is {other}, not a mapping of column to value"
                ))),
            })
            .collect(),
        _ => Err(PyValueError::new_err(format!("{what} must be a list"))),
    }
}

/// Writes severity and status as the API spells them, whatever case they came in.
fn canonical_changes(mut changes: Map<String, Value>) -> PyResult<Map<String, Value>> {
    if let Some(Value::String(s)) = changes.get("severity") {
        let severity: Severity = s.parse().map_err(to_py_err)?;
        changes.insert("severity".into(), Value::from(severity.as_str()));
    }
    if let Some(Value::String(s)) = changes.get("status") {
        let status: Status = s.parse().map_err(to_py_err)?;
        changes.insert("status".into(), Value::from(status.as_str()));
    }
    Ok(changes)
}

#[pyclass(name = "_SentinelClient", module = "huntbook._huntbook", frozen)]
struct PySentinel {
    client: Arc<SentinelClient>,
}

impl PySentinel {
    /// Runs `call` on the client with the GIL released and returns its result as
    /// Python objects.
    fn run<'py, T, F, Fut>(&self, py: Python<'py>, call: F) -> PyResult<Bound<'py, PyAny>>
    where
        T: Serialize,
        F: FnOnce(Arc<SentinelClient>) -> Fut + Send,
        Fut: std::future::Future<Output = Result<T, RustError>>,
        T: Send,
    {
        let runtime = runtime()?;
        let client = self.client.clone();
        let value = py
            .detach(|| {
                runtime
                    .block_on(call(client))
                    .map(|result| serde_json::to_value(result).expect("API objects serialise"))
            })
            .map_err(to_py_err)?;
        to_py(py, &value)
    }
}

#[pymethods]
impl PySentinel {
    /// Connects to a workspace: `settings` (MSTICPy's `SubscriptionId`,
    /// `ResourceGroup`, `WorkspaceName`, `TenantId`) or the workspace `workspace`
    /// (default `Default`) of the configuration (`config` names a file).
    #[new]
    #[pyo3(signature = (workspace=None, config=None, settings=None, base_url=None, credential=None))]
    fn new(
        workspace: Option<&str>,
        config: Option<PathBuf>,
        settings: Option<HashMap<String, String>>,
        base_url: Option<&str>,
        credential: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PySentinel> {
        let workspace = self::workspace(workspace, config, settings)?;
        let tokens = azure::credential(credential, &workspace.tenant_id)?;
        let client = SentinelClient::new(&workspace, tokens, base_url).map_err(to_py_err)?;
        Ok(PySentinel {
            client: Arc::new(client),
        })
    }

    /// The workspace's resource path parts, as a dict.
    fn workspace<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let path = self.client.workspace();
        let value = serde_json::json!({
            "SubscriptionId": path.subscription_id,
            "ResourceGroup": path.resource_group,
            "WorkspaceName": path.workspace_name,
        });
        to_py(py, &value)
    }

    #[pyo3(signature = (filter=None, orderby=None, top=None))]
    fn list_incidents<'py>(
        &self,
        py: Python<'py>,
        filter: Option<String>,
        orderby: Option<String>,
        top: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = IncidentQuery {
            filter,
            orderby,
            top,
        };
        self.run(py, |c| async move { c.list_incidents(&query).await })
    }

    fn get_incident<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.get_incident(&id).await })
    }

    #[pyo3(signature = (title, severity, status, description=None, labels=Vec::new(), first_activity_time=None, last_activity_time=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_incident<'py>(
        &self,
        py: Python<'py>,
        title: String,
        severity: &str,
        status: &str,
        description: Option<String>,
        labels: Vec<String>,
        first_activity_time: Option<String>,
        last_activity_time: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut properties = IncidentProperties::new(title, severity.parse().map_err(to_py_err)?)
            .with_labels(labels);
        properties.status = status.parse().map_err(to_py_err)?;
        properties.description = description;
        properties.first_activity_time_utc = first_activity_time;
        properties.last_activity_time_utc = last_activity_time;
        self.run(py, |c| async move { c.create_incident(&properties).await })
    }

    /// Applies `changes_json` (API property names) to the incident as read now and
    /// saves it with the etag read.
    fn update_incident<'py>(
        &self,
        py: Python<'py>,
        id: String,
        changes_json: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Value::Object(changes) = parse_json("the incident changes", changes_json)? else {
            return Err(PyValueError::new_err(
                "the incident changes must be a mapping of property name to value",
            ));
        };
        let changes = canonical_changes(changes)?;
        self.run(py, |c| async move {
            let mut incident = c.get_incident(&id).await?;
            incident.properties.apply_json(&changes)?;
            c.save_incident(&incident).await
        })
    }

    fn list_comments<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.list_comments(&id).await })
    }

    fn post_comment<'py>(
        &self,
        py: Python<'py>,
        id: String,
        message: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.post_comment(&id, &message).await })
    }

    fn incident_alerts<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.incident_alerts(&id).await })
    }

    /// The incident's entities in `Entities` JSON form (`Type`, `$id`, Sentinel's
    /// property names), as alerts carry them.
    fn incident_entities<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move {
            Ok(c.incident_entities(&id).await?.to_json())
        })
    }

    fn list_bookmarks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.list_bookmarks().await })
    }

    #[pyo3(signature = (name, query, results=None, notes=None, labels=Vec::new()))]
    fn create_bookmark<'py>(
        &self,
        py: Python<'py>,
        name: String,
        query: String,
        results: Option<String>,
        notes: Option<String>,
        labels: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut properties = BookmarkProperties::new(name, query);
        properties.query_result = results;
        properties.notes = notes;
        properties.labels = labels;
        self.run(py, |c| async move { c.create_bookmark(&properties).await })
    }

    fn delete_bookmark<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.delete_bookmark(&id).await })
    }

    fn list_watchlists<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.list_watchlists().await })
    }

    #[pyo3(signature = (alias, description, search_key, provider, source, csv=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_watchlist<'py>(
        &self,
        py: Python<'py>,
        alias: String,
        description: String,
        search_key: String,
        provider: String,
        source: String,
        csv: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut properties = WatchlistProperties::new(alias.clone(), provider, search_key);
        properties.description = Some(description);
        properties.source = Some(source);
        if let Some(csv) = csv {
            properties = properties.with_csv(csv);
        }
        self.run(py, |c| async move {
            c.create_watchlist(&alias, &properties).await
        })
    }

    fn delete_watchlist<'py>(&self, py: Python<'py>, alias: String) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.delete_watchlist(&alias).await })
    }

    fn list_watchlist_items<'py>(
        &self,
        py: Python<'py>,
        alias: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, |c| async move { c.list_watchlist_items(&alias).await })
    }

    /// Adds the items of `items_json` (a list of column-to-value mappings).
    fn add_watchlist_items<'py>(
        &self,
        py: Python<'py>,
        alias: String,
        items_json: &str,
        overwrite: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let items = objects("the watchlist items", items_json)?;
        self.run(py, |c| async move {
            c.add_watchlist_items(&alias, &items, overwrite).await
        })
    }
}
