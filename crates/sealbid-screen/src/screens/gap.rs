//! Winner/runner-up gap: how far the nearest bid above the winner sits from it. Cover bids placed
//! just above the designated winner make this gap abnormally small for the market; a lone low winner far
//! below everyone makes it abnormally large. Judged against the market with IQR fences
//! ([`crate::fences`]).
use super::{PriceView, Screen};

/// `(r − w) / w`, where `w` is the winning price and `r` the lowest price among the *other* bids that
/// is at or above `w`.
///
/// The winner is the one bid flagged `winner`; if no bid or several bids are flagged (lots split
/// between winners in the Swiss file, two Italian tenders with none), the lowest bid stands in. Under
/// lowest-price award this equals DIFFP; under other award rules (Italy's average-bid method, where the
/// winner is never the lowest) it still measures the cover just above the winner.
///
/// `None` below two bids and when no other bid is at or above the winner (the winner is the highest
/// bid). A tie with the winner gives `0`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WinnerGap;

impl Screen for WinnerGap {
    const NAME: &'static str = "winner_gap";

    fn compute(&self, view: &PriceView<'_>) -> Option<f64> {
        let bids = &view.tender().bids;
        if bids.len() < 2 {
            return None;
        }
        let mut flagged = bids.iter().enumerate().filter(|(_, b)| b.winner);
        let winner = match (flagged.next(), flagged.next()) {
            (Some((i, _)), None) => i,
            _ => bids
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.price.total_cmp(&b.1.price))
                .map(|(i, _)| i)?,
        };
        let w = bids.get(winner)?.price;
        let runner_up = bids
            .iter()
            .enumerate()
            .filter(|&(i, b)| i != winner && b.price >= w)
            .map(|(_, b)| b.price)
            .min_by(f64::total_cmp)?;
        Some((runner_up - w) / w)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::input::{Bid, TenderBids};
    use crate::screens::test_util::{close, tender};

    fn flagged(prices: &[f64], winners: &[usize]) -> TenderBids {
        let bids = prices
            .iter()
            .enumerate()
            .map(|(i, &price)| Bid {
                bidder: None,
                price,
                winner: winners.contains(&i),
            })
            .collect();
        TenderBids::new("T", None, bids)
    }

    #[test]
    fn lowest_price_award_equals_diffp() {
        // winner 100, next 102: 2/100 = 0.02
        let v = WinnerGap.evaluate(&tender(&[120.0, 102.0, 100.0])).unwrap();
        assert!(close(v, 0.02));
    }

    #[test]
    fn winner_not_lowest_uses_the_next_bid_above() {
        // average-bid award: the winner bid 105; bids above it 107, 130 → (107 − 105)/105
        let v = WinnerGap
            .evaluate(&flagged(&[100.0, 105.0, 107.0, 130.0], &[1]))
            .unwrap();
        assert!(close(v, 2.0 / 105.0));
        // the winner is the highest bid: nothing above it
        assert_eq!(WinnerGap.evaluate(&flagged(&[100.0, 130.0], &[1])), None);
    }

    #[test]
    fn no_or_several_winners_fall_back_to_the_lowest() {
        // lowest 100, next 110 → 0.1
        assert!(close(
            WinnerGap
                .evaluate(&flagged(&[110.0, 100.0, 140.0], &[]))
                .unwrap(),
            0.1
        ));
        assert!(close(
            WinnerGap
                .evaluate(&flagged(&[110.0, 100.0, 140.0], &[0, 2]))
                .unwrap(),
            0.1
        ));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(WinnerGap.evaluate(&tender(&[100.0])), None);
        assert_eq!(WinnerGap.evaluate(&tender(&[100.0, 100.0])), Some(0.0));
        assert_eq!(WinnerGap.evaluate(&tender(&[0.0, 100.0])), None);
    }
}
