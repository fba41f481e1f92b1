//! Identical unit prices across the bill of quantities (条例 40(4): bid documents abnormally alike):
//! two bidders who price many of the same lines at exactly the same unit price worked from one
//! price table.
//!
//! Lines are matched by code (trimmed). A line is a *reference line* — most likely the owner's
//! published reference price, or a regulated rate — when at least `reference_min_bidders` bidders
//! price it and at least `reference_share` of them quote the same price; reference lines are left out
//! of every count, so a tender in which everyone copies the owner's prices flags nobody. Then, for
//! each pair of bidders: `common` lines both priced, `identical` lines with the same unit price (equal
//! within `rel_tolerance` of the larger), `share = identical / common`. A pair is reported when
//! - `common ≥ min_common_lines` and `share ≥ min_share`, and
//! - `share` exceeds the median share of the tender's other pairs by at least `min_excess` (so what
//!   every pair shows is not held against one of them). A tender of two bidders has no other pair:
//!   the baseline is then 0.
//!
//! Unit prices that are not finite or not above zero are ignored (unpriced lines are not evidence);
//! a code repeated within one bid keeps its first price.
//!
//! Score: `0.5 + 0.45·min(1, (share − baseline)/(1 − baseline))` — a deemed case once established,
//! but identical prices on a minority of lines leave room for a common supplier's price list.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::alert::{grounds, Alert, Evidence, Family, Score, ScorePart};
use crate::error::ScreenError;

/// One priced line of a bill of quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoqLine {
    pub code: String,
    pub unit_price: f64,
}

/// One bidder's priced bill of quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoqBid {
    pub bidder: String,
    pub lines: Vec<BoqLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnitPriceSettings {
    pub enabled: bool,
    /// Relative tolerance for "the same price"; the default absorbs decimal-to-binary noise only.
    pub rel_tolerance: f64,
    pub min_common_lines: usize,
    pub min_share: f64,
    /// Required margin over the median share of the tender's other pairs.
    pub min_excess: f64,
    /// Share of the bidders pricing a line that must agree for it to be a reference line.
    pub reference_share: f64,
    /// A line needs at least this many bidders to be recognised as a reference line.
    pub reference_min_bidders: usize,
    /// Matching lines listed in the evidence.
    pub max_sample: usize,
}

impl Default for UnitPriceSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            rel_tolerance: 1e-9,
            min_common_lines: 10,
            min_share: 0.3,
            min_excess: 0.2,
            reference_share: 0.75,
            reference_min_bidders: 3,
            max_sample: 10,
        }
    }
}

impl UnitPriceSettings {
    pub fn validate(&self) -> Result<(), ScreenError> {
        let bad = |field: &str, reason: &str| ScreenError::InvalidSetting {
            field: format!("unit_prices.{field}"),
            reason: reason.into(),
        };
        if !(self.rel_tolerance.is_finite() && self.rel_tolerance >= 0.0) {
            return Err(bad("rel_tolerance", "must be ≥ 0"));
        }
        for (f, v) in [
            ("min_share", self.min_share),
            ("min_excess", self.min_excess),
            ("reference_share", self.reference_share),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(bad(f, "must be in [0, 1]"));
            }
        }
        if self.min_common_lines < 1 {
            return Err(bad("min_common_lines", "must be at least 1"));
        }
        if self.reference_min_bidders < 3 {
            return Err(bad(
                "reference_min_bidders",
                "must be at least 3 (two bidders agreeing is the finding itself)",
            ));
        }
        Ok(())
    }

    fn same(&self, a: f64, b: f64) -> bool {
        (a - b).abs() <= self.rel_tolerance * a.abs().max(b.abs())
    }
}

/// A bid's usable lines: code → unit price, first occurrence kept, in input order.
struct Priced<'a> {
    bidder: &'a str,
    order: Vec<&'a str>,
    prices: HashMap<&'a str, f64>,
}

fn priced(bid: &BoqBid) -> Priced<'_> {
    let mut order = Vec::new();
    let mut prices = HashMap::new();
    for l in &bid.lines {
        let code = l.code.trim();
        if code.is_empty() || !(l.unit_price.is_finite() && l.unit_price > 0.0) {
            continue;
        }
        if !prices.contains_key(code) {
            prices.insert(code, l.unit_price);
            order.push(code);
        }
    }
    Priced {
        bidder: bid.bidder.as_str(),
        order,
        prices,
    }
}

/// Codes where most bidders quote one price.
fn reference_lines<'a>(bids: &[Priced<'a>], s: &UnitPriceSettings) -> HashMap<&'a str, f64> {
    let mut by_code: HashMap<&str, Vec<f64>> = HashMap::new();
    for b in bids {
        for (&code, &p) in &b.prices {
            by_code.entry(code).or_default().push(p);
        }
    }
    let mut out = HashMap::new();
    for (code, mut prices) in by_code {
        if prices.len() < s.reference_min_bidders.max(3) {
            continue;
        }
        prices.sort_by(f64::total_cmp);
        let (mut best, mut best_price, mut start) = (0usize, 0.0, 0usize);
        for i in 0..prices.len() {
            let (Some(&base), Some(&p)) = (prices.get(start), prices.get(i)) else {
                break;
            };
            if !s.same(base, p) {
                start = i;
            }
            let run = i + 1 - start;
            if run > best {
                best = run;
                best_price = p;
            }
        }
        if best as f64 >= s.reference_share * prices.len() as f64 {
            out.insert(code, best_price);
        }
    }
    out
}

struct PairStats<'a> {
    a: usize,
    b: usize,
    common: usize,
    identical: Vec<(&'a str, f64)>,
}

impl PairStats<'_> {
    fn share(&self) -> f64 {
        if self.common == 0 {
            0.0
        } else {
            self.identical.len() as f64 / self.common as f64
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let hi = v.get(n / 2).copied().unwrap_or(0.0);
    if n % 2 == 1 {
        hi
    } else {
        0.5 * (v.get(n / 2 - 1).copied().unwrap_or(hi) + hi)
    }
}

/// Pairs of bidders of one tender with abnormally many identical unit prices.
pub fn analyse(tender: &str, bids: &[BoqBid], settings: &UnitPriceSettings) -> Vec<Alert> {
    if !settings.enabled || bids.len() < 2 {
        return Vec::new();
    }
    let priced: Vec<Priced> = bids.iter().map(priced).collect();
    let reference = reference_lines(&priced, settings);
    let pairs: Vec<(usize, usize)> = (0..priced.len())
        .flat_map(|a| ((a + 1)..priced.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| priced.get(a).map(|p| p.bidder) != priced.get(b).map(|p| p.bidder))
        .collect();
    let stats: Vec<PairStats> = pairs
        .into_par_iter()
        .filter_map(|(a, b)| {
            let (pa, pb) = (priced.get(a)?, priced.get(b)?);
            let mut common = 0;
            let mut identical = Vec::new();
            for &code in &pa.order {
                if reference.contains_key(code) {
                    continue;
                }
                let (Some(&x), Some(&y)) = (pa.prices.get(code), pb.prices.get(code)) else {
                    continue;
                };
                common += 1;
                if settings.same(x, y) {
                    identical.push((code, x));
                }
            }
            Some(PairStats {
                a,
                b,
                common,
                identical,
            })
        })
        .collect();
    let mut out = Vec::new();
    for (i, s) in stats.iter().enumerate() {
        let share = s.share();
        if s.common < settings.min_common_lines.max(1) || share < settings.min_share {
            continue;
        }
        let mut others: Vec<f64> = stats
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != i && o.common > 0)
            .map(|(_, o)| o.share())
            .collect();
        let baseline = median(&mut others);
        let excess = share - baseline;
        if excess < settings.min_excess {
            continue;
        }
        let (Some(pa), Some(pb)) = (priced.get(s.a), priced.get(s.b)) else {
            continue;
        };
        let strength = (excess / (1.0 - baseline).max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
        let figures = BTreeMap::from([
            ("common_lines".to_owned(), s.common as f64),
            ("identical_lines".to_owned(), s.identical.len() as f64),
            ("share".to_owned(), share),
            ("baseline_share".to_owned(), baseline),
            ("other_pairs".to_owned(), others.len() as f64),
            (
                "reference_lines_excluded".to_owned(),
                reference.len() as f64,
            ),
            (format!("lines:{}", pa.bidder), pa.order.len() as f64),
            (format!("lines:{}", pb.bidder), pb.order.len() as f64),
        ]);
        let facts: BTreeMap<String, String> = s
            .identical
            .iter()
            .take(settings.max_sample)
            .enumerate()
            .map(|(k, (code, price))| (format!("line.{:02}", k + 1), format!("{code}: {price}")))
            .collect();
        let score = Score {
            value: 0.5 + 0.45 * strength,
            method: "0.5 + 0.45·min(1, (share − baseline)/(1 − baseline)); share = identical unit prices over common non-reference lines, baseline = median share of the tender's other pairs".into(),
            parts: vec![
                ScorePart { name: "share".into(), value: share, weight: 0.45 * strength },
                ScorePart { name: "baseline_share".into(), value: baseline, weight: 0.0 },
            ],
        };
        let summary = format!(
            "{} and {} quote identical unit prices on {} of {} common lines ({:.0}%; other pairs: {:.0}%)",
            pa.bidder,
            pb.bidder,
            s.identical.len(),
            s.common,
            share * 100.0,
            baseline * 100.0
        );
        out.push(Alert::new(
            tender,
            Family::PricePattern,
            "identical_unit_prices",
            Some(grounds::art40_4()),
            [pa.bidder.to_owned(), pb.bidder.to_owned()],
            score,
            summary,
            Evidence {
                figures,
                facts,
                ..Evidence::default()
            },
        ));
    }
    out.sort_by(|a, b| {
        b.score
            .value
            .total_cmp(&a.score.value)
            .then_with(|| a.bidders.cmp(&b.bidders))
    });
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A bid of `n` lines `L0..`, priced `base + k·step + salt`.
    fn bid(name: &str, n: usize, salt: f64) -> BoqBid {
        BoqBid {
            bidder: name.into(),
            lines: (0..n)
                .map(|k| BoqLine {
                    code: format!("L{k}"),
                    unit_price: 100.0 + k as f64 * 3.0 + salt,
                })
                .collect(),
        }
    }

    #[test]
    fn a_shared_price_table_is_found() {
        let a = bid("A", 40, 0.11);
        let mut b = bid("B", 40, 0.57);
        for k in 0..20 {
            b.lines[k].unit_price = a.lines[k].unit_price; // half the lines copied
        }
        let c = bid("C", 40, 1.9);
        let d = bid("D", 40, 2.3);
        let alerts = analyse("T", &[a, b, c, d], &UnitPriceSettings::default());
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let x = &alerts[0];
        assert_eq!(x.bidders, ["A", "B"]);
        assert_eq!(x.indicator, "identical_unit_prices");
        assert_eq!(x.legal_ground.as_ref().unwrap().cite, "条例 40(4)");
        assert_eq!(x.evidence.figures["identical_lines"], 20.0);
        assert_eq!(x.evidence.figures["common_lines"], 40.0);
        assert_eq!(x.evidence.figures["share"], 0.5);
        assert_eq!(x.evidence.figures["baseline_share"], 0.0);
        assert_eq!(x.evidence.facts.len(), 10);
        assert_eq!(x.evidence.facts["line.01"], "L0: 100.11");
        assert!((x.score.value - 0.725).abs() < 1e-12);
    }

    #[test]
    fn everyone_copying_the_reference_prices_flags_nobody() {
        let mut bids: Vec<BoqBid> = (0..5)
            .map(|i| bid(&format!("B{i}"), 30, i as f64 * 0.37))
            .collect();
        for b in &mut bids {
            for k in 0..20 {
                b.lines[k].unit_price = 50.0 + k as f64; // the owner's reference prices
            }
        }
        assert!(analyse("T", &bids, &UnitPriceSettings::default()).is_empty());
        // Four of five on reference prices still excludes the line (4/5 ≥ 0.75).
        bids[4] = bid("B4", 30, 9.9);
        assert!(analyse("T", &bids, &UnitPriceSettings::default()).is_empty());
    }

    #[test]
    fn common_similarity_is_not_held_against_one_pair() {
        // Five bidders, 20 lines; each line is shared by one triple of bidders (3 of 5: not a reference
        // line), two lines per triple: every pair shares 6 of 20 lines (30 %). All alike: no outlier.
        let mut bids: Vec<BoqBid> = (0..5)
            .map(|i| bid(&format!("B{i}"), 20, i as f64 * 0.37))
            .collect();
        let mut triples = Vec::new();
        for x in 0..5 {
            for y in x + 1..5 {
                for z in y + 1..5 {
                    triples.push([x, y, z]);
                }
            }
        }
        for (t, triple) in triples.iter().enumerate() {
            for k in [2 * t, 2 * t + 1] {
                for &i in triple {
                    bids[i].lines[k].unit_price = 500.0 + k as f64;
                }
            }
        }
        assert!(analyse("T", &bids, &UnitPriceSettings::default()).is_empty());
        // Ten more lines, which B1 copies from B0: that pair stands out (16/30 against 6/30).
        for (i, b) in bids.iter_mut().enumerate() {
            for k in 20..30 {
                let salt = if i == 1 { 0.0 } else { i as f64 * 0.37 };
                b.lines.push(BoqLine {
                    code: format!("L{k}"),
                    unit_price: 100.0 + k as f64 * 3.0 + salt,
                });
            }
        }
        let alerts = analyse("T", &bids, &UnitPriceSettings::default());
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].bidders, ["B0", "B1"]);
    }

    #[test]
    fn two_bidders_have_no_baseline_and_few_lines_are_not_enough() {
        let a = bid("A", 12, 0.0);
        let b = bid("B", 12, 0.0);
        let alerts = analyse("T", &[a.clone(), b], &UnitPriceSettings::default());
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].score.value, 0.95);
        let short = bid("B", 9, 0.0);
        assert!(analyse(
            "T",
            &[bid("A", 9, 0.0), short],
            &UnitPriceSettings::default()
        )
        .is_empty());
    }

    #[test]
    fn degenerate_inputs() {
        let s = UnitPriceSettings::default();
        assert!(analyse("T", &[], &s).is_empty());
        assert!(analyse("T", &[bid("A", 20, 0.0)], &s).is_empty());
        // The same bidder twice is not a pair.
        assert!(analyse("T", &[bid("A", 20, 0.0), bid("A", 20, 0.0)], &s).is_empty());
        // Bad prices, blank codes, repeated codes.
        let mut a = bid("A", 20, 0.0);
        let mut b = bid("B", 20, 0.0);
        for l in a.lines.iter_mut().chain(b.lines.iter_mut()) {
            l.unit_price = f64::NAN;
        }
        a.lines.push(BoqLine {
            code: " ".into(),
            unit_price: 1.0,
        });
        b.lines.push(BoqLine {
            code: "".into(),
            unit_price: 1.0,
        });
        assert!(analyse("T", &[a, b], &s).is_empty());
        let mut c = bid("C", 10, 0.0);
        c.lines.push(BoqLine {
            code: "L0".into(),
            unit_price: 7.0,
        });
        let alerts = analyse("T", &[c, bid("D", 10, 0.0)], &s);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence.figures["common_lines"], 10.0);
        for a in alerts {
            assert!(a.evidence.figures.values().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn tolerance_and_settings() {
        let a = bid("A", 10, 0.0);
        let mut b = bid("B", 10, 0.0);
        b.lines.iter_mut().for_each(|l| l.unit_price *= 1.0001);
        assert!(analyse("T", &[a.clone(), b.clone()], &UnitPriceSettings::default()).is_empty());
        let loose = UnitPriceSettings {
            rel_tolerance: 0.001,
            ..Default::default()
        };
        assert_eq!(analyse("T", &[a, b], &loose).len(), 1);
        assert!(serde_json::from_str::<UnitPriceSettings>(r#"{"share": 1}"#).is_err());
        let bad: UnitPriceSettings =
            serde_json::from_str(r#"{"reference_min_bidders": 2}"#).unwrap();
        assert!(bad.validate().is_err());
        assert!(UnitPriceSettings::default().validate().is_ok());
    }
}
