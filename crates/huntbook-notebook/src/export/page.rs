//! The page around the cells: document head, inline stylesheet and a header with the
//! title and, for a notebook run by papermill (or anything writing the same
//! `metadata.papermill`), a summary of the run: when it started, how long it took,
//! whether and where it failed, and the parameters it was given.

use serde_json::Value;

use super::{cell_anchor, escape};
use crate::model::{Cell, Notebook};

/// The stylesheet, inlined into every page (kept to a few kilobytes).
pub const STYLE: &str = include_str!("style.css");

/// The tag papermill puts on the markdown cells it inserts around a failure.
const ERROR_MARKER_TAG: &str = "papermill-error-cell-tag";

/// Assembles the document from the already-rendered cells.
pub fn render(title: &str, summary: Option<&str>, cells: &str) -> String {
    let title = escape(title);
    let mut page = String::with_capacity(cells.len() + STYLE.len() + 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    page.push_str(&format!("<meta name=\"generator\" content=\"huntbook {}\">\n", env!("CARGO_PKG_VERSION")));
    page.push_str(&format!("<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"));
    page.push_str(&format!("<header class=\"hb-header\">\n<h1 class=\"hb-title\">{title}</h1>\n"));
    if let Some(summary) = summary {
        page.push_str(summary);
    }
    page.push_str("</header>\n<main class=\"hb-notebook\">\n");
    page.push_str(cells);
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// The run summary from `metadata.papermill`, or `None` when the notebook was not run
/// by papermill.
pub fn run_summary(nb: &Notebook) -> Option<String> {
    let pm = nb.metadata.get("papermill")?.as_object()?;
    let mut facts: Vec<String> = Vec::new();
    if let Some(start) = pm.get("start_time").and_then(Value::as_str) {
        facts.push(format!("started <time datetime=\"{}\">{}</time>", escape(start), escape(&format_time(start))));
    }
    if let Some(seconds) = pm.get("duration").and_then(Value::as_f64) {
        facts.push(format!("took {}", format_duration(seconds)));
    }
    if pm.get("exception").and_then(Value::as_bool) == Some(true) {
        facts.push(failure(nb));
    } else if pm.get("end_time").is_some_and(|v| !v.is_null()) {
        facts.push("completed".to_string());
    } else if pm.get("start_time").is_some_and(|v| !v.is_null()) {
        facts.push("not finished (still running, or stopped before saving its end)".to_string());
    }
    let mut html = String::from("<div class=\"hb-run\">");
    let mut lead = String::from("Run");
    if let Some(version) = pm.get("version").and_then(Value::as_str) {
        lead = format!("Run by papermill {}", escape(version));
    }
    html.push_str(&lead);
    if !facts.is_empty() {
        html.push_str(": ");
        html.push_str(&facts.join(" · "));
    }
    html.push_str("</div>\n");
    if let Some(params) = pm.get("parameters").and_then(Value::as_object).filter(|p| !p.is_empty()) {
        html.push_str("<table class=\"hb-params\"><thead><tr><th>Parameter</th><th>Value</th></tr></thead><tbody>");
        for (name, value) in params {
            let shown = serde_json::to_string(value).unwrap_or_default();
            html.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(&shown)));
        }
        html.push_str("</tbody></table>\n");
    }
    Some(html)
}

/// "failed at cell N (In [k])", linking to the failure. N counts the notebook's own
/// cells from 1, leaving out the marker cells papermill inserted.
fn failure(nb: &Notebook) -> String {
    let own: Vec<(usize, &Cell)> = nb.cells.iter().enumerate().filter(|(_, c)| !c.has_tag(ERROR_MARKER_TAG)).collect();
    let failed = own
        .iter()
        .position(|(_, c)| {
            let pm = c.metadata.get("papermill");
            pm.and_then(|p| p.get("exception")).and_then(Value::as_bool) == Some(true)
                || pm.and_then(|p| p.get("status")).and_then(Value::as_str) == Some("failed")
        })
        .or_else(|| {
            own.iter().position(|(_, c)| c.outputs.iter().any(|o| matches!(o, crate::model::Output::Error { .. })))
        });
    let Some(position) = failed else {
        return "<span class=\"hb-fail\">failed</span>".to_string();
    };
    let (index, cell) = own[position];
    let has_marker = nb.cells.iter().any(|c| c.has_tag(ERROR_MARKER_TAG) && c.source.contains("id=\"papermill-error-cell\""));
    let target = if has_marker { "papermill-error-cell".to_string() } else { cell_anchor(cell, index) };
    let count = cell.execution_count.map(|n| format!(" (In [{n}])")).unwrap_or_default();
    format!("<span class=\"hb-fail\">failed at <a href=\"#{target}\">cell {}{count}</a></span>", position + 1)
}

/// An ISO 8601 timestamp as `YYYY-MM-DD HH:MM:SS UTC` (or with its offset); text that
/// does not parse is shown as it is.
fn format_time(iso: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(iso) {
        Ok(t) if t.offset().local_minus_utc() == 0 => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Ok(t) => t.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        Err(_) => iso.to_string(),
    }
}

fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "an unknown time".to_string();
    }
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m} min {s:02} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Output;
    use serde_json::json;

    fn papermill_notebook(exception: Value) -> Notebook {
        let mut nb = Notebook::new();
        nb.metadata.insert(
            "papermill".into(),
            json!({"start_time": "2026-11-28T01:00:41.000000+00:00", "end_time": "2026-11-28T01:00:42.229827+00:00",
                   "duration": 1.232718, "exception": exception, "version": "2.7.0",
                   "parameters": {"host": "<dc01>", "days": 7, "iocs": [1, "two"]}}),
        );
        let mut header = Cell::markdown("<span style=\"color:red\">An Exception was encountered at '<a href=\"#papermill-error-cell\">In [2]</a>'.</span>");
        header.set_tags(&[ERROR_MARKER_TAG]);
        let mut ok = Cell::code("x = 1");
        ok.execution_count = Some(1);
        let mut marker = Cell::markdown("<span id=\"papermill-error-cell\" style=\"color:red\">Execution using papermill encountered an exception here and stopped:</span>");
        marker.set_tags(&[ERROR_MARKER_TAG]);
        let mut bad = Cell::code("1/0");
        bad.execution_count = Some(2);
        bad.metadata.insert("papermill".into(), json!({"exception": true, "status": "failed"}));
        bad.outputs.push(Output::error("ZeroDivisionError", "division by zero", vec![]));
        nb.cells = vec![header, ok, marker, bad];
        nb
    }

    #[test]
    fn summary_of_a_failed_run() {
        let summary = run_summary(&papermill_notebook(json!(true))).unwrap();
        assert!(summary.contains("Run by papermill 2.7.0"), "{summary}");
        assert!(summary.contains(">2026-11-28 01:00:41 UTC</time>"));
        assert!(summary.contains("took 1.2 s"));
        assert!(summary.contains("failed at <a href=\"#papermill-error-cell\">cell 2 (In [2])</a>"), "{summary}");
        assert!(summary.contains("<tr><th>host</th><td>&quot;&lt;dc01&gt;&quot;</td></tr>"));
        assert!(summary.contains("<tr><th>iocs</th><td>[1,&quot;two&quot;]</td></tr>"));
    }

    #[test]
    fn summary_of_a_successful_run() {
        let mut nb = papermill_notebook(Value::Null);
        nb.cells.retain(|c| !c.has_tag(ERROR_MARKER_TAG));
        let summary = run_summary(&nb).unwrap();
        assert!(summary.contains("completed") && !summary.contains("failed"));
        assert_eq!(run_summary(&Notebook::new()), None);
    }

    #[test]
    fn failure_without_markers_links_to_the_cell() {
        let mut nb = papermill_notebook(json!(true));
        nb.cells.retain(|c| !c.has_tag(ERROR_MARKER_TAG));
        let id = nb.cells[1].id.clone().unwrap();
        let summary = run_summary(&nb).unwrap();
        assert!(summary.contains(&format!("<a href=\"#cell-{id}\">cell 2 (In [2])</a>")), "{summary}");
    }

    #[test]
    fn times_and_durations() {
        assert_eq!(format_time("2026-01-02T03:04:05.6+02:00"), "2026-01-02 03:04:05 +02:00");
        assert_eq!(format_time("yesterday"), "yesterday");
        assert_eq!(format_duration(0.04), "0.0 s");
        assert_eq!(format_duration(75.4), "1 min 15 s");
        assert_eq!(format_duration(3725.0), "1 h 02 min");
    }

    #[test]
    fn the_page_links_to_the_error_marker() {
        let nb = papermill_notebook(json!(true));
        let html = super::super::to_html(&nb, &Default::default());
        assert!(html.contains("<span id=\"papermill-error-cell\""));
        assert_eq!(html.matches("href=\"#papermill-error-cell\"").count(), 2);
        assert!(STYLE.len() < 8_000, "stylesheet is {} bytes", STYLE.len());
        assert!(!STYLE.contains("url(") && !STYLE.contains("@import"));
    }
}
