//! Behaviour across tenders (条例 39: bidders agreeing on who wins, or on who stays out): bid rotation,
//! cover bidding, co-bidding pairs and never-winners. One file per detector, all behind
//! [`HistoryDetector`]; each detector's settings struct is also the detector.
//!
//! The detectors read one [`Market`] built once from the tenders: only tenders with bidder ids take
//! part (a market that publishes none, like the Swiss data, yields no history alerts). Bids without an
//! id still count in a tender's field size. Each alert names the latest tender involved (input order)
//! as its tender and lists every tender it rests on in `evidence.tenders`.
//!
//! Every detector tests its finding against chance with an exact tail probability ([`upper_tail`]),
//! corrects for the number of hypotheses it tested ([`Correction`]), and also requires an effect size,
//! so that a large market does not turn tiny deviations into alerts.
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::error::ScreenError;
use crate::input::TenderBids;

mod cobidding;
mod cover;
mod market;
mod never_win;
mod rotation;
mod stats;

pub use cobidding::CoBidding;
pub use cover::CoverBidding;
pub use market::{Market, MarketBid, MarketTender};
pub use never_win::NeverWin;
pub use rotation::BidRotation;
pub use stats::{adjust, evenness, upper_tail, Correction};

/// One detector over the market.
pub trait HistoryDetector {
    const NAME: &'static str;

    /// Every finding as an alert; empty when none (or when disabled).
    fn detect(&self, market: &Market) -> Vec<Alert>;
}

/// Settings of the history detectors; `{}` is a valid configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistorySettings {
    pub bid_rotation: BidRotation,
    pub cover_bidding: CoverBidding,
    pub co_bidding: CoBidding,
    pub never_win: NeverWin,
}

fn bad(field: &str, reason: &str) -> ScreenError {
    ScreenError::InvalidSetting {
        field: format!("history.{field}"),
        reason: reason.into(),
    }
}

fn check_alpha(field: &str, alpha: f64) -> Result<(), ScreenError> {
    if alpha.is_finite() && alpha > 0.0 && alpha <= 1.0 {
        Ok(())
    } else {
        Err(bad(field, "must be in (0, 1]"))
    }
}

fn check_share(field: &str, share: f64) -> Result<(), ScreenError> {
    if share.is_finite() && (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(bad(field, "must be in [0, 1]"))
    }
}

impl HistorySettings {
    /// Checks the values serde cannot (ranges). Call once after loading.
    pub fn validate(&self) -> Result<(), ScreenError> {
        let r = &self.bid_rotation;
        if r.min_tenders_together < 2 {
            return Err(bad(
                "bid_rotation.min_tenders_together",
                "must be at least 2",
            ));
        }
        if r.min_members < 2 || r.max_members < r.min_members {
            return Err(bad(
                "bid_rotation.min_members/max_members",
                "need 2 ≤ min_members ≤ max_members",
            ));
        }
        if r.min_wins_each < 1 {
            return Err(bad("bid_rotation.min_wins_each", "must be at least 1"));
        }
        check_share("bid_rotation.min_evenness", r.min_evenness)?;
        check_share("bid_rotation.min_group_win_share", r.min_group_win_share)?;
        check_alpha("bid_rotation.alpha", r.alpha)?;
        let c = &self.cover_bidding;
        if c.min_meetings < 2 {
            return Err(bad("cover_bidding.min_meetings", "must be at least 2"));
        }
        check_share("cover_bidding.min_cover_share", c.min_cover_share)?;
        if !(c.max_gap.is_finite() && c.max_gap >= 0.0) {
            return Err(bad("cover_bidding.max_gap", "must be ≥ 0"));
        }
        check_alpha("cover_bidding.alpha", c.alpha)?;
        let b = &self.co_bidding;
        if b.min_together < 2 {
            return Err(bad("co_bidding.min_together", "must be at least 2"));
        }
        if !(b.min_lift.is_finite() && b.min_lift >= 1.0) {
            return Err(bad("co_bidding.min_lift", "must be ≥ 1"));
        }
        check_share("co_bidding.min_follow_share", b.min_follow_share)?;
        check_alpha("co_bidding.alpha", b.alpha)?;
        let n = &self.never_win;
        if n.min_bids < 2 {
            return Err(bad("never_win.min_bids", "must be at least 2"));
        }
        check_alpha("never_win.alpha", n.alpha)?;
        Ok(())
    }
}

/// Every enabled history detector over the tenders, in a stable order (rotation, cover, co-bidding,
/// never-winners; within a detector, strongest first).
pub fn analyse(tenders: &[TenderBids], settings: &HistorySettings) -> Vec<Alert> {
    let market = Market::new(tenders);
    analyse_market(&market, settings)
}

/// [`analyse`] over a market already built.
pub fn analyse_market(market: &Market, settings: &HistorySettings) -> Vec<Alert> {
    let runs: [&(dyn Fn() -> Vec<Alert> + Sync); 4] = [
        &|| settings.bid_rotation.detect(market),
        &|| settings.cover_bidding.detect(market),
        &|| settings.co_bidding.detect(market),
        &|| settings.never_win.detect(market),
    ];
    runs.par_iter().flat_map_iter(|run| run()).collect()
}

/// Sorts alerts strongest first, ties by tender then bidders (deterministic output).
pub(crate) fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        b.score
            .value
            .total_cmp(&a.score.value)
            .then_with(|| a.tender.cmp(&b.tender))
            .then_with(|| a.bidders.cmp(&b.bidders))
    });
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::input::{Bid, TenderBids};

    /// A tender from `(bidder, price)` pairs; the lowest price wins.
    pub fn lowest_wins(name: &str, bids: &[(&str, f64)]) -> TenderBids {
        let low = bids.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
        let mut won = false;
        let bids = bids
            .iter()
            .map(|&(b, price)| {
                let winner = !won && price == low;
                won |= winner;
                Bid {
                    bidder: Some(b.to_owned()),
                    price,
                    winner,
                }
            })
            .collect();
        TenderBids::new(name, None, bids)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::test_util::lowest_wins;
    use super::*;

    #[test]
    fn empty_config_is_the_default_and_valid() {
        let s: HistorySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, HistorySettings::default());
        assert!(s.validate().is_ok());
        assert!(serde_json::from_str::<HistorySettings>(r#"{"rotation": {}}"#).is_err());
        assert!(serde_json::from_str::<HistorySettings>(r#"{"co_bidding": {"lift": 2}}"#).is_err());
        let s: HistorySettings =
            serde_json::from_str(r#"{"co_bidding": {"correction": "bonferroni"}}"#).unwrap();
        assert_eq!(s.co_bidding.correction, Correction::Bonferroni);
    }

    #[test]
    fn out_of_range_settings_fail_validation() {
        for json in [
            r#"{"bid_rotation": {"alpha": 0}}"#,
            r#"{"bid_rotation": {"min_members": 1}}"#,
            r#"{"bid_rotation": {"min_members": 4, "max_members": 3}}"#,
            r#"{"bid_rotation": {"min_evenness": 1.5}}"#,
            r#"{"cover_bidding": {"max_gap": -0.1}}"#,
            r#"{"cover_bidding": {"min_meetings": 1}}"#,
            r#"{"co_bidding": {"min_lift": 0.5}}"#,
            r#"{"never_win": {"alpha": 2}}"#,
            r#"{"never_win": {"min_bids": 0}}"#,
        ] {
            let s: HistorySettings = serde_json::from_str(json).unwrap();
            let e = s.validate().unwrap_err();
            assert_eq!(e.code(), "SCR0006InvalidSetting", "{json}");
        }
    }

    #[test]
    fn degenerate_markets_raise_nothing() {
        let s = HistorySettings::default();
        assert!(analyse(&[], &s).is_empty());
        // One bid, identical bids, no ids, no winner.
        let one = lowest_wins("T1", &[("A", 100.0)]);
        let same = lowest_wins("T2", &[("A", 100.0), ("B", 100.0), ("C", 100.0)]);
        let anon = TenderBids::new(
            "T3",
            None,
            vec![crate::input::Bid {
                bidder: None,
                price: 5.0,
                winner: true,
            }],
        );
        let mut tenders = vec![one, same, anon];
        for i in 0..3 {
            let mut t = lowest_wins(&format!("N{i}"), &[("A", f64::NAN), ("B", -1.0)]);
            t.bids.iter_mut().for_each(|b| b.winner = false);
            tenders.push(t);
        }
        for a in analyse(&tenders, &s) {
            assert!(a.score.value.is_finite());
            assert!(a.evidence.figures.values().all(|v| v.is_finite()));
        }
    }
}

/// Runs the detectors on the shared labelled data (`cargo test -p sealbid-screen -- --ignored
/// history_on_labelled_data --nocapture`): counts per detector and how the flagged tenders and bidders
/// relate to the labels. Skipped when the data is not beside the repository.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod labelled_data {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use super::*;

    fn labels(path: &std::path::Path) -> (HashMap<String, bool>, HashMap<String, bool>) {
        let mut r = csv::Reader::from_path(path).unwrap();
        let h = r.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|x| x == n).unwrap();
        let (t, c, l, o) = (
            col("Tender"),
            col("Competitors"),
            col("Collusive_competitor"),
            col("Collusive_competitor_original"),
        );
        let (mut tenders, mut bidders) = (HashMap::new(), HashMap::new());
        for rec in r.records() {
            let rec = rec.unwrap();
            let flag = |i: usize| rec[i].trim().parse::<f64>().unwrap_or(0.0) >= 1.0;
            tenders.insert(rec[t].to_owned(), flag(l));
            *bidders.entry(rec[c].to_owned()).or_insert(false) |= flag(o);
        }
        (tenders, bidders)
    }

    #[test]
    #[ignore = "needs the shared labelled data; prints a report"]
    fn history_on_labelled_data() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/bid-rigging");
        for market in ["Brazil", "Italy"] {
            let path = dir.join(format!("{market}.csv"));
            let Ok(file) = std::fs::File::open(&path) else {
                eprintln!("{} missing: skipped", path.display());
                continue;
            };
            let tenders = crate::read_csv(file).unwrap().strict().unwrap();
            let (tender_label, bidder_label) = labels(&path);
            let rate = |set: &BTreeSet<String>, l: &HashMap<String, bool>| {
                let pos = set
                    .iter()
                    .filter(|x| l.get(*x).copied().unwrap_or(false))
                    .count();
                (pos, set.len())
            };
            let all_t: BTreeSet<String> = tender_label.keys().cloned().collect();
            let all_b: BTreeSet<String> = bidder_label.keys().cloned().collect();
            let (tp, tn) = rate(&all_t, &tender_label);
            let (bp, bn) = rate(&all_b, &bidder_label);
            println!("== {market}: {tn} tenders, {tp} labelled collusive ({:.0}%); {bn} bidders, {bp} with a collusive-labelled bid ({:.0}%)",
                100.0 * tp as f64 / tn as f64, 100.0 * bp as f64 / bn as f64);
            let start = std::time::Instant::now();
            let alerts = analyse(&tenders, &HistorySettings::default());
            println!("   ({} alerts in {:?})", alerts.len(), start.elapsed());
            let mut by: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
            for a in &alerts {
                by.entry(a.indicator.as_str()).or_default().push(a);
            }
            for (ind, list) in by {
                let latest: BTreeSet<String> = list.iter().map(|a| a.tender.clone()).collect();
                let rested: BTreeSet<String> = list
                    .iter()
                    .flat_map(|a| a.evidence.tenders.iter().cloned())
                    .collect();
                let bidders: BTreeSet<String> = list
                    .iter()
                    .flat_map(|a| a.bidders.iter().cloned())
                    .collect();
                let (lp, ln) = rate(&latest, &tender_label);
                let (rp, rn) = rate(&rested, &tender_label);
                let (fp, fn_) = rate(&bidders, &bidder_label);
                println!(
                    "   {ind}: {} alerts; alert tenders {lp}/{ln} collusive; tenders rested on {rp}/{rn}; bidders {fp}/{fn_} with a collusive-labelled bid",
                    list.len()
                );
                for a in list.iter().take(3) {
                    println!("      {:.2} {}", a.score.value, a.summary);
                }
            }
        }
    }
}
