//! Cover bidding: a bidder that, whenever it meets a given winner, loses to it and places just above
//! it — the complementary bid that makes a pre-arranged award look competitive.
//!
//! In each tender with exactly one winning bid (with an id and a usable price), the *runner-up* is the
//! next bid at or above the winning price (for a lowest-price award, second place; for an average-bid
//! award, the bid just above the winner). It *covers* the winner when its relative gap
//! `(price − winning price) / winning price` is at most `max_gap`.
//!
//! For an ordered pair (winner `w`, cover `c`), the meetings are the tenders with a single known
//! winner where both bid. A pair is reported when it met in at least `min_meetings` tenders, `c`
//! covered `w` in at least `min_cover_share` of them, and that is far more than chance: given that
//! `w` won tender `t`, `c` is the runner-up with probability `1/(n_t − 1)` if the losers' order is
//! random, so the number of covers is Poisson-binomial over the tenders `w` won; its upper tail is
//! the p-value (the gap condition only makes the count stricter, so the test is conservative),
//! corrected over every ordered pair that met at least `min_meetings` times.
//!
//! Score: `0.4 + 0.25·cover_share + 0.25·min(1, −log10(p_adj)/6)` — at most 0.9.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::market::{usable, Market};
use super::stats::{adjust, strength, upper_tail, Correction};
use super::{sort_alerts, HistoryDetector};
use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverBidding {
    pub enabled: bool,
    /// Tenders with a single known winner where both bid.
    pub min_meetings: usize,
    /// Share of the meetings in which the cover placed just above the winner.
    pub min_cover_share: f64,
    /// Largest relative gap between the cover's price and the winning price.
    pub max_gap: f64,
    pub alpha: f64,
    pub correction: Correction,
}

impl Default for CoverBidding {
    fn default() -> Self {
        Self {
            enabled: true,
            min_meetings: 4,
            min_cover_share: 0.75,
            max_gap: 0.05,
            alpha: 0.05,
            correction: Correction::Bonferroni,
        }
    }
}

struct Candidate {
    winner: u32,
    cover: u32,
    meetings: Vec<usize>,
    won: usize,
    covers: Vec<(usize, f64)>,
    expected: f64,
    p: f64,
}

impl CoverBidding {
    /// `(winner, cover) → [(tender, gap)]` for every tender where a runner-up covered the winner.
    fn cover_events(&self, market: &Market) -> HashMap<(u32, u32), Vec<(usize, f64)>> {
        let mut out: HashMap<(u32, u32), Vec<(usize, f64)>> = HashMap::new();
        for (i, t) in market.tenders().iter().enumerate() {
            let Some((w, wp)) = t.single_winner() else {
                continue;
            };
            let above = t
                .bids
                .iter()
                .filter(|b| !b.winner && usable(b.price) && b.price >= wp)
                .map(|b| b.price)
                .fold(f64::INFINITY, f64::min);
            if !above.is_finite() {
                continue;
            }
            let gap = (above - wp) / wp;
            if !(gap.is_finite() && gap <= self.max_gap) {
                continue;
            }
            let mut covers: Vec<u32> = t
                .bids
                .iter()
                .filter(|b| !b.winner && b.price == above)
                .filter_map(|b| b.bidder)
                .filter(|&c| c != w)
                .collect();
            covers.sort_unstable();
            covers.dedup();
            for c in covers {
                out.entry((w, c)).or_default().push((i, gap));
            }
        }
        out
    }

    fn evaluate(
        &self,
        market: &Market,
        (winner, cover): (u32, u32),
        covers: Vec<(usize, f64)>,
    ) -> Option<Candidate> {
        let meetings: Vec<usize> = market
            .joint(&[winner, cover])
            .into_iter()
            .filter(|&t| {
                market
                    .tender(t)
                    .is_some_and(|t| t.single_winner().is_some())
            })
            .collect();
        if meetings.len() < self.min_meetings
            || (covers.len() as f64) < self.min_cover_share * meetings.len() as f64
        {
            return None;
        }
        let ps: Vec<f64> = meetings
            .iter()
            .filter_map(|&t| market.tender(t))
            .filter(|t| t.single_winner().is_some_and(|(w, _)| w == winner))
            .map(|t| 1.0 / (t.field.max(2) - 1) as f64)
            .collect();
        let p = upper_tail(&ps, covers.len());
        Some(Candidate {
            winner,
            cover,
            won: ps.len(),
            expected: ps.iter().sum(),
            meetings,
            covers,
            p,
        })
    }

    fn alert(&self, market: &Market, c: &Candidate, p_adj: f64) -> Alert {
        let (w, cv) = (market.name(c.winner), market.name(c.cover));
        let n = c.meetings.len();
        let k = c.covers.len();
        let share = k as f64 / n.max(1) as f64;
        let mean_gap = c.covers.iter().map(|x| x.1).sum::<f64>() / k.max(1) as f64;
        let max_gap = c.covers.iter().map(|x| x.1).fold(0.0, f64::max);
        let sig = strength(p_adj, 6.0);
        let (tenders, latest) = market.names_and_latest(&c.meetings);
        let figures = BTreeMap::from([
            ("meetings".to_owned(), n as f64),
            ("winner_wins".to_owned(), c.won as f64),
            ("covers".to_owned(), k as f64),
            ("cover_share".to_owned(), share),
            ("mean_gap".to_owned(), mean_gap),
            ("max_gap".to_owned(), max_gap),
            ("expected_covers".to_owned(), c.expected),
            ("p_value".to_owned(), c.p),
            ("p_adjusted".to_owned(), p_adj),
        ]);
        let facts = BTreeMap::from([
            ("winner".to_owned(), w.to_owned()),
            ("cover".to_owned(), cv.to_owned()),
        ]);
        let score = Score {
            value: 0.4 + 0.25 * share + 0.25 * sig,
            method: "0.4 + 0.25·cover share + 0.25·min(1, −log10(p_adj)/6); p: Poisson-binomial tail of runner-up places behind the winner, 1/(n−1) per tender by chance".into(),
            parts: vec![
                ScorePart { name: "cover_share".into(), value: share, weight: 0.25 * share },
                ScorePart { name: "p_adjusted".into(), value: p_adj, weight: 0.25 * sig },
            ],
        };
        let summary = format!(
            "{cv} met {w} in {n} tenders and placed just above it in {k} (mean gap {:.2}%; chance expects {:.1}, p = {:.2e})",
            mean_gap * 100.0,
            c.expected,
            p_adj
        );
        Alert::new(
            latest,
            Family::History,
            Self::NAME,
            Some(grounds::art39()),
            [w.to_owned(), cv.to_owned()],
            score,
            summary,
            Evidence {
                figures,
                facts,
                tenders,
                ..Evidence::default()
            },
        )
    }
}

impl HistoryDetector for CoverBidding {
    const NAME: &'static str = "cover_bidding";

    fn detect(&self, market: &Market) -> Vec<Alert> {
        if !self.enabled {
            return Vec::new();
        }
        let min_covers = (self.min_cover_share * self.min_meetings as f64)
            .ceil()
            .max(1.0) as usize;
        let mut events: Vec<_> = self
            .cover_events(market)
            .into_iter()
            .filter(|(_, v)| v.len() >= min_covers)
            .collect();
        events.sort_unstable_by_key(|(k, _)| *k);
        let candidates: Vec<Candidate> = events
            .into_par_iter()
            .filter_map(|(k, v)| self.evaluate(market, k, v))
            .collect();
        // Every ordered pair that met often enough is a hypothesis (upper bound: the meetings counted
        // here include tenders without a single known winner).
        let tests = 2 * market
            .pairs()
            .iter()
            .filter(|(_, n)| *n as usize >= self.min_meetings)
            .count();
        let p: Vec<f64> = candidates.iter().map(|c| c.p).collect();
        let p_adj = adjust(&p, tests, self.correction);
        let mut out: Vec<Alert> = candidates
            .iter()
            .zip(p_adj)
            .filter(|(_, pa)| *pa <= self.alpha)
            .map(|(c, pa)| self.alert(market, c, pa))
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

    /// W wins 8 tenders of 8 bidders; C always sits 1% above; the others are spread out.
    fn covered(n: usize) -> Vec<TenderBids> {
        (0..n)
            .map(|i| {
                let mut bids = vec![("W".to_owned(), 100.0), ("C".to_owned(), 101.0)];
                for k in 0..6 {
                    bids.push((format!("X{}", (i + k) % 9), 104.0 + k as f64));
                }
                let refs: Vec<(&str, f64)> = bids.iter().map(|(b, p)| (b.as_str(), *p)).collect();
                lowest_wins(&format!("T{i}"), &refs)
            })
            .collect()
    }

    #[test]
    fn a_persistent_cover_is_found() {
        let alerts = CoverBidding::default().detect(&Market::new(&covered(8)));
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.bidders, ["C", "W"]);
        assert_eq!(a.evidence.facts["cover"], "C");
        assert_eq!(a.evidence.facts["winner"], "W");
        assert_eq!(a.evidence.figures["covers"], 8.0);
        assert_eq!(a.evidence.figures["cover_share"], 1.0);
        assert!((a.evidence.figures["mean_gap"] - 0.01).abs() < 1e-12);
        assert!((a.evidence.figures["expected_covers"] - 8.0 / 7.0).abs() < 1e-12);
        assert_eq!(a.tender, "T7");
        assert_eq!(a.evidence.tenders.len(), 8);
        assert!(a.score.value > 0.6 && a.score.value <= 0.9);
    }

    #[test]
    fn a_wide_gap_or_few_meetings_is_not_cover() {
        let mut t = covered(8);
        for tender in &mut t {
            tender.bids[1].price = 120.0; // C far above, not runner-up
        }
        assert!(CoverBidding::default().detect(&Market::new(&t)).is_empty());
        assert!(CoverBidding::default()
            .detect(&Market::new(&covered(3)))
            .is_empty());
    }

    #[test]
    fn two_bidder_tenders_prove_nothing() {
        let t: Vec<TenderBids> = (0..10)
            .map(|i| lowest_wins(&format!("T{i}"), &[("W", 100.0), ("C", 101.0)]))
            .collect();
        assert!(CoverBidding::default().detect(&Market::new(&t)).is_empty());
    }

    #[test]
    fn identical_bids_and_missing_winners_do_not_panic() {
        let mut t: Vec<TenderBids> = (0..6)
            .map(|i| {
                lowest_wins(
                    &format!("T{i}"),
                    &[("W", 100.0), ("C", 100.0), ("D", 100.0)],
                )
            })
            .collect();
        t.push(TenderBids::new("E", None, vec![]));
        for a in CoverBidding::default().detect(&Market::new(&t)) {
            assert!(a.evidence.figures.values().all(|v| v.is_finite()));
        }
        t.iter_mut()
            .for_each(|t| t.bids.iter_mut().for_each(|b| b.winner = false));
        assert!(CoverBidding::default().detect(&Market::new(&t)).is_empty());
    }
}
