//! Fisher's g test for a hidden periodic component in a periodogram, with MSTICPy's
//! rules for computing its p-value.
//!
//! The statistic is g = max(P) / sum(P). Under the null hypothesis of white noise,
//! P(G > g) = sum over j = 1..floor(1/g) of (-1)^(j-1) C(m, j) (1 - j g)^(m-1), where m
//! is the number of periodogram ordinates. MSTICPy stops the sum one term early (j <
//! floor(1/g)) and, for more than 700 ordinates, uses the approximation
//! 1 - (1 - e^(-m g))^m; we follow it so that p-values agree.

/// Above this many ordinates the p-value comes from the asymptotic approximation.
const EXACT_LIMIT: usize = 700;

/// The p-value of Fisher's g test on the ordinates `pxx` (at most 1; NaN only where
/// MSTICPy's is).
pub fn p_value(pxx: &[f64]) -> f64 {
    let m = pxx.len();
    let max = pxx.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = pxx.iter().sum();
    let g = max / sum;
    let p = if m > EXACT_LIMIT {
        1.0 - (1.0 - (-(m as f64) * g).exp()).powf(m as f64)
    } else if g.is_nan() {
        // A flat periodogram (0 / 0): MSTICPy's sum has no terms.
        0.0
    } else {
        let upper = (1.0 / g).floor() as usize;
        let m_f = m as f64;
        let mut ln_binomial = 0.0;
        let mut total = 0.0;
        for j in 1..upper {
            // ln C(m, j) from ln C(m, j - 1), one factor at a time.
            ln_binomial += ((m - j + 1) as f64).ln() - (j as f64).ln();
            let term = (ln_binomial + (m_f - 1.0) * (1.0 - j as f64 * g).ln()).exp();
            total += if j % 2 == 1 { term } else { -term };
        }
        total
    };
    // As Python's min(p, 1): a NaN p-value stays NaN.
    if p > 1.0 {
        1.0
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_noise_is_not_significant_and_a_spike_is() {
        let flat = vec![1.0; 50];
        // g = 1/50: every term of the sum up to j = 49 counts; p is 1 (capped).
        assert!(p_value(&flat) > 0.99);
        let mut spike = vec![1.0; 50];
        spike[7] = 200.0;
        // g = 200 / 249 > 1/2: no terms, p = 0, as MSTICPy computes it.
        assert_eq!(p_value(&spike), 0.0);
    }

    #[test]
    fn the_exact_sum_matches_a_hand_computation() {
        // m = 4, g = 0.3: upper = 3, terms j = 1, 2.
        let pxx = [3.0, 2.5, 2.5, 2.0];
        let expected = 4.0 * 0.7f64.powi(3) - 6.0 * 0.4f64.powi(3);
        assert!((p_value(&pxx) - expected).abs() < 1e-12);
    }

    #[test]
    fn many_ordinates_use_the_approximation() {
        let mut pxx = vec![1.0; 1000];
        pxx[3] = 30.0;
        let g = 30.0 / 1029.0;
        let expected = 1.0 - (1.0 - (-1000.0f64 * g).exp()).powf(1000.0);
        assert_eq!(p_value(&pxx), expected);
        assert!(p_value(&[0.0; 1000]).is_nan());
        assert_eq!(p_value(&[0.0; 10]), 0.0);
    }
}
