//! What the store keeps for online evaluation: the expert pool (one JSON document per expert) and
//! each tender's committee draw, its public and private parts apart.
use chrono::{DateTime, Utc};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::{BidId, TenderId, UserId};

/// One expert of the pool, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpertRecord {
    pub id: String,
    pub updated_at: DateTime<Utc>,
    /// `sealbid_domain::evaluation::experts::Expert` as JSON.
    pub doc: String,
}

/// A tender's committee draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeDraw {
    pub tender_id: TenderId,
    /// 1 for the first draw; bumped by every replacement.
    pub version: i64,
    pub drawn_at: DateTime<Utc>,
    /// `PublicDraw` as JSON: what anyone may see and re-run.
    pub public_doc: String,
    /// `PrivateDraw` as JSON: names and exclusions.
    pub private_doc: String,
}

/// A draw to store: the first (`expected_version` none: a second first draw is
/// `Conflict("committee_draw")`) or a replacement of version `expected_version`.
pub struct DrawWrite<'a> {
    pub draw: &'a CommitteeDraw,
    pub expected_version: Option<i64>,
    /// The tender's state change (put to evaluation), in the same transaction.
    pub tender: Option<(&'a sealbid_domain::tender::Tender, i64)>,
    /// With the first draw: the pool it was drawn from (digest, JSON), kept for replacements.
    pub pool: Option<(&'a str, &'a str)>,
    pub audit: &'a AuditEvent,
}

/// A member's declaration of no conflict of interest for a tender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    pub tender_id: TenderId,
    pub user_id: UserId,
    pub expert_id: String,
    pub at: DateTime<Utc>,
    pub statement: String,
}

/// A member's score sheet for one bid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSheet {
    pub tender_id: TenderId,
    pub user_id: UserId,
    pub bid_id: BidId,
    pub submitted_at: DateTime<Utc>,
    /// `sealbid_domain::evaluation::scoring::ScoreSheet` as JSON.
    pub doc: String,
}

/// A tenderee's representative appointed to a seat of the committee (seats after the drawn ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Representative {
    pub tender_id: TenderId,
    pub user_id: UserId,
    pub seat: u32,
    pub appointed_at: DateTime<Utc>,
}

/// The time the members have to finish, and how often it was extended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvaluationTime {
    pub tender_id: TenderId,
    pub due_at: DateTime<Utc>,
    pub set_at: DateTime<Utc>,
    pub extended: u32,
}

/// A member's request for more time (条例 48: more than a third asking extends the time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeRequest {
    pub tender_id: TenderId,
    pub user_id: UserId,
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A tender's evaluation report: the body the members sign, their signatures (a JSON array), and
/// once every member has signed, the platform-signed document as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReport {
    pub tender_id: TenderId,
    pub version: i64,
    pub drawn_up_at: DateTime<Utc>,
    pub body: String,
    pub signatures: String,
    pub logged: Option<String>,
    pub log_index: Option<u64>,
    pub checkpoint: Option<String>,
}

/// Writes a report: the first (`expected_version: None`; `Conflict("report")` if one exists), or
/// a new version of it (`VersionConflict` if it moved on). With `log`, the logged document is
/// appended to the transparency log in the same transaction and its index and checkpoint are
/// stored with the report.
pub struct ReportWrite<'a> {
    pub report: &'a StoredReport,
    pub expected_version: Option<i64>,
    pub log: Option<crate::LogAppend<'a>>,
    pub audit: &'a AuditEvent,
}

/// A tender's process after the evaluation (`AwardProcess` as JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAward {
    pub tender_id: TenderId,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub doc: String,
}

/// Writes the award document: the first (`expected_version: None`; `Conflict("award")` if there
/// is one) or a new version (`VersionConflict` if it moved on), with the tender's state change in
/// the same transaction when given.
pub struct AwardWrite<'a> {
    pub award: &'a StoredAward,
    pub expected_version: Option<i64>,
    pub tender: Option<(&'a sealbid_domain::tender::Tender, i64)>,
    pub audit: &'a AuditEvent,
}
