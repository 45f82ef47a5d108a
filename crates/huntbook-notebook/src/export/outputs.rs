//! Code-cell outputs to HTML: one MIME type per output, chosen by priority.
//!
//! The richest representation the page can show without loading anything wins:
//! HTML, SVG, bitmaps, markdown, LaTeX source, JSON, then plain text. Widget views,
//! JavaScript and unknown types are skipped, which also hides scrapbook's data-only
//! scraps: they carry only their `application/scrapbook.scrap.*+json` payload and have
//! nothing to show. HTML and SVG are inserted as they are, as Jupyter does for a
//! trusted notebook, scripts included: that is how huntbook's charts stay interactive
//! in a report. Every text representation is escaped.

use serde_json::Value;

use super::{ansi, escape, markdown, row};
use crate::model::{JsonMap, Output};

/// The MIME types shown, best first.
pub const PRIORITY: &[&str] = &[
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/markdown",
    "text/latex",
    "application/json",
    "text/plain",
];

/// The MIME type an output bundle is shown as, if any.
pub fn choose_mime(data: &JsonMap) -> Option<&'static str> {
    PRIORITY.iter().copied().find(|mime| match data.get(*mime) {
        Some(value) if *mime == "application/json" => !value.is_null(),
        Some(value) => text_of(value).is_some(),
        None => false,
    })
}

/// Renders a cell's outputs (consecutive stream outputs of one name are merged first,
/// so a progress bar written in many pieces is replayed as one text).
pub fn render(outputs: &[Output], prompts: bool) -> String {
    let mut out = String::new();
    let mut stream: Option<(&str, String)> = None;
    for output in outputs {
        if let Output::Stream { name, text, .. } = output {
            match &mut stream {
                Some((current, buffer)) if current == name => buffer.push_str(text),
                _ => {
                    flush_stream(&mut out, stream.take(), prompts);
                    stream = Some((name.as_str(), text.clone()));
                }
            }
            continue;
        }
        flush_stream(&mut out, stream.take(), prompts);
        match output {
            Output::DisplayData { data, metadata, .. } => {
                if let Some(body) = render_data(data, metadata) {
                    out.push_str(&row(prompts, "", "hb-output", &body));
                }
            }
            Output::ExecuteResult { data, metadata, execution_count, .. } => {
                if let Some(body) = render_data(data, metadata) {
                    let prompt = execution_count.map(|n| format!("Out[{n}]:")).unwrap_or_default();
                    out.push_str(&row(prompts, &prompt, "hb-output hb-result", &body));
                }
            }
            Output::Error { ename, evalue, traceback, .. } => {
                let text = if traceback.is_empty() { format!("{ename}: {evalue}") } else { traceback.join("\n") };
                let body = format!("<pre class=\"hb-error\">{}</pre>", ansi::to_html(&text));
                out.push_str(&row(prompts, "", "hb-output", &body));
            }
            Output::Stream { .. } => unreachable!("streams are handled above"),
        }
    }
    flush_stream(&mut out, stream, prompts);
    out
}

fn flush_stream(out: &mut String, stream: Option<(&str, String)>, prompts: bool) {
    let Some((name, text)) = stream else { return };
    let html = ansi::to_html(&text);
    if html.is_empty() {
        return;
    }
    let class = if name == "stderr" { "hb-stream hb-stderr" } else { "hb-stream" };
    out.push_str(&row(prompts, "", "hb-output", &format!("<pre class=\"{class}\">{html}</pre>")));
}

/// The HTML for a MIME bundle, wrapped in an element naming the chosen type.
pub fn render_data(data: &JsonMap, metadata: &JsonMap) -> Option<String> {
    let mime = choose_mime(data)?;
    let value = &data[mime];
    let body = match mime {
        "application/json" => {
            let text = match value {
                Value::String(s) => s.clone(),
                other => serde_json::to_string_pretty(other).unwrap_or_default(),
            };
            format!("<pre>{}</pre>", escape(&text))
        }
        _ => {
            let text = text_of(value)?;
            match mime {
                "text/html" => text,
                "image/svg+xml" => svg_body(&text).to_string(),
                "image/png" | "image/jpeg" | "image/gif" => image(mime, &text, metadata),
                "text/markdown" => markdown::render(&text, None),
                "text/latex" => format!("<pre class=\"hb-latex\">{}</pre>", escape(&text)),
                _ => format!("<pre>{}</pre>", ansi::to_html(&text)),
            }
        }
    };
    Some(format!("<div class=\"hb-out\" data-mime=\"{mime}\">{body}</div>"))
}

/// A string value, or a list of lines joined (as nbformat may store them).
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            Some(items.iter().filter_map(Value::as_str).collect())
        }
        _ => None,
    }
}

/// The `<svg>` element itself: an XML declaration or doctype has no place mid-page.
fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

fn image(mime: &str, base64: &str, metadata: &JsonMap) -> String {
    // Only base64 characters reach the attribute, whatever the notebook holds.
    let payload: String = base64.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
    let mut tag = format!("<img src=\"data:{mime};base64,{payload}\" alt=\"output image\"");
    for key in ["width", "height"] {
        let size = metadata
            .get(mime)
            .and_then(|m| m.get(key))
            .or_else(|| metadata.get(key))
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v > 0.0);
        if let Some(size) = size {
            tag.push_str(&format!(" {key}=\"{}\"", size.round() as u64));
        }
    }
    tag.push('>');
    tag
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(value: Value) -> JsonMap {
        value.as_object().unwrap().clone()
    }

    fn display(data: Value, metadata: Value) -> Output {
        Output::display(bundle(data), bundle(metadata))
    }

    #[test]
    fn mime_priority() {
        let all = bundle(json!({"text/plain": "p", "text/html": "<b>h</b>", "image/png": "AA==", "text/markdown": "m"}));
        assert_eq!(choose_mime(&all), Some("text/html"));
        assert_eq!(choose_mime(&bundle(json!({"text/plain": "p", "image/png": "AA=="}))), Some("image/png"));
        assert_eq!(choose_mime(&bundle(json!({"image/jpeg": "AA==", "image/svg+xml": "<svg/>"}))), Some("image/svg+xml"));
        assert_eq!(choose_mime(&bundle(json!({"text/plain": "p", "text/latex": "$x$"}))), Some("text/latex"));
        assert_eq!(choose_mime(&bundle(json!({"text/plain": "p", "application/json": {"a": 1}}))), Some("application/json"));
        let widget = bundle(json!({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "W"}));
        assert_eq!(choose_mime(&widget), Some("text/plain"));
        assert_eq!(choose_mime(&bundle(json!({"application/javascript": "alert(1)"}))), None);
        assert_eq!(choose_mime(&bundle(json!({"text/html": 5, "text/plain": "p"}))), Some("text/plain"), "malformed values are passed over");
    }

    #[test]
    fn scrapbook_data_scraps_are_not_shown() {
        let scrap = display(
            json!({"application/scrapbook.scrap.json+json": {"name": "n", "data": 12, "encoder": "json", "version": 1}}),
            json!({"scrapbook": {"name": "n", "data": true, "display": false}}),
        );
        assert_eq!(render(&[scrap], true), "");
        let shown = display(
            json!({"text/plain": "12", "application/scrapbook.scrap.display+json": {}}),
            json!({"scrapbook": {"name": "n", "data": false, "display": true}}),
        );
        assert!(render(&[shown], true).contains("data-mime=\"text/plain\"><pre>12</pre>"));
    }

    #[test]
    fn images_are_data_uris_with_sizes() {
        let png = display(json!({"image/png": "iVBO\nRw0K\"><script>", "text/plain": "<Figure>"}), json!({"image/png": {"width": 320, "height": 200.4}}));
        let html = render(&[png], false);
        assert!(html.contains("<img src=\"data:image/png;base64,iVBORw0Kscript\" alt=\"output image\" width=\"320\" height=\"200\">"), "{html}");
        let jpeg = display(json!({"image/jpeg": "/9j/"}), json!({"width": 10}));
        assert!(render(&[jpeg], false).contains("src=\"data:image/jpeg;base64,/9j/\" alt=\"output image\" width=\"10\">"));
    }

    #[test]
    fn svg_is_inlined_without_prolog() {
        let svg = display(json!({"image/svg+xml": "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"1\"></svg>"}), json!({}));
        assert!(render(&[svg], false).contains("data-mime=\"image/svg+xml\"><svg width=\"1\"></svg></div>"));
    }

    #[test]
    fn text_kinds_are_escaped() {
        let plain = display(json!({"text/plain": "<b>not bold</b>"}), json!({}));
        assert!(render(&[plain], false).contains("&lt;b&gt;not bold&lt;/b&gt;"));
        let latex = display(json!({"text/latex": "$<x>$"}), json!({}));
        assert!(render(&[latex], false).contains("<pre class=\"hb-latex\">$&lt;x&gt;$</pre>"));
        let json_out = display(json!({"application/json": {"k": "<v>"}}), json!({}));
        assert!(render(&[json_out], false).contains("<pre>{\n  &quot;k&quot;: &quot;&lt;v&gt;&quot;\n}</pre>"));
        let md = display(json!({"text/markdown": "**bold** `<t>`"}), json!({}));
        assert!(render(&[md], false).contains("<strong>bold</strong> <code>&lt;t&gt;</code>"));
        let html = display(json!({"text/html": "<i>as is</i>", "text/plain": "x"}), json!({}));
        assert!(render(&[html], false).contains("<i>as is</i>"));
    }

    #[test]
    fn streams_merge_and_stderr_is_distinct() {
        let outputs = [
            Output::stream("stderr", "  0%|          |\r"),
            Output::stream("stderr", " 50%|#####     |\r"),
            Output::stream("stderr", "100%|##########|\n"),
            Output::stream("stdout", "<done>\n"),
        ];
        let html = render(&outputs, false);
        assert_eq!(
            html,
            "<div class=\"hb-row hb-output\"><div class=\"hb-body\"><pre class=\"hb-stream hb-stderr\">100%|##########|</pre></div></div>\
             <div class=\"hb-row hb-output\"><div class=\"hb-body\"><pre class=\"hb-stream\">&lt;done&gt;</pre></div></div>"
        );
    }

    #[test]
    fn errors_show_the_coloured_traceback() {
        let tb = vec!["\u{1b}[0;31mValueError\u{1b}[0m: bad <input>".to_string()];
        let html = render(&[Output::error("ValueError", "bad <input>", tb)], true);
        assert!(html.contains("<pre class=\"hb-error\"><span class=\"ansi-red\">ValueError</span>: bad &lt;input&gt;</pre>"), "{html}");
        let html = render(&[Output::error("KeyError", "'<k>'", vec![])], true);
        assert!(html.contains("KeyError: &#39;&lt;k&gt;&#39;"));
    }

    #[test]
    fn execute_results_carry_their_prompt() {
        let result = Output::ExecuteResult {
            execution_count: Some(7),
            data: bundle(json!({"text/plain": "42"})),
            metadata: JsonMap::new(),
            extra: JsonMap::new(),
        };
        let html = render(std::slice::from_ref(&result), true);
        assert!(html.contains("<div class=\"hb-prompt\">Out[7]:</div>"));
        assert!(!render(&[result], false).contains("Out["));
    }
}
