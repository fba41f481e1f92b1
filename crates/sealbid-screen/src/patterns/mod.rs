//! Price patterns between the bidders of one tender, which 条例 40(4) deems collusion ("prices with a
//! regular pattern of differences"). One file per pattern, all behind [`Pattern`]; each pattern's
//! settings struct is also its detector.
//!
//! Patterns look only at bids with a finite price above zero; others are left out of every finding.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};
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

/// The bidder name an alert carries for a bid: its id, or `#n` (1-based position) where it has none.
pub(crate) fn alert_bidder(b: &BidRef) -> String {
    b.bidder
        .clone()
        .unwrap_or_else(|| format!("#{}", b.index + 1))
}

impl PatternKind {
    /// Stable indicator name, as in alerts (`identical_prices`, `constant_difference`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::IdenticalPrices => "identical_prices",
            Self::ConstantDifference => "constant_difference",
            Self::ConstantRatio => "constant_ratio",
            Self::EstimateMultiples => "estimate_multiples",
        }
    }
}

/// The score of a finding, a fixed rule (no fitting) with its parts:
///
/// - identical prices: `min(0.98, 0.9 + 0.02·(bids − 2)) · (1 − 0.5·min(1, max_rel_difference / 1 %))`
///   — exactly equal prices are the strongest price evidence there is (0.9 for a pair, more for a
///   larger group); a group formed only within a tolerance loses up to half of that.
/// - constant difference / ratio: `(1 − 1/(bids − 1)) · (0.7 + 0.3·(1 − min(1, step_rel_range / 1 %)))`
///   — a run of 3 is at most 0.5 (such runs occur by chance in large tenders), 5 reaches 0.75, 11
///   reaches 0.9; steps that are constant to the last digit keep the full weight, steps that only just
///   fit a loose tolerance lose up to 30 %.
/// - estimate multiples: `0.3 + 0.3·share` (at most 0.6): prices derived from the estimate point to
///   a shared source, but a round percentage of the estimate is also what honest bidders sometimes
///   quote.
pub fn pattern_score(f: &Finding) -> Score {
    let fig = |name: &str| f.figures.get(name).copied().filter(|v| v.is_finite());
    let bids = fig("bids").unwrap_or(f.bids.len() as f64);
    let part = |name: &str, value: f64, weight: f64| ScorePart {
        name: name.into(),
        value,
        weight,
    };
    let (value, parts, method) = match f.kind {
        PatternKind::IdenticalPrices => {
            let size = (0.9 + 0.02 * (bids - 2.0).max(0.0)).min(0.98);
            let rel = fig("max_rel_difference").unwrap_or(0.0).max(0.0);
            let tightness = 1.0 - 0.5 * (rel / 0.01).min(1.0);
            (
                size * tightness,
                vec![
                    part("bids", bids, size),
                    part("max_rel_difference", rel, tightness),
                ],
                "identical prices: min(0.98, 0.9 + 0.02·(bids − 2)) × (1 − 0.5·min(1, \
                 max_rel_difference / 1 %)); parts are the two factors",
            )
        }
        PatternKind::ConstantDifference | PatternKind::ConstantRatio => {
            let length = 1.0 - 1.0 / (bids - 1.0).max(1.0);
            let range = fig("step_rel_range").unwrap_or(0.0).max(0.0);
            let tightness = 0.7 + 0.3 * (1.0 - (range / 0.01).min(1.0));
            (
                length * tightness,
                vec![
                    part("bids", bids, length),
                    part("step_rel_range", range, tightness),
                ],
                "regular steps: (1 − 1/(bids − 1)) × (0.7 + 0.3·(1 − min(1, step_rel_range / 1 %))); \
                 parts are the two factors",
            )
        }
        PatternKind::EstimateMultiples => {
            let share = fig("share").unwrap_or(0.0).clamp(0.0, 1.0);
            (
                0.3 + 0.3 * share,
                vec![part("share", share, 0.3 * share)],
                "bids on multiples of the estimate: 0.3 + 0.3·share",
            )
        }
    };
    Score {
        value,
        method: method.into(),
        parts,
    }
}

/// A finding as the engine's one output shape: family [`Family::PricePattern`], ground 条例 40(4),
/// the bidders involved (`#n` for a bid without an id), the finding's figures plus each bid's price
/// (`price <bidder>`) and share of the estimate (`of_estimate <bidder>`), and [`pattern_score`]. No
/// chart: the engine adds one where it has the tender.
impl From<Finding> for Alert {
    fn from(f: Finding) -> Self {
        let score = pattern_score(&f);
        let mut evidence = Evidence::default();
        evidence
            .figures
            .extend(f.figures.iter().map(|(k, v)| ((*k).to_string(), *v)));
        for b in &f.bids {
            let name = alert_bidder(b);
            evidence.figures.insert(format!("price {name}"), b.price);
            if let Some(r) = b.of_estimate {
                evidence.figures.insert(format!("of_estimate {name}"), r);
            }
        }
        Alert::new(
            f.tender,
            Family::PricePattern,
            f.kind.name(),
            Some(grounds::art40_4()),
            f.bids.iter().map(alert_bidder),
            score,
            f.summary,
            evidence,
        )
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod alert_tests {
    use super::test_util::tender;
    use super::*;
    use crate::input::Bid;

    fn alerts(prices: &[f64], estimate: Option<f64>) -> Vec<Alert> {
        detect_patterns(&tender(prices, estimate), &Settings::default())
            .into_iter()
            .map(Alert::from)
            .collect()
    }

    #[test]
    fn identical_prices_score_high_and_cite_40_4() {
        let a = alerts(&[100.0, 130.0, 100.0], None);
        assert_eq!(a.len(), 1);
        let a = &a[0];
        assert_eq!(a.family, Family::PricePattern);
        assert_eq!(a.indicator, "identical_prices");
        assert_eq!(a.legal_ground, Some(grounds::art40_4()));
        assert_eq!(a.bidders, ["B1", "B3"]);
        assert!((a.score.value - 0.9).abs() < 1e-12, "{:?}", a.score);
        assert_eq!(a.evidence.figures["price B3"], 100.0);
        assert_eq!(a.evidence.figures["price"], 100.0);
        // A group of four scores higher than a pair.
        let four = alerts(&[100.0, 100.0, 100.0, 100.0], None);
        assert!((four[0].score.value - 0.94).abs() < 1e-12);
    }

    #[test]
    fn regular_runs_score_by_length_and_tightness() {
        let three = alerts(&[100.0, 110.0, 120.0], None);
        let six = alerts(&[100.0, 110.0, 120.0, 130.0, 140.0, 150.0], None);
        assert_eq!(three[0].indicator, "constant_difference");
        assert!((three[0].score.value - 0.5).abs() < 1e-12);
        assert!((six[0].score.value - 0.8).abs() < 1e-12);
        // Steps 10 and 10.04 (0.4 % apart) fit the default tolerance but score lower than exact steps.
        let loose = alerts(&[200.0, 210.0, 220.04], None);
        assert!(loose[0].score.value < three[0].score.value);
        assert!(loose[0].score.value > 0.4);
    }

    #[test]
    fn estimate_multiples_score_lower_and_carry_shares() {
        let a = alerts(&[950.0, 970.0, 1013.0], Some(1000.0));
        let m: Vec<_> = a
            .iter()
            .filter(|a| a.indicator == "estimate_multiples")
            .collect();
        assert_eq!(m.len(), 1, "{a:#?}");
        assert!(m[0].score.value <= 0.6 && m[0].score.value >= 0.45);
        assert_eq!(m[0].evidence.figures["of_estimate B1"], 0.95);
    }

    #[test]
    fn bids_without_ids_are_named_by_position() {
        let bids = [100.0, 100.0]
            .iter()
            .map(|&price| Bid {
                bidder: None,
                price,
                winner: false,
            })
            .collect();
        let t = TenderBids::new("T", None, bids);
        let a: Vec<Alert> = detect_patterns(&t, &Settings::default())
            .into_iter()
            .map(Alert::from)
            .collect();
        assert_eq!(a[0].bidders, ["#1", "#2"]);
        assert!(a[0].score.value.is_finite());
    }
}
