//! Reading values out of a parsed YAML document, with errors that say which key held
//! the wrong kind of value.

use yaml_rust2::Yaml;

/// The value at `key` of a mapping (`None` for an absent key, a null value, or a value
/// that is not a mapping at all).
pub fn get<'a>(map: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match map {
        Yaml::Hash(h) => h
            .get(&Yaml::String(key.to_string()))
            .filter(|v| !v.is_null()),
        _ => None,
    }
}

/// A scalar as text: strings as they are, numbers and booleans as YAML wrote them.
pub fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A text at `key`, or an error message naming the key.
pub fn text(map: &Yaml, key: &str) -> Result<Option<String>, String> {
    match get(map, key) {
        None => Ok(None),
        Some(v) => scalar_text(v)
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be text")),
    }
}

/// A list of texts at `key`; a single text counts as a list of one, as MSTICPy reads
/// `aliases: name`.
pub fn text_list(map: &Yaml, key: &str) -> Result<Vec<String>, String> {
    match get(map, key) {
        None => Ok(Vec::new()),
        Some(Yaml::Array(items)) => items
            .iter()
            .map(|v| scalar_text(v).ok_or_else(|| format!("'{key}' must be a list of texts")))
            .collect(),
        Some(v) => scalar_text(v)
            .map(|s| vec![s])
            .ok_or_else(|| format!("'{key}' must be a list of texts")),
    }
}

/// The entries of a mapping at `key`, keys as text, in file order.
pub fn entries<'a>(map: &'a Yaml, key: &str) -> Result<Vec<(String, &'a Yaml)>, String> {
    match get(map, key) {
        None => Ok(Vec::new()),
        Some(Yaml::Hash(h)) => h
            .iter()
            .map(|(k, v)| {
                scalar_text(k)
                    .map(|k| (k, v))
                    .ok_or_else(|| format!("'{key}' has a key that is not text"))
            })
            .collect(),
        Some(_) => Err(format!("'{key}' must be a mapping")),
    }
}

/// A YAML value as JSON, for metadata that huntbook passes on without interpreting.
pub fn to_json(value: &Yaml) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .filter_map(|(k, v)| scalar_text(k).map(|k| (k, to_json(v))))
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}
