//! Skewness of the bids: how lopsided the distribution is (a few cover bids far above a cluster, say).
use super::{PriceView, Screen};
use crate::stats::{central_moment, degenerate, mean};

/// Bias-corrected sample skewness (adjusted Fisher–Pearson), as scipy `skew(x, bias=False)` and
/// Excel `SKEW`: with `g₁ = m₃ / m₂^{3/2}` (biased moments), `G₁ = g₁·√(n(n−1)) / (n−2)`.
///
/// `None` below three bids (the authors' column holds a placeholder 0 for two) and when all bids are
/// identical.
#[derive(Debug, Clone, Copy, Default)]
pub struct Skewness;

impl Screen for Skewness {
    const NAME: &'static str = "skewness";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        if x.len() < 3 {
            return None;
        }
        let n = x.len() as f64;
        let m = mean(x);
        let m2 = central_moment(x, m, 2);
        if degenerate(m2, m) {
            return None;
        }
        let g1 = central_moment(x, m, 3) / m2.powf(1.5);
        Some(g1 * (n * (n - 1.0)).sqrt() / (n - 2.0))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // 100, 110, 120, 130, 170: mean 126; m₂ = 584 (see kurtosis);
        // m₃ = (−17576 − 4096 − 216 + 64 + 85184)/5 = 12672
        // g₁ = 12672 / 584^1.5 = 0.8978957037987334; G₁ = g₁·√20/3 = 1.3385038869326562
        let v = Skewness
            .evaluate(&tender(&[170.0, 100.0, 110.0, 120.0, 130.0]))
            .unwrap();
        assert!(close(v, 12_672.0 / 584f64.powf(1.5) * 20f64.sqrt() / 3.0));
        assert!(close(v, 1.338_503_886_932_656_2));
    }

    #[test]
    fn symmetric_bids_have_no_skew() {
        let v = Skewness.evaluate(&tender(&[100.0, 110.0, 120.0])).unwrap();
        assert!(v.abs() < 1e-12);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(Skewness.evaluate(&tender(&[100.0])), None);
        assert_eq!(Skewness.evaluate(&tender(&[100.0, 110.0])), None);
        assert_eq!(Skewness.evaluate(&tender(&[5.0, 5.0, 5.0])), None);
        assert_eq!(Skewness.evaluate(&tender(&[-5.0, 5.0, 6.0])), None);
    }
}
