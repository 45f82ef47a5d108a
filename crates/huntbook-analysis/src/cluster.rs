//! Grouping similar events with DBSCAN, MSTICPy's `dbcluster_events`: each row's
//! feature columns are scaled to unit length (scikit-learn's `Normalizer`), DBSCAN
//! groups them with Euclidean distance, and the table comes back summarised, one row
//! per cluster.
//!
//! The labels are scikit-learn's: a row is a core row when at least `min_samples`
//! rows (itself included) lie within `max_distance` of it; core rows within reach of
//! each other form a cluster; clusters are numbered in the order of their first core
//! row; a border row (not core, but near a core row) goes to the lowest-numbered
//! cluster that reaches it, as scikit-learn's scan in row order gives it; the rest is
//! noise, labelled -1.
//!
//! Equal rows are merged before the neighbour search (they share every neighbour and
//! so every label), which keeps tables of repeated events cheap; the search itself
//! runs on a k-d tree, in parallel.
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::DataType;
use arrow_select::take::take_record_batch;
use rayon::prelude::*;

use crate::columns::{column, times};
use crate::kdtree::KdTree;
use crate::matrix::Matrix;
use crate::table::Table;
use crate::AnalysisError;

/// The label of rows that belong to no cluster.
pub const NOISE: i64 = -1;

/// How [`cluster_events`] and [`cluster_labels`] cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// DBSCAN's `eps`: how close two rows must be to be neighbours.
    pub max_distance: f64,
    /// DBSCAN's `min_samples`: the neighbours (the row included) a core row needs.
    pub min_samples: usize,
    /// Scale each row's features to unit length first, as MSTICPy does by default.
    pub normalize: bool,
}

impl Default for ClusterOptions {
    /// MSTICPy's defaults: `max_cluster_distance=0.01`, `min_cluster_samples=2`.
    fn default() -> Self {
        ClusterOptions {
            max_distance: 0.01,
            min_samples: 2,
            normalize: true,
        }
    }
}

/// The summary of a clustered table, and how each input row was labelled.
#[derive(Debug)]
pub struct Clustering {
    /// The noise rows, each as its own row, then the first row of each cluster, with
    /// `Clustered`, `ClusterId`, `ClusterSize`, `TimeGenerated`, `FirstEventTime`
    /// and `LastEventTime` added.
    pub summary: RecordBatch,
    /// For each summary row, the input row it was taken from.
    pub rows: Vec<usize>,
    /// Each input row's cluster ([`NOISE`] for noise).
    pub labels: Vec<i64>,
}

/// Each row's DBSCAN cluster label on the feature `columns`.
pub fn cluster_labels(
    batch: &RecordBatch,
    columns: &[&str],
    options: &ClusterOptions,
) -> Result<Vec<i64>, AnalysisError> {
    check(options)?;
    let features = Matrix::from_columns(batch, columns)?;
    let features = if options.normalize {
        features.normalized()
    } else {
        features
    };
    Ok(dbscan(&features, options.max_distance, options.min_samples))
}

/// Clusters the rows on the feature `columns` and summarises the table as MSTICPy's
/// `dbcluster_events` does. `time_column` gives each cluster its first and last
/// event time.
///
/// As in MSTICPy, `TimeGenerated` is set to the first event time (replacing a column
/// of that name), and the noise rows all carry the first and last time of the noise
/// as a whole. A cluster's last time is empty when one of its times is.
pub fn cluster_events(
    batch: &RecordBatch,
    columns: &[&str],
    time_column: &str,
    options: &ClusterOptions,
) -> Result<Clustering, AnalysisError> {
    if batch.num_rows() == 0 {
        return Err(AnalysisError::Invalid(
            "the table has no rows; there is nothing to cluster".into(),
        ));
    }
    let zoned = matches!(
        column(batch, time_column)?.data_type(),
        DataType::Timestamp(_, Some(_))
    );
    let event_times = times(batch, time_column)?;
    let labels = cluster_labels(batch, columns, options)?;

    let clusters = labels.iter().copied().max().map_or(0, |m| (m + 1) as usize);
    // Group 0 is the noise, group c + 1 the cluster c, as np.unique orders labels.
    let mut groups: Vec<Group> = vec![Group::default(); clusters + 1];
    for (row, (&label, &time)) in labels.iter().zip(&event_times).enumerate() {
        groups[(label + 1) as usize].push(row, time);
    }
    let mut rows = Vec::new();
    let (mut clustered, mut ids, mut sizes, mut firsts, mut lasts) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (g, group) in groups.iter().enumerate() {
        let id = g as i64 - 1;
        let members: &[usize] = if id == NOISE {
            &group.rows
        } else {
            &group.rows[..1]
        };
        for &row in members {
            rows.push(row);
            clustered.push(id != NOISE);
            ids.push(id);
            sizes.push(if id == NOISE {
                1
            } else {
                group.rows.len() as i64
            });
            firsts.push(group.first);
            lasts.push(group.last());
        }
    }

    let taken = take_record_batch(
        batch,
        &rows
            .iter()
            .map(|&r| r as u64)
            .collect::<arrow_array::UInt64Array>(),
    )
    .map_err(|e| AnalysisError::Invalid(format!("selecting the summary rows: {e}")))?;
    let timestamps = |values: Vec<Option<i64>>| -> ArrayRef {
        let array = TimestampNanosecondArray::from(values);
        Arc::new(if zoned {
            array.with_timezone("UTC")
        } else {
            array
        })
    };
    let mut table = Table::from(&taken);
    table.replace("Clustered", Arc::new(BooleanArray::from(clustered)));
    table.replace("ClusterId", Arc::new(Int64Array::from(ids)));
    table.replace("ClusterSize", Arc::new(Int64Array::from(sizes)));
    table.replace("TimeGenerated", timestamps(firsts.clone()));
    table.replace("FirstEventTime", timestamps(firsts));
    table.replace("LastEventTime", timestamps(lasts));
    Ok(Clustering {
        summary: table.to_batch()?,
        rows,
        labels,
    })
}

/// scikit-learn's limits: `eps` above 0, `min_samples` at least 1.
fn check(options: &ClusterOptions) -> Result<(), AnalysisError> {
    if !(options.max_distance > 0.0 && options.max_distance.is_finite()) {
        return Err(AnalysisError::Invalid(format!(
            "max_distance must be a number above 0, got {}",
            options.max_distance
        )));
    }
    if options.min_samples == 0 {
        return Err(AnalysisError::Invalid(
            "min_samples must be at least 1".into(),
        ));
    }
    Ok(())
}

/// The rows of one label and the span of their times.
#[derive(Debug, Clone, Default)]
struct Group {
    rows: Vec<usize>,
    first: Option<i64>,
    latest: Option<i64>,
    has_empty_time: bool,
}

impl Group {
    fn push(&mut self, row: usize, time: Option<i64>) {
        self.rows.push(row);
        match time {
            Some(t) => {
                self.first = Some(self.first.map_or(t, |f| f.min(t)));
                self.latest = Some(self.latest.map_or(t, |l| l.max(t)));
            }
            None => self.has_empty_time = true,
        }
    }

    /// The last time in time order, where empty times sort last (pandas' rule).
    fn last(&self) -> Option<i64> {
        if self.has_empty_time {
            None
        } else {
            self.latest
        }
    }
}

/// DBSCAN labels of the rows of `points`, numbered as scikit-learn numbers them.
pub fn dbscan(points: &Matrix, eps: f64, min_samples: usize) -> Vec<i64> {
    let (distinct, weights, of_row) = merge_equal_rows(points);
    let tree = KdTree::new(&distinct);
    let neighbours: Vec<Vec<usize>> = (0..distinct.rows())
        .into_par_iter()
        .map(|i| {
            let mut found = Vec::new();
            tree.within(distinct.row(i), eps, |j| found.push(j));
            found
        })
        .collect();
    let core: Vec<bool> = neighbours
        .iter()
        .map(|n| n.iter().map(|&j| weights[j]).sum::<usize>() >= min_samples)
        .collect();

    // Clusters are the connected groups of core points.
    let mut parent: Vec<usize> = (0..distinct.rows()).collect();
    for (i, near) in neighbours.iter().enumerate() {
        if core[i] {
            for &j in near.iter().filter(|&&j| core[j]) {
                union(&mut parent, i, j);
            }
        }
    }
    // Distinct points are in the order of their first row, so numbering the groups
    // in this order numbers clusters by their first core row.
    let mut label_of_root = vec![NOISE; distinct.rows()];
    let mut labels = vec![NOISE; distinct.rows()];
    let mut next = 0;
    for i in (0..distinct.rows()).filter(|&i| core[i]) {
        let root = find(&mut parent, i);
        if label_of_root[root] == NOISE {
            label_of_root[root] = next;
            next += 1;
        }
        labels[i] = label_of_root[root];
    }
    for i in (0..distinct.rows()).filter(|&i| !core[i]) {
        labels[i] = neighbours[i]
            .iter()
            .filter(|&&j| core[j])
            .map(|&j| labels[j])
            .min()
            .unwrap_or(NOISE);
    }
    of_row.into_iter().map(|d| labels[d]).collect()
}

/// The distinct rows of `points` in the order they first appear, how many times each
/// appears, and which distinct row each row is.
fn merge_equal_rows(points: &Matrix) -> (Matrix, Vec<usize>, Vec<usize>) {
    let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut values = Vec::new();
    let mut weights: Vec<usize> = Vec::new();
    let mut of_row = Vec::with_capacity(points.rows());
    for i in 0..points.rows() {
        let row = points.row(i);
        let key = row.iter().map(|v| v.to_bits()).collect();
        let d = *index.entry(key).or_insert_with(|| {
            values.extend_from_slice(row);
            weights.push(0);
            weights.len() - 1
        });
        weights[d] += 1;
        of_row.push(d);
    }
    let distinct = Matrix::new(weights.len(), points.cols(), values)
        .expect("rows of a valid matrix stay valid");
    (distinct, weights, of_row)
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampNanosecondType};
    use arrow_array::{Array, Float64Array};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn line(xs: &[f64]) -> Matrix {
        Matrix::new(xs.len(), 1, xs.to_vec()).unwrap()
    }

    #[test]
    fn dense_runs_are_clusters_and_the_rest_noise() {
        let labels = dbscan(&line(&[0.0, 1.0, 2.0, 10.0, 11.0, 20.0]), 1.5, 2);
        assert_eq!(labels, [0, 0, 0, 1, 1, NOISE]);
        // Clusters are numbered by their first core row, not by position.
        let labels = dbscan(&line(&[20.0, 10.0, 0.0, 11.0, 1.0]), 1.5, 2);
        assert_eq!(labels, [NOISE, 0, 1, 0, 1]);
    }

    #[test]
    fn a_border_row_goes_to_the_cluster_found_first() {
        // Two clusters of four core rows; 0.75 reaches one row of each but has only
        // three neighbours with itself, so it is a border row of both.
        let left = [0.0, 0.1, 0.2, 0.3];
        let right = [1.2, 1.3, 1.4, 1.5];
        let border = 0.75;
        let run = |rows: Vec<f64>| dbscan(&line(&rows), 0.5, 4);
        let rows = [&[border][..], &right, &left].concat();
        assert_eq!(run(rows), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
        let rows = [&left[..], &right, &[border]].concat();
        assert_eq!(run(rows), [0, 0, 0, 0, 1, 1, 1, 1, 0]);
        let rows = [&right[..2], &left, &[border], &right[2..]].concat();
        assert_eq!(run(rows), [0, 0, 1, 1, 1, 1, 0, 0, 0]);
    }

    #[test]
    fn repeated_rows_count_toward_min_samples() {
        assert_eq!(
            dbscan(&line(&[5.0, 5.0, 5.0, 9.0]), 0.1, 3),
            [0, 0, 0, NOISE]
        );
        assert_eq!(dbscan(&line(&[5.0, 5.0, 9.0]), 0.1, 3), [NOISE; 3]);
        // min_samples 1: every row is core, lone rows are clusters of one.
        assert_eq!(dbscan(&line(&[1.0, 5.0, 1.0]), 0.1, 1), [0, 1, 0]);
    }

    fn events() -> RecordBatch {
        // Rows 0, 2, 3 point the same way (one cluster once normalised); 1 and 4 are
        // lone.
        let f1 = Float64Array::from(vec![1.0, 0.0, 2.0, 3.0, 5.0]);
        let f2 = Float64Array::from(vec![1.0, 4.0, 2.0, 3.0, 1.0]);
        let time = TimestampNanosecondArray::from(vec![50, 10, 30, 40, 20]).with_timezone("UTC");
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("f1", DataType::Float64, false),
                Field::new("f2", DataType::Float64, false),
                Field::new("t", time.data_type().clone(), false),
            ])),
            vec![Arc::new(f1), Arc::new(f2), Arc::new(time)],
        )
        .unwrap()
    }

    #[test]
    fn the_summary_has_every_noise_row_then_one_row_per_cluster() {
        let c = cluster_events(&events(), &["f1", "f2"], "t", &ClusterOptions::default()).unwrap();
        assert_eq!(c.labels, [0, NOISE, 0, 0, NOISE]);
        assert_eq!(c.rows, [1, 4, 0]);
        let s = &c.summary;
        let ints = |name: &str| -> Vec<i64> {
            s.column_by_name(name)
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        };
        assert_eq!(ints("ClusterId"), [NOISE, NOISE, 0]);
        assert_eq!(ints("ClusterSize"), [1, 1, 3]);
        let time = |name: &str| -> Vec<i64> {
            s.column_by_name(name)
                .unwrap()
                .as_primitive::<TimestampNanosecondType>()
                .values()
                .to_vec()
        };
        // The noise rows share the span of all noise.
        assert_eq!(time("FirstEventTime"), [10, 10, 30]);
        assert_eq!(time("LastEventTime"), [20, 20, 50]);
        assert_eq!(time("TimeGenerated"), time("FirstEventTime"));
        assert_eq!(
            s.column_by_name("FirstEventTime").unwrap().data_type(),
            &DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, Some("UTC".into()))
        );
        let clustered = s.column_by_name("Clustered").unwrap().as_boolean();
        assert_eq!(
            clustered.iter().collect::<Vec<_>>(),
            [Some(false), Some(false), Some(true)]
        );
        assert_eq!(s.column_by_name("f1").unwrap().len(), 3);
    }

    #[test]
    fn bad_settings_and_columns_are_named() {
        let b = events();
        let bad = |columns: &[&str], time: &str, options: ClusterOptions| {
            cluster_events(&b, columns, time, &options)
                .unwrap_err()
                .to_string()
        };
        let e = bad(
            &["f1"],
            "t",
            ClusterOptions {
                max_distance: 0.0,
                ..Default::default()
            },
        );
        assert!(e.contains("max_distance"), "{e}");
        let e = bad(
            &["f1"],
            "t",
            ClusterOptions {
                min_samples: 0,
                ..Default::default()
            },
        );
        assert!(e.contains("min_samples"), "{e}");
        let e = bad(&["nope"], "t", ClusterOptions::default());
        assert!(e.contains("'nope'"), "{e}");
        let e = bad(&["f1"], "when", ClusterOptions::default());
        assert!(e.contains("'when'"), "{e}");
    }
}
