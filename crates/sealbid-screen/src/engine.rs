//! The engine's entry point over a market: every price screen per tender, the market's fences over
//! those screens, and the price patterns between bidders, ending in one [`TenderResult`] per tender
//! with its [`Alert`]s, in input order.
//!
//! Screens and patterns run in parallel (rayon) in chunks of [`CHUNK`] tenders, reporting progress
//! after each chunk; the fences and the classifier's market context need the whole market and are
//! drawn once at the end.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::Serialize;

use crate::alert::{Alert, Score};
use crate::chart::price_chart_svg;
use crate::classify::Model;
use crate::fences::flag_all;
use crate::input::TenderBids;
use crate::patterns::detect_patterns;
use crate::screens::{screen_market, Indicator, TenderScreens};
use crate::settings::Settings;

/// Tenders screened between two progress reports.
pub const CHUNK: usize = 1000;

/// What the engine adds beyond the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Put the tender's price chart ([`price_chart_svg`], the alert's bidders highlighted) in every
    /// alert's `evidence.chart_svg`. About 1–2 kB per alert.
    pub charts: bool,
    /// Score every tender with the built-in classifier ([`Model::builtin`]), the market as context.
    pub classify: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            charts: true,
            classify: true,
        }
    }
}

/// One tender's screens and alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenderResult {
    pub tender: String,
    /// Number of bids (all of them, usable prices or not).
    pub bids: usize,
    pub screens: TenderScreens,
    /// The built-in classifier's score that the prices look collusive, with each input's
    /// contribution. `None` when the tender is not [`Model::scorable`] (fewer than two bids, or a
    /// price that is not a finite number above zero), when scoring was not asked for, or if the
    /// built-in model failed to load (which its own tests rule out).
    pub score: Option<Score>,
    /// Price patterns first (in detection order), then market outliers (in [`Indicator::ALL`] order).
    pub alerts: Vec<Alert>,
}

impl TenderResult {
    /// Every screen by name, `None` where undefined for the tender.
    pub fn screen_values(&self) -> BTreeMap<&'static str, Option<f64>> {
        Indicator::ALL
            .into_iter()
            .map(|i| (i.name(), self.screens.get(i)))
            .collect()
    }
}

/// [`screen_with`] with charts and no progress reports.
pub fn screen(tenders: &[TenderBids], settings: &Settings) -> Vec<TenderResult> {
    screen_with(tenders, settings, Options::default(), |_, _| {})
}

/// Screens, fences and patterns for every tender, in input order. `progress(done, total)` is called
/// after each chunk of [`CHUNK`] tenders (and once at the end), from the calling thread.
pub fn screen_with(
    tenders: &[TenderBids],
    settings: &Settings,
    options: Options,
    mut progress: impl FnMut(usize, usize),
) -> Vec<TenderResult> {
    let total = tenders.len();
    let mut screens: Vec<TenderScreens> = Vec::with_capacity(total);
    let mut alerts: Vec<Vec<Alert>> = Vec::with_capacity(total);
    for chunk in tenders.chunks(CHUNK) {
        screens.extend(screen_market(chunk));
        alerts.par_extend(chunk.par_iter().map(|t| {
            detect_patterns(t, settings)
                .into_iter()
                .map(Alert::from)
                .collect::<Vec<_>>()
        }));
        progress(screens.len(), total);
    }
    if total == 0 {
        progress(0, 0);
    }

    // Outliers come per indicator in market order; match each to its tender by position, so that two
    // tenders sharing an id (possible through the API, not through the readers) keep their own.
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in screens.iter().enumerate() {
        positions.entry(s.tender.as_str()).or_default().push(i);
    }
    let mut cursor: HashMap<(String, Indicator), usize> = HashMap::new();
    let mut outliers: Vec<(usize, Alert)> = Vec::new();
    for o in flag_all(&screens, settings) {
        let Some(list) = positions.get(o.tender.as_str()) else {
            continue;
        };
        let next = cursor.entry((o.tender.clone(), o.indicator)).or_insert(0);
        let found = list
            .iter()
            .enumerate()
            .skip(*next)
            .find(|(_, &i)| screens.get(i).and_then(|s| s.get(o.indicator)) == Some(o.value));
        if let Some((k, &i)) = found {
            *next = k + 1;
            outliers.push((i, Alert::from(o)));
        }
    }
    for (i, a) in outliers {
        if let Some(list) = alerts.get_mut(i) {
            list.push(a);
        }
    }
    let mut scores: Vec<Option<Score>> = match Model::builtin() {
        Ok(model) if options.classify => model.score_market(&screens),
        _ => Vec::new(),
    };
    scores.resize(total, None);

    tenders
        .par_iter()
        .zip(screens)
        .zip(alerts)
        .zip(scores)
        .map(|(((t, s), mut alerts), score)| {
            if options.charts {
                for a in &mut alerts {
                    a.evidence.chart_svg = Some(price_chart_svg(t, &a.bidders));
                }
            }
            TenderResult {
                tender: t.tender.clone(),
                bids: s.bids,
                screens: s,
                score,
                alerts,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::alert::Family;
    use crate::input::Bid;

    fn tender(id: &str, prices: &[f64]) -> TenderBids {
        let bids = prices
            .iter()
            .enumerate()
            .map(|(i, &price)| Bid {
                bidder: Some(format!("B{}", i + 1)),
                price,
                winner: i == 0,
            })
            .collect();
        TenderBids::new(id, None, bids)
    }

    /// 20 ordinary tenders with gaps near 5 %, one with a 60 % gap, one with identical prices.
    fn market() -> Vec<TenderBids> {
        let mut m: Vec<TenderBids> = (0..20)
            .map(|i| {
                let g = 1.04 + f64::from(i % 5) * 0.005;
                tender(&format!("T{i}"), &[100.0, 100.0 * g, 100.0 * g * 1.07])
            })
            .collect();
        m.push(tender("GAP", &[100.0, 160.0, 171.0]));
        m.push(tender("SAME", &[100.0, 100.0, 130.0]));
        m
    }

    #[test]
    fn results_keep_input_order_and_carry_pattern_and_outlier_alerts() {
        let m = market();
        let mut calls = Vec::new();
        let out = screen_with(&m, &Settings::default(), Options::default(), |d, t| {
            calls.push((d, t))
        });
        assert_eq!(calls, [(22, 22)]);
        assert_eq!(out.len(), 22);
        assert!(out.iter().zip(&m).all(|(r, t)| r.tender == t.tender));
        let gap = &out[20];
        assert!(gap
            .alerts
            .iter()
            .any(|a| a.family == Family::PriceScreen && a.indicator == "winner_gap"));
        let same = &out[21];
        let identical = same
            .alerts
            .iter()
            .find(|a| a.indicator == "identical_prices")
            .unwrap();
        assert_eq!(identical.bidders, ["B1", "B2"]);
        let chart = identical.evidence.chart_svg.as_deref().unwrap();
        assert!(chart.starts_with("<svg") && chart.contains("B2: 100 (named in the alert)"));
        assert_eq!(same.screen_values().len(), 8);
        // Without charts the alerts are the same otherwise.
        let plain = screen_with(
            &m,
            &Settings::default(),
            Options {
                charts: false,
                classify: false,
            },
            |_, _| {},
        );
        assert!(plain
            .iter()
            .flat_map(|r| &r.alerts)
            .all(|a| a.evidence.chart_svg.is_none()));
        assert!(plain.iter().all(|r| r.score.is_none()));
        // With the classifier every tender of two or more usable bids has a finite score.
        for r in &out {
            let s = r.score.as_ref().unwrap();
            assert!((0.0..=1.0).contains(&s.value), "{s:?}");
            assert!(!s.method.is_empty());
        }
        assert_eq!(plain[21].alerts.len(), same.alerts.len());
    }

    #[test]
    fn progress_is_reported_per_chunk() {
        let m: Vec<TenderBids> = (0..2500)
            .map(|i| tender(&format!("T{i}"), &[100.0, 101.0 + f64::from(i % 7)]))
            .collect();
        let mut calls = Vec::new();
        let out = screen_with(&m, &Settings::default(), Options::default(), |d, t| {
            calls.push((d, t))
        });
        assert_eq!(out.len(), 2500);
        assert_eq!(calls, [(1000, 2500), (2000, 2500), (2500, 2500)]);
        let mut calls = Vec::new();
        assert!(
            screen_with(&[], &Settings::default(), Options::default(), |d, t| calls
                .push((d, t)))
            .is_empty()
        );
        assert_eq!(calls, [(0, 0)]);
    }

    #[test]
    fn tenders_sharing_an_id_keep_their_own_outliers() {
        let mut m = market();
        m[0].tender = "GAP".into();
        let out = screen(&m, &Settings::default());
        let gap_alerts = |r: &TenderResult| {
            r.alerts
                .iter()
                .filter(|a| a.indicator == "winner_gap")
                .count()
        };
        assert_eq!(gap_alerts(&out[0]), 0);
        assert_eq!(gap_alerts(&out[20]), 1);
    }

    #[test]
    fn degenerate_tenders_give_finite_json() {
        let m = vec![
            tender("ONE", &[100.0]),
            tender("SAME", &[100.0, 100.0, 100.0]),
            tender("EMPTY", &[]),
            tender("ZERO", &[0.0, 10.0]),
        ];
        let out = screen(&m, &Settings::default());
        let json = serde_json::to_string(&out).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"));
        assert_eq!(out[0].bids, 1);
        assert!(out[0].alerts.is_empty());
        assert_eq!(out[1].alerts.len(), 1);
        // One bid, no bids, a zero price: nothing to score. Identical bids: a number.
        assert!(out[0].score.is_none() && out[2].score.is_none() && out[3].score.is_none());
        assert!(out[1].score.as_ref().unwrap().value.is_finite());
    }
}
