//! Loess as STL uses it: a local constant or line fitted with tricube weights (times
//! optional robustness weights) to a window of neighbours, evaluated at one position.
//!
//! Positions are 1-based, as in Cleveland et al.'s description of STL, because the
//! window arithmetic (and so every number the decomposition produces) is defined on
//! them: the window of the point at position `x` spans positions `left..=right`, and
//! its half-width grows by `(width - n) / 2` when the smoother is wider than the data.
//! A fit may be evaluated just outside the data (positions 0 and n + 1), which is how
//! STL extends each cycle-subseries by one period at either end.

/// How one loess smoother is set up: window width (in points, odd), degree of the local
/// polynomial (0 or 1) and the jump between points actually fitted (the others are
/// interpolated linearly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoother {
    pub width: usize,
    pub linear: bool,
    pub jump: usize,
}

/// The fitted value at position `x` from the points at positions `left..=right` of
/// `y`, or `None` when every weight in the window is zero (the caller keeps a fallback).
/// `scratch` is reused between calls to avoid an allocation per point.
#[allow(clippy::too_many_arguments)]
pub fn fit_at(
    y: &[f64],
    width: usize,
    linear: bool,
    x: usize,
    left: usize,
    right: usize,
    robustness: Option<&[f64]>,
    scratch: &mut Vec<f64>,
) -> Option<f64> {
    window_weights(y.len(), width, linear, x, left, right, robustness, scratch)
        .then(|| weighted_sum(scratch, &y[left - 1..right]))
}

fn weighted_sum(weights: &[f64], values: &[f64]) -> f64 {
    weights
        .iter()
        .zip(values)
        .map(|(w, v)| w * v)
        .fold(0.0, |a, b| a + b)
}

/// Fills `weights` with the loess weights of the window `left..=right` of a series of
/// `n` points for the fit at `x`; false when they are all zero.
#[allow(clippy::too_many_arguments)]
fn window_weights(
    n: usize,
    width: usize,
    linear: bool,
    x: usize,
    left: usize,
    right: usize,
    robustness: Option<&[f64]>,
    scratch: &mut Vec<f64>,
) -> bool {
    let range = n as f64 - 1.0;
    let mut h = (x as f64 - left as f64).max(right as f64 - x as f64);
    if width > n {
        h += ((width - n) / 2) as f64;
    }
    let near = 0.001 * h;
    let far = 0.999 * h;

    scratch.clear();
    scratch.resize(right + 1 - left, 0.0);
    let mut total = 0.0;
    for (offset, w) in scratch.iter_mut().enumerate() {
        let position = left + offset;
        let distance = (position as f64 - x as f64).abs();
        if distance <= far {
            *w = if distance <= near {
                1.0
            } else {
                let u = distance / h;
                let v = 1.0 - u * u * u;
                v * v * v
            };
            if let Some(rw) = robustness {
                *w *= rw[position - 1];
            }
            total += *w;
        }
    }
    if total <= 0.0 {
        return false;
    }
    for w in scratch.iter_mut() {
        *w /= total;
    }
    if h > 0.0 && linear {
        // Tilt the weights so that they reproduce a straight line through the window
        // (a local linear fit), unless the positions are too concentrated for a slope.
        let mean: f64 = scratch
            .iter()
            .enumerate()
            .map(|(offset, w)| w * (left + offset) as f64)
            .fold(0.0, |a, b| a + b);
        let spread: f64 = scratch
            .iter()
            .enumerate()
            .map(|(offset, w)| {
                let d = (left + offset) as f64 - mean;
                w * d * d
            })
            .fold(0.0, |a, b| a + b);
        if spread.sqrt() > 0.001 * range {
            let slope = (x as f64 - mean) / spread;
            for (offset, w) in scratch.iter_mut().enumerate() {
                *w *= slope * ((left + offset) as f64 - mean) + 1.0;
            }
        }
    }
    true
}

/// Fits points of one series with one smoother. Without robustness weights the
/// weights of a window depend only on where the point sits in it, so all the interior
/// points (alike) share one computation of them.
struct Fitter<'a> {
    y: &'a [f64],
    smoother: Smoother,
    robustness: Option<&'a [f64]>,
    weights: Vec<f64>,
    /// The window shape (x - left, right - x) the weights are for, and whether they
    /// are usable (not all zero).
    cached: Option<((isize, isize), bool)>,
}

impl<'a> Fitter<'a> {
    fn new(y: &'a [f64], smoother: Smoother, robustness: Option<&'a [f64]>) -> Fitter<'a> {
        Fitter {
            y,
            smoother,
            robustness,
            weights: Vec::with_capacity(smoother.width.min(y.len())),
            cached: None,
        }
    }

    /// The fit at `x`, or the point's own value when the window weighs nothing.
    fn fit(&mut self, x: usize, left: usize, right: usize) -> f64 {
        let shape = (x as isize - left as isize, right as isize - x as isize);
        let usable = match self.cached {
            Some((cached, usable)) if cached == shape && self.robustness.is_none() => usable,
            _ => {
                let usable = window_weights(
                    self.y.len(),
                    self.smoother.width,
                    self.smoother.linear,
                    x,
                    left,
                    right,
                    self.robustness,
                    &mut self.weights,
                );
                self.cached = Some((shape, usable));
                usable
            }
        };
        if usable {
            weighted_sum(&self.weights, &self.y[left - 1..right])
        } else {
            self.y[x - 1]
        }
    }
}

/// Smooths all of `y` into `out` (same length): each point's window is the `width`
/// nearest positions (shifted inwards at the ends); with a jump > 1 only every jump-th
/// point (and the last) is fitted and the rest interpolated. A window whose weights
/// are all zero leaves the point's own value.
pub fn smooth(y: &[f64], smoother: Smoother, robustness: Option<&[f64]>, out: &mut [f64]) {
    let n = y.len();
    if n < 2 {
        out[..n].copy_from_slice(y);
        return;
    }
    let width = smoother.width;
    let jump = smoother.jump.min(n - 1);
    let mut fitter = Fitter::new(y, smoother, robustness);
    // The window of the last fitted point, reused for the final point when the jumps
    // do not land on it.
    let (mut left, mut right) = (1, n);
    if width >= n {
        for i in (0..n).step_by(jump) {
            out[i] = fitter.fit(i + 1, 1, n);
        }
    } else if jump == 1 {
        let half = (width + 2) / 2;
        right = width;
        for (i, slot) in out[..n].iter_mut().enumerate() {
            if i + 1 > half && right != n {
                left += 1;
                right += 1;
            }
            *slot = fitter.fit(i + 1, left, right);
        }
        return;
    } else {
        let half = width.div_ceil(2);
        for i in (0..n).step_by(jump) {
            (left, right) = if i + 1 < half {
                (1, width)
            } else if i >= n - half {
                (n - width + 1, n)
            } else {
                (i + 2 - half, width + i + 1 - half)
            };
            out[i] = fitter.fit(i + 1, left, right);
        }
    }
    if jump == 1 {
        return;
    }
    let mut i = 0;
    while i < n - jump {
        let delta = (out[i + jump] - out[i]) / jump as f64;
        for j in i + 1..i + jump {
            out[j] = out[i] + delta * (j - i) as f64;
        }
        i += jump;
    }
    let last_fitted = ((n - 1) / jump) * jump + 1;
    if last_fitted != n {
        out[n - 1] = fitter.fit(n, left, right);
        if last_fitted != n - 1 {
            let delta = (out[n - 1] - out[last_fitted - 1]) / (n - last_fitted) as f64;
            for j in last_fitted..n {
                out[j] = out[last_fitted - 1] + delta * (j + 1 - last_fitted) as f64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricube_weights_of_a_symmetric_window() {
        // Window 1..=5 around 3: h = 2, distances 2, 1, 0, 1, 2. The ends are beyond
        // 0.999 h so weigh nothing; the neighbours weigh (1 - 1/8)^3.
        let y = [0.0, 0.0, 0.0, 0.0, 0.0];
        let mut w = Vec::new();
        fit_at(&y, 5, false, 3, 1, 5, None, &mut w).unwrap();
        let side = (1.0f64 - 0.125).powi(3);
        let total = 1.0 + 2.0 * side;
        let expected = [0.0, side / total, 1.0 / total, side / total, 0.0];
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-15, "{w:?}");
        }
    }

    #[test]
    fn a_local_line_reproduces_a_straight_line_even_at_the_ends() {
        let y: Vec<f64> = (0..20).map(|i| 3.0 + 0.5 * i as f64).collect();
        let mut out = vec![0.0; y.len()];
        let smoother = Smoother {
            width: 7,
            linear: true,
            jump: 1,
        };
        smooth(&y, smoother, None, &mut out);
        for (got, want) in out.iter().zip(&y) {
            assert!((got - want).abs() < 1e-12, "{out:?}");
        }
        // Extrapolating one step past either end continues the line too.
        let mut w = Vec::new();
        let before = fit_at(&y, 7, true, 0, 1, 7, None, &mut w).unwrap();
        assert!((before - 2.5).abs() < 1e-12, "{before}");
    }

    #[test]
    fn a_local_constant_flattens_a_line_at_the_ends() {
        let y: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let mut out = vec![0.0; y.len()];
        let smoother = Smoother {
            width: 7,
            linear: false,
            jump: 1,
        };
        smooth(&y, smoother, None, &mut out);
        // In the middle the window is symmetric, so the constant is the point itself.
        assert!((out[10] - 10.0).abs() < 1e-12);
        // At the first point the window 1..=7 leans right: the average is pulled up.
        assert!(out[0] > 0.5, "{out:?}");
    }

    #[test]
    fn jumps_interpolate_between_fitted_points() {
        let y: Vec<f64> = (0..11).map(|i| (i * i) as f64).collect();
        let mut dense = vec![0.0; y.len()];
        let mut sparse = vec![0.0; y.len()];
        let mut smoother = Smoother {
            width: 5,
            linear: true,
            jump: 1,
        };
        smooth(&y, smoother, None, &mut dense);
        smoother.jump = 3;
        smooth(&y, smoother, None, &mut sparse);
        // Fitted points agree; the ones between lie on the chord.
        for i in [0, 3, 6, 9, 10] {
            assert!(
                (dense[i] - sparse[i]).abs() < 1e-12,
                "{i}: {dense:?} {sparse:?}"
            );
        }
        let chord = sparse[3] + (sparse[6] - sparse[3]) / 3.0;
        assert!((sparse[4] - chord).abs() < 1e-12);
    }

    #[test]
    fn zero_robustness_weights_keep_the_point() {
        let y = [1.0, 2.0, 30.0, 4.0, 5.0];
        let rw = [0.0; 5];
        let mut out = [0.0; 5];
        let smoother = Smoother {
            width: 3,
            linear: true,
            jump: 1,
        };
        smooth(&y, smoother, Some(&rw), &mut out);
        assert_eq!(out, y);
    }
}
