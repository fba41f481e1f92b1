//! The tender and its lifecycle, as an explicit state machine that enforces the legal figures of
//! DOMAIN.md (法 23, 24, 28, 34; 条例 16, 21, 26, 44). Every transition is a method that either
//! moves the tender to its next state or returns a `TenderError` with a stable code, leaving the
//! tender untouched.
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkingCalendar};
use crate::{AmendmentId, DivisionCode, Money, OrgId, QuestionId, TenderId, UserId};

/// Where a tender is in its life. `Failed` and `Cancelled` are terminal, as is `Completed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderState {
    Draft,
    UnderReview,
    Published,
    Closed,
    Opened,
    Evaluating,
    CandidatesPublished,
    Awarded,
    Completed,
    Failed,
    Cancelled,
}

impl TenderState {
    pub const ALL: [TenderState; 11] = [
        TenderState::Draft,
        TenderState::UnderReview,
        TenderState::Published,
        TenderState::Closed,
        TenderState::Opened,
        TenderState::Evaluating,
        TenderState::CandidatesPublished,
        TenderState::Awarded,
        TenderState::Completed,
        TenderState::Failed,
        TenderState::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TenderState::Draft => "draft",
            TenderState::UnderReview => "under_review",
            TenderState::Published => "published",
            TenderState::Closed => "closed",
            TenderState::Opened => "opened",
            TenderState::Evaluating => "evaluating",
            TenderState::CandidatesPublished => "candidates_published",
            TenderState::Awarded => "awarded",
            TenderState::Completed => "completed",
            TenderState::Failed => "failed",
            TenderState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TenderState> {
        TenderState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Drafts and tenders under review are private to the tenderee and the trading centre; from
    /// publication on, a tender is a public notice.
    pub fn is_public(&self) -> bool {
        !matches!(self, TenderState::Draft | TenderState::UnderReview)
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TenderState::Completed | TenderState::Failed | TenderState::Cancelled
        )
    }
}

impl std::fmt::Display for TenderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Works,
    Goods,
    Services,
}

impl Category {
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Works => "works",
            Category::Goods => "goods",
            Category::Services => "services",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationMethod {
    /// Lowest evaluated price, not below cost (法 41(2)).
    LowestEvaluatedPrice,
    /// Best on combined criteria (法 41(1)).
    ComprehensiveScoring,
}

/// The opening committee's threshold policy: any `threshold` of `members` can open the bids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteePolicy {
    pub threshold: u8,
    pub members: u8,
}

impl Default for CommitteePolicy {
    fn default() -> Self {
        CommitteePolicy {
            threshold: 3,
            members: 5,
        }
    }
}

/// A file of the tender documents, by content hash; the bytes live in the blob store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderDocument {
    pub name: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    pub size: u64,
}

/// A tender code: the centre's reference number, unique across the platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenderCode(String);

impl TenderCode {
    pub fn parse(s: &str) -> Result<TenderCode, Problem> {
        let s = s.trim();
        let ok = (3..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
        if ok {
            Ok(TenderCode(s.to_string()))
        } else {
            Err(Problem::new(
                "code",
                "invalid_tender_code",
                "a tender code has 3 to 40 characters of A-Z, a-z, 0-9, '-', '_', '.' and '/'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenderCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TenderCode::parse(&s).map_err(|p| p.message)
    }
}

impl From<TenderCode> for String {
    fn from(c: TenderCode) -> String {
        c.0
    }
}

impl std::fmt::Display for TenderCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The terms a tenderee sets and may edit while the tender is a draft, and amend (within the
/// rules) once it is published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderTerms {
    pub title: String,
    pub description: String,
    pub category: Category,
    /// A project that must be tendered by law: the 20-day bidding period applies (法 24).
    pub mandatory: bool,
    pub estimated_price: Money,
    /// The highest price a bid may carry; bids above it are rejected (条例 51).
    pub ceiling_price: Option<Money>,
    pub bid_deposit: Money,
    pub documents: Vec<TenderDocument>,
    pub bid_deadline: DateTime<Utc>,
    /// Must equal the bid deadline (法 34).
    pub opening_time: DateTime<Utc>,
    pub evaluation_method: EvaluationMethod,
    /// Post-qualification criteria the committee checks after the opening (条例 20).
    pub qualification_criteria: Vec<String>,
    pub committee: CommitteePolicy,
}

/// The legal figures, configurable, defaulting to the law's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenderRules {
    /// Days from publication to the deadline for projects that must be tendered (法 24).
    pub min_bidding_days_mandatory: i64,
    /// Days from publication to the deadline otherwise: the documents must be available at
    /// least this long (条例 16).
    pub min_bidding_days_other: i64,
    /// A clarification or amendment must come at least this many days before the deadline, or
    /// the deadline moves (法 23, 条例 21).
    pub min_days_after_clarification: i64,
    /// Highest bid deposit, as a percentage of the estimated price (条例 26).
    pub max_deposit_percent: Decimal,
    /// Working days the trading centre has to review a tender (seed plan).
    pub review_working_days: u32,
    /// Fewer bids than this: no opening, re-tender (法 28, 条例 44).
    pub min_bids: u32,
}

impl Default for TenderRules {
    fn default() -> Self {
        TenderRules {
            min_bidding_days_mandatory: 20,
            min_bidding_days_other: 5,
            min_days_after_clarification: 15,
            max_deposit_percent: Decimal::TWO,
            review_working_days: 3,
            min_bids: 3,
        }
    }
}

/// One thing wrong with a tender's terms. Validation reports every problem at once (the
/// one-time notification the seed plan asks of the trading centre).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Problem {
        Problem {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Formats an instant as the China-time date and minute people read on notices.
pub fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::clock::china_tz())
        .format("%Y-%m-%d %H:%M (UTC+8)")
        .to_string()
}

impl TenderTerms {
    /// Checks the terms as they would stand if published at `publication`; returns every problem.
    pub fn problems(&self, publication: DateTime<Utc>, rules: &TenderRules) -> Vec<Problem> {
        let mut out = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            out.push(Problem::new(
                "title",
                "invalid_title",
                "the title must have 1 to 200 characters",
            ));
        }
        if self.description.chars().count() > 20_000 {
            out.push(Problem::new(
                "description",
                "invalid_description",
                "the description must have at most 20000 characters",
            ));
        }
        if self.estimated_price.amount() <= Decimal::ZERO {
            out.push(Problem::new(
                "estimated_price",
                "invalid_estimated_price",
                "the estimated price must be greater than zero",
            ));
        }
        if let Some(ceiling) = &self.ceiling_price {
            if ceiling.amount() <= Decimal::ZERO {
                out.push(Problem::new(
                    "ceiling_price",
                    "invalid_ceiling_price",
                    "the ceiling price, when set, must be greater than zero",
                ));
            }
        }
        // The cap rounds down to the fen: 2% of 1000.25 is 20.005, so 20.01 is already too much.
        let max_deposit = self
            .estimated_price
            .percent_of_floor(rules.max_deposit_percent);
        if self.bid_deposit > max_deposit {
            out.push(Problem::new(
                "bid_deposit",
                "deposit_too_high",
                format!(
                    "the bid deposit may be at most {}% of the estimated price: at most {} yuan (条例 26)",
                    rules.max_deposit_percent, max_deposit
                ),
            ));
        }
        if self.opening_time != self.bid_deadline {
            out.push(Problem::new(
                "opening_time",
                "opening_not_at_deadline",
                format!(
                    "the opening must take place at the bid deadline, {} (法 34)",
                    china_time(self.bid_deadline)
                ),
            ));
        }
        let earliest = self.earliest_deadline(publication, rules);
        if self.bid_deadline < earliest {
            let (days, ground) = if self.mandatory {
                (rules.min_bidding_days_mandatory, "法 24")
            } else {
                (rules.min_bidding_days_other, "条例 16")
            };
            out.push(Problem::new(
                "bid_deadline",
                "deadline_too_early",
                format!(
                    "the bid deadline must be at least {days} days after publication ({ground}): the earliest legal deadline is {}",
                    china_time(earliest)
                ),
            ));
        }
        let c = self.committee;
        if c.threshold < 2 || c.threshold > c.members || c.members > 15 {
            out.push(Problem::new(
                "committee",
                "invalid_committee_policy",
                "the opening committee needs a threshold of at least 2 and at most its size, which is at most 15",
            ));
        }
        for (i, q) in self.qualification_criteria.iter().enumerate() {
            if q.trim().is_empty() || q.chars().count() > 1000 {
                out.push(Problem::new(
                    &format!("qualification_criteria[{i}]"),
                    "invalid_criterion",
                    "each qualification criterion must have 1 to 1000 characters",
                ));
            }
        }
        for (i, d) in self.documents.iter().enumerate() {
            let hex_ok = d.sha256.len() == 64
                && d.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
            if d.name.trim().is_empty() || d.name.len() > 255 || !hex_ok {
                out.push(Problem::new(
                    &format!("documents[{i}]"),
                    "invalid_document",
                    "each document needs a name of 1 to 255 bytes and a lower-case hex SHA-256",
                ));
            }
        }
        out
    }

    /// The earliest legal bid deadline for a tender published at `publication`.
    pub fn earliest_deadline(
        &self,
        publication: DateTime<Utc>,
        rules: &TenderRules,
    ) -> DateTime<Utc> {
        let days = if self.mandatory {
            rules.min_bidding_days_mandatory
        } else {
            rules.min_bidding_days_other
        };
        publication + Duration::days(days)
    }
}

/// The trading centre's last return of a tender, listing every problem at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReturn {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tender {
    pub id: TenderId,
    pub code: TenderCode,
    /// The hall that runs the tender.
    pub hall: DivisionCode,
    /// The tenderee (or its agency) that owns the tender.
    pub org: OrgId,
    pub created_by: UserId,
    pub terms: TenderTerms,
    pub state: TenderState,
    /// Bumped by every change; stores use it for optimistic concurrency.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// End of the trading centre's review period (3 working days after submission).
    pub review_due: Option<DateTime<Utc>>,
    pub last_return: Option<ReviewReturn>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the tender failed or was cancelled.
    pub end_reason: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TenderError {
    #[error("a tender that is {from} cannot be {action}")]
    IllegalTransition {
        from: TenderState,
        action: &'static str,
    },
    #[error("the tender has {} problem(s): {}", .0.len(), .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    #[error("the bid deadline {} has passed; the tender can no longer be changed", china_time(*.deadline))]
    DeadlinePassed { deadline: DateTime<Utc> },
    #[error("the bid deadline {} has not been reached yet", china_time(*.deadline))]
    DeadlineNotReached { deadline: DateTime<Utc> },
    #[error("the opening is scheduled for {}; nothing can be opened before it", china_time(*.opening_time))]
    OpeningNotYet { opening_time: DateTime<Utc> },
    #[error("a reason is required")]
    ReasonRequired,
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl TenderError {
    pub fn code(&self) -> &'static str {
        match self {
            TenderError::IllegalTransition { .. } => "illegal_transition",
            TenderError::Invalid(_) => "invalid_tender",
            TenderError::DeadlinePassed { .. } => "deadline_passed",
            TenderError::DeadlineNotReached { .. } => "deadline_not_reached",
            TenderError::OpeningNotYet { .. } => "opening_not_yet",
            TenderError::ReasonRequired => "reason_required",
            TenderError::Calendar(e) => e.code(),
        }
    }
}

/// Changes an amendment makes; fields left `None` stay as they were. The committee policy, the
/// category and the mandatory flag are fixed at publication (the sealing policy depends on them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub estimated_price: Option<Money>,
    pub ceiling_price: Option<Money>,
    pub bid_deposit: Option<Money>,
    pub documents: Option<Vec<TenderDocument>>,
    pub bid_deadline: Option<DateTime<Utc>>,
    pub evaluation_method: Option<EvaluationMethod>,
    pub qualification_criteria: Option<Vec<String>>,
}

impl TermsPatch {
    pub fn is_empty(&self) -> bool {
        self == &TermsPatch::default()
    }
}

/// An amendment to a published tender, kept for ever and shown to every bidder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub id: AmendmentId,
    pub tender_id: TenderId,
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub summary: String,
    pub changes: TermsPatch,
    pub previous_deadline: DateTime<Utc>,
    pub new_deadline: DateTime<Utc>,
    /// True when the deadline moved because the amendment came too late (法 23).
    pub deadline_pushed: bool,
}

/// A bidder's clarification question and the tenderee's answer. Answers go to every bidder and
/// never name who asked (条例 21).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub tender_id: TenderId,
    pub asked_by: UserId,
    pub asked_by_org: Option<OrgId>,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    pub answer: Option<Answer>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub at: DateTime<Utc>,
    pub by: UserId,
    /// Whether the answer may affect the preparation of bids; such an answer is a clarification
    /// under 法 23 and moves a deadline that is less than 15 days away.
    pub affects_bids: bool,
    /// The deadline after the answer, if it moved.
    pub new_deadline: Option<DateTime<Utc>>,
}

/// What `Tender::open` concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpeningOutcome {
    Opened,
    /// Fewer bids than the minimum: no opening, the tender fails and is re-tendered.
    FailedTooFewBids,
}

impl Tender {
    /// A new draft.
    #[allow(clippy::too_many_arguments)]
    pub fn new_draft(
        id: TenderId,
        code: TenderCode,
        hall: DivisionCode,
        org: OrgId,
        created_by: UserId,
        terms: TenderTerms,
        now: DateTime<Utc>,
    ) -> Tender {
        Tender {
            id,
            code,
            hall,
            org,
            created_by,
            terms,
            state: TenderState::Draft,
            version: 1,
            created_at: now,
            submitted_at: None,
            review_due: None,
            last_return: None,
            published_at: None,
            closed_at: None,
            opened_at: None,
            ended_at: None,
            end_reason: None,
        }
    }

    fn expect_state(
        &self,
        allowed: &[TenderState],
        action: &'static str,
    ) -> Result<(), TenderError> {
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            Err(TenderError::IllegalTransition {
                from: self.state,
                action,
            })
        }
    }

    fn bump(&mut self) {
        self.version += 1;
    }

    /// Replaces the terms of a draft.
    pub fn edit_draft(&mut self, terms: TenderTerms) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::Draft], "edited as a draft")?;
        self.terms = terms;
        self.bump();
        Ok(())
    }

    /// Sends a draft to the trading centre, which must answer within the review period.
    pub fn submit_for_review(
        &mut self,
        now: DateTime<Utc>,
        calendar: &WorkingCalendar,
        rules: &TenderRules,
    ) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::Draft], "submitted for review")?;
        let problems = self.terms.problems(now, rules);
        if !problems.is_empty() {
            return Err(TenderError::Invalid(problems));
        }
        let due = calendar.add_working_days_at(now, rules.review_working_days)?;
        self.state = TenderState::UnderReview;
        self.submitted_at = Some(now);
        self.review_due = Some(due);
        self.bump();
        Ok(())
    }

    /// Whether the centre's review has run past its due time.
    pub fn review_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state == TenderState::UnderReview && self.review_due.is_some_and(|due| now > due)
    }

    /// The centre approves: the tender is published now. The terms are checked again against the
    /// actual publication time, since the deadline rule counts from it.
    pub fn approve(&mut self, now: DateTime<Utc>, rules: &TenderRules) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::UnderReview], "approved")?;
        let problems = self.terms.problems(now, rules);
        if !problems.is_empty() {
            return Err(TenderError::Invalid(problems));
        }
        self.state = TenderState::Published;
        self.published_at = Some(now);
        self.bump();
        Ok(())
    }

    /// The centre returns the tender to its draft, listing every problem at once.
    pub fn return_for_changes(
        &mut self,
        now: DateTime<Utc>,
        by: UserId,
        problems: Vec<String>,
    ) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::UnderReview], "returned")?;
        let problems: Vec<String> = problems
            .into_iter()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        if problems.is_empty() {
            return Err(TenderError::ReasonRequired);
        }
        self.state = TenderState::Draft;
        self.last_return = Some(ReviewReturn {
            at: now,
            by,
            problems,
        });
        self.review_due = None;
        self.bump();
        Ok(())
    }

    fn before_deadline(&self, now: DateTime<Utc>) -> Result<(), TenderError> {
        if now >= self.terms.bid_deadline {
            Err(TenderError::DeadlinePassed {
                deadline: self.terms.bid_deadline,
            })
        } else {
            Ok(())
        }
    }

    /// The deadline a clarification issued `now` requires: at least the configured days away.
    fn pushed_deadline(&self, now: DateTime<Utc>, rules: &TenderRules) -> Option<DateTime<Utc>> {
        let floor = now + Duration::days(rules.min_days_after_clarification);
        (self.terms.bid_deadline < floor).then_some(floor)
    }

    fn move_deadline(&mut self, to: DateTime<Utc>) {
        self.terms.bid_deadline = to;
        self.terms.opening_time = to;
    }

    /// Amends a published tender before its deadline. If the amendment comes less than 15 days
    /// before the deadline, the deadline (and the opening) move out automatically.
    pub fn amend(
        &mut self,
        id: AmendmentId,
        now: DateTime<Utc>,
        by: UserId,
        summary: String,
        changes: TermsPatch,
        rules: &TenderRules,
    ) -> Result<Amendment, TenderError> {
        self.expect_state(&[TenderState::Published], "amended")?;
        self.before_deadline(now)?;
        let summary = summary.trim().to_string();
        if summary.is_empty() || changes.is_empty() {
            return Err(TenderError::Invalid(vec![Problem::new(
                "summary",
                "empty_amendment",
                "an amendment needs a summary and at least one change",
            )]));
        }
        let previous_deadline = self.terms.bid_deadline;
        let mut next = self.clone();
        let p = changes.clone();
        let t = &mut next.terms;
        if let Some(v) = p.title {
            t.title = v;
        }
        if let Some(v) = p.description {
            t.description = v;
        }
        if let Some(v) = p.estimated_price {
            t.estimated_price = v;
        }
        if let Some(v) = p.ceiling_price {
            t.ceiling_price = Some(v);
        }
        if let Some(v) = p.bid_deposit {
            t.bid_deposit = v;
        }
        if let Some(v) = p.documents {
            t.documents = v;
        }
        if let Some(v) = p.bid_deadline {
            t.bid_deadline = v;
            t.opening_time = v;
        }
        if let Some(v) = p.evaluation_method {
            t.evaluation_method = v;
        }
        if let Some(v) = p.qualification_criteria {
            t.qualification_criteria = v;
        }
        // The bidding period still counts from the original publication.
        let published = self.published_at.unwrap_or(now);
        let mut problems = next.terms.problems(published, rules);
        if next.terms.bid_deadline <= now {
            problems.push(Problem::new(
                "bid_deadline",
                "deadline_too_early",
                "an amended deadline must be in the future",
            ));
        }
        if !problems.is_empty() {
            return Err(TenderError::Invalid(problems));
        }
        let pushed = next.pushed_deadline(now, rules);
        if let Some(to) = pushed {
            next.move_deadline(to);
        }
        next.bump();
        let amendment = Amendment {
            id,
            tender_id: self.id,
            at: now,
            by,
            summary,
            changes,
            previous_deadline,
            new_deadline: next.terms.bid_deadline,
            deadline_pushed: pushed.is_some(),
        };
        *self = next;
        Ok(amendment)
    }

    /// Records that a clarification answer was issued `now`. Returns the new deadline if it moved.
    /// Questions can be asked and answered only while bidding is open.
    pub fn clarify(
        &mut self,
        now: DateTime<Utc>,
        affects_bids: bool,
        rules: &TenderRules,
    ) -> Result<Option<DateTime<Utc>>, TenderError> {
        self.expect_state(&[TenderState::Published], "clarified")?;
        self.before_deadline(now)?;
        let moved = if affects_bids {
            self.pushed_deadline(now, rules)
        } else {
            None
        };
        if let Some(to) = moved {
            self.move_deadline(to);
        }
        self.bump();
        Ok(moved)
    }

    /// Checks that a question may be asked now (bidding open, before the deadline).
    pub fn can_ask(&self, now: DateTime<Utc>) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::Published], "asked a question")?;
        self.before_deadline(now)
    }

    /// Seals the tender at its deadline: from now on the set of bids is fixed.
    pub fn close(&mut self, now: DateTime<Utc>) -> Result<(), TenderError> {
        self.expect_state(&[TenderState::Published], "closed")?;
        if now < self.terms.bid_deadline {
            return Err(TenderError::DeadlineNotReached {
                deadline: self.terms.bid_deadline,
            });
        }
        self.state = TenderState::Closed;
        self.closed_at = Some(now);
        self.bump();
        Ok(())
    }

    /// The opening, at or after the opening time and never before. With fewer bids than the
    /// minimum there is no opening: the tender fails and must be re-tendered.
    pub fn open(
        &mut self,
        now: DateTime<Utc>,
        bids: u32,
        rules: &TenderRules,
    ) -> Result<OpeningOutcome, TenderError> {
        if now < self.terms.opening_time {
            return Err(TenderError::OpeningNotYet {
                opening_time: self.terms.opening_time,
            });
        }
        self.expect_state(&[TenderState::Closed], "opened")?;
        self.bump();
        if bids < rules.min_bids {
            self.state = TenderState::Failed;
            self.ended_at = Some(now);
            self.end_reason = Some(format!(
                "{bids} bid(s) received, fewer than {}: no opening, re-tender (法 28, 条例 44)",
                rules.min_bids
            ));
            return Ok(OpeningOutcome::FailedTooFewBids);
        }
        self.state = TenderState::Opened;
        self.opened_at = Some(now);
        Ok(OpeningOutcome::Opened)
    }

    fn step(
        &mut self,
        from: TenderState,
        to: TenderState,
        action: &'static str,
    ) -> Result<(), TenderError> {
        self.expect_state(&[from], action)?;
        self.state = to;
        self.bump();
        Ok(())
    }

    pub fn start_evaluation(&mut self) -> Result<(), TenderError> {
        self.step(
            TenderState::Opened,
            TenderState::Evaluating,
            "put to evaluation",
        )
    }

    pub fn publish_candidates(&mut self) -> Result<(), TenderError> {
        self.step(
            TenderState::Evaluating,
            TenderState::CandidatesPublished,
            "given published candidates",
        )
    }

    pub fn award(&mut self) -> Result<(), TenderError> {
        self.step(
            TenderState::CandidatesPublished,
            TenderState::Awarded,
            "awarded",
        )
    }

    pub fn complete(&mut self, now: DateTime<Utc>) -> Result<(), TenderError> {
        self.step(TenderState::Awarded, TenderState::Completed, "completed")?;
        self.ended_at = Some(now);
        Ok(())
    }

    /// Cancels a tender that has not been awarded, with a reason that is published.
    pub fn cancel(&mut self, now: DateTime<Utc>, reason: &str) -> Result<(), TenderError> {
        self.expect_state(
            &[
                TenderState::Draft,
                TenderState::UnderReview,
                TenderState::Published,
                TenderState::Closed,
                TenderState::Opened,
                TenderState::Evaluating,
                TenderState::CandidatesPublished,
            ],
            "cancelled",
        )?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(TenderError::ReasonRequired);
        }
        self.state = TenderState::Cancelled;
        self.ended_at = Some(now);
        self.end_reason = Some(reason.to_string());
        self.bump();
        Ok(())
    }

    /// The published timetable, in order, for notices and pages.
    pub fn timetable(&self) -> Vec<(&'static str, DateTime<Utc>)> {
        let mut out = vec![("created", self.created_at)];
        if let Some(t) = self.submitted_at {
            out.push(("submitted for review", t));
        }
        if let Some(t) = self.review_due {
            if self.state == TenderState::UnderReview {
                out.push(("review due", t));
            }
        }
        if let Some(t) = self.published_at {
            out.push(("published", t));
        }
        out.push(("bid deadline", self.terms.bid_deadline));
        out.push(("opening", self.terms.opening_time));
        if let Some(t) = self.closed_at {
            out.push(("closed", t));
        }
        if let Some(t) = self.opened_at {
            out.push(("opened", t));
        }
        if let Some(t) = self.ended_at {
            out.push(("ended", t));
        }
        out
    }
}

#[cfg(test)]
#[path = "tender_tests.rs"]
mod tests;
