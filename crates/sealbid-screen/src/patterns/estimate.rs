//! Bids at fixed multiples of the estimate: several bidders each quoting a round percentage of the
//! owner's estimate (95 %, 97 %, 99 % …) — prices derived from the estimate by agreement rather than
//! from each bidder's costs.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{bid_ref, estimate, names, sorted_bids, Finding, Pattern, PatternKind, LEGAL_GROUND};
use crate::input::TenderBids;

/// A bid is "on a multiple" when `100 · price / estimate` lies within `tolerance_percent` percentage
/// points — widened by half a `rounding_unit` of the estimate, since a price that is 97 % of the
/// estimate is rounded to the cent — of a multiple of `step_percent`. One finding per tender when at
/// least `min_bids` bids, and at least `min_share` of the tender's bids, are on a multiple. Needs a
/// positive estimate.
///
/// Figures: `bids` (how many on a multiple), `share` (of the tender's bids), `step_percent`.
/// Each bid's `of_estimate` carries its ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EstimateMultiples {
    pub enabled: bool,
    pub step_percent: f64,
    pub tolerance_percent: f64,
    /// Smallest currency unit prices are rounded to (0.01 for yuan to the fen).
    pub rounding_unit: f64,
    pub min_bids: usize,
    pub min_share: f64,
}

impl Default for EstimateMultiples {
    fn default() -> Self {
        Self {
            enabled: true,
            step_percent: 1.0,
            tolerance_percent: 0.0001,
            rounding_unit: 0.01,
            min_bids: 2,
            min_share: 0.5,
        }
    }
}

impl Pattern for EstimateMultiples {
    const NAME: &'static str = "estimate_multiples";

    fn detect(&self, tender: &TenderBids) -> Vec<Finding> {
        let Some(est) = estimate(tender) else {
            return Vec::new();
        };
        if !self.enabled || self.step_percent.is_nan() || self.step_percent <= 0.0 {
            return Vec::new();
        }
        let bids = sorted_bids(tender);
        let allowance = self.tolerance_percent + 100.0 * self.rounding_unit / 2.0 / est;
        let on: Vec<_> = bids
            .iter()
            .filter(|&&(_, p)| {
                let pct = 100.0 * p / est;
                let nearest = (pct / self.step_percent).round() * self.step_percent;
                (pct - nearest).abs() <= allowance
            })
            .filter_map(|&(i, _)| bid_ref(tender, i))
            .collect();
        let share = on.len() as f64 / bids.len().max(1) as f64;
        if on.len() < self.min_bids.max(2) || share < self.min_share {
            return Vec::new();
        }
        let pcts = on
            .iter()
            .filter_map(|b| b.of_estimate.map(|r| format!("{:.2} %", 100.0 * r)))
            .collect::<Vec<_>>()
            .join(", ");
        let figures = BTreeMap::from([
            ("bids", on.len() as f64),
            ("share", share),
            ("step_percent", self.step_percent),
        ]);
        vec![Finding {
            tender: tender.tender.clone(),
            kind: PatternKind::EstimateMultiples,
            legal_ground: LEGAL_GROUND,
            summary: format!(
                "{} bids at round percentages of the estimate {est} ({pcts}): {}",
                on.len(),
                names(&on)
            ),
            bids: on,
            figures,
        }]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::patterns::test_util::{bidders, tender};

    #[test]
    fn round_percentages_of_the_estimate() {
        // estimate 1,234,567.89: 95 % = 1,172,839.4955 → 1,172,839.50 (rounded to the fen),
        // 97 % = 1,197,530.8533 → 1,197,530.85, 99 % = 1,222,222.2111 → 1,222,222.21; B4 is free
        let t = tender(
            &[1_197_530.85, 1_172_839.50, 1_222_222.21, 1_203_311.07],
            Some(1_234_567.89),
        );
        let f = EstimateMultiples::default().detect(&t);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(bidders(&f[0]), ["B2", "B1", "B3"]);
        assert_eq!(f[0].figures["bids"], 3.0);
        assert_eq!(f[0].figures["share"], 0.75);
        assert!((f[0].bids[0].of_estimate.unwrap() - 0.95).abs() < 1e-8);
    }

    #[test]
    fn negatives() {
        let free = [1_181_006.13, 1_197_914.70, 1_220_458.32];
        // no estimate
        assert!(EstimateMultiples::default()
            .detect(&tender(&free, None))
            .is_empty());
        // prices unrelated to the estimate
        assert!(EstimateMultiples::default()
            .detect(&tender(&free, Some(1_234_567.89)))
            .is_empty());
        // one bid on a multiple is not a pattern
        let one = [1_172_839.50, 1_197_914.70, 1_220_458.32];
        assert!(EstimateMultiples::default()
            .detect(&tender(&one, Some(1_234_567.89)))
            .is_empty());
        // two of five is below the default share of one half
        let two = [
            1_172_839.50,
            1_197_530.85,
            1_181_006.13,
            1_197_914.70,
            1_220_458.32,
        ];
        assert!(EstimateMultiples::default()
            .detect(&tender(&two, Some(1_234_567.89)))
            .is_empty());
        let loose = EstimateMultiples {
            min_share: 0.4,
            ..Default::default()
        };
        assert_eq!(loose.detect(&tender(&two, Some(1_234_567.89))).len(), 1);
    }
}
