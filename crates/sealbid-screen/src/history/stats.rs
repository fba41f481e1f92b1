//! Tail probabilities and multiple-testing corrections for the history detectors. Every function
//! returns a finite number in `[0, 1]` whatever it is handed (out-of-range probabilities are clamped,
//! NaN counts as 0).
use serde::{Deserialize, Serialize};

/// `P(X ≥ k)` for `X` the number of successes in independent trials with success probabilities `ps`
/// (the Poisson-binomial distribution; the binomial when all are equal). Exact, by dynamic programming
/// over the counts `0..k` with `k` absorbing, so the tail is summed from positive terms and stays
/// accurate far below `1e-16` (no `1 − cdf` cancellation). Cost `O(len · k)`.
pub fn upper_tail(ps: &[f64], k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > ps.len() {
        return 0.0;
    }
    let mut dp = vec![0.0_f64; k];
    if let Some(first) = dp.first_mut() {
        *first = 1.0;
    }
    let mut absorbed = 0.0_f64;
    for &p in ps {
        let p = clamp01(p);
        if p == 0.0 {
            continue;
        }
        let q = 1.0 - p;
        absorbed += dp.last().copied().unwrap_or(0.0) * p;
        for j in (1..k).rev() {
            let below = dp.get(j - 1).copied().unwrap_or(0.0);
            if let Some(d) = dp.get_mut(j) {
                *d = *d * q + below * p;
            }
        }
        if let Some(first) = dp.first_mut() {
            *first *= q;
        }
    }
    clamp01(absorbed)
}

/// A probability clamped into `[0, 1]`; NaN becomes 0.
pub fn clamp01(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// How p-values are corrected for the number of hypotheses a detector tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Raw p-values (one hypothesis, or a deliberately loose screen).
    None,
    /// Family-wise error: `p · m`.
    Bonferroni,
    /// False discovery rate (Benjamini–Hochberg step-up adjusted p-values).
    BenjaminiHochberg,
}

/// A p-value clamped into `[0, 1]`; NaN becomes 1 (no evidence).
pub fn pvalue(p: f64) -> f64 {
    if p.is_nan() {
        1.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// Adjusted p-values for `p` (same order), as if `tests ≥ p.len()` hypotheses were tested and the ones
/// not listed had p = 1 (which is conservative). Each result is in `[0, 1]`; NaN counts as 1.
pub fn adjust(p: &[f64], tests: usize, correction: Correction) -> Vec<f64> {
    let m = tests.max(p.len()).max(1) as f64;
    match correction {
        Correction::None => p.iter().map(|&v| pvalue(v)).collect(),
        Correction::Bonferroni => p.iter().map(|&v| pvalue(pvalue(v) * m)).collect(),
        Correction::BenjaminiHochberg => {
            let mut order: Vec<usize> = (0..p.len()).collect();
            let at = |i: usize| pvalue(p.get(i).copied().unwrap_or(1.0));
            order.sort_by(|&a, &b| at(a).total_cmp(&at(b)).then(a.cmp(&b)));
            let mut out = vec![1.0; p.len()];
            let mut running = 1.0_f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(at(i) * m / (rank + 1) as f64);
                if let Some(o) = out.get_mut(i) {
                    *o = pvalue(running);
                }
            }
            out
        }
    }
}

/// Strength of evidence in `[0, 1]`: `−log10(p) / decades`, capped at 1 (p = 0 counts as 1, NaN as 0).
pub fn strength(p: f64, decades: f64) -> f64 {
    let p = pvalue(p);
    if p <= 0.0 {
        return 1.0;
    }
    clamp01(-p.log10() / decades.max(f64::MIN_POSITIVE))
}

/// Shannon entropy of the counts, normalised by `ln(len)`: 1 when all counts are equal, 0 when one
/// holds everything; 0 for fewer than two counts or an all-zero vector.
pub fn evenness(counts: &[usize]) -> f64 {
    let total: usize = counts.iter().sum();
    if counts.len() < 2 || total == 0 {
        return 0.0;
    }
    let total = total as f64;
    let h: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.ln()
        })
        .sum();
    clamp01(h / (counts.len() as f64).ln())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn upper_tail_matches_the_binomial() {
        // X ~ Bin(10, 0.3): P(X ≥ 4) = 0.3503892816 (R: pbinom(3, 10, .3, lower = FALSE))
        let ps = vec![0.3; 10];
        assert!(close(upper_tail(&ps, 4), 0.350_389_281_6, 1e-9));
        assert_eq!(upper_tail(&ps, 0), 1.0);
        assert_eq!(upper_tail(&ps, 11), 0.0);
        // P(X = 10) = 0.3^10, far below double epsilon relative to 1: still exact.
        assert!(close(upper_tail(&ps, 10), 0.3_f64.powi(10), 1e-12));
        // Poisson-binomial: 0.5, 0.2 → P(X ≥ 1) = 1 − 0.5·0.8 = 0.6; P(X ≥ 2) = 0.1
        assert!(close(upper_tail(&[0.5, 0.2], 1), 0.6, 1e-12));
        assert!(close(upper_tail(&[0.5, 0.2], 2), 0.1, 1e-12));
    }

    #[test]
    fn upper_tail_survives_bad_probabilities() {
        assert_eq!(upper_tail(&[f64::NAN, 2.0, -1.0], 1), 1.0);
        assert_eq!(upper_tail(&[], 1), 0.0);
        let tiny = upper_tail(&[1e-200; 3], 3);
        assert!(tiny.is_finite() && tiny >= 0.0);
    }

    #[test]
    fn corrections() {
        let p = [0.01, 0.04, 0.03, 0.5];
        assert_eq!(adjust(&p, 4, Correction::None), p.to_vec());
        let b = adjust(&p, 4, Correction::Bonferroni);
        assert!(close(b[0], 0.04, 1e-12) && b[3] == 1.0);
        // BH (R: p.adjust(c(.01,.04,.03,.5), "BH")) = 0.04 0.0533 0.0533 0.5
        let bh = adjust(&p, 4, Correction::BenjaminiHochberg);
        assert!(close(bh[0], 0.04, 1e-12));
        assert!(close(bh[1], 0.04 * 4.0 / 3.0, 1e-12));
        assert!(close(bh[2], 0.04 * 4.0 / 3.0, 1e-12));
        assert!(close(bh[3], 0.5, 1e-12));
        // More hypotheses tested than listed: stricter.
        assert!(adjust(&[0.01], 10, Correction::BenjaminiHochberg)[0] > 0.09);
        assert!(adjust(&[], 0, Correction::BenjaminiHochberg).is_empty());
        assert_eq!(adjust(&[f64::NAN], 1, Correction::Bonferroni), vec![1.0]);
    }

    #[test]
    fn strength_and_evenness() {
        assert_eq!(strength(0.0, 6.0), 1.0);
        assert!(close(strength(1e-3, 6.0), 0.5, 1e-12));
        assert_eq!(strength(1.0, 6.0), 0.0);
        assert_eq!(strength(f64::NAN, 0.0), 0.0);
        assert_eq!(strength(0.1, 0.0), 1.0);
        assert!((evenness(&[3, 3, 3]) - 1.0).abs() < 1e-12);
        assert_eq!(evenness(&[5, 0]), 0.0);
        assert_eq!(evenness(&[0, 0]), 0.0);
        assert_eq!(evenness(&[4]), 0.0);
        let e = evenness(&[3, 1]);
        assert!(e > 0.8 && e < 0.82);
    }
}
