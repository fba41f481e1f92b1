//! Relative distance (Imhof): the gap between the two lowest bids measured in standard deviations of
//! the losing bids. A cover-bidding cartel leaves a wide gap to the designated winner and packs the
//! covers together: RD well above 1.
//!
//! "Losing bids" are all bids except the lowest (the would-be winner under lowest-price award). The
//! authors' precomputed RD used all bids except the *highest*, which is a mistake (the data README says
//! so): for three bids theirs is always √2. We do not reproduce it.
use super::{PriceView, Screen};
use crate::stats::{degenerate, mean, sample_sd};

/// `(b₂ − b₁) / s_losing`, where `s_losing` is the sample standard deviation (divisor n − 1) of
/// `b₂ … bₙ`. `None` below three bids (one losing bid has no standard deviation) and when the losing
/// bids are all identical (the ratio would be infinite, or 0/0).
#[derive(Debug, Clone, Copy, Default)]
pub struct RelativeDistance;

impl Screen for RelativeDistance {
    const NAME: &'static str = "rd";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        let (b1, losing) = match x {
            [b1, losing @ ..] if losing.len() >= 2 => (*b1, losing),
            _ => return None,
        };
        let s = sample_sd(losing)?;
        if degenerate(s * s, mean(losing)) {
            return None;
        }
        Some((losing.first()? - b1) / s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // bids 100, 110, 120, 130: losing bids 110, 120, 130 → mean 120, s² = (100+0+100)/2 = 100, s = 10;
        // gap 110 − 100 = 10 → RD = 1.0
        let v = RelativeDistance
            .evaluate(&tender(&[130.0, 110.0, 100.0, 120.0]))
            .unwrap();
        assert!(close(v, 1.0));
        // 80, 100, 101, 102: losing 100, 101, 102 → s = 1; gap 20 → RD = 20 (a cover-bidding shape)
        let v = RelativeDistance
            .evaluate(&tender(&[80.0, 100.0, 101.0, 102.0]))
            .unwrap();
        assert!(close(v, 20.0));
    }

    #[test]
    fn three_bids_are_not_always_root_two() {
        // 100, 110, 130: losing 110, 130 → s = 20/√2 = 14.142…; RD = 10/14.142… = 0.7071…
        // (the authors' definition would give √2 for every three-bid tender)
        let v = RelativeDistance
            .evaluate(&tender(&[100.0, 110.0, 130.0]))
            .unwrap();
        assert!(close(v, 10.0 / (20.0 / 2f64.sqrt())));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(RelativeDistance.evaluate(&tender(&[100.0])), None);
        assert_eq!(RelativeDistance.evaluate(&tender(&[100.0, 110.0])), None);
        // identical losing bids: infinite RD → None
        assert_eq!(
            RelativeDistance.evaluate(&tender(&[100.0, 110.0, 110.0])),
            None
        );
        assert_eq!(
            RelativeDistance.evaluate(&tender(&[100.0, 100.0, 100.0])),
            None
        );
        assert_eq!(
            RelativeDistance.evaluate(&tender(&[0.0, 110.0, 120.0])),
            None
        );
    }
}
