//! The price-screen classifier: a score in `[0, 1]` that a tender's prices look collusive, from the
//! per-tender screens alone (CV, spread, DIFFP, RD, kurtosis, skewness, KS, winner gap, number of
//! bids). It needs no estimate and no bidder ids, so it works on any market.
//!
//! The model is data: a versioned JSON file (`model/price-classifier-v1.json`) trained by
//! `examples/train_classifier.rs` on the labelled development markets and embedded in the binary
//! ([`Model::builtin`]). Each score lists every input's contribution to the logit, so a reviewer sees
//! how it was reached. See `docs/screening.md` for the features, the evaluation and the limits.
//!
//! Scoring one tender: [`Model::score`] with the market's [`MarketContext`] when there is one (built
//! from the screens of the market's other tenders), or `None`. A whole market: [`Model::score_market`].
use thiserror::Error;

pub mod eval;
pub mod features;
pub mod model;
pub mod train;

pub use features::{BaseFeature, MarketContext, RobustStat, MIN_CONTEXT_TENDERS};
pub use model::{DataFile, EvalRow, FeatureKind, FeatureSpec, Model, Normalisation, TrainingInfo};
pub use train::{fit, Example, TrainConfig};

/// What can go wrong loading or training a model.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClassifyError {
    /// The model file is not valid JSON of the expected shape.
    #[error("model file is not valid: {0}")]
    Json(String),
    /// The model file parses but its figures are unusable.
    #[error("model is invalid: {0}")]
    Invalid(String),
    /// Training could not produce a model.
    #[error("training failed: {0}")]
    Training(String),
}

impl ClassifyError {
    /// Stable code, in the style of [`crate::ScreenError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::Json(_) => "SCR0101ModelJson",
            Self::Invalid(_) => "SCR0102ModelInvalid",
            Self::Training(_) => "SCR0103TrainingFailed",
        }
    }
}
