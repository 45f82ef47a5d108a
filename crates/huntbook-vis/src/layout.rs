//! Force-directed layout of a graph, for the network and entity charts.
//!
//! Each connected component is laid out on its own with Fruchterman and Reingold's
//! forces: every pair of nodes pushes apart with `K²/d`, every edge pulls its ends
//! together with `d²/K`, and a temperature that falls each round caps how far a
//! node moves, so the layout settles. `K`, the length an edge settles at, is the
//! unit of the result. Small components compute every pair; larger ones group far
//! nodes in a quadtree and push with each group's centre (Barnes and Hut), which
//! lays out 2,000 nodes in about a second.
//!
//! Components are then packed side by side in rows, biggest first, with a gap
//! wider than an edge between them: a graph of one large cluster and many isolated
//! pairs shows the cluster with the pairs tidied beside it, instead of the pairs
//! flung to the edges by the push of the cluster.
//!
//! The result depends only on the graph and the seed (the start positions are a
//! seeded spiral, every sum runs in a fixed order), so a chart draws the same way
//! every time it is made.

use std::collections::VecDeque;

/// Rounds of the force simulation.
const ROUNDS: usize = 300;
/// Components up to this size compute the push of every pair exactly.
const EXACT_UP_TO: usize = 300;
/// Barnes-Hut: a group of nodes this much smaller than its distance acts as one.
const THETA: f64 = 1.0;
/// Space between packed components, in edge lengths.
const GAP: f64 = 2.0;
/// The packed layout aims at this width / height (a chart is wider than tall).
const ASPECT: f64 = 1.5;
/// Nodes closer than this are treated as this close, so forces stay finite.
const NEAR: f64 = 0.01;

/// Positions of `nodes` nodes joined by `edges` (pairs of node indexes; repeats and
/// self-loops are ignored), in units of the ideal edge length, with the top-left
/// of the packed layout at (0, 0).
pub fn force_layout(nodes: usize, edges: &[(usize, usize)], seed: u64) -> Vec<[f64; 2]> {
    let neighbours = adjacency(nodes, edges);
    let mut positions = vec![[0.0, 0.0]; nodes];
    let mut boxes = Vec::new();
    for (index, members) in components(&neighbours).into_iter().enumerate() {
        let local = component_layout(&members, &neighbours, seed ^ (index as u64) << 17);
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &local {
            for axis in 0..2 {
                lo[axis] = lo[axis].min(p[axis]);
                hi[axis] = hi[axis].max(p[axis]);
            }
        }
        for (&node, p) in members.iter().zip(&local) {
            positions[node] = [p[0] - lo[0], p[1] - lo[1]];
        }
        boxes.push((members, [hi[0] - lo[0], hi[1] - lo[1]]));
    }
    pack(&mut positions, &boxes);
    positions
}

/// The distinct neighbours of each node, in ascending order.
fn adjacency(nodes: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut neighbours = vec![Vec::new(); nodes];
    for &(a, b) in edges {
        if a != b {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
    }
    for list in &mut neighbours {
        list.sort_unstable();
        list.dedup();
    }
    neighbours
}

/// Connected components, biggest first (ties: the one with the lowest node first),
/// each listing its nodes in breadth-first order from its best-connected node.
fn components(neighbours: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut seen = vec![false; neighbours.len()];
    let mut out = Vec::new();
    for start in 0..neighbours.len() {
        if seen[start] {
            continue;
        }
        let mut members = vec![start];
        seen[start] = true;
        let mut i = 0;
        while i < members.len() {
            for &next in &neighbours[members[i]] {
                if !seen[next] {
                    seen[next] = true;
                    members.push(next);
                }
            }
            i += 1;
        }
        // Start again from the hub so that the spiral puts it in the middle.
        let hub = *members
            .iter()
            .max_by_key(|&&n| (neighbours[n].len(), std::cmp::Reverse(n)))
            .expect("a component has a node");
        out.push(breadth_first(hub, neighbours, members.len()));
    }
    out.sort_by_key(|members| {
        (
            std::cmp::Reverse(members.len()),
            members.iter().min().copied(),
        )
    });
    out
}

fn breadth_first(start: usize, neighbours: &[Vec<usize>], size: usize) -> Vec<usize> {
    let mut order = Vec::with_capacity(size);
    let mut queued = std::collections::HashSet::with_capacity(size);
    let mut queue = VecDeque::from([start]);
    queued.insert(start);
    while let Some(node) = queue.pop_front() {
        order.push(node);
        for &next in &neighbours[node] {
            if queued.insert(next) {
                queue.push_back(next);
            }
        }
    }
    order
}

/// The layout of one connected component (`members` in breadth-first order), in
/// the same order.
fn component_layout(members: &[usize], neighbours: &[Vec<usize>], seed: u64) -> Vec<[f64; 2]> {
    let m = members.len();
    if m == 1 {
        return vec![[0.0, 0.0]];
    }
    let mut local = std::collections::HashMap::with_capacity(m);
    for (i, &node) in members.iter().enumerate() {
        local.insert(node, i);
    }
    let mut edges = Vec::new();
    for (i, &node) in members.iter().enumerate() {
        for next in &neighbours[node] {
            let j = local[next];
            if i < j {
                edges.push((i, j));
            }
        }
    }
    // A sunflower spiral at about one node per unit area, in breadth-first order, so
    // that neighbours start near each other; a little seeded jitter breaks symmetry.
    let mut random = SplitMix(seed);
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let mut pos: Vec<[f64; 2]> = (0..m)
        .map(|i| {
            let r = (i as f64 + 0.5).sqrt() * 0.6;
            let a = i as f64 * golden;
            [
                r * a.cos() + (random.unit() - 0.5) * 0.1,
                r * a.sin() + (random.unit() - 0.5) * 0.1,
            ]
        })
        .collect();
    let start = ((m as f64).sqrt() * 0.5).max(1.0);
    let mut force = vec![[0.0; 2]; m];
    let mut tree = QuadTree::default();
    for round in 0..ROUNDS {
        force.iter_mut().for_each(|f| *f = [0.0, 0.0]);
        if m <= EXACT_UP_TO {
            push_exact(&pos, &mut force);
        } else {
            tree.build(&pos);
            tree.push(&pos, &mut force);
        }
        for &(i, j) in &edges {
            let (dx, dy) = (pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]);
            let d = dx.hypot(dy).max(NEAR);
            // d²/K along the unit vector: (dx/d) * d² = dx * d.
            let (fx, fy) = (dx * d, dy * d);
            force[i][0] -= fx;
            force[i][1] -= fy;
            force[j][0] += fx;
            force[j][1] += fy;
        }
        // Linear cooling to a small step: large moves early, fine placement late.
        let temperature = start * (1.0 - round as f64 / ROUNDS as f64) + 0.01;
        for (p, f) in pos.iter_mut().zip(&force) {
            let length = f[0].hypot(f[1]);
            if length > 0.0 {
                let step = length.min(temperature) / length;
                p[0] += f[0] * step;
                p[1] += f[1] * step;
            }
        }
    }
    pos
}

/// The push between every pair: `K²/d` along the line between them (K = 1).
fn push_exact(pos: &[[f64; 2]], force: &mut [[f64; 2]]) {
    for i in 0..pos.len() {
        for j in i + 1..pos.len() {
            let (fx, fy) = push(pos[i], pos[j], 1.0, i + j);
            force[i][0] += fx;
            force[i][1] += fy;
            force[j][0] -= fx;
            force[j][1] -= fy;
        }
    }
}

/// The push on a node at `a` from `mass` nodes at `b`. Nodes on the same spot are
/// pushed apart in a direction of their own (`salt`), so they separate.
fn push(a: [f64; 2], b: [f64; 2], mass: f64, salt: usize) -> (f64, f64) {
    let (mut dx, mut dy) = (a[0] - b[0], a[1] - b[1]);
    let mut d2 = dx * dx + dy * dy;
    if d2 < NEAR * NEAR {
        let angle = salt as f64 * 2.399_963;
        dx = NEAR * angle.cos();
        dy = NEAR * angle.sin();
        d2 = NEAR * NEAR;
    }
    // (K²/d) along (dx, dy)/d = K² (dx, dy) / d².
    (mass * dx / d2, mass * dy / d2)
}

/// A quadtree of the nodes with the count and centre of each square: the push of a
/// far square's nodes is that of its count of nodes at its centre. The nodes are
/// held in one array, each cell owning a contiguous range of it, so that building
/// the tree every round allocates nothing once the first round has.
#[derive(Default)]
struct QuadTree {
    cells: Vec<Cell>,
    order: Vec<usize>,
    scratch: Vec<usize>,
}

struct Cell {
    centre: [f64; 2],
    mass: f64,
    size: f64,
    /// The four quarters' cells; `None` for a leaf.
    children: Option<[usize; 4]>,
    /// The cell's nodes: `order[start..end]`.
    start: usize,
    end: usize,
}

impl QuadTree {
    /// Rebuilds the tree for `pos`.
    fn build(&mut self, pos: &[[f64; 2]]) {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in pos {
            for axis in 0..2 {
                lo[axis] = lo[axis].min(p[axis]);
                hi[axis] = hi[axis].max(p[axis]);
            }
        }
        let size = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(NEAR);
        self.cells.clear();
        self.order.clear();
        self.order.extend(0..pos.len());
        self.cell(0, pos.len(), lo, size, pos, 0);
    }

    /// Adds the cell of `order[start..end]` (inside the square at `corner` of side
    /// `size`) and its descendants; returns its index.
    fn cell(
        &mut self,
        start: usize,
        end: usize,
        corner: [f64; 2],
        size: f64,
        pos: &[[f64; 2]],
        depth: u32,
    ) -> usize {
        let mass = (end - start) as f64;
        let mut centre = [0.0, 0.0];
        for &n in &self.order[start..end] {
            centre[0] += pos[n][0] / mass;
            centre[1] += pos[n][1] / mass;
        }
        let index = self.cells.len();
        self.cells.push(Cell {
            centre,
            mass,
            size,
            children: None,
            start,
            end,
        });
        // Nodes on one spot cannot be split: past a depth they stay one leaf.
        if end - start <= 1 || depth > 24 {
            return index;
        }
        // Sort the range by quarter (a counting sort through the scratch array).
        let half = size / 2.0;
        let quarter = |n: usize| {
            usize::from(pos[n][0] >= corner[0] + half)
                + 2 * usize::from(pos[n][1] >= corner[1] + half)
        };
        let mut bounds = [0usize; 5];
        for &n in &self.order[start..end] {
            bounds[quarter(n) + 1] += 1;
        }
        for q in 0..4 {
            bounds[q + 1] += bounds[q];
        }
        self.scratch.clear();
        self.scratch.resize(end - start, 0);
        let mut fill = bounds;
        for &n in &self.order[start..end] {
            let q = quarter(n);
            self.scratch[fill[q]] = n;
            fill[q] += 1;
        }
        self.order[start..end].copy_from_slice(&self.scratch);
        let mut children = [0; 4];
        for (q, child) in children.iter_mut().enumerate() {
            let corner = [
                corner[0] + half * (q % 2) as f64,
                corner[1] + half * (q / 2) as f64,
            ];
            *child = self.cell(
                start + bounds[q],
                start + bounds[q + 1],
                corner,
                half,
                pos,
                depth + 1,
            );
        }
        self.cells[index].children = Some(children);
        index
    }

    /// Adds to `force` the push on every node from all the others.
    fn push(&self, pos: &[[f64; 2]], force: &mut [[f64; 2]]) {
        let mut stack = Vec::with_capacity(64);
        for (i, p) in pos.iter().enumerate() {
            stack.push(0);
            while let Some(c) = stack.pop() {
                let cell = &self.cells[c];
                if cell.mass == 0.0 {
                    continue;
                }
                let Some(children) = cell.children else {
                    for &j in &self.order[cell.start..cell.end] {
                        if j != i {
                            let (fx, fy) = push(*p, pos[j], 1.0, i + j);
                            force[i][0] += fx;
                            force[i][1] += fy;
                        }
                    }
                    continue;
                };
                let (dx, dy) = (p[0] - cell.centre[0], p[1] - cell.centre[1]);
                if cell.size * cell.size < THETA * THETA * (dx * dx + dy * dy) {
                    let (fx, fy) = push(*p, cell.centre, cell.mass, i);
                    force[i][0] += fx;
                    force[i][1] += fy;
                } else {
                    stack.extend(children);
                }
            }
        }
    }
}

/// Moves each component (its nodes' positions start at its box's top-left) into
/// rows: biggest first, a new row when the current one is full.
fn pack(positions: &mut [[f64; 2]], boxes: &[(Vec<usize>, [f64; 2])]) {
    let area: f64 = boxes.iter().map(|(_, b)| (b[0] + GAP) * (b[1] + GAP)).sum();
    let widest = boxes.iter().map(|(_, b)| b[0]).fold(0.0, f64::max);
    let row_width = (area * ASPECT).sqrt().max(widest);
    let (mut x, mut y, mut row_height) = (0.0, 0.0, 0.0f64);
    for (members, size) in boxes {
        if x > 0.0 && x + size[0] > row_width {
            x = 0.0;
            y += row_height + GAP;
            row_height = 0.0;
        }
        for &n in members {
            positions[n][0] += x;
            positions[n][1] += y;
        }
        x += size[0] + GAP;
        row_height = row_height.max(size[1]);
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same layout.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
        (a[0] - b[0]).hypot(a[1] - b[1])
    }

    fn closest_pair(pos: &[[f64; 2]]) -> f64 {
        let mut best = f64::INFINITY;
        for i in 0..pos.len() {
            for j in i + 1..pos.len() {
                best = best.min(distance(pos[i], pos[j]));
            }
        }
        best
    }

    /// Two cliques of `size` joined by one edge, plus `pairs` separate pairs.
    fn clusters(size: usize, pairs: usize) -> (usize, Vec<(usize, usize)>) {
        let mut edges = Vec::new();
        for base in [0, size] {
            for i in 0..size {
                for j in i + 1..size {
                    edges.push((base + i, base + j));
                }
            }
        }
        edges.push((0, size));
        for p in 0..pairs {
            edges.push((2 * size + 2 * p, 2 * size + 2 * p + 1));
        }
        (2 * size + 2 * pairs, edges)
    }

    #[test]
    fn the_same_graph_and_seed_give_the_same_layout() {
        let (n, edges) = clusters(6, 3);
        assert_eq!(force_layout(n, &edges, 7), force_layout(n, &edges, 7));
        assert_ne!(force_layout(n, &edges, 7), force_layout(n, &edges, 8));
    }

    #[test]
    fn nodes_of_small_graphs_do_not_overlap() {
        let star: Vec<_> = (1..12).map(|i| (0, i)).collect();
        let path: Vec<_> = (0..9).map(|i| (i, i + 1)).collect();
        let (n, two) = clusters(5, 2);
        for (n, edges) in [(12, star), (10, path), (n, two)] {
            let pos = force_layout(n, &edges, 1);
            let closest = closest_pair(&pos);
            assert!(closest > 0.4, "{n} nodes: closest pair {closest}");
            for &(a, b) in &edges {
                let d = distance(pos[a], pos[b]);
                assert!(d < 3.0, "edge {a}-{b} is {d} long");
            }
        }
    }

    #[test]
    fn edges_within_clusters_are_shorter_than_the_bridge_and_components_apart() {
        let (n, edges) = clusters(6, 4);
        let pos = force_layout(n, &edges, 3);
        let bridge = distance(pos[0], pos[6]);
        let inner: Vec<f64> = edges[..edges.len() - 5]
            .iter()
            .map(|&(a, b)| distance(pos[a], pos[b]))
            .collect();
        let mean = inner.iter().sum::<f64>() / inner.len() as f64;
        assert!(mean < bridge, "mean clique edge {mean}, bridge {bridge}");
        // Nodes of different components are further apart than any clique edge.
        let longest = inner.iter().copied().fold(0.0, f64::max);
        let component = |i: usize| if i < 12 { 0 } else { 1 + (i - 12) / 2 };
        for i in 0..n {
            for j in i + 1..n {
                if component(i) != component(j) {
                    let d = distance(pos[i], pos[j]);
                    assert!(d > longest, "{i} and {j}: {d} <= {longest}");
                }
            }
        }
    }

    #[test]
    fn isolated_pairs_are_packed_next_to_the_cluster() {
        let (n, edges) = clusters(8, 30);
        let pos = force_layout(n, &edges, 5);
        let (mut w, mut h) = (0.0f64, 0.0f64);
        for p in &pos {
            assert!(p[0] >= -1e-9 && p[1] >= -1e-9, "{p:?}");
            w = w.max(p[0]);
            h = h.max(p[1]);
        }
        // Packed in rows about as wide as the chart's shape, not strung out.
        assert!(w < 4.0 * h && h < 4.0 * w, "{w} x {h}");
        assert!(w * h < 20.0 * n as f64, "{w} x {h} for {n} nodes");
    }

    #[test]
    fn large_components_use_the_quadtree_and_still_spread_out() {
        // A ring of 400 nodes with spokes to 4 hubs: above the exact limit.
        let mut edges: Vec<_> = (0..400).map(|i| (i, (i + 1) % 400)).collect();
        edges.extend((0..400).map(|i| (i, 400 + i % 4)));
        let pos = force_layout(404, &edges, 2);
        assert_eq!(pos, force_layout(404, &edges, 2));
        assert!(pos.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
        let closest = closest_pair(&pos);
        assert!(closest > 0.05, "closest pair {closest}");
        let mean = edges
            .iter()
            .map(|&(a, b)| distance(pos[a], pos[b]))
            .sum::<f64>()
            / edges.len() as f64;
        assert!(mean > 0.3 && mean < 10.0, "mean edge {mean}");
    }

    #[test]
    fn the_quadtree_push_is_close_to_the_exact_one() {
        let mut random = SplitMix(9);
        let pos: Vec<[f64; 2]> = (0..500)
            .map(|_| [random.unit() * 20.0, random.unit() * 20.0])
            .collect();
        let mut exact = vec![[0.0; 2]; pos.len()];
        push_exact(&pos, &mut exact);
        let mut approx = vec![[0.0; 2]; pos.len()];
        let mut tree = QuadTree::default();
        tree.build(&pos);
        tree.push(&pos, &mut approx);
        let mut error = 0.0;
        let mut total = 0.0;
        for (e, a) in exact.iter().zip(&approx) {
            error += (e[0] - a[0]).hypot(e[1] - a[1]);
            total += e[0].hypot(e[1]);
        }
        assert!(error / total < 0.1, "relative error {}", error / total);
    }

    #[test]
    fn empty_and_edgeless_graphs_lay_out() {
        assert!(force_layout(0, &[], 1).is_empty());
        let pos = force_layout(5, &[(2, 2)], 1);
        assert!(closest_pair(&pos) >= GAP);
    }
}
