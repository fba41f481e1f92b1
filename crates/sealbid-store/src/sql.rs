//! The backend-neutral half of the SQL stores. Every query and every rule of the [`Store`] trait
//! is written once, here, against [`Backend`]; SQLite and PostgreSQL only supply their type
//! mapping (ids, timestamps, booleans), how a write transaction starts, and how the audit chain's
//! head is locked. The SQL itself is the common subset of both dialects, with `$n` placeholders
//! (which sqlx's SQLite driver also accepts).
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use sealbid_domain::audit::{next_record, AuditEvent, AuditRecord};
use sealbid_domain::division::DivisionLevel;
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::tender::{Amendment, Question, Tender, TenderState};
use sealbid_domain::{CreditCode, DivisionCode, OrgId, QuestionId, TenderId, UserId};

use crate::error::on_fk;
use crate::{HallScope, OrgFilter, Result, Session, SessionKind, Store, StoreError, TenderFilter};

/// A bound parameter, mapped to each backend's own column types.
#[derive(Clone, Debug)]
pub enum Param {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Id(Uuid),
    OptId(Option<Uuid>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

/// The type a result column is decoded as. Every column may be NULL; `Row`'s accessors decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    Int,
    Bool,
    Id,
    Time,
}

/// A decoded column value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Id(Uuid),
    Time(DateTime<Utc>),
}

/// One statement with its parameters and, for a query, the types of its result columns.
#[derive(Clone, Debug)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
    pub cols: &'static [Ty],
}

/// A decoded result row.
#[derive(Clone, Debug, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::corrupt(format!("result has no column {i}")))
    }
    fn mismatch(&self, i: usize, want: &str) -> StoreError {
        StoreError::corrupt(format!("column {i} is not {want}: {:?}", self.0.get(i)))
    }
    pub fn text(&self, i: usize) -> Result<&str> {
        match self.get(i)? {
            Value::Text(s) => Ok(s),
            _ => Err(self.mismatch(i, "text")),
        }
    }
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            _ => Err(self.mismatch(i, "an integer")),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool> {
        match self.get(i)? {
            Value::Bool(v) => Ok(*v),
            _ => Err(self.mismatch(i, "a boolean")),
        }
    }
    pub fn id(&self, i: usize) -> Result<Uuid> {
        match self.get(i)? {
            Value::Id(v) => Ok(*v),
            _ => Err(self.mismatch(i, "a uuid")),
        }
    }
    pub fn opt_id(&self, i: usize) -> Result<Option<Uuid>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Id(v) => Ok(Some(*v)),
            _ => Err(self.mismatch(i, "a uuid or null")),
        }
    }
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>> {
        match self.get(i)? {
            Value::Time(v) => Ok(*v),
            _ => Err(self.mismatch(i, "a timestamp")),
        }
    }
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Time(v) => Ok(Some(*v)),
            _ => Err(self.mismatch(i, "a timestamp or null")),
        }
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(self.mismatch(i, "an integer or null")),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            _ => Err(self.mismatch(i, "text or null")),
        }
    }
}

/// What a SQL database must provide to host a [`SqlStore`]. Implemented by
/// [`crate::sqlite::SqliteBackend`] and [`crate::postgres::PgBackend`]; not meant for others.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    const NAME: &'static str;
    /// A write transaction (with whatever lock the backend needs held alongside it).
    type Tx: Send;

    /// Starts a write transaction. On SQLite this takes the database's write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers can never read the same audit head.
    async fn begin(&self) -> std::result::Result<Self::Tx, sqlx::Error>;
    async fn commit(&self, tx: Self::Tx) -> std::result::Result<(), sqlx::Error>;
    /// Rolls back; a failure to roll back is logged (the connection discards the transaction).
    async fn rollback(&self, tx: Self::Tx);
    /// Serialises audit appends until the transaction ends (a no-op where `begin` already did).
    async fn lock_audit(&self, tx: &mut Self::Tx) -> std::result::Result<(), sqlx::Error>;
    /// Runs a statement in the transaction; returns the number of rows it changed.
    async fn execute(&self, tx: &mut Self::Tx, q: &Query) -> std::result::Result<u64, sqlx::Error>;
    /// Runs a query in the transaction.
    async fn fetch_tx(&self, tx: &mut Self::Tx, q: &Query) -> Result<Vec<Row>>;
    /// Runs a read-only query on the pool.
    async fn fetch(&self, q: &Query) -> Result<Vec<Row>>;
}

/// A [`Store`] on a SQL database. Use it as [`crate::sqlite::SqliteStore`] or
/// [`crate::postgres::PgStore`].
pub struct SqlStore<B: Backend> {
    pub(crate) b: B,
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn new(b: B) -> Self {
        SqlStore { b }
    }

    async fn finish<T>(&self, tx: B::Tx, r: Result<T>) -> Result<T> {
        match r {
            Ok(v) => {
                self.b.commit(tx).await?;
                Ok(v)
            }
            Err(e) => {
                self.b.rollback(tx).await;
                Err(e)
            }
        }
    }

    async fn fetch_opt(&self, q: Query) -> Result<Option<Row>> {
        Ok(self.b.fetch(&q).await?.into_iter().next())
    }

    /// Appends `event` to the audit chain inside `tx`.
    async fn append(&self, tx: &mut B::Tx, event: &AuditEvent) -> Result<AuditRecord> {
        self.b.lock_audit(tx).await?;
        let head = self
            .b
            .fetch_tx(
                tx,
                &query(
                    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                    vec![],
                    &[Ty::Int, Ty::Text],
                ),
            )
            .await?;
        let prev = match head.first() {
            Some(r) => Some((r.int(0)?, r.text(1)?.to_string())),
            None => None,
        };
        let record = next_record(prev.as_ref().map(|(s, h)| (*s, h.as_str())), event);
        self.b
            .execute(
                tx,
                &stmt(
                    "INSERT INTO audit_log (seq, prev_hash, hash, at, actor, action, entity_kind, \
                     entity_id, event_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    vec![
                        Param::Int(record.seq),
                        Param::Text(record.prev_hash.clone()),
                        Param::Text(record.hash.clone()),
                        Param::Time(event.at),
                        Param::OptId(event.actor.map(|a| a.0)),
                        Param::Text(event.action.clone()),
                        Param::Text(event.entity_kind.clone()),
                        Param::Text(event.entity_id.clone()),
                        Param::Text(record.event_json.clone()),
                    ],
                ),
            )
            .await?;
        Ok(record)
    }

    /// Writes `tender` over the stored row if that row is still at `expected`.
    async fn update_tender_tx(&self, tx: &mut B::Tx, tender: &Tender, expected: i64) -> Result<()> {
        let mut params = tender_params(tender)?;
        params.push(Param::Int(expected));
        let changed = self
            .b
            .execute(
                tx,
                &stmt(
                    "UPDATE tenders SET code = $2, title = $3, search = $4, hall = $5, \
                     org_id = $6, state = $7, version = $8, bid_deadline = $9, created_at = $10, \
                     published_at = $11, doc = $12 WHERE id = $1 AND version = $13",
                    params,
                ),
            )
            .await
            .map_err(on_fk("unknown_org"))?;
        if changed == 1 {
            return Ok(());
        }
        Err(self
            .stale(
                tx,
                "SELECT version FROM tenders WHERE id = $1",
                tender.id.0,
                expected,
            )
            .await)
    }

    /// Why an optimistic update changed no row: `NotFound`, or `VersionConflict` with the version
    /// `version_sql` (one `$1` id parameter) finds.
    async fn stale(
        &self,
        tx: &mut B::Tx,
        version_sql: &str,
        id: Uuid,
        expected: i64,
    ) -> StoreError {
        let rows = match self
            .b
            .fetch_tx(tx, &query(version_sql, vec![Param::Id(id)], &[Ty::Int]))
            .await
        {
            Ok(rows) => rows,
            Err(e) => return e,
        };
        match rows.first().map(|r| r.int(0)) {
            None => StoreError::NotFound,
            Some(Ok(found)) => StoreError::VersionConflict { expected, found },
            Some(Err(e)) => e,
        }
    }
}

/// Runs `$body` (an expression of type `Result<T>`, which may use `$tx`) in a write transaction:
/// committed if it is `Ok`, rolled back otherwise, so a failing call leaves the store unchanged.
macro_rules! in_tx {
    ($self:ident, $tx:ident, $body:expr) => {{
        let mut $tx = $self.b.begin().await?;
        let r: Result<_> = async { $body }.await;
        $self.finish($tx, r).await
    }};
}

mod evaluation;
mod screening;
mod sealing;

fn query(sql: &str, params: Vec<Param>, cols: &'static [Ty]) -> Query {
    Query {
        sql: sql.to_string(),
        params,
        cols,
    }
}

fn stmt(sql: &str, params: Vec<Param>) -> Query {
    query(sql, params, &[])
}

/// A statement under construction; `bind` appends the next `$n` placeholder.
struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    fn new(s: &str) -> Sql {
        Sql {
            text: s.to_string(),
            params: Vec::new(),
        }
    }
    fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }
    fn bind(&mut self, p: Param) -> &mut Sql {
        self.params.push(p);
        self.text.push('$');
        self.text.push_str(&self.params.len().to_string());
        self
    }
    /// Starts the next condition of a WHERE clause.
    fn and(&mut self) -> &mut Sql {
        if self.text.contains(" WHERE ") {
            self.push(" AND ")
        } else {
            self.push(" WHERE ")
        }
    }
    fn page(&mut self, limit: u32, offset: u32) -> &mut Sql {
        let limit = if limit == 0 {
            i64::MAX
        } else {
            i64::from(limit)
        };
        self.push(" LIMIT ")
            .bind(Param::Int(limit))
            .push(" OFFSET ")
            .bind(Param::Int(i64::from(offset)))
    }
    fn query(self, cols: &'static [Ty]) -> Query {
        Query {
            sql: self.text,
            params: self.params,
            cols,
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text listings search in: lower-cased here (Unicode-aware), so both backends compare the
/// same strings. The unit separator keeps a search from matching across two fields.
fn search_text(parts: &[&str]) -> String {
    parts.join("\u{1f}").to_lowercase()
}

/// Adds the case-insensitive substring condition on `search`, if `text` has any.
fn where_text(s: &mut Sql, text: &Option<String>) {
    if let Some(t) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", like_escape(&t.to_lowercase()));
        s.and()
            .push("search LIKE ")
            .bind(Param::Text(pattern))
            .push(" ESCAPE '\\'");
    }
}

/// Adds the hall condition: a division covers the halls `DivisionCode::covers` says it does.
fn where_scope(s: &mut Sql, scope: &HallScope) {
    if let HallScope::Within(code) = scope {
        let c = code.as_str();
        let prefix = match code.level() {
            DivisionLevel::Province => c.get(..2),
            DivisionLevel::City => c.get(..4),
            DivisionLevel::District => None,
        };
        match prefix {
            Some(p) => s
                .and()
                .push("hall LIKE ")
                .bind(Param::Text(format!("{}%", like_escape(p))))
                .push(" ESCAPE '\\'"),
            None => s.and().push("hall = ").bind(Param::Text(c.to_string())),
        };
    }
}

fn where_tenders(s: &mut Sql, f: &TenderFilter) {
    where_scope(s, &f.scope);
    if !f.states.is_empty() {
        s.and().push("state IN (");
        for (i, st) in f.states.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.bind(Param::Text(st.as_str().to_string()));
        }
        s.push(")");
    }
    if let Some(org) = f.org {
        s.and().push("org_id = ").bind(Param::Id(org.0));
    }
    where_text(s, &f.text);
    if let Some(visible_org) = &f.public_or_org {
        s.and().push("(state NOT IN (");
        let private = TenderState::ALL.into_iter().filter(|st| !st.is_public());
        for (i, st) in private.enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.bind(Param::Text(st.as_str().to_string()));
        }
        s.push(")");
        if let Some(org) = visible_org {
            s.push(" OR org_id = ").bind(Param::Id(org.0));
        }
        s.push(")");
    }
}

const ORG_COLS: &str = "id, credit_code, name, kind, hall, created_at";
const ORG_TYS: &[Ty] = &[Ty::Id, Ty::Text, Ty::Text, Ty::Text, Ty::Text, Ty::Time];
const USER_COLS: &str = "id, username, display_name, roles, org_id, hall, active, created_at";
const USER_TYS: &[Ty] = &[
    Ty::Id,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Id,
    Ty::Text,
    Ty::Bool,
    Ty::Time,
];
const LOGIN_TYS: &[Ty] = &[
    Ty::Id,
    Ty::Text,
    Ty::Text,
    Ty::Text,
    Ty::Id,
    Ty::Text,
    Ty::Bool,
    Ty::Time,
    Ty::Text,
];
const SESSION_COLS: &str = "token_hash, user_id, kind, created_at, expires_at";
const SESSION_TYS: &[Ty] = &[Ty::Text, Ty::Id, Ty::Text, Ty::Time, Ty::Time];
const DOC: &[Ty] = &[Ty::Text];
const AUDIT_COLS: &str = "seq, prev_hash, hash, event_json";
const AUDIT_TYS: &[Ty] = &[Ty::Int, Ty::Text, Ty::Text, Ty::Text];

fn division(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| StoreError::corrupt(format!("stored hall: {e}")))
}

fn hall_from(r: &Row) -> Result<Hall> {
    Ok(Hall {
        division: division(r.text(0)?)?,
        name: r.text(1)?.to_string(),
    })
}

fn org_from(r: &Row) -> Result<Organisation> {
    // Lenient: a legacy pilot code with a wrong check character was accepted with a warning
    // when it was registered, and must still load.
    let (credit_code, _) = CreditCode::parse_lenient(r.text(1)?)
        .map_err(|e| StoreError::corrupt(format!("stored credit code: {e}")))?;
    let kind = r.text(3)?;
    Ok(Organisation {
        id: OrgId(r.id(0)?),
        credit_code,
        name: r.text(2)?.to_string(),
        kind: OrgKind::parse(kind)
            .ok_or_else(|| StoreError::corrupt(format!("stored organisation kind {kind:?}")))?,
        hall: division(r.text(4)?)?,
        created_at: r.time(5)?,
    })
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
}

fn user_from(r: &Row) -> Result<User> {
    let roles = r
        .text(3)?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Role::parse(s).ok_or_else(|| StoreError::corrupt(format!("stored role {s:?}"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(User {
        id: UserId(r.id(0)?),
        username: r.text(1)?.to_string(),
        display_name: r.text(2)?.to_string(),
        roles,
        org: r.opt_id(4)?.map(OrgId),
        hall: division(r.text(5)?)?,
        active: r.bool(6)?,
        created_at: r.time(7)?,
    })
}

fn session_from(r: &Row) -> Result<Session> {
    let kind = match r.text(2)? {
        "cookie" => SessionKind::Cookie,
        "bearer" => SessionKind::Bearer,
        other => {
            return Err(StoreError::corrupt(format!(
                "stored session kind {other:?}"
            )))
        }
    };
    Ok(Session {
        token_hash: r.text(0)?.to_string(),
        user_id: UserId(r.id(1)?),
        kind,
        created_at: r.time(3)?,
        expires_at: r.time(4)?,
    })
}

fn doc_from<T: serde::de::DeserializeOwned>(r: &Row, what: &str) -> Result<T> {
    serde_json::from_str(r.text(0)?)
        .map_err(|e| StoreError::corrupt(format!("stored {what} does not parse: {e}")))
}

fn to_doc<T: serde::Serialize>(v: &T, what: &str) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::corrupt(format!("cannot serialise {what}: {e}")))
}

/// The parameters `$1..$12` of a tender row, in column order.
fn tender_params(t: &Tender) -> Result<Vec<Param>> {
    Ok(vec![
        Param::Id(t.id.0),
        Param::Text(t.code.as_str().to_string()),
        Param::Text(t.terms.title.clone()),
        Param::Text(search_text(&[t.code.as_str(), &t.terms.title])),
        Param::Text(t.hall.as_str().to_string()),
        Param::Id(t.org.0),
        Param::Text(t.state.as_str().to_string()),
        Param::Int(t.version),
        Param::Time(t.terms.bid_deadline),
        Param::Time(t.created_at),
        Param::OptTime(t.published_at),
        Param::Text(to_doc(t, "tender")?),
    ])
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    async fn seal_write(&self, w: crate::SealWrite<'_>) -> Result<Option<crate::Appended>> {
        self.seal_write_impl(w).await
    }
    async fn get_sealing(&self, tender: TenderId) -> Result<Option<crate::TenderSealing>> {
        self.get_sealing_impl(tender).await
    }
    async fn get_bid(&self, id: sealbid_domain::BidId) -> Result<Option<crate::Bid>> {
        self.get_bid_impl(id).await
    }
    async fn list_bids(&self, tender: TenderId) -> Result<Vec<crate::Bid>> {
        self.list_bids_impl(tender).await
    }
    async fn list_bids_of(&self, tender: TenderId, bidder: OrgId) -> Result<Vec<crate::Bid>> {
        self.list_bids_of_impl(tender, bidder).await
    }
    async fn count_active_bids(&self, tender: TenderId) -> Result<u64> {
        self.count_active_bids_impl(tender).await
    }
    async fn log_size(&self) -> Result<u64> {
        self.log_size_impl().await
    }
    async fn log_entry(&self, index: u64) -> Result<Option<crate::LogEntry>> {
        self.log_entry_impl(index).await
    }
    async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<crate::LogEntry>> {
        self.log_entries_impl(start, end).await
    }
    async fn log_root(&self, size: u64) -> Result<[u8; 32]> {
        self.log_root_impl(size).await
    }
    async fn log_entries_at(&self, indices: &[u64]) -> Result<Vec<crate::LogEntry>> {
        self.log_entries_at_impl(indices).await
    }
    async fn log_inclusion_proofs(&self, indices: &[u64], size: u64) -> Result<Vec<Vec<[u8; 32]>>> {
        self.log_inclusion_proofs_impl(indices, size).await
    }
    async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<[u8; 32]>> {
        self.log_inclusion_proof_impl(index, size).await
    }
    async fn log_consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<[u8; 32]>> {
        self.log_consistency_proof_impl(old_size, new_size).await
    }
    async fn deposit_reference(
        &self,
        tender: TenderId,
        bidder: OrgId,
        candidate: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<crate::DepositRef> {
        self.deposit_reference_impl(tender, bidder, candidate, at, audit)
            .await
    }
    async fn find_deposit_reference(&self, reference: &str) -> Result<Option<crate::DepositRef>> {
        self.find_deposit_reference_impl(reference).await
    }
    async fn record_deposit_payment(
        &self,
        payment: &crate::DepositPayment,
        audit: &AuditEvent,
    ) -> Result<(crate::DepositPayment, bool)> {
        self.record_deposit_payment_impl(payment, audit).await
    }
    async fn list_deposit_payments(&self, tender: TenderId) -> Result<Vec<crate::DepositPayment>> {
        self.list_deposit_payments_impl(tender).await
    }
    async fn add_opening_action(
        &self,
        action: &crate::OpeningAction,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.add_opening_action_impl(action, audit).await
    }
    async fn list_opening_actions(&self, tender: TenderId) -> Result<Vec<crate::OpeningAction>> {
        self.list_opening_actions_impl(tender).await
    }

    async fn upsert_experts(
        &self,
        experts: &[crate::ExpertRecord],
        audit: &AuditEvent,
    ) -> Result<u64> {
        self.upsert_experts_impl(experts, audit).await
    }
    async fn list_experts(&self) -> Result<Vec<crate::ExpertRecord>> {
        self.list_experts_impl().await
    }
    async fn save_draw(&self, w: crate::DrawWrite<'_>) -> Result<()> {
        self.save_draw_impl(w).await
    }
    async fn get_draw(&self, tender: TenderId) -> Result<Option<crate::CommitteeDraw>> {
        self.get_draw_impl(tender).await
    }
    async fn get_draw_pool(&self, tender: TenderId) -> Result<Option<(String, String)>> {
        self.get_draw_pool_impl(tender).await
    }
    async fn link_expert_account(
        &self,
        expert_id: &str,
        user: UserId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.link_expert_account_impl(expert_id, user, at, audit)
            .await
    }
    async fn set_scheme(
        &self,
        tender: TenderId,
        doc: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.set_scheme_impl(tender, doc, at, audit).await
    }
    async fn get_scheme(&self, tender: TenderId) -> Result<Option<String>> {
        self.get_scheme_impl(tender).await
    }
    async fn put_sheet(&self, sheet: &crate::StoredSheet, audit: &AuditEvent) -> Result<()> {
        self.put_sheet_impl(sheet, audit).await
    }
    async fn list_sheets(&self, tender: TenderId) -> Result<Vec<crate::StoredSheet>> {
        self.list_sheets_impl(tender).await
    }
    async fn expert_of_user(&self, user: UserId) -> Result<Option<String>> {
        self.expert_of_user_impl(user).await
    }
    async fn add_declaration(&self, d: &crate::Declaration, audit: &AuditEvent) -> Result<()> {
        self.add_declaration_impl(d, audit).await
    }
    async fn get_declaration(
        &self,
        tender: TenderId,
        user: UserId,
    ) -> Result<Option<crate::Declaration>> {
        self.get_declaration_impl(tender, user).await
    }

    async fn user_of_expert(&self, expert_id: &str) -> Result<Option<UserId>> {
        self.user_of_expert_impl(expert_id).await
    }
    async fn set_representatives(
        &self,
        tender: TenderId,
        reps: &[crate::Representative],
        audit: &AuditEvent,
    ) -> Result<()> {
        self.set_representatives_impl(tender, reps, audit).await
    }
    async fn list_representatives(&self, tender: TenderId) -> Result<Vec<crate::Representative>> {
        self.list_representatives_impl(tender).await
    }
    async fn put_qualification(
        &self,
        review: &crate::StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.put_qualification_impl(review, audit).await
    }
    async fn list_qualifications(&self, tender: TenderId) -> Result<Vec<crate::StoredSheet>> {
        self.list_qualifications_impl(tender).await
    }
    async fn put_explanation(
        &self,
        explanation: &crate::StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.put_explanation_impl(explanation, audit).await
    }
    async fn list_explanations(&self, tender: TenderId) -> Result<Vec<crate::StoredSheet>> {
        self.list_explanations_impl(tender).await
    }
    async fn set_evaluation_time(
        &self,
        time: &crate::EvaluationTime,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.set_evaluation_time_impl(time, audit).await
    }
    async fn get_evaluation_time(&self, tender: TenderId) -> Result<Option<crate::EvaluationTime>> {
        self.get_evaluation_time_impl(tender).await
    }
    async fn add_time_request(
        &self,
        request: &crate::TimeRequest,
        extend: Option<&crate::EvaluationTime>,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.add_time_request_impl(request, extend, audit).await
    }
    async fn list_time_requests(&self, tender: TenderId) -> Result<Vec<crate::TimeRequest>> {
        self.list_time_requests_impl(tender).await
    }
    async fn save_report(&self, w: crate::ReportWrite<'_>) -> Result<Option<crate::Appended>> {
        self.save_report_impl(w).await
    }
    async fn get_report(&self, tender: TenderId) -> Result<Option<crate::StoredReport>> {
        self.get_report_impl(tender).await
    }
    async fn save_award(&self, w: crate::AwardWrite<'_>) -> Result<()> {
        self.save_award_impl(w).await
    }
    async fn get_award(&self, tender: TenderId) -> Result<Option<crate::StoredAward>> {
        self.get_award_impl(tender).await
    }
    async fn list_awards(&self) -> Result<Vec<crate::StoredAward>> {
        self.list_awards_impl().await
    }

    async fn save_screening(&self, w: crate::ScreeningWrite<'_>) -> Result<crate::ScreeningSaved> {
        self.save_screening_impl(w).await
    }
    async fn get_tender_screening(
        &self,
        tender: TenderId,
    ) -> Result<Option<crate::TenderScreening>> {
        self.get_tender_screening_impl(tender).await
    }
    async fn list_tender_screenings(&self) -> Result<Vec<crate::TenderScreening>> {
        self.list_tender_screenings_impl().await
    }
    async fn list_alerts(&self, filter: &crate::AlertFilter) -> Result<Vec<crate::StoredAlert>> {
        self.list_alerts_impl(filter).await
    }
    async fn count_alerts(&self, filter: &crate::AlertFilter) -> Result<u64> {
        self.count_alerts_impl(filter).await
    }
    async fn get_alert(&self, id: sealbid_domain::AlertId) -> Result<Option<crate::StoredAlert>> {
        self.get_alert_impl(id).await
    }
    async fn review_alert(&self, d: crate::AlertDecision<'_>) -> Result<crate::StoredAlert> {
        self.review_alert_impl(d).await
    }
    async fn list_alert_reviews(
        &self,
        alert: sealbid_domain::AlertId,
    ) -> Result<Vec<crate::AlertReview>> {
        self.list_alert_reviews_impl(alert).await
    }
    async fn list_bid_rejections(&self, tender: TenderId) -> Result<Vec<crate::BidRejection>> {
        self.list_bid_rejections_impl(tender).await
    }
    async fn list_credit_records(&self, org: OrgId) -> Result<Vec<crate::CreditRecord>> {
        self.list_credit_records_impl(org).await
    }

    async fn upsert_hall(&self, hall: &Hall, audit: &AuditEvent) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO halls (division, name) VALUES ($1, $2) \
                         ON CONFLICT (division) DO UPDATE SET name = excluded.name",
                        vec![
                            Param::Text(hall.division.as_str().to_string()),
                            Param::Text(hall.name.clone()),
                        ],
                    ),
                )
                .await?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn list_halls(&self) -> Result<Vec<Hall>> {
        self.b
            .fetch(&query(
                "SELECT division, name FROM halls ORDER BY division",
                vec![],
                &[Ty::Text, Ty::Text],
            ))
            .await?
            .iter()
            .map(hall_from)
            .collect()
    }

    async fn create_org(&self, org: &Organisation, audit: &AuditEvent) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO orgs (id, credit_code, name, kind, hall, search, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        vec![
                            Param::Id(org.id.0),
                            Param::Text(org.credit_code.as_str().to_string()),
                            Param::Text(org.name.clone()),
                            Param::Text(org.kind.as_str().to_string()),
                            Param::Text(org.hall.as_str().to_string()),
                            Param::Text(search_text(&[&org.name, org.credit_code.as_str()])),
                            Param::Time(org.created_at),
                        ],
                    ),
                )
                .await?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn get_org(&self, id: OrgId) -> Result<Option<Organisation>> {
        let q = query(
            &format!("SELECT {ORG_COLS} FROM orgs WHERE id = $1"),
            vec![Param::Id(id.0)],
            ORG_TYS,
        );
        self.fetch_opt(q).await?.as_ref().map(org_from).transpose()
    }

    async fn list_orgs(&self, filter: &OrgFilter) -> Result<Vec<Organisation>> {
        let mut s = Sql::new(&format!("SELECT {ORG_COLS} FROM orgs"));
        where_scope(&mut s, &filter.scope);
        if let Some(kind) = filter.kind {
            s.and()
                .push("kind = ")
                .bind(Param::Text(kind.as_str().to_string()));
        }
        where_text(&mut s, &filter.text);
        s.push(" ORDER BY name, id");
        s.page(filter.limit, filter.offset);
        self.b
            .fetch(&s.query(ORG_TYS))
            .await?
            .iter()
            .map(org_from)
            .collect()
    }

    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO users (id, username, display_name, roles, org_id, hall, \
                         active, password_hash, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        vec![
                            Param::Id(user.id.0),
                            Param::Text(user.username.clone()),
                            Param::Text(user.display_name.clone()),
                            Param::Text(roles_text(&user.roles)),
                            Param::OptId(user.org.map(|o| o.0)),
                            Param::Text(user.hall.as_str().to_string()),
                            Param::Bool(user.active),
                            Param::Text(password_hash.to_string()),
                            Param::Time(user.created_at),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_org"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        let q = query(
            &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
            vec![Param::Id(id.0)],
            USER_TYS,
        );
        self.fetch_opt(q).await?.as_ref().map(user_from).transpose()
    }

    async fn find_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let q = query(
            &format!("SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"),
            vec![Param::Text(username.to_string())],
            LOGIN_TYS,
        );
        match self.fetch_opt(q).await? {
            None => Ok(None),
            Some(r) => Ok(Some((user_from(&r)?, r.text(8)?.to_string()))),
        }
    }

    async fn list_users(&self, scope: &HallScope, limit: u32, offset: u32) -> Result<Vec<User>> {
        let mut s = Sql::new(&format!("SELECT {USER_COLS} FROM users"));
        where_scope(&mut s, scope);
        s.push(" ORDER BY username");
        s.page(limit, offset);
        self.b
            .fetch(&s.query(USER_TYS))
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            let changed = self
                .b
                .execute(
                    &mut tx,
                    &stmt(
                        "UPDATE users SET password_hash = $2 WHERE id = $1",
                        vec![Param::Id(id.0), Param::Text(password_hash.to_string())],
                    ),
                )
                .await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO sessions (token_hash, user_id, kind, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                        vec![
                            Param::Text(session.token_hash.clone()),
                            Param::Id(session.user_id.0),
                            Param::Text(session.kind.as_str().to_string()),
                            Param::Time(session.created_at),
                            Param::Time(session.expires_at),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_user"))?;
            Ok(())
        })
    }

    async fn get_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let q = query(
            &format!(
                "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1 AND expires_at > $2"
            ),
            vec![Param::Text(token_hash.to_string()), Param::Time(now)],
            SESSION_TYS,
        );
        self.fetch_opt(q)
            .await?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "DELETE FROM sessions WHERE token_hash = $1",
                        vec![Param::Text(token_hash.to_string())],
                    ),
                )
                .await?;
            Ok(())
        })
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        in_tx!(self, tx, {
            Ok(self
                .b
                .execute(
                    &mut tx,
                    &stmt(
                        "DELETE FROM sessions WHERE expires_at <= $1",
                        vec![Param::Time(now)],
                    ),
                )
                .await?)
        })
    }

    async fn create_tender(&self, tender: &Tender, audit: &AuditEvent) -> Result<()> {
        let params = tender_params(tender)?;
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO tenders (id, code, title, search, hall, org_id, state, \
                         version, bid_deadline, created_at, published_at, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        params,
                    ),
                )
                .await
                .map_err(on_fk("unknown_org"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn get_tender(&self, id: TenderId) -> Result<Option<Tender>> {
        let q = query(
            "SELECT doc FROM tenders WHERE id = $1",
            vec![Param::Id(id.0)],
            DOC,
        );
        match self.fetch_opt(q).await? {
            None => Ok(None),
            Some(r) => Ok(Some(doc_from(&r, "tender")?)),
        }
    }

    async fn list_tenders(&self, filter: &TenderFilter) -> Result<Vec<Tender>> {
        let mut s = Sql::new("SELECT doc FROM tenders");
        where_tenders(&mut s, filter);
        s.push(" ORDER BY created_at DESC, id DESC");
        s.page(filter.limit, filter.offset);
        self.b
            .fetch(&s.query(DOC))
            .await?
            .iter()
            .map(|r| doc_from(r, "tender"))
            .collect()
    }

    async fn count_tenders(&self, filter: &TenderFilter) -> Result<u64> {
        let mut s = Sql::new("SELECT COUNT(*) FROM tenders");
        where_tenders(&mut s, filter);
        let rows = self.b.fetch(&s.query(&[Ty::Int])).await?;
        let n = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        u64::try_from(n).map_err(|_| StoreError::corrupt(format!("negative count {n}")))
    }

    async fn update_tender(
        &self,
        tender: &Tender,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.update_tender_tx(&mut tx, tender, expected_version)
                .await?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn tenders_due_for_closing(&self, now: DateTime<Utc>) -> Result<Vec<Tender>> {
        let q = query(
            "SELECT doc FROM tenders WHERE state = $1 AND bid_deadline <= $2 \
             ORDER BY bid_deadline, id",
            vec![
                Param::Text(TenderState::Published.as_str().to_string()),
                Param::Time(now),
            ],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "tender"))
            .collect()
    }

    async fn add_amendment(
        &self,
        tender: &Tender,
        expected_version: i64,
        amendment: &Amendment,
        audit: &AuditEvent,
    ) -> Result<()> {
        let doc = to_doc(amendment, "amendment")?;
        in_tx!(self, tx, {
            self.update_tender_tx(&mut tx, tender, expected_version)
                .await?;
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO amendments (id, tender_id, at, doc) VALUES ($1, $2, $3, $4)",
                        vec![
                            Param::Id(amendment.id.0),
                            Param::Id(amendment.tender_id.0),
                            Param::Time(amendment.at),
                            Param::Text(doc),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn list_amendments(&self, tender: TenderId) -> Result<Vec<Amendment>> {
        let q = query(
            "SELECT doc FROM amendments WHERE tender_id = $1 ORDER BY at, id",
            vec![Param::Id(tender.0)],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "amendment"))
            .collect()
    }

    async fn add_question(&self, question: &Question, audit: &AuditEvent) -> Result<()> {
        let doc = to_doc(question, "question")?;
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO questions (id, tender_id, asked_at, doc) \
                         VALUES ($1, $2, $3, $4)",
                        vec![
                            Param::Id(question.id.0),
                            Param::Id(question.tender_id.0),
                            Param::Time(question.asked_at),
                            Param::Text(doc),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn get_question(&self, id: QuestionId) -> Result<Option<Question>> {
        let q = query(
            "SELECT doc FROM questions WHERE id = $1",
            vec![Param::Id(id.0)],
            DOC,
        );
        match self.fetch_opt(q).await? {
            None => Ok(None),
            Some(r) => Ok(Some(doc_from(&r, "question")?)),
        }
    }

    async fn answer_question(
        &self,
        question: &Question,
        tender: &Tender,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<()> {
        let doc = to_doc(question, "question")?;
        in_tx!(self, tx, {
            self.update_tender_tx(&mut tx, tender, expected_version)
                .await?;
            let changed = self
                .b
                .execute(
                    &mut tx,
                    &stmt(
                        "UPDATE questions SET doc = $2 WHERE id = $1 AND tender_id = $3",
                        vec![
                            Param::Id(question.id.0),
                            Param::Text(doc),
                            Param::Id(question.tender_id.0),
                        ],
                    ),
                )
                .await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn list_questions(&self, tender: TenderId) -> Result<Vec<Question>> {
        let q = query(
            "SELECT doc FROM questions WHERE tender_id = $1 ORDER BY asked_at, id",
            vec![Param::Id(tender.0)],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "question"))
            .collect()
    }

    async fn append_audit(&self, audit: &AuditEvent) -> Result<AuditRecord> {
        in_tx!(self, tx, self.append(&mut tx, audit).await)
    }

    async fn audit_records(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let mut s = Sql::new(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > "));
        s.bind(Param::Int(after_seq)).push(" ORDER BY seq");
        s.page(limit, 0);
        self.b
            .fetch(&s.query(AUDIT_TYS))
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn audit_for_entity(
        &self,
        entity_kind: &str,
        entity_id: &str,
    ) -> Result<Vec<AuditRecord>> {
        let q = query(
            &format!(
                "SELECT {AUDIT_COLS} FROM audit_log WHERE entity_kind = $1 AND entity_id = $2 \
                 ORDER BY seq"
            ),
            vec![
                Param::Text(entity_kind.to_string()),
                Param::Text(entity_id.to_string()),
            ],
            AUDIT_TYS,
        );
        self.b.fetch(&q).await?.iter().map(audit_from).collect()
    }
}

fn audit_from(r: &Row) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.int(0)?,
        prev_hash: r.text(1)?.to_string(),
        hash: r.text(2)?.to_string(),
        event_json: r.text(3)?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut s = Sql::new("SELECT doc FROM tenders");
        let f = TenderFilter {
            states: vec![TenderState::Published, TenderState::Closed],
            text: Some("  Road ".into()),
            public_or_org: Some(None),
            ..TenderFilter::default()
        };
        where_tenders(&mut s, &f);
        s.page(10, 20);
        let q = s.query(DOC);
        assert_eq!(
            q.sql,
            "SELECT doc FROM tenders WHERE state IN ($1, $2) AND search LIKE $3 ESCAPE '\\' \
             AND (state NOT IN ($4, $5)) LIMIT $6 OFFSET $7"
        );
        assert_eq!(q.params.len(), 7);
        assert!(matches!(&q.params[2], Param::Text(p) if p == "%road%"));
    }

    #[test]
    fn scope_prefixes_follow_division_levels() {
        let scoped = |code: &str| {
            let mut s = Sql::new("SELECT 1 FROM t");
            where_scope(
                &mut s,
                &HallScope::Within(DivisionCode::parse(code).unwrap()),
            );
            match s.params.first() {
                Some(Param::Text(p)) => (s.text, p.clone()),
                _ => panic!("no parameter"),
            }
        };
        assert_eq!(scoped("370000").1, "37%");
        assert_eq!(scoped("370200").1, "3702%");
        let (sql, p) = scoped("370202");
        assert!(sql.ends_with("hall = $1"));
        assert_eq!(p, "370202");
    }
}
