//! The classifier's inputs: scale-free figures taken from [`TenderScreens`] only (no estimate, no
//! bidder ids), and the market context that market-relative models measure them against.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::screens::TenderScreens;

/// A figure the classifier can read from a tender's screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseFeature {
    Cv,
    Spread,
    Diffp,
    Rd,
    Kurtosis,
    Skewness,
    Ks,
    WinnerGap,
    /// Natural logarithm of the number of bids.
    LogBids,
}

impl BaseFeature {
    pub const ALL: [BaseFeature; 9] = [
        Self::Cv,
        Self::Spread,
        Self::Diffp,
        Self::Rd,
        Self::Kurtosis,
        Self::Skewness,
        Self::Ks,
        Self::WinnerGap,
        Self::LogBids,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Cv => "cv",
            Self::Spread => "spread",
            Self::Diffp => "diffp",
            Self::Rd => "rd",
            Self::Kurtosis => "kurtosis",
            Self::Skewness => "skewness",
            Self::Ks => "ks",
            Self::WinnerGap => "winner_gap",
            Self::LogBids => "log_bids",
        }
    }

    /// The figure for one tender; `None` where the screen is undefined (never NaN or infinite).
    pub fn value(self, s: &TenderScreens) -> Option<f64> {
        let v = match self {
            Self::Cv => s.cv,
            Self::Spread => s.spread,
            Self::Diffp => s.diffp,
            Self::Rd => s.rd,
            Self::Kurtosis => s.kurtosis,
            Self::Skewness => s.skewness,
            Self::Ks => s.ks,
            Self::WinnerGap => s.winner_gap,
            Self::LogBids => (s.bids > 0).then(|| (s.bids as f64).ln()),
        };
        v.filter(|x| x.is_finite())
    }
}

/// A location and a scale: the median and the interquartile range divided by 1.349 (the standard
/// deviation of a normal distribution with that IQR).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustStat {
    pub median: f64,
    pub scale: f64,
    /// How many values the figures rest on.
    pub count: usize,
}

/// Fewest tenders with a defined figure for a market's own median and IQR to be used; below it the
/// model's pooled training figures stand in for that feature.
pub const MIN_CONTEXT_TENDERS: usize = 20;

impl RobustStat {
    /// `None` below [`MIN_CONTEXT_TENDERS`] values or when the IQR is nil (over half the values equal).
    pub fn from_values(values: &[f64]) -> Option<Self> {
        Self::from_values_min(values, MIN_CONTEXT_TENDERS)
    }

    pub(crate) fn from_values_min(values: &[f64], min: usize) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.len() < min.max(2) {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let median = quantile(&v, 0.5);
        let scale = (quantile(&v, 0.75) - quantile(&v, 0.25)) / 1.349;
        (scale.is_finite() && scale > 0.0 && median.is_finite()).then_some(Self {
            median,
            scale,
            count: v.len(),
        })
    }
}

/// Linear-interpolation quantile of sorted, non-empty values (numpy's default, "type 7").
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let a = sorted.get(lo).copied().unwrap_or(f64::NAN);
    let b = sorted.get(hi).copied().unwrap_or(a);
    a + (h - lo as f64) * (b - a)
}

/// The market a tender is scored against: each feature's median and robust scale over the market's
/// tenders (past tenders of the same buyer, region or category, as the platform chooses). Only
/// market-relative models use it; features with too few values are left out and fall back to the
/// model's pooled training figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MarketContext {
    /// Tenders the context was built from.
    pub tenders: usize,
    pub features: BTreeMap<BaseFeature, RobustStat>,
}

impl MarketContext {
    /// The context of a market from its tenders' screens (no labels are involved).
    pub fn from_screens(screens: &[TenderScreens]) -> Self {
        let features = BaseFeature::ALL
            .into_iter()
            .filter_map(|f| {
                let values: Vec<f64> = screens.iter().filter_map(|s| f.value(s)).collect();
                RobustStat::from_values(&values).map(|st| (f, st))
            })
            .collect();
        Self {
            tenders: screens.len(),
            features,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 0.75), 3.25);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn robust_stat_needs_enough_spread_values() {
        assert!(RobustStat::from_values(&[1.0; 50]).is_none());
        assert!(RobustStat::from_values(&[1.0, 2.0, 3.0]).is_none());
        let v: Vec<f64> = (0..21).map(f64::from).collect();
        let s = RobustStat::from_values(&v).unwrap();
        assert_eq!(s.median, 10.0);
        assert!((s.scale - 10.0 / 1.349).abs() < 1e-12);
        assert_eq!(s.count, 21);
    }

    #[test]
    fn names_serialise_as_declared() {
        for f in BaseFeature::ALL {
            assert_eq!(
                serde_json::to_string(&f).unwrap(),
                format!("\"{}\"", f.name())
            );
        }
    }
}
