//! Interaction matrices, as MSTICPy's `plot_matrix` draws them: the values of one
//! column across, another down, and a circle where a pair occurs, sized by how often
//! (a row count), by the distinct count of a third column, or by its sum.
//!
//! The aggregation is done here: one cell per (x, y) pair seen, rows with either
//! label missing left out (as pandas' `groupby` does). Sizes follow MSTICPy's rules
//! (`invert`: the largest value over each value, so rare pairs are big; `log_size`:
//! the natural log), scaled to the largest so the script only multiplies by the
//! room a cell has. Labels are ordered here too: by first appearance, or by their
//! total (the sum of their cells' values) or their text, ascending or descending.

use std::collections::{HashMap, HashSet};

use arrow_array::RecordBatch;
use huntbook_analysis::columns;
use serde_json::{json, Map, Value};

use crate::chart::Chart;
use crate::columns::number;
use crate::VisError;

const SCRIPT: &str = include_str!("../js/matrix.js");

/// How the labels of an axis are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// As they first appear in the data.
    #[default]
    Data,
    Ascending,
    Descending,
}

impl std::str::FromStr for Order {
    type Err = VisError;

    /// MSTICPy's values: a text starting with `asc` or `desc` (any case), `"true"`
    /// (ascending) or `"false"`/`"none"`/empty (as the data has them).
    fn from_str(s: &str) -> Result<Self, VisError> {
        let s = s.trim().to_lowercase();
        if s.starts_with("asc") || s == "true" {
            Ok(Order::Ascending)
        } else if s.starts_with("desc") {
            Ok(Order::Descending)
        } else if s.is_empty() || s == "false" || s == "none" {
            Ok(Order::Data)
        } else {
            Err(VisError::Invalid(format!(
                "sort '{s}' is not one of 'asc', 'desc', True, False or None"
            )))
        }
    }
}

/// What an ordered axis is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// The sum of the label's cells: the busiest first (descending) or last.
    #[default]
    Total,
    /// The label's text, as MSTICPy orders it.
    Label,
}

impl std::str::FromStr for SortBy {
    type Err = VisError;

    fn from_str(s: &str) -> Result<Self, VisError> {
        match s {
            "total" => Ok(SortBy::Total),
            "label" => Ok(SortBy::Label),
            other => Err(VisError::Invalid(format!(
                "sort_by '{other}' is not one of 'total', 'label'"
            ))),
        }
    }
}

/// What [`matrix`] draws and how. `Default` gives MSTICPy's defaults (with the x
/// and y columns still to name).
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    pub x_column: String,
    pub y_column: String,
    /// Sized by the sum of this column, or its distinct count with `dist_count`;
    /// by the number of rows without it.
    pub value_column: Option<String>,
    pub dist_count: bool,
    pub log_size: bool,
    /// Rare pairs big: each size is the largest value over the pair's value.
    pub invert: bool,
    /// Every cell the same size: shows only whether a pair occurs.
    pub intersect: bool,
    pub sort_x: Order,
    pub sort_y: Order,
    pub sort_by: SortBy,
    pub title: Option<String>,
    pub width: u32,
    pub height: u32,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        MatrixOptions {
            x_column: String::new(),
            y_column: String::new(),
            value_column: None,
            dist_count: false,
            log_size: false,
            invert: false,
            intersect: false,
            sort_x: Order::Data,
            sort_y: Order::Data,
            sort_by: SortBy::Total,
            title: None,
            width: 900,
            height: 700,
        }
    }
}

/// The aggregated matrix: labels of each axis in drawing order, and one cell per
/// pair seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Cells {
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    /// Index into `x_labels`, `y_labels`, the value, and the size (0 to 1).
    pub x: Vec<u32>,
    pub y: Vec<u32>,
    pub value: Vec<f64>,
    pub size: Vec<f64>,
}

/// What a cell counts, as it is read from the rows.
enum Measure {
    Rows,
    Sum(Vec<Option<f64>>),
    Distinct(Vec<Option<u32>>),
}

/// Aggregates `data` into the cells of the matrix `options` describes.
pub fn cells(data: &RecordBatch, options: &MatrixOptions) -> Result<Cells, VisError> {
    for (name, what) in [(&options.x_column, "x"), (&options.y_column, "y")] {
        if name.is_empty() {
            return Err(VisError::Invalid(format!(
                "name the column of the {what} axis ({what}= or {what}_col=)"
            )));
        }
    }
    let (x_labels, xs) = columns::codes(data, &options.x_column)?;
    let (y_labels, ys) = columns::codes(data, &options.y_column)?;
    let measure = match (&options.value_column, options.dist_count) {
        (None, true) => {
            return Err(VisError::Invalid(
                "dist_count counts the distinct values of value_col: name value_col".into(),
            ))
        }
        (None, false) => Measure::Rows,
        (Some(v), true) => Measure::Distinct(columns::codes(data, v)?.1),
        (Some(v), false) => Measure::Sum(columns::numbers(data, v).map_err(|e| {
            VisError::Invalid(format!(
                "value_col is summed, so it must hold numbers ({e}); \
                 pass dist_count=True to count its distinct values instead"
            ))
        })?),
    };
    // Pairs are keyed by one number: x code times the y labels plus the y code.
    let ny = y_labels.len() as u64;
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut sums: Vec<f64> = Vec::new();
    let mut distinct: Vec<HashSet<u32>> = Vec::new();
    for row in 0..data.num_rows() {
        let (Some(x), Some(y)) = (xs[row], ys[row]) else {
            continue;
        };
        let cell = *index
            .entry(u64::from(x) * ny + u64::from(y))
            .or_insert_with(|| {
                pairs.push((x, y));
                sums.push(0.0);
                distinct.push(HashSet::new());
                pairs.len() - 1
            });
        match &measure {
            Measure::Rows => sums[cell] += 1.0,
            Measure::Sum(values) => {
                sums[cell] += values[row].filter(|v| !v.is_nan()).unwrap_or(0.0)
            }
            Measure::Distinct(values) => {
                if let Some(v) = values[row] {
                    distinct[cell].insert(v);
                }
            }
        }
    }
    if let Measure::Distinct(_) = measure {
        sums = distinct.iter().map(|d| d.len() as f64).collect();
    }
    let x_order = order(
        x_labels,
        &pairs,
        &sums,
        |p| p.0,
        options.sort_x,
        options.sort_by,
    );
    let y_order = order(
        y_labels,
        &pairs,
        &sums,
        |p| p.1,
        options.sort_y,
        options.sort_by,
    );
    let size = sizes(&sums, options);
    Ok(Cells {
        x: pairs.iter().map(|p| x_order.1[p.0 as usize]).collect(),
        y: pairs.iter().map(|p| y_order.1[p.1 as usize]).collect(),
        x_labels: x_order.0,
        y_labels: y_order.0,
        value: sums,
        size,
    })
}

/// The labels in drawing order, and the new position of each old code. Labels with
/// no cell (seen only on rows whose other label is missing) are left out.
fn order(
    labels: Vec<String>,
    pairs: &[(u32, u32)],
    values: &[f64],
    axis: impl Fn(&(u32, u32)) -> u32,
    order: Order,
    by: SortBy,
) -> (Vec<String>, Vec<u32>) {
    let mut totals = vec![0.0; labels.len()];
    let mut used = vec![false; labels.len()];
    for (pair, value) in pairs.iter().zip(values) {
        totals[axis(pair) as usize] += value;
        used[axis(pair) as usize] = true;
    }
    let mut codes: Vec<usize> = (0..labels.len()).filter(|&c| used[c]).collect();
    let by_label = |a: &usize, b: &usize| labels[*a].cmp(&labels[*b]);
    let by_total = |a: &usize, b: &usize| totals[*a].total_cmp(&totals[*b]);
    match (order, by) {
        (Order::Data, _) => {}
        (Order::Ascending, SortBy::Label) => codes.sort_by(by_label),
        (Order::Descending, SortBy::Label) => codes.sort_by(|a, b| by_label(b, a)),
        // Equal totals keep their labels in text order, whichever way totals run.
        (Order::Ascending, SortBy::Total) => {
            codes.sort_by(|a, b| by_total(a, b).then_with(|| by_label(a, b)))
        }
        (Order::Descending, SortBy::Total) => {
            codes.sort_by(|a, b| by_total(b, a).then_with(|| by_label(a, b)))
        }
    }
    let mut position = vec![u32::MAX; labels.len()];
    for (pos, &code) in codes.iter().enumerate() {
        position[code] = pos as u32;
    }
    let mut slots: Vec<Option<String>> = labels.into_iter().map(Some).collect();
    let sorted = codes
        .iter()
        .map(|&c| slots[c].take().expect("each code once"))
        .collect();
    (sorted, position)
}

/// Each cell's size from 0 to 1 (the largest is 1), by MSTICPy's rules: `invert`
/// takes the largest value over each value, `log_size` the natural log of that.
/// With `invert`, a value of 0 or less (which has no inverse) gets the largest size:
/// nothing is rarer. A log of 1 or less is 0: the smallest mark the script draws.
fn sizes(values: &[f64], options: &MatrixOptions) -> Vec<f64> {
    if options.intersect {
        return vec![1.0; values.len()];
    }
    let mut raw: Vec<f64> = values.to_vec();
    if options.invert {
        let max = raw.iter().copied().fold(f64::MIN, f64::max);
        let inverse: Vec<Option<f64>> = raw.iter().map(|&v| (v > 0.0).then(|| max / v)).collect();
        let top = inverse.iter().flatten().copied().fold(1.0, f64::max);
        raw = inverse.into_iter().map(|v| v.unwrap_or(top)).collect();
    }
    if options.log_size {
        raw = raw
            .into_iter()
            .map(|v| if v > 1.0 { v.ln() } else { 0.0 })
            .collect();
    }
    let max = raw.iter().copied().fold(0.0, f64::max);
    raw.into_iter()
        .map(|v| {
            if max > 0.0 {
                (v.max(0.0) / max * 1000.0).round() / 1000.0
            } else {
                1.0
            }
        })
        .collect()
}

/// What the value of a cell is, for the tooltip and the note under the chart.
fn value_name(options: &MatrixOptions) -> String {
    match (&options.value_column, options.dist_count) {
        (None, _) => "count".into(),
        (Some(v), true) => format!("distinct {v}"),
        (Some(v), false) => format!("sum of {v}"),
    }
}

/// The matrix of `options.x_column` against `options.y_column`.
pub fn matrix(data: &RecordBatch, options: &MatrixOptions) -> Result<Chart, VisError> {
    let cells = cells(data, options)?;
    let mut spec = Map::new();
    spec.insert("x_column".into(), options.x_column.as_str().into());
    spec.insert("y_column".into(), options.y_column.as_str().into());
    spec.insert("value_name".into(), value_name(options).into());
    spec.insert("intersect".into(), options.intersect.into());
    spec.insert("width".into(), options.width.into());
    spec.insert("height".into(), options.height.into());
    spec.insert("x_labels".into(), json!(cells.x_labels));
    spec.insert("y_labels".into(), json!(cells.y_labels));
    spec.insert("x".into(), json!(cells.x));
    spec.insert("y".into(), json!(cells.y));
    spec.insert(
        "value".into(),
        Value::Array(cells.value.iter().map(|&v| number(Some(v))).collect()),
    );
    spec.insert(
        "size".into(),
        Value::Array(cells.size.iter().map(|&v| number(Some(v))).collect()),
    );
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| format!("{} by {}", options.y_column, options.x_column));
    Ok(Chart::new("matrix", SCRIPT, title, spec))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, StringArray};

    use super::*;

    fn flows() -> RecordBatch {
        RecordBatch::try_from_iter([
            (
                "Src",
                Arc::new(StringArray::from(vec![
                    Some("b"),
                    Some("a"),
                    Some("b"),
                    Some("c"),
                    None,
                    Some("a"),
                ])) as ArrayRef,
            ),
            (
                "Dst",
                Arc::new(StringArray::from(vec!["p", "q", "p", "q", "p", "q"])),
            ),
            (
                "Port",
                Arc::new(StringArray::from(vec!["80", "443", "80", "22", "1", "80"])),
            ),
            (
                "Bytes",
                Arc::new(Float64Array::from(vec![
                    Some(10.0),
                    Some(1.0),
                    Some(5.0),
                    None,
                    Some(9.0),
                    Some(2.0),
                ])),
            ),
        ])
        .unwrap()
    }

    fn options() -> MatrixOptions {
        MatrixOptions {
            x_column: "Src".into(),
            y_column: "Dst".into(),
            ..Default::default()
        }
    }

    /// (x label, y label) -> value, whatever the order.
    fn table(c: &Cells) -> Vec<(String, String, f64)> {
        let mut t: Vec<_> = (0..c.x.len())
            .map(|i| {
                (
                    c.x_labels[c.x[i] as usize].clone(),
                    c.y_labels[c.y[i] as usize].clone(),
                    c.value[i],
                )
            })
            .collect();
        t.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        t
    }

    fn row(x: &str, y: &str, v: f64) -> (String, String, f64) {
        (x.into(), y.into(), v)
    }

    #[test]
    fn rows_are_counted_per_pair_and_rows_missing_a_label_left_out() {
        let c = cells(&flows(), &options()).unwrap();
        assert_eq!(
            table(&c),
            vec![row("a", "q", 2.0), row("b", "p", 2.0), row("c", "q", 1.0)]
        );
        assert_eq!(c.x_labels, vec!["b", "a", "c"]);
        assert_eq!(c.size, vec![1.0, 1.0, 0.5]);
        // A label seen only beside a missing one has no cell, and no place on its axis.
        let batch = RecordBatch::try_from_iter([
            (
                "Src",
                Arc::new(StringArray::from(vec!["z", "a"])) as ArrayRef,
            ),
            ("Dst", Arc::new(StringArray::from(vec![None, Some("p")]))),
        ])
        .unwrap();
        let c = cells(&batch, &options()).unwrap();
        assert_eq!((c.x_labels, c.x), (vec!["a".to_string()], vec![0]));
    }

    #[test]
    fn values_are_summed_or_their_distinct_values_counted() {
        let mut o = options();
        o.value_column = Some("Bytes".into());
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(
            table(&c),
            vec![row("a", "q", 3.0), row("b", "p", 15.0), row("c", "q", 0.0)]
        );
        o.value_column = Some("Port".into());
        o.dist_count = true;
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(
            table(&c),
            vec![row("a", "q", 2.0), row("b", "p", 1.0), row("c", "q", 1.0)]
        );
    }

    #[test]
    fn invert_makes_rare_pairs_big_and_log_shrinks_the_range() {
        let mut o = options();
        o.value_column = Some("Bytes".into());
        o.invert = true;
        let c = cells(&flows(), &o).unwrap();
        // Values 15, 3, 0: inverses 1, 5, and the largest (5) for 0.
        assert_eq!(c.size, vec![0.2, 1.0, 1.0]);
        o.invert = false;
        o.log_size = true;
        let c = cells(&flows(), &o).unwrap();
        let expect = (3.0f64).ln() / (15.0f64).ln();
        assert_eq!(c.size, vec![1.0, (expect * 1000.0).round() / 1000.0, 0.0]);
        o.log_size = false;
        o.intersect = true;
        assert_eq!(cells(&flows(), &o).unwrap().size, vec![1.0; 3]);
    }

    #[test]
    fn axes_sort_by_total_or_by_label_both_ways() {
        let mut o = options();
        o.value_column = Some("Bytes".into());
        o.sort_x = Order::Descending;
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(c.x_labels, vec!["b", "a", "c"]);
        o.sort_x = Order::Ascending;
        o.sort_y = Order::Ascending;
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(c.x_labels, vec!["c", "a", "b"]);
        assert_eq!(c.y_labels, vec!["q", "p"]);
        // The cells follow their labels.
        assert_eq!(
            table(&c),
            vec![row("a", "q", 3.0), row("b", "p", 15.0), row("c", "q", 0.0)]
        );
        o.sort_by = SortBy::Label;
        o.sort_x = Order::Descending;
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(c.x_labels, vec!["c", "b", "a"]);
        assert_eq!(c.y_labels, vec!["p", "q"]);
    }

    #[test]
    fn equal_totals_keep_text_order() {
        let mut o = options();
        o.sort_x = Order::Descending;
        let c = cells(&flows(), &o).unwrap();
        assert_eq!(c.x_labels, vec!["a", "b", "c"]);
    }

    #[test]
    fn sort_values_read_as_msticpy_writes_them() {
        assert_eq!("ascending".parse::<Order>().unwrap(), Order::Ascending);
        assert_eq!("DESC".parse::<Order>().unwrap(), Order::Descending);
        assert_eq!("True".parse::<Order>().unwrap(), Order::Ascending);
        assert_eq!("".parse::<Order>().unwrap(), Order::Data);
        assert!("sideways".parse::<Order>().is_err());
        assert!("count".parse::<SortBy>().is_err());
    }

    #[test]
    fn bad_input_is_named() {
        let mut o = options();
        o.dist_count = true;
        let e = cells(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("value_col"), "{e}");
        o.dist_count = false;
        o.value_column = Some("Src".into());
        let e = cells(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("dist_count") && e.contains("Src"), "{e}");
        o.value_column = None;
        o.y_column = "Nope".into();
        let e = cells(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("'Nope'"), "{e}");
        o.x_column = String::new();
        let e = cells(&flows(), &o).unwrap_err().to_string();
        assert!(e.contains("x axis"), "{e}");
    }

    #[test]
    fn the_spec_holds_labels_cells_and_what_the_value_is() {
        let mut o = options();
        o.value_column = Some("Port".into());
        o.dist_count = true;
        let chart = matrix(&flows(), &o).unwrap();
        let spec = chart.spec();
        assert_eq!(spec["value_name"], "distinct Port");
        assert_eq!(spec["x_labels"], json!(["b", "a", "c"]));
        assert_eq!(spec["x"], json!([0, 1, 2]));
        assert_eq!(spec["value"], json!([1, 2, 1]));
        assert_eq!(chart.title(), "Dst by Src");
        assert_eq!(chart.kind(), "matrix");
    }
}
