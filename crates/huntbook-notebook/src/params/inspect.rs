//! The parameters a notebook declares, inferred from its `parameters` cell.
//!
//! This follows papermill's `PythonTranslator.inspect` (behind `--help-notebook` and
//! `papermill.inspect_notebook`): lines are grouped into definitions that start at a
//! line with an assignment, continuation lines of a multi-line value are joined with
//! their comments dropped, and each definition `name[: annotation] = value  # help`
//! gives a name, a type (annotation, else a `# type:` comment, else "None"), the
//! default as source text, and the help text.
//!
//! Deliberately better than papermill: quotes, comments and brackets are understood.
//! Papermill counts every `=` on a line and skips lines with two or more, so
//! `s = "a=b"`, `x = 1  # e.g. k=v` and `d = dict(a=1)` vanish, and it cuts a value at
//! the first `#` even inside a string. Here only `=` outside strings, comments and
//! brackets (and not part of `==`, `!=`, `<=`, `>=`) count, a `#` inside a string is
//! text, and lines inside an open bracket continue the definition they belong to.

use serde::Serialize;

use super::numtext::{py_is_space, py_strip};
use super::translate::{Language, Translator};
use super::{ParamError, Parameters};
use crate::model::Notebook;

/// One parameter declared in a notebook's `parameters` cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredParameter {
    pub name: String,
    /// The annotation or `# type:` comment, else "None" (unknown), as papermill.
    pub inferred_type_name: String,
    /// The default value as written in the cell.
    pub default: String,
    /// The trailing comment of the definition (empty when there is none).
    pub help: String,
}

/// The parameters declared by the first cell tagged `parameters`.
///
/// A notebook without kernel metadata is read as Python. Only Python cells can be
/// inspected (as in papermill); other languages give [`ParamError::InspectUnsupported`].
pub fn inspect(nb: &Notebook) -> Result<Vec<DeclaredParameter>, ParamError> {
    let index = nb.find_tagged("parameters").ok_or(ParamError::NoParametersCell)?;
    let (kernel, language) = (nb.kernel_name(), nb.language());
    if kernel.is_some() || language.is_some() {
        let translator = Translator::find(kernel, language)?;
        if translator.language != Language::Python {
            return Err(ParamError::InspectUnsupported {
                language: language.or(kernel).unwrap_or_default().to_string(),
            });
        }
    }
    Ok(inspect_source(&nb.cells[index].source))
}

/// The parameters declared in Python source text.
pub fn inspect_source(source: &str) -> Vec<DeclaredParameter> {
    let mut groups: Vec<Vec<(String, Option<usize>)>> = Vec::new();
    let mut current: Vec<(String, Option<usize>)> = Vec::new();
    let mut state = ScanState::default();
    for line in py_splitlines(source) {
        let trimmed = py_strip(line);
        if state.quote.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let at_top = state.depth == 0 && state.quote.is_none();
        let scan = scan_line(line, &mut state);
        if at_top && scan.assignments > 0 {
            groups.push(std::mem::take(&mut current));
            if scan.assignments > 1 {
                // Ambiguous (`a = b = 1`, `f = lambda x=1: x`): skipped, like papermill.
                continue;
            }
        }
        current.push((line.to_string(), scan.comment));
    }
    groups.push(current);
    groups.iter().filter_map(|g| parse_definition(&flatten(g))).collect()
}

/// Joins the lines of one definition, dropping the comments of all but the last line.
fn flatten(lines: &[(String, Option<usize>)]) -> String {
    let mut out = String::new();
    if let Some(((last, _), init)) = lines.split_last() {
        for (line, comment) in init {
            out.push_str(py_strip(&line[..comment.unwrap_or(line.len())]));
        }
        out.push_str(py_strip(last));
    }
    out
}

#[derive(Debug, Default)]
struct ScanState {
    /// The open string's quote character and whether it is triple-quoted.
    quote: Option<(char, bool)>,
    depth: usize,
}

struct LineScan {
    /// Assignment `=` signs at bracket depth 0, outside strings and comments.
    assignments: usize,
    /// Byte offset of the comment's `#`.
    comment: Option<usize>,
}

fn scan_line(line: &str, state: &mut ScanState) -> LineScan {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut scan = LineScan { assignments: 0, comment: None };
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|(_, c)| *c);
        if let Some((quote, triple)) = state.quote {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == quote {
                let closes = !triple || (next == Some(quote) && chars.get(i + 2).map(|(_, c)| *c) == Some(quote));
                if closes {
                    state.quote = None;
                    i += if triple { 3 } else { 1 };
                    continue;
                }
            }
            i += 1;
            continue;
        }
        match c {
            '#' => {
                scan.comment = Some(at);
                break;
            }
            '"' | '\'' => {
                let triple = next == Some(c) && chars.get(i + 2).map(|(_, c)| *c) == Some(c);
                state.quote = Some((c, triple));
                i += if triple { 3 } else { 1 };
                continue;
            }
            '(' | '[' | '{' => state.depth += 1,
            ')' | ']' | '}' => state.depth = state.depth.saturating_sub(1),
            '=' if state.depth == 0 => {
                let prev = i.checked_sub(1).map(|p| chars[p].1);
                let comparison = next == Some('=') || matches!(prev, Some('=' | '!' | '<' | '>'));
                if !comparison {
                    scan.assignments += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // A single-quoted string cannot continue on the next line.
    if matches!(state.quote, Some((_, false))) {
        state.quote = None;
    }
    scan
}

/// Byte offset of the first `#` outside a string literal.
fn comment_start(text: &str) -> Option<usize> {
    scan_line(text, &mut ScanState::default()).comment
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `name[: annotation] = value[  # [type: T] help]`, as papermill's pattern reads it.
fn parse_definition(def: &str) -> Option<DeclaredParameter> {
    let mut rest = def;
    let name_len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
    let name = &rest[..name_len];
    if name.is_empty() {
        return None;
    }
    rest = rest[name_len..].trim_start_matches(py_is_space);
    let mut annotation = None;
    if let Some(after_colon) = rest.strip_prefix(':') {
        let after = after_colon.trim_start_matches(py_is_space);
        let after = after.strip_prefix(['"', '\'']).unwrap_or(after);
        if !after.starts_with(is_word) {
            return None;
        }
        let len = after.find(|c: char| !(is_word(c) || matches!(c, '[' | ']' | ',') || py_is_space(c))).unwrap_or(after.len());
        annotation = Some(py_strip(&after[..len]).to_string());
        let tail = &after[len..];
        rest = tail.strip_prefix(['"', '\'']).unwrap_or(tail).trim_start_matches(py_is_space);
    }
    let rest = rest.strip_prefix('=')?;
    if rest.starts_with('=') {
        // `x == 1` compares; only reachable here in the text before the first assignment.
        return None;
    }
    let (value, comment) = match comment_start(rest) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut type_comment = None;
    let mut help = "";
    if let Some(comment) = comment {
        let comment = comment.trim_start_matches(py_is_space);
        match comment.strip_prefix("type:") {
            Some(typed) => {
                let typed = typed.trim_start_matches(py_is_space);
                let len = typed.find(py_is_space).unwrap_or(typed.len());
                type_comment = Some(&typed[..len]).filter(|t| !t.is_empty());
                help = &typed[len..];
            }
            None => help = comment,
        }
    }
    let inferred = annotation.filter(|a| !a.is_empty()).or(type_comment.map(str::to_string));
    Some(DeclaredParameter {
        name: name.to_string(),
        inferred_type_name: inferred.unwrap_or_else(|| "None".into()),
        default: py_strip(value).to_string(),
        help: py_strip(help).to_string(),
    })
}

/// Python's `str.splitlines()` (which also breaks at `\v`, `\f`, `\x1c`-`\x1e`,
/// `\x85`, U+2028 and U+2029).
fn py_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => {
                if let Some((_, '\n')) = chars.peek() {
                    chars.next();
                    i + 2
                } else {
                    i + 1
                }
            }
            '\n' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                i + c.len_utf8()
            }
            _ => continue,
        };
        lines.push(&s[start..i]);
        start = end;
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// The `--help-notebook` listing, as papermill prints it after the usage line.
pub fn format_help_notebook(path_display: &str, params: &[DeclaredParameter]) -> String {
    let mut out = format!("\nParameters inferred for notebook '{path_display}':\n");
    if params.is_empty() {
        out.push_str(
            "\n  Can't infer anything about this notebook's parameters. It may not have any parameter defined.\n",
        );
        return out;
    }
    for p in params {
        let type_name = if p.inferred_type_name == "None" { "Unknown type" } else { &p.inferred_type_name };
        let definition = format!("  {}: {} (default {})", p.name, type_name, p.default);
        let width = definition.chars().count();
        if width > 30 {
            out.push_str(&definition);
            if !p.help.is_empty() {
                out.push('\n');
                out.push_str(&" ".repeat(34));
                out.push_str(&p.help);
            }
        } else {
            out.push_str(&definition);
            out.push_str(&" ".repeat(34 - width));
            out.push_str(&p.help);
        }
        out.push('\n');
    }
    out
}

/// The `--help-notebook` text for a notebook without a `parameters` cell (papermill
/// then exits with status 1).
pub fn format_help_no_parameters_cell(path_display: &str) -> String {
    format!("\nParameters inferred for notebook '{path_display}':\n\n  No cell tagged 'parameters'\n")
}

/// Names passed that the notebook does not declare, in the order given (papermill
/// warns "Passed unknown parameter: NAME" for each).
pub fn unknown_names(declared: &[DeclaredParameter], given: &Parameters) -> Vec<String> {
    given
        .iter()
        .filter(|(name, _)| !declared.iter().any(|d| d.name == *name))
        .map(|(name, _)| name.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;

    fn p(name: &str, type_name: &str, default: &str, help: &str) -> DeclaredParameter {
        DeclaredParameter {
            name: name.into(),
            inferred_type_name: type_name.into(),
            default: default.into(),
            help: help.into(),
        }
    }

    #[test]
    fn papermill_style_definitions() {
        let src = "# Parameters\n\
                   import os\n\
                   a = 1  # the a param\n\
                   b: int = 2\n\
                   c: \"List[str]\" = ['x']  # type: ignored help\n\
                   d = 3.5  # type: float  the d param\n\
                   e = {\n    'k': 1,  # dropped\n    'j': 2,\n}  # after\n\
                   \n\
                   f: Optional[Dict[str, int]] = None\n\
                   g =   'x'   #   \n";
        assert_eq!(
            inspect_source(src),
            vec![
                p("a", "None", "1", "the a param"),
                p("b", "int", "2", ""),
                p("c", "List[str]", "['x']", "help"),
                p("d", "float", "3.5", "the d param"),
                p("e", "None", "{'k': 1,'j': 2,}", "after"),
                p("f", "Optional[Dict[str, int]]", "None", ""),
                p("g", "None", "'x'", ""),
            ]
        );
    }

    #[test]
    fn papermill_quirks_that_are_kept() {
        // A statement after a definition joins its value; a bare annotation is skipped.
        assert_eq!(inspect_source("a = 1\nprint(a)\n"), vec![p("a", "None", "1print(a)", "")]);
        assert_eq!(inspect_source("x: int\ny = 2"), vec![p("y", "None", "2", "")]);
        assert_eq!(inspect_source("a = b = 1\nc = 2"), vec![p("c", "None", "2", "")]);
        assert_eq!(inspect_source("x.y = 1\nz: pd.DataFrame = None\nw += 1"), vec![]);
        assert_eq!(inspect_source("t = 1  # type:\n"), vec![p("t", "None", "1", "")]);
        assert_eq!(inspect_source("x: int == 1\nx == 2\n"), vec![]);
    }

    #[test]
    fn strings_comments_and_brackets_are_understood() {
        assert_eq!(
            inspect_source("s = \"a=b\"\nh = 'x#y'  # has a # in it\nk = 1  # e.g. key=value\nq = a == b\n"),
            vec![
                p("s", "None", "\"a=b\"", ""),
                p("h", "None", "'x#y'", "has a # in it"),
                p("k", "None", "1", "e.g. key=value"),
                p("q", "None", "a == b", ""),
            ]
        );
        assert_eq!(
            inspect_source("d = dict(\n    a=1,\n    b=\"=\",\n)\nn = 2"),
            vec![p("d", "None", "dict(a=1,b=\"=\",)", ""), p("n", "None", "2", "")]
        );
        assert_eq!(
            inspect_source("doc = \"\"\"first\n# not a comment = x\n\"\"\"\nn = 1"),
            vec![p("doc", "None", "\"\"\"first# not a comment = x\"\"\"", ""), p("n", "None", "1", "")]
        );
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("a\r\nb\rc\u{2028}d\n"), ["a", "b", "c", "d"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("a\n\nb"), ["a", "", "b"]);
    }

    #[test]
    fn notebook_inspection() {
        let mut nb = Notebook::new();
        nb.cells.push(Cell::code("x = 0"));
        assert_eq!(inspect(&nb), Err(ParamError::NoParametersCell));
        let mut cell = Cell::code("alpha = 0.5  # smoothing");
        cell.set_tags(&["parameters"]);
        nb.cells.push(cell);
        assert_eq!(inspect(&nb).unwrap(), vec![p("alpha", "None", "0.5", "smoothing")]);
        nb.metadata.insert("kernelspec".into(), serde_json::json!({"name": "bash", "language": "bash"}));
        assert_eq!(inspect(&nb), Err(ParamError::InspectUnsupported { language: "bash".into() }));
        nb.metadata.insert("kernelspec".into(), serde_json::json!({"name": "python3", "language": "python"}));
        assert_eq!(inspect(&nb).unwrap().len(), 1);
    }

    #[test]
    fn help_listing() {
        let params = vec![
            p("a", "int", "1", "the a param"),
            p("long_parameter_name", "None", "'some long default'", "help here"),
            p("c", "None", "0", ""),
            p("very_long_parameter_name_without_help", "str", "''", ""),
        ];
        assert_eq!(
            format_help_notebook("nb.ipynb", &params),
            "\nParameters inferred for notebook 'nb.ipynb':\n\
             \x20 a: int (default 1)              the a param\n\
             \x20 long_parameter_name: Unknown type (default 'some long default')\n\
             \x20                                 help here\n\
             \x20 c: Unknown type (default 0)     \n\
             \x20 very_long_parameter_name_without_help: str (default '')\n"
        );
        assert!(format_help_notebook("x", &[]).contains("Can't infer anything"));
        assert_eq!(
            format_help_no_parameters_cell("x.ipynb"),
            "\nParameters inferred for notebook 'x.ipynb':\n\n  No cell tagged 'parameters'\n"
        );
    }

    #[test]
    fn unknown_parameter_names() {
        let declared = vec![p("a", "None", "1", "")];
        let mut given = Parameters::new();
        given.set("b", crate::params::ParamValue::None);
        given.set("a", crate::params::ParamValue::None);
        given.set("c", crate::params::ParamValue::None);
        assert_eq!(unknown_names(&declared, &given), ["b", "c"]);
    }
}
