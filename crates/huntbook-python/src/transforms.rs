//! The security transforms (`huntbook_transform`) over Arrow batches: IoC extraction,
//! base64 unpacking, process trees, auditd parsing, command-line rules and masking. Tables come in and go
//! out as Arrow batches (see `arrow.rs`); the `huntbook` package converts them from and
//! to pandas. The work runs with the GIL released.
use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow_array::RecordBatch;
use huntbook_transform::auditd::{self, AuditdOptions, ParseWarning};
use huntbook_transform::cmdline;
use huntbook_transform::ioc::{self, CustomIocType, ExtractOptions};
use huntbook_transform::mask::{self, MaskOptions, MaskType};
use huntbook_transform::proctree::{self, generate, ProcSchema, TextOptions};
use huntbook_transform::unpack::{self, UnpackOptions, Utf16Mode};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::arrow::{batch_from_py, PyBatch};

pub(crate) fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Reads `batch`, runs a table transform on it with the GIL released, and hands the
/// resulting table back.
pub(crate) fn on_batch<E: std::fmt::Display + Send>(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    transform: impl FnOnce(&RecordBatch) -> Result<RecordBatch, E> + Send,
) -> PyResult<PyBatch> {
    let batch = batch_from_py(batch)?;
    py.detach(|| transform(&batch))
        .map(PyBatch::from)
        .map_err(value_error)
}

#[pyfunction]
#[pyo3(signature = (batch, columns, ioc_types=None, include_paths=false, ignore_tlds=false, defanged=true, refang=false, custom_types=Vec::new()))]
#[allow(clippy::too_many_arguments)]
fn extract_iocs(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    columns: Vec<String>,
    ioc_types: Option<Vec<String>>,
    include_paths: bool,
    ignore_tlds: bool,
    defanged: bool,
    refang: bool,
    custom_types: Vec<(String, String, u32)>,
) -> PyResult<PyBatch> {
    let opts = ExtractOptions {
        ioc_types,
        include_paths,
        ignore_tlds,
        defanged,
        refang,
        custom_types: custom_types
            .into_iter()
            .map(|(name, regex, priority)| CustomIocType::new(name, regex, priority))
            .collect(),
    };
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    // Python fills MSTICPy's `Input` column with the DataFrame's own cells.
    on_batch(py, batch, |b| ioc::find_iocs(b, &columns, &opts))
}

/// The type of one observable (`None` when it is none of the known types).
#[pyfunction]
fn ioc_type(value: &str) -> Option<String> {
    ioc::ioc_type(value).map(|t| t.name().to_string())
}

/// Whether the whole of `value` is a valid indicator of type `ioc_type`.
#[pyfunction]
#[pyo3(name = "validate_ioc")]
fn validate(value: &str, ioc_type: &str) -> PyResult<bool> {
    let t = ioc::IocType::from_name(ioc_type).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown IoC type '{ioc_type}'; use one of {}",
            ioc::BUILTIN_TYPES.map(|t| t.name().to_string()).join(", ")
        ))
    })?;
    Ok(ioc::validate(value, &t))
}

/// md5_hash, sha1_hash or sha256_hash from the length of a hex string.
#[pyfunction]
fn file_hash_type(value: &str) -> Option<String> {
    ioc::file_hash_type(value).map(|t| t.name().to_string())
}

#[pyfunction]
#[pyo3(signature = (batch, column, utf16=None, msticpy_compatible=false, max_depth=20))]
fn unpack_base64(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    column: &str,
    utf16: Option<bool>,
    msticpy_compatible: bool,
    max_depth: usize,
) -> PyResult<PyBatch> {
    let mut opts = if msticpy_compatible {
        UnpackOptions::msticpy()
    } else {
        UnpackOptions::default()
    };
    opts.utf16 = match utf16 {
        None => opts.utf16,
        Some(true) => Utf16Mode::Always,
        Some(false) => Utf16Mode::Never,
    };
    opts.max_recursion = max_depth;
    on_batch(py, batch, |b| unpack::unpack_base64(b, column, &opts))
}

/// A built process tree: the table and the navigation index over its rows.
#[pyclass(name = "ProcessTree", module = "huntbook._huntbook", frozen)]
struct PyProcessTree {
    tree: proctree::ProcessTree,
}

pub(crate) fn schema_from_py(schema: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ProcSchema>> {
    let Some(schema) = schema else {
        return Ok(None);
    };
    if let Ok(name) = schema.extract::<String>() {
        return ProcSchema::by_name(&name).map(Some).map_err(value_error);
    }
    if let Ok(map) = schema.cast::<PyDict>() {
        let map: BTreeMap<String, String> = map.extract()?;
        return ProcSchema::from_map(&map).map(Some).map_err(value_error);
    }
    Err(PyValueError::new_err(
        "schema must be a built-in schema name (e.g. 'sysmon') or a dict of column names",
    ))
}

/// The columns the tree builder reads from a table with these `columns` (the schema's
/// linking columns that are present): the rest need not be converted.
#[pyfunction]
#[pyo3(signature = (columns, schema=None))]
fn process_tree_reads(
    columns: Vec<String>,
    schema: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<String>> {
    let schema = proctree::schema_for(
        schema_from_py(schema)?.as_ref(),
        columns.iter().map(String::as_str),
    )
    .map_err(value_error)?;
    let reads = schema.reads();
    Ok(columns
        .into_iter()
        .filter(|c| reads.contains(&c.as_str()))
        .collect())
}

/// Build a tree from `batch`. `others`, when given, is called with a list of input rows
/// and returns the input columns missing from `batch` at those rows (a batch): only rows
/// that may be duplicates are asked for.
#[pyfunction]
#[pyo3(signature = (batch, schema=None, others=None))]
fn build_process_tree(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    schema: Option<&Bound<'_, PyAny>>,
    others: Option<Py<PyAny>>,
) -> PyResult<PyProcessTree> {
    let batch = batch_from_py(batch)?;
    let schema = schema_from_py(schema)?;
    let fetch = |rows: &[u32]| -> Result<RecordBatch, proctree::ProcTreeError> {
        let fetch_error = |e: PyErr| proctree::ProcTreeError::Arrow {
            detail: format!("reading the other columns: {e}"),
        };
        Python::attach(|py| {
            let f = others.as_ref().expect("only called when given");
            let batch = f.call1(py, (rows.to_vec(),)).map_err(fetch_error)?;
            batch_from_py(batch.bind(py)).map_err(fetch_error)
        })
    };
    let tree = py
        .detach(|| {
            let others = others
                .is_some()
                .then_some(&fetch as proctree::OtherColumns<'_>);
            proctree::build_process_tree_with(&batch, schema.as_ref(), others)
        })
        .map_err(value_error)?;
    Ok(PyProcessTree { tree })
}

fn tree_error(e: proctree::ProcTreeError) -> PyErr {
    match e {
        proctree::ProcTreeError::UnknownProcess { .. } => PyKeyError::new_err(e.to_string()),
        other => value_error(other),
    }
}

#[pymethods]
impl PyProcessTree {
    /// The tree table (MSTICPy's columns, `proc_key` first, sorted by path).
    fn table(&self) -> PyBatch {
        PyBatch::from(self.tree.batch().clone())
    }

    /// The input row behind each row of the table, -1 for an inferred parent (an Arrow
    /// batch with one int64 column, `source`).
    fn source(&self) -> PyResult<PyBatch> {
        let rows: arrow_array::Int64Array = self
            .tree
            .source_rows()
            .iter()
            .map(|r| Some(r.map_or(-1, i64::from)))
            .collect();
        RecordBatch::try_from_iter([("source", std::sync::Arc::new(rows) as arrow_array::ArrayRef)])
            .map(PyBatch::from)
            .map_err(value_error)
    }

    /// The columns MSTICPy adds, in its order.
    fn added_columns(&self) -> Vec<String> {
        self.tree.added_columns()
    }

    /// The columns the text rendering shows that the table lacks.
    fn text_columns_missing(&self) -> Vec<String> {
        self.tree.text_columns_missing()
    }

    /// The name of the schema used (inferred or given).
    #[getter]
    fn schema_name(&self) -> String {
        self.tree.schema().name.clone()
    }

    fn roots(&self) -> Vec<usize> {
        self.tree.roots()
    }

    fn parent(&self, row: usize) -> Option<usize> {
        self.tree.parent(row)
    }

    fn children(&self, row: usize, include_source: bool) -> PyResult<Vec<usize>> {
        self.tree.children(row, include_source).map_err(tree_error)
    }

    #[pyo3(signature = (row, include_source, max_levels=None))]
    fn descendants(
        &self,
        row: usize,
        include_source: bool,
        max_levels: Option<usize>,
    ) -> PyResult<Vec<usize>> {
        self.tree
            .descendants(row, include_source, max_levels)
            .map_err(tree_error)
    }

    fn ancestors(&self, row: usize, include_source: bool) -> PyResult<Vec<usize>> {
        self.tree.ancestors(row, include_source).map_err(tree_error)
    }

    fn siblings(&self, row: usize, include_source: bool) -> PyResult<Vec<usize>> {
        self.tree.siblings(row, include_source).map_err(tree_error)
    }

    fn root_of(&self, row: usize) -> PyResult<usize> {
        self.tree.root_of(row).map_err(tree_error)
    }

    fn root_tree(&self, row: usize) -> PyResult<Vec<usize>> {
        self.tree.root_tree(row).map_err(tree_error)
    }

    /// Rows matching a key query (`proc_key`, `name|pid`, `name|pid|time-prefix`).
    fn find(&self, query: &str) -> PyResult<Vec<usize>> {
        self.tree.find_one(query).map_err(tree_error)
    }

    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.tree.summary();
        let d = PyDict::new(py);
        d.set_item("Processes", s.processes)?;
        d.set_item("RootProcesses", s.root_processes)?;
        d.set_item("LeafProcesses", s.leaf_processes)?;
        d.set_item("BranchProcesses", s.branch_processes)?;
        d.set_item("IsolatedProcesses", s.isolated_processes)?;
        d.set_item("LargestTreeDepth", s.largest_tree_depth)?;
        Ok(d)
    }

    /// `more`: a batch of the columns the table lacks, a row for each of its rows.
    #[pyo3(signature = (rows=None, wrap=80, details=true, more=None))]
    fn to_text(
        &self,
        rows: Option<Vec<usize>>,
        wrap: usize,
        details: bool,
        more: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let more = more.map(batch_from_py).transpose()?;
        if let Some(m) = &more {
            if m.num_rows() != self.tree.len() {
                return Err(PyValueError::new_err(format!(
                    "the extra columns have {} rows; the tree has {}",
                    m.num_rows(),
                    self.tree.len()
                )));
            }
        }
        if let Some(bad) = rows.iter().flatten().find(|&&r| r >= self.tree.len()) {
            return Err(PyKeyError::new_err(format!(
                "row {bad} is not in the tree ({} rows)",
                self.tree.len()
            )));
        }
        Ok(self.tree.to_text_with(
            rows.as_deref(),
            &TextOptions { wrap, details },
            more.as_ref(),
        ))
    }

    fn __len__(&self) -> usize {
        self.tree.len()
    }
}

fn warnings_out(warnings: Vec<ParseWarning>) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

/// Raw audit log file → (event table, warnings naming the skipped lines).
#[pyfunction]
#[pyo3(signature = (path, event_type=None, all_fields=false))]
fn parse_auditd_file(
    py: Python<'_>,
    path: PathBuf,
    event_type: Option<String>,
    all_fields: bool,
) -> PyResult<(PyBatch, Vec<String>)> {
    let opts = AuditdOptions {
        all_fields,
        event_type,
    };
    let (batch, warnings) = py
        .detach(|| auditd::parse_file(&path, &opts))
        .map_err(value_error)?;
    Ok((PyBatch::from(batch), warnings_out(warnings)))
}

/// Sentinel `AuditLog`-style rows → (event table, warnings naming the skipped rows).
#[pyfunction]
#[pyo3(signature = (batch, input_column, event_type=None, all_fields=false))]
fn parse_auditd_table(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    input_column: &str,
    event_type: Option<String>,
    all_fields: bool,
) -> PyResult<(PyBatch, Vec<String>)> {
    let batch = batch_from_py(batch)?;
    let opts = AuditdOptions {
        all_fields,
        event_type,
    };
    let (batch, warnings) = py
        .detach(|| auditd::extract_events(&batch, input_column, &opts))
        .map_err(value_error)?;
    Ok((PyBatch::from(batch), warnings_out(warnings)))
}

#[pyfunction]
#[pyo3(name = "mask", signature = (batch, key, columns=BTreeMap::new(), use_default=true))]
fn mask_table(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    key: Vec<u8>,
    columns: BTreeMap<String, String>,
    use_default: bool,
) -> PyResult<PyBatch> {
    let mut opts = MaskOptions::new(key);
    opts.use_default = use_default;
    for (column, type_name) in columns {
        let mask_type = MaskType::parse(&type_name).map_err(value_error)?;
        opts = opts.column(column, mask_type);
    }
    on_batch(py, batch, |b| mask::mask(b, &opts))
}

#[pyfunction]
#[pyo3(signature = (batch, cmd_column, time_column, rules_path=None))]
fn risky_commands(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    cmd_column: String,
    time_column: String,
    rules_path: Option<PathBuf>,
) -> PyResult<PyBatch> {
    let loaded = rules_path
        .map(cmdline::RuleSet::from_file)
        .transpose()
        .map_err(value_error)?;
    let opts = cmdline::RiskyOptions {
        cmd_column,
        time_column,
        rules: loaded.as_ref().unwrap_or(cmdline::RuleSet::builtin()),
    };
    on_batch(py, batch, |b| cmdline::risky_commands(b, &opts))
}

#[pyfunction]
#[pyo3(signature = (batch, cmd_column, time_column, session_column, window_seconds, events))]
fn cmd_speed(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    cmd_column: String,
    time_column: String,
    session_column: Option<String>,
    window_seconds: f64,
    events: usize,
) -> PyResult<PyBatch> {
    let opts = cmdline::SpeedOptions {
        cmd_column,
        time_column,
        session_column,
        window_seconds,
        events,
    };
    on_batch(py, batch, |b| cmdline::cmd_speed_table(b, &opts))
}

/// Seeded process events (Windows 4688 or Linux auditd columns), the same for the same
/// arguments on every machine: for tests and benchmarks.
#[pyfunction]
#[pyo3(signature = (events, hosts=4, seed=42, flavour="windows"))]
fn generate_process_events(
    py: Python<'_>,
    events: usize,
    hosts: usize,
    seed: u64,
    flavour: &str,
) -> PyResult<PyBatch> {
    let to_batch = match flavour {
        "windows" => generate::windows_batch,
        "linux" => generate::linux_batch,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown flavour '{other}': use 'windows' or 'linux'"
            )))
        }
    };
    let opts = generate::GenOptions {
        events,
        hosts,
        seed,
        ..generate::GenOptions::default()
    };
    Ok(PyBatch::from(
        py.detach(|| to_batch(&generate::generate(&opts))),
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBatch>()?;
    m.add_class::<PyProcessTree>()?;
    m.add_function(wrap_pyfunction!(extract_iocs, m)?)?;
    m.add_function(wrap_pyfunction!(ioc_type, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(file_hash_type, m)?)?;
    m.add_function(wrap_pyfunction!(unpack_base64, m)?)?;
    m.add_function(wrap_pyfunction!(build_process_tree, m)?)?;
    m.add_function(wrap_pyfunction!(process_tree_reads, m)?)?;
    m.add_function(wrap_pyfunction!(parse_auditd_file, m)?)?;
    m.add_function(wrap_pyfunction!(parse_auditd_table, m)?)?;
    m.add_function(wrap_pyfunction!(mask_table, m)?)?;
    m.add_function(wrap_pyfunction!(risky_commands, m)?)?;
    m.add_function(wrap_pyfunction!(cmd_speed, m)?)?;
    m.add_function(wrap_pyfunction!(generate_process_events, m)?)?;
    Ok(())
}
