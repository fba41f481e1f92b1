//! The anomaly engine's price side: per-tender price screens, market-level interquartile fences, and
//! the price patterns between bidders that 条例 40(4) deems collusion. Pure computation: nothing here
//! touches a file, a clock or the network; the CSV reader parses whatever reader it is handed.
//!
//! Shaped like cardinal-rs: one indicator per file behind one small trait ([`Screen`] for the per-tender
//! figures, [`Pattern`] for the findings between bidders), settings structs that reject unknown fields,
//! and thresholds that default to interquartile fences over the market when none is configured.
//!
//! Prices are `f64` inside the engine: the screens are statistics, not accounting. They enter once, through
//! [`Bid::from_decimal`] (the platform's `Money` is a `Decimal`) or through the CSV reader.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod alert;
pub mod chart;
pub mod classify;
pub mod csv_input;
pub mod documents;
pub mod engine;
pub mod error;
pub mod fences;
pub mod history;
pub mod input;
pub mod links;
pub mod ocds_input;
pub mod patterns;
pub mod screens;
pub mod settings;
mod stats;
pub mod unit_prices;

pub use alert::{Alert, Evidence, Family, LegalGround, Passage, PassagePair, Score, ScorePart};
pub use classify::{ClassifyError, MarketContext, Model};
pub use csv_input::{read_csv, read_csv_str, CsvOutcome, LineError};
pub use error::ScreenError;
pub use fences::{flag_all, flag_outliers, Fences, Outlier, Side, ThresholdSource};
pub use input::{Bid, TenderBids};
pub use patterns::{detect_patterns, BidRef, Finding, Pattern, PatternKind};
pub use screens::{screen_market, screen_tender, Indicator, PriceView, Screen, TenderScreens};
pub use settings::{FenceSettings, Settings, Thresholds};
