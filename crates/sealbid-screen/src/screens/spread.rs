//! Spread (the authors' SPD): the range of the bids relative to the lowest.
use super::{PriceView, Screen};

/// `(max − min) / min`. `None` below two bids; identical bids give `0`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread;

impl Screen for Spread {
    const NAME: &'static str = "spread";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let x = view.sorted();
        if x.len() < 2 {
            return None;
        }
        let (min, max) = (*x.first()?, *x.last()?);
        Some((max - min) / min)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // (130 − 100) / 100 = 0.3, whatever the order of the bids
        let v = Spread
            .evaluate(&tender(&[120.0, 100.0, 130.0, 110.0]))
            .unwrap();
        assert!(close(v, 0.3));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(Spread.evaluate(&tender(&[100.0])), None);
        assert!(close(
            Spread.evaluate(&tender(&[100.0, 125.0])).unwrap(),
            0.25
        ));
        assert_eq!(Spread.evaluate(&tender(&[7.0, 7.0])), Some(0.0));
        assert_eq!(Spread.evaluate(&tender(&[0.0, 7.0])), None);
    }
}
