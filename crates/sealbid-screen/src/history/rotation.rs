//! Bid rotation: a stable group of bidders that meet again and again and take turns winning.
//!
//! Candidates: two bidders are linked when they bid together in at least `min_tenders_together`
//! tenders with a known award and each of them won at least `min_wins_each` of those. Every maximal
//! clique of that graph is a candidate group; a clique whose members do not all meet often enough, or
//! in which a member never wins when all meet, is shrunk (dropping the member that costs most joint
//! tenders, or the one that won least) until it qualifies or falls below `min_members`.
//!
//! Test, over the tenders where every member bid ("joint tenders"): under chance each tender's winner
//! is any of its `n` competitors with probability `1/n`, so the group wins tender `t` with probability
//! `k_t / n_t` (`k_t` members present). The number of group wins is Poisson-binomial; its upper tail
//! is the p-value, corrected over the candidate groups tested. A group is reported when
//! - the corrected p-value is at most `alpha` (the group wins far more than its share),
//! - the group won at least `min_group_win_share` of the joint tenders (they decide who wins), and
//! - the wins are spread evenly: normalised Shannon entropy of the members' wins (1 = equal shares)
//!   is at least `min_evenness`; every member won at least `min_wins_each`.
//!
//! Groups contained in a larger reported group are not reported again.
//!
//! Score: `0.3 + 0.2·evenness + 0.2·group_win_share + 0.2·strength`, with `strength = −log10(p_adj)/6`
//! capped at 1 — at most 0.9: a statistical pattern, strong but not a deemed case.
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::market::Market;
use super::stats::{adjust, evenness, strength, upper_tail, Correction};
use super::{sort_alerts, HistoryDetector};
use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BidRotation {
    pub enabled: bool,
    /// Tenders with a known award in which every member bid.
    pub min_tenders_together: usize,
    pub min_members: usize,
    /// Larger cliques are shrunk to this size.
    pub max_members: usize,
    /// Wins each member must have in the joint tenders.
    pub min_wins_each: usize,
    /// Share of the joint tenders the group must have won.
    pub min_group_win_share: f64,
    /// Normalised entropy of the members' wins.
    pub min_evenness: f64,
    pub alpha: f64,
    pub correction: Correction,
    /// At most this many maximal cliques are examined (a guard on dense markets).
    pub max_candidates: usize,
}

impl Default for BidRotation {
    fn default() -> Self {
        Self {
            enabled: true,
            min_tenders_together: 4,
            min_members: 2,
            max_members: 8,
            min_wins_each: 1,
            min_group_win_share: 0.5,
            min_evenness: 0.75,
            alpha: 0.05,
            correction: Correction::Bonferroni,
            max_candidates: 20_000,
        }
    }
}

/// Joint tenders of `group` whose award is known.
fn award_joint(market: &Market, group: &[u32]) -> Vec<usize> {
    let mut j = market.joint(group);
    j.retain(|&t| market.tender(t).is_some_and(|t| t.award_known()));
    j
}

/// Wins of each member over the tenders `tenders`.
fn member_wins(market: &Market, group: &[u32], tenders: &[usize]) -> Vec<usize> {
    group
        .iter()
        .map(|m| {
            tenders
                .iter()
                .filter_map(|&t| market.tender(t))
                .filter(|t| t.winners.binary_search(m).is_ok())
                .count()
        })
        .collect()
}

/// Maximal cliques (Bron–Kerbosch with pivoting), at most `cap` of them.
fn maximal_cliques(adj: &BTreeMap<u32, BTreeSet<u32>>, cap: usize) -> Vec<Vec<u32>> {
    fn recurse(
        adj: &BTreeMap<u32, BTreeSet<u32>>,
        r: &mut Vec<u32>,
        mut p: BTreeSet<u32>,
        mut x: BTreeSet<u32>,
        out: &mut Vec<Vec<u32>>,
        cap: usize,
    ) {
        if out.len() >= cap {
            return;
        }
        if p.is_empty() && x.is_empty() {
            out.push(r.clone());
            return;
        }
        let empty = BTreeSet::new();
        let nb = |v: &u32| adj.get(v).unwrap_or(&empty);
        let pivot = p
            .iter()
            .chain(x.iter())
            .max_by_key(|u| nb(u).intersection(&p).count())
            .copied();
        let candidates: Vec<u32> = match pivot {
            Some(u) => p.difference(nb(&u)).copied().collect(),
            None => p.iter().copied().collect(),
        };
        for v in candidates {
            let n = nb(&v);
            r.push(v);
            recurse(
                adj,
                r,
                p.intersection(n).copied().collect(),
                x.intersection(n).copied().collect(),
                out,
                cap,
            );
            r.pop();
            p.remove(&v);
            x.insert(v);
        }
    }
    let mut out = Vec::new();
    let p: BTreeSet<u32> = adj.keys().copied().collect();
    recurse(adj, &mut Vec::new(), p, BTreeSet::new(), &mut out, cap);
    out
}

struct Group {
    members: Vec<u32>,
    tenders: Vec<usize>,
    wins: Vec<usize>,
    group_wins: usize,
    expected: f64,
    p: f64,
}

impl BidRotation {
    fn min_members(&self) -> usize {
        self.min_members.max(2)
    }

    /// Shrinks `g` until every member meets the others in enough tenders and wins some of them.
    fn reduce(&self, market: &Market, mut g: Vec<u32>) -> Option<(Vec<u32>, Vec<usize>)> {
        loop {
            if g.len() < self.min_members() {
                return None;
            }
            let joint = award_joint(market, &g);
            if g.len() > self.max_members.max(self.min_members())
                || joint.len() < self.min_tenders_together
            {
                let drop = (0..g.len()).max_by_key(|&i| {
                    let mut h = g.clone();
                    let gone = h.remove(i);
                    (
                        award_joint(market, &h).len(),
                        Reverse(market.wins(gone)),
                        gone,
                    )
                })?;
                g.remove(drop);
                continue;
            }
            let wins = member_wins(market, &g, &joint);
            let weakest = wins
                .iter()
                .enumerate()
                .filter(|(_, &w)| w < self.min_wins_each)
                .min_by_key(|&(i, &w)| (w, Reverse(g.get(i).copied())))
                .map(|(i, _)| i);
            match weakest {
                Some(i) => {
                    g.remove(i);
                }
                None => return Some((g, joint)),
            }
        }
    }

    fn evaluate(&self, market: &Market, members: Vec<u32>, tenders: Vec<usize>) -> Group {
        let wins = member_wins(market, &members, &tenders);
        let group_wins = wins.iter().sum();
        let ps: Vec<f64> = tenders
            .iter()
            .filter_map(|&t| market.tender(t))
            .map(|t| members.len() as f64 / t.field.max(1) as f64)
            .collect();
        let expected = ps.iter().map(|p| p.min(1.0)).sum();
        let p = upper_tail(&ps, group_wins);
        Group {
            members,
            tenders,
            wins,
            group_wins,
            expected,
            p,
        }
    }

    fn alert(&self, market: &Market, g: &Group, p_adj: f64) -> Alert {
        let n = g.tenders.len();
        let share = g.group_wins as f64 / n.max(1) as f64;
        let even = evenness(&g.wins);
        let sig = strength(p_adj, 6.0);
        let names: Vec<String> = g
            .members
            .iter()
            .map(|&m| market.name(m).to_owned())
            .collect();
        let (tenders, latest) = market.names_and_latest(&g.tenders);
        let mut figures = BTreeMap::from([
            ("members".to_owned(), g.members.len() as f64),
            ("tenders_together".to_owned(), n as f64),
            ("group_wins".to_owned(), g.group_wins as f64),
            ("group_win_share".to_owned(), share),
            ("expected_group_wins".to_owned(), g.expected),
            ("evenness".to_owned(), even),
            ("p_value".to_owned(), g.p),
            ("p_adjusted".to_owned(), p_adj),
        ]);
        for (name, w) in names.iter().zip(&g.wins) {
            figures.insert(format!("wins:{name}"), *w as f64);
        }
        let score = Score {
            value: 0.3 + 0.2 * even + 0.2 * share + 0.2 * sig,
            method: "0.3 + 0.2·evenness of the members' wins + 0.2·group win share + 0.2·min(1, −log10(p_adj)/6); p: Poisson-binomial tail of group wins with a uniformly random winner per tender".into(),
            parts: vec![
                ScorePart { name: "evenness".into(), value: even, weight: 0.2 * even },
                ScorePart { name: "group_win_share".into(), value: share, weight: 0.2 * share },
                ScorePart { name: "p_adjusted".into(), value: p_adj, weight: 0.2 * sig },
            ],
        };
        let turns = names
            .iter()
            .zip(&g.wins)
            .map(|(n, w)| format!("{n} {w}"))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = format!(
            "{} bidders met in {n} tenders and won {} of them in turn ({turns}); chance expects {:.1} (p = {:.2e})",
            g.members.len(),
            g.group_wins,
            g.expected,
            p_adj
        );
        Alert::new(
            latest,
            Family::History,
            Self::NAME,
            Some(grounds::art39()),
            names,
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

impl HistoryDetector for BidRotation {
    const NAME: &'static str = "bid_rotation";

    fn detect(&self, market: &Market) -> Vec<Alert> {
        if !self.enabled {
            return Vec::new();
        }
        let min_wins = self.min_wins_each.max(1);
        let pairs: Vec<(u32, u32)> = market
            .pairs()
            .into_iter()
            .filter(|&((a, b), n)| {
                n as usize >= self.min_tenders_together
                    && market.wins(a) >= min_wins
                    && market.wins(b) >= min_wins
            })
            .map(|(k, _)| k)
            .collect();
        let edges: Vec<(u32, u32)> = pairs
            .into_par_iter()
            .filter(|&(a, b)| {
                let joint = award_joint(market, &[a, b]);
                joint.len() >= self.min_tenders_together
                    && member_wins(market, &[a, b], &joint)
                        .iter()
                        .all(|&w| w >= min_wins)
            })
            .collect();
        let mut adj: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        for &(a, b) in &edges {
            adj.entry(a).or_default().insert(b);
            adj.entry(b).or_default().insert(a);
        }
        let cliques = maximal_cliques(&adj, self.max_candidates.max(1));
        let groups: BTreeSet<(Vec<u32>, Vec<usize>)> = cliques
            .into_par_iter()
            .filter_map(|mut c| {
                c.sort_unstable();
                self.reduce(market, c)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        let evaluated: Vec<Group> = groups
            .into_par_iter()
            .map(|(m, t)| self.evaluate(market, m, t))
            .collect();
        let p: Vec<f64> = evaluated.iter().map(|g| g.p).collect();
        let p_adj = adjust(&p, evaluated.len(), self.correction);
        let flagged: Vec<(&Group, f64)> = evaluated
            .iter()
            .zip(p_adj)
            .filter(|(g, pa)| {
                let share = g.group_wins as f64 / g.tenders.len().max(1) as f64;
                *pa <= self.alpha
                    && share >= self.min_group_win_share
                    && evenness(&g.wins) >= self.min_evenness
            })
            .collect();
        let mut out: Vec<Alert> = flagged
            .iter()
            .filter(|(g, _)| {
                !flagged.iter().any(|(h, _)| {
                    h.members.len() > g.members.len()
                        && g.members.iter().all(|m| h.members.binary_search(m).is_ok())
                })
            })
            .map(|(g, pa)| self.alert(market, g, *pa))
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

    /// A, B, C take turns winning 12 tenders with 6 competitors each; outsiders come and go.
    fn rotating_market() -> Vec<TenderBids> {
        let ring = ["A", "B", "C"];
        (0..12)
            .map(|i| {
                let w = ring[i % 3];
                let mut bids: Vec<(String, f64)> = ring
                    .iter()
                    .map(|&b| (b.to_owned(), if b == w { 100.0 } else { 103.0 + i as f64 }))
                    .collect();
                for k in 0..3 {
                    bids.push((format!("X{}", i * 3 + k), 110.0 + k as f64));
                }
                let refs: Vec<(&str, f64)> = bids.iter().map(|(b, p)| (b.as_str(), *p)).collect();
                lowest_wins(&format!("T{i}"), &refs)
            })
            .collect()
    }

    #[test]
    fn a_ring_taking_turns_is_found() {
        let m = Market::new(&rotating_market());
        let alerts = BidRotation::default().detect(&m);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.bidders, ["A", "B", "C"]);
        assert_eq!(a.indicator, "bid_rotation");
        assert_eq!(a.tender, "T11");
        assert_eq!(a.evidence.tenders.len(), 12);
        assert_eq!(a.evidence.figures["group_wins"], 12.0);
        assert!((a.evidence.figures["evenness"] - 1.0).abs() < 1e-12);
        assert_eq!(a.evidence.figures["wins:B"], 4.0);
        assert!((a.evidence.figures["expected_group_wins"] - 6.0).abs() < 1e-9);
        assert!(a.evidence.figures["p_adjusted"] < 1e-3);
        assert!(a.score.value > 0.7 && a.score.value <= 0.9);
        assert_eq!(a.legal_ground.as_ref().unwrap().cite, "条例 39");
    }

    #[test]
    fn one_dominant_winner_is_not_rotation() {
        let tenders: Vec<TenderBids> = (0..12)
            .map(|i| {
                let b_price = if i == 0 { 99.0 } else { 105.0 };
                lowest_wins(
                    &format!("T{i}"),
                    &[("A", 100.0), ("B", b_price), ("C", 106.0), ("D", 107.0)],
                )
            })
            .collect();
        // A wins 11, B 1: uneven.
        assert!(BidRotation::default()
            .detect(&Market::new(&tenders))
            .is_empty());
    }

    #[test]
    fn two_firm_markets_are_chance() {
        // A and B alone alternate: with two competitors the pair always wins; p = 1.
        let tenders: Vec<TenderBids> = (0..10)
            .map(|i| {
                let (a, b) = if i % 2 == 0 { (1.0, 2.0) } else { (2.0, 1.0) };
                lowest_wins(&format!("T{i}"), &[("A", a), ("B", b)])
            })
            .collect();
        assert!(BidRotation::default()
            .detect(&Market::new(&tenders))
            .is_empty());
    }

    #[test]
    fn too_few_meetings_or_disabled() {
        let mut t = rotating_market();
        t.truncate(3);
        assert!(BidRotation::default().detect(&Market::new(&t)).is_empty());
        let off = BidRotation {
            enabled: false,
            ..Default::default()
        };
        assert!(off.detect(&Market::new(&rotating_market())).is_empty());
    }

    #[test]
    fn cliques_are_maximal() {
        let mut adj: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
        for (a, b) in [(1, 2), (2, 3), (1, 3), (3, 4)] {
            adj.entry(a).or_default().insert(b);
            adj.entry(b).or_default().insert(a);
        }
        let mut c = maximal_cliques(&adj, 100);
        c.iter_mut().for_each(|c| c.sort());
        c.sort();
        assert_eq!(c, vec![vec![1, 2, 3], vec![3, 4]]);
        assert_eq!(maximal_cliques(&adj, 1).len(), 1);
        assert!(maximal_cliques(&BTreeMap::new(), 10).len() <= 1);
    }
}
