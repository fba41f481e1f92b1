//! The market seen across tenders: who bid where, who won, who met whom. Built once from the tenders
//! and shared by every history detector.
use std::collections::HashMap;

use crate::input::TenderBids;

/// One bid of a market tender (a bid without a bidder id keeps `bidder: None`: it still competes).
#[derive(Debug, Clone, PartialEq)]
pub struct MarketBid {
    pub bidder: Option<u32>,
    pub price: f64,
    pub winner: bool,
}

/// One tender that has at least one bidder id.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTender {
    /// The tender's id as given.
    pub name: String,
    /// Position in the input slice (the order that decides which tender is "the latest").
    pub position: usize,
    /// Number of competitors: distinct bidder ids plus bids without an id.
    pub field: usize,
    /// Distinct bidder ids, ascending.
    pub bidders: Vec<u32>,
    /// Distinct bidder ids of the winning bids, ascending (empty when the winner has no id).
    pub winners: Vec<u32>,
    /// Number of bids flagged as winning (with or without id); 0 means the award is unknown.
    pub winning_bids: usize,
    pub bids: Vec<MarketBid>,
}

impl MarketTender {
    /// Whether the award is known (some bid is flagged as the winner).
    pub fn award_known(&self) -> bool {
        self.winning_bids > 0
    }

    /// The single winner and its bid price, where exactly one bid won and it has an id and a usable price.
    pub fn single_winner(&self) -> Option<(u32, f64)> {
        if self.winning_bids != 1 {
            return None;
        }
        self.bids
            .iter()
            .find(|b| b.winner)
            .and_then(|b| Some((b.bidder?, b.price)))
            .filter(|&(_, p)| usable(p))
    }
}

/// A price the price-order reasoning can use.
pub(crate) fn usable(price: f64) -> bool {
    price.is_finite() && price > 0.0
}

/// Participation, wins and co-occurrence over the tenders that carry bidder ids.
#[derive(Debug, Clone, Default)]
pub struct Market {
    bidders: Vec<String>,
    tenders: Vec<MarketTender>,
    /// Bidder → market-tender indices, ascending.
    participation: Vec<Vec<usize>>,
    /// Bidder → number of tenders won.
    wins: Vec<usize>,
    /// `(a, b)` with `a < b` → number of tenders where both bid.
    together: HashMap<(u32, u32), u32>,
}

impl Market {
    /// Builds the view. Tenders without any bidder id are skipped; empty ids count as missing.
    pub fn new(input: &[TenderBids]) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut m = Market::default();
        for (position, t) in input.iter().enumerate() {
            if !t
                .bids
                .iter()
                .any(|b| b.bidder.as_deref().is_some_and(|s| !s.trim().is_empty()))
            {
                continue;
            }
            let mut bids = Vec::with_capacity(t.bids.len());
            let mut anonymous = 0usize;
            for b in &t.bids {
                let bidder = match b.bidder.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(name) => Some(*ids.entry(name.to_owned()).or_insert_with(|| {
                        m.bidders.push(name.to_owned());
                        (m.bidders.len() - 1) as u32
                    })),
                    None => {
                        anonymous += 1;
                        None
                    }
                };
                bids.push(MarketBid {
                    bidder,
                    price: b.price,
                    winner: b.winner,
                });
            }
            let mut bidders: Vec<u32> = bids.iter().filter_map(|b| b.bidder).collect();
            bidders.sort_unstable();
            bidders.dedup();
            let mut winners: Vec<u32> = bids
                .iter()
                .filter(|b| b.winner)
                .filter_map(|b| b.bidder)
                .collect();
            winners.sort_unstable();
            winners.dedup();
            m.tenders.push(MarketTender {
                name: t.tender.clone(),
                position,
                field: bidders.len() + anonymous,
                winning_bids: bids.iter().filter(|b| b.winner).count(),
                bidders,
                winners,
                bids,
            });
        }
        m.participation = vec![Vec::new(); m.bidders.len()];
        m.wins = vec![0; m.bidders.len()];
        for (i, t) in m.tenders.iter().enumerate() {
            for &b in &t.bidders {
                if let Some(p) = m.participation.get_mut(b as usize) {
                    p.push(i);
                }
            }
            for &w in &t.winners {
                if let Some(c) = m.wins.get_mut(w as usize) {
                    *c += 1;
                }
            }
            for (k, &a) in t.bidders.iter().enumerate() {
                for &b in t.bidders.iter().skip(k + 1) {
                    *m.together.entry((a, b)).or_insert(0) += 1;
                }
            }
        }
        m
    }

    pub fn bidder_count(&self) -> usize {
        self.bidders.len()
    }

    /// The id as given for an internal bidder number.
    pub fn name(&self, bidder: u32) -> &str {
        self.bidders.get(bidder as usize).map_or("", String::as_str)
    }

    pub fn tenders(&self) -> &[MarketTender] {
        &self.tenders
    }

    pub fn tender(&self, index: usize) -> Option<&MarketTender> {
        self.tenders.get(index)
    }

    /// Market-tender indices where `bidder` bid, ascending.
    pub fn participation(&self, bidder: u32) -> &[usize] {
        self.participation
            .get(bidder as usize)
            .map_or(&[], Vec::as_slice)
    }

    pub fn wins(&self, bidder: u32) -> usize {
        self.wins.get(bidder as usize).copied().unwrap_or(0)
    }

    /// Number of tenders where both bid.
    pub fn together(&self, a: u32, b: u32) -> u32 {
        let key = if a < b { (a, b) } else { (b, a) };
        self.together.get(&key).copied().unwrap_or(0)
    }

    /// Every pair `(a, b)`, `a < b`, that bid together at least once, with the count; ascending.
    pub fn pairs(&self) -> Vec<((u32, u32), u32)> {
        let mut v: Vec<_> = self.together.iter().map(|(&k, &n)| (k, n)).collect();
        v.sort_unstable();
        v
    }

    /// Market-tender indices where every one of `group` bid, ascending.
    pub fn joint(&self, group: &[u32]) -> Vec<usize> {
        let Some((&first, rest)) = group.split_first() else {
            return Vec::new();
        };
        let mut out = self.participation(first).to_vec();
        for &b in rest {
            let other = self.participation(b);
            out.retain(|t| other.binary_search(t).is_ok());
        }
        out
    }

    /// The input-order names of the given market tenders, and the latest one of them.
    pub(crate) fn names_and_latest(&self, tenders: &[usize]) -> (Vec<String>, String) {
        let mut latest: Option<&MarketTender> = None;
        let mut names = Vec::with_capacity(tenders.len());
        for t in tenders.iter().filter_map(|&i| self.tender(i)) {
            names.push(t.name.clone());
            if latest.is_none_or(|l| t.position > l.position) {
                latest = Some(t);
            }
        }
        (names, latest.map(|t| t.name.clone()).unwrap_or_default())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::input::Bid;

    fn bid(b: Option<&str>, price: f64, winner: bool) -> Bid {
        Bid {
            bidder: b.map(str::to_owned),
            price,
            winner,
        }
    }

    #[test]
    fn counts_participation_wins_and_pairs() {
        let tenders = vec![
            TenderBids::new(
                "T1",
                None,
                vec![
                    bid(Some("A"), 100.0, true),
                    bid(Some("B"), 110.0, false),
                    bid(None, 120.0, false),
                ],
            ),
            TenderBids::new(
                "T2",
                None,
                vec![bid(None, 1.0, true), bid(None, 2.0, false)],
            ),
            TenderBids::new(
                "T3",
                None,
                vec![
                    bid(Some("B"), 100.0, true),
                    bid(Some("A"), 101.0, false),
                    bid(Some("A"), 102.0, false),
                    bid(Some(" "), 103.0, false),
                ],
            ),
        ];
        let m = Market::new(&tenders);
        assert_eq!(m.tenders().len(), 2, "T2 has no ids");
        assert_eq!(m.bidder_count(), 2);
        let t1 = &m.tenders()[0];
        assert_eq!(t1.field, 3);
        assert_eq!(t1.single_winner(), Some((0, 100.0)));
        let t3 = &m.tenders()[1];
        assert_eq!(t3.position, 2);
        assert_eq!(t3.field, 3, "A counted once, the blank id as anonymous");
        assert_eq!(m.together(0, 1), 2);
        assert_eq!(m.together(1, 0), 2);
        assert_eq!(m.wins(0), 1);
        assert_eq!(m.wins(1), 1);
        assert_eq!(m.joint(&[0, 1]), vec![0, 1]);
        assert_eq!(m.joint(&[]), Vec::<usize>::new());
        assert_eq!(m.name(1), "B");
        assert_eq!(m.name(99), "");
        assert_eq!(m.participation(99), &[] as &[usize]);
        let (names, latest) = m.names_and_latest(&[1, 0]);
        assert_eq!(names, ["T3", "T1"]);
        assert_eq!(latest, "T3");
    }

    #[test]
    fn empty_and_anonymous_markets_are_empty() {
        assert_eq!(Market::new(&[]).tenders().len(), 0);
        let t = TenderBids::new("T", None, vec![bid(None, 1.0, true)]);
        let m = Market::new(&[t]);
        assert_eq!(m.bidder_count(), 0);
        assert!(m.pairs().is_empty());
    }

    #[test]
    fn winner_without_id_or_price_is_no_single_winner() {
        let t = TenderBids::new(
            "T",
            None,
            vec![bid(None, 1.0, true), bid(Some("A"), 2.0, false)],
        );
        let m = Market::new(&[t]);
        assert!(m.tenders()[0].award_known());
        assert_eq!(m.tenders()[0].single_winner(), None);
        let t = TenderBids::new(
            "T",
            None,
            vec![bid(Some("A"), 0.0, true), bid(Some("B"), 2.0, false)],
        );
        assert_eq!(Market::new(&[t]).tenders()[0].single_winner(), None);
    }
}
