//! The trained model as data: a versioned JSON file, checked on load, and its scoring.
use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::features::{BaseFeature, MarketContext, RobustStat};
use super::ClassifyError;
use crate::alert::{Score, ScorePart};
use crate::screens::TenderScreens;

/// The model shipped with the engine (trained by `examples/train_classifier.rs`).
const BUILTIN_JSON: &str = include_str!("../../model/price-classifier-v1.json");

/// Market-relative values are kept within this many robust scales of the market median, so one
/// absurd tender cannot turn into an infinite input.
const MAX_RELATIVE: f64 = 1e6;

/// How a feature is measured before the model's own standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// The screen as computed (they are ratios and shape statistics, free of the price scale).
    Absolute,
    /// `(x − market median) / market robust scale`, from the [`MarketContext`] given at scoring, or
    /// from the model's pooled training figures when none is given.
    MarketRobustZ,
}

/// Whether a model input is the feature's value or the indicator that it is undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// The (normalised) value; an undefined value is imputed with the training mean (`z = 0`).
    Value,
    /// 1 when the value is undefined (too few bids, identical bids), else 0.
    Missing,
}

/// One model input: `z = clamp((x − center) / scale, ±clip)`, contributing `coefficient · z` to the logit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    pub name: String,
    pub base: BaseFeature,
    pub kind: FeatureKind,
    pub center: f64,
    pub scale: f64,
    pub coefficient: f64,
}

impl FeatureSpec {
    pub(crate) fn standard_name(base: BaseFeature, kind: FeatureKind) -> String {
        match kind {
            FeatureKind::Value => base.name().to_owned(),
            FeatureKind::Missing => format!("{}_missing", base.name()),
        }
    }

    /// The input as shown to a reviewer and its standardised value.
    pub(crate) fn input(&self, x: Option<f64>, clip: f64) -> (f64, f64) {
        let shown = match self.kind {
            FeatureKind::Value => x.unwrap_or(self.center),
            FeatureKind::Missing => f64::from(u8::from(x.is_none())),
        };
        let z = match (self.kind, x) {
            (FeatureKind::Value, None) => 0.0,
            _ => ((shown - self.center) / self.scale).clamp(-clip, clip),
        };
        (shown, if z.is_finite() { z } else { 0.0 })
    }
}

/// One input file of the training run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFile {
    pub file: String,
    pub sha256: String,
    pub tenders: usize,
    pub collusive: usize,
}

/// How the model was trained.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// Date of the training run, as given to the training program (never read from a clock).
    pub date: String,
    pub command: String,
    pub files: Vec<DataFile>,
    /// Tenders used (those with at least two valid bids).
    pub tenders: usize,
    /// L2 penalty on the standardised coefficients (mean weighted log-loss + l2/2·‖β‖²).
    pub l2: f64,
    pub class_weight: String,
    /// How the shipped setting was chosen among those evaluated.
    pub selection: String,
}

/// One line of the evaluation the training program ran, kept with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalRow {
    /// `within-market CV`, `pooled CV` or `LOMO`.
    pub protocol: String,
    /// The market tested.
    pub market: String,
    pub tenders: usize,
    pub collusive_share: f64,
    pub balanced_accuracy: Option<f64>,
    pub roc_auc: Option<f64>,
    pub accuracy: Option<f64>,
    /// Plain accuracy of always predicting the training majority class (its balanced accuracy and
    /// AUC are 0.5).
    pub majority_accuracy: Option<f64>,
}

/// A trained price-screen classifier: logistic regression over standardised screen features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    pub version: String,
    pub description: String,
    pub normalisation: Normalisation,
    /// Standardised inputs are clamped to `±clip`.
    pub clip: f64,
    pub intercept: f64,
    /// A tender is flagged when its score is at least this.
    pub threshold: f64,
    pub features: Vec<FeatureSpec>,
    /// Pooled training medians and scales: the context of last resort for market-relative models.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fallback_context: BTreeMap<BaseFeature, RobustStat>,
    pub training: TrainingInfo,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluation: Vec<EvalRow>,
}

static BUILTIN: OnceLock<Result<Model, ClassifyError>> = OnceLock::new();

impl Model {
    /// The model shipped inside the binary (no file is read at runtime); parsed and checked once.
    pub fn builtin() -> Result<&'static Model, ClassifyError> {
        BUILTIN
            .get_or_init(|| Model::from_json(BUILTIN_JSON))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A model from its JSON file, checked: finite numbers, positive scales and clip, a threshold in
    /// `(0, 1)`, unique feature names, and pooled figures for every feature of a market-relative model.
    pub fn from_json(json: &str) -> Result<Model, ClassifyError> {
        let m: Model =
            serde_json::from_str(json).map_err(|e| ClassifyError::Json(e.to_string()))?;
        m.check()?;
        Ok(m)
    }

    /// The model as pretty JSON with a final newline (the training program's output).
    pub fn to_json(&self) -> Result<String, ClassifyError> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| ClassifyError::Json(e.to_string()))
    }

    fn check(&self) -> Result<(), ClassifyError> {
        let bad = |what: String| Err(ClassifyError::Invalid(what));
        if self.features.is_empty() {
            return bad("no features".into());
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            return bad(format!("clip {}", self.clip));
        }
        if !self.intercept.is_finite() {
            return bad("intercept is not finite".into());
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return bad(format!("threshold {} outside (0, 1)", self.threshold));
        }
        let mut names = std::collections::BTreeSet::new();
        for f in &self.features {
            if !names.insert(f.name.as_str()) {
                return bad(format!("feature {} twice", f.name));
            }
            if !(f.center.is_finite() && f.coefficient.is_finite()) {
                return bad(format!("feature {}: non-finite figure", f.name));
            }
            if !(f.scale.is_finite() && f.scale > 0.0) {
                return bad(format!("feature {}: scale {}", f.name, f.scale));
            }
            if self.normalisation == Normalisation::MarketRobustZ
                && !self.fallback_context.contains_key(&f.base)
            {
                return bad(format!("feature {}: no pooled market figures", f.name));
            }
        }
        for (b, s) in &self.fallback_context {
            if !(s.median.is_finite() && s.scale.is_finite() && s.scale > 0.0) {
                return bad(format!("pooled figures of {}", b.name()));
            }
        }
        Ok(())
    }

    /// The feature's value as the model sees it, after market normalisation.
    pub(crate) fn normalised(
        &self,
        base: BaseFeature,
        screens: &TenderScreens,
        context: Option<&MarketContext>,
    ) -> Option<f64> {
        let x = base.value(screens)?;
        match self.normalisation {
            Normalisation::Absolute => Some(x),
            Normalisation::MarketRobustZ => {
                let st = context
                    .and_then(|c| c.features.get(&base))
                    .or_else(|| self.fallback_context.get(&base))?;
                let r = ((x - st.median) / st.scale).clamp(-MAX_RELATIVE, MAX_RELATIVE);
                r.is_finite().then_some(r)
            }
        }
    }

    /// Standardised inputs of one tender, with the values shown to a reviewer.
    pub(crate) fn inputs(
        &self,
        screens: &TenderScreens,
        context: Option<&MarketContext>,
    ) -> Vec<(f64, f64)> {
        self.features
            .iter()
            .map(|f| f.input(self.normalised(f.base, screens, context), self.clip))
            .collect()
    }

    /// Whether the classifier can say anything about the tender: at least two bids, all with a
    /// finite price above zero (exactly when the coefficient of variation is defined).
    pub fn scorable(screens: &TenderScreens) -> bool {
        screens.bids >= 2 && screens.cv.is_some_and(f64::is_finite)
    }

    /// The probability-like score that the tender is collusive, in `[0, 1]`, with each feature's
    /// contribution to the logit in `parts` (plus the intercept; the weights sum to the logit).
    ///
    /// `None` only when the tender is not [`Model::scorable`]. `context` is the market the tender
    /// belongs to (see [`MarketContext::from_screens`]); absolute models ignore it, and
    /// market-relative models without it use the pooled training figures.
    pub fn score(&self, screens: &TenderScreens, context: Option<&MarketContext>) -> Option<Score> {
        if !Self::scorable(screens) {
            return None;
        }
        let mut parts = vec![ScorePart {
            name: "intercept".into(),
            value: 1.0,
            weight: self.intercept,
        }];
        let mut logit = self.intercept;
        for (f, (shown, z)) in self.features.iter().zip(self.inputs(screens, context)) {
            let w = f.coefficient * z;
            logit += w;
            parts.push(ScorePart {
                name: f.name.clone(),
                value: if shown.is_finite() { shown } else { 0.0 },
                weight: w,
            });
        }
        let value = sigmoid(logit);
        Some(Score {
            value: if value.is_finite() { value } else { 0.5 },
            method: self.method(context.is_some()),
            parts,
        })
    }

    /// Scores every tender of a market, using the market itself as context.
    pub fn score_market(&self, screens: &[TenderScreens]) -> Vec<Option<Score>> {
        let ctx = MarketContext::from_screens(screens);
        screens.iter().map(|s| self.score(s, Some(&ctx))).collect()
    }

    /// Whether a score reaches the model's decision threshold.
    pub fn flags(&self, score: &Score) -> bool {
        score.value >= self.threshold
    }

    fn method(&self, with_context: bool) -> String {
        let norm = match (self.normalisation, with_context) {
            (Normalisation::Absolute, _) => "absolute screens",
            (Normalisation::MarketRobustZ, true) => "screens relative to the market given",
            (Normalisation::MarketRobustZ, false) => {
                "screens relative to the pooled training markets (no market given)"
            }
        };
        format!(
            "{} v{}: L2 logistic regression on {} inputs ({norm}); parts are contributions to the logit; flagged at score >= {}",
            self.name,
            self.version,
            self.features.len(),
            self.threshold
        )
    }
}

/// The logistic function, stable for large `|x|`.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::screens::screen_tender;
    use crate::screens::test_util::tender;

    fn screens(prices: &[f64]) -> TenderScreens {
        screen_tender(&tender(prices))
    }

    #[test]
    fn builtin_model_loads_and_round_trips() {
        let m = Model::builtin().unwrap();
        assert_eq!(m.version, "1");
        assert!(!m.training.files.is_empty());
        let again = Model::from_json(&m.to_json().unwrap()).unwrap();
        assert_eq!(&again, m);
    }

    #[test]
    fn scores_are_finite_and_parts_sum_to_the_logit() {
        let m = Model::builtin().unwrap();
        let cases: [&[f64]; 6] = [
            &[100.0, 101.0],
            &[100.0, 100.0, 100.0],
            &[100.0, 110.0, 120.0, 130.0, 170.0],
            &[1e-3, 1e12, 1.0, 2.0],
            &[5.0, 5.0, 5.0, 9.0, 9.0],
            &[1.0, 1.0 + 1e-15, 1.0, 1.0, 1.0, 1.0],
        ];
        for prices in cases {
            let s = screens(prices);
            for ctx in [None, Some(&MarketContext::default())] {
                let sc = m.score(&s, ctx).unwrap();
                assert!((0.0..=1.0).contains(&sc.value), "{prices:?}");
                let logit: f64 = sc.parts.iter().map(|p| p.weight).sum();
                assert!(logit.is_finite());
                assert!((sigmoid(logit) - sc.value).abs() < 1e-12);
                assert!(sc.parts.iter().all(|p| p.value.is_finite()));
                assert!(sc.method.contains("v1"));
            }
        }
        // Prices so far apart that the CV overflows: no CV, so no score (never NaN).
        assert!(m
            .score(&screens(&[1e-300, 1e300, 1.0, 2.0]), None)
            .is_none());
    }

    #[test]
    fn too_few_or_invalid_bids_get_no_score() {
        let m = Model::builtin().unwrap();
        assert!(m.score(&screens(&[]), None).is_none());
        assert!(m.score(&screens(&[100.0]), None).is_none());
        assert!(m.score(&screens(&[0.0, 100.0, 120.0]), None).is_none());
        assert!(m.score(&screens(&[100.0, 120.0]), None).is_some());
    }

    #[test]
    fn market_scoring_keeps_order_and_length() {
        let m = Model::builtin().unwrap();
        let market: Vec<TenderScreens> = (0..30)
            .map(|i| {
                screens(&[
                    100.0,
                    103.0 + f64::from(i),
                    110.0 + 2.0 * f64::from(i),
                    150.0,
                ])
            })
            .chain([screens(&[100.0])])
            .collect();
        let out = m.score_market(&market);
        assert_eq!(out.len(), 31);
        assert!(out[..30].iter().all(Option::is_some));
        assert!(out[30].is_none());
    }

    #[test]
    fn a_tight_cluster_scores_above_a_wide_spread() {
        // Collusive tenders in all three development markets show bids packed close together.
        let m = Model::builtin().unwrap();
        let tight = m
            .score(&screens(&[100.0, 100.4, 100.9, 101.1, 101.5]), None)
            .unwrap();
        let wide = m
            .score(&screens(&[100.0, 118.0, 131.0, 142.0, 170.0]), None)
            .unwrap();
        assert!(
            tight.value > wide.value,
            "{} vs {}",
            tight.value,
            wide.value
        );
    }

    #[test]
    fn malformed_models_are_refused() {
        let m = Model::builtin().unwrap();
        let mut bad = m.clone();
        bad.threshold = 1.5;
        assert!(Model::from_json(&bad.to_json().unwrap()).is_err());
        let mut bad = m.clone();
        bad.features[0].scale = 0.0;
        assert_eq!(
            Model::from_json(&bad.to_json().unwrap())
                .unwrap_err()
                .code(),
            "SCR0102ModelInvalid"
        );
        let mut bad = m.clone();
        bad.normalisation = Normalisation::MarketRobustZ;
        bad.fallback_context.clear();
        assert!(Model::from_json(&bad.to_json().unwrap()).is_err());
        assert_eq!(
            Model::from_json("{").unwrap_err().code(),
            "SCR0101ModelJson"
        );
        let extra = m.to_json().unwrap().replacen('{', "{\"surprise\": 1,", 1);
        assert!(Model::from_json(&extra).is_err());
    }
}
