//! Price patterns between the bidders of one tender, which 条例 40(4) deems collusion ("prices with a
//! regular pattern of differences"). One file per pattern, all behind [`Pattern`]; each pattern's
//! settings struct is also its detector.
//!
//! Patterns look only at bids with a finite price above zero; others are left out of every finding.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::input::TenderBids;
use crate::settings::Settings;

mod estimate;
mod identical;
mod regular;

pub use estimate::EstimateMultiples;
pub use identical::IdenticalPrices;
pub use regular::RegularPattern;

/// The legal ground of every finding in this module.
pub const LEGAL_GROUND: &str = "条例 40(4)";

/// One pattern detector.
pub trait Pattern {
    const NAME: &'static str;

    /// Every occurrence of the pattern in the tender; empty when none (or when disabled).
    fn detect(&self, tender: &TenderBids) -> Vec<Finding>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    IdenticalPrices,
    ConstantDifference,
    ConstantRatio,
    EstimateMultiples,
}

/// A bid named in a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BidRef {
    /// Position of the bid in [`TenderBids::bids`].
    pub index: usize,
    pub bidder: Option<String>,
    pub price: f64,
    /// `price / estimate`, where the tender has a positive estimate.
    pub of_estimate: Option<f64>,
}

/// Evidence of one pattern among some bids of one tender.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub tender: String,
    pub kind: PatternKind,
    pub legal_ground: &'static str,
    /// The bids involved, in ascending price.
    pub bids: Vec<BidRef>,
    /// The figures behind the finding (named per pattern, documented there).
    pub figures: BTreeMap<&'static str, f64>,
    /// One line for a reviewer.
    pub summary: String,
}

/// The tender's usable bids as `(index, price)`, ascending by price (ties by index).
pub(crate) fn sorted_bids(tender: &TenderBids) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = tender
        .bids
        .iter()
        .enumerate()
        .filter(|(_, b)| b.price.is_finite() && b.price > 0.0)
        .map(|(i, b)| (i, b.price))
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    v
}

/// Positive, finite estimate, if any.
pub(crate) fn estimate(tender: &TenderBids) -> Option<f64> {
    tender.estimate.filter(|e| e.is_finite() && *e > 0.0)
}

pub(crate) fn bid_ref(tender: &TenderBids, index: usize) -> Option<BidRef> {
    let bid = tender.bids.get(index)?;
    Some(BidRef {
        index,
        bidder: bid.bidder.clone(),
        price: bid.price,
        of_estimate: estimate(tender).map(|e| bid.price / e),
    })
}

/// Names of the bidders for a summary line (`#i` where a bid has no bidder id).
pub(crate) fn names(bids: &[BidRef]) -> String {
    bids.iter()
        .map(|b| {
            b.bidder
                .clone()
                .unwrap_or_else(|| format!("#{}", b.index + 1))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// All enabled patterns for one tender.
pub fn detect_patterns(tender: &TenderBids, settings: &Settings) -> Vec<Finding> {
    let mut out = settings.identical_prices.detect(tender);
    out.extend(settings.regular_pattern.detect(tender));
    out.extend(settings.estimate_multiples.detect(tender));
    out
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::input::{Bid, TenderBids};

    pub fn tender(prices: &[f64], estimate: Option<f64>) -> TenderBids {
        let bids = prices
            .iter()
            .enumerate()
            .map(|(i, &price)| Bid {
                bidder: Some(format!("B{}", i + 1)),
                price,
                winner: false,
            })
            .collect();
        TenderBids::new("T", estimate, bids)
    }

    pub fn bidders(f: &super::Finding) -> Vec<&str> {
        f.bids.iter().filter_map(|b| b.bidder.as_deref()).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::test_util::tender;
    use super::*;

    #[test]
    fn a_competitive_tender_has_no_findings() {
        let t = tender(
            &[
                1_013_527.11,
                1_049_310.92,
                1_102_775.40,
                1_187_004.66,
                1_240_918.03,
            ],
            Some(1_150_000.0),
        );
        assert!(detect_patterns(&t, &Settings::default()).is_empty());
    }

    #[test]
    fn bad_prices_are_left_out() {
        let t = tender(&[0.0, -1.0, 0.0, f64::NAN], None);
        assert!(detect_patterns(&t, &Settings::default()).is_empty());
    }

    #[test]
    fn findings_serialise_with_their_legal_ground() {
        let t = tender(&[100.0, 100.0, 130.0], None);
        let f = detect_patterns(&t, &Settings::default());
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json[0]["kind"], "identical_prices");
        assert_eq!(json[0]["legal_ground"], LEGAL_GROUND);
    }
}
