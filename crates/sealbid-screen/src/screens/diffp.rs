//! DIFFP: the gap between the two lowest bids, relative to the lowest.
//!
//! Ties count: if the two lowest bids are identical DIFFP is `0`. The authors' precomputed column
//! dropped duplicate values (so their second lowest is the second *distinct* value); identical lowest
//! bids are exactly what a screen must not hide, so we differ from them on tenders with a tie at the
//! bottom (none in Brazil.csv; 24 tenders in Italy.csv and 75 in Switzerland_Ticino.csv).
use super::{PriceView, Screen};

/// `(b₂ − b₁) / b₁` over the sorted bids `b₁ ≤ b₂ ≤ …`. `None` below two bids.
#[derive(Debug, Clone, Copy, Default)]
pub struct Diffp;

impl Screen for Diffp {
    const NAME: &'static str = "diffp";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        match view.sorted() {
            [b1, b2, ..] => Some((b2 - b1) / b1),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::test_util::{close, tender};

    #[test]
    fn hand_computed() {
        // lowest 100, second 104: 4/100 = 0.04
        let v = Diffp
            .evaluate(&tender(&[130.0, 104.0, 100.0, 120.0]))
            .unwrap();
        assert!(close(v, 0.04));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(Diffp.evaluate(&tender(&[100.0])), None);
        assert!(close(
            Diffp.evaluate(&tender(&[100.0, 150.0])).unwrap(),
            0.5
        ));
        // a tie at the bottom is 0, not the gap to the next distinct value
        assert_eq!(Diffp.evaluate(&tender(&[100.0, 100.0, 150.0])), Some(0.0));
        assert_eq!(Diffp.evaluate(&tender(&[-1.0, 100.0])), None);
    }
}
