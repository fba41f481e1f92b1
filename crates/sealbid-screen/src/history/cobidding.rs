//! Co-bidding pairs: two bidders that enter the same tenders far more often than their participation
//! explains — bidders that arrange who enters, or that move as one.
//!
//! Chance model: each bidder enters each tender of its active span (from the first to the last tender
//! it entered, in input order — the market's time order) independently, with a probability that grows
//! with the tender's field size (big tenders draw everyone) and is calibrated to the bidder's
//! participation: `q_b(t) = min(1, λ_b · n_t)` inside the span, 0 outside, with `λ_b` chosen so that
//! `Σ_t q_b(t)` equals the number of tenders `b` entered. Two firms active in the same months meet
//! often by necessity; the span keeps that from being read as collusion. The number of tenders two bidders share is then Poisson-binomial with probabilities
//! `q_a(t) · q_b(t)`; its upper tail at the observed count is the p-value (this is the binomial tail
//! of the textbook test, made aware of field sizes: without that, every pair of firms that like large
//! tenders would look linked). P-values are corrected (Benjamini–Hochberg by default) over every pair of
//! bidders that each entered at least `min_together` tenders; pairs that fail the effect-size
//! conditions count with p = 1, which is conservative.
//!
//! A pair is reported when they bid together in at least `min_together` tenders, the observed count is
//! at least `min_lift` times the expected count, the less active of the two entered at least
//! `min_follow_share` of its tenders with the other (it rarely bids without it), and the corrected
//! p-value is at most `alpha`. The follow share matters in real markets: firms active in the same
//! years and regions meet far more often than any model without time and place predicts, and the
//! lift alone flagged most pairs of a 278-tender market; a firm that almost never bids without
//! another is the pattern worth a look. For the same reason a pair is not reported when more than
//! `max_companions` other bidders were also present in `min_follow_share` of its joint tenders: that
//! is a crowd (a batch of tenders drawing one pool), not a pair.
//!
//! This is grounds for a look, not a finding: firms with the same specialty and region meet often.
//! Score: `0.15 + 0.15·min(1, −log10(p_adj)/6) + 0.15·min(1, log2(lift)/3)` — at most 0.45.
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::market::Market;
use super::stats::{adjust, clamp01, strength, upper_tail, Correction};
use super::{sort_alerts, HistoryDetector};
use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoBidding {
    pub enabled: bool,
    /// Tenders the pair bid in together.
    pub min_together: usize,
    /// Observed over expected co-bids.
    pub min_lift: f64,
    /// Share of the less active bidder's tenders that the other one also entered.
    pub min_follow_share: f64,
    /// At most this many other bidders may have been present in `min_follow_share` of the pair's
    /// joint tenders: a pair inside a crowd that always bids together (a batch of tenders drawing the
    /// same pool) is not a pair that moves as one.
    pub max_companions: usize,
    pub alpha: f64,
    pub correction: Correction,
}

impl Default for CoBidding {
    fn default() -> Self {
        Self {
            enabled: true,
            min_together: 4,
            min_lift: 2.0,
            min_follow_share: 0.75,
            max_companions: 3,
            alpha: 0.05,
            correction: Correction::BenjaminiHochberg,
        }
    }
}

/// Per-tender entry probabilities `min(1, λ·n_t)` summing to `entered` (all 1 when it entered every
/// tender, all 0 when none). `λ` by bisection: the sum is continuous and non-decreasing in `λ`.
pub(crate) fn entry_probabilities(fields: &[f64], entered: usize) -> Vec<f64> {
    let target = entered as f64;
    if entered == 0 || fields.is_empty() {
        return vec![0.0; fields.len()];
    }
    if entered >= fields.len() {
        return vec![1.0; fields.len()];
    }
    let sum = |l: f64| fields.iter().map(|&n| (l * n).min(1.0)).sum::<f64>();
    let smallest = fields
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let (mut lo, mut hi) = (0.0_f64, 1.0 / smallest);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if sum(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    fields.iter().map(|&n| clamp01(hi * n)).collect()
}

struct Candidate {
    a: u32,
    b: u32,
    together: usize,
    expected: f64,
    p: f64,
}

impl CoBidding {
    /// Other bidders present in at least `min_follow_share` of the tenders where `a` and `b` met.
    fn companions(&self, market: &Market, a: u32, b: u32) -> usize {
        let joint = market.joint(&[a, b]);
        let mut seen: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
        for t in joint.iter().filter_map(|&t| market.tender(t)) {
            for &c in t.bidders.iter().filter(|&&c| c != a && c != b) {
                *seen.entry(c).or_insert(0) += 1;
            }
        }
        let need = self.min_follow_share * joint.len() as f64;
        seen.values().filter(|&&n| n as f64 >= need).count()
    }

    fn alert(&self, market: &Market, c: &Candidate, p_adj: f64) -> Alert {
        let (a, b) = (market.name(c.a), market.name(c.b));
        let lift = c.together as f64 / c.expected.max(f64::MIN_POSITIVE);
        let sig = strength(p_adj, 6.0);
        let lift_part = clamp01(lift.log2() / 3.0);
        let joint = market.joint(&[c.a, c.b]);
        let (tenders, latest) = market.names_and_latest(&joint);
        let (na, nb) = (
            market.participation(c.a).len(),
            market.participation(c.b).len(),
        );
        let total = market.tenders().len();
        let figures = BTreeMap::from([
            ("together".to_owned(), c.together as f64),
            ("expected".to_owned(), c.expected),
            ("lift".to_owned(), lift),
            (
                "expected_ignoring_field_size".to_owned(),
                na as f64 * nb as f64 / total.max(1) as f64,
            ),
            (format!("tenders:{a}"), na as f64),
            (format!("tenders:{b}"), nb as f64),
            ("market_tenders".to_owned(), total as f64),
            ("p_value".to_owned(), c.p),
            ("p_adjusted".to_owned(), p_adj),
        ]);
        let score = Score {
            value: 0.15 + 0.15 * sig + 0.15 * lift_part,
            method: "0.15 + 0.15·min(1, −log10(p_adj)/6) + 0.15·min(1, log2(observed/expected)/3); p: Poisson-binomial tail of shared tenders with field-size-aware entry probabilities".into(),
            parts: vec![
                ScorePart { name: "p_adjusted".into(), value: p_adj, weight: 0.15 * sig },
                ScorePart { name: "lift".into(), value: lift, weight: 0.15 * lift_part },
            ],
        };
        let summary = format!(
            "{a} and {b} bid together in {} tenders where {:.1} were expected ({:.1}×, p = {:.2e}); {a} entered {na}, {b} {nb} of {total}",
            c.together, c.expected, lift, p_adj
        );
        Alert::new(
            latest,
            Family::History,
            Self::NAME,
            Some(grounds::art39()),
            [a.to_owned(), b.to_owned()],
            score,
            summary,
            Evidence {
                figures,
                tenders,
                ..Evidence::default()
            },
        )
    }
}

impl HistoryDetector for CoBidding {
    const NAME: &'static str = "co_bidding";

    fn detect(&self, market: &Market) -> Vec<Alert> {
        if !self.enabled {
            return Vec::new();
        }
        let fields: Vec<f64> = market.tenders().iter().map(|t| t.field as f64).collect();
        let q: Vec<Vec<f64>> = (0..market.bidder_count() as u32)
            .into_par_iter()
            .map(|b| {
                let entered = market.participation(b);
                let mut q = vec![0.0; fields.len()];
                if let (Some(&first), Some(&last)) = (entered.first(), entered.last()) {
                    if let (Some(span), Some(out)) =
                        (fields.get(first..=last), q.get_mut(first..=last))
                    {
                        out.copy_from_slice(&entry_probabilities(span, entered.len()));
                    }
                }
                q
            })
            .collect();
        let eligible = (0..market.bidder_count() as u32)
            .filter(|&b| market.participation(b).len() >= self.min_together)
            .count();
        let tests = eligible * eligible.saturating_sub(1) / 2;
        let candidates: Vec<Candidate> = market
            .pairs()
            .into_par_iter()
            .filter(|&(_, n)| n as usize >= self.min_together)
            .filter_map(|((a, b), n)| {
                let (qa, qb) = (q.get(a as usize)?, q.get(b as usize)?);
                let ps: Vec<f64> = qa.iter().zip(qb).map(|(x, y)| x * y).collect();
                let expected: f64 = ps.iter().sum();
                let together = n as usize;
                let fewer = market
                    .participation(a)
                    .len()
                    .min(market.participation(b).len());
                if (together as f64) < self.min_lift * expected
                    || (together as f64) < self.min_follow_share * fewer as f64
                {
                    return None;
                }
                if self.companions(market, a, b) > self.max_companions {
                    return None;
                }
                Some(Candidate {
                    a,
                    b,
                    together,
                    expected,
                    p: upper_tail(&ps, together),
                })
            })
            .collect();
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

    /// 100 tenders of 4 bidders drawn from 20 firms in a fixed rotation; P and Q enter the same 20
    /// and no other.
    fn market_with_pair() -> Vec<TenderBids> {
        (0..100)
            .map(|i| {
                let mut names: Vec<String> = (0..4)
                    .map(|k| format!("F{}", (i * 3 + k * 7) % 20))
                    .collect();
                names.sort();
                names.dedup();
                if i % 5 == 0 {
                    names.push("P".into());
                    names.push("Q".into());
                }
                let bids: Vec<(&str, f64)> = names
                    .iter()
                    .enumerate()
                    .map(|(k, n)| (n.as_str(), 100.0 + k as f64))
                    .collect();
                lowest_wins(&format!("T{i}"), &bids)
            })
            .collect()
    }

    #[test]
    fn entry_probabilities_are_calibrated() {
        let f = [2.0, 4.0, 10.0, 20.0];
        let q = entry_probabilities(&f, 2);
        assert!((q.iter().sum::<f64>() - 2.0).abs() < 1e-9);
        assert!(q.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(q[3], 1.0, "a 20-bidder tender saturates");
        assert_eq!(entry_probabilities(&f, 0), vec![0.0; 4]);
        assert_eq!(entry_probabilities(&f, 4), vec![1.0; 4]);
        assert_eq!(entry_probabilities(&f, 9), vec![1.0; 4]);
        assert!(entry_probabilities(&[], 3).is_empty());
    }

    #[test]
    fn a_pair_that_moves_as_one_is_found() {
        let m = Market::new(&market_with_pair());
        let alerts = CoBidding::default().detect(&m);
        let pq: Vec<_> = alerts.iter().filter(|a| a.bidders == ["P", "Q"]).collect();
        assert_eq!(pq.len(), 1, "{alerts:#?}");
        let a = pq[0];
        assert_eq!(a.evidence.figures["together"], 20.0);
        assert!(a.evidence.figures["expected"] < 6.0);
        assert!(a.evidence.figures["lift"] >= 2.0);
        assert!(a.evidence.figures["p_adjusted"] < 0.05);
        assert_eq!(a.evidence.tenders.len(), 20);
        assert_eq!(a.tender, "T95");
        assert!(a.score.value <= 0.45);
        // Inside a crowd that always comes along, the same pair is not reported.
        let crowd = CoBidding {
            max_companions: 0,
            ..Default::default()
        };
        assert_eq!(crowd.detect(&m).len(), alerts.len(), "no companions here");
        let mut t = market_with_pair();
        for (i, tender) in t.iter_mut().enumerate() {
            if i % 5 == 0 {
                for k in 0..4 {
                    tender.bids.push(crate::input::Bid {
                        bidder: Some(format!("C{k}")),
                        price: 200.0,
                        winner: false,
                    });
                }
            }
        }
        let alerts = CoBidding::default().detect(&Market::new(&t));
        assert!(
            alerts.iter().all(|a| a.bidders != ["P", "Q"]),
            "{alerts:#?}"
        );
    }

    #[test]
    fn everyone_everywhere_is_not_co_bidding() {
        let t: Vec<TenderBids> = (0..20)
            .map(|i| lowest_wins(&format!("T{i}"), &[("A", 1.0), ("B", 2.0), ("C", 3.0)]))
            .collect();
        assert!(CoBidding::default().detect(&Market::new(&t)).is_empty());
        assert!(CoBidding::default().detect(&Market::new(&[])).is_empty());
    }
}
