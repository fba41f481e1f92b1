//! Kolmogorov–Smirnov statistic of the bids against a uniform spread between the lowest and the
//! highest bid. Competitive bids scatter; a cartel's covers sit in a cluster, far from uniform.
use super::{PriceView, Screen};

/// The one-sample, two-sided KS statistic `D = sup |Fₙ(x) − F(x)|` of the bids against the uniform
/// distribution on `[min, max]` of the same bids, `F(x) = (x − min)/(max − min)`. Over the sorted bids
/// `b₍₁₎ … b₍ₙ₎` this is `max_i max(i/n − F(b₍ᵢ₎), F(b₍ᵢ₎) − (i−1)/n)`, exactly
/// `scipy.stats.kstest(bids, "uniform", args=(min, max − min)).statistic`, and ties need no special
/// care (the per-index formula reaches the same supremum). The statistic only, no p-value: the bounds
/// are estimated from the same bids, so the textbook p-value would not hold anyway.
///
/// Because the bounds come from the sample, `F(b₍₁₎) = 0` and `F(b₍ₙ₎) = 1`, so `D ≥ 1/n`; two bids
/// always give `0.5`. `None` below two bids and when all bids are identical (no range).
///
/// This is the definition behind the authors' `KSTEST` column (García Rodríguez et al. 2022, after
/// Huber & Imhof 2019): it agrees with it on every tender of the three shared files.
#[derive(Debug, Clone, Copy, Default)]
pub struct KsUniform;

impl Screen for KsUniform {
    const NAME: &'static str = "ks";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        if x.len() < 2 {
            return None;
        }
        let (min, max) = (*x.first()?, *x.last()?);
        let range = max - min;
        if range.is_nan() || range <= min * 1e-12 {
            return None;
        }
        let n = x.len() as f64;
        let d = x.iter().enumerate().fold(0.0_f64, |d, (i, &b)| {
            let f = (b - min) / range;
            let above = (i as f64 + 1.0) / n - f;
            let below = f - i as f64 / n;
            d.max(above).max(below)
        });
        Some(d)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // 100, 110, 120, 130, 170 on [100, 170]: F = 0, 1/7, 2/7, 3/7, 1
        // i/n − F: 0.2, 0.4 − 1/7, 0.6 − 2/7, 0.8 − 3/7 = 13/35, 0     (largest: 13/35)
        // F − (i−1)/n: 0, 1/7 − 0.2 < 0, …, 1 − 0.8 = 0.2
        // D = 13/35 = 0.37142857…
        let v = KsUniform
            .evaluate(&tender(&[100.0, 110.0, 120.0, 130.0, 170.0]))
            .unwrap();
        assert!(close(v, 13.0 / 35.0));
    }

    #[test]
    fn evenly_spaced_bids_reach_the_floor() {
        // 0, 1/3, 2/3, 1 after scaling: each step of Fₙ is 1/4, D = 1/4 (= 1/n, the minimum)
        let v = KsUniform
            .evaluate(&tender(&[100.0, 110.0, 120.0, 130.0]))
            .unwrap();
        assert!(close(v, 0.25));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(KsUniform.evaluate(&tender(&[100.0])), None);
        assert!(close(
            KsUniform.evaluate(&tender(&[100.0, 120.0])).unwrap(),
            0.5
        ));
        assert_eq!(KsUniform.evaluate(&tender(&[100.0, 100.0, 100.0])), None);
        // ties: 1, 1, 2, 2 → F = 0, 0, 1, 1; D = max(2/4 − 0, 1 − 2/4) = 0.5 (the Swiss file agrees)
        assert!(close(
            KsUniform.evaluate(&tender(&[1.0, 1.0, 2.0, 2.0])).unwrap(),
            0.5
        ));
        assert_eq!(KsUniform.evaluate(&tender(&[0.0, 1.0, 2.0])), None);
    }
}
