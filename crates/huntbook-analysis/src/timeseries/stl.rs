//! STL: Seasonal-Trend decomposition by Loess (Cleveland, Cleveland, McRae and
//! Terpenning, 1990), with the parameters, defaults and numeric rules of
//! statsmodels' `STL`, so the components agree with it to rounding.
//!
//! Each pass of the inner loop detrends the series, smooths every cycle-subseries (all
//! the Mondays, all the 9 o'clocks...) with a loess extended one period past either
//! end, takes out what a low-pass filter (moving averages of period, period and 3,
//! then a loess) finds in that, and smooths what is left after deseasonalising into
//! the trend. The outer loop, when `robust`, reweights every point by the bisquare of
//! its residual over six median absolute residuals, so spikes stop pulling the fit.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::loess::{fit_at, smooth, Smoother};
use crate::columns::numbers;
use crate::AnalysisError;

/// The settings of one decomposition, named as statsmodels' `STL` names them. `None`
/// picks the defaults it picks: trend from period and seasonal, low pass the next odd
/// number above the period, inner iterations 2 (robust) or 5, outer 15 (robust) or 0.
#[derive(Debug, Clone, PartialEq)]
pub struct StlParams {
    pub period: usize,
    pub seasonal: usize,
    pub trend: Option<usize>,
    pub low_pass: Option<usize>,
    pub seasonal_deg: u8,
    pub trend_deg: u8,
    pub low_pass_deg: u8,
    pub robust: bool,
    pub seasonal_jump: usize,
    pub trend_jump: usize,
    pub low_pass_jump: usize,
    pub inner_iter: Option<usize>,
    pub outer_iter: Option<usize>,
}

impl StlParams {
    /// statsmodels' defaults for a series with this period.
    pub fn new(period: usize) -> StlParams {
        StlParams {
            period,
            seasonal: 7,
            trend: None,
            low_pass: None,
            seasonal_deg: 1,
            trend_deg: 1,
            low_pass_deg: 1,
            robust: false,
            seasonal_jump: 1,
            trend_jump: 1,
            low_pass_jump: 1,
            inner_iter: None,
            outer_iter: None,
        }
    }
}

/// The components of a series: `observed = seasonal + trend + residual`, and the
/// robustness weight of each point (all 1 unless robust).
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    pub seasonal: Vec<f64>,
    pub trend: Vec<f64>,
    pub residual: Vec<f64>,
    pub weights: Vec<f64>,
}

/// The settings with every default filled in and checked.
struct Plan {
    period: usize,
    seasonal: Smoother,
    trend: Smoother,
    low_pass: Smoother,
    inner: usize,
    outer: usize,
}

fn odd_at_least_three(name: &str, value: usize) -> Result<(), AnalysisError> {
    if value < 3 || value.is_multiple_of(2) {
        return Err(AnalysisError::Invalid(format!(
            "{name} must be an odd integer >= 3, not {value}; use {}",
            (value | 1).max(3)
        )));
    }
    Ok(())
}

fn degree(name: &str, value: u8) -> Result<bool, AnalysisError> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(AnalysisError::Invalid(format!(
            "{name} must be 0 (local constant) or 1 (local line), not {value}"
        ))),
    }
}

fn jump(name: &str, value: usize) -> Result<usize, AnalysisError> {
    if value == 0 {
        return Err(AnalysisError::Invalid(format!(
            "{name} must be a positive integer, not 0; use 1 to fit every point"
        )));
    }
    Ok(value)
}

/// An odd window wider than the period, as a default must be.
fn next_odd(value: usize) -> usize {
    value + usize::from(value.is_multiple_of(2))
}

impl Plan {
    fn new(p: &StlParams, n: usize) -> Result<Plan, AnalysisError> {
        if p.period < 2 {
            return Err(AnalysisError::Invalid(format!(
                "period must be an integer >= 2 (the number of points in one season, e.g. 24 for hourly data with a daily cycle), not {}",
                p.period
            )));
        }
        odd_at_least_three("seasonal", p.seasonal)?;
        let trend = p.trend.unwrap_or_else(|| {
            let width = 1.5 * p.period as f64 / (1.0 - 1.5 / p.seasonal as f64);
            next_odd(width.ceil() as usize)
        });
        odd_at_least_three("trend", trend)?;
        let low_pass = p.low_pass.unwrap_or(next_odd(p.period + 1));
        odd_at_least_three("low_pass", low_pass)?;
        for (name, width) in [("trend", trend), ("low_pass", low_pass)] {
            if width <= p.period {
                return Err(AnalysisError::Invalid(format!(
                    "{name} ({width}) must be greater than period ({}); leave it unset for the default",
                    p.period
                )));
            }
        }
        if n < p.period {
            return Err(AnalysisError::Invalid(format!(
                "the series has {n} points, fewer than one period ({}); STL needs at least one full period, and two or more to tell seasons apart",
                p.period
            )));
        }
        Ok(Plan {
            period: p.period,
            seasonal: Smoother {
                width: p.seasonal,
                linear: degree("seasonal_deg", p.seasonal_deg)?,
                jump: jump("seasonal_jump", p.seasonal_jump)?,
            },
            trend: Smoother {
                width: trend,
                linear: degree("trend_deg", p.trend_deg)?,
                jump: jump("trend_jump", p.trend_jump)?,
            },
            low_pass: Smoother {
                width: low_pass,
                linear: degree("low_pass_deg", p.low_pass_deg)?,
                jump: jump("low_pass_jump", p.low_pass_jump)?,
            },
            inner: p.inner_iter.unwrap_or(if p.robust { 2 } else { 5 }),
            outer: p.outer_iter.unwrap_or(if p.robust { 15 } else { 0 }),
        })
    }
}

/// Decomposes `y` (equally spaced, in time order, no gaps or NaN).
pub fn decompose(y: &[f64], params: &StlParams) -> Result<Decomposition, AnalysisError> {
    let plan = Plan::new(params, y.len())?;
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(AnalysisError::Invalid(format!(
            "value {} (row {i}) is not a finite number; fill or drop missing values before decomposing",
            y[i]
        )));
    }
    let n = y.len();
    let mut seasonal = vec![0.0; n];
    let mut trend = vec![0.0; n];
    let mut weights = vec![1.0; n];
    let mut robust = false;
    let mut pass = 0;
    loop {
        inner_loop(
            y,
            &plan,
            robust.then_some(&weights[..]),
            &mut seasonal,
            &mut trend,
        );
        pass += 1;
        if pass > plan.outer {
            break;
        }
        weights = robustness_weights(y, &seasonal, &trend);
        robust = true;
    }
    let residual = y
        .iter()
        .zip(seasonal.iter().zip(&trend))
        .map(|(v, (s, t))| v - s - t)
        .collect();
    Ok(Decomposition {
        seasonal,
        trend,
        residual,
        weights,
    })
}

/// Decomposes the values of `column` (in row order) into a table of the components
/// named as statsmodels names them: `seasonal`, `trend`, `resid`, `weights`.
pub fn decomposition_table(
    batch: &RecordBatch,
    column: &str,
    params: &StlParams,
) -> Result<RecordBatch, AnalysisError> {
    let values: Option<Vec<f64>> = numbers(batch, column)?.into_iter().collect();
    let bad_column = |message: String| AnalysisError::BadColumn {
        column: column.to_string(),
        message,
    };
    let values = values.ok_or_else(|| {
        bad_column(
            "has missing values; drop or fill them first (a series must have no gaps)".into(),
        )
    })?;
    let parts = decompose(&values, params).map_err(|e| bad_column(e.to_string()))?;
    let columns: Vec<(&str, Vec<f64>)> = vec![
        ("seasonal", parts.seasonal),
        ("trend", parts.trend),
        ("resid", parts.residual),
        ("weights", parts.weights),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Float64, false))
            .collect::<Vec<_>>(),
    );
    let arrays = columns
        .into_iter()
        .map(|(_, v)| Arc::new(Float64Array::from(v)) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(schema), arrays)
        .map_err(|e| AnalysisError::Invalid(format!("cannot build the components table: {e}")))
}

fn inner_loop(
    y: &[f64],
    plan: &Plan,
    weights: Option<&[f64]>,
    seasonal: &mut [f64],
    trend: &mut [f64],
) {
    let np = plan.period;
    let mut work = vec![0.0; y.len()];
    for _ in 0..plan.inner {
        for ((w, v), t) in work.iter_mut().zip(y).zip(trend.iter()) {
            *w = v - t;
        }
        let cycles = smooth_cycles(&work, np, plan.seasonal, weights);
        let low = low_pass(&cycles, np, plan.low_pass);
        for (i, (w, s)) in work.iter_mut().zip(seasonal.iter_mut()).enumerate() {
            *s = cycles[np + i] - low[i];
            *w = y[i] - *s;
        }
        smooth(&work, plan.trend, weights, trend);
    }
}

/// Smooths each cycle-subseries and extends it by one value at each end, giving a
/// series one period longer than the data on either side.
fn smooth_cycles(
    detrended: &[f64],
    period: usize,
    smoother: Smoother,
    weights: Option<&[f64]>,
) -> Vec<f64> {
    let n = detrended.len();
    let smoothed: Vec<Vec<f64>> = (0..period)
        .into_par_iter()
        .map(|phase| {
            let values: Vec<f64> = detrended[phase..].iter().step_by(period).copied().collect();
            let rw: Option<Vec<f64>> =
                weights.map(|w| w[phase..].iter().step_by(period).copied().collect());
            let rw = rw.as_deref();
            let k = values.len();
            let mut out = vec![0.0; k + 2];
            smooth(&values, smoother, rw, &mut out[1..=k]);
            let mut scratch = Vec::new();
            let width = smoother.width;
            let linear = smoother.linear;
            let right = width.min(k);
            out[0] =
                fit_at(&values, width, linear, 0, 1, right, rw, &mut scratch).unwrap_or(out[1]);
            let left = (k + 1).saturating_sub(width).max(1);
            out[k + 1] =
                fit_at(&values, width, linear, k + 1, left, k, rw, &mut scratch).unwrap_or(out[k]);
            out
        })
        .collect();
    let mut cycles = vec![0.0; n + 2 * period];
    for (phase, values) in smoothed.iter().enumerate() {
        for (m, v) in values.iter().enumerate() {
            cycles[m * period + phase] = *v;
        }
    }
    cycles
}

/// Running means of `len` consecutive values: `x.len() - len + 1` of them, each
/// updated from the last by the value entering and the one leaving.
fn moving_average(x: &[f64], len: usize) -> Vec<f64> {
    let count = x.len() + 1 - len;
    let flen = len as f64;
    let mut sum = x[..len].iter().fold(0.0, |a, b| a + b);
    let mut out = Vec::with_capacity(count);
    out.push(sum / flen);
    for j in 1..count {
        sum += x[len + j - 1] - x[j - 1];
        out.push(sum / flen);
    }
    out
}

/// The low-frequency part of the extended cycle series (length n + 2 period), as a
/// series of length n: moving averages over a period, a period and 3, then a loess.
fn low_pass(cycles: &[f64], period: usize, smoother: Smoother) -> Vec<f64> {
    let averaged = moving_average(&moving_average(&moving_average(cycles, period), period), 3);
    let mut out = vec![0.0; averaged.len()];
    smooth(&averaged, smoother, None, &mut out);
    out
}

/// Bisquare weights of the residuals of `y` from `seasonal + trend`, scaled by six
/// times their median absolute value.
fn robustness_weights(y: &[f64], seasonal: &[f64], trend: &[f64]) -> Vec<f64> {
    let n = y.len();
    let residuals: Vec<f64> = (0..n)
        .map(|i| (y[i] - (trend[i] + seasonal[i])).abs())
        .collect();
    let mut sorted = residuals.clone();
    let upper = n / 2;
    let lower = n - upper - 1;
    let (_, hi, _) = sorted.select_nth_unstable_by(upper, f64::total_cmp);
    let hi = *hi;
    let (_, lo, _) = sorted.select_nth_unstable_by(lower, f64::total_cmp);
    let scale = 3.0 * (*lo + hi);
    if scale == 0.0 {
        return vec![1.0; n];
    }
    let near = 0.001 * scale;
    let far = 0.999 * scale;
    residuals
        .into_iter()
        .map(|r| {
            if r <= near {
                1.0
            } else if r <= far {
                let u = r / scale;
                let v = 1.0 - u * u;
                v * v
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_averages_slide_over_the_window() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(moving_average(&x, 3), vec![2.0, 3.0, 4.0, 5.0]);
        assert_eq!(moving_average(&x, 6), vec![3.5]);
    }

    #[test]
    fn defaults_follow_period_and_seasonal() {
        let plan = Plan::new(&StlParams::new(24), 100).unwrap();
        // ceil(1.5 * 24 / (1 - 1.5 / 7)) = ceil(45.8...) = 46, made odd.
        assert_eq!(plan.trend.width, 47);
        assert_eq!(plan.low_pass.width, 25);
        assert_eq!((plan.inner, plan.outer), (5, 0));
        let mut robust = StlParams::new(7);
        robust.robust = true;
        let plan = Plan::new(&robust, 100).unwrap();
        assert_eq!((plan.low_pass.width, plan.inner, plan.outer), (9, 2, 15));
    }

    #[test]
    fn bad_settings_are_named() {
        let mut p = StlParams::new(24);
        p.seasonal = 8;
        let e = decompose(&[0.0; 100], &p).unwrap_err().to_string();
        assert!(e.contains("seasonal") && e.contains("9"), "{e}");
        let mut p = StlParams::new(24);
        p.trend = Some(23);
        let e = decompose(&[0.0; 100], &p).unwrap_err().to_string();
        assert!(e.contains("trend (23)"), "{e}");
        let e = decompose(&[0.0; 10], &StlParams::new(24))
            .unwrap_err()
            .to_string();
        assert!(e.contains("10 points"), "{e}");
        let e = decompose(&[f64::NAN; 48], &StlParams::new(24))
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 0"), "{e}");
    }

    #[test]
    fn a_pure_season_over_a_line_separates_exactly() {
        // A repeating pattern that sums to zero over a period, on a straight line:
        // every smoother reproduces lines, so the split is exact.
        let pattern = [3.0, -1.0, -4.0, 2.0];
        let y: Vec<f64> = (0..40)
            .map(|i| 10.0 + 0.25 * i as f64 + pattern[i % 4])
            .collect();
        let d = decompose(&y, &StlParams::new(4)).unwrap();
        for (i, ((t, s), r)) in d.trend.iter().zip(&d.seasonal).zip(&d.residual).enumerate() {
            assert!(
                (t - (10.0 + 0.25 * i as f64)).abs() < 1e-9,
                "{i}: {:?}",
                d.trend
            );
            assert!((s - pattern[i % 4]).abs() < 1e-9);
            assert!(r.abs() < 1e-9);
        }
        assert!(d.weights.iter().all(|w| *w == 1.0));
    }

    #[test]
    fn robust_fits_give_a_spike_no_weight() {
        let mut y: Vec<f64> = (0..96).map(|i| ((i % 24) as f64 / 3.0).sin()).collect();
        y[50] += 100.0;
        let mut p = StlParams::new(24);
        p.robust = true;
        let d = decompose(&y, &p).unwrap();
        assert_eq!(d.weights[50], 0.0);
        assert!(d.residual[50] > 90.0, "{}", d.residual[50]);
        let plain = decompose(&y, &StlParams::new(24)).unwrap();
        assert!(plain.residual[50] < d.residual[50]);
    }
}
