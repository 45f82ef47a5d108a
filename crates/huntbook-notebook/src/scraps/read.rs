//! Reading scraps out of a notebook's outputs.
//!
//! Three kinds of output are read, in cell and output order:
//!
//! - scrapbook data outputs, `application/scrapbook.scrap.<encoder>+json` with the
//!   payload `{name, data, encoder, version}`;
//! - papermill's older `record()` outputs, `application/papermill.record+<encoder>` with
//!   the payload `{name: data}`;
//! - displays: any output whose `metadata.scrapbook.display` is true (its name in
//!   `metadata.scrapbook.name`), or, as papermill marked them, that has a
//!   `metadata.papermill.name`.

use std::collections::HashMap;

use serde_json::Value;

use super::{Scrap, ScrapWarning, Scraps, RECORD_MIME_PREFIX, SCRAP_MIME_PREFIX, SCRAP_VERSION};
use crate::model::{JsonMap, Notebook, Output};

/// Reads every scrap of `nb`.
///
/// Scraps keep the order in which their names first appear; a later output of the same
/// name replaces the earlier scrap, in place. Malformed payloads are skipped and
/// reported in [`Scraps::warnings`]; reading never fails.
///
/// **Where this differs from scrapbook:** `glue(name, value, display=True)` writes a
/// data output and then a display output under the same name. Scrapbook lets the
/// display replace the data, so the value is lost (`scraps[name].data is None`). Here
/// a display output joins the scrap of its name when that scrap's data was written
/// earlier in the same cell and it has no display yet: the scrap keeps its data and
/// encoder and gains the display. In every other case a display replaces the scrap
/// with a display-only one (encoder `display`), as in scrapbook.
pub fn read_scraps(nb: &Notebook) -> Scraps {
    let mut reader = Reader::default();
    for (cell, c) in nb.cells.iter().enumerate() {
        for (output, o) in c.outputs.iter().enumerate() {
            reader.read_output(cell, output, o);
        }
    }
    Scraps { scraps: reader.scraps, warnings: reader.warnings }
}

#[derive(Default)]
struct Reader {
    scraps: Vec<Scrap>,
    /// For each scrap, the cell its latest output came from.
    cells: Vec<usize>,
    index: HashMap<String, usize>,
    warnings: Vec<ScrapWarning>,
}

/// A scrap's value as found in one output.
struct Found {
    name: String,
    data: Value,
    encoder: String,
}

impl Reader {
    fn read_output(&mut self, cell: usize, output: usize, o: &Output) {
        let Some(bundle) = o.data() else { return };
        for (mime, payload) in bundle {
            let found = if mime.starts_with(RECORD_MIME_PREFIX) {
                record_payload(mime, payload)
            } else if mime.starts_with(SCRAP_MIME_PREFIX) {
                scrap_payload(mime, payload, |message| self.warn(cell, output, message))
            } else {
                continue;
            };
            match found {
                Ok(found) => self.put_data(cell, found),
                Err(message) => self.warn(cell, output, format!("{message}; the output is skipped")),
            }
        }
        if let Some(name) = o.metadata().and_then(display_name) {
            let display = match serde_json::to_value(o) {
                Ok(Value::Object(map)) => map,
                _ => return,
            };
            self.put_display(cell, name.to_string(), display);
        }
    }

    fn warn(&mut self, cell: usize, output: usize, message: String) {
        self.warnings.push(ScrapWarning { cell, output, message });
    }

    fn put_data(&mut self, cell: usize, found: Found) {
        let scrap = Scrap { name: found.name, data: Some(found.data), encoder: found.encoder, display: None };
        self.put(cell, scrap);
    }

    fn put_display(&mut self, cell: usize, name: String, display: JsonMap) {
        if let Some(&i) = self.index.get(&name) {
            let current = &mut self.scraps[i];
            if self.cells[i] == cell && current.data.is_some() && current.display.is_none() {
                current.display = Some(display);
                return;
            }
        }
        let scrap = Scrap { name, data: None, encoder: "display".into(), display: Some(display) };
        self.put(cell, scrap);
    }

    fn put(&mut self, cell: usize, scrap: Scrap) {
        match self.index.get(&scrap.name) {
            Some(&i) => {
                self.scraps[i] = scrap;
                self.cells[i] = cell;
            }
            None => {
                self.index.insert(scrap.name.clone(), self.scraps.len());
                self.scraps.push(scrap);
                self.cells.push(cell);
            }
        }
    }
}

/// A scrapbook payload `{name, data, encoder, version}`, checked against scrapbook's
/// v1 schema. A newer version is read as v1 with a warning, as scrapbook does.
fn scrap_payload(mime: &str, payload: &Value, mut warn: impl FnMut(String)) -> Result<Found, String> {
    let Some(obj) = payload.as_object() else {
        return Err(format!("`{mime}` payload is {}, not a JSON object", kind(payload)));
    };
    let name = match obj.get("name") {
        Some(Value::String(name)) => name.clone(),
        Some(other) => return Err(format!("`{mime}` payload has a `name` that is {}, not a string", kind(other))),
        None => return Err(format!("`{mime}` payload has no `name`")),
    };
    let version = match obj.get("version") {
        Some(v) => v
            .as_u64()
            .filter(|v| *v >= 1)
            .ok_or_else(|| format!("scrap {name:?} has version {v}, not a positive integer"))?,
        None => return Err(format!("scrap {name:?} has no `version`, so its format is unknown")),
    };
    if version > SCRAP_VERSION {
        warn(format!(
            "scrap {name:?} was written with payload version {version}, newer than the version {SCRAP_VERSION} \
             huntbook knows; it is read as version {SCRAP_VERSION}"
        ));
    }
    let encoder = match obj.get("encoder") {
        Some(Value::String(encoder)) => encoder.clone(),
        Some(other) => return Err(format!("scrap {name:?} has an `encoder` that is {}, not a string", kind(other))),
        None => return Err(format!("scrap {name:?} has no `encoder`")),
    };
    let data = match obj.get("data") {
        None => return Err(format!("scrap {name:?} has no `data`")),
        Some(Value::Null) => return Err(format!("scrap {name:?} has null `data`, which scrapbook's schema forbids")),
        Some(data) => decode(&encoder, data.clone()),
    };
    Ok(Found { name, data, encoder })
}

/// A papermill `record()` payload: `{name: data}`, the encoder named by the MIME type.
fn record_payload(mime: &str, payload: &Value) -> Result<Found, String> {
    let encoder = mime[RECORD_MIME_PREFIX.len()..].get(1..).unwrap_or_default();
    if encoder.is_empty() {
        return Err(format!("`{mime}` names no encoder (expected e.g. `{RECORD_MIME_PREFIX}+json`)"));
    }
    let Some(obj) = payload.as_object() else {
        return Err(format!("`{mime}` payload is {}, not a JSON object", kind(payload)));
    };
    let mut entries = obj.iter();
    let (Some((name, data)), None) = (entries.next(), entries.next()) else {
        return Err(format!("`{mime}` payload has {} keys; a record holds exactly one", obj.len()));
    };
    if data.is_null() {
        return Err(format!("record {name:?} has null data"));
    }
    Ok(Found { name: name.clone(), data: decode(encoder, data.clone()), encoder: encoder.to_string() })
}

/// A `json` scrap stored as a string holding JSON is read as that JSON, as scrapbook's
/// decoder does; every other value is kept as stored.
fn decode(encoder: &str, data: Value) -> Value {
    match (&data, encoder) {
        (Value::String(text), "json") => match serde_json::from_str::<Value>(text) {
            Ok(parsed) if !parsed.is_null() => parsed,
            _ => data,
        },
        _ => data,
    }
}

/// The scrap name of a display output, from its output metadata.
fn display_name(metadata: &JsonMap) -> Option<&str> {
    // Papermill's marker takes precedence, whether or not it names the output.
    if let Some(papermill) = metadata.get("papermill") {
        return papermill.get("name")?.as_str().filter(|n| !n.is_empty());
    }
    let scrapbook = metadata.get("scrapbook")?;
    if !truthy(scrapbook.get("display")?) {
        return None;
    }
    scrapbook.get("name")?.as_str().filter(|n| !n.is_empty())
}

/// Python's truthiness of a JSON value: scrapbook tests the `display` flag that way,
/// and scraps such as a `finding` flag are read by it.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Cell;
    use crate::scraps::{display_output, scrap_output};

    fn notebook(cells: Vec<Vec<Value>>) -> Notebook {
        let mut nb = Notebook::new();
        for outputs in cells {
            let mut cell = Cell::code("");
            cell.outputs = outputs.into_iter().map(|o| serde_json::from_value(o).unwrap()).collect();
            nb.cells.push(cell);
        }
        nb
    }

    fn glued(name: &str, data: Value, encoder: &str) -> Value {
        serde_json::to_value(scrap_output(name, data, encoder).unwrap()).unwrap()
    }

    fn shown(name: &str, bundle: Value) -> Value {
        serde_json::to_value(display_output(name, bundle.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn reads_scrapbook_data_outputs_exactly_as_written() {
        // The literal output scrapbook 0.5 writes for glue("n", 12).
        let nb = notebook(vec![vec![json!({
            "output_type": "display_data",
            "data": {"application/scrapbook.scrap.json+json": {"name": "n", "data": 12, "encoder": "json", "version": 1}},
            "metadata": {"scrapbook": {"name": "n", "data": true, "display": false}}
        })]]);
        let scraps = read_scraps(&nb);
        assert_eq!(
            scraps.iter().collect::<Vec<_>>(),
            [&Scrap { name: "n".into(), data: Some(json!(12)), encoder: "json".into(), display: None }]
        );
        assert!(scraps.warnings().is_empty());
    }

    #[test]
    fn order_is_first_appearance_and_later_outputs_replace() {
        let nb = notebook(vec![
            vec![glued("a", json!("one"), "text"), glued("b", json!([1, 2]), "json")],
            vec![json!({"output_type": "stream", "name": "stdout", "text": "noise"})],
            vec![glued("a", json!({"k": true}), "json"), glued("c", json!("QUJD"), "pandas")],
        ]);
        let scraps = read_scraps(&nb);
        assert_eq!(scraps.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(scraps.get("a").unwrap().data, Some(json!({"k": true})));
        assert_eq!(scraps.get("a").unwrap().encoder, "json");
        assert_eq!(scraps.get("c").unwrap().parquet_bytes().unwrap().unwrap(), b"ABC");
        assert_eq!(scraps.get("b").unwrap().parquet_bytes(), None);
        assert_eq!(Value::Object(scraps.data_dict()), json!({"a": {"k": true}, "b": [1, 2], "c": "QUJD"}));
        // Serialised, the scraps keep their order, which a JSON value would sort away.
        let text = serde_json::to_string(&read_scraps(&notebook(vec![vec![glued("z", json!(1), "json"), glued("a", json!(2), "json")]])))
            .unwrap();
        assert_eq!(text, r#"{"z":{"data":1,"encoder":"json","display":null},"a":{"data":2,"encoder":"json","display":null}}"#);
    }

    #[test]
    fn reads_papermill_records_and_displays() {
        let nb = notebook(vec![vec![
            json!({"output_type": "display_data", "metadata": {},
                   "data": {"application/papermill.record+json": {"legacy": [1, "x"]}}}),
            json!({"output_type": "display_data", "metadata": {"papermill": {"name": "chart"}},
                   "data": {"text/plain": "<chart>"}}),
        ]]);
        let scraps = read_scraps(&nb);
        let legacy = scraps.get("legacy").unwrap();
        assert_eq!((legacy.data.clone(), legacy.encoder.as_str()), (Some(json!([1, "x"])), "json"));
        let chart = scraps.get("chart").unwrap();
        assert_eq!((chart.data.as_ref(), chart.encoder.as_str()), (None, "display"));
        assert_eq!(chart.display_bundle().unwrap()["text/plain"], "<chart>");
        assert_eq!(chart.display.as_ref().unwrap()["output_type"], "display_data");
        assert!(scraps.warnings().is_empty(), "{:?}", scraps.warnings());
    }

    #[test]
    fn display_joins_the_data_written_before_it_in_the_same_cell() {
        let bundle = json!({"text/plain": "12", "text/html": "<b>12</b>"});
        let nb = notebook(vec![vec![
            json!({"output_type": "stream", "name": "stdout", "text": "before"}),
            glued("n", json!(12), "json"),
            shown("n", bundle.clone()),
        ]]);
        let scraps = read_scraps(&nb);
        let n = scraps.get("n").unwrap();
        assert_eq!((n.data.clone(), n.encoder.as_str()), (Some(json!(12)), "json"));
        assert_eq!(Value::Object(n.display_bundle().unwrap().clone()), bundle);
        assert_eq!(n.display.as_ref().unwrap()["metadata"]["scrapbook"], json!({"name": "n", "data": false, "display": true}));
        assert_eq!(scraps.data_dict()["n"], 12);
        assert_eq!(scraps.display_dict().len(), 1);
    }

    #[test]
    fn display_from_another_cell_or_a_second_display_replaces() {
        let nb = notebook(vec![
            vec![glued("n", json!(1), "json")],
            vec![shown("n", json!({"text/plain": "later"}))],
            vec![glued("m", json!(1), "json"), shown("m", json!({"text/plain": "1"})), shown("m", json!({"text/plain": "again"}))],
            vec![shown("d", json!({"text/plain": "d"})), glued("d", json!("data"), "text")],
        ]);
        let scraps = read_scraps(&nb);
        let n = scraps.get("n").unwrap();
        assert_eq!((n.data.as_ref(), n.encoder.as_str()), (None, "display"));
        let m = scraps.get("m").unwrap();
        assert_eq!(m.data, None);
        assert_eq!(m.display_bundle().unwrap()["text/plain"], "again");
        // Data written after a display replaces it: glue never writes that order.
        let d = scraps.get("d").unwrap();
        assert_eq!((d.data.clone(), d.display.as_ref()), (Some(json!("data")), None));
    }

    #[test]
    fn a_later_data_output_drops_an_earlier_display() {
        let nb = notebook(vec![
            vec![glued("n", json!(1), "json"), shown("n", json!({"text/plain": "1"}))],
            vec![glued("n", json!(2), "json")],
        ]);
        let n = read_scraps(&nb).get("n").unwrap().clone();
        assert_eq!((n.data, n.display), (Some(json!(2)), None));
    }

    #[test]
    fn json_strings_holding_json_are_parsed() {
        let payload = |data: Value, encoder: &str| {
            json!({"output_type": "display_data", "metadata": {},
                   "data": {crate::scraps::scrap_mime(encoder): {"name": encoder.to_string() + "_" + &data.to_string(), "data": data, "encoder": encoder, "version": 1}}})
        };
        let nb = notebook(vec![vec![
            payload(json!("[1, 2]"), "json"),
            payload(json!("plain words"), "json"),
            payload(json!("[1, 2]"), "text"),
        ]]);
        let values: Vec<_> = read_scraps(&nb).into_iter().map(|s| s.data.unwrap()).collect();
        assert_eq!(values, [json!([1, 2]), json!("plain words"), json!("[1, 2]")]);
    }

    #[test]
    fn malformed_payloads_are_skipped_with_a_warning() {
        let mime = "application/scrapbook.scrap.json+json";
        let bad = |payload: Value| json!({"output_type": "display_data", "metadata": {}, "data": {mime: payload}});
        let nb = notebook(vec![
            vec![
                bad(json!("not an object")),
                bad(json!({"name": 3, "data": 1, "encoder": "json", "version": 1})),
                bad(json!({"name": "nulled", "data": null, "encoder": "json", "version": 1})),
                bad(json!({"name": "unversioned", "data": 1, "encoder": "json"})),
                bad(json!({"name": "badversion", "data": 1, "encoder": "json", "version": "one"})),
                bad(json!({"name": "noencoder", "data": 1, "version": 1})),
                bad(json!({"name": "nodata", "encoder": "json", "version": 1})),
            ],
            vec![
                json!({"output_type": "display_data", "metadata": {}, "data": {"application/papermill.record+json": {}}}),
                json!({"output_type": "display_data", "metadata": {}, "data": {"application/papermill.record": {"x": 1}}}),
                json!({"output_type": "display_data", "metadata": {}, "data": {"application/papermill.record+json": [1]}}),
                glued("good", json!(true), "json"),
            ],
        ]);
        let scraps = read_scraps(&nb);
        assert_eq!(scraps.names().collect::<Vec<_>>(), ["good"]);
        let warnings: Vec<String> = scraps.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 10, "{warnings:#?}");
        assert!(warnings[0].starts_with("cell 0, output 0: ") && warnings[0].contains("not a JSON object"));
        assert!(warnings[1].contains("`name` that is a number"));
        assert!(warnings[2].contains("\"nulled\" has null `data`"));
        assert!(warnings[3].contains("\"unversioned\" has no `version`"));
        assert!(warnings[4].contains("not a positive integer"));
        assert!(warnings[5].contains("no `encoder`"));
        assert!(warnings[6].contains("no `data`"));
        assert!(warnings[7].starts_with("cell 1, output 0: ") && warnings[7].contains("0 keys"));
        assert!(warnings[8].contains("names no encoder"));
        assert!(warnings[9].contains("not a JSON object"));
        assert!(warnings.iter().all(|w| w.ends_with("the output is skipped")));
    }

    #[test]
    fn newer_payload_versions_are_read_with_a_warning() {
        let nb = notebook(vec![vec![json!({"output_type": "display_data", "metadata": {},
            "data": {"application/scrapbook.scrap.json+json": {"name": "v2", "data": 1, "encoder": "json", "version": 2}}})]]);
        let scraps = read_scraps(&nb);
        assert_eq!(scraps.get("v2").unwrap().data, Some(json!(1)));
        assert_eq!(scraps.warnings().len(), 1);
        assert!(scraps.warnings()[0].message.contains("payload version 2"));
    }

    #[test]
    fn display_markers_follow_scrapbook() {
        let out = |metadata: Value| json!({"output_type": "display_data", "metadata": metadata, "data": {"text/plain": "x"}});
        let nb = notebook(vec![vec![
            out(json!({"scrapbook": {"name": "off", "data": false, "display": false}})),
            out(json!({"scrapbook": {"name": "", "display": true}})),
            // An unnamed papermill marker hides the scrapbook one, as in scrapbook.
            out(json!({"papermill": {}, "scrapbook": {"name": "hidden", "display": true}})),
            out(json!({"scrapbook": {"name": "on", "display": 1}})),
            json!({"output_type": "execute_result", "execution_count": 3, "metadata": {"scrapbook": {"name": "res", "display": true}},
                   "data": {"text/plain": "3"}}),
        ]]);
        let scraps = read_scraps(&nb);
        assert_eq!(scraps.names().collect::<Vec<_>>(), ["on", "res"]);
        assert_eq!(scraps.get("res").unwrap().display.as_ref().unwrap()["execution_count"], 3);
    }

    #[test]
    fn reads_a_notebook_file_written_by_scrapbook() {
        // Outputs as scrapbook 0.5 writes glue("df", frame) and glue("t", "hi", display=True),
        // in the on-disk layout (text split into lines).
        let text = r#"{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{
          "cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["glue()"],
          "outputs": [
            {"output_type": "display_data", "metadata": {"scrapbook": {"data": true, "display": false, "name": "t"}},
             "data": {"application/scrapbook.scrap.text+json": {"data": "hi", "encoder": "text", "name": "t", "version": 1}}},
            {"output_type": "display_data", "metadata": {"scrapbook": {"data": false, "display": true, "name": "t"}},
             "data": {"text/plain": ["'hi'"]}}
          ]}]}"#;
        let nb = crate::io::parse(text, "t.ipynb").unwrap();
        let scraps = read_scraps(&nb);
        let t = scraps.get("t").unwrap();
        assert_eq!(t.data, Some(json!("hi")));
        assert_eq!(t.display_bundle().unwrap()["text/plain"], "'hi'");
        assert_eq!(
            t.to_json()["display"],
            json!({"output_type": "display_data", "data": {"text/plain": "'hi'"},
                   "metadata": {"scrapbook": {"data": false, "display": true, "name": "t"}}})
        );
    }
}
