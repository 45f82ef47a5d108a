//! Markdown cells (and `text/markdown` outputs) to HTML.
//!
//! CommonMark through pulldown-cmark with the GitHub extensions notebooks use (tables,
//! strikethrough, task lists), plus what Jupyter adds on top:
//! - `attachment:NAME` images (markdown or inline HTML) become data URIs from the
//!   cell's `attachments`;
//! - headings get Jupyter's ids (text with spaces as `-`) so in-notebook `#links` work;
//! - `$…$` / `$$…$$` math is kept verbatim (no MathJax: the page loads nothing), and
//!   its underscores and stars are not taken for emphasis;
//! - fenced Python code is highlighted like code cells.
//!
//! Raw HTML passes through, as in Jupyter (papermill's error markers are HTML spans).
//! Images that are not embedded (remote URLs, files next to the notebook) are shown as
//! their alt text, the address in a tooltip: the page stays self-contained, and opening
//! a report never fetches anything, e.g. from an attacker-controlled host quoted in a
//! hunt. Links the author wrote stay links: following one is the reader's choice.

use base64::Engine;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use super::{escape, highlight};
use crate::model::JsonMap;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_MATH
}

/// Renders markdown; `attachments` is the cell's `attachments` map (name → MIME bundle).
pub fn render(source: &str, attachments: Option<&JsonMap>) -> String {
    let mut events: Vec<Event> = Vec::new();
    // For each open image: whether it was turned into a link.
    let mut images: Vec<bool> = Vec::new();
    let mut code_lang: Option<String> = None;
    let mut code_text = String::new();
    for event in Parser::new_ext(source, options()) {
        if code_lang.is_some() {
            match event {
                Event::Text(text) => code_text.push_str(&text),
                Event::End(TagEnd::CodeBlock) => {
                    let lang = code_lang.take().unwrap_or_default();
                    events.push(Event::Html(
                        format!(
                            "<pre><code class=\"language-{}\">{}</code></pre>\n",
                            escape(&lang),
                            highlight::highlight(&code_text, Some(&lang))
                        )
                        .into(),
                    ));
                    code_text.clear();
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(ref lang)))
                if matches!(lang.split_whitespace().next(), Some("python" | "py" | "ipython" | "python3")) =>
            {
                code_lang = Some(lang.split_whitespace().next().unwrap_or_default().to_string());
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                match embed(&dest_url, attachments) {
                    Some(data_uri) => {
                        images.push(false);
                        events.push(Event::Start(Tag::Image { link_type, dest_url: data_uri.into(), title, id }));
                    }
                    None => {
                        images.push(true);
                        events.push(Event::Html(
                            format!(
                                "<span class=\"hb-noimg\" title=\"image not embedded: {}\">[image: ",
                                escape(&dest_url)
                            )
                            .into(),
                        ));
                    }
                }
            }
            Event::End(TagEnd::Image) => {
                if images.pop().unwrap_or(false) {
                    events.push(Event::Html("]</span>".into()));
                } else {
                    events.push(Event::End(TagEnd::Image));
                }
            }
            Event::InlineMath(math) => {
                events.push(Event::InlineHtml(format!("<span class=\"hb-math\">${}$</span>", escape(&math)).into()))
            }
            Event::DisplayMath(math) => events.push(Event::InlineHtml(
                format!("<span class=\"hb-math hb-math-display\">$${}$$</span>", escape(&math)).into(),
            )),
            Event::Html(html) => events.push(Event::Html(resolve_html_attachments(html, attachments))),
            Event::InlineHtml(html) => events.push(Event::InlineHtml(resolve_html_attachments(html, attachments))),
            other => events.push(other),
        }
    }
    add_heading_ids(&mut events);
    let mut out = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// The plain text of the first heading, if any.
pub fn first_heading(source: &str) -> Option<String> {
    let mut text: Option<String> = None;
    for event in Parser::new_ext(source, options()) {
        match (&mut text, event) {
            (None, Event::Start(Tag::Heading { .. })) => text = Some(String::new()),
            (Some(t), Event::Text(s) | Event::Code(s) | Event::InlineMath(s)) => t.push_str(&s),
            (Some(t), Event::End(TagEnd::Heading(_))) => {
                let t = t.trim().to_string();
                if !t.is_empty() {
                    return Some(t);
                }
                text = None;
            }
            _ => {}
        }
    }
    None
}

/// Gives every heading without an id Jupyter's id (its text, spaces as `-`) and an
/// anchor link to itself.
fn add_heading_ids(events: &mut Vec<Event>) {
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { id: None, .. }) = &events[i] {
            let mut text = String::new();
            let mut end = i + 1;
            while end < events.len() && !matches!(events[end], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(s) | Event::Code(s) = &events[end] {
                    text.push_str(s);
                }
                end += 1;
            }
            let anchor: String = text.split_whitespace().collect::<Vec<_>>().join("-");
            if !anchor.is_empty() && end < events.len() {
                if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
                    *id = Some(CowStr::from(anchor.clone()));
                }
                let link = format!("<a class=\"hb-anchor\" href=\"#{}\">¶</a>", escape(&anchor));
                events.insert(end, Event::InlineHtml(link.into()));
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
}

/// A data URI for an image reference that can be embedded: `attachment:NAME` found in
/// the cell's attachments, or a URI that already is `data:`.
fn embed(url: &str, attachments: Option<&JsonMap>) -> Option<String> {
    if url.starts_with("data:") {
        return Some(url.to_string());
    }
    let name = url.strip_prefix("attachment:")?;
    let bundle = attachments?.get(name).or_else(|| attachments?.get(&percent_decode(name)))?.as_object()?;
    let (mime, data) = bundle.iter().find(|(mime, _)| mime.starts_with("image/"))?;
    let data = match data {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let payload = if mime == "image/svg+xml" && data.trim_start().starts_with('<') {
        base64::engine::general_purpose::STANDARD.encode(data.as_bytes())
    } else {
        data.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect()
    };
    Some(format!("data:{};base64,{payload}", escape(mime)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Replaces `src="attachment:NAME"` in raw HTML (`<img src="attachment:x.png">`).
fn resolve_html_attachments<'a>(html: CowStr<'a>, attachments: Option<&JsonMap>) -> CowStr<'a> {
    if attachments.is_none() || !html.contains("attachment:") {
        return html;
    }
    let mut out = String::with_capacity(html.len());
    let mut rest: &str = &html;
    while let Some(pos) = rest.find("attachment:") {
        let quote = rest[..pos].chars().last();
        let Some(q @ ('"' | '\'')) = quote else {
            out.push_str(&rest[..pos + 11]);
            rest = &rest[pos + 11..];
            continue;
        };
        let value_end = rest[pos..].find(q).map_or(rest.len(), |e| pos + e);
        match embed(&rest[pos..value_end], attachments) {
            Some(uri) => {
                out.push_str(&rest[..pos]);
                out.push_str(&uri);
            }
            None => out.push_str(&rest[..value_end]),
        }
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commonmark_and_extensions() {
        let html = render("# Title here\n\n*a* ~~b~~\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n", None);
        assert!(html.contains("<h1 id=\"Title-here\">Title here<a class=\"hb-anchor\" href=\"#Title-here\">¶</a></h1>"), "{html}");
        assert!(html.contains("<em>a</em> <del>b</del>"));
        assert!(html.contains("<table>") && html.contains("<td>2</td>"));
        assert!(html.contains("type=\"checkbox\""));
    }

    #[test]
    fn code_is_escaped() {
        let html = render("`<script>`\n\n```\n<img src=x onerror=alert(1)>\n```\n", None);
        assert!(html.contains("<code>&lt;script&gt;</code>"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("<script>") && !html.contains("<img"));
    }

    #[test]
    fn fenced_python_is_highlighted() {
        let html = render("```python\nimport os  # <x>\n```\n", None);
        assert!(html.contains("<pre><code class=\"language-python\"><span class=\"k\">import</span> os  <span class=\"c\"># &lt;x&gt;</span>\n</code></pre>"), "{html}");
    }

    #[test]
    fn math_is_verbatim() {
        let html = render("Energy $E = m_1 c^2 * x_2$ and $$\\sum_i a_i$$", None);
        assert!(html.contains("<span class=\"hb-math\">$E = m_1 c^2 * x_2$</span>"), "{html}");
        assert!(html.contains("$$\\sum_i a_i$$"));
        assert!(!html.contains("<em>"));
    }

    #[test]
    fn attachments_become_data_uris() {
        let attachments = json!({
            "pic.png": {"image/png": "iVBORw0KGgo=\n"},
            "my pic.svg": {"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>"}
        });
        let attachments = attachments.as_object();
        let html = render("![alt](attachment:pic.png) ![s](attachment:my%20pic.svg)", attachments);
        assert!(html.contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"alt\""), "{html}");
        assert!(html.contains("src=\"data:image/svg+xml;base64,PHN2Zy"), "{html}");
        let html = render("<img src=\"attachment:pic.png\" width=\"50\">", attachments);
        assert!(html.contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\" width=\"50\">"), "{html}");
    }

    #[test]
    fn images_that_cannot_be_embedded_become_links() {
        let html = render("![evil beacon](https://attacker.example/p.gif) ![m](attachment:missing.png)", None);
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(
            "<span class=\"hb-noimg\" title=\"image not embedded: https://attacker.example/p.gif\">[image: evil beacon]</span>"
        ));
        assert!(!html.contains("href"));
        assert!(html.contains("[image: m]"));
    }

    #[test]
    fn papermill_error_markers_render() {
        let marker = "<span id=\"papermill-error-cell\" style=\"color:red; font-size:2em;\">Execution using papermill encountered an exception here and stopped:</span>";
        let html = render(marker, None);
        assert!(html.contains(marker), "{html}");
        let header = "<span style=\"color:red;\">An Exception was encountered at '<a href=\"#papermill-error-cell\">In [3]</a>'.</span>";
        assert!(render(header, None).contains("<a href=\"#papermill-error-cell\">In [3]</a>"));
    }

    #[test]
    fn first_heading_text() {
        assert_eq!(first_heading("intro\n\n## The `ioc` *list*\n# Later").as_deref(), Some("The ioc list"));
        assert_eq!(first_heading("no heading"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%zz%2"), "a b%zz%2");
        assert_eq!(percent_decode("%aé%C3%A9"), "%aéé");
    }
}
