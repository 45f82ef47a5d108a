//! Building scrap outputs in scrapbook's exact shape, so that scrapbook reads them.

use serde_json::{json, Value};

use super::{scrap_mime, SCRAP_VERSION};
use crate::model::{JsonMap, Output};

/// Why a scrap output could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScrapError {
    #[error("scrap {name:?} has null data; scrapbook's format forbids null (record a value, or skip the scrap)")]
    NullData { name: String },
    #[error("scrap {name:?} has an empty encoder name (use `text`, `json` or `pandas`)")]
    NoEncoder { name: String },
}

/// The `display_data` output that records `data` under `name`, as scrapbook's
/// `glue(name, data, encoder)` writes it: the payload `{name, data, encoder, version: 1}`
/// under `application/scrapbook.scrap.<encoder>+json`, and the output metadata
/// `{"scrapbook": {name, data: true, display: false}}`.
///
/// `data` must already be encoded (a `pandas` scrap is base64 Parquet text).
pub fn scrap_output(name: &str, data: Value, encoder: &str) -> Result<Output, ScrapError> {
    if data.is_null() {
        return Err(ScrapError::NullData { name: name.to_string() });
    }
    if encoder.is_empty() {
        return Err(ScrapError::NoEncoder { name: name.to_string() });
    }
    let payload = json!({"name": name, "data": data, "encoder": encoder, "version": SCRAP_VERSION});
    let mut bundle = JsonMap::new();
    bundle.insert(scrap_mime(encoder), payload);
    Ok(Output::display(bundle, marker(name, true)))
}

/// The `display_data` output that shows `bundle` (a MIME bundle such as
/// `{"text/html": …, "text/plain": …}`) as the display of scrap `name`, marked with
/// `{"scrapbook": {name, data: false, display: true}}`.
pub fn display_output(name: &str, bundle: JsonMap) -> Output {
    Output::display(bundle, marker(name, false))
}

fn marker(name: &str, data: bool) -> JsonMap {
    let mut metadata = JsonMap::new();
    metadata.insert("scrapbook".into(), json!({"name": name, "data": data, "display": !data}));
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_output_has_scrapbooks_exact_shape() {
        let output = scrap_output("n", json!(12), "json").unwrap();
        assert_eq!(
            serde_json::to_value(&output).unwrap(),
            json!({
                "output_type": "display_data",
                "data": {"application/scrapbook.scrap.json+json": {"name": "n", "data": 12, "encoder": "json", "version": 1}},
                "metadata": {"scrapbook": {"name": "n", "data": true, "display": false}}
            })
        );
    }

    #[test]
    fn display_output_is_marked_as_display() {
        let mut bundle = JsonMap::new();
        bundle.insert("text/plain".into(), json!("12"));
        let value = serde_json::to_value(display_output("n", bundle)).unwrap();
        assert_eq!(value["metadata"], json!({"scrapbook": {"name": "n", "data": false, "display": true}}));
        assert_eq!(value["data"], json!({"text/plain": "12"}));
    }

    #[test]
    fn null_data_and_empty_encoder_are_refused() {
        let err = scrap_output("gone", Value::Null, "json").unwrap_err();
        assert!(err.to_string().contains("\"gone\" has null data"), "{err}");
        assert_eq!(scrap_output("x", json!(1), ""), Err(ScrapError::NoEncoder { name: "x".into() }));
    }

    #[test]
    fn written_scraps_survive_a_file_round_trip() {
        let mut nb = crate::Notebook::new();
        let mut cell = crate::Cell::code("");
        cell.outputs.push(scrap_output("multi", json!("line one\nline two\n"), "text").unwrap());
        nb.cells.push(cell);
        let again = crate::io::parse(&crate::io::to_string(&nb), "round-trip").unwrap();
        let scraps = super::super::read_scraps(&again);
        assert_eq!(scraps.get("multi").unwrap().data, Some(json!("line one\nline two\n")));
    }
}
