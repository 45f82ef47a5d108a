//! Collecting a running cell's outputs into the notebook, as Jupyter clients do.
//!
//! [`OutputCollector`] applies what the kernel publishes: new outputs are appended,
//! `clear_output` empties the cell (at once, or before the next output with
//! `wait=True`), and `update_display_data` rewrites in place every output that carries
//! the same `display_id`, in any cell. It also bounds memory: once a cell's outputs
//! pass the limit, further output is counted but not kept, and a visible notice at the
//! end of the cell says how much was dropped.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::model::{JsonMap, Notebook, Output};

/// The default limit on the output kept per cell.
pub const DEFAULT_CELL_OUTPUT_LIMIT: usize = 32 * 1024 * 1024;

/// Applies kernel output messages to the cells of a notebook.
#[derive(Debug)]
pub struct OutputCollector {
    limit: usize,
    /// display_id → (cell index, output index) of every output showing it.
    displays: HashMap<String, Vec<(usize, usize)>>,
    clear_before_next: bool,
    kept: usize,
    dropped: u64,
}

impl OutputCollector {
    /// A collector keeping at most `limit` bytes of output per cell.
    pub fn new(limit: usize) -> OutputCollector {
        OutputCollector { limit, displays: HashMap::new(), clear_before_next: false, kept: 0, dropped: 0 }
    }

    /// Resets the per-cell state before a cell runs.
    pub fn begin_cell(&mut self) {
        self.clear_before_next = false;
        self.kept = 0;
        self.dropped = 0;
    }

    /// Appends an output to cell `index`; `display_id` registers it for updates.
    pub fn push(&mut self, nb: &mut Notebook, index: usize, output: Output, display_id: Option<&str>) {
        if self.clear_before_next {
            self.clear_now(nb, index);
        }
        let Some(output) = self.within_limit(output) else { return };
        let outputs = &mut nb.cells[index].outputs;
        outputs.push(output);
        if let Some(id) = display_id {
            self.displays.entry(id.to_string()).or_default().push((index, outputs.len() - 1));
        }
    }

    /// `clear_output`: now, or (with `wait`) just before the next output arrives.
    pub fn clear(&mut self, nb: &mut Notebook, index: usize, wait: bool) {
        if wait {
            self.clear_before_next = true;
        } else {
            self.clear_now(nb, index);
        }
    }

    /// `update_display_data`: replaces data and metadata of every output showing
    /// `display_id`. Unknown ids are ignored, as in Jupyter front ends.
    pub fn update_display(&mut self, nb: &mut Notebook, display_id: &str, data: &JsonMap, metadata: &JsonMap) {
        for &(cell, out) in self.displays.get(display_id).into_iter().flatten() {
            match nb.cells.get_mut(cell).and_then(|c| c.outputs.get_mut(out)) {
                Some(Output::DisplayData { data: d, metadata: m, .. })
                | Some(Output::ExecuteResult { data: d, metadata: m, .. }) => {
                    *d = data.clone();
                    *m = metadata.clone();
                }
                _ => {}
            }
        }
    }

    /// Ends the cell: adds the truncation notice if output was dropped.
    pub fn finish_cell(&mut self, nb: &mut Notebook, index: usize) {
        if self.dropped > 0 {
            let notice = format!(
                "\n[huntbook] output truncated: {} more bytes from this cell were not kept \
                 (limit {} bytes per cell; raise it with --max-cell-output)\n",
                self.dropped, self.limit
            );
            nb.cells[index].outputs.push(Output::stream("stderr", notice));
        }
        self.clear_before_next = false;
    }

    /// Bytes of output dropped from the current cell.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn clear_now(&mut self, nb: &mut Notebook, index: usize) {
        nb.cells[index].outputs.clear();
        for places in self.displays.values_mut() {
            places.retain(|&(cell, _)| cell != index);
        }
        self.clear_before_next = false;
        self.kept = 0;
    }

    /// The output if it fits; a stream that straddles the limit is cut to fit.
    fn within_limit(&mut self, output: Output) -> Option<Output> {
        let size = output_size(&output);
        let room = self.limit.saturating_sub(self.kept);
        if size <= room {
            self.kept += size;
            return Some(output);
        }
        match output {
            Output::Stream { name, text, extra } if room > 0 => {
                let mut cut = room.min(text.len());
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                self.kept = self.limit;
                self.dropped += (text.len() - cut) as u64;
                Some(Output::Stream { name, text: text[..cut].to_string(), extra })
            }
            _ => {
                self.dropped += size as u64;
                None
            }
        }
    }
}

/// An output's size for the limit: its text and data payloads.
fn output_size(output: &Output) -> usize {
    match output {
        Output::Stream { text, .. } => text.len(),
        Output::DisplayData { data, .. } | Output::ExecuteResult { data, .. } => data.values().map(value_size).sum(),
        Output::Error { traceback, evalue, .. } => traceback.iter().map(String::len).sum::<usize>() + evalue.len(),
    }
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        other => other.to_string().len(),
    }
}

/// An `execute_result` output.
pub fn execute_result(execution_count: Option<i64>, data: JsonMap, metadata: JsonMap) -> Output {
    Output::ExecuteResult { execution_count, data, metadata, extra: JsonMap::new() }
}

/// `{"text/plain": text}` as a MIME bundle.
pub fn plain(text: &str) -> JsonMap {
    match json!({ "text/plain": text }) {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;

    fn nb(cells: usize) -> Notebook {
        let mut nb = Notebook::new();
        nb.cells = (0..cells).map(|_| Cell::code("x")).collect();
        nb
    }

    #[test]
    fn update_display_rewrites_every_copy_across_cells() {
        let mut nb = nb(2);
        let mut c = OutputCollector::new(DEFAULT_CELL_OUTPUT_LIMIT);
        c.push(&mut nb, 0, Output::display(plain("v1"), JsonMap::new()), Some("d"));
        c.push(&mut nb, 1, Output::stream("stdout", "x"), None);
        c.push(&mut nb, 1, Output::display(plain("v1"), JsonMap::new()), Some("d"));
        c.update_display(&mut nb, "d", &plain("v2"), &JsonMap::new());
        c.update_display(&mut nb, "unknown", &plain("v3"), &JsonMap::new());
        assert_eq!(nb.cells[0].outputs[0].data().unwrap()["text/plain"], "v2");
        assert_eq!(nb.cells[1].outputs[1].data().unwrap()["text/plain"], "v2");
        assert_eq!(nb.cells[1].outputs[0], Output::stream("stdout", "x"));
    }

    #[test]
    fn clear_output_now_and_with_wait() {
        let mut nb = nb(1);
        let mut c = OutputCollector::new(DEFAULT_CELL_OUTPUT_LIMIT);
        c.push(&mut nb, 0, Output::stream("stdout", "a"), None);
        c.clear(&mut nb, 0, true);
        assert_eq!(nb.cells[0].outputs.len(), 1, "wait=True keeps output until the next one");
        c.push(&mut nb, 0, Output::stream("stdout", "b"), None);
        assert_eq!(nb.cells[0].outputs, vec![Output::stream("stdout", "b")]);
        c.clear(&mut nb, 0, false);
        assert!(nb.cells[0].outputs.is_empty());
    }

    #[test]
    fn cleared_displays_are_not_updated() {
        let mut nb = nb(1);
        let mut c = OutputCollector::new(DEFAULT_CELL_OUTPUT_LIMIT);
        c.push(&mut nb, 0, Output::display(plain("v1"), JsonMap::new()), Some("d"));
        c.clear(&mut nb, 0, false);
        c.push(&mut nb, 0, Output::stream("stdout", "s"), None);
        c.update_display(&mut nb, "d", &plain("v2"), &JsonMap::new());
        assert_eq!(nb.cells[0].outputs, vec![Output::stream("stdout", "s")]);
    }

    #[test]
    fn output_beyond_the_limit_is_counted_and_noticed() {
        let mut nb = nb(1);
        let mut c = OutputCollector::new(10);
        c.begin_cell();
        c.push(&mut nb, 0, Output::stream("stdout", "123456"), None);
        c.push(&mut nb, 0, Output::stream("stdout", "789éabc"), None);
        c.push(&mut nb, 0, Output::display(plain("big"), JsonMap::new()), None);
        c.finish_cell(&mut nb, 0);
        let outs = &nb.cells[0].outputs;
        assert_eq!(outs[0], Output::stream("stdout", "123456"));
        assert_eq!(outs[1], Output::stream("stdout", "789"));
        assert_eq!(c.dropped(), 5 + 3);
        match &outs[2] {
            Output::Stream { name, text, .. } => {
                assert_eq!(name, "stderr");
                assert!(text.contains("8 more bytes"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(outs.len(), 3);
    }
}
