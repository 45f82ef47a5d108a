//! The stored name of a run's output notebook, from the path template of
//! `huntbook run` (`{year}/{month}/{day}/{notebook}_{key}_{run_id}_{date}.ipynb`).
//!
//! Fields are the template's built-ins (the notebook is its catalogue name, the run
//! id the store's), the job's parameters, and `{key}`: the values of the notebook's
//! `key_parameters` joined with `_`. Every value is sanitised by the template
//! engine, and the result is checked again as a whole, so no parameter (and no
//! template) can name a path outside the output root: absolute paths and `..` are
//! refused.

use chrono::{DateTime, Utc};
use huntbook_notebook::params::ParamValue;
use huntbook_notebook::path_template::{render, sanitise, Builtins};
use object_store::path::Path;

use super::OutputsError;
use crate::model::{Job, Run};

/// `{key}`: the values of `key_parameters` the job has, sanitised, joined with `_`.
fn key(job: &Job, key_parameters: &[String]) -> String {
    key_parameters
        .iter()
        .filter_map(|name| job.parameters.get(name))
        .map(|value| match value {
            serde_json::Value::String(text) => sanitise(text),
            other => sanitise(&other.to_string()),
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// The output notebook's path below the output root.
pub fn output_path(
    template: &str,
    job: &Job,
    run: &Run,
    key_parameters: &[String],
    now: DateTime<Utc>,
) -> Result<Path, OutputsError> {
    let mut parameters = crate::worker::parameters(job);
    // `{key}` is the service's: a parameter named `key` does not replace it.
    parameters.set("key", ParamValue::Str(key(job, key_parameters)));
    let builtins = Builtins {
        now,
        run_id: run.id.to_string(),
        notebook: job.notebook.clone(),
    };
    let rendered = render(template, &parameters, &builtins)
        .map_err(|e| OutputsError::Template(e.to_string()))?;
    let outside = |reason: &str| OutputsError::OutsideRoot {
        path: rendered.clone(),
        reason: reason.to_owned(),
    };
    // A drive letter or a URL scheme is as absolute as a leading slash.
    if rendered.starts_with(['/', '\\'])
        || rendered.get(1..2) == Some(":")
        || rendered.contains("://")
    {
        return Err(outside("it is absolute"));
    }
    let segments: Vec<&str> = rendered.split(['/', '\\']).collect();
    if segments.iter().any(|s| matches!(*s, "" | "." | "..")) {
        return Err(outside("it has an empty, `.` or `..` part"));
    }
    Path::parse(segments.join("/")).map_err(|e| outside(&e.to_string()))
}

/// The HTML copy's path: the notebook's with `.html` for its extension.
pub fn html_path(notebook: &Path) -> Path {
    let text = notebook.as_ref();
    let stem = text.strip_suffix(".ipynb").unwrap_or(text);
    Path::from(format!("{stem}.html"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::model::State;

    fn job_run(parameters: serde_json::Value) -> (Job, Run) {
        let now = Utc::now();
        let job = Job {
            id: Uuid::new_v4(),
            notebook: "ip_triage".into(),
            parameters: parameters.as_object().unwrap().clone(),
            trigger: crate::TriggerKind::OnDemand,
            priority: 10,
            idempotency_key: None,
            max_attempts: 1,
            timeout: None,
            created_at: now,
            not_before: now,
            state: State::Running,
            attempts: 1,
            cancel_requested: false,
            reason: None,
            finished_at: None,
        };
        let run = Run {
            id: Uuid::parse_str("5f0c3bb4-0000-4000-8000-000000000001").unwrap(),
            job_id: job.id,
            notebook: job.notebook.clone(),
            attempt: 1,
            worker: "w".into(),
            state: State::Running,
            reason: None,
            started_at: now,
            heartbeat_at: now,
            lease_expires_at: now,
            finished_at: None,
        };
        (job, run)
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 1, 2, 3).unwrap()
    }

    #[test]
    fn the_default_scheme_joins_the_key_parameters() {
        let (job, run) = job_run(json!({"ip_address": "10.0.0.5", "host": "ws1", "days": 3}));
        let keys = [
            "ip_address".to_owned(),
            "days".to_owned(),
            "absent".to_owned(),
        ];
        let path = output_path(super::super::DEFAULT_PATH, &job, &run, &keys, at()).unwrap();
        assert_eq!(
            path.as_ref(),
            format!(
                "2026/11/29/ip_triage_10.0.0.5_3_{}_2026-11-29.ipynb",
                run.id
            )
        );
        assert_eq!(
            html_path(&path).as_ref(),
            format!("2026/11/29/ip_triage_10.0.0.5_3_{}_2026-11-29.html", run.id)
        );
    }

    #[test]
    fn parameters_can_never_leave_the_output_root() {
        for evil in [
            "../../etc/passwd",
            "/etc/cron.d/x",
            "..",
            "a/../../b",
            "C:\\win",
            "\u{0}",
        ] {
            let (job, run) = job_run(json!({"host": evil}));
            let keys = ["host".to_owned()];
            for template in [
                "{key}.ipynb",
                "{host}/{key}/{run_id}.ipynb",
                "{notebook}_{key}.ipynb",
            ] {
                let path = output_path(template, &job, &run, &keys, at()).unwrap();
                assert!(
                    !path.as_ref().starts_with('/') && path.parts().all(|p| p.as_ref() != ".."),
                    "{evil} in {template} gave {path}"
                );
                assert!(path.parts().count() <= template.matches('/').count() + 1);
            }
        }
    }

    #[test]
    fn a_template_that_leaves_the_root_is_refused() {
        let (job, run) = job_run(json!({}));
        for template in [
            "/abs/{run_id}.ipynb",
            "../{run_id}.ipynb",
            "a//b.ipynb",
            "c:/x.ipynb",
        ] {
            let error = output_path(template, &job, &run, &[], at()).unwrap_err();
            assert!(
                matches!(error, OutputsError::OutsideRoot { .. }),
                "{template}: {error}"
            );
        }
        let error = output_path("{nope}.ipynb", &job, &run, &[], at()).unwrap_err();
        assert!(error.to_string().contains("{nope}"), "{error}");
    }
}
