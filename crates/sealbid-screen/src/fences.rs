//! Market-level thresholds: where no threshold is configured for an indicator, a tender is an outlier
//! when its figure falls outside Tukey's fences `Q1 − k·IQR`, `Q3 + k·IQR` over all tenders of the
//! market. Quartiles use linear interpolation between order statistics (Hyndman–Fan type 7, the default
//! of numpy and R), so they can be checked against either.
use serde::Serialize;

use crate::alert::{Alert, Evidence, Family, Score, ScorePart};
use crate::screens::{Indicator, TenderScreens};
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fences {
    pub q1: f64,
    pub q3: f64,
    pub k: f64,
    pub low: f64,
    pub high: f64,
}

impl Fences {
    /// Fences over the finite values of `values`; `None` if fewer than `min_values` remain or `k` is not
    /// a finite positive number. An IQR of 0 (half the market on one value) gives fences at that value:
    /// any other value is then an outlier, which is what Tukey's rule says; raise `min_tenders` or set a
    /// threshold if that market is that uniform.
    pub fn from_values(values: &[f64], k: f64, min_values: usize) -> Option<Self> {
        if !(k.is_finite() && k > 0.0) {
            return None;
        }
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() || v.len() < min_values {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q1 = quantile(&v, 0.25)?;
        let q3 = quantile(&v, 0.75)?;
        let iqr = q3 - q1;
        Some(Self {
            q1,
            q3,
            k,
            low: q1 - k * iqr,
            high: q3 + k * iqr,
        })
    }
}

/// Type-7 quantile of sorted, non-empty values.
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor();
    let below = *sorted.get(lo as usize)?;
    let above = *sorted.get(h.ceil() as usize)?;
    Some(below + (h - lo) * (above - below))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Low,
    High,
}

/// Where the threshold that was crossed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    Configured,
    Fence,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    pub tender: String,
    pub indicator: Indicator,
    pub value: f64,
    pub side: Side,
    /// The threshold the value crossed.
    pub threshold: f64,
    pub source: ThresholdSource,
    /// The market's fences, when they were drawn (evidence even for a configured threshold).
    pub fences: Option<Fences>,
}

/// Tenders whose `indicator` falls below the low or above the high threshold. A configured threshold
/// wins over the fence on its side; a side with neither flags nothing. Tenders without a value are
/// skipped.
pub fn flag_outliers(
    screens: &[TenderScreens],
    indicator: Indicator,
    settings: &Settings,
) -> Vec<Outlier> {
    let values: Vec<f64> = screens.iter().filter_map(|s| s.get(indicator)).collect();
    let fences = Fences::from_values(&values, settings.fences.k, settings.fences.min_tenders);
    let configured = settings
        .thresholds
        .get(&indicator)
        .copied()
        .unwrap_or_default();
    let low = configured
        .low
        .map(|t| (t, ThresholdSource::Configured))
        .or(fences.map(|f| (f.low, ThresholdSource::Fence)));
    let high = configured
        .high
        .map(|t| (t, ThresholdSource::Configured))
        .or(fences.map(|f| (f.high, ThresholdSource::Fence)));

    screens
        .iter()
        .filter_map(|s| {
            let value = s.get(indicator)?;
            let (side, (threshold, source)) = match (low, high) {
                (Some(l), _) if value < l.0 => (Side::Low, l),
                (_, Some(h)) if value > h.0 => (Side::High, h),
                _ => return None,
            };
            Some(Outlier {
                tender: s.tender.clone(),
                indicator,
                value,
                side,
                threshold,
                source,
                fences,
            })
        })
        .collect()
}

/// [`flag_outliers`] for every indicator, in [`Indicator::ALL`] order.
pub fn flag_all(screens: &[TenderScreens], settings: &Settings) -> Vec<Outlier> {
    Indicator::ALL
        .into_iter()
        .flat_map(|i| flag_outliers(screens, i, settings))
        .collect()
}

/// Highest score a statistical outlier can reach: it is grounds for a look, not a deemed case, and
/// ranks below a price pattern of 条例 40(4).
pub const OUTLIER_SCORE_CAP: f64 = 0.8;

/// An outlier's score: `min(0.8, 1 − exp(−d / s))`, where `d` is how far the value lies beyond the
/// threshold it crossed and `s` the market's IQR (`Q3 − Q1`). Just past the fence scores near 0, one
/// IQR beyond it 0.63, from 1.6 IQRs on 0.8 (the cap). Without fences (a configured threshold, too
/// few tenders) or with an IQR of 0, `s` is the threshold's magnitude (distance relative to it), or 1
/// when that is 0.
pub fn outlier_score(o: &Outlier) -> Score {
    let d = (o.value - o.threshold).abs();
    let iqr = o
        .fences
        .map(|f| f.q3 - f.q1)
        .filter(|s| s.is_finite() && *s > 0.0);
    let (scale, scale_name) = match iqr {
        Some(s) => (s, "iqr"),
        None if o.threshold.abs() > 0.0 && o.threshold.is_finite() => {
            (o.threshold.abs(), "threshold")
        }
        None => (1.0, "unit"),
    };
    let value = (1.0 - (-d / scale).exp()).min(OUTLIER_SCORE_CAP);
    Score {
        value,
        method: format!(
            "min({OUTLIER_SCORE_CAP}, 1 − exp(−distance beyond the threshold / {scale_name}))"
        ),
        parts: vec![
            ScorePart {
                name: "distance".into(),
                value: d,
                weight: value,
            },
            ScorePart {
                name: scale_name.into(),
                value: scale,
                weight: 0.0,
            },
        ],
    }
}

/// A market outlier as the engine's one output shape: family [`Family::PriceScreen`], no legal ground
/// (a statistical outlier is grounds for a look), no bidders (the figure concerns the tender),
/// [`outlier_score`], the value, threshold and fences as figures and the side and source as facts.
impl From<Outlier> for Alert {
    fn from(o: Outlier) -> Self {
        let score = outlier_score(&o);
        let mut evidence = Evidence::default();
        evidence.figures.insert("value".into(), o.value);
        evidence.figures.insert("threshold".into(), o.threshold);
        if let Some(f) = o.fences {
            for (k, v) in [
                ("q1", f.q1),
                ("q3", f.q3),
                ("k", f.k),
                ("fence_low", f.low),
                ("fence_high", f.high),
            ] {
                evidence.figures.insert(k.into(), v);
            }
        }
        let (side, cmp) = match o.side {
            Side::Low => ("low", "below"),
            Side::High => ("high", "above"),
        };
        let (source, source_text) = match o.source {
            ThresholdSource::Configured => ("configured", "configured threshold"),
            ThresholdSource::Fence => ("fence", "market fence"),
        };
        evidence.facts.insert("side".into(), side.into());
        evidence.facts.insert("source".into(), source.into());
        let summary = format!(
            "{} {:.4} is {side}: {cmp} the {source_text} {:.4}",
            o.indicator.name(),
            o.value,
            o.threshold
        );
        Alert::new(
            o.tender,
            Family::PriceScreen,
            o.indicator.name(),
            None,
            Vec::new(),
            score,
            summary,
            evidence,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::settings::Thresholds;

    fn market(gaps: &[Option<f64>]) -> Vec<TenderScreens> {
        gaps.iter()
            .enumerate()
            .map(|(i, &g)| TenderScreens {
                tender: format!("T{i}"),
                bids: 5,
                cv: None,
                spread: None,
                diffp: None,
                rd: None,
                kurtosis: None,
                skewness: None,
                ks: None,
                winner_gap: g,
            })
            .collect()
    }

    #[test]
    fn quartiles_interpolate_like_numpy() {
        // 1..=8: h = 7·0.25 = 1.75 → 2 + 0.75·1 = 2.75; h = 5.25 → 6.25 (numpy.percentile agrees)
        let v: Vec<f64> = (1..=8).map(f64::from).collect();
        let f = Fences::from_values(&v, 1.5, 4).unwrap();
        assert_eq!((f.q1, f.q3), (2.75, 6.25));
        // IQR 3.5 → fences 2.75 − 5.25 = −2.5 and 6.25 + 5.25 = 11.5
        assert_eq!((f.low, f.high), (-2.5, 11.5));
    }

    #[test]
    fn too_few_values_or_bad_k_draw_no_fence() {
        assert!(Fences::from_values(&[1.0, 2.0, 3.0], 1.5, 4).is_none());
        assert!(Fences::from_values(&[1.0, 2.0, 3.0, f64::NAN], 1.5, 4).is_none());
        assert!(Fences::from_values(&[1.0, 2.0, 3.0, 4.0], 0.0, 4).is_none());
        assert!(Fences::from_values(&[], 1.5, 0).is_none());
    }

    #[test]
    fn abnormally_small_and_large_gaps_are_flagged() {
        // gaps 0.04..0.11 step 0.01 plus 0.0005 and 0.60, and a tender with no gap
        let mut gaps: Vec<Option<f64>> = (4..=11).map(|i| Some(f64::from(i) / 100.0)).collect();
        gaps.extend([Some(0.0005), Some(0.60), None]);
        let m = market(&gaps);
        let out = flag_outliers(&m, Indicator::WinnerGap, &Settings::default());
        // sorted: 0.0005, 0.04 … 0.11, 0.60 (10 values): Q1 at h = 2.25 → 0.05 + 0.25·0.01 = 0.0525,
        // Q3 at h = 6.75 → 0.09 + 0.75·0.01 = 0.0975; IQR 0.045; fences −0.015 and 0.165.
        // 0.0005 is not below −0.015: only 0.60 is flagged.
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].tender, "T9");
        assert_eq!(out[0].side, Side::High);
        let f = out[0].fences.unwrap();
        assert!((f.low + 0.015).abs() < 1e-12 && (f.high - 0.165).abs() < 1e-12);

        // A configured low threshold catches the suspiciously small gap; the high side keeps the fence.
        let mut s = Settings::default();
        s.thresholds.insert(
            Indicator::WinnerGap,
            Thresholds {
                low: Some(0.001),
                high: None,
            },
        );
        let out = flag_outliers(&m, Indicator::WinnerGap, &s);
        let sides: Vec<_> = out
            .iter()
            .map(|o| (o.tender.as_str(), o.side, o.source))
            .collect();
        assert_eq!(
            sides,
            [
                ("T8", Side::Low, ThresholdSource::Configured),
                ("T9", Side::High, ThresholdSource::Fence)
            ]
        );
    }

    #[test]
    fn a_tight_market_flags_a_tiny_gap_by_fence() {
        // 0.001, 0.050 … 0.057 (9 values): Q1 (h = 2) = 0.051, Q3 (h = 6) = 0.055, IQR 0.004 → low fence 0.045
        let mut gaps: Vec<Option<f64>> =
            (0..8).map(|i| Some(0.05 + f64::from(i) * 0.001)).collect();
        gaps.push(Some(0.001));
        let out = flag_outliers(&market(&gaps), Indicator::WinnerGap, &Settings::default());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].tender.as_str(), out[0].side), ("T8", Side::Low));
        assert_eq!(out[0].source, ThresholdSource::Fence);
    }

    #[test]
    fn k_is_configurable() {
        let gaps: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 16.0]
            .into_iter()
            .map(Some)
            .collect();
        let m = market(&gaps);
        // Q1 = 3, Q3 = 7, IQR = 4: k = 1.5 → high fence 13 (16 flagged); k = 3 → 19 (nothing)
        assert_eq!(
            flag_outliers(&m, Indicator::WinnerGap, &Settings::default()).len(),
            1
        );
        let mut s = Settings::default();
        s.fences.k = 3.0;
        assert!(flag_outliers(&m, Indicator::WinnerGap, &s).is_empty());
        assert!(flag_all(&m, &s).is_empty());
    }

    #[test]
    fn outliers_become_scored_alerts_without_a_legal_ground() {
        // 1..8 and 16: Q1 = 3, Q3 = 7, IQR 4, high fence 13; 16 is 3 beyond it → 1 − e^(−0.75)
        let gaps: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 16.0]
            .into_iter()
            .map(Some)
            .collect();
        let out = flag_outliers(&market(&gaps), Indicator::WinnerGap, &Settings::default());
        let a = Alert::from(out[0].clone());
        assert_eq!(a.family, Family::PriceScreen);
        assert_eq!(a.indicator, "winner_gap");
        assert!(a.legal_ground.is_none() && a.bidders.is_empty());
        assert!((a.score.value - (1.0 - (-0.75f64).exp())).abs() < 1e-12);
        assert_eq!(a.evidence.figures["fence_high"], 13.0);
        assert_eq!(a.evidence.facts["side"], "high");
        assert_eq!(a.evidence.facts["source"], "fence");
        // Far beyond the fence: capped.
        let mut far = out[0].clone();
        far.value = 1e9;
        assert_eq!(Alert::from(far).score.value, OUTLIER_SCORE_CAP);
    }

    #[test]
    fn outlier_scores_without_fences_or_spread_stay_finite() {
        let o = Outlier {
            tender: "T".into(),
            indicator: Indicator::Cv,
            value: 0.0,
            side: Side::Low,
            threshold: 0.0,
            source: ThresholdSource::Configured,
            fences: None,
        };
        let a = Alert::from(o.clone());
        assert_eq!(a.score.value, 0.0);
        let zero_iqr = Outlier {
            value: 0.2,
            threshold: 0.1,
            side: Side::High,
            fences: Some(Fences {
                q1: 0.1,
                q3: 0.1,
                k: 1.5,
                low: 0.1,
                high: 0.1,
            }),
            ..o
        };
        // IQR 0: distance relative to the threshold, 0.1 / 0.1 → 1 − e^(−1)
        let s = Alert::from(zero_iqr).score;
        assert!((s.value - (1.0 - (-1.0f64).exp())).abs() < 1e-12, "{s:?}");
        assert_eq!(s.parts[1].name, "threshold");
    }
}
