//! Never-winners: bidders that keep bidding and never win — the profile of a firm that only lends its
//! name to make up the numbers (or of a firm that simply bids too high; hence a low score).
//!
//! For a bidder with at least `min_bids` tenders with a known award and no win among them, the chance
//! of that under a uniformly random winner is `Π_t (1 − w_t/n_t)` (`w_t` winning bids, usually 1, and
//! `n_t` competitors in tender `t`). P-values are corrected (Benjamini–Hochberg by default) over every
//! bidder with at least `min_bids` such tenders, and a bidder is reported at a corrected p-value of at
//! most `alpha`.
//!
//! Score: `0.1 + 0.2·min(1, −log10(p_adj)/4)` — at most 0.3: grounds for a look.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::market::Market;
use super::stats::{adjust, clamp01, strength, Correction};
use super::{sort_alerts, HistoryDetector};
use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeverWin {
    pub enabled: bool,
    /// Tenders with a known award the bidder entered.
    pub min_bids: usize,
    pub alpha: f64,
    pub correction: Correction,
}

impl Default for NeverWin {
    fn default() -> Self {
        Self {
            enabled: true,
            min_bids: 5,
            alpha: 0.05,
            correction: Correction::BenjaminiHochberg,
        }
    }
}

struct Candidate {
    bidder: u32,
    tenders: Vec<usize>,
    expected_wins: f64,
    p: f64,
}

impl HistoryDetector for NeverWin {
    const NAME: &'static str = "never_win";

    fn detect(&self, market: &Market) -> Vec<Alert> {
        if !self.enabled {
            return Vec::new();
        }
        let mut tests = 0usize;
        let mut candidates = Vec::new();
        for b in 0..market.bidder_count() as u32 {
            let tenders: Vec<usize> = market
                .participation(b)
                .iter()
                .copied()
                .filter(|&t| market.tender(t).is_some_and(|t| t.award_known()))
                .collect();
            if tenders.len() < self.min_bids.max(1) {
                continue;
            }
            tests += 1;
            let won = tenders
                .iter()
                .filter_map(|&t| market.tender(t))
                .any(|t| t.winners.binary_search(&b).is_ok());
            if won {
                continue;
            }
            let shares: Vec<f64> = tenders
                .iter()
                .filter_map(|&t| market.tender(t))
                .map(|t| clamp01(t.winning_bids as f64 / t.field.max(1) as f64))
                .collect();
            candidates.push(Candidate {
                bidder: b,
                expected_wins: shares.iter().sum(),
                p: shares.iter().map(|s| 1.0 - s).product(),
                tenders,
            });
        }
        let p: Vec<f64> = candidates.iter().map(|c| c.p).collect();
        let p_adj = adjust(&p, tests, self.correction);
        let mut out: Vec<Alert> = candidates
            .iter()
            .zip(p_adj)
            .filter(|(_, pa)| *pa <= self.alpha)
            .map(|(c, pa)| {
                let name = market.name(c.bidder).to_owned();
                let n = c.tenders.len();
                let sig = strength(pa, 4.0);
                let (tenders, latest) = market.names_and_latest(&c.tenders);
                let figures = BTreeMap::from([
                    ("bids".to_owned(), n as f64),
                    ("wins".to_owned(), 0.0),
                    ("expected_wins".to_owned(), c.expected_wins),
                    ("p_value".to_owned(), c.p),
                    ("p_adjusted".to_owned(), pa),
                ]);
                let score = Score {
                    value: 0.1 + 0.2 * sig,
                    method: "0.1 + 0.2·min(1, −log10(p_adj)/4); p = Π(1 − 1/n) over the tenders entered, the chance of never winning with a uniformly random winner".into(),
                    parts: vec![ScorePart { name: "p_adjusted".into(), value: pa, weight: 0.2 * sig }],
                };
                let summary = format!(
                    "{name} bid in {n} tenders and won none; chance expects {:.1} wins (p = {:.2e})",
                    c.expected_wins, pa
                );
                Alert::new(
                    latest,
                    Family::History,
                    Self::NAME,
                    Some(grounds::art39()),
                    [name],
                    score,
                    summary,
                    Evidence {
                        figures,
                        tenders,
                        ..Evidence::default()
                    },
                )
            })
            .collect();
        sort_alerts(&mut out);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::history::test_util::lowest_wins;
    use crate::input::TenderBids;

    #[test]
    fn a_perennial_loser_in_small_fields_is_flagged() {
        // L bids in 20 three-bidder tenders and never wins: (2/3)^20 ≈ 3e-4.
        let t: Vec<TenderBids> = (0..20)
            .map(|i| {
                let (a, b) = (format!("A{}", i % 7), format!("B{}", i % 5));
                lowest_wins(&format!("T{i}"), &[(&a, 100.0), (&b, 101.0), ("L", 110.0)])
            })
            .collect();
        let alerts = NeverWin::default().detect(&Market::new(&t));
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.bidders, ["L"]);
        assert_eq!(a.tender, "T19");
        assert!((a.evidence.figures["p_value"] - (2.0f64 / 3.0).powi(20)).abs() < 1e-12);
        assert!((a.evidence.figures["expected_wins"] - 20.0 / 3.0).abs() < 1e-9);
        assert!(a.score.value > 0.1 && a.score.value <= 0.3);
    }

    #[test]
    fn losing_in_large_fields_is_chance() {
        let t: Vec<TenderBids> = (0..6)
            .map(|i| {
                let names: Vec<String> = (0..30).map(|k| format!("F{}", (i + k) % 40)).collect();
                let mut bids: Vec<(&str, f64)> = names
                    .iter()
                    .map(|n| (n.as_str(), 100.0 + i as f64))
                    .collect();
                bids.push(("L", 200.0));
                lowest_wins(&format!("T{i}"), &bids)
            })
            .collect();
        assert!(NeverWin::default().detect(&Market::new(&t)).is_empty());
    }

    #[test]
    fn unknown_awards_do_not_count() {
        let mut t: Vec<TenderBids> = (0..20)
            .map(|i| lowest_wins(&format!("T{i}"), &[("A", 1.0), ("L", 2.0)]))
            .collect();
        t.iter_mut()
            .for_each(|t| t.bids.iter_mut().for_each(|b| b.winner = false));
        assert!(NeverWin::default().detect(&Market::new(&t)).is_empty());
    }
}
