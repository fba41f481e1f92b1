//! Sealbid's persistence. One `Store` trait; one implementation on SQLite (the embedded default,
//! WAL mode) and one on PostgreSQL, each with its own migrations under `migrations/`, kept in
//! step. Every mutating method takes the `AuditEvent` describing the change and appends it to the
//! hash-chained audit log in the same transaction, so a change and its audit record commit or
//! fail together. Large files live behind `BlobStore` (local directory or S3 via object_store).
//!
//! Conventions every implementation follows (the conformance suite checks them):
//! - A call that fails leaves the store unchanged: no row and no audit record is written.
//! - Listings take `limit` and `offset`; a `limit` of 0 means "no limit".
//! - Timestamps kept in columns (`created_at`, session times, deadlines used for queries) have
//!   microsecond precision, PostgreSQL's; finer digits are truncated. Entities kept whole as
//!   JSON documents (tenders, amendments, questions) round-trip exactly.
//! - The store never reads the clock: every time comes from the caller.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod blob;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
pub mod evaluation;
pub mod postgres;
#[cfg(test)]
mod s3_tests;
pub mod screening;
pub mod sealing;
pub mod sql;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sealbid_domain::audit::{AuditEvent, AuditRecord, BrokenLink};
use sealbid_domain::org::{Hall, OrgKind, Organisation, User};
use sealbid_domain::tender::{Amendment, Question, Tender, TenderState};
use sealbid_domain::{AlertId, BidId, DivisionCode, OrgId, QuestionId, TenderId, UserId};

pub use blob::{BlobError, BlobMeta, BlobStore, ObjectBlobStore};
pub use error::StoreError;
pub use evaluation::{
    AwardWrite, CommitteeDraw, Declaration, DrawWrite, EvaluationTime, ExpertRecord, ReportWrite,
    Representative, StoredAward, StoredReport, StoredSheet, TimeRequest,
};
pub use postgres::PgStore;
pub use screening::{
    AlertDecision, AlertFilter, AlertReview, BidRejection, CreditRecord, NewAlert, ScreeningSaved,
    ScreeningWrite, StoredAlert, TenderScreening,
};
pub use sealing::{
    Appended, Bid, BidChange, BidStatus, BidWithdrawal, Closing, CommitteeSeat, DepositPayment,
    DepositRef, LogAppend, LogEntry, Opened, OpeningAction, SealWrite, StoredEnvelope,
    TenderSealing, UploadSource,
};
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A login session or API token. Only the SHA-256 of the secret token is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Lower-case hex SHA-256 of the token the client holds.
    pub token_hash: String,
    pub user_id: UserId,
    pub kind: SessionKind,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// Browser session, sent as a cookie.
    Cookie,
    /// API token, sent as `Authorization: Bearer`.
    Bearer,
}

impl SessionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

/// Which halls a listing may show.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum HallScope {
    /// Every hall (city staff of the whole platform, admins, the public for public tenders).
    #[default]
    All,
    /// Halls covered by this division code (see `DivisionCode::covers`).
    Within(DivisionCode),
}

/// A tender listing query. Results are newest first.
#[derive(Clone, Debug, Default)]
pub struct TenderFilter {
    pub scope: HallScope,
    /// Only these states (empty: any).
    pub states: Vec<TenderState>,
    /// Only tenders of this organisation.
    pub org: Option<OrgId>,
    /// Case-insensitive substring of the code or title.
    pub text: Option<String>,
    /// Visibility rule: public tenders (published and after), plus — if set — every tender of
    /// this organisation whatever its state. When `None`, states are not restricted by
    /// visibility (staff listings).
    pub public_or_org: Option<Option<OrgId>>,
    /// At most this many (0: no limit).
    pub limit: u32,
    pub offset: u32,
}

/// An organisation listing query. Results are ordered by name.
#[derive(Clone, Debug, Default)]
pub struct OrgFilter {
    pub scope: HallScope,
    pub kind: Option<OrgKind>,
    /// Case-insensitive substring of the name or the credit code.
    pub text: Option<String>,
    /// At most this many (0: no limit).
    pub limit: u32,
    pub offset: u32,
}

/// The persistence operations Sealbid needs. Implementations must pass `conformance::run_all`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, e.g. `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    // Halls
    async fn upsert_hall(&self, hall: &Hall, audit: &AuditEvent) -> Result<()>;
    async fn list_halls(&self) -> Result<Vec<Hall>>;

    // Organisations. A duplicate credit code is `StoreError::Conflict("credit_code")`.
    async fn create_org(&self, org: &Organisation, audit: &AuditEvent) -> Result<()>;
    async fn get_org(&self, id: OrgId) -> Result<Option<Organisation>>;
    /// Organisations matching the filter, ordered by name.
    async fn list_orgs(&self, filter: &OrgFilter) -> Result<Vec<Organisation>>;

    // Users. A duplicate username is `StoreError::Conflict("username")`.
    async fn create_user(&self, user: &User, password_hash: &str, audit: &AuditEvent)
        -> Result<()>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;
    /// The user and their password hash (PHC string), for login. `username` is compared
    /// exactly: pass it through `org::parse_username` first.
    async fn find_login(&self, username: &str) -> Result<Option<(User, String)>>;
    /// Users in the scope, ordered by username.
    async fn list_users(&self, scope: &HallScope, limit: u32, offset: u32) -> Result<Vec<User>>;
    async fn set_password(&self, id: UserId, password_hash: &str, audit: &AuditEvent)
        -> Result<()>;

    // Sessions (not audited: they are not state changes of the market).
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash if it has not expired at `now`.
    async fn get_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    /// Deletes the session if it exists (deleting a missing session is not an error).
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Deletes every session that has expired at `now`; returns how many.
    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;

    // Tenders. A duplicate code is `StoreError::Conflict("tender_code")`.
    async fn create_tender(&self, tender: &Tender, audit: &AuditEvent) -> Result<()>;
    async fn get_tender(&self, id: TenderId) -> Result<Option<Tender>>;
    async fn list_tenders(&self, filter: &TenderFilter) -> Result<Vec<Tender>>;
    /// Counts what `list_tenders` would return without limit and offset.
    async fn count_tenders(&self, filter: &TenderFilter) -> Result<u64>;
    /// Writes `tender` if the stored version is `expected_version`; otherwise
    /// `StoreError::VersionConflict` (or `NotFound`) and nothing changes. `tender.version` must
    /// already be the new, bumped version (the domain's transitions bump it).
    async fn update_tender(
        &self,
        tender: &Tender,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<()>;
    /// Published tenders whose deadline is at or before `now` (the scheduler closes them).
    async fn tenders_due_for_closing(&self, now: DateTime<Utc>) -> Result<Vec<Tender>>;

    // Amendments and clarifications are written together with the tender they change.
    async fn add_amendment(
        &self,
        tender: &Tender,
        expected_version: i64,
        amendment: &Amendment,
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn list_amendments(&self, tender: TenderId) -> Result<Vec<Amendment>>;
    async fn add_question(&self, question: &Question, audit: &AuditEvent) -> Result<()>;
    async fn get_question(&self, id: QuestionId) -> Result<Option<Question>>;
    /// Stores an answered question together with the tender (whose deadline may have moved).
    async fn answer_question(
        &self,
        question: &Question,
        tender: &Tender,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn list_questions(&self, tender: TenderId) -> Result<Vec<Question>>;

    // Sealing (see `sealing`): one transactional write for the whole flow, and the reads.
    /// Applies `w` in one transaction and returns the log append's result (if it had one). A
    /// stale tender or sealing version is `VersionConflict`; a bid whose manifest digest is
    /// already stored is `Conflict("manifest_digest")`; withdrawing a bid that is not active is
    /// `Conflict("bid_not_active")`.
    async fn seal_write(&self, w: SealWrite<'_>) -> Result<Option<Appended>>;
    async fn get_sealing(&self, tender: TenderId) -> Result<Option<TenderSealing>>;
    async fn get_bid(&self, id: BidId) -> Result<Option<Bid>>;
    /// Every bid of a tender (all statuses), in log order.
    async fn list_bids(&self, tender: TenderId) -> Result<Vec<Bid>>;
    /// One bidder's bids of a tender (all statuses), in log order.
    async fn list_bids_of(&self, tender: TenderId, bidder: OrgId) -> Result<Vec<Bid>>;
    /// How many bids of the tender are active.
    async fn count_active_bids(&self, tender: TenderId) -> Result<u64>;
    /// The number of entries in the log.
    async fn log_size(&self) -> Result<u64>;
    async fn log_entry(&self, index: u64) -> Result<Option<LogEntry>>;
    /// Entries `[start, end)` (clamped to the log), in order.
    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<LogEntry>>;
    /// The tree hash of the first `size` entries.
    async fn log_root(&self, size: u64) -> Result<[u8; 32]>;
    async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<[u8; 32]>>;
    /// The entries at these indices (missing ones are left out), in index order.
    async fn log_entries_at(&self, indices: &[u64]) -> Result<Vec<LogEntry>>;
    /// Inclusion proofs of many entries in the tree of `size`, in the order of `indices`, from
    /// one batch of node reads.
    async fn log_inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<[u8; 32]>>>;
    async fn log_consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<[u8; 32]>>;
    /// The deposit reference of (tender, bidder), creating it as `candidate` when there is none.
    async fn deposit_reference(
        &self,
        tender: TenderId,
        bidder: OrgId,
        candidate: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<DepositRef>;
    async fn find_deposit_reference(&self, reference: &str) -> Result<Option<DepositRef>>;
    /// Records a payment; idempotent on the bank's transaction id: a repeat returns the stored
    /// payment and `false`.
    async fn record_deposit_payment(
        &self,
        payment: &DepositPayment,
        audit: &AuditEvent,
    ) -> Result<(DepositPayment, bool)>;
    async fn list_deposit_payments(&self, tender: TenderId) -> Result<Vec<DepositPayment>>;
    /// A member's commitment or reveal; a second one of the same kind is
    /// `Conflict("opening_action")`.
    async fn add_opening_action(&self, action: &OpeningAction, audit: &AuditEvent) -> Result<()>;
    async fn list_opening_actions(&self, tender: TenderId) -> Result<Vec<OpeningAction>>;

    // Evaluation
    /// Adds or replaces experts by id, in one transaction with the audit event; returns how many.
    async fn upsert_experts(&self, experts: &[ExpertRecord], audit: &AuditEvent) -> Result<u64>;
    /// The whole pool, by id.
    async fn list_experts(&self) -> Result<Vec<ExpertRecord>>;
    /// Stores a tender's first draw (`Conflict("committee_draw")` if there is one) or a
    /// replacement (`VersionConflict` if the stored draw moved on).
    async fn save_draw(&self, w: DrawWrite<'_>) -> Result<()>;
    async fn get_draw(&self, tender: TenderId) -> Result<Option<CommitteeDraw>>;
    /// The pool a tender's committee was drawn from: (digest, JSON).
    async fn get_draw_pool(&self, tender: TenderId) -> Result<Option<(String, String)>>;
    /// Links an expert of the pool to the account they sign in with (replacing earlier links of
    /// either); `Conflict("unknown_user")` for an unknown account.
    async fn link_expert_account(
        &self,
        expert_id: &str,
        user: UserId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn expert_of_user(&self, user: UserId) -> Result<Option<String>>;
    /// Sets (or replaces) a tender's scoring scheme (`Scheme` as JSON).
    async fn set_scheme(
        &self,
        tender: TenderId,
        doc: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn get_scheme(&self, tender: TenderId) -> Result<Option<String>>;
    /// Stores (or replaces) a member's sheet for a bid; `Conflict("report_drawn_up")` once the
    /// tender has an evaluation report (the scores are frozen).
    async fn put_sheet(&self, sheet: &StoredSheet, audit: &AuditEvent) -> Result<()>;
    async fn list_sheets(&self, tender: TenderId) -> Result<Vec<StoredSheet>>;
    /// A member's declaration; a second one for the same tender is `Conflict("declaration")`.
    async fn add_declaration(&self, d: &Declaration, audit: &AuditEvent) -> Result<()>;
    async fn get_declaration(&self, tender: TenderId, user: UserId) -> Result<Option<Declaration>>;
    /// The pool expert an account signs in as, reversed.
    async fn user_of_expert(&self, expert_id: &str) -> Result<Option<UserId>>;
    /// Replaces the tender's representatives (`Conflict("unknown_user")` for an unknown account).
    async fn set_representatives(
        &self,
        tender: TenderId,
        reps: &[Representative],
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn list_representatives(&self, tender: TenderId) -> Result<Vec<Representative>>;
    /// Stores (or replaces) a member's qualification checklist for a bid (`doc` as JSON);
    /// `Conflict("report_drawn_up")` once the tender has a report, like [`Store::put_sheet`].
    async fn put_qualification(&self, review: &StoredSheet, audit: &AuditEvent) -> Result<()>;
    async fn list_qualifications(&self, tender: TenderId) -> Result<Vec<StoredSheet>>;
    /// Stores (or replaces) a member's explanation of an outlier score on a bid (`doc`: the text);
    /// allowed while the report is drawn up, unlike sheets.
    async fn put_explanation(&self, explanation: &StoredSheet, audit: &AuditEvent) -> Result<()>;
    async fn list_explanations(&self, tender: TenderId) -> Result<Vec<StoredSheet>>;
    /// Sets the session's time (replacing it).
    async fn set_evaluation_time(&self, time: &EvaluationTime, audit: &AuditEvent) -> Result<()>;
    async fn get_evaluation_time(&self, tender: TenderId) -> Result<Option<EvaluationTime>>;
    /// Records a member's request for more time (`Conflict("time_request")` for a second one) and,
    /// with `extend`, the extended time in the same transaction.
    async fn add_time_request(
        &self,
        request: &TimeRequest,
        extend: Option<&EvaluationTime>,
        audit: &AuditEvent,
    ) -> Result<()>;
    async fn list_time_requests(&self, tender: TenderId) -> Result<Vec<TimeRequest>>;
    /// See [`ReportWrite`]; returns the log append when there was one.
    async fn save_report(&self, w: ReportWrite<'_>) -> Result<Option<Appended>>;
    async fn get_report(&self, tender: TenderId) -> Result<Option<StoredReport>>;
    /// See [`AwardWrite`].
    async fn save_award(&self, w: AwardWrite<'_>) -> Result<()>;
    async fn get_award(&self, tender: TenderId) -> Result<Option<StoredAward>>;
    /// Every award document (the refund task list reads them).
    async fn list_awards(&self) -> Result<Vec<StoredAward>>;

    // Screening
    /// Replaces the tender's screening and stores its alerts, in one transaction with the audit
    /// event. An alert whose fingerprint is already stored is left as it is (its review included), so
    /// re-running a screening is idempotent. Scores outside 0..=1000 are `Invalid`.
    async fn save_screening(&self, w: ScreeningWrite<'_>) -> Result<ScreeningSaved>;
    async fn get_tender_screening(&self, tender: TenderId) -> Result<Option<TenderScreening>>;
    /// Every tender's latest screening, oldest first (the market context for fences and scores).
    async fn list_tender_screenings(&self) -> Result<Vec<TenderScreening>>;
    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>>;
    async fn count_alerts(&self, filter: &AlertFilter) -> Result<u64>;
    async fn get_alert(&self, id: AlertId) -> Result<Option<StoredAlert>>;
    /// One review step (status and version checked: `VersionConflict` when the alert moved on, or
    /// `NotFound`), with a confirmation's bid rejections and credit records, in one transaction.
    async fn review_alert(&self, decision: AlertDecision<'_>) -> Result<StoredAlert>;
    async fn list_alert_reviews(&self, alert: AlertId) -> Result<Vec<AlertReview>>;
    async fn list_bid_rejections(&self, tender: TenderId) -> Result<Vec<BidRejection>>;
    /// A bidder's credit history, newest first.
    async fn list_credit_records(&self, org: OrgId) -> Result<Vec<CreditRecord>>;

    // Audit
    /// Appends an event on its own (for changes with no other row to write).
    async fn append_audit(&self, audit: &AuditEvent) -> Result<AuditRecord>;
    /// Records with `seq > after_seq`, in order, at most `limit` (0: all).
    async fn audit_records(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;
    /// Records about one entity, in order.
    async fn audit_for_entity(
        &self,
        entity_kind: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>>;

    /// Re-checks the whole audit chain in pages; returns the number of records or the first
    /// broken link.
    async fn verify_audit(&self) -> Result<std::result::Result<i64, BrokenLink>> {
        let mut v = sealbid_domain::audit::ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.audit_records(after, 1000).await?;
            if page.is_empty() {
                return Ok(Ok(v.count()));
            }
            for r in &page {
                if let Err(b) = v.push(r) {
                    return Ok(Err(b));
                }
                after = r.seq;
            }
        }
    }
}

/// Opens the store a database URL names: `sqlite://PATH` (or a plain path), `sqlite::memory:`
/// or `postgres://…`, running the migrations.
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PgStore::connect(url).await?))
    } else if url == "sqlite::memory:" {
        Ok(std::sync::Arc::new(
            sqlite::SqliteStore::open_in_memory().await?,
        ))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path).await?))
    } else if let Some((scheme, _)) = url.split_once("://") {
        // Only the scheme is echoed: the rest may hold a password.
        Err(StoreError::Config(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://…"
        )))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connect_picks_the_backend_from_the_url() {
        let mem = connect("sqlite::memory:").await.unwrap();
        assert_eq!(mem.backend(), "sqlite");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("sealbid.db");
        let url = format!("sqlite://{}", path.display());
        assert_eq!(connect(&url).await.unwrap().backend(), "sqlite");
        assert!(path.exists());
        let plain = dir.path().join("plain.db");
        connect(&plain.to_string_lossy()).await.unwrap();
        assert!(plain.exists());
        match connect("mysql://root:secret@db/sealbid").await {
            Err(e @ StoreError::Config(_)) => assert!(!e.to_string().contains("secret"), "{e}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("mysql is not supported"),
        }
    }
}
