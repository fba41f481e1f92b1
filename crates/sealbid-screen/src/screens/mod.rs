//! Per-tender price screens: one file per indicator, all behind [`Screen`].
//!
//! A screen answers `None` when its figure is undefined for the tender, never NaN or infinity. Common to
//! all screens: a tender with no bids, or with any price that is zero, negative or not finite, gets `None`
//! from every screen (a price of zero is a data error, and ratios to it are meaningless). Each screen
//! documents its own further conditions (minimum number of bids, identical bids).
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::input::TenderBids;
use crate::stats::finite;

mod cv;
mod diffp;
mod gap;
mod ks;
mod kurtosis;
mod rd;
mod skewness;
mod spread;

pub use cv::CoefficientOfVariation;
pub use diffp::Diffp;
pub use gap::WinnerGap;
pub use ks::KsUniform;
pub use kurtosis::Kurtosis;
pub use rd::RelativeDistance;
pub use skewness::Skewness;
pub use spread::Spread;

/// A tender's prices, validated and sorted once, shared by every screen.
#[derive(Debug, Clone)]
pub struct PriceView<'a> {
    tender: &'a TenderBids,
    sorted: Vec<f64>,
}

impl<'a> PriceView<'a> {
    /// `None` when the tender has no bids or any price is not a finite number above zero.
    pub fn new(tender: &'a TenderBids) -> Option<Self> {
        if tender.bids.is_empty()
            || tender
                .bids
                .iter()
                .any(|b| !(b.price.is_finite() && b.price > 0.0))
        {
            return None;
        }
        let mut sorted: Vec<f64> = tender.bids.iter().map(|b| b.price).collect();
        sorted.sort_by(f64::total_cmp);
        Some(Self { tender, sorted })
    }

    /// Prices in ascending order (ties kept).
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    pub fn tender(&self) -> &TenderBids {
        self.tender
    }

    /// Number of bids.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: a view is never built over an empty tender.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }
}

/// One per-tender indicator.
pub trait Screen {
    /// Stable name, used in settings, output and alerts.
    const NAME: &'static str;

    /// The figure for one tender, or `None` where it is undefined. Implementations may assume the view's
    /// prices are finite and positive; [`Screen::evaluate`] filters out any non-finite result.
    fn compute(&self, view: &PriceView<'_>) -> Option<f64>;

    /// The figure straight from a tender; `None` also when the tender fails [`PriceView::new`].
    fn evaluate(&self, tender: &TenderBids) -> Option<f64> {
        PriceView::new(tender)
            .and_then(|v| self.compute(&v))
            .and_then(finite)
    }
}

/// The screens, by name, for settings and for market-level fences.
/// Serialised by the same names as [`Screen::NAME`] (a test holds them together), so settings keyed by
/// indicator reject unknown names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    Cv,
    Spread,
    Diffp,
    Rd,
    Kurtosis,
    Skewness,
    Ks,
    WinnerGap,
}

impl Indicator {
    pub const ALL: [Indicator; 8] = [
        Self::Cv,
        Self::Spread,
        Self::Diffp,
        Self::Rd,
        Self::Kurtosis,
        Self::Skewness,
        Self::Ks,
        Self::WinnerGap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Cv => CoefficientOfVariation::NAME,
            Self::Spread => Spread::NAME,
            Self::Diffp => Diffp::NAME,
            Self::Rd => RelativeDistance::NAME,
            Self::Kurtosis => Kurtosis::NAME,
            Self::Skewness => Skewness::NAME,
            Self::Ks => KsUniform::NAME,
            Self::WinnerGap => WinnerGap::NAME,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// Every screen's figure for one tender.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenderScreens {
    pub tender: String,
    pub bids: usize,
    pub cv: Option<f64>,
    pub spread: Option<f64>,
    pub diffp: Option<f64>,
    pub rd: Option<f64>,
    pub kurtosis: Option<f64>,
    pub skewness: Option<f64>,
    pub ks: Option<f64>,
    pub winner_gap: Option<f64>,
}

impl TenderScreens {
    pub fn get(&self, indicator: Indicator) -> Option<f64> {
        match indicator {
            Indicator::Cv => self.cv,
            Indicator::Spread => self.spread,
            Indicator::Diffp => self.diffp,
            Indicator::Rd => self.rd,
            Indicator::Kurtosis => self.kurtosis,
            Indicator::Skewness => self.skewness,
            Indicator::Ks => self.ks,
            Indicator::WinnerGap => self.winner_gap,
        }
    }
}

fn run<S: Screen>(screen: &S, view: Option<&PriceView<'_>>) -> Option<f64> {
    view.and_then(|v| screen.compute(v)).and_then(finite)
}

/// All screens for one tender (the prices are validated and sorted once).
pub fn screen_tender(tender: &TenderBids) -> TenderScreens {
    let view = PriceView::new(tender);
    let v = view.as_ref();
    TenderScreens {
        tender: tender.tender.clone(),
        bids: tender.bids.len(),
        cv: run(&CoefficientOfVariation, v),
        spread: run(&Spread, v),
        diffp: run(&Diffp, v),
        rd: run(&RelativeDistance, v),
        kurtosis: run(&Kurtosis, v),
        skewness: run(&Skewness, v),
        ks: run(&KsUniform, v),
        winner_gap: run(&WinnerGap, v),
    }
}

/// All screens for every tender of a market, in parallel; the output keeps the input order.
pub fn screen_market(tenders: &[TenderBids]) -> Vec<TenderScreens> {
    tenders.par_iter().map(screen_tender).collect()
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::input::{Bid, TenderBids};

    /// A tender from plain prices; the lowest is flagged as the winner.
    pub fn tender(prices: &[f64]) -> TenderBids {
        let low = prices.iter().copied().fold(f64::INFINITY, f64::min);
        let mut won = false;
        let bids = prices
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let winner = !won && p == low;
                won |= winner;
                Bid {
                    bidder: Some(format!("B{}", i + 1)),
                    price: p,
                    winner,
                }
            })
            .collect();
        TenderBids::new("T", None, bids)
    }

    pub fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::test_util::tender;
    use super::*;

    #[test]
    fn degenerate_tenders_never_yield_non_finite_figures() {
        let cases: [&[f64]; 7] = [
            &[],
            &[100.0],
            &[100.0, 100.0],
            &[100.0, 100.0, 100.0, 100.0, 100.0],
            &[0.0, 100.0, 120.0, 130.0],
            &[-5.0, 100.0, 120.0, 130.0],
            &[1e-300, 1e300, 1.0, 2.0],
        ];
        for prices in cases {
            let s = screen_tender(&tender(prices));
            for i in Indicator::ALL {
                if let Some(v) = s.get(i) {
                    assert!(v.is_finite(), "{} of {prices:?} = {v}", i.name());
                }
            }
        }
    }

    #[test]
    fn zero_or_negative_prices_silence_every_screen() {
        for prices in [
            &[0.0, 100.0, 120.0, 130.0][..],
            &[-5.0, 100.0, 120.0, 130.0],
        ] {
            let s = screen_tender(&tender(prices));
            assert!(Indicator::ALL.iter().all(|&i| s.get(i).is_none()));
        }
    }

    #[test]
    fn indicator_names_round_trip() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::from_name(i.name()), Some(i));
        }
        assert_eq!(Indicator::from_name("nope"), None);
        for i in Indicator::ALL {
            let json = serde_json::to_string(&i).unwrap();
            assert_eq!(json, format!("\"{}\"", i.name()));
        }
    }

    #[test]
    fn market_keeps_input_order() {
        let ts: Vec<_> = (0..50)
            .map(|i| {
                let mut t = tender(&[100.0, 110.0 + i as f64]);
                t.tender = format!("T{i}");
                t
            })
            .collect();
        let out = screen_market(&ts);
        assert!(out
            .iter()
            .enumerate()
            .all(|(i, s)| s.tender == format!("T{i}")));
    }
}
