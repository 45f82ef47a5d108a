//! Sessions and polling (`huntbook_analysis`): sessionising events, scoring sessions
//! with a Markov model, and polling (beaconing) detection. Tables cross as Arrow
//! batches (sessions to score are read straight from their Python lists); the work
//! runs with the GIL released.
use foldhash::HashMap;
use huntbook_analysis::markov::{
    self, Command, ScoreOptions, SessionKind, Sessions, SessionsBuilder,
};
use huntbook_analysis::polling;
use huntbook_analysis::sessions::{self, Sessionize};
use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrozenSet, PyList, PySet, PyString, PyTuple};

use crate::arrow::PyBatch;
use crate::transforms::{on_batch, value_error};

#[pyfunction]
#[pyo3(signature = (batch, user_columns, time_column, event_column, max_session_minutes, max_gap_minutes))]
fn sessionize(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    user_columns: Vec<String>,
    time_column: &str,
    event_column: &str,
    max_session_minutes: f64,
    max_gap_minutes: f64,
) -> PyResult<PyBatch> {
    let users: Vec<&str> = user_columns.iter().map(String::as_str).collect();
    let spec = Sessionize {
        user_columns: &users,
        time_column,
        event_column,
        max_session_minutes,
        max_gap_minutes,
    };
    on_batch(py, batch, |b| sessions::sessionize(b, &spec))
}

/// Scores Python sessions as they are, without an Arrow detour: each session is
/// a list (or tuple, or array) of command names or of `Cmd`-like objects (`name`,
/// and `params` as a set of names or a dict of values), read straight into the
/// model's ids. Gives each session's rarest-window likelihood and the window itself,
/// a slice of the session (empty when the session is shorter than a window).
#[pyfunction]
#[pyo3(signature = (sessions, window_length, use_start_end_tokens=true, use_geo_mean=false))]
fn score_sessions<'py>(
    py: Python<'py>,
    sessions: &Bound<'py, PyList>,
    window_length: usize,
    use_start_end_tokens: bool,
    use_geo_mean: bool,
) -> PyResult<(Vec<f64>, Bound<'py, PyList>)> {
    let lists = sessions
        .iter()
        .enumerate()
        .map(|(row, cell)| session_list(&cell, row))
        .collect::<PyResult<Vec<_>>>()?;
    let Some(first) = lists.first() else {
        return Err(PyValueError::new_err(
            "there are no sessions to train the model on",
        ));
    };
    let mut read = SessionReader::new(&first.get_item(0)?)?;
    let sessions = read.sessions(&lists)?;
    let options = ScoreOptions {
        window_length,
        use_start_end_tokens,
        use_geo_mean,
    };
    let windows = py
        .detach(|| markov::rarest_windows_of(&sessions, &options))
        .map_err(value_error)?;
    let slices = lists.iter().zip(&windows).map(|(list, w)| match w.start {
        Some(start) => list.get_slice(start, start + window_length),
        None => PyList::empty(py),
    });
    let slices = PyList::new(py, slices)?;
    Ok((windows.iter().map(|w| w.likelihood).collect(), slices))
}

/// A session cell as a non-empty list: lists as they are, tuples and arrays copied.
fn session_list<'py>(cell: &Bound<'py, PyAny>, row: usize) -> PyResult<Bound<'py, PyList>> {
    let list = if let Ok(list) = cell.cast::<PyList>() {
        Some(list.clone())
    } else if let Ok(tuple) = cell.cast::<PyTuple>() {
        Some(tuple.to_list())
    } else if cell.get_type().name()? == "ndarray" {
        cell.call_method0("tolist")?.cast_into::<PyList>().ok()
    } else {
        None
    };
    match list {
        Some(list) if !list.is_empty() => Ok(list),
        _ => Err(PyValueError::new_err(format!(
            "the session at row {row} is empty or not a list; each session needs at least one command"
        ))),
    }
}

/// Reads sessions of the kind their first command shows into a model's sessions.
struct SessionReader<'py> {
    kind: SessionKind,
    commands: Names<'py>,
    params: Names<'py>,
    values: Names<'py>,
}

/// The ids of names (Python strings). Sessions usually repeat the same string objects,
/// so an id is looked up first by the object; an object not seen before is looked up
/// by its text in a dict (hashed and compared by Python, the hash cached on the
/// string), and each distinct text is read into Rust once.
struct Names<'py> {
    by_object: HashMap<usize, u32>,
    by_text: Bound<'py, PyDict>,
    /// The objects seen, kept alive so that no other object takes their address.
    seen: Vec<Bound<'py, PyAny>>,
}

impl<'py> Names<'py> {
    fn new(py: Python<'py>) -> Self {
        Names {
            by_object: HashMap::default(),
            by_text: PyDict::new(py),
            seen: Vec::new(),
        }
    }

    /// The id of `item`, given by `intern` for a text not seen before.
    fn id(&mut self, item: &Bound<'py, PyAny>, intern: impl FnOnce(&str) -> u32) -> PyResult<u32> {
        let address = item.as_ptr() as usize;
        if let Some(&id) = self.by_object.get(&address) {
            return Ok(id);
        }
        let Ok(text) = item.cast::<PyString>() else {
            return Err(PyValueError::new_err(format!(
                "command and parameter names must be strings (got {})",
                item.get_type().name()?
            )));
        };
        let id = match self.by_text.get_item(text)? {
            Some(id) => id.extract()?,
            None => {
                let id = intern(&text.to_cow()?);
                self.by_text.set_item(text, id)?;
                id
            }
        };
        self.by_object.insert(address, id);
        self.seen.push(item.clone());
        Ok(id)
    }
}

impl<'py> SessionReader<'py> {
    fn new(first: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = first.py();
        let kind = if first.is_instance_of::<PyString>() {
            SessionKind::Commands
        } else if let Some((_, params)) = cmd_parts(first)? {
            if params.is_instance_of::<PyDict>() {
                SessionKind::ParamValues
            } else if params.is_instance_of::<PySet>()
                || params.is_instance_of::<PyFrozenSet>()
                || params.is_instance_of::<PyList>()
                || params.is_instance_of::<PyTuple>()
            {
                SessionKind::ParamSets
            } else {
                return Err(PyValueError::new_err(
                    "Cmd.params must be a set of parameter names or a dict of values",
                ));
            }
        } else {
            return Err(PyValueError::new_err(format!(
                "each session must be a list of command names (str) or of Cmd(name, params); got {}",
                first.get_type().name()?
            )));
        };
        Ok(SessionReader {
            kind,
            commands: Names::new(py),
            params: Names::new(py),
            values: Names::new(py),
        })
    }

    fn sessions(&mut self, lists: &[Bound<'py, PyList>]) -> PyResult<Sessions> {
        let mut out = SessionsBuilder::new(self.kind);
        for (row, list) in lists.iter().enumerate() {
            let session = list
                .iter()
                .map(|item| self.command(&item, row, &mut out))
                .collect::<PyResult<_>>()?;
            out.push(session);
        }
        Ok(out.finish())
    }

    fn command(
        &mut self,
        item: &Bound<'py, PyAny>,
        row: usize,
        out: &mut SessionsBuilder,
    ) -> PyResult<Command> {
        if self.kind == SessionKind::Commands {
            if !item.is_instance_of::<PyString>() {
                return Err(PyValueError::new_err(format!(
                    "the sessions start with command names, so every command must be a string \
                     (the session at row {row} holds a {})",
                    item.get_type().name()?
                )));
            }
            return Ok(Command {
                name: self.commands.id(item, |t| out.command(t))?,
                params: Vec::new(),
            });
        }
        let Some((name, params)) = cmd_parts(item)? else {
            return Err(PyValueError::new_err(format!(
                "the session at row {row} mixes Cmd objects and other values"
            )));
        };
        let name = self.commands.id(&name, |t| out.command(t))?;
        let params = if let Ok(dict) = params.cast::<PyDict>() {
            dict.iter()
                .map(|(key, value)| {
                    let param = self.params.id(&key, |t| out.param(t))?;
                    // A falsy value, or one that reads as empty text, counts as no
                    // value, as in MSTICPy.
                    let value = if self.kind == SessionKind::ParamValues && value.is_truthy()? {
                        let text = value.str()?.into_any();
                        if text.len()? == 0 {
                            None
                        } else {
                            Some(self.values.id(&text, |t| out.value(t))?)
                        }
                    } else {
                        None
                    };
                    Ok((param, value))
                })
                .collect::<PyResult<_>>()?
        } else {
            let mut ids = Vec::new();
            let mut add = |key: Bound<'py, PyAny>| -> PyResult<()> {
                ids.push((self.params.id(&key, |t| out.param(t))?, None));
                Ok(())
            };
            // Sets (the usual case) through their own iterator: Python's generic one
            // asks every set for a length hint through a method call.
            if let Ok(set) = params.cast::<PySet>() {
                set.iter().try_for_each(add)?;
            } else if let Ok(set) = params.cast::<PyFrozenSet>() {
                set.iter().try_for_each(add)?;
            } else {
                for key in params.try_iter()? {
                    add(key?)?;
                }
            }
            ids
        };
        Ok(Command { name, params })
    }
}

/// A `Cmd`-like object's name and params, or None for any other object.
fn cmd_parts<'py>(
    item: &Bound<'py, PyAny>,
) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    let py = item.py();
    let attribute = |name| match item.getattr(name) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_instance_of::<PyAttributeError>(py) => Ok(None),
        Err(e) => Err(e),
    };
    Ok(attribute(intern!(py, "name"))?.zip(attribute(intern!(py, "params"))?))
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, group_by=Vec::new()))]
fn polling_rows(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: &str,
    group_by: Vec<String>,
) -> PyResult<PyBatch> {
    let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
    on_batch(py, batch, |b| {
        polling::polling_rows(b, time_column, &group_by)
    })
}

#[pyfunction]
#[pyo3(signature = (batch, time_column, group_by=Vec::new()))]
fn polling_groups(
    py: Python<'_>,
    batch: &Bound<'_, PyAny>,
    time_column: &str,
    group_by: Vec<String>,
) -> PyResult<PyBatch> {
    let group_by: Vec<&str> = group_by.iter().map(String::as_str).collect();
    on_batch(py, batch, |b| {
        polling::polling_groups(b, time_column, &group_by)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sessionize, m)?)?;
    m.add_function(wrap_pyfunction!(score_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(polling_rows, m)?)?;
    m.add_function(wrap_pyfunction!(polling_groups, m)?)?;
    Ok(())
}
