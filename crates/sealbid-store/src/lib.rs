//! Sealbid's persistence. One `Store` trait; one implementation on SQLite (the embedded default,
//! WAL mode) and one on PostgreSQL, each with its own migrations under `migrations/`, kept in
//! step. Every mutating method takes the `AuditEvent` describing the change and appends it to the
//! hash-chained audit log in the same transaction, so a change and its audit record commit or
//! fail together. Large files live behind `BlobStore` (local directory or S3 via object_store).
#![forbid(unsafe_code)]

pub mod blob;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod error;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sealbid_domain::audit::{AuditEvent, AuditRecord, BrokenLink};
use sealbid_domain::org::{Hall, OrgKind, Organisation, User};
use sealbid_domain::tender::{Amendment, Question, Tender, TenderState};
use sealbid_domain::{DivisionCode, OrgId, QuestionId, TenderId, UserId};

pub use blob::{BlobError, BlobStore};
pub use error::StoreError;

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
    pub limit: u32,
    pub offset: u32,
}

#[derive(Clone, Debug, Default)]
pub struct OrgFilter {
    pub scope: HallScope,
    pub kind: Option<OrgKind>,
    pub text: Option<String>,
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
    async fn list_orgs(&self, filter: &OrgFilter) -> Result<Vec<Organisation>>;

    // Users. A duplicate username is `StoreError::Conflict("username")`.
    async fn create_user(&self, user: &User, password_hash: &str, audit: &AuditEvent)
        -> Result<()>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;
    /// The user and their password hash (PHC string), for login.
    async fn find_login(&self, username: &str) -> Result<Option<(User, String)>>;
    async fn list_users(&self, scope: &HallScope, limit: u32, offset: u32) -> Result<Vec<User>>;
    async fn set_password(&self, id: UserId, password_hash: &str, audit: &AuditEvent)
        -> Result<()>;

    // Sessions (not audited: they are not state changes of the market).
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash if it has not expired at `now`.
    async fn get_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    // Tenders. A duplicate code is `StoreError::Conflict("tender_code")`.
    async fn create_tender(&self, tender: &Tender, audit: &AuditEvent) -> Result<()>;
    async fn get_tender(&self, id: TenderId) -> Result<Option<Tender>>;
    async fn list_tenders(&self, filter: &TenderFilter) -> Result<Vec<Tender>>;
    /// Counts what `list_tenders` would return without limit and offset.
    async fn count_tenders(&self, filter: &TenderFilter) -> Result<u64>;
    /// Writes `tender` if the stored version is `expected_version`; otherwise
    /// `StoreError::VersionConflict` and nothing changes.
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

    // Audit
    /// Appends an event on its own (for changes with no other row to write).
    async fn append_audit(&self, audit: &AuditEvent) -> Result<AuditRecord>;
    /// Records with `seq > after_seq`, in order, at most `limit`.
    async fn audit_records(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>>;
    /// Records about one entity, in order.
    async fn audit_for_entity(&self, entity_kind: &str, entity_id: &str)
        -> Result<Vec<AuditRecord>>;

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

/// Opens the store a database URL names: `sqlite://…` (or a plain path) or `postgres://…`,
/// running the migrations.
pub async fn connect(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PgStore::connect(url).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path).await?))
    } else if url.contains("://") {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme in {url:?}: use sqlite://PATH or postgres://…"
        )))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    }
}
