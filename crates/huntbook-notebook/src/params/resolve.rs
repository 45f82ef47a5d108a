//! Command-line parameters: typing `-p` values and merging every source.
//!
//! Papermill types `-p NAME VALUE` with Python's own number parsing: whatever `int()`
//! accepts is an integer (so `1_000`, ` 5 ` and `٣` are integers), else whatever
//! `float()` accepts is a float (`1e3`, `nan`, `Infinity`), and only `True`, `False`
//! and `None` are special words. YAML sources (`-f`, `-y`, `-b`) follow YAML 1.1
//! instead (see [`super::yaml`]); `-r` values are always strings.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::numtext::{decimal_value, py_number_strip, signed, BigDecimal};
use super::{parse_yaml, ParamError, ParamValue, Parameters};

/// Types a `-p NAME VALUE` value as papermill's CLI does.
pub fn resolve_cli_value(text: &str) -> ParamValue {
    match text {
        "True" => return ParamValue::Bool(true),
        "False" => return ParamValue::Bool(false),
        "None" => return ParamValue::None,
        _ => {}
    }
    if let Some(int) = python_int(text) {
        return ParamValue::Int(int);
    }
    if let Some(float) = python_float(text) {
        return ParamValue::Float(float);
    }
    ParamValue::Str(text.to_string())
}

/// Python's base-10 `int(text)`: surrounding whitespace, a sign, Unicode decimal
/// digits, single underscores between digits. Returns canonical decimal text.
fn python_int(text: &str) -> Option<String> {
    let s = py_number_strip(text);
    let (negative, body) = split_sign(s);
    let digits = digits_with_underscores(body)?;
    Some(signed(negative, &BigDecimal::from_digits(digits, 10)))
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// The digit values of `digit (["_"] digit)*`, or None if `s` is not of that form.
fn digits_with_underscores(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut after_underscore = false;
    for c in s.chars() {
        if c == '_' {
            if out.is_empty() || after_underscore {
                return None;
            }
            after_underscore = true;
        } else {
            out.push(decimal_value(c)?);
            after_underscore = false;
        }
    }
    (!out.is_empty() && !after_underscore).then_some(out)
}

/// Python's `float(text)`: decimal syntax with optional exponent and underscores
/// between digits, or `nan`/`inf`/`infinity` in any case, all with surrounding
/// whitespace, a sign and Unicode digits allowed.
fn python_float(text: &str) -> Option<f64> {
    let s = py_number_strip(text);
    let (negative, body) = split_sign(s);
    let sign = if negative { -1.0 } else { 1.0 };
    match body.to_ascii_lowercase().as_str() {
        "nan" => return Some(f64::NAN),
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let ascii = |digits: Vec<u32>| digits.into_iter().map(|d| char::from(b'0' + d as u8)).collect::<String>();
    let int_digits = if int_part.is_empty() { String::new() } else { ascii(digits_with_underscores(int_part)?) };
    let frac_digits = match frac_part {
        Some("") | None => String::new(),
        Some(f) => ascii(digits_with_underscores(f)?),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let mut normal = format!("{int_digits}.{frac_digits}");
    if let Some(e) = exponent {
        let (exp_negative, exp_digits) = split_sign(e);
        let exp_digits = ascii(digits_with_underscores(exp_digits)?);
        normal.push_str(&format!("e{}{exp_digits}", if exp_negative { "-" } else { "" }));
    }
    // Rust's parser is correctly rounded, like Python's, so the values agree bit for bit.
    normal.parse::<f64>().ok().map(|f| sign * f)
}

/// Where the parameters of a run come from, merged in papermill's order whatever the
/// order of the calls: the injected paths, then every `-b`, every `-f`, every `-y`,
/// every `-p` and every `-r`. A later source overrides an earlier one; a name keeps the
/// position where it was first set.
#[derive(Debug, Clone, Default)]
pub struct ParameterSources {
    input_path: Option<String>,
    output_path: Option<String>,
    base64: Vec<String>,
    files: Vec<PathBuf>,
    yaml: Vec<String>,
    values: Vec<(String, String)>,
    raw: Vec<(String, String)>,
}

impl ParameterSources {
    pub fn new() -> ParameterSources {
        ParameterSources::default()
    }

    /// `--inject-input-path`: adds `PAPERMILL_INPUT_PATH`.
    pub fn inject_input_path(mut self, path: impl Into<String>) -> Self {
        self.input_path = Some(path.into());
        self
    }

    /// `--inject-output-path`: adds `PAPERMILL_OUTPUT_PATH`.
    pub fn inject_output_path(mut self, path: impl Into<String>) -> Self {
        self.output_path = Some(path.into());
        self
    }

    /// `-b/--parameters_base64`: base64 of a YAML document.
    pub fn base64(mut self, encoded: impl Into<String>) -> Self {
        self.base64.push(encoded.into());
        self
    }

    /// `-f/--parameters_file`: a YAML or JSON file.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// `-y/--parameters_yaml`: a YAML document.
    pub fn yaml(mut self, text: impl Into<String>) -> Self {
        self.yaml.push(text.into());
        self
    }

    /// `-p/--parameters NAME VALUE`: typed by [`resolve_cli_value`].
    pub fn value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.push((name.into(), value.into()));
        self
    }

    /// `-r/--parameters_raw NAME VALUE`: always a string.
    pub fn raw(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.raw.push((name.into(), value.into()));
        self
    }

    /// Reads, decodes and merges every source. Errors name the option and its value.
    pub fn resolve(&self) -> Result<Parameters, ParamError> {
        let mut params = Parameters::new();
        if let Some(path) = &self.input_path {
            params.set("PAPERMILL_INPUT_PATH", ParamValue::Str(path.clone()));
        }
        if let Some(path) = &self.output_path {
            params.set("PAPERMILL_OUTPUT_PATH", ParamValue::Str(path.clone()));
        }
        for encoded in &self.base64 {
            let text = decode_base64_yaml(encoded)?;
            params.extend(parse_yaml(&text, &format!("-b {}", abbreviate(encoded)))?);
        }
        for path in &self.files {
            params.extend(read_file(path)?);
        }
        for text in &self.yaml {
            params.extend(parse_yaml(text, &format!("-y {}", abbreviate(text)))?);
        }
        for (name, value) in &self.values {
            params.set(name.clone(), resolve_cli_value(value));
        }
        for (name, value) in &self.raw {
            params.set(name.clone(), ParamValue::Str(value.clone()));
        }
        Ok(params)
    }
}

/// Long option values are cut in messages so that the error stays readable.
fn abbreviate(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// Python's `base64.b64decode` as papermill calls it: characters outside the base64
/// alphabet are ignored, padding is required; the YAML must then be UTF-8.
fn decode_base64_yaml(encoded: &str) -> Result<String, ParamError> {
    let fail = |message: String| ParamError::Source {
        option: "-b/--parameters_base64".into(),
        value: abbreviate(encoded),
        message,
    };
    let cleaned: String =
        encoded.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| fail(format!("not valid base64 ({e}); encode the YAML with `base64 -w0`")))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("the decoded bytes are not UTF-8 text".into()))?;
    Ok(text)
}

fn read_file(path: &Path) -> Result<Parameters, ParamError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ParamError::Source {
        option: "-f/--parameters_file".into(),
        value: shown.clone(),
        message: format!("cannot read the file ({e})"),
    })?;
    parse_yaml(&text, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> ParamValue {
        ParamValue::Int(s.into())
    }

    #[test]
    fn words_ints_floats_and_strings() {
        assert_eq!(resolve_cli_value("True"), ParamValue::Bool(true));
        assert_eq!(resolve_cli_value("False"), ParamValue::Bool(false));
        assert_eq!(resolve_cli_value("None"), ParamValue::None);
        for s in ["true", "null", "0x10", "none", "1e", "1__0", "_1", "1_", "", " ", "1.2.3", "--1", "in f", "0b1"] {
            assert_eq!(resolve_cli_value(s), ParamValue::Str(s.into()), "{s:?}");
        }
        assert_eq!(resolve_cli_value("42"), int("42"));
        assert_eq!(resolve_cli_value(" -007\n"), int("-7"));
        assert_eq!(resolve_cli_value("+0"), int("0"));
        assert_eq!(resolve_cli_value("-0"), int("0"));
        assert_eq!(resolve_cli_value("1_000"), int("1000"));
        assert_eq!(resolve_cli_value("٣٤"), int("34"));
        assert_eq!(resolve_cli_value("\u{3000}１２\u{85}"), int("12"));
        assert_eq!(resolve_cli_value("\u{1c}12"), ParamValue::Str("\u{1c}12".into()));
        assert_eq!(resolve_cli_value("99999999999999999999999999"), int("99999999999999999999999999"));
        assert_eq!(resolve_cli_value("1e3"), ParamValue::Float(1000.0));
        assert_eq!(resolve_cli_value("1.5"), ParamValue::Float(1.5));
        assert_eq!(resolve_cli_value(".5"), ParamValue::Float(0.5));
        assert_eq!(resolve_cli_value("5."), ParamValue::Float(5.0));
        assert_eq!(resolve_cli_value("1_0.2_5e1_0"), ParamValue::Float(10.25e10));
        assert_eq!(resolve_cli_value("-Infinity"), ParamValue::Float(f64::NEG_INFINITY));
        assert_eq!(resolve_cli_value(" iNf "), ParamValue::Float(f64::INFINITY));
        assert_eq!(resolve_cli_value("-0.0"), ParamValue::Float(-0.0));
        assert!(matches!(resolve_cli_value("-NaN"), ParamValue::Float(f) if f.is_nan()));
        assert_eq!(resolve_cli_value("١.٥"), ParamValue::Float(1.5));
        assert_eq!(resolve_cli_value("1e400"), ParamValue::Float(f64::INFINITY));
    }

    #[test]
    fn sources_merge_in_papermill_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.yaml");
        std::fs::write(&file, "a: from-file\nb: from-file\nc: from-file\n").unwrap();
        // base64 of "a: from-b64\nz: 1\n"
        let b64 = base64::engine::general_purpose::STANDARD.encode("a: from-b64\nz: 1\n");
        let params = ParameterSources::new()
            .raw("d", "5")
            .value("c", "5")
            .value("d", "6")
            .yaml("b: from-y")
            .file(&file)
            .base64(b64)
            .inject_input_path("in.ipynb")
            .resolve()
            .unwrap();
        assert_eq!(
            params.0,
            vec![
                ("PAPERMILL_INPUT_PATH".into(), ParamValue::Str("in.ipynb".into())),
                ("a".into(), ParamValue::Str("from-file".into())),
                ("z".into(), int("1")),
                ("b".into(), ParamValue::Str("from-y".into())),
                ("c".into(), int("5")),
                ("d".into(), ParamValue::Str("5".into())),
            ]
        );
    }

    #[test]
    fn source_errors_name_the_option() {
        let err = ParameterSources::new().base64("bm90IGJhc2U2NA").resolve().unwrap_err();
        assert!(err.to_string().starts_with("-b/--parameters_base64 \"bm90IGJhc2U2NA\": not valid base64"), "{err}");
        let err = ParameterSources::new().file("/nonexistent/p.yaml").resolve().unwrap_err();
        assert!(err.to_string().starts_with("-f/--parameters_file /nonexistent/p.yaml: cannot read the file"), "{err}");
        let err = ParameterSources::new().yaml("a: [1").resolve().unwrap_err();
        assert!(matches!(&err, ParamError::Yaml { origin, .. } if origin == "-y \"a: [1\""), "{err}");
        // Characters outside the alphabet are ignored, as Python's b64decode does.
        let ok = ParameterSources::new().base64("YTog\nMQo=\n").resolve().unwrap();
        assert_eq!(ok.get("a"), Some(&int("1")));
    }
}
