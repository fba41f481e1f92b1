//! Identical prices: two or more bidders quoting the same price.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{bid_ref, names, sorted_bids, Finding, Pattern, PatternKind, LEGAL_GROUND};
use crate::input::TenderBids;

/// Groups bids whose prices lie within `rel_tolerance` of the group's lowest price (`0` = exactly
/// equal) and reports every group of at least `min_bids` bids.
///
/// Figures: `price` (the group's lowest), `bids` (group size), `max_rel_difference` (highest minus
/// lowest, over lowest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdenticalPrices {
    pub enabled: bool,
    /// Relative tolerance; the default 0 means equal to the last digit.
    pub rel_tolerance: f64,
    pub min_bids: usize,
}

impl Default for IdenticalPrices {
    fn default() -> Self {
        Self {
            enabled: true,
            rel_tolerance: 0.0,
            min_bids: 2,
        }
    }
}

impl Pattern for IdenticalPrices {
    const NAME: &'static str = "identical_prices";

    fn detect(&self, tender: &TenderBids) -> Vec<Finding> {
        if !self.enabled {
            return Vec::new();
        }
        let bids = sorted_bids(tender);
        let mut out = Vec::new();
        let mut start = 0;
        while start < bids.len() {
            let Some(&(_, base)) = bids.get(start) else {
                break;
            };
            let end = bids
                .iter()
                .skip(start)
                .position(|&(_, p)| p - base > self.rel_tolerance * base)
                .map_or(bids.len(), |off| start + off);
            let group = bids.get(start..end).unwrap_or_default();
            if group.len() >= self.min_bids.max(2) {
                let refs: Vec<_> = group
                    .iter()
                    .filter_map(|&(i, _)| bid_ref(tender, i))
                    .collect();
                let top = group.last().map_or(base, |&(_, p)| p);
                let figures = BTreeMap::from([
                    ("price", base),
                    ("bids", group.len() as f64),
                    ("max_rel_difference", (top - base) / base),
                ]);
                out.push(Finding {
                    tender: tender.tender.clone(),
                    kind: PatternKind::IdenticalPrices,
                    legal_ground: LEGAL_GROUND,
                    summary: format!(
                        "{} bidders quoted the same price {base}: {}",
                        group.len(),
                        names(&refs)
                    ),
                    bids: refs,
                    figures,
                });
            }
            start = end.max(start + 1);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::patterns::test_util::{bidders, tender};

    #[test]
    fn equal_prices_are_grouped() {
        let t = tender(&[120.0, 100.5, 130.0, 100.5, 120.0, 120.0], None);
        let f = IdenticalPrices::default().detect(&t);
        assert_eq!(f.len(), 2);
        assert_eq!(bidders(&f[0]), ["B2", "B4"]);
        assert_eq!(f[0].figures["price"], 100.5);
        assert_eq!(bidders(&f[1]), ["B1", "B5", "B6"]);
        assert_eq!(f[1].figures["bids"], 3.0);
        assert_eq!(f[1].figures["max_rel_difference"], 0.0);
    }

    #[test]
    fn near_equal_prices_need_a_tolerance() {
        // 100 and 100.01 differ by 0.01 % — not identical by default, identical within 0.05 %
        let t = tender(&[100.0, 100.01, 140.0], None);
        assert!(IdenticalPrices::default().detect(&t).is_empty());
        let loose = IdenticalPrices {
            rel_tolerance: 0.0005,
            ..Default::default()
        };
        let f = loose.detect(&t);
        assert_eq!(f.len(), 1);
        assert!((f[0].figures["max_rel_difference"] - 0.0001).abs() < 1e-12);
    }

    #[test]
    fn distinct_prices_and_disabled_detector_find_nothing() {
        let t = tender(&[100.0, 101.0, 102.5], None);
        assert!(IdenticalPrices::default().detect(&t).is_empty());
        let t = tender(&[100.0, 100.0], None);
        let off = IdenticalPrices {
            enabled: false,
            ..Default::default()
        };
        assert!(off.detect(&t).is_empty());
        let three = IdenticalPrices {
            min_bids: 3,
            ..Default::default()
        };
        assert!(three.detect(&t).is_empty());
    }
}
