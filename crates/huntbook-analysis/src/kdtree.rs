//! A k-d tree over the rows of a matrix, answering "which rows lie within this distance
//! of that point", the one query DBSCAN makes for every row.
//!
//! A row is within `radius` when the sum of its squared coordinate differences, added
//! feature by feature, is at most `radius²`: the same test, in the same order, as
//! scikit-learn's KD tree, so that rows lying exactly on the radius fall on the same
//! side.
use crate::matrix::Matrix;

/// Rows per leaf: below this, scanning beats splitting further.
const LEAF_SIZE: usize = 16;

pub struct KdTree<'m> {
    points: &'m Matrix,
    /// Row numbers, arranged so that every node owns a contiguous run of them.
    order: Vec<usize>,
    nodes: Vec<Node>,
}

struct Node {
    start: usize,
    end: usize,
    /// The bounding box of the node's rows.
    low: Vec<f64>,
    high: Vec<f64>,
    /// The two child nodes; none for a leaf.
    children: Option<(usize, usize)>,
}

impl<'m> KdTree<'m> {
    pub fn new(points: &'m Matrix) -> KdTree<'m> {
        let mut tree = KdTree {
            points,
            order: (0..points.rows()).collect(),
            nodes: Vec::new(),
        };
        if points.rows() > 0 {
            tree.build(0, points.rows());
        }
        tree
    }

    /// Builds the node over `order[start..end]` and returns its number.
    fn build(&mut self, start: usize, end: usize) -> usize {
        let cols = self.points.cols();
        let mut low = vec![f64::INFINITY; cols];
        let mut high = vec![f64::NEG_INFINITY; cols];
        for &i in &self.order[start..end] {
            for (j, &v) in self.points.row(i).iter().enumerate() {
                low[j] = low[j].min(v);
                high[j] = high[j].max(v);
            }
        }
        // Split the widest dimension at its median; a node of equal rows stays a leaf.
        let widest = (0..cols).max_by(|&a, &b| (high[a] - low[a]).total_cmp(&(high[b] - low[b])));
        let id = self.nodes.len();
        self.nodes.push(Node {
            start,
            end,
            low,
            high,
            children: None,
        });
        let Some(dim) = widest.filter(|&d| self.nodes[id].high[d] > self.nodes[id].low[d]) else {
            return id;
        };
        if end - start <= LEAF_SIZE {
            return id;
        }
        let mid = start + (end - start) / 2;
        let points = self.points;
        self.order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            points.row(a)[dim].total_cmp(&points.row(b)[dim])
        });
        let left = self.build(start, mid);
        let right = self.build(mid, end);
        self.nodes[id].children = Some((left, right));
        id
    }

    /// Calls `found` with every row within `radius` of `center`.
    pub fn within(&self, center: &[f64], radius: f64, mut found: impl FnMut(usize)) {
        if self.nodes.is_empty() {
            return;
        }
        let limit = radius * radius;
        let mut stack = vec![0];
        while let Some(id) = stack.pop() {
            let node = &self.nodes[id];
            if box_distance_sq(center, &node.low, &node.high) > limit {
                continue;
            }
            match node.children {
                Some((left, right)) => {
                    stack.push(right);
                    stack.push(left);
                }
                None => {
                    for &i in &self.order[node.start..node.end] {
                        if distance_sq(center, self.points.row(i)) <= limit {
                            found(i);
                        }
                    }
                }
            }
        }
    }
}

/// The squared Euclidean distance, summed feature by feature.
pub fn distance_sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The squared distance from `p` to the nearest point of the box: never more than the
/// distance to any row inside it, even after rounding, so pruning loses no row.
fn box_distance_sq(p: &[f64], low: &[f64], high: &[f64]) -> f64 {
    p.iter()
        .zip(low.iter().zip(high))
        .map(|(&x, (&lo, &hi))| {
            let d = if x < lo {
                lo - x
            } else if x > hi {
                x - hi
            } else {
                0.0
            };
            d * d
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_rows_a_full_scan_finds() {
        // A deterministic scatter with many repeated coordinates.
        let mut values = Vec::new();
        let mut state = 7u64;
        for _ in 0..600 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            values.push(((state >> 33) % 50) as f64 / 10.0);
        }
        let m = Matrix::new(200, 3, values).unwrap();
        let tree = KdTree::new(&m);
        for radius in [0.0, 0.1, 0.35, 1.0] {
            for i in 0..m.rows() {
                let mut got = Vec::new();
                tree.within(m.row(i), radius, |j| got.push(j));
                got.sort_unstable();
                let want: Vec<usize> = (0..m.rows())
                    .filter(|&j| distance_sq(m.row(i), m.row(j)) <= radius * radius)
                    .collect();
                assert_eq!(got, want, "row {i}, radius {radius}");
            }
        }
    }

    #[test]
    fn a_row_exactly_on_the_radius_is_inside() {
        let m = Matrix::new(2, 2, vec![0.0, 0.0, 3.0, 4.0]).unwrap();
        let mut got = Vec::new();
        KdTree::new(&m).within(m.row(0), 5.0, |j| got.push(j));
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
    }
}
