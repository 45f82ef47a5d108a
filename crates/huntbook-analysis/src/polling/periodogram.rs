//! The periodogram of a series, as `scipy.signal.periodogram` computes it with its
//! defaults: the mean removed, no window, one-sided, as a power spectral density
//! with a sampling frequency of 1.
//!
//! For a series of length `n` with discrete Fourier transform `X`, the density at
//! frequency `k / n` (k = 0..=n/2) is `|X_k|^2 / n`, doubled for every k but 0 and,
//! when `n` is even, n/2 (their power has no mirror image).
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// The one-sided power spectral density of `series` at frequencies `k / n`. The
/// planner keeps FFT plans, so a thread working through many groups of the same
/// length plans once.
pub fn periodogram(series: &[f64], planner: &mut FftPlanner<f64>) -> Vec<f64> {
    let n = series.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = series.iter().sum::<f64>() / n as f64;
    let mut buffer: Vec<Complex<f64>> =
        series.iter().map(|x| Complex::new(x - mean, 0.0)).collect();
    planner.plan_fft_forward(n).process(&mut buffer);
    let bins = n / 2 + 1;
    let scale = 1.0 / n as f64;
    buffer[..bins]
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let density = x.norm_sqr() * scale;
            let mirrored = k != 0 && !(n.is_multiple_of(2) && k == n / 2);
            if mirrored {
                density * 2.0
            } else {
                density
            }
        })
        .collect()
}

/// The frequency of bin `k` of a periodogram of length-`n` series, as NumPy's
/// `rfftfreq` computes it (k times 1/n, which can differ from k/n in the last bit).
pub fn frequency(k: usize, n: usize) -> f64 {
    k as f64 * (1.0 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The periodogram by the definition, with a plain O(n^2) Fourier sum.
    fn by_definition(series: &[f64]) -> Vec<f64> {
        let n = series.len();
        let mean = series.iter().sum::<f64>() / n as f64;
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (t, x) in series.iter().enumerate() {
                    let angle = -2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
                    re += (x - mean) * angle.cos();
                    im += (x - mean) * angle.sin();
                }
                let p = (re * re + im * im) / n as f64;
                if k == 0 || (n.is_multiple_of(2) && k == n / 2) {
                    p
                } else {
                    2.0 * p
                }
            })
            .collect()
    }

    #[test]
    fn matches_the_definition_for_odd_and_even_lengths() {
        for n in [7usize, 12, 97, 100] {
            let series: Vec<f64> = (0..n)
                .map(|t| ((t * 7919) % 13) as f64 + (t % 5 == 0) as u8 as f64)
                .collect();
            let fast = periodogram(&series, &mut FftPlanner::new());
            let slow = by_definition(&series);
            assert_eq!(fast.len(), n / 2 + 1);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "n={n}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_pulse_every_ten_steps_peaks_at_one_tenth() {
        let series: Vec<f64> = (0..200).map(|t| (t % 10 == 0) as u8 as f64).collect();
        let p = periodogram(&series, &mut FftPlanner::new());
        let peak = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(frequency(peak, 200) * 10.0 % 1.0, 0.0);
        assert!(p[0].abs() < 1e-20);
    }
}
