//! HTML export: a notebook as one self-contained page.
//!
//! The page carries its own few kilobytes of CSS, loads nothing from anywhere (no CDN,
//! no fonts; the only scripts are those inside HTML outputs, such as huntbook's
//! charts) and reads well on screen, in dark mode and on paper. It follows
//! nbconvert's choices where they are sound (one MIME type per output, images as data
//! URIs, ANSI colours as spans) and improves on them where SOC reports need it: it
//! honours `metadata.jupyter.source_hidden` and `outputs_hidden` (which nbconvert
//! ignores), nbconvert's removal tags, and it summarises a papermill run in the header.
//!
//! The pieces: [`highlight`] (a small Python lexer), [`ansi`] (a terminal emulator for
//! output text), [`markdown`] (pulldown-cmark plus Jupyter's extras), [`outputs`] (MIME
//! choice and rendering) and [`page`] (the page skeleton, header and stylesheet).

pub mod ansi;
pub mod highlight;
pub mod markdown;
pub mod outputs;
pub mod page;

use serde_json::Value;

use crate::model::{Cell, CellType, Notebook};

/// What to leave out of the page, and its title.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Hide every code cell's input (and, as with nbconvert, all prompts).
    pub no_input: bool,
    /// Hide the `In [n]:` / `Out[n]:` prompts.
    pub no_prompt: bool,
    /// The page title; [`default_title`] (or "Notebook") when `None`.
    pub title: Option<String>,
}

/// Renders the notebook as a complete HTML document.
pub fn to_html(nb: &Notebook, opts: &ExportOptions) -> String {
    let title = opts.title.clone().or_else(|| default_title(nb)).unwrap_or_else(|| "Notebook".to_string());
    let language = nb.language().unwrap_or("python").to_ascii_lowercase();
    let prompts = !(opts.no_prompt || opts.no_input);
    let mut body = String::new();
    for (index, cell) in nb.cells.iter().enumerate() {
        body.push_str(&render_cell(cell, index, &language, opts, prompts));
    }
    page::render(&title, page::run_summary(nb).as_deref(), &body)
}

/// The title a notebook suggests for itself: `metadata.title`, else the text of the
/// first markdown heading.
pub fn default_title(nb: &Notebook) -> Option<String> {
    if let Some(title) = nb.metadata.get("title").and_then(Value::as_str) {
        if !title.trim().is_empty() {
            return Some(title.trim().to_string());
        }
    }
    nb.cells
        .iter()
        .filter(|c| c.cell_type == CellType::Markdown)
        .find_map(|c| markdown::first_heading(&c.source))
}

/// The HTML id of a cell's anchor, so that the header can link to a failed cell.
pub(crate) fn cell_anchor(cell: &Cell, index: usize) -> String {
    match &cell.id {
        Some(id) => format!("cell-{}", escape(id)),
        None => format!("cell-{index}"),
    }
}

fn render_cell(cell: &Cell, index: usize, language: &str, opts: &ExportOptions, prompts: bool) -> String {
    // An empty markdown or raw cell would only leave a gap in the page.
    if cell.has_tag("remove-cell") || (!cell.is_code() && cell.source.trim().is_empty()) {
        return String::new();
    }
    let anchor = cell_anchor(cell, index);
    match cell.cell_type {
        CellType::Markdown => {
            let attachments = cell.extra.get("attachments").and_then(Value::as_object);
            let html = markdown::render(&cell.source, attachments);
            wrap_cell(&anchor, "hb-markdown", &row(prompts, "", "hb-md", &html))
        }
        CellType::Raw => {
            let format = raw_format(cell);
            let html = if matches!(format, "text/html" | "html") {
                cell.source.clone()
            } else {
                format!("<pre class=\"hb-raw\">{}</pre>", escape(&cell.source))
            };
            wrap_cell(&anchor, "hb-rawcell", &row(prompts, "", "hb-raw-body", &html))
        }
        CellType::Code => render_code_cell(cell, &anchor, language, opts, prompts),
    }
}

fn render_code_cell(cell: &Cell, anchor: &str, language: &str, opts: &ExportOptions, prompts: bool) -> String {
    let show_input = !opts.no_input && !cell.source_hidden() && !cell.has_tag("remove-input");
    let show_outputs = !outputs_hidden(cell) && !cell.has_tag("remove-output");
    let outputs = if show_outputs { outputs::render(&cell.outputs, prompts) } else { String::new() };
    if !show_input && outputs.is_empty() {
        return String::new();
    }
    let mut inner = String::new();
    if show_input {
        let prompt = match cell.execution_count {
            Some(n) => format!("In&nbsp;[{n}]:"),
            None => "In&nbsp;[&nbsp;]:".to_string(),
        };
        let code = format!(
            "<pre class=\"hb-source\"><code>{}</code></pre>",
            highlight::highlight(&cell.source, Some(language))
        );
        inner.push_str(&row(prompts, &prompt, "hb-input", &code));
    }
    inner.push_str(&outputs);
    let failed = cell
        .metadata
        .get("papermill")
        .and_then(|p| p.get("status"))
        .and_then(Value::as_str)
        == Some("failed");
    let class = if failed { "hb-code hb-failed" } else { "hb-code" };
    wrap_cell(anchor, class, &inner)
}

fn wrap_cell(anchor: &str, class: &str, inner: &str) -> String {
    format!("<section class=\"hb-cell {class}\" id=\"{anchor}\">{inner}</section>\n")
}

/// One prompt column plus one body column; without prompts, only the body.
pub(crate) fn row(prompts: bool, prompt: &str, class: &str, body: &str) -> String {
    if prompts {
        format!("<div class=\"hb-row {class}\"><div class=\"hb-prompt\">{prompt}</div><div class=\"hb-body\">{body}</div></div>")
    } else {
        format!("<div class=\"hb-row {class}\"><div class=\"hb-body\">{body}</div></div>")
    }
}

fn raw_format(cell: &Cell) -> &str {
    ["format", "raw_mimetype"]
        .iter()
        .find_map(|key| cell.metadata.get(*key).and_then(Value::as_str))
        .unwrap_or("")
}

fn outputs_hidden(cell: &Cell) -> bool {
    cell.metadata
        .get("jupyter")
        .and_then(|j| j.get("outputs_hidden"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Escapes text for HTML content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    escape_into(&mut out, text);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, text: &str) {
    // Runs of ordinary text are copied whole: outputs can be megabytes of log.
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Output;
    use serde_json::json;

    /// Every `src=`, `href=` and `url(` value in `html` that is neither a data URI nor
    /// an in-page `#anchor`: what would make the page fetch or leave for something.
    pub(crate) fn external_refs(html: &str) -> Vec<String> {
        let lower = html.to_ascii_lowercase();
        let mut found = Vec::new();
        for needle in ["src=", "href=", "url("] {
            let mut from = 0;
            while let Some(pos) = lower[from..].find(needle) {
                let start = from + pos + needle.len();
                from = start;
                let rest = html[start..].trim_start();
                let value: String = match rest.chars().next() {
                    Some(q @ ('"' | '\'')) => rest[1..].chars().take_while(|&c| c != q).collect(),
                    _ => rest.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != ')').collect(),
                };
                let value = value.trim();
                if !(value.starts_with("data:") || value.starts_with('#')) {
                    found.push(format!("{needle}{value}"));
                }
            }
        }
        found
    }

    pub(crate) fn sample_notebook() -> Notebook {
        let mut nb = Notebook::new();
        nb.metadata.insert("kernelspec".into(), json!({"name": "python3", "language": "python"}));
        nb.cells.push(Cell::markdown("# Daily hunt\n\nSome *text* with `code <b>`."));
        let mut code = Cell::code("import os\nprint('hi')  # say hi");
        code.execution_count = Some(1);
        code.outputs.push(Output::stream("stdout", "hi\n"));
        let mut data = crate::JsonMap::new();
        data.insert("text/plain".into(), json!("   a\n0  1"));
        data.insert("text/html".into(), json!("<table class=\"dataframe\"><tr><td>1</td></tr></table>"));
        code.outputs.push(Output::ExecuteResult {
            execution_count: Some(1),
            data,
            metadata: crate::JsonMap::new(),
            extra: crate::JsonMap::new(),
        });
        nb.cells.push(code);
        let mut failing = Cell::code("x = 1/0  # boom");
        failing.execution_count = Some(2);
        failing.outputs.push(Output::error(
            "ZeroDivisionError",
            "division by zero",
            vec!["\u{1b}[0;31mZeroDivisionError\u{1b}[0m: division by zero".into()],
        ));
        nb.cells.push(failing);
        nb
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape("<a href='x'>\"&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
    }

    #[test]
    fn page_is_complete_small_and_self_contained() {
        let html = to_html(&sample_notebook(), &ExportOptions::default());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.len() < 100_000, "{} bytes", html.len());
        assert!(!html.contains("<script"));
        assert_eq!(external_refs(&html), Vec::<String>::new());
        assert!(html.contains("<title>Daily hunt</title>"));
        assert!(html.contains("In&nbsp;[1]:") && html.contains("Out[1]:"));
        assert!(html.contains("class=\"dataframe\""));
        assert!(html.contains("<code>code &lt;b&gt;</code>"));
    }

    #[test]
    fn the_reference_scanner_finds_external_refs() {
        let page = "<img src=\"https://cdn.example/x.png\"><a href='#ok'>a</a><a href=data:x>b</a>\
                    <div style=\"background:url(http://e/f)\"></div><link href=style.css>";
        assert_eq!(
            external_refs(page),
            ["src=https://cdn.example/x.png", "href=style.css", "url(http://e/f"]
        );
    }

    #[test]
    fn no_input_and_no_prompt() {
        let nb = sample_notebook();
        let html = to_html(&nb, &ExportOptions { no_input: true, ..Default::default() });
        assert!(!html.contains("say hi"), "input shown");
        assert!(!html.contains("In&nbsp;[") && !html.contains("Out["));
        assert!(html.contains("ZeroDivisionError"));
        let html = to_html(&nb, &ExportOptions { no_prompt: true, ..Default::default() });
        assert!(html.contains("say hi"));
        assert!(!html.contains("class=\"hb-prompt\"") && !html.contains("Out["));
    }

    #[test]
    fn hidden_source_and_outputs_are_honoured() {
        let mut nb = sample_notebook();
        nb.cells[1].hide_source();
        let html = to_html(&nb, &ExportOptions::default());
        assert!(!html.contains("say hi"), "source_hidden input shown");
        assert!(html.contains("class=\"dataframe\""), "outputs of a source_hidden cell must stay");
        nb.cells[1].metadata_object("jupyter").insert("outputs_hidden".into(), json!(true));
        let html = to_html(&nb, &ExportOptions::default());
        assert!(!html.contains("class=\"dataframe\""));
        let id = nb.cells[1].id.clone().unwrap();
        assert!(!html.contains(&format!("id=\"cell-{id}\"")), "a cell with nothing visible is left out");
    }

    #[test]
    fn removal_tags_are_honoured() {
        let mut nb = sample_notebook();
        nb.cells[1].set_tags(&["remove-input"]);
        nb.cells[2].set_tags(&["remove-output"]);
        let html = to_html(&nb, &ExportOptions::default());
        assert!(!html.contains("say hi") && html.contains("class=\"dataframe\""));
        assert!(html.contains("# boom") && !html.contains("ZeroDivisionError"));
        nb.cells[0].set_tags(&["remove-cell"]);
        nb.cells[2].set_tags(&["remove-cell"]);
        let html = to_html(&nb, &ExportOptions { title: Some("T".into()), ..Default::default() });
        assert!(!html.contains("Some <em>text</em>") && !html.contains("# boom"));
    }

    #[test]
    fn raw_cells() {
        let mut nb = Notebook::new();
        let mut html_cell = Cell::markdown("<b>bold</b>");
        html_cell.cell_type = CellType::Raw;
        html_cell.metadata.insert("format".into(), json!("text/html"));
        let mut other = Cell::markdown("<i>not html</i>");
        other.cell_type = CellType::Raw;
        other.metadata.insert("format".into(), json!("text/x-rst"));
        nb.cells.extend([html_cell, other]);
        nb.cells.push(Cell::markdown("  \n"));
        let html = to_html(&nb, &ExportOptions::default());
        assert_eq!(html.matches("<section").count(), 2, "an empty cell is left out");
        assert!(html.contains("<b>bold</b>"));
        assert!(html.contains("<pre class=\"hb-raw\">&lt;i&gt;not html&lt;/i&gt;</pre>"));
    }

    #[test]
    fn titles() {
        let mut nb = sample_notebook();
        assert_eq!(default_title(&nb).as_deref(), Some("Daily hunt"));
        nb.metadata.insert("title".into(), json!("From metadata"));
        assert_eq!(default_title(&nb).as_deref(), Some("From metadata"));
        let html = to_html(&nb, &ExportOptions { title: Some("<Mine>".into()), ..Default::default() });
        assert!(html.contains("<title>&lt;Mine&gt;</title>"));
        assert_eq!(default_title(&Notebook::new()), None);
        assert!(to_html(&Notebook::new(), &ExportOptions::default()).contains("<title>Notebook</title>"));
    }

    #[test]
    fn cell_sources_cannot_inject_html() {
        let mut nb = Notebook::new();
        nb.cells.push(Cell::code("s = '</code></pre><script>alert(1)</script>'"));
        let mut raw = Cell::markdown("</pre><script>x</script>");
        raw.cell_type = CellType::Raw;
        nb.cells.push(raw);
        let html = to_html(&nb, &ExportOptions::default());
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn markdown_attachments_are_read_from_the_cell() {
        let text = r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "![logo](attachment:logo.png)",
             "attachments": {"logo.png": {"image/png": "iVBORw0KGgo="}}}]}"#;
        let nb = crate::io::parse(text, "t.ipynb").unwrap();
        let html = to_html(&nb, &ExportOptions::default());
        assert!(html.contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"logo\""), "{html}");
        assert_eq!(external_refs(&html), Vec::<String>::new());
    }

    #[test]
    fn failed_cells_are_marked() {
        let mut nb = sample_notebook();
        nb.cells[2].metadata.insert("papermill".into(), json!({"status": "failed", "exception": true}));
        let html = to_html(&nb, &ExportOptions::default());
        assert!(html.contains("hb-code hb-failed"));
    }
}
