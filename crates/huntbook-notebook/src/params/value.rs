//! The value model of a parameter.

use serde_json::Value;

/// One parameter value. Mirrors the Python values papermill accepts: integers of any
/// size (kept as their decimal text), floats including nan and infinities, and dicts
/// whose keys are rendered as strings (papermill stringifies every key).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    None,
    Bool(bool),
    /// An integer of any size, as canonical decimal text (`-12`, `1000000000000000000000`).
    Int(String),
    Float(f64),
    Str(String),
    List(Vec<ParamValue>),
    /// Keys are the Python `str()` of the original key, in insertion order.
    Dict(Vec<(String, ParamValue)>),
}

/// Named parameters in insertion order; setting a name again replaces its value in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters(pub Vec<(String, ParamValue)>);

impl Parameters {
    pub fn new() -> Parameters {
        Parameters(Vec::new())
    }

    /// Sets `name`, keeping its first position if it was already set (dict semantics).
    pub fn set(&mut self, name: impl Into<String>, value: ParamValue) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Merges `other` over `self` (later wins).
    pub fn extend(&mut self, other: Parameters) {
        for (name, value) in other.0 {
            self.set(name, value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The JSON object stored in `metadata.papermill.parameters`.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(n, v)| (n.clone(), v.to_json())).collect())
    }
}

impl ParamValue {
    /// JSON for metadata. JSON has no nan/inf, so they become the strings "nan", "inf"
    /// and "-inf"; integers beyond i64/u64 are kept exact as JSON numbers when they fit,
    /// else as their decimal text.
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::None => Value::Null,
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::Int(text) => text
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| text.parse::<u64>().map(Value::from))
                .unwrap_or_else(|_| Value::String(text.clone())),
            ParamValue::Float(f) if f.is_nan() => Value::String("nan".into()),
            ParamValue::Float(f) if f.is_infinite() => {
                Value::String(if *f > 0.0 { "inf" } else { "-inf" }.into())
            }
            ParamValue::Float(f) => Value::from(*f),
            ParamValue::Str(s) => Value::String(s.clone()),
            ParamValue::List(items) => Value::Array(items.iter().map(ParamValue::to_json).collect()),
            ParamValue::Dict(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// The value from JSON (the Python API and JSON parameter files). Whole numbers
    /// become `Int`, other numbers `Float`.
    pub fn from_json(value: &Value) -> ParamValue {
        match value {
            Value::Null => ParamValue::None,
            Value::Bool(b) => ParamValue::Bool(*b),
            Value::Number(n) if n.is_i64() || n.is_u64() => ParamValue::Int(n.to_string()),
            Value::Number(n) => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => ParamValue::Str(s.clone()),
            Value::Array(items) => ParamValue::List(items.iter().map(ParamValue::from_json).collect()),
            Value::Object(map) => {
                ParamValue::Dict(map.iter().map(|(k, v)| (k.clone(), ParamValue::from_json(v))).collect())
            }
        }
    }
}

/// Python's `repr(float)`: the shortest text that reads back to the same float, in
/// fixed notation for decimal exponents -4..16 and scientific notation (`1e+20`,
/// `1e-07`) otherwise; `nan`, `inf`, `-inf` for the non-finite values.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's `{:e}` gives the shortest digit count that reads back, but on an exact tie
    // it may round the last digit up where Python's repr takes the correctly rounded
    // (half-even) digits, so the digits are re-made at that precision, which rounds
    // correctly, and kept when they still read back.
    let shortest = format!("{:e}", f);
    let digit_count = shortest.split_once('e').map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    let rounded = format!("{:.*e}", digit_count.saturating_sub(1), f);
    let sci = if rounded.parse::<f64>() == Ok(f) { rounded } else { shortest };
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() { first.to_string() } else { format!("{first}.{rest}") };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_first_position() {
        let mut p = Parameters::new();
        p.set("a", ParamValue::Int("1".into()));
        p.set("b", ParamValue::Int("2".into()));
        p.set("a", ParamValue::Str("x".into()));
        assert_eq!(p.0[0], ("a".to_string(), ParamValue::Str("x".into())));
        assert_eq!(p.0.len(), 2);
    }

    #[test]
    fn float_repr_matches_python() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.5, "1.5"),
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (706801869536214.2, "706801869536214.2"),
            (816978057328524.2, "816978057328524.2"),
            (100.0, "100.0"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want, "{f:?}");
        }
    }

    #[test]
    fn json_for_metadata() {
        let mut p = Parameters::new();
        p.set("n", ParamValue::Float(f64::NAN));
        p.set("i", ParamValue::Float(f64::NEG_INFINITY));
        p.set("big", ParamValue::Int("1000000000000000000000000".into()));
        p.set("k", ParamValue::Int("-5".into()));
        assert_eq!(
            p.to_json(),
            serde_json::json!({"n": "nan", "i": "-inf", "big": "1000000000000000000000000", "k": -5})
        );
    }
}
