//! A drawn chart: its spec (JSON) and the HTML that shows it.
//!
//! The HTML is a fragment: a `<div>` holding the spec in a
//! `<script type="application/json">`, then the shared runtime (`js/core.js`) and the
//! chart kind's script, then one call that draws the spec into the div. Every chart
//! carries its own copy of the scripts, so a fragment pasted anywhere (a notebook
//! output, an exported report, a page of several charts) draws without anything else;
//! the runtime defines itself once per page.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

const CORE_JS: &str = include_str!("../js/core.js");

/// A chart ready to show: [`Chart::fragment`] for a notebook output or a report,
/// [`Chart::page`] for a file of its own.
#[derive(Debug, Clone)]
pub struct Chart {
    kind: &'static str,
    script: &'static str,
    title: String,
    spec: Map<String, Value>,
}

impl Chart {
    /// A chart of `kind`, drawn by `script` (one of the files in `js/`) from `spec`.
    pub(crate) fn new(
        kind: &'static str,
        script: &'static str,
        title: String,
        mut spec: Map<String, Value>,
    ) -> Self {
        spec.insert("kind".into(), kind.into());
        spec.insert("title".into(), title.clone().into());
        Chart {
            kind,
            script,
            title,
            spec,
        }
    }

    /// What the chart shows (`"timeline"`, `"process_tree"`, ...).
    pub fn kind(&self) -> &str {
        self.kind
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    /// The JSON the script draws; tests and callers can read what will be shown.
    pub fn spec(&self) -> &Map<String, Value> {
        &self.spec
    }

    /// The chart as an HTML fragment: a notebook's `text/html` output, or a part of a
    /// page that holds other things.
    pub fn fragment(&self) -> String {
        let id = next_id();
        let spec = script_safe(&Value::Object(self.spec.clone()).to_string());
        format!(
            "<div class=\"hb-chart\" id=\"{id}\" data-kind=\"{kind}\">\
             <script type=\"application/json\">{spec}</script></div>\n\
             <script>{CORE_JS}</script>\n<script>{script}</script>\n\
             <script>huntbook.render(\"{id}\");</script>\n",
            kind = self.kind,
            script = self.script,
        )
    }

    /// The chart as a standalone HTML page.
    pub fn page(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title></head>\n<body style=\"margin:12px\">\n{body}</body></html>\n",
            title = escape_html(&self.title),
            body = self.fragment(),
        )
    }
}

/// Ids unique within a page that holds many charts (a notebook, a report): the
/// process id keeps charts made by two kernels of one notebook apart.
fn next_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "hb-{:x}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// JSON inside `<script>` must not close the element or open a comment: `</` and
/// `<!--` are written with an escaped `<`, which JSON reads back unchanged.
fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

/// Text for an HTML element or attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(title: &str, value: &str) -> Chart {
        let mut spec = Map::new();
        spec.insert("value".into(), value.into());
        Chart::new("test", "/* kind */", title.into(), spec)
    }

    #[test]
    fn text_from_the_data_cannot_close_the_script_element() {
        let html = chart("t", "</script><script>alert(1)</script><!--").fragment();
        assert!(!html.contains("</script><script>alert(1)"), "{html}");
        assert_eq!(
            html.matches("<!--").count(),
            CORE_JS.matches("<!--").count()
        );
        let start = html.find("application/json\">").unwrap() + 18;
        let end = html[start..].find("</script>").unwrap() + start;
        let spec: Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(spec["value"], "</script><script>alert(1)</script><!--");
        assert_eq!(spec["kind"], "test");
    }

    #[test]
    fn the_page_title_is_escaped_and_ids_differ() {
        let c = chart("<b>x</b> & y", "v");
        assert!(c
            .page()
            .contains("<title>&lt;b&gt;x&lt;/b&gt; &amp; y</title>"));
        let (a, b) = (c.fragment(), c.fragment());
        let id = |h: &str| h.split('"').nth(3).unwrap().to_string();
        assert_ne!(id(&a), id(&b));
    }

    #[test]
    fn nothing_is_fetched_from_the_network() {
        let page = chart("t", "v").page();
        for needle in [
            "src=\"http",
            "href=\"http",
            "@import",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!page.contains(needle), "{needle}");
        }
    }
}
