//! Coefficient of variation: sample standard deviation over mean. Collusive tenders tend to show
//! bids packed unusually close together (a low CV).
use super::{PriceView, Screen};
use crate::stats::{mean, sample_sd};

/// `s / x̄` with the sample standard deviation (divisor n − 1), as numpy `std(ddof=1)/mean`.
/// `None` below two bids. Identical bids give `0`, a defined and telling value.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoefficientOfVariation;

impl Screen for CoefficientOfVariation {
    const NAME: &'static str = "cv";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        Some(sample_sd(x)? / mean(x))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // bids 100, 110, 120, 130: mean 115; deviations −15, −5, 5, 15; squares 225+25+25+225 = 500;
        // s² = 500/3; s = 12.909944487358056; CV = s/115 = 0.11226038684659179
        let v = CoefficientOfVariation
            .evaluate(&tender(&[100.0, 110.0, 120.0, 130.0]))
            .unwrap();
        assert!(close(v, (500.0_f64 / 3.0).sqrt() / 115.0));
        assert!(close(v, 0.112_260_386_846_591_79));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(CoefficientOfVariation.evaluate(&tender(&[100.0])), None);
        // two bids 100, 120: mean 110, s = 20/√2 = 14.142…, CV = 0.12856486930664499
        let v = CoefficientOfVariation
            .evaluate(&tender(&[100.0, 120.0]))
            .unwrap();
        assert!(close(v, 20.0 / 2f64.sqrt() / 110.0));
        assert_eq!(
            CoefficientOfVariation.evaluate(&tender(&[50.0, 50.0, 50.0])),
            Some(0.0)
        );
        assert_eq!(CoefficientOfVariation.evaluate(&tender(&[0.0, 50.0])), None);
    }
}
