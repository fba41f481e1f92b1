//! Kurtosis of the bids: cartels that coordinate produce peaked (or, with few bids, oddly flat)
//! distributions.
use super::{PriceView, Screen};
use crate::stats::{central_moment, degenerate, mean};

/// Bias-corrected sample excess kurtosis, as scipy `kurtosis(x, fisher=True, bias=False)` and Excel
/// `KURT`: with `g₂ = m₄/m₂² − 3` (biased moments, divisor n),
/// `G₂ = ((n+1)·g₂ + 6)·(n−1) / ((n−2)(n−3))`.
///
/// `None` below four bids (the correction divides by n − 3; the authors' column holds a placeholder 0
/// there) and when all bids are identical (m₂ = 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct Kurtosis;

impl Screen for Kurtosis {
    const NAME: &'static str = "kurtosis";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        let n = x.len() as f64;
        if x.len() < 4 {
            return None;
        }
        let m = mean(x);
        let m2 = central_moment(x, m, 2);
        if degenerate(m2, m) {
            return None;
        }
        let g2 = central_moment(x, m, 4) / (m2 * m2) - 3.0;
        Some(((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // 100, 110, 120, 130, 170: mean 126; deviations −26, −16, −6, 4, 44
        // m₂ = (676 + 256 + 36 + 16 + 1936)/5 = 584
        // m₄ = (456976 + 65536 + 1296 + 256 + 3748096)/5 = 854432
        // g₂ = 854432/584² − 3 = 854432/341056 − 3 = −0.4947457309063612
        // G₂ = (6·g₂ + 6)·4 / (3·2) = 2.021017076374555 (scipy bias=False agrees)
        let v = Kurtosis
            .evaluate(&tender(&[100.0, 110.0, 120.0, 130.0, 170.0]))
            .unwrap();
        let g2 = 854_432.0 / 341_056.0 - 3.0;
        assert!(close(v, (6.0 * g2 + 6.0) * 4.0 / 6.0));
        assert!(close(v, 2.021_017_076_374_555));
    }

    #[test]
    fn two_distinct_values_four_bids() {
        // 1, 1, 2, 2: mean 1.5, m₂ = 0.25, m₄ = 0.0625 → g₂ = 1 − 3 = −2; G₂ = (5·(−2) + 6)·3/(2·1) = −6
        // (the Swiss file has such a tender, KURT = −6.0)
        let v = Kurtosis.evaluate(&tender(&[1.0, 1.0, 2.0, 2.0])).unwrap();
        assert!(close(v, -6.0));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(Kurtosis.evaluate(&tender(&[100.0])), None);
        assert_eq!(Kurtosis.evaluate(&tender(&[100.0, 110.0])), None);
        assert_eq!(Kurtosis.evaluate(&tender(&[100.0, 110.0, 130.0])), None);
        assert_eq!(Kurtosis.evaluate(&tender(&[9.0; 6])), None);
        assert_eq!(Kurtosis.evaluate(&tender(&[0.0, 1.0, 2.0, 3.0])), None);
    }
}
