//! Pivot pipelines in MSTICPy's YAML format: named lists of steps that run pivot
//! functions and DataFrame methods one after the other.
//!
//! ```yaml
//! pipelines:
//!   pipeline1:
//!     description: Pipeline 1 description
//!     steps:
//!       - name: get_logons
//!         step_type: pivot
//!         function: util.whois
//!         entity: IpAddress
//!         comment: Standard pivot function
//!         params:
//!           column: IpAddress
//!           join: inner
//!       - name: disp_logons
//!         step_type: pivot_display
//!         params: {title: "The title", cols: [Computer, Account], head: 10}
//! ```
//!
//! [`parse_pipelines`] reads and checks such a document: each step needs a `name`,
//! a `step_type` among [`StepType`]'s, and what its type runs (`entity` and
//! `function` for a pivot, `function` for `pivot_tee_exec` and `pd_accessor`); an
//! entity must be a known [`Kind`] name. Mistakes are errors naming the pipeline, the
//! step and the line. Running the steps is the caller's (Python's) job; `params` and
//! `pos_params` are handed over as JSON.
//!
//! ```
//! use huntbook_core::pipeline::{parse_pipelines, StepType};
//!
//! let text = "pipelines:\n  p:\n    steps:\n      - {name: s, step_type: pivot_tee, params: {var_name: x}}\n";
//! let pipelines = parse_pipelines(text, "inline").unwrap();
//! assert_eq!(pipelines[0].steps[0].step_type, StepType::PivotTee);
//! assert_eq!(pipelines[0].steps[0].params["var_name"], "x");
//!
//! let bad = "pipelines:\n  p:\n    steps:\n      - {name: s, step_type: pivot_dance}\n";
//! let error = parse_pipelines(bad, "inline").unwrap_err().to_string();
//! assert!(error.starts_with("pipeline 'p', step 's' (inline:4)"), "{error}");
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::config::{ConfigError, Kind as YamlKind, Origin, Value};
use crate::entities::Kind;

/// What a step does with the DataFrame flowing through the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepType {
    /// Runs a pivot function on it; its result flows on.
    Pivot,
    /// Shows it (title, columns, a query, the first rows) and passes it on.
    PivotDisplay,
    /// Saves it to a notebook variable and passes it on.
    PivotTee,
    /// Runs a DataFrame method on it for its effect and passes it on unchanged.
    PivotTeeExec,
    /// Runs a DataFrame method or accessor method on it; its result flows on.
    PdAccessor,
}

impl StepType {
    const ALL: [(&'static str, StepType); 5] = [
        ("pivot", StepType::Pivot),
        ("pivot_display", StepType::PivotDisplay),
        ("pivot_tee", StepType::PivotTee),
        ("pivot_tee_exec", StepType::PivotTeeExec),
        ("pd_accessor", StepType::PdAccessor),
    ];

    fn parse(text: &str) -> Option<StepType> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, step)| *step)
    }
}

/// One step of a [`Pipeline`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub step_type: StepType,
    /// The pivot (`util.whois`, `ti.lookup_ipv4`, `LocalData.list_host_processes`)
    /// or the DataFrame method (`query`, `hb_pivot.sort`).
    pub function: Option<String>,
    /// The entity whose pivot `function` is (`IpAddress`), for `pivot` steps.
    pub entity: Option<String>,
    pub comment: Option<String>,
    pub pos_params: Vec<Json>,
    pub params: Map<String, Json>,
    /// The line the step starts on.
    pub line: usize,
}

/// A named pipeline: its steps in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    pub name: String,
    pub description: Option<String>,
    pub steps: Vec<Step>,
}

/// A pipeline document that cannot be run, with where.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{input}: invalid YAML at line {line}, column {column}: {message}")]
    Yaml {
        input: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{input}: {message}")]
    Document { input: String, message: String },
    #[error("pipeline '{pipeline}' ({at}): {message}")]
    Pipeline {
        pipeline: String,
        at: String,
        message: String,
    },
    #[error("pipeline '{pipeline}', step '{step}' ({at}): {message}")]
    Step {
        pipeline: String,
        step: String,
        at: String,
        message: String,
    },
}

/// Reads the pipelines of a YAML document (a top-level `pipelines` mapping, as
/// MSTICPy writes them), in file order. `source` names the document in errors (a
/// file path, or a word for text given inline).
pub fn parse_pipelines(text: &str, source: &str) -> Result<Vec<Pipeline>, PipelineError> {
    let root = crate::config::parse_yaml(text, Some(Arc::new(PathBuf::from(source)))).map_err(
        |error| match error {
            ConfigError::Yaml {
                line,
                column,
                message,
                ..
            } => PipelineError::Yaml {
                input: source.to_string(),
                line,
                column,
                message,
            },
            other => PipelineError::Document {
                input: source.to_string(),
                message: other.to_string(),
            },
        },
    )?;
    let document = |message: String| PipelineError::Document {
        input: source.to_string(),
        message,
    };
    let pipelines = root
        .get("pipelines")
        .ok_or_else(|| document("no 'pipelines' mapping at the top level".into()))?;
    let entries = pipelines.entries().ok_or_else(|| {
        document(format!(
            "'pipelines' must be a mapping of pipeline names to pipelines, not {}",
            pipelines.type_name()
        ))
    })?;
    entries
        .iter()
        .map(|(name, body)| read_pipeline(name, body))
        .collect()
}

fn read_pipeline(name: &str, body: &Value) -> Result<Pipeline, PipelineError> {
    let fail = |message: String| PipelineError::Pipeline {
        pipeline: name.to_string(),
        at: body.origin.to_string(),
        message,
    };
    if body.entries().is_none() {
        return Err(fail(format!(
            "a pipeline is a mapping with 'description' and 'steps', not {}",
            body.type_name()
        )));
    }
    let description = optional_text(body, "description").map_err(fail)?;
    let steps = match body.get("steps").map(|steps| &steps.kind) {
        None | Some(YamlKind::Null) => Vec::new(),
        Some(YamlKind::List(items)) => items
            .iter()
            .enumerate()
            .map(|(index, step)| read_step(name, index, step))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(fail("'steps' must be a list of steps".into())),
    };
    Ok(Pipeline {
        name: name.to_string(),
        description,
        steps,
    })
}

const STEP_KEYS: [&str; 7] = [
    "name",
    "step_type",
    "function",
    "entity",
    "comment",
    "pos_params",
    "params",
];

fn read_step(pipeline: &str, index: usize, step: &Value) -> Result<Step, PipelineError> {
    // Steps are named by their name when they have one, else by their position.
    let label = step
        .get("name")
        .and_then(Value::scalar_text)
        .unwrap_or_else(|| format!("#{}", index + 1));
    let fail = |message: String| PipelineError::Step {
        pipeline: pipeline.to_string(),
        step: label.clone(),
        at: step.origin.to_string(),
        message,
    };
    let Some(entries) = step.entries() else {
        return Err(fail(format!(
            "a step is a mapping with name, step_type, function, entity, comment, pos_params and params, not {}",
            step.type_name()
        )));
    };
    if let Some((key, _)) = entries
        .iter()
        .find(|(key, _)| !STEP_KEYS.contains(&key.as_str()))
    {
        return Err(fail(format!(
            "unknown key '{key}'; a step has {}",
            STEP_KEYS.join(", ")
        )));
    }
    let name = optional_text(step, "name")
        .map_err(&fail)?
        .ok_or_else(|| fail("the step has no 'name'".into()))?;
    let type_text = optional_text(step, "step_type")
        .map_err(&fail)?
        .ok_or_else(|| fail(format!("the step has no 'step_type'; use {}", step_types())))?;
    let step_type = StepType::parse(&type_text).ok_or_else(|| {
        fail(format!(
            "unknown step_type '{type_text}'; use {}",
            step_types()
        ))
    })?;
    let function = optional_text(step, "function").map_err(&fail)?;
    let entity = optional_text(step, "entity").map_err(&fail)?;
    let comment = optional_text(step, "comment").map_err(&fail)?;

    match step_type {
        StepType::Pivot => {
            let entity = entity
                .as_deref()
                .ok_or_else(|| fail("a pivot step needs 'entity' (IpAddress, Host...)".into()))?;
            if Kind::from_name(entity).is_none() {
                let known: Vec<&str> = Kind::KNOWN.iter().map(|kind| kind.name()).collect();
                return Err(fail(format!(
                    "unknown entity '{entity}'; the entities are {}",
                    known.join(", ")
                )));
            }
            if function.is_none() {
                return Err(fail(
                    "a pivot step needs 'function', the pivot's container and name (util.whois)"
                        .into(),
                ));
            }
        }
        StepType::PivotTeeExec | StepType::PdAccessor if function.is_none() => {
            return Err(fail(format!(
                "a {type_text} step needs 'function', a DataFrame method (query) or accessor method (hb_pivot.sort)"
            )));
        }
        _ => {}
    }

    let pos_params = match step.get("pos_params").map(|v| (&v.kind, v)) {
        None | Some((YamlKind::Null, _)) => Vec::new(),
        Some((YamlKind::List(items), _)) => items.iter().map(Value::to_json).collect(),
        Some((_, other)) => vec![other.to_json()],
    };
    let params = match step.get("params").map(|v| (&v.kind, v)) {
        None | Some((YamlKind::Null, _)) => Map::new(),
        Some((YamlKind::Map(entries), _)) => entries
            .iter()
            .map(|(key, value)| (key.clone(), value.to_json()))
            .collect(),
        Some(_) => {
            return Err(fail(
                "'params' must be a mapping of keyword arguments".into(),
            ))
        }
    };
    Ok(Step {
        name,
        step_type,
        function,
        entity,
        comment,
        pos_params,
        params,
        line: match step.origin {
            Origin::File { line, .. } => line,
            _ => 0,
        },
    })
}

fn step_types() -> String {
    StepType::ALL
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn optional_text(map: &Value, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None => Ok(None),
        Some(value) if value.is_null() => Ok(None),
        Some(value) => value
            .scalar_text()
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be text, not {}", value.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"pipelines:
  pipeline1:
    description: Pipeline 1 description
    steps:
      - name: get_logons
        step_type: pivot
        function: util.whois
        entity: IpAddress
        comment: Standard pivot function
        params:
          column: IpAddress
          join: inner
      - name: disp_logons
        step_type: pivot_display
        comment: Pivot display
        params:
          title: "The title"
          cols:
            - Computer
            - Account
          query: Computer.str.startswith('MSTICAlerts')
          head: 10
      - name: tee_logons
        step_type: pivot_tee
        params:
          var_name: var_df
          clobber: True
      - name: tee_logons_disp
        step_type: pivot_tee_exec
        function: mp_plot.timeline
        params:
          source_columns: [Computer, Account]
      - name: logons_timeline
        step_type: pd_accessor
        function: mp_plot.timeline
        pos_params: [TimeGenerated]
  pipeline2:
    steps:
      - {name: sorted, step_type: pd_accessor, function: sort_values, params: {by: TimeGenerated}}
"#;

    #[test]
    fn msticpys_example_reads_step_by_step() {
        let pipelines = parse_pipelines(TWO, "pipelines.yaml").unwrap();
        assert_eq!(pipelines.len(), 2);
        let first = &pipelines[0];
        assert_eq!(first.name, "pipeline1");
        assert_eq!(first.description.as_deref(), Some("Pipeline 1 description"));
        let types: Vec<StepType> = first.steps.iter().map(|s| s.step_type).collect();
        assert_eq!(
            types,
            [
                StepType::Pivot,
                StepType::PivotDisplay,
                StepType::PivotTee,
                StepType::PivotTeeExec,
                StepType::PdAccessor
            ]
        );
        let pivot = &first.steps[0];
        assert_eq!(pivot.entity.as_deref(), Some("IpAddress"));
        assert_eq!(pivot.function.as_deref(), Some("util.whois"));
        assert_eq!(pivot.params["join"], "inner");
        assert_eq!(pivot.line, 5);
        let display = &first.steps[1];
        assert_eq!(
            display.params["cols"],
            serde_json::json!(["Computer", "Account"])
        );
        assert_eq!(display.params["head"], 10);
        assert_eq!(first.steps[2].params["clobber"], true);
        assert_eq!(
            first.steps[4].pos_params,
            [serde_json::json!("TimeGenerated")]
        );
        assert_eq!(pipelines[1].steps[0].params["by"], "TimeGenerated");
        assert_eq!(pipelines[1].description, None);
        let json = serde_json::to_value(&pipelines[0].steps[3]).unwrap();
        assert_eq!(json["step_type"], "pivot_tee_exec");
    }

    fn error(text: &str) -> String {
        parse_pipelines(text, "p.yaml").unwrap_err().to_string()
    }

    #[test]
    fn mistakes_name_pipeline_step_and_line() {
        let unknown = "pipelines:\n  hunt:\n    steps:\n      - name: a\n        step_type: pivot\n        entity: IpAddress\n        function: util.whois\n      - name: b\n        step_type: pivot_go\n";
        assert_eq!(
            error(unknown),
            "pipeline 'hunt', step 'b' (p.yaml:8): unknown step_type 'pivot_go'; use pivot, pivot_display, pivot_tee, pivot_tee_exec, pd_accessor"
        );
        let no_entity = "pipelines:\n  hunt:\n    steps:\n      - {name: a, step_type: pivot, function: util.whois}\n";
        assert!(error(no_entity).contains("step 'a' (p.yaml:4): a pivot step needs 'entity'"));
        let bad_entity = "pipelines:\n  hunt:\n    steps:\n      - {name: a, step_type: pivot, entity: Computer, function: util.whois}\n";
        assert!(error(bad_entity).contains("unknown entity 'Computer'"));
        let no_function =
            "pipelines:\n  hunt:\n    steps:\n      - {name: a, step_type: pd_accessor}\n";
        assert!(error(no_function).contains("a pd_accessor step needs 'function'"));
        let unnamed = "pipelines:\n  hunt:\n    steps:\n      - {step_type: pivot_tee}\n";
        assert!(error(unnamed).contains("step '#1' (p.yaml:4): the step has no 'name'"));
        let extra =
            "pipelines:\n  hunt:\n    steps:\n      - {name: a, step_type: pivot_tee, parms: {}}\n";
        assert!(error(extra).contains("unknown key 'parms'"));
        let params = "pipelines:\n  hunt:\n    steps:\n      - {name: a, step_type: pivot_tee, params: [x]}\n";
        assert!(error(params).contains("'params' must be a mapping"));
    }

    #[test]
    fn documents_that_are_not_pipelines_are_refused() {
        assert_eq!(
            error("pipelines:\n  hunt:\n    steps: [\n"),
            "p.yaml: invalid YAML at line 4, column 1: while parsing a node, did not find expected node content"
        );
        assert!(error("steps: []\n").contains("no 'pipelines' mapping"));
        assert!(error("pipelines: [a]\n").contains("'pipelines' must be a mapping"));
        assert!(error("pipelines:\n  hunt: 3\n").starts_with("pipeline 'hunt' (p.yaml:2)"));
        assert!(error("pipelines:\n  hunt:\n    steps: 3\n").contains("'steps' must be a list"));
    }
}
