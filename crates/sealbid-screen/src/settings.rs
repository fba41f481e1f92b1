//! The engine's settings. Every struct rejects unknown fields (a misspelt threshold must fail loudly,
//! not silently fall back to a default) and every field has a default, so `{}` is a valid configuration.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ScreenError;
use crate::patterns::{EstimateMultiples, IdenticalPrices, RegularPattern};
use crate::screens::Indicator;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How the market-level fences are drawn where no threshold is configured.
    pub fences: FenceSettings,
    /// Fixed thresholds per indicator; a side left unset falls back to the market's fence.
    pub thresholds: BTreeMap<Indicator, Thresholds>,
    pub identical_prices: IdenticalPrices,
    pub regular_pattern: RegularPattern,
    pub estimate_multiples: EstimateMultiples,
}

impl Settings {
    /// Checks the values serde cannot (ranges). Call once after loading.
    pub fn validate(&self) -> Result<(), ScreenError> {
        fn bad(field: &str, reason: &str) -> ScreenError {
            ScreenError::InvalidSetting {
                field: field.into(),
                reason: reason.into(),
            }
        }
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        if !(self.fences.k.is_finite() && self.fences.k > 0.0) {
            return Err(bad("fences.k", "must be a finite number above 0"));
        }
        if self.fences.min_tenders < 4 {
            return Err(bad("fences.min_tenders", "must be at least 4"));
        }
        for (indicator, t) in &self.thresholds {
            if t.low.is_some_and(|v| !v.is_finite()) || t.high.is_some_and(|v| !v.is_finite()) {
                return Err(bad(
                    &format!("thresholds.{}", indicator.name()),
                    "must be finite numbers",
                ));
            }
        }
        if !non_negative(self.identical_prices.rel_tolerance) {
            return Err(bad("identical_prices.rel_tolerance", "must be ≥ 0"));
        }
        if self.identical_prices.min_bids < 2 {
            return Err(bad("identical_prices.min_bids", "must be at least 2"));
        }
        if !non_negative(self.regular_pattern.rel_tolerance) {
            return Err(bad("regular_pattern.rel_tolerance", "must be ≥ 0"));
        }
        if self.regular_pattern.min_bids < 3 {
            return Err(bad("regular_pattern.min_bids", "must be at least 3"));
        }
        let e = &self.estimate_multiples;
        if !(e.step_percent.is_finite() && e.step_percent > 0.0) {
            return Err(bad("estimate_multiples.step_percent", "must be above 0"));
        }
        if !non_negative(e.tolerance_percent) || !non_negative(e.rounding_unit) {
            return Err(bad(
                "estimate_multiples.tolerance_percent/rounding_unit",
                "must be ≥ 0",
            ));
        }
        if e.min_bids < 2 {
            return Err(bad("estimate_multiples.min_bids", "must be at least 2"));
        }
        if !(e.min_share.is_finite() && (0.0..=1.0).contains(&e.min_share)) {
            return Err(bad("estimate_multiples.min_share", "must be in [0, 1]"));
        }
        Ok(())
    }
}

/// Tukey fences over a market: `Q1 − k·IQR` and `Q3 + k·IQR`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FenceSettings {
    /// Fence multiplier; 1.5 is Tukey's "outlier", 3 his "far out".
    pub k: f64,
    /// Fewer tenders with a value than this and no fence is drawn (quartiles of a handful of tenders
    /// say nothing about a market).
    pub min_tenders: usize,
}

impl Default for FenceSettings {
    fn default() -> Self {
        Self {
            k: 1.5,
            min_tenders: 8,
        }
    }
}

/// Configured thresholds for one indicator: a value below `low` or above `high` is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default() {
        let s: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, Settings::default());
        assert!(s.validate().is_ok());
        assert_eq!(s.fences.k, 1.5);
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        assert!(serde_json::from_str::<Settings>(r#"{"fence": {}}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"fences": {"kk": 3}}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"thresholds": {"cvv": {}}}"#).is_err());
        assert!(
            serde_json::from_str::<Settings>(r#"{"thresholds": {"cv": {"lo": 0.1}}}"#).is_err()
        );
        assert!(
            serde_json::from_str::<Settings>(r#"{"regular_pattern": {"tolerance": 0.1}}"#).is_err()
        );
    }

    #[test]
    fn partial_config_keeps_other_defaults() {
        let s: Settings = serde_json::from_str(
            r#"{"fences": {"k": 3}, "thresholds": {"winner_gap": {"low": 0.001}}}"#,
        )
        .unwrap();
        assert_eq!(s.fences.k, 3.0);
        assert_eq!(s.fences.min_tenders, 8);
        assert_eq!(s.thresholds[&Indicator::WinnerGap].low, Some(0.001));
        assert_eq!(s.identical_prices, IdenticalPrices::default());
    }

    #[test]
    fn out_of_range_values_fail_validation_with_a_code() {
        let s: Settings = serde_json::from_str(r#"{"fences": {"k": -1}}"#).unwrap();
        assert_eq!(s.validate().unwrap_err().code(), "SCR0006InvalidSetting");
        let s: Settings =
            serde_json::from_str(r#"{"estimate_multiples": {"min_share": 2}}"#).unwrap();
        assert!(s.validate().is_err());
    }
}
