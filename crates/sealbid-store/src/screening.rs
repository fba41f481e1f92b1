//! What the store keeps of the anomaly engine's work: each tender's latest screening (its screens and
//! classifier score), the alerts with their review status and every review step, the bids a confirmed
//! alert marks for rejection, and the bidders' credit records. The engine's alert itself (evidence,
//! figures, chart) is kept as the JSON document it produced; the columns are what the queue filters on.
use chrono::{DateTime, Utc};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::screening::AlertStatus;
use sealbid_domain::{AlertId, OrgId, TenderId, UserId};
use serde::{Deserialize, Serialize};

/// A tender's latest screening. Re-running replaces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderScreening {
    pub tender_id: TenderId,
    pub at: DateTime<Utc>,
    /// Classifier score in thousandths, where the tender could be scored.
    pub score_milli: Option<i64>,
    /// The engine's per-tender result (screens, score and how it was reached, unreadable files).
    pub doc: String,
}

/// An alert to store (the engine's output plus the columns the queue filters on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    pub id: AlertId,
    pub fingerprint: String,
    pub tender_id: TenderId,
    pub family: String,
    pub indicator: String,
    /// Score in thousandths, 0..=1000.
    pub score_milli: i64,
    /// The bidders it names (organisation ids as text).
    pub bidders: Vec<String>,
    /// The engine's alert as JSON.
    pub doc: String,
}

/// A stored alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredAlert {
    pub id: AlertId,
    pub fingerprint: String,
    pub tender_id: TenderId,
    pub family: String,
    pub indicator: String,
    pub score_milli: i64,
    pub status: AlertStatus,
    /// Bumped by every review step; a step names the version it was decided on.
    pub version: i64,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub bidders: Vec<String>,
    pub doc: String,
}

/// One screening's write: the tender's result and its alerts, in one transaction.
pub struct ScreeningWrite<'a> {
    pub screening: &'a TenderScreening,
    pub alerts: &'a [NewAlert],
    pub audit: &'a AuditEvent,
}

/// What a screening write did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScreeningSaved {
    /// Alerts stored by this write.
    pub inserted: Vec<AlertId>,
    /// Alerts that were already stored (same fingerprint), left as they were — review status included.
    pub existing: usize,
}

/// The supervisors' queue filter. Results are ordered by score (highest first), then newest.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// The halls whose tenders' alerts are wanted.
    pub scope: crate::HallScope,
    pub tender: Option<TenderId>,
    /// An organisation id (as text) the alert names.
    pub bidder: Option<String>,
    pub indicator: Option<String>,
    pub family: Option<String>,
    pub status: Option<AlertStatus>,
    /// Least score, in thousandths.
    pub min_score_milli: Option<i64>,
    /// At most this many (0: no limit).
    pub limit: u32,
    pub offset: u32,
}

/// One review step as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertReview {
    pub alert_id: AlertId,
    /// 1-based position among the alert's steps (filled in by the store).
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub action: String,
    pub from_status: AlertStatus,
    pub to_status: AlertStatus,
    pub reason: String,
}

/// A bid marked for rejection in evaluation by a confirmed alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidRejection {
    pub tender_id: TenderId,
    pub bidder_org: OrgId,
    pub alert_id: AlertId,
    /// The legal ground, e.g. `条例 40(6)`.
    pub ground: String,
    pub at: DateTime<Utc>,
}

/// One entry of a bidder's credit history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRecord {
    pub id: uuid::Uuid,
    pub org_id: OrgId,
    pub tender_id: Option<TenderId>,
    pub alert_id: Option<AlertId>,
    /// e.g. `collusion`.
    pub kind: String,
    /// The legal ground.
    pub ground: String,
    /// What was found, in the supervisor's words.
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
    /// Barred from bidding until then (none: recorded, not barred).
    pub barred_until: Option<DateTime<Utc>>,
    pub recorded_by: Option<UserId>,
}

impl CreditRecord {
    /// Whether the record bars its bidder at `now`.
    pub fn bars_at(&self, now: DateTime<Utc>) -> bool {
        self.barred_until.is_some_and(|u| now < u)
    }
}

/// A review step and, for a confirmation, what it does, written in one transaction.
pub struct AlertDecision<'a> {
    pub alert: AlertId,
    /// The version the supervisor decided on; a different stored one is a `VersionConflict`.
    pub expected_version: i64,
    pub review: &'a AlertReview,
    pub rejections: &'a [BidRejection],
    pub credit: &'a [CreditRecord],
    pub audit: &'a AuditEvent,
}
