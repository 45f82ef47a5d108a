//! The periodogram of a series, as `scipy.signal.periodogram` computes it with its
//! defaults: the mean removed, no window, one-sided, as a power spectral density
//! with a sampling frequency of 1.
//!
//! For a series of length `n` with discrete Fourier transform `X`, the density at
//! frequency `k / n` (k = 0..=n/2) is `|X_k|^2 / n`, doubled for every k but 0 and,
//! when `n` is even, n/2 (their power has no mirror image).
//!
//! The series are real, so only half of `X` is needed: an even-length series is
//! transformed as a complex series of half its length (even samples as real parts,
//! odd ones as imaginary parts) and the two interleaved spectra are untangled after.
//! An odd-length series takes a complex transform of its full length, which two
//! series of the same odd length can share ([`periodogram_pair`]).
use std::f64::consts::PI;
use std::sync::{Arc, Mutex};

use foldhash::HashMap;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// A real-input transform of one length: the complex FFT it runs and, for an even
/// length `n`, the twiddles `e^(-2 pi i k / n)` (k = 0..n/2) that untangle its output.
pub struct RealFft {
    n: usize,
    fft: Arc<dyn Fft<f64>>,
    twiddles: Vec<Complex<f64>>,
}

impl RealFft {
    fn new(n: usize, planner: &mut FftPlanner<f64>) -> RealFft {
        if !n.is_multiple_of(2) {
            return RealFft {
                n,
                fft: planner.plan_fft_forward(n),
                twiddles: Vec::new(),
            };
        }
        let twiddles = (0..=n / 2)
            .map(|k| {
                let angle = -2.0 * PI * k as f64 / n as f64;
                Complex::new(angle.cos(), angle.sin())
            })
            .collect();
        RealFft {
            n,
            fft: planner.plan_fft_forward(n / 2),
            twiddles,
        }
    }
}

/// Real-input transforms by length, shared by the threads working through groups:
/// each length is planned once (planning an awkward length costs more than running
/// it), and rustfft's planner reuses the inner transforms lengths have in common.
#[derive(Default)]
pub struct Plans {
    planned: Mutex<Planned>,
}

struct Planned {
    planner: FftPlanner<f64>,
    by_length: HashMap<usize, Arc<RealFft>>,
}

impl Default for Planned {
    fn default() -> Self {
        Planned {
            planner: FftPlanner::new(),
            by_length: HashMap::default(),
        }
    }
}

impl Plans {
    /// The transform for series of length `n`.
    pub fn get(&self, n: usize) -> Arc<RealFft> {
        let mut planned = self.planned.lock().unwrap_or_else(|e| e.into_inner());
        let Planned { planner, by_length } = &mut *planned;
        by_length
            .entry(n)
            .or_insert_with(|| Arc::new(RealFft::new(n, planner)))
            .clone()
    }
}

/// Buffers one thread reuses from series to series.
#[derive(Default)]
pub struct Work {
    buffer: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// The last periodogram computed.
    pub pxx: Vec<f64>,
}

impl Work {
    /// The buffer filled with `samples`, then transformed in place by `fft`.
    fn transform(&mut self, fft: &RealFft, samples: impl Iterator<Item = Complex<f64>>) {
        self.buffer.clear();
        self.buffer.extend(samples);
        self.scratch
            .resize(fft.fft.get_inplace_scratch_len(), Complex::default());
        fft.fft
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
    }
}

/// The one-sided power spectral density of `series` at frequencies `k / n`, left in
/// `work.pxx`; `fft` must be planned for `series.len()`.
pub fn periodogram(series: &[f64], fft: &RealFft, work: &mut Work) {
    let n = series.len();
    assert_eq!(n, fft.n, "the transform was planned for another length");
    work.pxx.clear();
    if n == 0 {
        return;
    }
    let mean = series.iter().sum::<f64>() / n as f64;
    if !n.is_multiple_of(2) {
        work.transform(fft, series.iter().map(|x| Complex::new(x - mean, 0.0)));
    } else {
        let pairs = series.chunks_exact(2);
        work.transform(fft, pairs.map(|p| Complex::new(p[0] - mean, p[1] - mean)));
    }
    let Work { buffer, pxx, .. } = work;
    let bins = n / 2 + 1;
    let density = |k: usize, x: Complex<f64>| density(k, n, x);
    if !n.is_multiple_of(2) {
        pxx.extend(
            buffer[..bins]
                .iter()
                .enumerate()
                .map(|(k, &x)| density(k, x)),
        );
        return;
    }
    // Z = FFT(even + i odd) of length m = n/2; with Z_m = Z_0, for k = 0..=m:
    // E_k = (Z_k + conj Z_(m-k)) / 2 and O_k = (Z_k - conj Z_(m-k)) / 2i are the
    // spectra of the even and odd samples, and X_k = E_k + e^(-2 pi i k / n) O_k.
    let m = n / 2;
    pxx.extend((0..bins).map(|k| {
        let z = buffer[k % m];
        let mirror = buffer[(m - k) % m].conj();
        let even = (z + mirror) * 0.5;
        let odd = (z - mirror) * Complex::new(0.0, -0.5);
        density(k, even + fft.twiddles[k] * odd)
    }));
}

/// The periodograms of two series of the same odd length, from one complex transform
/// of `first + i second`: the transform of a real series has conjugate-symmetric
/// halves, which untangles the two spectra. An odd length has no half-length trick,
/// so this halves the transforms of odd-length series that come in pairs. The first
/// periodogram is left in `work.pxx`, the second in `second`.
pub fn periodogram_pair(
    first: &[f64],
    second_series: &[f64],
    fft: &RealFft,
    work: &mut Work,
    second: &mut Vec<f64>,
) {
    let n = first.len();
    assert_eq!(n, second_series.len(), "a pair has one length");
    assert!(!n.is_multiple_of(2), "pairs are for odd lengths");
    assert_eq!(n, fft.n, "the transform was planned for another length");
    let mean = |series: &[f64]| series.iter().sum::<f64>() / n as f64;
    let (mean_a, mean_b) = (mean(first), mean(second_series));
    let both = first.iter().zip(second_series);
    work.transform(fft, both.map(|(a, b)| Complex::new(a - mean_a, b - mean_b)));
    let Work { buffer, pxx, .. } = work;
    // With Z = FFT(a + i b): A_k = (Z_k + conj Z_(n-k)) / 2, B_k = (Z_k - conj Z_(n-k)) / 2i.
    pxx.clear();
    second.clear();
    for k in 0..n / 2 + 1 {
        let z = buffer[k];
        let mirror = buffer[(n - k) % n].conj();
        pxx.push(density(k, n, (z + mirror) * 0.5));
        second.push(density(k, n, (z - mirror) * Complex::new(0.0, -0.5)));
    }
}

/// The one-sided density of bin `k` of a length-`n` transform `x`: `|x|^2 / n`,
/// doubled for the bins whose power has a mirror image (all but 0 and, for even
/// `n`, n/2).
fn density(k: usize, n: usize, x: Complex<f64>) -> f64 {
    let d = x.norm_sqr() * (1.0 / n as f64);
    if k != 0 && !(n.is_multiple_of(2) && k == n / 2) {
        d * 2.0
    } else {
        d
    }
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
                    let angle = -2.0 * PI * (k * t) as f64 / n as f64;
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

    fn of(series: &[f64], plans: &Plans) -> Vec<f64> {
        let mut work = Work::default();
        periodogram(series, &plans.get(series.len()), &mut work);
        work.pxx
    }

    #[test]
    fn matches_the_definition_for_odd_and_even_lengths() {
        let plans = Plans::default();
        for n in [1usize, 2, 3, 7, 12, 97, 100, 254, 1031] {
            let series: Vec<f64> = (0..n)
                .map(|t| ((t * 7919) % 13) as f64 + (t % 5 == 0) as u8 as f64)
                .collect();
            let fast = of(&series, &plans);
            let slow = by_definition(&series);
            assert_eq!(fast.len(), n / 2 + 1);
            let top = slow.iter().copied().fold(0.0, f64::max);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-9 * (1.0 + top), "n={n}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn a_pair_of_odd_series_gives_each_its_own_periodogram() {
        let plans = Plans::default();
        for n in [1usize, 3, 7, 97, 1031] {
            let a: Vec<f64> = (0..n).map(|t| ((t * 7919) % 13) as f64).collect();
            let b: Vec<f64> = (0..n).map(|t| (t % 7 == 0) as u8 as f64 * 3.0).collect();
            let mut work = Work::default();
            let mut second = Vec::new();
            periodogram_pair(&a, &b, &plans.get(n), &mut work, &mut second);
            for (pair, alone) in [(&work.pxx, by_definition(&a)), (&second, by_definition(&b))] {
                assert_eq!(pair.len(), alone.len());
                let top = alone.iter().copied().fold(0.0, f64::max);
                for (x, y) in pair.iter().zip(&alone) {
                    assert!((x - y).abs() < 1e-9 * (1.0 + top), "n={n}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn a_pulse_every_ten_steps_peaks_at_one_tenth() {
        let series: Vec<f64> = (0..200).map(|t| (t % 10 == 0) as u8 as f64).collect();
        let p = of(&series, &Plans::default());
        let peak = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(frequency(peak, 200) * 10.0 % 1.0, 0.0);
        assert!(p[0].abs() < 1e-20);
    }
}
