//! Entities and pivots (`huntbook_core::entities`, `huntbook_core::pipeline`,
//! `huntbook_vis::entities`) for `huntbook.entities` and `huntbook.pivots`: the
//! kinds the entity classes are made from, Sentinel `Entities` JSON read into
//! nested entities, entity cards as HTML, the parameter names that attach queries to
//! entities, and YAML pipelines read into checked steps.
//!
//! Entities cross as JSON text: Python's entity objects write themselves as nested
//! Sentinel JSON (linked entities inline), which [`EntityGraph::parse`] reads.
use huntbook_core::entities::{pivot_params as anchors, EntityGraph, Kind};
use huntbook_core::pipeline::parse_pipelines;
use pyo3::prelude::*;

use crate::transforms::value_error;

/// One kind as the Python classes are made from it.
type KindInfo = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

/// `(name, Sentinel Type, key property, properties, [(linking property, kind name)])`
/// for every known kind.
#[pyfunction]
fn entity_kinds() -> Vec<KindInfo> {
    Kind::KNOWN
        .iter()
        .map(|kind| {
            (
                kind.name(),
                kind.tag(),
                kind.key_property(),
                kind.properties().to_vec(),
                kind.links()
                    .iter()
                    .map(|(property, target)| (*property, target.name()))
                    .collect(),
            )
        })
        .collect()
}

/// `(parameter, kind name, property)` for every query parameter name that anchors
/// an entity.
#[pyfunction]
fn pivot_params() -> Vec<(&'static str, &'static str, &'static str)> {
    anchors()
        .iter()
        .flat_map(|(param, targets)| {
            targets
                .iter()
                .map(move |(kind, property)| (*param, kind.name(), *property))
        })
        .collect()
}

/// Each of `texts` (Sentinel `Entities` JSON: `$id`/`$ref`, or nested) as the list
/// of its top-level entities with their linked entities nested
/// ([`EntityGraph::to_nested_of`]); all of them as one JSON list of lists. An empty
/// text is an empty list; bad JSON is an error naming its position in `texts`.
#[pyfunction]
fn entities_nested(py: Python<'_>, texts: Vec<String>) -> PyResult<String> {
    py.detach(|| {
        let mut out = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            if text.trim().is_empty() {
                out.push(serde_json::Value::Array(Vec::new()));
                continue;
            }
            let graph = EntityGraph::parse(text).map_err(|e| {
                let at = if texts.len() > 1 {
                    format!("entities of row {index}: ")
                } else {
                    String::new()
                };
                value_error(format!("{at}{e}"))
            })?;
            out.push(graph.to_nested_of(graph.roots()));
        }
        Ok(serde_json::Value::Array(out).to_string())
    })
}

/// `(description, observable)` of each top-level entity of `text`.
#[pyfunction]
fn entity_summaries(text: &str) -> PyResult<Vec<(String, Option<String>)>> {
    let graph = EntityGraph::parse(text).map_err(value_error)?;
    Ok(graph
        .roots()
        .iter()
        .map(|id| {
            let entity = &graph[*id];
            (entity.description(&graph), entity.observable(&graph))
        })
        .collect())
}

/// The top-level entities of `text` as HTML cards.
#[pyfunction]
fn entity_html(py: Python<'_>, text: &str) -> PyResult<String> {
    py.detach(|| {
        let graph = EntityGraph::parse(text).map_err(value_error)?;
        Ok(huntbook_vis::entities::entity_cards(&graph, graph.roots()))
    })
}

/// The pipelines of a YAML document as JSON (a list of `{name, description, steps}`);
/// `source` names the document in errors.
#[pyfunction]
fn pivot_pipelines(text: &str, source: &str) -> PyResult<String> {
    let pipelines = parse_pipelines(text, source).map_err(value_error)?;
    serde_json::to_string(&pipelines).map_err(value_error)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(entity_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(pivot_params, m)?)?;
    m.add_function(wrap_pyfunction!(entities_nested, m)?)?;
    m.add_function(wrap_pyfunction!(entity_summaries, m)?)?;
    m.add_function(wrap_pyfunction!(entity_html, m)?)?;
    m.add_function(wrap_pyfunction!(pivot_pipelines, m)?)?;
    Ok(())
}
