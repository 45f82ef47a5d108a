//! Process trees, as MSTICPy's `plot_process_tree` draws them: one box per process,
//! indented by its level under its parent, rows in tree (depth-first) order.
//!
//! The input is the frame `build_process_tree` returns (after `reset_index()`): its
//! `path` column (`"02010/00000/00013"`, the chain of `source_index` values from the
//! root) says where each process sits. [`layout`] puts the rows in tree order and
//! finds each row's level, parent and the end of its subtree, so that the script can
//! hide a subtree (positions `i + 1 .. end[i]`), walk up to the root and draw only
//! the rows in view, even for 10k processes. The script draws the boxes coloured by
//! `legend_col`, elbow connectors, +/- toggles, search and selection.

use std::cmp::Ordering;

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use serde_json::{json, Map, Value};

use crate::chart::Chart;
use crate::columns::{coded, offset_ms, tooltips, Labels};
use crate::VisError;

const SCRIPT: &str = include_str!("../js/tree.js");

/// The column that places each process in its tree.
pub const PATH: &str = "path";

/// The legend label of rows whose `legend_col` is missing.
const NO_VALUE: &str = "(none)";

/// How process ids are shown in the boxes (MSTICPy's `pid_fmt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidFormat {
    /// `0x1a4c`: decimal ids are converted.
    Hex,
    /// `6732`: `0x` ids are converted.
    Dec,
    /// As written (GUIDs and other ids that are not numbers).
    Guid,
}

impl std::str::FromStr for PidFormat {
    type Err = VisError;

    fn from_str(s: &str) -> Result<Self, VisError> {
        match s {
            "hex" => Ok(PidFormat::Hex),
            "dec" => Ok(PidFormat::Dec),
            "guid" => Ok(PidFormat::Guid),
            other => Err(VisError::Invalid(format!(
                "pid_fmt '{other}' is not one of hex, dec, guid"
            ))),
        }
    }
}

impl PidFormat {
    /// A process id as the box shows it; text that is not a number stays as it is.
    pub fn format(self, pid: &str) -> String {
        let pid = pid.trim();
        let hex = pid
            .strip_prefix("0x")
            .or_else(|| pid.strip_prefix("0X"))
            .and_then(|h| u64::from_str_radix(h, 16).ok());
        match self {
            PidFormat::Hex => match pid.parse::<u64>() {
                Ok(n) if hex.is_none() => format!("0x{n:x}"),
                _ => pid.to_string(),
            },
            PidFormat::Dec => hex.map_or_else(|| pid.to_string(), |n| n.to_string()),
            PidFormat::Guid => pid.to_string(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            PidFormat::Guid => "GUID",
            _ => "PID",
        }
    }
}

/// What [`process_tree`] draws. `Default` gives MSTICPy's defaults and the column
/// names of Windows 4688 events.
#[derive(Debug, Clone)]
pub struct ProcessTreeOptions {
    /// The process's file name (the box shows the part after the last `\` or `/`).
    pub process_name: String,
    pub process_id: String,
    /// Shown in the box under the name, in full in the tooltip.
    pub cmd_line: Option<String>,
    pub user_name: Option<String>,
    /// When the process started (tooltip).
    pub time_column: Option<String>,
    /// More columns shown in the tooltip (logon ids, ...).
    pub source_columns: Vec<String>,
    /// Boxes are coloured by this column's values, with a legend; by level without it.
    pub legend_col: Option<String>,
    pub title: Option<String>,
    pub width: u32,
    /// Pixels of the scrolling view; a small tree gets only the height it needs.
    pub height: u32,
    pub hide_legend: bool,
    pub pid_fmt: PidFormat,
}

impl ProcessTreeOptions {
    /// The columns of a tree built with `schema` (see `huntbook_transform::proctree`),
    /// with MSTICPy's defaults for the rest. Optional columns that the table (whose
    /// column names are `columns`) lacks are left out of the tooltips.
    pub fn for_schema(schema: &huntbook_transform::proctree::ProcSchema, columns: &[&str]) -> Self {
        let present = |c: &Option<String>| c.clone().filter(|c| columns.contains(&c.as_str()));
        ProcessTreeOptions {
            process_name: schema.process_name.clone(),
            process_id: schema.process_id.clone(),
            cmd_line: present(&schema.cmd_line),
            user_name: present(&schema.user_name),
            time_column: present(&Some(schema.time_stamp.clone())),
            source_columns: [&schema.logon_id, &schema.target_logon_id]
                .into_iter()
                .filter_map(present)
                .collect(),
            ..Default::default()
        }
    }
}

impl Default for ProcessTreeOptions {
    fn default() -> Self {
        ProcessTreeOptions {
            process_name: "NewProcessName".into(),
            process_id: "NewProcessId".into(),
            cmd_line: Some("CommandLine".into()),
            user_name: Some("SubjectUserName".into()),
            time_column: Some("TimeGenerated".into()),
            source_columns: Vec::new(),
            legend_col: None,
            title: None,
            width: 900,
            height: 700,
            hide_legend: false,
            pid_fmt: PidFormat::Hex,
        }
    }
}

/// Where each row goes: rows in tree order, and for each position its level, its
/// parent's position and the end of its subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLayout {
    /// `order[k]` is the input row drawn at position `k`.
    pub order: Vec<usize>,
    /// 0 for a root, 1 for its children, ...
    pub level: Vec<u32>,
    /// The position of the nearest ancestor present in the data.
    pub parent: Vec<Option<usize>>,
    /// The descendants of position `i` are the positions `i + 1 .. end[i]`.
    pub end: Vec<usize>,
}

/// One step of a path: the padded `source_index` numbers compare as numbers, so the
/// order holds whatever the padding; other text compares as text, after numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step<'a> {
    Number(u64),
    Text(&'a str),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    path.split('/')
        .map(|s| s.parse().map_or(Step::Text(s), Step::Number))
        .collect()
}

/// Tree order from each row's `path` (ties by time, then input order): a path comes
/// right before the paths it prefixes, so a depth-first walk is a plain sort. A
/// row's parent is the nearest row whose path is a proper prefix of its own, so a
/// part of a tree (the descendants of a process, say) still draws as a tree.
pub fn layout(paths: &[Option<String>], times: &[Option<i64>]) -> Result<TreeLayout, VisError> {
    let mut keyed = Vec::with_capacity(paths.len());
    for (row, path) in paths.iter().enumerate() {
        match path.as_deref() {
            Some(p) if !p.is_empty() => {
                keyed.push((steps(p), times.get(row).copied().flatten(), row))
            }
            _ => {
                return Err(VisError::Invalid(format!(
                    "column '{PATH}' row {row} is empty: each process needs its path in the tree; \
                     build the tree with huntbook.build_process_tree(events)"
                )))
            }
        }
    }
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| cmp_time(a.1, b.1))
            .then(a.2.cmp(&b.2))
    });
    let n = keyed.len();
    let mut out = TreeLayout {
        order: keyed.iter().map(|k| k.2).collect(),
        level: vec![0; n],
        parent: vec![None; n],
        end: vec![n; n],
    };
    // The chain of ancestors of the current position, innermost last.
    let mut chain: Vec<usize> = Vec::new();
    for (pos, (path, ..)) in keyed.iter().enumerate() {
        while let Some(&top) = chain.last() {
            let above = &keyed[top].0;
            if above.len() < path.len() && path[..above.len()] == above[..] {
                break;
            }
            out.end[top] = pos;
            chain.pop();
        }
        out.parent[pos] = chain.last().copied();
        out.level[pos] = chain.len() as u32;
        chain.push(pos);
    }
    Ok(out)
}

/// Rows without a time come after timed ones.
fn cmp_time(a: Option<i64>, b: Option<i64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (a, b) => b.is_some().cmp(&a.is_some()),
    }
}

/// The legend's labels, most frequent first (ties in order of first sight) and rows
/// without a value last as `(none)`, and each position's label code: the script
/// gives the first labels the palette's colours, so the common values get them.
pub fn legend_codes(values: &[Option<String>], order: &[usize]) -> (Vec<String>, Vec<u32>) {
    let label = |r: usize| values[r].as_deref().filter(|v| !v.is_empty());
    let mut seen = Labels::default();
    let seen_codes: Vec<usize> = order
        .iter()
        .map(|&r| seen.code(label(r).unwrap_or(NO_VALUE)) as usize)
        .collect();
    let names = seen.into_values();
    let mut counts = vec![0usize; names.len()];
    for &c in &seen_codes {
        counts[c] += 1;
    }
    let mut ranked: Vec<usize> = (0..names.len()).collect();
    ranked.sort_by_key(|&c| (names[c] == NO_VALUE, std::cmp::Reverse(counts[c]), c));
    let mut rank = vec![0u32; names.len()];
    for (k, &c) in ranked.iter().enumerate() {
        rank[c] = k as u32;
    }
    let codes = seen_codes.iter().map(|&c| rank[c]).collect();
    (ranked.iter().map(|&c| names[c].clone()).collect(), codes)
}

/// The last part of a file path (`C:\Windows\System32\cmd.exe` -> `cmd.exe`).
fn base_name(name: &str) -> &str {
    name.rsplit(['\\', '/']).next().unwrap_or(name)
}

/// The process tree of `data` (a frame from `build_process_tree`).
pub fn process_tree(data: &RecordBatch, options: &ProcessTreeOptions) -> Result<Chart, VisError> {
    let paths = columns::texts(data, PATH)?;
    let names = columns::texts(data, &options.process_name)?;
    let pids = columns::texts(data, &options.process_id)?;
    let times = match &options.time_column {
        Some(c) => Some(columns::times(data, c)?),
        None => None,
    };
    let legend = match &options.legend_col {
        Some(c) => Some(columns::texts(data, c)?),
        None => None,
    };
    let tree = layout(&paths, times.as_deref().unwrap_or(&[]))?;
    let order = &tree.order;

    // Tooltip columns, each once, in MSTICPy's order; the command line's place is
    // kept so the box can show it without a second copy.
    let mut shown: Vec<String> = vec![options.process_name.clone(), options.process_id.clone()];
    for c in options
        .cmd_line
        .iter()
        .chain(&options.user_name)
        .chain(&options.source_columns)
        .chain(&options.legend_col)
    {
        if !shown.contains(c) {
            shown.push(c.clone());
        }
    }
    let cmd = options
        .cmd_line
        .as_ref()
        .and_then(|c| shown.iter().position(|s| s == c));

    let base: Vec<Option<String>> = names
        .iter()
        .map(|n| Some(base_name(n.as_deref().unwrap_or("unknown")).to_string()))
        .collect();
    let pid_text: Vec<Option<String>> = pids
        .iter()
        .map(|p| p.as_deref().map(|p| options.pid_fmt.format(p)))
        .collect();

    let mut spec = Map::new();
    spec.insert("width".into(), options.width.into());
    spec.insert("height".into(), options.height.into());
    spec.insert("level".into(), json!(tree.level));
    spec.insert(
        "parent".into(),
        json!(tree
            .parent
            .iter()
            .map(|p| p.map_or(-1, |p| p as i64))
            .collect::<Vec<_>>()),
    );
    spec.insert("end".into(), json!(tree.end));
    let identity = order.iter().enumerate().all(|(k, &r)| k == r);
    spec.insert(
        "row".into(),
        if identity { Value::Null } else { json!(order) },
    );
    spec.insert("name".into(), coded(&base, order));
    spec.insert("pid".into(), coded(&pid_text, order));
    spec.insert("pid_label".into(), options.pid_fmt.label().into());
    spec.insert("tips".into(), tooltips(data, &shown, order)?);
    spec.insert("cmd".into(), json!(cmd));
    match &times {
        Some(times) => {
            let t0 = times.iter().flatten().min().copied().unwrap_or(0);
            spec.insert("t0".into(), offset_ms(t0, 0));
            spec.insert(
                "time".into(),
                Value::Array(
                    order
                        .iter()
                        .map(|&r| times[r].map_or(Value::Null, |t| offset_ms(t, t0)))
                        .collect(),
                ),
            );
            spec.insert("time_column".into(), json!(options.time_column));
        }
        None => {
            spec.insert("time".into(), Value::Null);
        }
    }
    match &legend {
        Some(values) => {
            let (labels, codes) = legend_codes(values, order);
            spec.insert("color".into(), json!(codes));
            spec.insert("legend".into(), json!(labels));
        }
        None => {
            spec.insert("color".into(), Value::Null);
            spec.insert("legend".into(), Value::Null);
        }
    }
    spec.insert("legend_col".into(), json!(options.legend_col));
    spec.insert("show_legend".into(), (!options.hide_legend).into());
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| "ProcessTree".to_string());
    Ok(Chart::new("process_tree", SCRIPT, title, spec))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, ArrayRef, StringArray};

    use super::*;

    fn paths(p: &[&str]) -> Vec<Option<String>> {
        p.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn one_tree_is_laid_out_depth_first_with_subtree_ends() {
        //  0          a
        //  0/1        +- b
        //  0/1/3      |  +- d
        //  0/2        +- c
        let t = layout(&paths(&["0/2", "0", "0/1/3", "0/1"]), &[]).unwrap();
        assert_eq!(t.order, vec![1, 3, 2, 0]);
        assert_eq!(t.level, vec![0, 1, 2, 1]);
        assert_eq!(t.parent, vec![None, Some(0), Some(1), Some(0)]);
        assert_eq!(t.end, vec![4, 3, 3, 4]);
    }

    #[test]
    fn several_roots_each_close_their_subtree() {
        let t = layout(
            &paths(&["00002", "00002/00004", "00001", "00001/00003", "00005"]),
            &[],
        )
        .unwrap();
        assert_eq!(t.order, vec![2, 3, 0, 1, 4]);
        assert_eq!(t.level, vec![0, 1, 0, 1, 0]);
        assert_eq!(t.parent, vec![None, Some(0), None, Some(2), None]);
        assert_eq!(t.end, vec![2, 2, 4, 4, 5]);
    }

    #[test]
    fn steps_compare_as_numbers_whatever_the_padding() {
        // As text "10" < "9"; as steps 9 comes first, and "9/1" stays under "9".
        let t = layout(&paths(&["10", "9", "9/1"]), &[]).unwrap();
        assert_eq!(t.order, vec![1, 2, 0]);
        assert_eq!(t.end, vec![2, 2, 3]);
    }

    #[test]
    fn a_missing_ancestor_links_to_the_nearest_one_present() {
        // Only descendants of 1/2 and the root: 1/2/3 hangs from 1, one level down.
        let t = layout(&paths(&["1", "1/2/3", "1/2/3/4", "7/8"]), &[]).unwrap();
        assert_eq!(t.level, vec![0, 1, 2, 0]);
        assert_eq!(t.parent, vec![None, Some(0), Some(1), None]);
        assert_eq!(t.end, vec![3, 3, 3, 4]);
    }

    #[test]
    fn equal_paths_are_siblings_ordered_by_time() {
        let t = layout(&paths(&["1", "1/2", "1/2"]), &[None, Some(5), Some(3)]).unwrap();
        assert_eq!(t.order, vec![0, 2, 1]);
        assert_eq!(t.parent, vec![None, Some(0), Some(0)]);
        assert_eq!(t.end, vec![3, 2, 3]);
    }

    #[test]
    fn an_empty_path_is_an_error_naming_the_row() {
        let e = layout(&[Some("1".into()), None], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'path' row 1") && e.contains("build_process_tree"),
            "{e}"
        );
    }

    #[test]
    fn legend_labels_go_most_frequent_first_and_missing_last() {
        let v = |s: &str| Some(s.to_string());
        let values = vec![v("b"), None, v("a"), v("a"), v(""), v("c"), v("c"), v("c")];
        let (labels, codes) = legend_codes(&values, &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(labels, ["c", "a", "b", "(none)"]);
        assert_eq!(codes, [2, 3, 1, 1, 3, 0, 0, 0]);
        // Only the rows drawn count, in the order drawn.
        let (labels, codes) = legend_codes(&values, &[2, 0]);
        assert_eq!(labels, ["a", "b"]);
        assert_eq!(codes, [0, 1]);
    }

    #[test]
    fn pids_are_formatted_as_asked() {
        assert_eq!(PidFormat::Hex.format("6732"), "0x1a4c");
        assert_eq!(PidFormat::Hex.format("0x1a4c"), "0x1a4c");
        assert_eq!(PidFormat::Dec.format("0x1a4c"), "6732");
        assert_eq!(PidFormat::Dec.format("6732"), "6732");
        assert_eq!(PidFormat::Guid.format("{abc}"), "{abc}");
        assert_eq!(PidFormat::Hex.format("{abc}"), "{abc}");
        assert!("oct".parse::<PidFormat>().is_err());
    }

    fn tree() -> RecordBatch {
        let col = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
        RecordBatch::try_from_iter([
            ("path", col(vec![Some("2"), Some("1"), Some("1/3")])),
            (
                "NewProcessName",
                col(vec![
                    Some("C:\\Windows\\svchost.exe"),
                    Some("C:\\Windows\\explorer.exe"),
                    Some("C:\\Windows\\System32\\cmd.exe"),
                ]),
            ),
            (
                "NewProcessId",
                col(vec![Some("0x10"), Some("0x20"), Some("48")]),
            ),
            (
                "CommandLine",
                col(vec![None, None, Some("cmd.exe /c whoami")]),
            ),
            (
                "SubjectUserName",
                col(vec![Some("SYSTEM"), Some("alice"), None]),
            ),
            (
                "TimeGenerated",
                col(vec![
                    Some("2024-03-01T10:00:00Z"),
                    Some("2024-03-01T10:00:01Z"),
                    Some("2024-03-01T10:00:02.5Z"),
                ]),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn the_spec_holds_the_layout_labels_and_tooltips_in_tree_order() {
        let options = ProcessTreeOptions {
            legend_col: Some("SubjectUserName".into()),
            ..Default::default()
        };
        let chart = process_tree(&tree(), &options).unwrap();
        let spec = chart.spec();
        assert_eq!(chart.kind(), "process_tree");
        assert_eq!(spec["row"], json!([1, 2, 0]));
        assert_eq!(spec["level"], json!([0, 1, 0]));
        assert_eq!(spec["parent"], json!([-1, 0, -1]));
        assert_eq!(spec["end"], json!([2, 2, 3]));
        assert_eq!(
            spec["name"]["dict"],
            json!(["explorer.exe", "cmd.exe", "svchost.exe"])
        );
        assert_eq!(spec["pid"]["dict"], json!(["0x20", "0x30", "0x10"]));
        let tips: Vec<_> = spec["tips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            tips,
            [
                "NewProcessName",
                "NewProcessId",
                "CommandLine",
                "SubjectUserName"
            ]
        );
        assert_eq!(spec["cmd"], 2);
        assert_eq!(spec["tips"][2]["codes"], json!([-1, 0, -1]));
        assert_eq!(spec["t0"], json!(1709287200000i64));
        assert_eq!(spec["time"], json!([1000, 2500, 0]));
        assert_eq!(spec["legend"], json!(["alice", "SYSTEM", "(none)"]));
        assert_eq!(spec["color"], json!([0, 2, 1]));
    }

    #[test]
    fn rows_already_in_tree_order_need_no_map_and_missing_columns_are_named() {
        let batch = tree();
        let sorted = arrow_select_rows(&batch, &[1, 2, 0]);
        let spec = process_tree(&sorted, &Default::default())
            .unwrap()
            .spec()
            .clone();
        assert_eq!(spec["row"], Value::Null);
        assert_eq!(spec["color"], Value::Null);
        let options = ProcessTreeOptions {
            legend_col: Some("Nope".into()),
            ..Default::default()
        };
        let e = process_tree(&batch, &options).unwrap_err().to_string();
        assert!(e.contains("'Nope'"), "{e}");
        let no_path = batch.project(&[1, 2]).unwrap();
        let e = process_tree(&no_path, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'path'"), "{e}");
    }

    fn arrow_select_rows(batch: &RecordBatch, rows: &[usize]) -> RecordBatch {
        let columns: Vec<(String, ArrayRef)> = batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| {
                let text = c.as_any().downcast_ref::<StringArray>().unwrap();
                let picked: StringArray = rows
                    .iter()
                    .map(|&r| text.is_valid(r).then(|| text.value(r)))
                    .collect();
                (f.name().clone(), Arc::new(picked) as ArrayRef)
            })
            .collect();
        RecordBatch::try_from_iter(columns).unwrap()
    }
}
