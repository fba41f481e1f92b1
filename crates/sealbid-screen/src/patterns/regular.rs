//! Regular pattern: consecutive bids (in price order) separated by a constant difference (100, 102,
//! 104, …) or a constant ratio (100, 102, 104.04, …) — the mark of prices written from one table.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{bid_ref, names, sorted_bids, Finding, Pattern, PatternKind, LEGAL_GROUND};
use crate::input::TenderBids;

/// Finds maximal runs of at least `min_bids` consecutive sorted bids whose steps are constant: the
/// steps' range (largest minus smallest) is at most `rel_tolerance` times their mean. Steps are the
/// differences `bᵢ₊₁ − bᵢ` for a constant difference and the relative increments `bᵢ₊₁/bᵢ − 1` for a
/// constant ratio. A zero step breaks a run (equal prices are [`super::IdenticalPrices`]' business). A
/// ratio run over exactly the bids of a difference run already reported is not reported again.
///
/// Figures: `bids` (run length); `step` (mean difference) or `ratio` (mean bᵢ₊₁/bᵢ);
/// `step_rel_range` (the steps' range over their mean, ≤ `rel_tolerance`).
///
/// Runs of three are not rare by chance in tenders with dozens of bids; the finding carries the run
/// length so that scoring can weigh it, and `min_bids` can be raised per market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegularPattern {
    pub enabled: bool,
    pub rel_tolerance: f64,
    pub min_bids: usize,
}

impl Default for RegularPattern {
    fn default() -> Self {
        Self {
            enabled: true,
            rel_tolerance: 0.005,
            min_bids: 3,
        }
    }
}

/// `(first_step, last_step)` index ranges (inclusive start, exclusive end) over `steps` where the
/// steps are positive and within tolerance, each covering at least `min_steps` steps.
fn runs(steps: &[f64], rel_tolerance: f64, min_steps: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < steps.len() {
        let (mut lo, mut hi, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        let mut end = start;
        for &s in steps.iter().skip(start) {
            if s.is_nan() || s <= 0.0 {
                break;
            }
            let (nlo, nhi, nsum) = (lo.min(s), hi.max(s), sum + s);
            let mean = nsum / (end - start + 1) as f64;
            if nhi - nlo > rel_tolerance * mean {
                break;
            }
            (lo, hi, sum) = (nlo, nhi, nsum);
            end += 1;
        }
        if end - start >= min_steps {
            out.push((start, end));
            // The next run may share this run's last bid but none of its steps.
            start = end;
        } else {
            start += 1;
        }
    }
    out
}

impl RegularPattern {
    fn finding(
        &self,
        tender: &TenderBids,
        bids: &[(usize, f64)],
        steps: &[f64],
        (s, e): (usize, usize),
        kind: PatternKind,
    ) -> Option<Finding> {
        let run = bids.get(s..=e)?;
        let st = steps.get(s..e)?;
        let mean = st.iter().sum::<f64>() / st.len() as f64;
        let range = st.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - st.iter().copied().fold(f64::INFINITY, f64::min);
        let refs: Vec<_> = run
            .iter()
            .filter_map(|&(i, _)| bid_ref(tender, i))
            .collect();
        let (figure, what) = match kind {
            PatternKind::ConstantRatio => {
                (("ratio", 1.0 + mean), format!("ratio {:.4}", 1.0 + mean))
            }
            _ => (("step", mean), format!("difference {mean:.2}")),
        };
        let figures = BTreeMap::from([
            ("bids", run.len() as f64),
            figure,
            ("step_rel_range", range / mean),
        ]);
        Some(Finding {
            tender: tender.tender.clone(),
            kind,
            legal_ground: LEGAL_GROUND,
            summary: format!(
                "{} consecutive bids at a constant {what}: {}",
                run.len(),
                names(&refs)
            ),
            bids: refs,
            figures,
        })
    }
}

impl Pattern for RegularPattern {
    const NAME: &'static str = "regular_pattern";

    fn detect(&self, tender: &TenderBids) -> Vec<Finding> {
        let min_steps = self.min_bids.max(3) - 1;
        let bids = sorted_bids(tender);
        if !self.enabled || bids.len() < min_steps + 1 {
            return Vec::new();
        }
        let diffs: Vec<f64> = bids.windows(2).map(|w| w[1].1 - w[0].1).collect();
        let ratios: Vec<f64> = bids.windows(2).map(|w| w[1].1 / w[0].1 - 1.0).collect();

        let diff_runs = runs(&diffs, self.rel_tolerance, min_steps);
        let mut out: Vec<Finding> = diff_runs
            .iter()
            .filter_map(|&r| {
                self.finding(tender, &bids, &diffs, r, PatternKind::ConstantDifference)
            })
            .collect();
        out.extend(
            runs(&ratios, self.rel_tolerance, min_steps)
                .into_iter()
                .filter(|r| !diff_runs.contains(r))
                .filter_map(|r| {
                    self.finding(tender, &bids, &ratios, r, PatternKind::ConstantRatio)
                }),
        );
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::patterns::test_util::{bidders, tender};

    #[test]
    fn constant_difference_among_other_bids() {
        // 1000, 1020, 1040, 1060 step 20, then 1137 breaks it; B5 at 950 is below the run
        let t = tender(&[1040.0, 1000.0, 1137.0, 1060.0, 950.0, 1020.0], None);
        let f = RegularPattern::default().detect(&t);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kind, PatternKind::ConstantDifference);
        assert_eq!(bidders(&f[0]), ["B2", "B6", "B1", "B4"]);
        assert_eq!(f[0].figures["step"], 20.0);
        assert_eq!(f[0].figures["bids"], 4.0);
        assert_eq!(f[0].figures["step_rel_range"], 0.0);
    }

    #[test]
    fn constant_ratio() {
        // 100 · 1.03ᵏ: 100, 103, 106.09, 109.2727 — differences 3, 3.09, 3.1827 (range 6 % of their
        // mean, not a constant difference), ratios all 1.03
        let t = tender(&[100.0, 103.0, 106.09, 109.2727], None);
        let f = RegularPattern::default().detect(&t);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].kind, PatternKind::ConstantRatio);
        assert!((f[0].figures["ratio"] - 1.03).abs() < 1e-9);
        assert_eq!(bidders(&f[0]), ["B1", "B2", "B3", "B4"]);
    }

    #[test]
    fn tolerance_is_relative_to_the_step() {
        // steps 10 and 10.04: range 0.04 over mean 10.02 = 0.4 % — within 0.5 %, outside 0.1 %
        let t = tender(&[200.0, 210.0, 220.04], None);
        assert_eq!(RegularPattern::default().detect(&t).len(), 1);
        let strict = RegularPattern {
            rel_tolerance: 0.001,
            ..Default::default()
        };
        assert!(strict.detect(&t).is_empty());
    }

    #[test]
    fn negatives() {
        // irregular steps 5, 17, 9
        assert!(RegularPattern::default()
            .detect(&tender(&[100.0, 105.0, 122.0, 131.0], None))
            .is_empty());
        // two bids are never a pattern
        assert!(RegularPattern::default()
            .detect(&tender(&[100.0, 105.0], None))
            .is_empty());
        // identical bids have zero steps: not a regular pattern
        assert!(RegularPattern::default()
            .detect(&tender(&[100.0, 100.0, 100.0], None))
            .is_empty());
        // a run of three is not enough when four are required
        let four = RegularPattern {
            min_bids: 4,
            ..Default::default()
        };
        assert!(four
            .detect(&tender(&[100.0, 110.0, 120.0, 157.0], None))
            .is_empty());
    }

    #[test]
    fn two_separate_runs() {
        // 100, 101, 102 (step 1) then 150, 160, 170 (step 10); the 48 jump between them belongs to neither
        let t = tender(&[100.0, 101.0, 102.0, 150.0, 160.0, 170.0], None);
        let f = RegularPattern::default().detect(&t);
        let diffs: Vec<_> = f
            .iter()
            .filter(|x| x.kind == PatternKind::ConstantDifference)
            .map(|x| x.figures["step"])
            .collect();
        assert_eq!(diffs, [1.0, 10.0]);
    }
}
