//! Online evaluation over HTTP, first part: the expert pool (CSV import, listing) and the
//! verifiable committee draw after the opening (draw, read, replace a member who declines).
//!
//! The draw's seed comes from the tender's closing checkpoint and a nonce published with the draw,
//! so anyone holding the pool can re-run it (`sealbid verify-draw`). Its public part (seed inputs,
//! pool digest, the drawn experts' pool ids) is public; the names stay with the trading centre and
//! the supervisors until the result.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::evaluation::draw::{
    self, Draw, DrawError, DrawRequest, PublicDraw, SeedInputs,
};
use sealbid_domain::evaluation::experts::{validate_pool, Expert};
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::Tender;
use sealbid_domain::{CreditCode, TenderId};
use sealbid_store::{CommitteeDraw, DrawWrite, ExpertRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tenders::load;
use super::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// Largest expert CSV accepted in one import.
pub const MAX_POOL_CSV_BYTES: usize = 64 * 1024 * 1024;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn ensure_pool_keeper(user: &User) -> AppResult<()> {
    if user.has(Role::Admin) || user.has(Role::CentreOfficer) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "the expert pool is kept by the trading centre: this needs a centre officer",
        ))
    }
}

/// The whole pool, parsed.
async fn load_pool(state: &AppState) -> AppResult<Vec<Expert>> {
    state
        .store
        .list_experts()
        .await?
        .iter()
        .map(|r| serde_json::from_str(&r.doc).map_err(internal))
        .collect()
}

/// Parses an expert CSV (header `id,name,specialties,region,available` and optionally
/// `employer,employer_credit_code,credit_code,relationships`): every bad row is reported with its
/// line number and what to fix.
pub fn parse_pool_csv(bytes: &[u8]) -> Result<Vec<Expert>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![format!("line 1: the header does not parse: {e}")]),
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        match row {
            Err(e) => errors.push(format!("line {line}: {e}")),
            Ok(rec) => {
                let map: HashMap<&str, &str> =
                    headers.iter().map(str::trim).zip(rec.iter()).collect();
                match Expert::from_record(&map) {
                    Ok(e) => out.push(e),
                    Err(e) => errors.push(format!("line {line}: {e}")),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOutcome {
    /// Experts added or replaced by this import.
    pub imported: u64,
    /// Experts in the pool now.
    pub pool_size: usize,
    /// The pool's digest (what a draw records).
    pub pool_digest: String,
}

/// Imports experts from CSV (added, or replaced by id). All or nothing: any bad row refuses the
/// file with every problem listed by line.
#[utoipa::path(
    post,
    path = "/experts/import",
    tag = "evaluation",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv",
        description = "header id,name,specialties,region,available[,employer,employer_credit_code,credit_code,relationships]"),
    responses(
        (status = 200, description = "Imported", body = ImportOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 422, description = "Bad rows, listed by line", body = ErrorBody),
    )
)]
pub async fn import_experts(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> AppResult<AppJson<ImportOutcome>> {
    ensure_pool_keeper(&user.user)?;
    if body.len() > MAX_POOL_CSV_BYTES {
        return Err(AppError::BodyTooLarge {
            limit: MAX_POOL_CSV_BYTES,
        });
    }
    let experts = parse_pool_csv(&body).map_err(|errors| {
        let shown: Vec<&String> = errors.iter().take(20).collect();
        AppError::invalid(
            "invalid_expert_rows",
            "csv",
            format!(
                "{} row(s) are wrong, nothing was imported: {}{}",
                errors.len(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                if errors.len() > shown.len() {
                    "; …"
                } else {
                    ""
                }
            ),
        )
    })?;
    if experts.is_empty() {
        return Err(AppError::invalid(
            "invalid_expert_rows",
            "csv",
            "the file has a header but no experts",
        ));
    }
    // The pool as it will be: the file's experts replace those with the same id.
    let mut pool: HashMap<String, Expert> = load_pool(&state)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    for e in &experts {
        pool.insert(e.id.clone(), e.clone());
    }
    let pool: Vec<Expert> = pool.into_values().collect();
    validate_pool(&pool)
        .map_err(|e| AppError::invalid("invalid_expert_pool", "csv", e.to_string()))?;
    let now = state.now();
    let records = experts
        .iter()
        .map(|e| {
            Ok(ExpertRecord {
                id: e.id.clone(),
                updated_at: now,
                doc: serde_json::to_string(e).map_err(internal)?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let digest = sealbid_domain::evaluation::experts::pool_digest(&pool);
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        "experts.import",
        "expert_pool",
        "pool",
    )
    .with_change::<(), _>(
        None,
        Some(&serde_json::json!({"imported": records.len(), "pool_digest": digest})),
    );
    let imported = state.store.upsert_experts(&records, &audit).await?;
    Ok(AppJson(ImportOutcome {
        imported,
        pool_size: pool.len(),
        pool_digest: digest,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolView {
    pub pool_size: usize,
    pub pool_digest: String,
    #[schema(value_type = Vec<Object>)]
    pub experts: Vec<Expert>,
}

/// The expert pool (the trading centre and supervisors; names are personal data).
#[utoipa::path(
    get,
    path = "/experts",
    tag = "evaluation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pool", body = PoolView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
    )
)]
pub async fn list_experts(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<AppJson<PoolView>> {
    if !(user.has(Role::Supervisor) || ensure_pool_keeper(&user.user).is_ok()) {
        return Err(AppError::forbidden(
            "the expert pool is for the trading centre and supervisors",
        ));
    }
    let experts = load_pool(&state).await?;
    Ok(AppJson(PoolView {
        pool_size: experts.len(),
        pool_digest: sealbid_domain::evaluation::experts::pool_digest(&experts),
        experts,
    }))
}

/// A draw as shown: the public part for everyone, the private part (names, exclusions) for the
/// trading centre and supervisors of the tender's hall.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawView {
    pub version: i64,
    pub drawn_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Object)]
    pub public: PublicDraw,
    #[schema(value_type = Option<Object>)]
    pub private: Option<draw::PrivateDraw>,
}

fn sees_names(user: Option<&User>, t: &Tender) -> bool {
    user.is_some_and(|u| {
        policy::ensure_reviewer(u, t).is_ok() || policy::ensure_supervisor(u, t).is_ok()
    })
}

fn view(d: &CommitteeDraw, names: bool) -> AppResult<DrawView> {
    Ok(DrawView {
        version: d.version,
        drawn_at: d.drawn_at,
        public: serde_json::from_str(&d.public_doc).map_err(internal)?,
        private: if names {
            Some(serde_json::from_str(&d.private_doc).map_err(internal)?)
        } else {
            None
        },
    })
}

/// The bidders' credit codes (every bid of the opening record) and the closing checkpoint.
async fn draw_inputs(state: &AppState, t: &Tender) -> AppResult<(Vec<CreditCode>, String)> {
    let sealing = state
        .store
        .get_sealing(t.id)
        .await?
        .ok_or(AppError::NotFound("sealing"))?;
    let (Some(closing), Some(opened)) = (&sealing.closing, &sealing.opened) else {
        return Err(AppError::Conflict {
            code: "not_opened",
            message: "the committee is drawn after the opening: the bidders must be known".into(),
            state: Some(t.state),
        });
    };
    let record =
        sealbid_seal::signed::Signed::<sealbid_seal::opening::OpeningRecord>::from_json_bytes(
            opened.record.as_bytes(),
        )
        .map_err(internal)?
        .body;
    let mut codes = Vec::new();
    for b in &record.bids {
        let id = sealbid_domain::OrgId::parse(&b.bidder).map_err(internal)?;
        if let Some(o) = state.store.get_org(id).await? {
            codes.push(o.credit_code);
        }
    }
    Ok((codes, closing.checkpoint.clone()))
}

fn draw_error(e: DrawError) -> AppError {
    match &e {
        DrawError::Shortfall { .. } => AppError::invalid("draw_shortfall", "quotas", e.to_string()),
        DrawError::InvalidRequest(_) => {
            AppError::invalid("invalid_draw_request", "request", e.to_string())
        }
        DrawError::NotAMember { .. } => {
            AppError::invalid("not_a_member", "expert_id", e.to_string())
        }
        DrawError::Mismatch { .. } => AppError::Conflict {
            code: "pool_changed",
            message:
                "the expert pool changed since the committee was drawn; a replacement is drawn \
                      from the same pool (its digest is in the draw)"
                    .into(),
            state: None,
        },
        _ => internal(e),
    }
}

async fn load_opened(state: &AppState, user: &CurrentUser, id: TenderId) -> AppResult<Tender> {
    let t = load(state, id).await?;
    policy::ensure_reviewer(&user.user, &t)?;
    Ok(t)
}

/// Draws the evaluation committee of an opened tender (the trading centre). The nonce is made by
/// the server and published with the draw; the pool's digest is recorded. Too few eligible
/// experts: 422 `draw_shortfall` naming each short specialty, and nothing is stored.
#[utoipa::path(
    post,
    path = "/tenders/{id}/committee-draw",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = Object,
    responses(
        (status = 201, description = "Drawn", body = DrawView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer of the tender's hall", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not opened yet, or already drawn", body = ErrorBody),
        (status = 422, description = "Bad request or too few eligible experts", body = ErrorBody),
    )
)]
pub async fn draw_committee(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(request): AppJson<DrawRequest>,
) -> AppResult<(StatusCode, AppJson<DrawView>)> {
    let t = load_opened(&state, &user, id).await?;
    request
        .validate()
        .map_err(|e| AppError::invalid("invalid_draw_request", "request", e.to_string()))?;
    if state.store.get_draw(id).await?.is_some() {
        return Err(AppError::Conflict {
            code: "already_drawn",
            message: "this tender's committee is drawn; replace a member who declines instead"
                .into(),
            state: Some(t.state),
        });
    }
    let (bidders, checkpoint) = draw_inputs(&state, &t).await?;
    let pool = load_pool(&state).await?;
    let pool_doc = serde_json::to_string(&pool).map_err(internal)?;
    let seed = SeedInputs {
        closing_checkpoint: checkpoint,
        nonce_hex: hex::encode(state.tokens.secret()),
    };
    let drawn = tokio::task::spawn_blocking(move || draw::draw(&pool, &bidders, &request, &seed))
        .await
        .map_err(internal)?
        .map_err(draw_error)?;
    let mut after = t.clone();
    if after.state == sealbid_domain::tender::TenderState::Opened {
        after.start_evaluation()?;
    }
    let stored = store_draw(
        &state,
        &user.user,
        &t,
        &drawn,
        Change::First {
            tender: &after,
            pool: &pool_doc,
        },
        "committee.draw",
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(view(&stored, true)?)))
}

/// What a stored draw is: the first (with the tender put to evaluation and the pool it was drawn
/// from), or a replacement of the stored version.
enum Change<'a> {
    First { tender: &'a Tender, pool: &'a str },
    Replacement { version: i64 },
}

async fn store_draw(
    state: &AppState,
    user: &User,
    t: &Tender,
    d: &Draw,
    change: Change<'_>,
    action: &str,
) -> AppResult<CommitteeDraw> {
    let now = state.now();
    let (expected, tender, pool) = match change {
        Change::First { tender, pool } => (None, Some(tender), Some(pool)),
        Change::Replacement { version } => (Some(version), None, None),
    };
    let stored = CommitteeDraw {
        tender_id: t.id,
        version: expected.map_or(1, |v| v + 1),
        drawn_at: now,
        public_doc: serde_json::to_string(&d.public).map_err(internal)?,
        private_doc: serde_json::to_string(&d.private).map_err(internal)?,
    };
    // The audit record holds the public part only.
    let audit = AuditEvent::new(Some(user.id), now, action, "tender", t.id)
        .with_change::<(), _>(None, Some(&d.public));
    state
        .store
        .save_draw(DrawWrite {
            draw: &stored,
            expected_version: expected,
            tender: tender
                .filter(|a| a.state != t.state)
                .map(|a| (a, t.version)),
            pool: pool.map(|doc| (d.public.pool_digest.as_str(), doc)),
            audit: &audit,
        })
        .await?;
    Ok(stored)
}

/// The expert pool the tender's committee was drawn from, as the public may see it: the import
/// CSV with every name withheld. Its digest is the draw's `public_pool_digest`, and `sealbid
/// verify-draw TENDER --server URL` re-runs the draw from it.
#[utoipa::path(
    get,
    path = "/tenders/{id}/committee-draw/pool",
    tag = "evaluation",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The public pool (CSV, names withheld)", content_type = "text/csv"),
        (status = 404, description = "No such tender, or not drawn yet", body = ErrorBody),
    )
)]
pub async fn public_pool(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    let (_, doc) = state
        .store
        .get_draw_pool(id)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    let pool: Vec<Expert> = serde_json::from_str(&doc).map_err(internal)?;
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        sealbid_domain::evaluation::experts::public_pool_csv(&pool),
    )
        .into_response())
}

/// A tender's committee draw: the public part for anyone who may see the tender (seed inputs, pool
/// digest, drawn pool ids), the names only for the trading centre and supervisors.
#[utoipa::path(
    get,
    path = "/tenders/{id}/committee-draw",
    tag = "evaluation",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The draw", body = DrawView),
        (status = 404, description = "No such tender, or not drawn yet", body = ErrorBody),
    )
)]
pub async fn get_draw(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<DrawView>> {
    let t = load(&state, id).await?;
    let u = user.as_ref().map(|u| &u.user);
    policy::ensure_visible(u, &t)?;
    let d = state
        .store
        .get_draw(id)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    if !sees_names(u, &t) && super::session::result_published(&t) {
        // With the result the members' names are published; who was excluded for which bidder
        // stays with the trading centre and supervision.
        let mut v = view(&d, true)?;
        if let Some(p) = v.private.as_mut() {
            p.excluded.clear();
        }
        return Ok(AppJson(v));
    }
    Ok(AppJson(view(&d, sees_names(u, &t))?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    /// The pool id of the member who declined.
    pub expert_id: String,
    /// The draw's version as loaded; another current one is a 409.
    pub version: i64,
}

/// A drawn member declined: the next draw of the same sequence replaces them in their seat.
#[utoipa::path(
    post,
    path = "/tenders/{id}/committee-draw/decline",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Replaced", body = DrawView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer of the tender's hall", body = ErrorBody),
        (status = 404, description = "No such tender or draw", body = ErrorBody),
        (status = 409, description = "The draw changed since loaded", body = ErrorBody),
        (status = 422, description = "Not a member, or nobody left to draw", body = ErrorBody),
    )
)]
pub async fn decline_member(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<DeclineRequest>,
) -> AppResult<AppJson<DrawView>> {
    let t = load_opened(&state, &user, id).await?;
    let stored = state
        .store
        .get_draw(id)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    if stored.version != body.version {
        return Err(AppError::Conflict {
            code: "version_conflict",
            message: format!(
                "the draw changed since you loaded it (version {}, now {}): reload it",
                body.version, stored.version
            ),
            state: None,
        });
    }
    let current = Draw {
        public: serde_json::from_str(&stored.public_doc).map_err(internal)?,
        private: serde_json::from_str(&stored.private_doc).map_err(internal)?,
    };
    // The pool the committee was drawn from (draws made before snapshots: the current pool).
    let pool: Vec<Expert> = match state.store.get_draw_pool(id).await? {
        Some((_, doc)) => serde_json::from_str(&doc).map_err(internal)?,
        None => load_pool(&state).await?,
    };
    let expert = body.expert_id.clone();
    let replaced = tokio::task::spawn_blocking(move || current.replace(&pool, &expert))
        .await
        .map_err(internal)?
        .map_err(draw_error)?;
    let saved = store_draw(
        &state,
        &user.user,
        &t,
        &replaced,
        Change::Replacement {
            version: stored.version,
        },
        "committee.decline",
    )
    .await?;
    Ok(AppJson(view(&saved, true)?))
}

// ----- the evaluation session: members, declarations, the bids -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The evaluator account the expert signs in with.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: sealbid_domain::UserId,
}

/// Links a pool expert to the evaluator account they sign in with (the trading centre).
#[utoipa::path(
    put,
    path = "/experts/{expert_id}/account",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("expert_id" = String, Path, description = "The expert's pool id")),
    request_body = LinkRequest,
    responses(
        (status = 204, description = "Linked"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer", body = ErrorBody),
        (status = 404, description = "No such expert", body = ErrorBody),
        (status = 422, description = "The account is not an evaluator's", body = ErrorBody),
    )
)]
pub async fn link_account(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(expert_id): AppPath<String>,
    AppJson(body): AppJson<LinkRequest>,
) -> AppResult<super::NoContent> {
    ensure_pool_keeper(&user.user)?;
    if !state
        .store
        .list_experts()
        .await?
        .iter()
        .any(|e| e.id == expert_id)
    {
        return Err(AppError::NotFound("expert"));
    }
    let account = state
        .store
        .get_user(body.user_id)
        .await?
        .ok_or_else(|| AppError::invalid("unknown_user", "user_id", "no such account"))?;
    if !account.has(Role::Evaluator) {
        return Err(AppError::invalid(
            "not_an_evaluator",
            "user_id",
            "the account does not hold the evaluator role: give it the role first",
        ));
    }
    let now = state.now();
    let audit = AuditEvent::new(Some(user.user.id), now, "expert.link", "expert", &expert_id)
        .with_change::<(), _>(None, Some(&serde_json::json!({"user_id": account.id})));
    state
        .store
        .link_expert_account(&expert_id, account.id, now, &audit)
        .await?;
    Ok(super::NoContent)
}

/// The caller's member key (pool id or `rep-<seat>`) if they sit on the tender's committee; 403
/// otherwise, disclosing nothing.
async fn member_of(state: &AppState, user: &User, t: &Tender) -> AppResult<String> {
    super::session::member_of(state, user, t)
        .await
        .map(|m| m.member)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationRequest {
    /// Must be true: a member with a conflict of interest withdraws (the trading centre replaces
    /// them by the next draw).
    pub no_conflict: bool,
    /// The member's statement, e.g. "I have no interest in any bidder of this tender".
    #[serde(default)]
    pub statement: String,
}

/// A member declares no conflict of interest; nothing of the bids is shown before it.
#[utoipa::path(
    post,
    path = "/tenders/{id}/evaluation/declaration",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = DeclarationRequest,
    responses(
        (status = 204, description = "Declared"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Already declared", body = ErrorBody),
        (status = 422, description = "A conflict declared, or the statement is too long", body = ErrorBody),
    )
)]
pub async fn declare(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<DeclarationRequest>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    let expert = member_of(&state, &user.user, &t).await?;
    if !body.no_conflict {
        return Err(AppError::invalid(
            "conflict_declared",
            "no_conflict",
            "a member with a conflict of interest withdraws: tell the trading centre, which replaces you by the next draw",
        ));
    }
    let statement = body.statement.trim().to_string();
    if statement.chars().count() > 2000 {
        return Err(AppError::invalid(
            "statement_too_long",
            "statement",
            "the statement has at most 2000 characters",
        ));
    }
    let now = state.now();
    let d = sealbid_store::Declaration {
        tender_id: t.id,
        user_id: user.user.id,
        expert_id: expert,
        at: now,
        statement,
    };
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        "evaluation.declare",
        "tender",
        t.id,
    );
    state
        .store
        .add_declaration(&d, &audit)
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict("declaration") => AppError::Conflict {
                code: "already_declared",
                message: "you have declared for this tender already".into(),
                state: None,
            },
            e => e.into(),
        })?;
    Ok(super::NoContent)
}

/// A bid as the committee reviews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BidForReview {
    pub bidder: String,
    pub bidder_name: String,
    /// Decimal string; none for a bid that did not open validly.
    pub price: Option<String>,
    /// `valid`, or the reason the bid did not open validly.
    pub outcome: String,
    /// Grounds on which a confirmed collusion alert marks this bid for rejection.
    pub rejection_grounds: Vec<String>,
}

/// The opened bids, for a member who has declared (403 before the declaration).
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/bids",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The bids", body = Vec<BidForReview>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a member, or not declared yet", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn bids_for_review(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<BidForReview>>> {
    let t = load(&state, id).await?;
    member_of(&state, &user.user, &t).await?;
    if state
        .store
        .get_declaration(t.id, user.user.id)
        .await?
        .is_none()
    {
        return Err(AppError::Forbidden(
            "declare that you have no conflict of interest first (POST …/evaluation/declaration)"
                .into(),
        ));
    }
    let record = super::session::opened_bids(&state, &t).await?.record;
    let rejections = state.store.list_bid_rejections(t.id).await?;
    Ok(AppJson(
        record
            .bids
            .iter()
            .map(|b| BidForReview {
                bidder: b.bidder.clone(),
                bidder_name: b.bidder_name.clone(),
                price: b.price.as_ref().map(|p| p.total.to_string()),
                outcome: match &b.outcome {
                    sealbid_seal::opening::BidOutcome::Valid => "valid".into(),
                    sealbid_seal::opening::BidOutcome::Invalid { code, .. } => code.clone(),
                },
                rejection_grounds: rejections
                    .iter()
                    .filter(|r| r.bidder_org.to_string() == b.bidder)
                    .map(|r| r.ground.clone())
                    .collect(),
            })
            .collect(),
    ))
}

// ----- scoring: the scheme and the sealed score sheets -----

use sealbid_domain::evaluation::scoring::{Scheme, ScoreSheet};

fn scoring_error(e: sealbid_domain::evaluation::scoring::ScoringError) -> AppError {
    AppError::invalid(e.code(), "scores", e.to_string())
}

/// Sets the tender's scoring scheme (its owner or the trading centre), before any member scores.
#[utoipa::path(
    put,
    path = "/tenders/{id}/evaluation/scheme",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = Object,
    responses(
        (status = 204, description = "Set"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee or the trading centre", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Scoring has started", body = ErrorBody),
        (status = 422, description = "The scheme does not add up", body = ErrorBody),
    )
)]
pub async fn set_scheme(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(scheme): AppJson<Scheme>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    if policy::ensure_owner(&user.user, &t).is_err() {
        policy::ensure_reviewer(&user.user, &t)?;
    }
    scheme
        .validate()
        .map_err(|e| AppError::invalid(e.code(), "scheme", e.to_string()))?;
    if !state.store.list_sheets(id).await?.is_empty() {
        return Err(AppError::Conflict {
            code: "scoring_started",
            message: "members have scored already: the scheme can no longer change".into(),
            state: Some(t.state),
        });
    }
    let now = state.now();
    let audit = AuditEvent::new(Some(user.user.id), now, "evaluation.scheme", "tender", t.id)
        .with_change::<(), _>(None, Some(&scheme));
    state
        .store
        .set_scheme(
            id,
            &serde_json::to_string(&scheme).map_err(internal)?,
            now,
            &audit,
        )
        .await?;
    Ok(super::NoContent)
}

async fn scheme_of(state: &AppState, t: &Tender) -> AppResult<Scheme> {
    let doc = state
        .store
        .get_scheme(t.id)
        .await?
        .ok_or_else(|| AppError::Conflict {
            code: "no_scheme",
            message:
                "the tender has no scoring scheme yet: its tenderee or the trading centre sets it"
                    .into(),
            state: Some(t.state),
        })?;
    serde_json::from_str(&doc).map_err(internal)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetRequest {
    /// Points per criterion id (decimal strings), each within 0 and the criterion's maximum; the
    /// price criterion is scored by the formula, not by members.
    #[schema(value_type = Object)]
    pub scores: std::collections::BTreeMap<String, rust_decimal::Decimal>,
}

/// A member scores one bid (a declared member; replaces their earlier sheet for it).
#[utoipa::path(
    put,
    path = "/tenders/{id}/evaluation/sheets/{bid}",
    tag = "evaluation",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("bid" = String, Path, format = Uuid, description = "Bid id"),
    ),
    request_body = SheetRequest,
    responses(
        (status = 204, description = "Stored"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender or bid", body = ErrorBody),
        (status = 409, description = "No scheme yet", body = ErrorBody),
        (status = 422, description = "A score out of range, missing or unknown", body = ErrorBody),
    )
)]
pub async fn put_sheet(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, bid)): AppPath<(TenderId, sealbid_domain::BidId)>,
    AppJson(body): AppJson<SheetRequest>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    super::session::declared_member(&state, &user.user, &t).await?;
    let scheme = scheme_of(&state, &t).await?;
    let stored = state
        .store
        .get_bid(bid)
        .await?
        .filter(|b| b.tender_id == id)
        .ok_or(AppError::NotFound("bid"))?;
    if !super::session::opened_bids(&state, &t)
        .await?
        .valid_ids()
        .contains(&bid)
    {
        return Err(AppError::invalid(
            "bid_not_evaluated",
            "bid",
            "this bid did not open validly (see the opening record): it is not scored",
        ));
    }
    super::session::ensure_in_time(&state, &t).await?;
    let sheet = ScoreSheet {
        evaluator: user.user.id,
        bid: stored.id,
        scores: body.scores,
    };
    sheet.validate(&scheme).map_err(scoring_error)?;
    let now = state.now();
    // The audit record names the sheet, not the scores (they stay sealed until all are in).
    let audit = AuditEvent::new(Some(user.user.id), now, "evaluation.score", "tender", t.id)
        .with_change::<(), _>(None, Some(&serde_json::json!({"bid": bid})));
    state
        .store
        .put_sheet(
            &sealbid_store::StoredSheet {
                tender_id: id,
                user_id: user.user.id,
                bid_id: bid,
                submitted_at: now,
                doc: serde_json::to_string(&sheet).map_err(internal)?,
            },
            &audit,
        )
        .await?;
    Ok(super::NoContent)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SheetsView {
    /// True once every member has scored every valid bid: then `sheets` holds everyone's.
    pub complete: bool,
    /// Sheets submitted per member (pool id), without the scores: the progress everyone sees.
    pub submitted: std::collections::BTreeMap<String, usize>,
    /// Sheets needed per member.
    pub per_member: usize,
    /// The caller's own sheets, or everyone's once complete.
    #[schema(value_type = Vec<Object>)]
    pub sheets: Vec<ScoreSheet>,
}

/// The score sheets a member may see: their own until every member has scored every valid bid,
/// then everyone's. The progress (how many sheets each member has submitted) is always shown.
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/sheets",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The sheets", body = SheetsView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn list_sheets(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<SheetsView>> {
    let t = load(&state, id).await?;
    super::session::declared_member(&state, &user.user, &t).await?;
    let committee = super::session::committee(&state, &t)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    let valid = super::session::opened_bids(&state, &t).await?.valid_ids();
    let mut submitted: std::collections::BTreeMap<String, usize> = committee
        .members
        .iter()
        .map(|m| (m.member.clone(), 0))
        .collect();
    let mut all = Vec::new();
    let mut own = Vec::new();
    for s in state.store.list_sheets(id).await? {
        if !valid.contains(&s.bid_id) {
            continue;
        }
        let Some(member) = committee.by_user(s.user_id) else {
            continue;
        };
        if let Some(n) = submitted.get_mut(&member.member) {
            *n += 1;
        }
        let sheet: ScoreSheet = serde_json::from_str(&s.doc).map_err(internal)?;
        if s.user_id == user.user.id {
            own.push(sheet.clone());
        }
        all.push(sheet);
    }
    let per_member = valid.len();
    let complete = per_member > 0 && submitted.values().all(|&n| n >= per_member);
    Ok(AppJson(SheetsView {
        complete,
        submitted,
        per_member,
        sheets: if complete { all } else { own },
    }))
}
