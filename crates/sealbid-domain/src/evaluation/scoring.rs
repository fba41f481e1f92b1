//! Scoring, aggregation and ranking of the bids by the evaluation committee (法 41; 条例 51, 53).
//!
//! Everything here is pure: the caller gathers the scheme from the tender documents, the bids with
//! their mandatory-rejection facts and the members' score sheets, and [`evaluate`] returns the
//! [`Outcome`] that goes into the signed evaluation report.
//!
//! # Award methods (法 41)
//! * **Lowest evaluated price** ([`EvaluationMethod::LowestEvaluatedPrice`]): the scheme has no
//!   scored criteria; the valid bids rank by ascending price. A price below cost is a mandatory
//!   rejection, so it never ranks.
//! * **Comprehensive scoring** ([`EvaluationMethod::ComprehensiveScoring`]): technical and
//!   commercial criteria are scored by each member on a [`ScoreSheet`]; exactly one price criterion
//!   is scored by the [`PriceFormula`], never by a member. The criteria's maxima (their weights)
//!   add up to 100.
//!
//! # Formulas and rounding
//! All arithmetic is exact [`Decimal`] arithmetic; rounding is to 2 decimal places, halves away
//! from zero (the accounting rounding also used by [`crate::Money`]), at these steps only:
//! * **Lowest valid price** ([`PriceFormula::LowestValid`]):
//!   `price score = round₂(max × lowest valid price ÷ price)`. The lowest bid scores `max`.
//! * **Benchmark** ([`PriceFormula::Benchmark`]): take the prices of the valid bids; when
//!   `exclude_extremes` is set and there are at least 5 of them, drop one highest and one lowest;
//!   `benchmark = round₂(mean × factor)` (the benchmark is a price, so it is rounded to the fen
//!   before use, and never below 0.01). Then the deviation in percent is
//!   `d = (price − benchmark) ÷ benchmark × 100`, exact and interpolated (half a percent deducts
//!   half the points); `deduction = d × deduction_above` when `d > 0`, `|d| × deduction_below` when
//!   `d < 0`; `price score = round₂(max(0, max − deduction))`.
//! * **Member total**: the exact sum of the member's scores on the non-price criteria.
//! * **Aggregate** of a bid: the mean of its members' totals, after dropping the single highest
//!   and the single lowest total when the committee has at least
//!   [`ScoringRules::trim_from_members`] (7) members; rounded to 2 dp. The technical and commercial
//!   parts shown in the report are the means of the same members' part subtotals, each rounded to
//!   2 dp (so they may differ from the aggregate by 0.01). `total = aggregate + price score`.
//!
//! # Outliers
//! A member's total on a bid is flagged for a written explanation when it differs from the
//! median of the other members' totals on that bid by more than
//! [`ScoringRules::outlier_percent`] (20 %) of the highest total a member can give (the sum of
//! the non-price maxima). A flag never changes a score: the member explains, the scores stand.
//! The fixed share of the scale was preferred over 2 × MAD because the committee is small (5–9
//! members): the MAD of a few identical scores is zero and would flag any difference at all.
//!
//! # Ties (published rule)
//! Bids with equal standing (equal price under lowest evaluated price, equal total under
//! comprehensive scoring) are ordered by (1) the higher price score, i.e. the lower price; then
//! (2) the higher technical part; then (3) the earlier submission (lower log index). The rule
//! that separated a bid from the one ranked just above it is recorded in [`RankedBid::tie_break`].
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::tender::{EvaluationMethod, TenderTerms};
use crate::{AlertId, BidId, OrgId, UserId};

/// Which part of the evaluation a criterion belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Technical,
    Commercial,
    Price,
}

/// One scoring criterion of the tender documents; `max` is its weight in points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub part: Part,
    pub label: String,
    pub max: Decimal,
}

/// How the price criterion is scored under comprehensive scoring. See the module documentation
/// for the formulas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriceFormula {
    /// `max × lowest valid price ÷ price`.
    LowestValid,
    /// Deductions from `max` per percent away from a benchmark derived from the valid bids.
    Benchmark {
        /// Drop one highest and one lowest price before averaging, when there are ≥ 5 valid bids.
        exclude_extremes: bool,
        /// The factor K applied to the mean, in (0, 1]; commonly 0.95–1.00.
        factor: Decimal,
        /// Points deducted per 1 % above the benchmark (e.g. 1).
        deduction_above: Decimal,
        /// Points deducted per 1 % below the benchmark (e.g. 0.5).
        deduction_below: Decimal,
    },
}

impl PriceFormula {
    /// The common benchmark formula: extremes excluded, K = 1, 1 point per 1 % above and 0.5 per
    /// 1 % below.
    pub fn common_benchmark() -> PriceFormula {
        PriceFormula::Benchmark {
            exclude_extremes: true,
            factor: Decimal::ONE,
            deduction_above: Decimal::ONE,
            deduction_below: Decimal::new(5, 1),
        }
    }
}

/// A tender's scoring scheme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub method: EvaluationMethod,
    pub criteria: Vec<Criterion>,
    pub price_formula: PriceFormula,
}

/// Figures of the evaluation that are configurable; the defaults are the law's or common practice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringRules {
    /// At most this many ranked candidates (条例 53).
    pub max_candidates: usize,
    /// From this committee size on, each bid's single highest and lowest totals are dropped.
    pub trim_from_members: usize,
    /// Flag a member's total further than this percentage of the highest possible total from the
    /// median of the other members' totals.
    pub outlier_percent: Decimal,
    /// Smallest committee (法 37: at least 5 members, an odd number).
    pub min_committee: usize,
}

impl Default for ScoringRules {
    fn default() -> Self {
        ScoringRules {
            max_candidates: 3,
            trim_from_members: 7,
            outlier_percent: Decimal::from(20),
            min_committee: 5,
        }
    }
}

/// Why the evaluation could not be computed. Each variant has a stable [`ScoringError::code`];
/// all are the caller's input errors (422), except [`ScoringError::Arithmetic`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    #[error("the criteria's maxima add up to {sum}; they must add up to 100")]
    WeightsNotHundred { sum: Decimal },
    #[error("criterion \"{criterion}\" has maximum {max}; a maximum must be greater than zero and at most 100")]
    InvalidMax { criterion: String, max: Decimal },
    #[error("comprehensive scoring needs exactly one price criterion; the scheme has {count}")]
    PriceCriteria { count: usize },
    #[error("the lowest-evaluated-price method scores no criteria; remove them from the scheme")]
    CriteriaNotScored,
    #[error("criterion id \"{criterion}\" is empty or used twice")]
    DuplicateCriterion { criterion: String },
    #[error("the benchmark factor K is {factor}; it must be greater than 0 and at most 1")]
    InvalidFactor { factor: Decimal },
    #[error("a deduction per percent is {got}; it must be between 0 and 100")]
    InvalidDeduction { got: Decimal },
    #[error("the outlier threshold is {got}%; it must be greater than 0 and at most 100")]
    InvalidOutlierThreshold { got: Decimal },
    #[error(
        "a committee of {size} members: it needs at least {min} members and an odd number (法 37)"
    )]
    InvalidCommittee { size: usize, min: usize },
    #[error("bid {bid} appears twice")]
    DuplicateBid { bid: BidId },
    #[error("bid {bid} has price {price}; a price must be an amount of yuan greater than zero")]
    InvalidPrice { bid: BidId, price: Decimal },
    #[error("a score sheet refers to bid {bid}, which is not among the bids evaluated")]
    UnknownBid { bid: BidId },
    #[error("member {evaluator} handed in two score sheets for bid {bid}")]
    DuplicateSheet { bid: BidId, evaluator: UserId },
    #[error("bid {bid} has {got} score sheets; each of the {expected} members must score it")]
    MissingSheets {
        bid: BidId,
        expected: usize,
        got: usize,
    },
    #[error("{got} different members handed in score sheets; the committee has {expected}")]
    EvaluatorCount { expected: usize, got: usize },
    #[error("criterion \"{criterion}\" scores from 0 to {max}; {got} is outside that range")]
    ScoreOutOfRange {
        bid: BidId,
        evaluator: UserId,
        criterion: String,
        max: Decimal,
        got: Decimal,
    },
    #[error("member {evaluator} gave no score for criterion \"{criterion}\" on bid {bid}")]
    MissingScore {
        bid: BidId,
        evaluator: UserId,
        criterion: String,
    },
    #[error("the scheme has no criterion \"{criterion}\" (score sheet of member {evaluator} for bid {bid})")]
    UnknownCriterion {
        bid: BidId,
        evaluator: UserId,
        criterion: String,
    },
    #[error("criterion \"{criterion}\" is the price criterion: it is computed by the price formula, not scored by members")]
    PriceScoredByFormula { criterion: String },
    #[error("an intermediate result of the evaluation is out of range")]
    Arithmetic,
}

impl ScoringError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ScoringError::WeightsNotHundred { .. } => "weights_not_100",
            ScoringError::InvalidMax { .. } => "invalid_criterion_max",
            ScoringError::PriceCriteria { .. } => "price_criteria",
            ScoringError::CriteriaNotScored => "criteria_not_scored",
            ScoringError::DuplicateCriterion { .. } => "duplicate_criterion",
            ScoringError::InvalidFactor { .. } => "invalid_benchmark_factor",
            ScoringError::InvalidDeduction { .. } => "invalid_deduction",
            ScoringError::InvalidOutlierThreshold { .. } => "invalid_outlier_threshold",
            ScoringError::InvalidCommittee { .. } => "invalid_committee",
            ScoringError::DuplicateBid { .. } => "duplicate_bid",
            ScoringError::InvalidPrice { .. } => "invalid_price",
            ScoringError::UnknownBid { .. } => "unknown_bid",
            ScoringError::DuplicateSheet { .. } => "duplicate_sheet",
            ScoringError::MissingSheets { .. } => "missing_sheets",
            ScoringError::EvaluatorCount { .. } => "evaluator_count",
            ScoringError::ScoreOutOfRange { .. } => "score_out_of_range",
            ScoringError::MissingScore { .. } => "missing_score",
            ScoringError::UnknownCriterion { .. } => "unknown_criterion",
            ScoringError::PriceScoredByFormula { .. } => "price_scored_by_formula",
            ScoringError::Arithmetic => "arithmetic_overflow",
        }
    }
}

/// Round to 2 decimal places, halves away from zero, with the scale fixed at 2 (`"85.00"`).
pub fn round2(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

fn div(a: Decimal, b: Decimal) -> Result<Decimal, ScoringError> {
    a.checked_div(b).ok_or(ScoringError::Arithmetic)
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, ScoringError> {
    a.checked_mul(b).ok_or(ScoringError::Arithmetic)
}

fn sum<'a>(values: impl IntoIterator<Item = &'a Decimal>) -> Result<Decimal, ScoringError> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))
        .ok_or(ScoringError::Arithmetic)
}

fn mean(values: &[Decimal]) -> Result<Decimal, ScoringError> {
    div(sum(values)?, Decimal::from(values.len()))
}

/// The median of `values` (the mean of the two middle values for an even count); zero if empty.
fn median(values: &mut [Decimal]) -> Result<Decimal, ScoringError> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => Ok(Decimal::ZERO),
        _ if n % 2 == 1 => Ok(values[n / 2]),
        _ => div(values[n / 2 - 1] + values[n / 2], Decimal::TWO),
    }
}

impl Scheme {
    /// Checks the scheme: unique non-empty ids; each maximum in (0, 100]; for comprehensive
    /// scoring, maxima adding up to 100 and exactly one price criterion, and a sound price
    /// formula; for lowest evaluated price, no criteria.
    pub fn validate(&self) -> Result<(), ScoringError> {
        let mut ids = BTreeSet::new();
        for c in &self.criteria {
            if c.id.trim().is_empty() || !ids.insert(c.id.as_str()) {
                return Err(ScoringError::DuplicateCriterion {
                    criterion: c.id.clone(),
                });
            }
            if c.max <= Decimal::ZERO || c.max > Decimal::ONE_HUNDRED {
                return Err(ScoringError::InvalidMax {
                    criterion: c.id.clone(),
                    max: c.max,
                });
            }
        }
        match self.method {
            EvaluationMethod::LowestEvaluatedPrice => {
                if !self.criteria.is_empty() {
                    return Err(ScoringError::CriteriaNotScored);
                }
            }
            EvaluationMethod::ComprehensiveScoring => {
                let total = sum(self.criteria.iter().map(|c| &c.max))?;
                if total != Decimal::ONE_HUNDRED {
                    return Err(ScoringError::WeightsNotHundred { sum: total });
                }
                let count = self
                    .criteria
                    .iter()
                    .filter(|c| c.part == Part::Price)
                    .count();
                if count != 1 {
                    return Err(ScoringError::PriceCriteria { count });
                }
                if let PriceFormula::Benchmark {
                    factor,
                    deduction_above,
                    deduction_below,
                    ..
                } = &self.price_formula
                {
                    if *factor <= Decimal::ZERO || *factor > Decimal::ONE {
                        return Err(ScoringError::InvalidFactor { factor: *factor });
                    }
                    for d in [deduction_above, deduction_below] {
                        if *d < Decimal::ZERO || *d > Decimal::ONE_HUNDRED {
                            return Err(ScoringError::InvalidDeduction { got: *d });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The price criterion, if any.
    pub fn price_criterion(&self) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.part == Part::Price)
    }

    /// The highest total a member can give: the sum of the non-price maxima.
    pub fn member_max(&self) -> Decimal {
        self.criteria
            .iter()
            .filter(|c| c.part != Part::Price)
            .map(|c| c.max)
            .sum()
    }
}

/// One member's scores for one bid, by criterion id (non-price criteria only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreSheet {
    pub evaluator: UserId,
    pub bid: BidId,
    pub scores: BTreeMap<String, Decimal>,
}

/// A member's subtotals on one bid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Subtotals {
    technical: Decimal,
    commercial: Decimal,
}

impl Subtotals {
    fn total(&self) -> Decimal {
        self.technical + self.commercial
    }
}

impl ScoreSheet {
    /// Checks the sheet against the scheme and returns the member's total (exact). Errors: a
    /// criterion the scheme lacks, the price criterion, a missing criterion, a score outside
    /// `[0, max]`.
    pub fn validate(&self, scheme: &Scheme) -> Result<Decimal, ScoringError> {
        self.subtotals(scheme).map(|s| s.total())
    }

    fn subtotals(&self, scheme: &Scheme) -> Result<Subtotals, ScoringError> {
        for id in self.scores.keys() {
            match scheme.criteria.iter().find(|c| &c.id == id) {
                None => {
                    return Err(ScoringError::UnknownCriterion {
                        bid: self.bid,
                        evaluator: self.evaluator,
                        criterion: id.clone(),
                    })
                }
                Some(c) if c.part == Part::Price => {
                    return Err(ScoringError::PriceScoredByFormula {
                        criterion: id.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        let mut out = Subtotals::default();
        for c in scheme.criteria.iter().filter(|c| c.part != Part::Price) {
            let got = *self
                .scores
                .get(&c.id)
                .ok_or_else(|| ScoringError::MissingScore {
                    bid: self.bid,
                    evaluator: self.evaluator,
                    criterion: c.id.clone(),
                })?;
            if got < Decimal::ZERO || got > c.max {
                return Err(ScoringError::ScoreOutOfRange {
                    bid: self.bid,
                    evaluator: self.evaluator,
                    criterion: c.id.clone(),
                    max: c.max,
                    got,
                });
            }
            match c.part {
                Part::Technical => out.technical += got,
                Part::Commercial => out.commercial += got,
                Part::Price => {}
            }
        }
        Ok(out)
    }
}

/// The outcome of the post-qualification review of a bid (条例 20).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case", deny_unknown_fields)]
pub enum Qualification {
    Pass,
    Fail { criterion: String, reason: String },
}

/// A mandatory ground for rejecting a bid (条例 51).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionGround {
    /// The bidder fails the qualification criteria (条例 51(3)).
    FailedQualification,
    /// The price exceeds the ceiling price of the tender documents (条例 51(5)).
    AboveCeiling,
    /// The price is below cost (法 41(2), 条例 51(5)).
    BelowCost,
    /// The bid deposit is missing or short: not responsive to a substantive requirement (条例 51(6)).
    InsufficientDeposit,
    /// Collusion, confirmed by supervision from an anomaly alert (条例 51(7)).
    Collusion,
    /// Another ground of 条例 51 the committee found reading the bid (e.g. no seal or signature,
    /// 51(1)); the detail says which.
    Other,
}

impl RejectionGround {
    pub fn code(&self) -> &'static str {
        match self {
            RejectionGround::FailedQualification => "failed_qualification",
            RejectionGround::AboveCeiling => "above_ceiling",
            RejectionGround::BelowCost => "below_cost",
            RejectionGround::InsufficientDeposit => "insufficient_deposit",
            RejectionGround::Collusion => "collusion",
            RejectionGround::Other => "other",
        }
    }

    /// The article the ground rests on.
    pub fn legal_basis(&self) -> &'static str {
        match self {
            RejectionGround::FailedQualification => "条例 51(3)",
            RejectionGround::AboveCeiling => "条例 51(5)",
            RejectionGround::BelowCost => "法 41(2), 条例 51(5)",
            RejectionGround::InsufficientDeposit => "条例 51(6)",
            RejectionGround::Collusion => "条例 51(7)",
            RejectionGround::Other => "条例 51",
        }
    }
}

/// Why a bid was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub ground: RejectionGround,
    pub detail: String,
}

/// A bid as the committee evaluates it. `price` is the evaluated price in yuan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluatedBid {
    pub bid: BidId,
    pub bidder: OrgId,
    pub price: Decimal,
    /// Position of the submission in the bid log; earlier submissions have lower indices. The
    /// last tie-breaker.
    pub log_index: u64,
    pub qualification: Qualification,
    /// The ground on which the bid is rejected; `None` for a valid bid. See
    /// [`EvaluatedBid::apply_rejections`].
    pub rejected: Option<Rejection>,
}

/// A collusion finding that supervision confirmed from an anomaly alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmedCollusion {
    pub alert: AlertId,
    pub detail: String,
}

/// The facts the mandatory rejection grounds are judged on, for one bid.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RejectionFacts {
    /// The tender's ceiling price, if it set one.
    pub ceiling_price: Option<Decimal>,
    /// The price below which the committee judges a bid to be below cost, if it set one.
    pub cost_floor: Option<Decimal>,
    /// The deposit the tender requires.
    pub required_deposit: Decimal,
    /// The deposit received for this bid.
    pub deposit_received: Decimal,
    /// A confirmed collusion finding against this bid.
    pub collusion: Option<ConfirmedCollusion>,
}

impl RejectionFacts {
    /// The facts from the tender's terms plus the bid's own.
    pub fn from_terms(
        terms: &TenderTerms,
        cost_floor: Option<Decimal>,
        deposit_received: Decimal,
        collusion: Option<ConfirmedCollusion>,
    ) -> RejectionFacts {
        RejectionFacts {
            ceiling_price: terms.ceiling_price.map(|m| m.amount()),
            cost_floor,
            required_deposit: terms.bid_deposit.amount(),
            deposit_received,
            collusion,
        }
    }
}

/// Every mandatory ground (条例 51) on which `bid` must be rejected, in the order of
/// [`RejectionGround`]: failed qualification; price above the ceiling (strictly greater); price
/// below the cost floor (strictly less); deposit received below the required deposit; confirmed
/// collusion. Empty for a bid that stands.
pub fn mandatory_rejections(bid: &EvaluatedBid, facts: &RejectionFacts) -> Vec<Rejection> {
    let mut out = Vec::new();
    if let Qualification::Fail { criterion, reason } = &bid.qualification {
        out.push(Rejection {
            ground: RejectionGround::FailedQualification,
            detail: format!("fails the qualification criterion \"{criterion}\": {reason}"),
        });
    }
    if let Some(ceiling) = facts.ceiling_price {
        if bid.price > ceiling {
            out.push(Rejection {
                ground: RejectionGround::AboveCeiling,
                detail: format!(
                    "the price {} is above the ceiling price {}",
                    bid.price, ceiling
                ),
            });
        }
    }
    if let Some(floor) = facts.cost_floor {
        if bid.price < floor {
            out.push(Rejection {
                ground: RejectionGround::BelowCost,
                detail: format!("the price {} is below cost ({})", bid.price, floor),
            });
        }
    }
    if facts.deposit_received < facts.required_deposit {
        out.push(Rejection {
            ground: RejectionGround::InsufficientDeposit,
            detail: format!(
                "a deposit of {} was received; the tender requires {}",
                facts.deposit_received, facts.required_deposit
            ),
        });
    }
    if let Some(c) = &facts.collusion {
        out.push(Rejection {
            ground: RejectionGround::Collusion,
            detail: format!("collusion confirmed from alert {}: {}", c.alert, c.detail),
        });
    }
    out
}

impl EvaluatedBid {
    /// Judges the mandatory grounds and, if the bid is not already rejected, rejects it on the
    /// first one found (a rejection the committee recorded earlier stands). Returns every ground
    /// found, for the report.
    pub fn apply_rejections(&mut self, facts: &RejectionFacts) -> Vec<Rejection> {
        let all = mandatory_rejections(self, facts);
        if self.rejected.is_none() {
            self.rejected = all.first().cloned();
        }
        all
    }

    pub fn is_valid(&self) -> bool {
        self.rejected.is_none()
    }
}

/// One member's total on one bid, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberTotal {
    pub evaluator: UserId,
    pub total: Decimal,
    /// Dropped as the single highest or lowest total (committees of ≥ 7).
    pub dropped: bool,
}

/// A member's total that strays from the others' and needs a written explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlierFlag {
    pub bid: BidId,
    pub evaluator: UserId,
    pub total: Decimal,
    /// The median of the other members' totals on the bid.
    pub median_of_others: Decimal,
    /// `|total − median_of_others|`.
    pub deviation: Decimal,
    /// The threshold the deviation exceeded.
    pub threshold: Decimal,
}

/// The tie-break rule that placed a bid below the one ranked just above it, when their price
/// (lowest evaluated price) or total (comprehensive scoring) was equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// (1) Lower price score / higher price.
    PriceScore,
    /// (2) Lower technical part.
    TechnicalScore,
    /// (3) Later submission.
    Submission,
}

/// A valid bid in the ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedBid {
    /// 1 for the best bid.
    pub rank: u32,
    pub bid: BidId,
    pub bidder: OrgId,
    pub price: Decimal,
    pub log_index: u64,
    /// Comprehensive scoring only: the price criterion's score.
    pub price_score: Option<Decimal>,
    /// Comprehensive scoring only: the technical part (mean over the counted members).
    pub technical: Option<Decimal>,
    /// Comprehensive scoring only: the commercial part (mean over the counted members).
    pub commercial: Option<Decimal>,
    /// Comprehensive scoring only: the aggregate of the members' totals.
    pub aggregate: Option<Decimal>,
    /// Comprehensive scoring only: aggregate + price score.
    pub total: Option<Decimal>,
    /// Comprehensive scoring only: every member's total, in evaluator order.
    pub member_totals: Vec<MemberTotal>,
    pub tie_break: Option<TieBreak>,
}

/// A rejected bid and its ground.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedBid {
    pub bid: BidId,
    pub bidder: OrgId,
    pub price: Decimal,
    pub rejection: Rejection,
}

/// The result of the evaluation, for the signed report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub method: EvaluationMethod,
    pub committee_size: usize,
    /// The lowest price among the valid bids.
    pub lowest_valid_price: Option<Decimal>,
    /// The benchmark price, under the benchmark formula.
    pub benchmark_price: Option<Decimal>,
    /// Every valid bid, best first.
    pub ranking: Vec<RankedBid>,
    /// The first (at most 3) of the ranking: the ranked candidates (条例 53).
    pub candidates: Vec<RankedBid>,
    /// Every rejected bid, with its ground, in the order given.
    pub rejected: Vec<RejectedBid>,
    /// Totals that need a written explanation; the scores stand.
    pub outliers: Vec<OutlierFlag>,
    /// Every bid was rejected: the tender must be re-run (法 42).
    pub all_rejected: bool,
}

/// Price scores for the valid bids, keyed by bid, and the benchmark when the formula uses one.
fn price_scores(
    formula: &PriceFormula,
    max: Decimal,
    valid: &[&EvaluatedBid],
) -> Result<(HashMap<BidId, Decimal>, Option<Decimal>), ScoringError> {
    let mut out = HashMap::with_capacity(valid.len());
    let Some(lowest) = valid.iter().map(|b| b.price).min() else {
        return Ok((out, None));
    };
    match formula {
        PriceFormula::LowestValid => {
            for b in valid {
                out.insert(b.bid, round2(div(mul(max, lowest)?, b.price)?));
            }
            Ok((out, None))
        }
        PriceFormula::Benchmark {
            exclude_extremes,
            factor,
            deduction_above,
            deduction_below,
        } => {
            let mut prices: Vec<Decimal> = valid.iter().map(|b| b.price).collect();
            prices.sort_unstable();
            let counted = if *exclude_extremes && prices.len() >= 5 {
                &prices[1..prices.len() - 1]
            } else {
                &prices[..]
            };
            let benchmark = round2(mul(mean(counted)?, *factor)?).max(Decimal::new(1, 2));
            for b in valid {
                let pct = div(mul(b.price - benchmark, Decimal::ONE_HUNDRED)?, benchmark)?;
                let deduction = if pct > Decimal::ZERO {
                    mul(pct, *deduction_above)?
                } else {
                    mul(-pct, *deduction_below)?
                };
                out.insert(b.bid, round2((max - deduction).max(Decimal::ZERO)));
            }
            Ok((out, Some(benchmark)))
        }
    }
}

/// Per-bid aggregation of the members' sheets.
struct Aggregate {
    technical: Decimal,
    commercial: Decimal,
    aggregate: Decimal,
    members: Vec<MemberTotal>,
}

fn aggregate_bid(
    bid: BidId,
    mut sheets: Vec<(UserId, Subtotals)>,
    rules: &ScoringRules,
    member_max: Decimal,
    outliers: &mut Vec<OutlierFlag>,
) -> Result<Aggregate, ScoringError> {
    // Order by (total, evaluator): the first and last are the lowest and highest totals, ties
    // between equal totals broken by evaluator id so the choice is reproducible.
    sheets.sort_by(|a, b| a.1.total().cmp(&b.1.total()).then(a.0.cmp(&b.0)));
    let n = sheets.len();
    let trim = n >= rules.trim_from_members && n >= 3;
    let kept = if trim { &sheets[1..n - 1] } else { &sheets[..] };
    let totals: Vec<Decimal> = kept.iter().map(|s| s.1.total()).collect();
    let technical: Vec<Decimal> = kept.iter().map(|s| s.1.technical).collect();
    let commercial: Vec<Decimal> = kept.iter().map(|s| s.1.commercial).collect();

    let threshold = round2(div(
        mul(member_max, rules.outlier_percent)?,
        Decimal::ONE_HUNDRED,
    )?);
    let all: Vec<Decimal> = sheets.iter().map(|s| s.1.total()).collect();
    let mut members = Vec::with_capacity(n);
    for (i, (evaluator, sub)) in sheets.iter().enumerate() {
        let mut others: Vec<Decimal> = all
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, t)| *t)
            .collect();
        let median_of_others = median(&mut others)?;
        let deviation = (sub.total() - median_of_others).abs();
        if n > 1 && deviation > threshold {
            outliers.push(OutlierFlag {
                bid,
                evaluator: *evaluator,
                total: sub.total(),
                median_of_others,
                deviation,
                threshold,
            });
        }
        members.push(MemberTotal {
            evaluator: *evaluator,
            total: sub.total(),
            dropped: trim && (i == 0 || i == n - 1),
        });
    }
    members.sort_by_key(|m| m.evaluator);
    Ok(Aggregate {
        technical: round2(mean(&technical)?),
        commercial: round2(mean(&commercial)?),
        aggregate: round2(mean(&totals)?),
        members,
    })
}

/// Checks the inputs that do not depend on the method.
fn check_inputs(
    scheme: &Scheme,
    bids: &[EvaluatedBid],
    committee_size: usize,
    rules: &ScoringRules,
) -> Result<(), ScoringError> {
    scheme.validate()?;
    if rules.outlier_percent <= Decimal::ZERO || rules.outlier_percent > Decimal::ONE_HUNDRED {
        return Err(ScoringError::InvalidOutlierThreshold {
            got: rules.outlier_percent,
        });
    }
    if committee_size < rules.min_committee || committee_size.is_multiple_of(2) {
        return Err(ScoringError::InvalidCommittee {
            size: committee_size,
            min: rules.min_committee,
        });
    }
    let mut seen = BTreeSet::new();
    for b in bids {
        if !seen.insert(b.bid) {
            return Err(ScoringError::DuplicateBid { bid: b.bid });
        }
        if b.price <= Decimal::ZERO || crate::Money::new(b.price).is_err() {
            return Err(ScoringError::InvalidPrice {
                bid: b.bid,
                price: b.price,
            });
        }
    }
    Ok(())
}

/// Sort key of a valid bid, compared best first.
struct Standing<'a> {
    bid: &'a EvaluatedBid,
    price_score: Option<Decimal>,
    agg: Option<Aggregate>,
    total: Option<Decimal>,
}

/// Which rule separates `a` from `b` (`a` ranked first), if their standing is equal. `Equal` from
/// all three rules (the same log index) is left to the bid id, silently.
fn compare(
    method: EvaluationMethod,
    a: &Standing<'_>,
    b: &Standing<'_>,
) -> (Ordering, Option<TieBreak>) {
    let primary = match method {
        EvaluationMethod::LowestEvaluatedPrice => a.bid.price.cmp(&b.bid.price),
        EvaluationMethod::ComprehensiveScoring => b.total.cmp(&a.total),
    };
    if primary != Ordering::Equal {
        return (primary, None);
    }
    // (1) Higher price score, then lower price. The score comes first because under the
    // benchmark formula a price below the benchmark can score the same as, or less than, a higher
    // one; under lowest evaluated price there is no score and the price alone decides.
    let by_price = b
        .price_score
        .cmp(&a.price_score)
        .then(a.bid.price.cmp(&b.bid.price));
    if by_price != Ordering::Equal {
        return (by_price, Some(TieBreak::PriceScore));
    }
    let tech = |s: &Standing<'_>| s.agg.as_ref().map(|g| g.technical);
    let by_tech = tech(b).cmp(&tech(a));
    if by_tech != Ordering::Equal {
        return (by_tech, Some(TieBreak::TechnicalScore));
    }
    let by_log = a.bid.log_index.cmp(&b.bid.log_index);
    if by_log != Ordering::Equal {
        return (by_log, Some(TieBreak::Submission));
    }
    (a.bid.bid.cmp(&b.bid.bid), Some(TieBreak::Submission))
}

/// Evaluates the bids: validates the scheme, the bids and the sheets, computes the price scores
/// and aggregates, flags outliers and ranks the valid bids.
///
/// * `bids`: every bid opened, with `rejected` already set (see [`EvaluatedBid::apply_rejections`]).
///   Rejected bids take no part in the price formula or the ranking.
/// * `sheets`: under comprehensive scoring, one sheet per member per valid bid, from exactly
///   `committee_size` distinct members. Sheets for rejected bids are checked and otherwise
///   ignored. Under lowest evaluated price no sheets are needed; any given are checked against the
///   (empty) scheme.
pub fn evaluate(
    scheme: &Scheme,
    bids: &[EvaluatedBid],
    sheets: &[ScoreSheet],
    committee_size: usize,
    rules: &ScoringRules,
) -> Result<Outcome, ScoringError> {
    check_inputs(scheme, bids, committee_size, rules)?;
    let index: HashMap<BidId, &EvaluatedBid> = bids.iter().map(|b| (b.bid, b)).collect();
    let mut by_bid: HashMap<BidId, Vec<(UserId, Subtotals)>> = HashMap::new();
    let mut seen_sheets = BTreeSet::new();
    let mut evaluators = BTreeSet::new();
    for s in sheets {
        if !index.contains_key(&s.bid) {
            return Err(ScoringError::UnknownBid { bid: s.bid });
        }
        if !seen_sheets.insert((s.bid, s.evaluator)) {
            return Err(ScoringError::DuplicateSheet {
                bid: s.bid,
                evaluator: s.evaluator,
            });
        }
        let sub = s.subtotals(scheme)?;
        evaluators.insert(s.evaluator);
        by_bid.entry(s.bid).or_default().push((s.evaluator, sub));
    }
    let valid: Vec<&EvaluatedBid> = bids.iter().filter(|b| b.is_valid()).collect();
    let comprehensive = scheme.method == EvaluationMethod::ComprehensiveScoring;
    if comprehensive && !valid.is_empty() {
        if evaluators.len() != committee_size {
            return Err(ScoringError::EvaluatorCount {
                expected: committee_size,
                got: evaluators.len(),
            });
        }
        for b in &valid {
            let got = by_bid.get(&b.bid).map_or(0, Vec::len);
            if got != committee_size {
                return Err(ScoringError::MissingSheets {
                    bid: b.bid,
                    expected: committee_size,
                    got,
                });
            }
        }
    }

    let lowest_valid_price = valid.iter().map(|b| b.price).min();
    let mut benchmark_price = None;
    let mut outliers = Vec::new();
    let mut standings: Vec<Standing<'_>> = Vec::with_capacity(valid.len());
    match (comprehensive, scheme.price_criterion()) {
        (true, Some(price_criterion)) => {
            let (scores, benchmark) =
                price_scores(&scheme.price_formula, price_criterion.max, &valid)?;
            benchmark_price = benchmark;
            let member_max = scheme.member_max();
            for b in &valid {
                let sheets = by_bid.remove(&b.bid).unwrap_or_default();
                let agg = aggregate_bid(b.bid, sheets, rules, member_max, &mut outliers)?;
                let price_score = scores.get(&b.bid).copied().unwrap_or(Decimal::ZERO);
                standings.push(Standing {
                    bid: b,
                    price_score: Some(price_score),
                    total: Some(agg.aggregate + price_score),
                    agg: Some(agg),
                });
            }
        }
        _ => standings.extend(valid.iter().map(|b| Standing {
            bid: b,
            price_score: None,
            agg: None,
            total: None,
        })),
    }
    standings.sort_by(|a, b| compare(scheme.method, a, b).0);

    let mut ranking = Vec::with_capacity(standings.len());
    for (i, s) in standings.iter().enumerate() {
        let tie_break = match i.checked_sub(1).and_then(|j| standings.get(j)) {
            Some(prev) => compare(scheme.method, prev, s).1,
            None => None,
        };
        let agg = s.agg.as_ref();
        ranking.push(RankedBid {
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            bid: s.bid.bid,
            bidder: s.bid.bidder,
            price: s.bid.price,
            log_index: s.bid.log_index,
            price_score: s.price_score,
            technical: agg.map(|g| g.technical),
            commercial: agg.map(|g| g.commercial),
            aggregate: agg.map(|g| g.aggregate),
            total: s.total,
            member_totals: agg.map(|g| g.members.clone()).unwrap_or_default(),
            tie_break,
        });
    }
    let candidates = ranking
        .iter()
        .take(rules.max_candidates.min(3))
        .cloned()
        .collect();
    let rejected = bids
        .iter()
        .filter_map(|b| {
            b.rejected.as_ref().map(|r| RejectedBid {
                bid: b.bid,
                bidder: b.bidder,
                price: b.price,
                rejection: r.clone(),
            })
        })
        .collect();
    Ok(Outcome {
        method: scheme.method,
        committee_size,
        lowest_valid_price,
        benchmark_price,
        all_rejected: ranking.is_empty(),
        ranking,
        candidates,
        rejected,
        outliers,
    })
}
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use uuid::Uuid;

    fn bid_id(n: u128) -> BidId {
        BidId(Uuid::from_u128(n))
    }
    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(1000 + n))
    }

    fn bid(n: u128, price: Decimal) -> EvaluatedBid {
        EvaluatedBid {
            bid: bid_id(n),
            bidder: OrgId(Uuid::from_u128(2000 + n)),
            price,
            log_index: u64::try_from(n).unwrap(),
            qualification: Qualification::Pass,
            rejected: None,
        }
    }

    fn criterion(id: &str, part: Part, max: Decimal) -> Criterion {
        Criterion {
            id: id.into(),
            part,
            label: id.to_uppercase(),
            max,
        }
    }

    /// tech1 30 + tech2 10 + com1 20 + price 40 = 100; a member gives at most 60.
    fn scheme(formula: PriceFormula) -> Scheme {
        Scheme {
            method: EvaluationMethod::ComprehensiveScoring,
            criteria: vec![
                criterion("tech1", Part::Technical, dec!(30)),
                criterion("tech2", Part::Technical, dec!(10)),
                criterion("com1", Part::Commercial, dec!(20)),
                criterion("price", Part::Price, dec!(40)),
            ],
            price_formula: formula,
        }
    }

    fn lowest_price_scheme() -> Scheme {
        Scheme {
            method: EvaluationMethod::LowestEvaluatedPrice,
            criteria: vec![],
            price_formula: PriceFormula::LowestValid,
        }
    }

    fn sheet(ev: u128, b: u128, t1: Decimal, t2: Decimal, c1: Decimal) -> ScoreSheet {
        ScoreSheet {
            evaluator: user(ev),
            bid: bid_id(b),
            scores: [("tech1", t1), ("tech2", t2), ("com1", c1)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

    /// A sheet whose total is `total` (0–60): technical first, then commercial.
    fn sheet_total(ev: u128, b: u128, total: Decimal) -> ScoreSheet {
        let t1 = total.min(dec!(30));
        let c1 = (total - t1).min(dec!(20));
        let t2 = total - t1 - c1;
        sheet(ev, b, t1, t2, c1)
    }

    /// Every member gives every bid the same `total`.
    fn uniform_sheets(members: u128, bids: &[u128], total: Decimal) -> Vec<ScoreSheet> {
        bids.iter()
            .flat_map(|b| (1..=members).map(move |ev| sheet_total(ev, *b, total)))
            .collect()
    }

    fn rules() -> ScoringRules {
        ScoringRules::default()
    }

    fn scores_of(formula: PriceFormula, max: Decimal, prices: &[Decimal]) -> Vec<Decimal> {
        let bids: Vec<EvaluatedBid> = prices
            .iter()
            .enumerate()
            .map(|(i, p)| bid(i as u128 + 1, *p))
            .collect();
        let refs: Vec<&EvaluatedBid> = bids.iter().collect();
        let (scores, _) = price_scores(&formula, max, &refs).unwrap();
        bids.iter().map(|b| scores[&b.bid]).collect()
    }

    fn benchmark_of(formula: PriceFormula, prices: &[Decimal]) -> Decimal {
        let bids: Vec<EvaluatedBid> = prices
            .iter()
            .enumerate()
            .map(|(i, p)| bid(i as u128 + 1, *p))
            .collect();
        let refs: Vec<&EvaluatedBid> = bids.iter().collect();
        price_scores(&formula, dec!(40), &refs).unwrap().1.unwrap()
    }

    fn benchmark(exclude: bool, k: Decimal) -> PriceFormula {
        PriceFormula::Benchmark {
            exclude_extremes: exclude,
            factor: k,
            deduction_above: dec!(1),
            deduction_below: dec!(0.5),
        }
    }

    #[test]
    fn lowest_valid_price_formula() {
        // max 30: 30 × 100/100, 30 × 100/120 = 25, 30 × 100/150 = 20, 30 × 100/130 = 23.0769…
        let s = scores_of(
            PriceFormula::LowestValid,
            dec!(30),
            &[dec!(100), dec!(120), dec!(150), dec!(130)],
        );
        assert_eq!(s, vec![dec!(30), dec!(25), dec!(20), dec!(23.08)]);
        assert_eq!(s[0].to_string(), "30.00");
        // 25 × 100/160 = 15.625 → 15.63 (half away from zero; banker's rounding gives 15.62).
        let s = scores_of(PriceFormula::LowestValid, dec!(25), &[dec!(100), dec!(160)]);
        assert_eq!(s, vec![dec!(25), dec!(15.63)]);
    }

    #[test]
    fn benchmark_formula_excludes_extremes_from_five_bids() {
        // Extremes 90 and 130 dropped: benchmark = mean(95, 100, 105) = 100.
        let prices = [dec!(90), dec!(95), dec!(100), dec!(105), dec!(130)];
        assert_eq!(benchmark_of(benchmark(true, dec!(1)), &prices), dec!(100));
        // 90: 10 % below → −5 → 35; 95: 5 % below → −2.5; 105: 5 % above → −5; 130: 30 % above.
        assert_eq!(
            scores_of(benchmark(true, dec!(1)), dec!(40), &prices),
            vec![dec!(35), dec!(37.5), dec!(40), dec!(35), dec!(10)]
        );
        // Without exclusion: mean = 520/5 = 104.
        assert_eq!(benchmark_of(benchmark(false, dec!(1)), &prices), dec!(104));
        // Four bids: nothing is excluded even when asked: mean(90, 100, 110, 120) = 105.
        let four = [dec!(90), dec!(100), dec!(110), dec!(120)];
        assert_eq!(benchmark_of(benchmark(true, dec!(1)), &four), dec!(105));
    }

    #[test]
    fn benchmark_formula_with_factor_k() {
        // K = 0.95: benchmark = 100 × 0.95 = 95.
        let prices = [dec!(90), dec!(95), dec!(100), dec!(105), dec!(130)];
        assert_eq!(benchmark_of(benchmark(true, dec!(0.95)), &prices), dec!(95));
        // 90: (90−95)/95 = −5.2631…% × 0.5 = 2.6315… → 37.37
        // 100: +5.2631…% → 34.7368… → 34.74; 105: +10.5263…% → 29.47;
        // 130: +36.8421…% → 3.1578… → 3.16.
        assert_eq!(
            scores_of(benchmark(true, dec!(0.95)), dec!(40), &prices),
            vec![dec!(37.37), dec!(40), dec!(34.74), dec!(29.47), dec!(3.16)]
        );
    }

    #[test]
    fn benchmark_is_rounded_to_the_fen_and_scores_floor_at_zero() {
        // mean(100, 100, 101) = 100.333… → 100.33.
        assert_eq!(
            benchmark_of(benchmark(true, dec!(1)), &[dec!(100), dec!(100), dec!(101)]),
            dec!(100.33)
        );
        // 200 is 100 % above a benchmark of 100 (mean of 0.5×… no: mean(50, 150) = 100):
        // 40 − 50 % × 1 = −10 → 0 for 150; 50 is 50 % below → 40 − 25 = 15.
        assert_eq!(
            scores_of(benchmark(true, dec!(1)), dec!(40), &[dec!(50), dec!(150)]),
            vec![dec!(15), dec!(0)]
        );
    }

    #[test]
    fn scheme_validation() {
        assert!(scheme(PriceFormula::LowestValid).validate().is_ok());
        assert!(scheme(PriceFormula::common_benchmark()).validate().is_ok());
        assert!(lowest_price_scheme().validate().is_ok());

        let mut s = scheme(PriceFormula::LowestValid);
        s.criteria[0].max = dec!(29);
        assert_eq!(
            s.validate().unwrap_err(),
            ScoringError::WeightsNotHundred { sum: dec!(99) }
        );
        let mut s = scheme(PriceFormula::LowestValid);
        s.criteria[3].part = Part::Commercial;
        assert_eq!(
            s.validate().unwrap_err(),
            ScoringError::PriceCriteria { count: 0 }
        );
        let mut s = scheme(PriceFormula::LowestValid);
        s.criteria[1] = criterion("price2", Part::Price, dec!(10));
        assert_eq!(
            s.validate().unwrap_err(),
            ScoringError::PriceCriteria { count: 2 }
        );
        let mut s = scheme(PriceFormula::LowestValid);
        s.criteria[1].max = Decimal::ZERO;
        s.criteria[0].max = dec!(40);
        assert_eq!(s.validate().unwrap_err().code(), "invalid_criterion_max");
        let mut s = scheme(PriceFormula::LowestValid);
        s.criteria[1].id = "tech1".into();
        assert_eq!(s.validate().unwrap_err().code(), "duplicate_criterion");
        let s = scheme(benchmark(true, dec!(1.1)));
        assert_eq!(
            s.validate().unwrap_err(),
            ScoringError::InvalidFactor { factor: dec!(1.1) }
        );
        let mut s = lowest_price_scheme();
        s.criteria.push(criterion("price", Part::Price, dec!(100)));
        assert_eq!(s.validate().unwrap_err(), ScoringError::CriteriaNotScored);
    }

    #[test]
    fn score_out_of_range_is_refused() {
        let s = scheme(PriceFormula::LowestValid);
        let over = sheet(1, 1, dec!(30.5), dec!(5), dec!(5));
        let err = over.validate(&s).unwrap_err();
        assert_eq!(
            err,
            ScoringError::ScoreOutOfRange {
                bid: bid_id(1),
                evaluator: user(1),
                criterion: "tech1".into(),
                max: dec!(30),
                got: dec!(30.5),
            }
        );
        assert_eq!(err.code(), "score_out_of_range");
        assert!(err.to_string().contains("from 0 to 30"), "{err}");
        let negative = sheet(1, 1, dec!(10), dec!(-1), dec!(5));
        assert!(matches!(
            negative.validate(&s).unwrap_err(),
            ScoringError::ScoreOutOfRange { got, .. } if got == dec!(-1)
        ));
        // The bounds themselves are allowed.
        assert_eq!(
            sheet(1, 1, dec!(30), dec!(0), dec!(20))
                .validate(&s)
                .unwrap(),
            dec!(50)
        );
        // Through `evaluate` too.
        let bids = vec![bid(1, dec!(100)), bid(2, dec!(110)), bid(3, dec!(120))];
        let mut sheets = uniform_sheets(5, &[1, 2, 3], dec!(40));
        sheets[7] = sheet(3, 2, dec!(31), dec!(0), dec!(0));
        assert_eq!(
            evaluate(&s, &bids, &sheets, 5, &rules())
                .unwrap_err()
                .code(),
            "score_out_of_range"
        );
    }

    #[test]
    fn missing_unknown_and_price_scores_are_refused() {
        let s = scheme(PriceFormula::LowestValid);
        let mut missing = sheet(1, 1, dec!(1), dec!(1), dec!(1));
        missing.scores.remove("com1");
        assert_eq!(
            missing.validate(&s).unwrap_err(),
            ScoringError::MissingScore {
                bid: bid_id(1),
                evaluator: user(1),
                criterion: "com1".into()
            }
        );
        let mut unknown = sheet(1, 1, dec!(1), dec!(1), dec!(1));
        unknown.scores.insert("style".into(), dec!(1));
        assert_eq!(
            unknown.validate(&s).unwrap_err().code(),
            "unknown_criterion"
        );
        let mut price = sheet(1, 1, dec!(1), dec!(1), dec!(1));
        price.scores.insert("price".into(), dec!(40));
        assert_eq!(
            price.validate(&s).unwrap_err(),
            ScoringError::PriceScoredByFormula {
                criterion: "price".into()
            }
        );
    }

    #[test]
    fn sheets_must_cover_the_committee() {
        let s = scheme(PriceFormula::LowestValid);
        let bids = vec![bid(1, dec!(100)), bid(2, dec!(110)), bid(3, dec!(120))];
        let full = uniform_sheets(5, &[1, 2, 3], dec!(40));
        assert!(evaluate(&s, &bids, &full, 5, &rules()).is_ok());

        let mut fewer = full.clone();
        fewer.retain(|sh| !(sh.bid == bid_id(2) && sh.evaluator == user(5)));
        assert_eq!(
            evaluate(&s, &bids, &fewer, 5, &rules()).unwrap_err(),
            ScoringError::MissingSheets {
                bid: bid_id(2),
                expected: 5,
                got: 4
            }
        );
        let mut twice = full.clone();
        twice.push(sheet_total(1, 1, dec!(30)));
        assert_eq!(
            evaluate(&s, &bids, &twice, 5, &rules()).unwrap_err(),
            ScoringError::DuplicateSheet {
                bid: bid_id(1),
                evaluator: user(1)
            }
        );
        let mut stranger = full.clone();
        stranger.push(sheet_total(1, 9, dec!(30)));
        assert_eq!(
            evaluate(&s, &bids, &stranger, 5, &rules()).unwrap_err(),
            ScoringError::UnknownBid { bid: bid_id(9) }
        );
        assert_eq!(
            evaluate(&s, &bids, &full, 7, &rules()).unwrap_err(),
            ScoringError::EvaluatorCount {
                expected: 7,
                got: 5
            }
        );
        for size in [3, 4, 6] {
            assert_eq!(
                evaluate(&s, &bids, &full, size, &rules())
                    .unwrap_err()
                    .code(),
                "invalid_committee"
            );
        }
        let mut bad_price = bids.clone();
        bad_price[1].price = Decimal::ZERO;
        assert_eq!(
            evaluate(&s, &bad_price, &full, 5, &rules())
                .unwrap_err()
                .code(),
            "invalid_price"
        );
        bad_price[1].price = dec!(10.001);
        assert_eq!(
            evaluate(&s, &bad_price, &full, 5, &rules())
                .unwrap_err()
                .code(),
            "invalid_price"
        );
        let mut dup = bids.clone();
        dup.push(bid(1, dec!(130)));
        assert_eq!(
            evaluate(&s, &dup, &full, 5, &rules()).unwrap_err(),
            ScoringError::DuplicateBid { bid: bid_id(1) }
        );
    }

    #[test]
    fn five_members_all_count() {
        let s = scheme(PriceFormula::LowestValid);
        let bids = vec![bid(1, dec!(100))];
        let sheets: Vec<ScoreSheet> = [50, 60, 40, 45, 55]
            .iter()
            .enumerate()
            .map(|(i, t)| sheet_total(i as u128 + 1, 1, Decimal::from(*t)))
            .collect();
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        let r = &out.ranking[0];
        // mean(50, 60, 40, 45, 55) = 50; + price score 40.
        assert_eq!(r.aggregate, Some(dec!(50)));
        assert_eq!(r.total, Some(dec!(90)));
        assert_eq!(r.aggregate.unwrap().to_string(), "50.00");
        assert!(r.member_totals.iter().all(|m| !m.dropped));
        assert_eq!(r.member_totals.len(), 5);
        // Parts: technical = min(t, 30) + max(t − 50, 0): 30, 30+10, 30, 30, 30+5 → mean 33.
        assert_eq!(r.technical, Some(dec!(33)));
        assert_eq!(r.commercial, Some(dec!(17)));
    }

    #[test]
    fn seven_members_drop_the_highest_and_lowest() {
        let s = scheme(PriceFormula::LowestValid);
        let bids = vec![bid(1, dec!(100))];
        let totals = [40, 50, 51, 52, 53, 54, 59];
        let sheets: Vec<ScoreSheet> = totals
            .iter()
            .enumerate()
            .map(|(i, t)| sheet_total(i as u128 + 1, 1, Decimal::from(*t)))
            .collect();
        let out = evaluate(&s, &bids, &sheets, 7, &rules()).unwrap();
        let r = &out.ranking[0];
        // Dropping 40 and 59: mean(50…54) = 52 (all seven would give 359/7 = 51.29).
        assert_eq!(r.aggregate, Some(dec!(52)));
        let dropped: Vec<UserId> = r
            .member_totals
            .iter()
            .filter(|m| m.dropped)
            .map(|m| m.evaluator)
            .collect();
        assert_eq!(dropped, vec![user(1), user(7)]);
        // The same sheets under a rule that never trims: 51.285714… → 51.29.
        let no_trim = ScoringRules {
            trim_from_members: 99,
            ..rules()
        };
        let out = evaluate(&s, &bids, &sheets, 7, &no_trim).unwrap();
        assert_eq!(out.ranking[0].aggregate, Some(dec!(51.29)));
    }

    #[test]
    fn outliers_are_flagged_and_scores_stand() {
        let s = scheme(PriceFormula::LowestValid);
        let bids = vec![bid(1, dec!(100))];
        let sheets: Vec<ScoreSheet> = [50, 52, 54, 56, 30]
            .iter()
            .enumerate()
            .map(|(i, t)| sheet_total(i as u128 + 1, 1, Decimal::from(*t)))
            .collect();
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        // Threshold: 20 % of 60 = 12. Member 5's 30 is 23 from the others' median 53.
        assert_eq!(
            out.outliers,
            vec![OutlierFlag {
                bid: bid_id(1),
                evaluator: user(5),
                total: dec!(30),
                median_of_others: dec!(53),
                deviation: dec!(23),
                threshold: dec!(12),
            }]
        );
        // The score stands: mean(50, 52, 54, 56, 30) = 48.4.
        assert_eq!(out.ranking[0].aggregate, Some(dec!(48.4)));
        // Exactly at the threshold is not flagged: others' median 53, total 41 → 12.
        let sheets: Vec<ScoreSheet> = [50, 52, 54, 56, 41]
            .iter()
            .enumerate()
            .map(|(i, t)| sheet_total(i as u128 + 1, 1, Decimal::from(*t)))
            .collect();
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        assert!(out.outliers.is_empty(), "{:?}", out.outliers);
    }

    fn facts() -> RejectionFacts {
        RejectionFacts {
            ceiling_price: Some(dec!(1000)),
            cost_floor: Some(dec!(600)),
            required_deposit: dec!(20),
            deposit_received: dec!(20),
            collusion: None,
        }
    }

    fn grounds(b: &EvaluatedBid, f: &RejectionFacts) -> Vec<RejectionGround> {
        mandatory_rejections(b, f)
            .into_iter()
            .map(|r| r.ground)
            .collect()
    }

    #[test]
    fn each_mandatory_ground() {
        let ok = bid(1, dec!(800));
        assert!(grounds(&ok, &facts()).is_empty());
        // At the ceiling and at the floor the bid stands.
        assert!(grounds(&bid(1, dec!(1000)), &facts()).is_empty());
        assert!(grounds(&bid(1, dec!(600)), &facts()).is_empty());
        assert_eq!(
            grounds(&bid(1, dec!(1000.01)), &facts()),
            vec![RejectionGround::AboveCeiling]
        );
        assert_eq!(
            grounds(&bid(1, dec!(599.99)), &facts()),
            vec![RejectionGround::BelowCost]
        );
        let short = RejectionFacts {
            deposit_received: dec!(19.99),
            ..facts()
        };
        assert_eq!(
            grounds(&ok, &short),
            vec![RejectionGround::InsufficientDeposit]
        );
        let colluding = RejectionFacts {
            collusion: Some(ConfirmedCollusion {
                alert: AlertId(Uuid::from_u128(77)),
                detail: "same machine code as bid 2".into(),
            }),
            ..facts()
        };
        let r = mandatory_rejections(&ok, &colluding);
        assert_eq!(r[0].ground, RejectionGround::Collusion);
        assert!(r[0].detail.contains("same machine code"), "{}", r[0].detail);
        let mut unqualified = ok.clone();
        unqualified.qualification = Qualification::Fail {
            criterion: "grade-1 licence".into(),
            reason: "licence expired".into(),
        };
        assert_eq!(
            grounds(&unqualified, &facts()),
            vec![RejectionGround::FailedQualification]
        );
        // No ceiling and no floor: neither price ground applies.
        let open = RejectionFacts {
            ceiling_price: None,
            cost_floor: None,
            ..facts()
        };
        assert!(grounds(&bid(1, dec!(1)), &open).is_empty());
        assert_eq!(
            RejectionGround::BelowCost.legal_basis(),
            "法 41(2), 条例 51(5)"
        );
        assert_eq!(RejectionGround::Collusion.code(), "collusion");
    }

    #[test]
    fn every_ground_is_kept_and_the_first_rejects() {
        let mut b = bid(1, dec!(1200));
        b.qualification = Qualification::Fail {
            criterion: "licence".into(),
            reason: "none".into(),
        };
        let f = RejectionFacts {
            deposit_received: Decimal::ZERO,
            ..facts()
        };
        let all = b.apply_rejections(&f);
        assert_eq!(
            all.iter().map(|r| r.ground).collect::<Vec<_>>(),
            vec![
                RejectionGround::FailedQualification,
                RejectionGround::AboveCeiling,
                RejectionGround::InsufficientDeposit
            ]
        );
        assert_eq!(
            b.rejected.as_ref().map(|r| r.ground),
            Some(RejectionGround::FailedQualification)
        );
        // A rejection the committee recorded first stands.
        let mut c = bid(2, dec!(1200));
        c.rejected = Some(Rejection {
            ground: RejectionGround::Other,
            detail: "no seal (条例 51(1))".into(),
        });
        c.apply_rejections(&facts());
        assert_eq!(
            c.rejected.as_ref().map(|r| r.ground),
            Some(RejectionGround::Other)
        );
        // A valid bid stays valid.
        let mut d = bid(3, dec!(800));
        assert!(d.apply_rejections(&facts()).is_empty());
        assert!(d.is_valid());
    }

    #[test]
    fn rejected_bids_keep_their_ground_and_leave_the_price_formula() {
        let s = scheme(PriceFormula::LowestValid);
        let mut bids = vec![
            bid(1, dec!(500)),
            bid(2, dec!(800)),
            bid(3, dec!(1000)),
            bid(4, dec!(1100)),
        ];
        for b in &mut bids {
            b.apply_rejections(&facts());
        }
        // Bid 1 is below cost, bid 4 above the ceiling; they need no sheets.
        let sheets = uniform_sheets(5, &[2, 3], dec!(50));
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        assert_eq!(out.lowest_valid_price, Some(dec!(800)));
        assert_eq!(
            out.rejected
                .iter()
                .map(|r| (r.bid, r.rejection.ground))
                .collect::<Vec<_>>(),
            vec![
                (bid_id(1), RejectionGround::BelowCost),
                (bid_id(4), RejectionGround::AboveCeiling)
            ]
        );
        // The lowest valid bid (800) scores the full 40: 50 + 40 = 90; 1000 → 32 + 50 = 82.
        assert_eq!(out.ranking.len(), 2);
        assert_eq!(out.ranking[0].bid, bid_id(2));
        assert_eq!(out.ranking[0].total, Some(dec!(90)));
        assert_eq!(out.ranking[1].price_score, Some(dec!(32)));
        assert!(!out.all_rejected);
    }

    #[test]
    fn all_rejected() {
        let s = lowest_price_scheme();
        let mut bids = vec![bid(1, dec!(500)), bid(2, dec!(1500)), bid(3, dec!(100))];
        for b in &mut bids {
            b.apply_rejections(&facts());
        }
        let out = evaluate(&s, &bids, &[], 5, &rules()).unwrap();
        assert!(out.all_rejected);
        assert!(out.ranking.is_empty() && out.candidates.is_empty());
        assert_eq!(out.rejected.len(), 3);
        // Comprehensive scoring with every bid rejected needs no sheets either.
        let out = evaluate(&scheme(PriceFormula::LowestValid), &bids, &[], 5, &rules()).unwrap();
        assert!(out.all_rejected);
    }

    #[test]
    fn lowest_evaluated_price_ranks_by_price_and_keeps_three_candidates() {
        let s = lowest_price_scheme();
        let bids = vec![
            bid(1, dec!(900)),
            bid(2, dec!(700)),
            bid(3, dec!(800)),
            bid(4, dec!(750)),
            bid(5, dec!(950)),
        ];
        let out = evaluate(&s, &bids, &[], 5, &rules()).unwrap();
        let order: Vec<BidId> = out.ranking.iter().map(|r| r.bid).collect();
        assert_eq!(
            order,
            vec![bid_id(2), bid_id(4), bid_id(3), bid_id(1), bid_id(5)]
        );
        assert_eq!(
            out.ranking.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        assert_eq!(out.candidates.len(), 3);
        assert_eq!(out.candidates[..], out.ranking[..3]);
        assert!(out.ranking.iter().all(|r| r.total.is_none()));
        // A committee asking for more than three candidates still gets three (条例 53).
        let greedy = ScoringRules {
            max_candidates: 5,
            ..rules()
        };
        assert_eq!(
            evaluate(&s, &bids, &[], 5, &greedy)
                .unwrap()
                .candidates
                .len(),
            3
        );
        // Two valid bids: two candidates.
        let out = evaluate(&s, &bids[..2], &[], 5, &rules()).unwrap();
        assert_eq!(out.candidates.len(), 2);
    }

    #[test]
    fn equal_prices_are_broken_by_submission_order() {
        let s = lowest_price_scheme();
        let mut late = bid(1, dec!(700));
        late.log_index = 9;
        let early = bid(2, dec!(700));
        let out = evaluate(&s, &[late, early, bid(3, dec!(800))], &[], 5, &rules()).unwrap();
        assert_eq!(out.ranking[0].bid, bid_id(2));
        assert_eq!(out.ranking[0].tie_break, None);
        assert_eq!(out.ranking[1].bid, bid_id(1));
        assert_eq!(out.ranking[1].tie_break, Some(TieBreak::Submission));
        assert_eq!(out.ranking[2].tie_break, None);
    }

    #[test]
    fn equal_totals_are_broken_by_price_score_first() {
        let s = scheme(PriceFormula::LowestValid);
        // Bid 1: price 100 → 40, members give 40 → 80. Bid 2: price 200 → 20, members 60 → 80.
        let bids = vec![bid(2, dec!(200)), bid(1, dec!(100)), bid(3, dec!(150))];
        let mut sheets = uniform_sheets(5, &[1], dec!(40));
        sheets.extend(uniform_sheets(5, &[2], dec!(60)));
        sheets.extend(uniform_sheets(5, &[3], dec!(10)));
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        assert_eq!(out.ranking[0].total, out.ranking[1].total);
        assert_eq!(out.ranking[0].bid, bid_id(1));
        assert_eq!(out.ranking[1].bid, bid_id(2));
        assert_eq!(out.ranking[1].tie_break, Some(TieBreak::PriceScore));
    }

    #[test]
    fn equal_totals_and_prices_are_broken_by_technical_then_submission() {
        let s = scheme(PriceFormula::LowestValid);
        let bids = vec![
            bid(1, dec!(100)),
            bid(2, dec!(100)),
            bid(3, dec!(100)),
            bid(4, dec!(100)),
        ];
        let mut sheets = Vec::new();
        for ev in 1..=5 {
            // Bid 1: 25 + 5 technical, 20 commercial. Bid 2: 30 + 5 technical, 15 commercial.
            sheets.push(sheet(ev, 1, dec!(25), dec!(5), dec!(20)));
            sheets.push(sheet(ev, 2, dec!(30), dec!(5), dec!(15)));
            // Bids 3 and 4 equal in every part: submission order decides.
            sheets.push(sheet(ev, 3, dec!(30), dec!(5), dec!(15)));
            sheets.push(sheet(ev, 4, dec!(25), dec!(5), dec!(20)));
        }
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        let order: Vec<(BidId, Option<TieBreak>)> =
            out.ranking.iter().map(|r| (r.bid, r.tie_break)).collect();
        assert_eq!(
            order,
            vec![
                (bid_id(2), None),
                (bid_id(3), Some(TieBreak::Submission)),
                (bid_id(1), Some(TieBreak::TechnicalScore)),
                (bid_id(4), Some(TieBreak::Submission)),
            ]
        );
        assert!(out.ranking.iter().all(|r| r.total == Some(dec!(90))));
        assert_eq!(out.candidates.len(), 3);
    }

    #[test]
    fn benchmark_ranking_prefers_the_higher_price_score() {
        // Benchmark = mean(96, 100, 104) = 100 (no exclusion below five bids).
        // 96: 4 % below → 40 − 2 = 38; 104: 4 % above → 36; 100 → 40.
        let s = scheme(benchmark(true, dec!(1)));
        let bids = vec![bid(1, dec!(104)), bid(2, dec!(96)), bid(3, dec!(100))];
        let sheets = uniform_sheets(5, &[1, 2, 3], dec!(50));
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        assert_eq!(out.benchmark_price, Some(dec!(100)));
        let got: Vec<(BidId, Option<Decimal>)> =
            out.ranking.iter().map(|r| (r.bid, r.total)).collect();
        assert_eq!(
            got,
            vec![
                (bid_id(3), Some(dec!(90))),
                (bid_id(2), Some(dec!(88))),
                (bid_id(1), Some(dec!(86))),
            ]
        );
    }

    #[test]
    fn outcome_serialises_for_the_report() {
        let s = scheme(PriceFormula::common_benchmark());
        let mut bids = vec![bid(1, dec!(700)), bid(2, dec!(800)), bid(3, dec!(2000))];
        for b in &mut bids {
            b.apply_rejections(&facts());
        }
        let sheets = uniform_sheets(5, &[1, 2], dec!(45.5));
        let out = evaluate(&s, &bids, &sheets, 5, &rules()).unwrap();
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["method"], "comprehensive_scoring");
        assert_eq!(json["rejected"][0]["rejection"]["ground"], "above_ceiling");
        assert_eq!(json["benchmark_price"], "750.00");
        assert_eq!(json["ranking"][0]["aggregate"], "45.50");
        let back: Outcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, out);
        // Schemes read from the tender documents' JSON.
        let scheme_json = serde_json::to_string(&s).unwrap();
        assert!(
            scheme_json.contains(r#""kind":"benchmark""#),
            "{scheme_json}"
        );
        assert_eq!(serde_json::from_str::<Scheme>(&scheme_json).unwrap(), s);
    }
}
