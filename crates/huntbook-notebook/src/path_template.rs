//! Output path templates: `out/{year}/{month}/triage_{ip_address}_{run_id}.ipynb`.
//!
//! Fields are written `{name}` as in papermill's path formatting (`{{` and `}}` are
//! literal braces; `{n:03d}` and `{x:.2f}` format numbers). A field is a built-in
//! ([`Builtins`]) or a parameter name; an unknown name is an error that names it.
//! Text that comes from a parameter is sanitised so that no value can move the path:
//! separators, `..` and control characters become `_`.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::params::{py_float_repr, ParamValue, Parameters};

/// Values of the built-in fields.
#[derive(Debug, Clone)]
pub struct Builtins {
    pub now: DateTime<Utc>,
    pub run_id: String,
    /// The input notebook's file stem.
    pub notebook: String,
}

/// Why a template could not be filled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("output path {template:?} uses {{{name}}}, which is neither a parameter nor a built-in ({builtins}); pass it with -p {name} VALUE")]
    Missing { template: String, name: String, builtins: &'static str },
    #[error("output path {template:?} has an unmatched '{brace}' at byte {at}; write '{brace}{brace}' for a literal brace")]
    Unmatched { template: String, brace: char, at: usize },
    #[error("output path {template:?}: format spec ':{spec}' cannot format {name}")]
    Spec { template: String, name: String, spec: String },
}

const BUILTIN_NAMES: &str = "year, month, day, date, time, run_id, notebook";

/// Whether the path contains template fields at all.
pub fn is_template(path: &str) -> bool {
    path.contains('{')
}

/// Fills the fields of `template`.
pub fn render(template: &str, params: &Parameters, builtins: &Builtins) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    let offset = |rest: &str| template.len() - rest.len();
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let brace = rest.as_bytes()[pos] as char;
        let after = &rest[pos + 1..];
        if after.starts_with(brace) {
            out.push(brace);
            rest = &after[1..];
            continue;
        }
        if brace == '}' {
            return Err(TemplateError::Unmatched { template: template.into(), brace, at: offset(rest) + pos });
        }
        let Some(end) = after.find('}') else {
            return Err(TemplateError::Unmatched { template: template.into(), brace, at: offset(rest) + pos });
        };
        let field = &after[..end];
        let (name, spec) = field.split_once(':').unwrap_or((field, ""));
        out.push_str(&field_value(template, name.trim(), spec, params, builtins)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn field_value(
    template: &str,
    name: &str,
    spec: &str,
    params: &Parameters,
    builtins: &Builtins,
) -> Result<String, TemplateError> {
    let now = builtins.now;
    let builtin = match name {
        "year" => Some(ParamValue::Int(now.year().to_string())),
        "month" => Some(ParamValue::Str(format!("{:02}", now.month()))),
        "day" => Some(ParamValue::Str(format!("{:02}", now.day()))),
        "date" => Some(ParamValue::Str(now.format("%Y-%m-%d").to_string())),
        "time" => Some(ParamValue::Str(format!("{:02}{:02}{:02}", now.hour(), now.minute(), now.second()))),
        "run_id" => Some(ParamValue::Str(builtins.run_id.clone())),
        "notebook" => Some(ParamValue::Str(builtins.notebook.clone())),
        _ => None,
    };
    // A parameter of the same name wins, as user parameters do in papermill.
    let value = match params.get(name) {
        Some(v) => v.clone(),
        None => builtin.ok_or_else(|| TemplateError::Missing {
            template: template.into(),
            name: name.into(),
            builtins: BUILTIN_NAMES,
        })?,
    };
    let text = format_value(&value, spec).ok_or_else(|| TemplateError::Spec {
        template: template.into(),
        name: name.into(),
        spec: spec.into(),
    })?;
    Ok(sanitise(&text))
}

/// The text of a value under a (small) subset of Python's format spec language.
fn format_value(value: &ParamValue, spec: &str) -> Option<String> {
    if spec.is_empty() {
        return Some(plain_text(value));
    }
    let (zero, rest) = match spec.strip_prefix('0') {
        Some(r) => (true, r),
        None => (false, spec),
    };
    if let Some(width) = rest.strip_suffix('d') {
        let ParamValue::Int(n) = value else { return None };
        let width: usize = if width.is_empty() { 0 } else { width.parse().ok()? };
        let (sign, digits) = n.strip_prefix('-').map_or(("", n.as_str()), |d| ("-", d));
        let pad = width.saturating_sub(sign.len() + digits.len());
        return Some(if zero {
            format!("{sign}{}{digits}", "0".repeat(pad))
        } else {
            format!("{}{sign}{digits}", " ".repeat(pad))
        });
    }
    if let Some(precision) = rest.strip_prefix('.').and_then(|p| p.strip_suffix('f')) {
        let precision: usize = precision.parse().ok()?;
        let f = match value {
            ParamValue::Float(f) => *f,
            ParamValue::Int(n) => n.parse().ok()?,
            _ => return None,
        };
        return Some(format!("{f:.precision$}"));
    }
    None
}

fn plain_text(value: &ParamValue) -> String {
    match value {
        ParamValue::None => "None".into(),
        ParamValue::Bool(b) => if *b { "True" } else { "False" }.into(),
        ParamValue::Int(n) => n.clone(),
        ParamValue::Float(f) => py_float_repr(*f),
        ParamValue::Str(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}

/// Keeps a value inside its folder: path separators, `..`, control characters and
/// characters that shells or other systems treat specially become `_`.
pub fn sanitise(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '@' | '=' | ',') { c } else { '_' })
        .collect();
    let cleaned = cleaned.replace("..", "__");
    match cleaned.as_str() {
        "" => "_".into(),
        "." => "_".into(),
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn builtins() -> Builtins {
        Builtins { now: Utc.with_ymd_and_hms(2024, 7, 1, 13, 5, 9).unwrap(), run_id: "r1".into(), notebook: "triage".into() }
    }

    fn params(pairs: &[(&str, ParamValue)]) -> Parameters {
        let mut p = Parameters::new();
        for (k, v) in pairs {
            p.set(*k, v.clone());
        }
        p
    }

    #[test]
    fn fills_builtins_and_parameters() {
        let p = params(&[("ip_address", ParamValue::Str("1.2.3.4".into())), ("n", ParamValue::Int("7".into()))]);
        let out = render("out/{year}/{month}/{day}/{notebook}_{ip_address}_{run_id}_{n:03d}_{time}.ipynb", &p, &builtins());
        assert_eq!(out.unwrap(), "out/2024/07/01/triage_1.2.3.4_r1_007_130509.ipynb");
        assert_eq!(render("{{literal}}-{date}", &p, &builtins()).unwrap(), "{literal}-2024-07-01");
    }

    #[test]
    fn numbers_read_as_python_prints_them() {
        let p = params(&[("f", ParamValue::Float(1e20)), ("g", ParamValue::Float(0.5)), ("b", ParamValue::Bool(true))]);
        assert_eq!(render("{f}_{g}_{b}_{g:.3f}", &p, &builtins()).unwrap(), "1e+20_0.5_True_0.500");
    }

    #[test]
    fn missing_names_and_bad_braces_are_errors() {
        let err = render("out/{host}.ipynb", &Parameters::new(), &builtins()).unwrap_err();
        assert!(err.to_string().contains("{host}") && err.to_string().contains("-p host"), "{err}");
        assert!(matches!(render("out/{x", &Parameters::new(), &builtins()), Err(TemplateError::Unmatched { .. })));
        assert!(matches!(render("out/x}", &Parameters::new(), &builtins()), Err(TemplateError::Unmatched { .. })));
    }

    #[test]
    fn parameter_values_cannot_leave_the_folder() {
        for evil in ["../../etc/passwd", "/abs/path", "..", ".", "a\\b", "x\0y", "", "~/.ssh"] {
            let p = params(&[("v", ParamValue::Str(evil.into()))]);
            let out = render("out/{v}.ipynb", &p, &builtins()).unwrap();
            let rest = out.strip_prefix("out/").unwrap();
            assert!(!rest.contains('/') && !rest.contains("..") && !rest.contains('\\'), "{evil:?} -> {out}");
        }
    }
}
