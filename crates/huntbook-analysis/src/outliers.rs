//! Outliers by isolation forest, as scikit-learn's `IsolationForest` finds them (the
//! model behind MSTICPy's `identify_outliers`).
//!
//! Each tree is grown on a random sample of rows (without replacement) and a random
//! set of features: a node splits on a feature drawn at random among those not
//! constant in it, at a threshold drawn uniformly between their least and greatest
//! value, until one row is left or the depth reaches log2 of the sample size. A row's
//! path length in a tree is the depth of its leaf plus `c(n)`, the average path
//! length of an unsuccessful search in a binary search tree of the `n` rows the leaf
//! still holds. The anomaly score is `2^(-mean path length / c(sample size))`: near 1
//! for rows isolated quickly, about 0.5 or less for ordinary ones.
//!
//! With a contamination fraction, the cut is the percentile of the training rows'
//! scores (linear interpolation, as numpy's default) that leaves that fraction above
//! it; rows scoring strictly above are outliers. Trees draw from a seeded generator, so
//! a seed gives the same forest and the same answer on every run and any core count.
use std::sync::Arc;

use arrow_array::{BooleanArray, Float64Array, RecordBatch};
use rayon::prelude::*;

use crate::matrix::Matrix;
use crate::table::Table;
use crate::AnalysisError;

/// The column of anomaly scores [`outliers`] adds.
pub const SCORE_COLUMN: &str = "OutlierScore";
/// The column of outlier flags [`outliers`] adds.
pub const FLAG_COLUMN: &str = "IsOutlier";
/// Below this spread a feature counts as constant in a node (scikit-learn's rule).
const CONSTANT_SPREAD: f64 = 1e-7;

/// How many rows each tree is grown on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleSize {
    /// 256 rows, or all when there are fewer.
    Auto,
    /// This many rows, or all when there are fewer.
    Count(usize),
    /// This fraction (above 0, at most 1) of the rows.
    Fraction(f64),
}

/// How many features each tree sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeatureCount {
    All,
    Count(usize),
    /// This fraction (above 0, at most 1) of the features, at least one.
    Fraction(f64),
}

/// Where the outlier cut lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Contamination {
    /// The cut of the original paper: scores above 0.5.
    Auto,
    /// The expected share of outliers (above 0, at most 0.5).
    Fraction(f64),
}

#[derive(Debug, Clone)]
pub struct ForestOptions {
    pub n_estimators: usize,
    pub max_samples: SampleSize,
    pub max_features: FeatureCount,
    pub contamination: Contamination,
    pub seed: u64,
}

impl Default for ForestOptions {
    /// scikit-learn's defaults, with a contamination of 5% as MSTICPy's.
    fn default() -> Self {
        ForestOptions {
            n_estimators: 100,
            max_samples: SampleSize::Auto,
            max_features: FeatureCount::All,
            contamination: Contamination::Fraction(0.05),
            seed: 0,
        }
    }
}

/// A fitted forest and its outlier cut.
#[derive(Debug)]
pub struct IsolationForest {
    trees: Vec<Tree>,
    features: usize,
    sample_size: usize,
    /// Rows scoring above this are outliers.
    cut: f64,
}

impl IsolationForest {
    /// Grows the forest on the rows of `x` and sets the cut from their scores.
    pub fn fit(x: &Matrix, options: &ForestOptions) -> Result<IsolationForest, AnalysisError> {
        Ok(Self::fit_scored(x, options)?.0)
    }

    /// [`IsolationForest::fit`], and the scores of the rows of `x`.
    pub fn fit_scored(
        x: &Matrix,
        options: &ForestOptions,
    ) -> Result<(IsolationForest, Vec<f64>), AnalysisError> {
        if x.rows() == 0 || x.cols() == 0 {
            return Err(AnalysisError::Invalid(
                "the isolation forest needs at least one row and one feature".into(),
            ));
        }
        if options.n_estimators == 0 {
            return Err(AnalysisError::Invalid(
                "n_estimators must be at least 1".into(),
            ));
        }
        if let Contamination::Fraction(share) = options.contamination {
            if !(share > 0.0 && share <= 0.5) {
                return Err(AnalysisError::Invalid(format!(
                    "contamination must be above 0 and at most 0.5, got {share}"
                )));
            }
        }
        let sample_size = sample_size(options.max_samples, x.rows())?;
        let features = feature_count(options.max_features, x.cols())?;
        let max_depth = (sample_size.max(2) as f64).log2().ceil() as usize;
        let trees = (0..options.n_estimators)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::new(options.seed, t as u64);
                let mut rows = rng.choose(x.rows(), sample_size);
                let columns = rng.choose(x.cols(), features);
                Tree::grow(x, &mut rows, &columns, max_depth, &mut rng)
            })
            .collect();
        let mut forest = IsolationForest {
            trees,
            features: x.cols(),
            sample_size,
            cut: 0.5,
        };
        let scores = forest.scores(x)?;
        if let Contamination::Fraction(share) = options.contamination {
            // scikit-learn's offset: the percentile of the negated scores.
            let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
            forest.cut = -percentile(negated, 100.0 * share);
        }
        Ok((forest, scores))
    }

    /// The anomaly score of each row of `x` (see the module documentation).
    pub fn scores(&self, x: &Matrix) -> Result<Vec<f64>, AnalysisError> {
        if x.cols() != self.features {
            return Err(AnalysisError::Invalid(format!(
                "the forest was grown on {} features; the rows to score have {}",
                self.features,
                x.cols()
            )));
        }
        let norm = self.trees.len() as f64 * average_path_length(self.sample_size);
        Ok((0..x.rows())
            .into_par_iter()
            .map(|i| {
                let total: f64 = self.trees.iter().map(|t| t.path_length(x.row(i))).sum();
                // One training row: every path is 0 long; scikit-learn scores it 0.5.
                let ratio = if norm == 0.0 { 1.0 } else { total / norm };
                2f64.powf(-ratio)
            })
            .collect())
    }

    /// The score above which a row is an outlier.
    pub fn cut(&self) -> f64 {
        self.cut
    }

    /// Whether each row of `x` is an outlier.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<bool>, AnalysisError> {
        Ok(self.scores(x)?.into_iter().map(|s| s > self.cut).collect())
    }
}

/// `batch` with an isolation forest's anomaly score (`OutlierScore`) and verdict
/// (`IsOutlier`) for each row, the forest grown on the feature `columns` of all rows.
pub fn outliers(
    batch: &RecordBatch,
    columns: &[&str],
    options: &ForestOptions,
) -> Result<RecordBatch, AnalysisError> {
    let x = Matrix::from_columns(batch, columns)?;
    let (forest, scores) = IsolationForest::fit_scored(&x, options)?;
    let flags: BooleanArray = scores.iter().map(|&s| Some(s > forest.cut())).collect();
    let mut table = Table::from(batch);
    table.replace(SCORE_COLUMN, Arc::new(Float64Array::from(scores)));
    table.replace(FLAG_COLUMN, Arc::new(flags));
    table.to_batch()
}

/// `c(n)`: the average path length of an unsuccessful search in a binary search tree
/// of `n` keys, `2 H(n - 1) - 2 (n - 1) / n` with `H(i) ≈ ln i + γ`; 0 for one key
/// or none, 1 for two.
pub fn average_path_length(n: usize) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

fn sample_size(max_samples: SampleSize, rows: usize) -> Result<usize, AnalysisError> {
    match max_samples {
        SampleSize::Auto => Ok(rows.min(256)),
        SampleSize::Count(0) => Err(AnalysisError::Invalid(
            "max_samples must be at least 1".into(),
        )),
        SampleSize::Count(n) => Ok(n.min(rows)),
        SampleSize::Fraction(f) if f > 0.0 && f <= 1.0 => Ok(((f * rows as f64) as usize).max(1)),
        SampleSize::Fraction(f) => Err(AnalysisError::Invalid(format!(
            "max_samples as a fraction must be above 0 and at most 1, got {f}"
        ))),
    }
}

fn feature_count(max_features: FeatureCount, cols: usize) -> Result<usize, AnalysisError> {
    match max_features {
        FeatureCount::All => Ok(cols),
        FeatureCount::Count(k) if (1..=cols).contains(&k) => Ok(k),
        FeatureCount::Count(k) => Err(AnalysisError::Invalid(format!(
            "max_features must be between 1 and the {cols} feature columns, got {k}"
        ))),
        FeatureCount::Fraction(f) if f > 0.0 && f <= 1.0 => Ok(((f * cols as f64) as usize).max(1)),
        FeatureCount::Fraction(f) => Err(AnalysisError::Invalid(format!(
            "max_features as a fraction must be above 0 and at most 1, got {f}"
        ))),
    }
}

/// numpy's default percentile: linear interpolation between the closest ranks.
fn percentile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let position = q / 100.0 * (values.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = (low + 1).min(values.len() - 1);
    let (a, b, t) = (values[low], values[high], position - low as f64);
    // numpy's lerp, which interpolates from the nearer end.
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// One isolation tree, its nodes in a flat list (the root first).
#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    /// A leaf, with `c` of the rows it holds: the path length still to add.
    Leaf { rest: f64 },
}

impl Tree {
    fn grow(
        x: &Matrix,
        rows: &mut [usize],
        features: &[usize],
        max_depth: usize,
        rng: &mut Rng,
    ) -> Tree {
        let mut tree = Tree { nodes: Vec::new() };
        tree.grow_node(x, rows, features, 0, max_depth, rng);
        tree
    }

    /// Adds the node over `rows` (and its subtree) and returns its number.
    fn grow_node(
        &mut self,
        x: &Matrix,
        rows: &mut [usize],
        features: &[usize],
        depth: usize,
        max_depth: usize,
        rng: &mut Rng,
    ) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node::Leaf {
            rest: average_path_length(rows.len()),
        });
        if rows.len() <= 1 || depth >= max_depth {
            return id;
        }
        let Some((feature, low, high)) = pick_feature(x, rows, features, rng) else {
            return id;
        };
        let mut threshold = low + rng.unit() * (high - low);
        if threshold >= high {
            threshold = low;
        }
        // Rows at or below the threshold go left.
        let mut split = 0;
        for i in 0..rows.len() {
            if x.row(rows[i])[feature] <= threshold {
                rows.swap(i, split);
                split += 1;
            }
        }
        let (left_rows, right_rows) = rows.split_at_mut(split);
        let left = self.grow_node(x, left_rows, features, depth + 1, max_depth, rng);
        let right = self.grow_node(x, right_rows, features, depth + 1, max_depth, rng);
        self.nodes[id] = Node::Split {
            feature,
            threshold,
            left,
            right,
        };
        id
    }

    /// The depth of the row's leaf plus `c` of the rows the leaf holds.
    fn path_length(&self, row: &[f64]) -> f64 {
        let mut id = 0;
        let mut depth = 0;
        loop {
            match self.nodes[id] {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    id = if row[feature] <= threshold {
                        left
                    } else {
                        right
                    };
                    depth += 1;
                }
                Node::Leaf { rest } => return depth as f64 + rest,
            }
        }
    }
}

/// A feature drawn at random among those not constant over `rows`, with its least and
/// greatest value there; none when every feature is constant.
fn pick_feature(
    x: &Matrix,
    rows: &[usize],
    features: &[usize],
    rng: &mut Rng,
) -> Option<(usize, f64, f64)> {
    let mut candidates = features.to_vec();
    while !candidates.is_empty() {
        let feature = candidates.swap_remove(rng.below(candidates.len()));
        let (low, high) = rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                let v = x.row(r)[feature];
                (lo.min(v), hi.max(v))
            });
        if high > low + CONSTANT_SPREAD {
            return Some((feature, low, high));
        }
    }
    None
}

/// SplitMix64: small, fast, and good enough to draw samples and thresholds; one
/// stream per tree, so trees can grow in parallel and still repeat exactly.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in [0, n).
    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// `k` distinct numbers out of 0..n, in random order.
    fn choose(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        all
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::ArrayRef;
    use arrow_schema::{Field, Schema};

    use super::*;

    /// 300 rows on a tight lattice and two far away, the last rows.
    fn planted() -> Matrix {
        let mut values = Vec::new();
        for i in 0..300 {
            values.push((i % 20) as f64 * 0.1);
            values.push((i / 20) as f64 * 0.1);
        }
        values.extend_from_slice(&[25.0, -30.0, -40.0, 18.0]);
        Matrix::new(302, 2, values).unwrap()
    }

    #[test]
    fn path_length_normaliser_c_of_n() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        assert!((average_path_length(3) - 1.207392357589623).abs() < 1e-14);
        assert!((average_path_length(256) - 10.244770920119917).abs() < 1e-12);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        assert!((percentile(vec![4.0, 1.0, 3.0, 2.0], 5.0) - 1.15).abs() < 1e-15);
        assert!((percentile(vec![0.1, 0.7, 0.3], 90.0) - 0.62).abs() < 1e-15);
        assert_eq!(percentile(vec![2.0], 5.0), 2.0);
    }

    #[test]
    fn a_seed_gives_the_same_forest_every_time() {
        let x = planted();
        let options = ForestOptions::default();
        let a = IsolationForest::fit(&x, &options)
            .unwrap()
            .scores(&x)
            .unwrap();
        let b = IsolationForest::fit(&x, &options)
            .unwrap()
            .scores(&x)
            .unwrap();
        assert_eq!(a, b);
        let other = ForestOptions { seed: 1, ..options };
        let c = IsolationForest::fit(&x, &other)
            .unwrap()
            .scores(&x)
            .unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn planted_outliers_score_highest_and_are_flagged() {
        let x = planted();
        let options = ForestOptions {
            contamination: Contamination::Fraction(0.01),
            ..Default::default()
        };
        let forest = IsolationForest::fit(&x, &options).unwrap();
        let scores = forest.scores(&x).unwrap();
        let mut order: Vec<usize> = (0..x.rows()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        assert_eq!(order[..2].iter().copied().max(), Some(301));
        assert_eq!(order[..2].iter().copied().min(), Some(300));
        assert!(scores[300] > 0.6 && scores[150] < 0.5, "{scores:?}");
        let flagged = forest.predict(&x).unwrap();
        // 1% of 302 rows: the cut leaves three rows above it at most.
        assert!(flagged[300] && flagged[301]);
        assert!(flagged.iter().filter(|&&f| f).count() <= 4);
    }

    #[test]
    fn constant_data_isolates_nothing() {
        let x = Matrix::new(10, 1, vec![3.0; 10]).unwrap();
        let forest = IsolationForest::fit(&x, &ForestOptions::default()).unwrap();
        // Every tree is one leaf of 10 rows: the path is c(10), the score 2^-1.
        for s in forest.scores(&x).unwrap() {
            assert!((s - 0.5).abs() < 1e-12);
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let x = planted();
        let bad =
            |options: ForestOptions| IsolationForest::fit(&x, &options).unwrap_err().to_string();
        let e = bad(ForestOptions {
            contamination: Contamination::Fraction(0.7),
            ..Default::default()
        });
        assert!(e.contains("contamination"), "{e}");
        let e = bad(ForestOptions {
            max_features: FeatureCount::Count(3),
            ..Default::default()
        });
        assert!(e.contains("max_features"), "{e}");
        let e = bad(ForestOptions {
            max_samples: SampleSize::Fraction(1.5),
            ..Default::default()
        });
        assert!(e.contains("max_samples"), "{e}");
        let forest = IsolationForest::fit(&x, &ForestOptions::default()).unwrap();
        assert!(forest
            .scores(&Matrix::new(1, 1, vec![0.0]).unwrap())
            .is_err());
    }

    #[test]
    fn outliers_adds_score_and_flag_columns() {
        let x = planted();
        let a: Vec<f64> = (0..x.rows()).map(|i| x.row(i)[0]).collect();
        let b: Vec<f64> = (0..x.rows()).map(|i| x.row(i)[1]).collect();
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("a", arrow_schema::DataType::Float64, false),
                Field::new("b", arrow_schema::DataType::Float64, false),
            ])),
            vec![
                Arc::new(Float64Array::from(a)) as ArrayRef,
                Arc::new(Float64Array::from(b)),
            ],
        )
        .unwrap();
        let out = outliers(&batch, &["a", "b"], &ForestOptions::default()).unwrap();
        assert_eq!(out.num_columns(), 4);
        let scores = out
            .column_by_name(SCORE_COLUMN)
            .unwrap()
            .as_primitive::<Float64Type>();
        let flags = out.column_by_name(FLAG_COLUMN).unwrap().as_boolean();
        assert!(flags.value(301) && scores.value(301) > scores.value(0));
        // 5% of 302 rows, give or take the rows tied at the cut.
        let flagged = flags.true_count();
        assert!((13..=16).contains(&flagged), "{flagged}");
    }
}
