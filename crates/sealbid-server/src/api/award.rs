//! After the evaluation (条例 54–57, 法 45–46): the tenderee publishes the candidates from the
//! logged report for at least 3 days, bidders object within that window and are answered within 3
//! days, the award notice follows, then the contract record, and the trading centre refunds every
//! deposit within 5 days of signing (a task list shows what is due and overdue). The rules and
//! deadlines are `sealbid_domain::evaluation::award`'s, judged on the platform's clock.
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::evaluation::award::{AwardError, AwardProcess, Candidate, PaidDeposit, Refund};
use sealbid_domain::evaluation::deadlines::PostEvaluationRules;
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_domain::{BidId, OrgId, TenderId};
use sealbid_seal::report::{LoggedReport, SignedReport};
use sealbid_store::{AwardWrite, StoredAward};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::session::opened_bids;
use super::tenders::load;
use super::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn award_error(e: AwardError) -> AppError {
    if e.is_conflict() {
        AppError::Conflict {
            code: e.code(),
            message: e.to_string(),
            state: None,
        }
    } else {
        AppError::invalid(e.code(), "award", e.to_string())
    }
}

fn rules() -> PostEvaluationRules {
    PostEvaluationRules::default()
}

/// The logged, signed evaluation report and when it was received (logged).
async fn logged_report(state: &AppState, t: &Tender) -> AppResult<(SignedReport, DateTime<Utc>)> {
    let not_yet = || AppError::Conflict {
        code: "report_not_signed",
        message: "the evaluation report is not signed by every member yet: the candidates come \
                  from the signed report"
            .into(),
        state: Some(t.state),
    };
    let r = state.store.get_report(t.id).await?.ok_or_else(not_yet)?;
    let doc = r.logged.ok_or_else(not_yet)?;
    let logged = LoggedReport::from_json_bytes(doc.as_bytes()).map_err(internal)?;
    // The time of the last signature is when the report was complete.
    let received = logged
        .body
        .signatures
        .iter()
        .map(|s| s.signed_at)
        .max()
        .unwrap_or(r.drawn_up_at);
    Ok((logged.body, received))
}

/// The report's candidates, with the bidders' names from the opening record.
async fn candidates(
    state: &AppState,
    t: &Tender,
    report: &SignedReport,
) -> AppResult<Vec<Candidate>> {
    #[derive(Deserialize)]
    struct Ranked {
        rank: u32,
        bid: BidId,
        bidder: OrgId,
        price: Decimal,
        total: Option<Decimal>,
    }
    let ranked: Vec<Ranked> =
        serde_json::from_value(report.report.outcome["candidates"].clone()).map_err(internal)?;
    let opened = opened_bids(state, t).await?;
    Ok(ranked
        .into_iter()
        .map(|r| Candidate {
            rank: r.rank,
            bid: r.bid,
            bidder: r.bidder,
            bidder_name: opened
                .bids
                .iter()
                .find(|(id, _)| *id == r.bid)
                .map(|(_, b)| b.bidder_name.clone())
                .unwrap_or_default(),
            price: r.price,
            total: r.total,
        })
        .collect())
}

struct Loaded {
    process: AwardProcess,
    version: i64,
}

async fn load_award(state: &AppState, t: &Tender) -> AppResult<Loaded> {
    let a = state
        .store
        .get_award(t.id)
        .await?
        .ok_or_else(|| AppError::Conflict {
            code: "not_published",
            message: "the candidates are not published yet".into(),
            state: Some(t.state),
        })?;
    Ok(Loaded {
        process: serde_json::from_str(&a.doc).map_err(internal)?,
        version: a.version,
    })
}

async fn save(
    state: &AppState,
    t: &Tender,
    process: &AwardProcess,
    expected: Option<i64>,
    tender: Option<&Tender>,
    audit: &AuditEvent,
) -> AppResult<()> {
    let stored = StoredAward {
        tender_id: t.id,
        version: expected.map_or(1, |v| v + 1),
        updated_at: state.now(),
        doc: serde_json::to_string(process).map_err(internal)?,
    };
    state
        .store
        .save_award(AwardWrite {
            award: &stored,
            expected_version: expected,
            tender: tender.map(|after| (after, t.version)),
            audit,
        })
        .await?;
    Ok(())
}

/// The process as shown: objections' texts and the refunds only to those concerned.
#[derive(Debug, Serialize, ToSchema)]
pub struct AwardView {
    #[schema(value_type = Object)]
    pub publication: Option<serde_json::Value>,
    /// The latest start of the publication (3 days after the report).
    pub publication_due: DateTime<Utc>,
    /// Objections: in full for the tenderee, the trading centre, supervisors and the objector;
    /// for others, the number, dates and whether answered.
    #[schema(value_type = Vec<Object>)]
    pub objections: Vec<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub notice: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub contract: Option<serde_json::Value>,
    /// The deposits to refund: all for the tenderee, the centre and supervisors; a bidder sees
    /// its own.
    #[schema(value_type = Vec<Object>)]
    pub refunds: Vec<serde_json::Value>,
    pub version: i64,
}

fn staff(user: Option<&User>, t: &Tender) -> bool {
    user.is_some_and(|u| {
        policy::ensure_owner(u, t).is_ok()
            || policy::ensure_reviewer(u, t).is_ok()
            || policy::ensure_supervisor(u, t).is_ok()
    })
}

fn view(l: &Loaded, user: Option<&User>, t: &Tender, now: DateTime<Utc>) -> AppResult<AwardView> {
    let p = &l.process;
    let full = staff(user, t);
    let org = user.and_then(|u| u.org);
    let objections = p
        .objections
        .iter()
        .map(|o| {
            if full || org == Some(o.by_org) {
                json(o)
            } else {
                Ok(serde_json::json!({
                    "number": o.number,
                    "received_at": o.received_at,
                    "answer_due": o.answer_due,
                    "answered": o.answer.is_some(),
                    "upheld": o.answer.as_ref().map(|a| a.upheld),
                }))
            }
        })
        .collect::<AppResult<Vec<_>>>()?;
    let refunds = p
        .refunds
        .iter()
        .filter(|r| full || org == Some(r.bidder))
        .map(|r| refund_json(r, now))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(AwardView {
        publication: p.publication.as_ref().map(json).transpose()?,
        publication_due: p.publication_due(&rules()),
        objections,
        notice: p.notice.as_ref().map(json).transpose()?,
        contract: p.contract.as_ref().map(json).transpose()?,
        refunds,
        version: l.version,
    })
}

fn refund_json(r: &Refund, now: DateTime<Utc>) -> AppResult<serde_json::Value> {
    let mut v = serde_json::to_value(r).map_err(internal)?;
    v["overdue"] = serde_json::Value::Bool(r.is_overdue(now));
    Ok(v)
}

fn json<T: Serialize>(v: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(v).map_err(internal)
}

/// The tender's process after the evaluation (anyone who may see the tender).
#[utoipa::path(
    get,
    path = "/tenders/{id}/award",
    tag = "award",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The process", body = AwardView),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "The candidates are not published yet", body = ErrorBody),
    )
)]
pub async fn get_award(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<AwardView>> {
    let t = load(&state, id).await?;
    let u = user.as_ref().map(|u| &u.user);
    policy::ensure_visible(u, &t)?;
    let l = load_award(&state, &t).await?;
    Ok(AppJson(view(&l, u, &t, state.now())?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// When the publication ends (at least 3 days from now; default exactly 3 days).
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
}

/// The tenderee publishes the candidates of the signed report (at least 3 days; due within 3 days
/// of the report — a later publication is marked late).
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/publication",
    tag = "award",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = PublishBody,
    responses(
        (status = 201, description = "Published", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "No signed report, or published already", body = ErrorBody),
        (status = 422, description = "Too short, or no candidate", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<PublishBody>,
) -> AppResult<(axum::http::StatusCode, AppJson<AwardView>)> {
    let t = load(&state, id).await?;
    policy::ensure_owner(&user.user, &t)?;
    if state.store.get_award(id).await?.is_some() {
        return Err(award_error(AwardError::AlreadyPublished));
    }
    let (report, received) = logged_report(&state, &t).await?;
    let c = candidates(&state, &t, &report).await?;
    let now = state.now();
    let mut process = AwardProcess::new(received);
    process
        .publish(now, body.end, c, &rules())
        .map_err(award_error)?;
    let mut after = t.clone();
    if after.state == TenderState::Opened {
        after.start_evaluation()?;
    }
    after.publish_candidates()?;
    let audit = AuditEvent::new(Some(user.user.id), now, "award.publish", "tender", id)
        .with_change(Some(&t), Some(&after));
    save(&state, &t, &process, None, Some(&after), &audit).await?;
    let l = Loaded {
        process,
        version: 1,
    };
    Ok((
        axum::http::StatusCode::CREATED,
        AppJson(view(&l, Some(&user.user), &after, now)?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    /// The objection (1–5000 characters).
    pub text: String,
}

/// A bidder of the tender objects to the result, during the publication (after it: 422 with the
/// closing time). The tenderee answers within 3 days.
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/objections",
    tag = "award",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = ObjectionBody,
    responses(
        (status = 201, description = "Received", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder of this tender", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not published", body = ErrorBody),
        (status = 422, description = "Outside the window (with its closing time), or empty", body = ErrorBody),
    )
)]
pub async fn object(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<ObjectionBody>,
) -> AppResult<(axum::http::StatusCode, AppJson<AwardView>)> {
    let t = load(&state, id).await?;
    policy::ensure_visible(Some(&user.user), &t)?;
    let org = user
        .user
        .org
        .filter(|_| user.has(Role::Bidder))
        .ok_or_else(|| AppError::forbidden("objections to the result are made by the bidders"))?;
    let opened = opened_bids(&state, &t).await?;
    if !opened.bids.iter().any(|(_, b)| b.bidder == org.to_string()) {
        return Err(AppError::forbidden(
            "objections to the result are made by the bidders of this tender",
        ));
    }
    let mut l = load_award(&state, &t).await?;
    let now = state.now();
    let number = l
        .process
        .object(org, user.user.id, now, &body.text, &rules())
        .map_err(award_error)?
        .number;
    let audit = AuditEvent::new(Some(user.user.id), now, "award.objection", "tender", id)
        .with_change::<(), _>(None, Some(&serde_json::json!({"number": number})));
    save(&state, &t, &l.process, Some(l.version), None, &audit).await?;
    l.version += 1;
    Ok((
        axum::http::StatusCode::CREATED,
        AppJson(view(&l, Some(&user.user), &t, now)?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    pub text: String,
    /// The objection is founded: the award cannot go ahead on this result.
    pub upheld: bool,
}

/// The tenderee answers an objection (due 3 days after it was received; a later answer is marked
/// late).
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/objections/{number}/answer",
    tag = "award",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("number" = u32, Path, description = "The objection's number"),
    ),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "Answered", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Answered already, or not published", body = ErrorBody),
        (status = 422, description = "No such objection, or an empty answer", body = ErrorBody),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, number)): AppPath<(TenderId, u32)>,
    AppJson(body): AppJson<AnswerBody>,
) -> AppResult<AppJson<AwardView>> {
    let t = load(&state, id).await?;
    policy::ensure_owner(&user.user, &t)?;
    let mut l = load_award(&state, &t).await?;
    let now = state.now();
    l.process
        .answer(number, user.user.id, now, &body.text, body.upheld)
        .map_err(award_error)?;
    let audit = AuditEvent::new(Some(user.user.id), now, "award.answer", "tender", id)
        .with_change::<(), _>(
            None,
            Some(&serde_json::json!({"number": number, "upheld": body.upheld})),
        );
    save(&state, &t, &l.process, Some(l.version), None, &audit).await?;
    l.version += 1;
    Ok(AppJson(view(&l, Some(&user.user), &t, now)?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// The winning bid, one of the candidates; default the first candidate.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub bid: Option<BidId>,
}

/// The award notice, after the publication and once every objection is answered (none upheld).
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/notice",
    tag = "award",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = NoticeBody,
    responses(
        (status = 200, description = "Awarded", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "The publication runs, an objection is pending or upheld, or awarded already", body = ErrorBody),
        (status = 422, description = "Not a candidate", body = ErrorBody),
    )
)]
pub async fn notice(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<NoticeBody>,
) -> AppResult<AppJson<AwardView>> {
    let t = load(&state, id).await?;
    policy::ensure_owner(&user.user, &t)?;
    let mut l = load_award(&state, &t).await?;
    let now = state.now();
    let winner = l
        .process
        .award(now, body.bid, &rules())
        .map_err(award_error)?
        .winner
        .clone();
    let mut after = t.clone();
    after.award()?;
    let audit = AuditEvent::new(Some(user.user.id), now, "award.notice", "tender", id)
        .with_change::<(), _>(None, Some(&winner));
    save(
        &state,
        &t,
        &l.process,
        Some(l.version),
        Some(&after),
        &audit,
    )
    .await?;
    l.version += 1;
    Ok(AppJson(view(&l, Some(&user.user), &after, now)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractBody {
    /// When the contract was signed (not before the notice, not in the future).
    pub signed_at: DateTime<Utc>,
    /// The contract amount in yuan (decimal string).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The contract's number.
    pub reference: String,
}

/// The tenderee records the signed contract (due within 30 days of the notice; later is marked);
/// every deposit paid becomes a refund task due 5 days after signing.
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/contract",
    tag = "award",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = ContractBody,
    responses(
        (status = 200, description = "Recorded", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not awarded, or recorded already", body = ErrorBody),
        (status = 422, description = "Signed before the notice or in the future, or a bad amount", body = ErrorBody),
    )
)]
pub async fn contract(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<ContractBody>,
) -> AppResult<AppJson<AwardView>> {
    let t = load(&state, id).await?;
    policy::ensure_owner(&user.user, &t)?;
    let mut l = load_award(&state, &t).await?;
    let opened = opened_bids(&state, &t).await?;
    let deposits: Vec<PaidDeposit> = opened
        .bids
        .iter()
        .filter_map(|(_, b)| {
            Some(PaidDeposit {
                bidder: OrgId::parse(&b.bidder).ok()?,
                bidder_name: b.bidder_name.clone(),
                reference: b.deposit.reference.clone(),
                amount: b.deposit.paid.parse().ok()?,
            })
        })
        .collect();
    let now = state.now();
    l.process
        .record_contract(
            now,
            body.signed_at,
            body.amount,
            &body.reference,
            &deposits,
            &rules(),
        )
        .map_err(award_error)?;
    let audit = AuditEvent::new(Some(user.user.id), now, "award.contract", "tender", id)
        .with_change::<(), _>(None, Some(&l.process.contract));
    save(&state, &t, &l.process, Some(l.version), None, &audit).await?;
    l.version += 1;
    Ok(AppJson(view(&l, Some(&user.user), &t, now)?))
}

/// The trading centre marks a bidder's deposit refunded; when every deposit is, the tender is
/// complete.
#[utoipa::path(
    post,
    path = "/tenders/{id}/award/refunds/{org}/done",
    tag = "award",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("org" = String, Path, format = Uuid, description = "The bidder's organisation"),
    ),
    responses(
        (status = 200, description = "Refunded", body = AwardView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer of the tender's hall", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Refunded already, or not published", body = ErrorBody),
        (status = 422, description = "No refund is due to this bidder", body = ErrorBody),
    )
)]
pub async fn refund_done(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, org)): AppPath<(TenderId, OrgId)>,
) -> AppResult<AppJson<AwardView>> {
    let t = load(&state, id).await?;
    policy::ensure_reviewer(&user.user, &t)?;
    let mut l = load_award(&state, &t).await?;
    let now = state.now();
    l.process.refund(org, now).map_err(award_error)?;
    let mut after = None;
    if l.process.is_complete() && t.state == TenderState::Awarded {
        let mut done = t.clone();
        done.complete(now)?;
        after = Some(done);
    }
    let audit = AuditEvent::new(Some(user.user.id), now, "award.refund", "tender", id)
        .with_change::<(), _>(None, Some(&serde_json::json!({"bidder": org})));
    save(
        &state,
        &t,
        &l.process,
        Some(l.version),
        after.as_ref(),
        &audit,
    )
    .await?;
    l.version += 1;
    Ok(AppJson(view(
        &l,
        Some(&user.user),
        after.as_ref().unwrap_or(&t),
        now,
    )?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RefundQuery {
    /// Only the overdue ones.
    #[serde(default)]
    pub overdue: bool,
    /// Include refunds already made.
    #[serde(default)]
    pub include_done: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundTask {
    #[schema(value_type = String, format = Uuid)]
    pub tender: TenderId,
    pub tender_code: String,
    #[schema(value_type = String, format = Uuid)]
    pub bidder: OrgId,
    pub bidder_name: String,
    pub reference: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub due: DateTime<Utc>,
    pub overdue: bool,
    pub refunded_at: Option<DateTime<Utc>>,
}

/// The deposit refunds of the caller's hall: due first, overdue marked (centre officers,
/// supervisors; admins see every hall).
#[utoipa::path(
    get,
    path = "/refunds",
    tag = "award",
    security(("bearer" = [])),
    params(RefundQuery),
    responses(
        (status = 200, description = "The task list", body = Vec<RefundTask>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the trading centre or supervision", body = ErrorBody),
    )
)]
pub async fn refund_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RefundQuery>,
) -> AppResult<AppJson<Vec<RefundTask>>> {
    if !(user.has(Role::Admin) || user.has(Role::CentreOfficer) || user.has(Role::Supervisor)) {
        return Err(AppError::forbidden(
            "the refund list is for the trading centre and supervisors",
        ));
    }
    let now = state.now();
    let mut out = Vec::new();
    for a in state.store.list_awards().await? {
        let Some(t) = state.store.get_tender(a.tender_id).await? else {
            continue;
        };
        if policy::ensure_reviewer(&user.user, &t).is_err()
            && policy::ensure_supervisor(&user.user, &t).is_err()
        {
            continue;
        }
        let p: AwardProcess = serde_json::from_str(&a.doc).map_err(internal)?;
        for r in &p.refunds {
            let overdue = r.is_overdue(now);
            if (q.overdue && !overdue) || (!q.include_done && r.refunded_at.is_some()) {
                continue;
            }
            out.push(RefundTask {
                tender: t.id,
                tender_code: t.code.as_str().to_string(),
                bidder: r.bidder,
                bidder_name: r.bidder_name.clone(),
                reference: r.reference.clone(),
                amount: r.amount,
                due: r.due,
                overdue,
                refunded_at: r.refunded_at,
            });
        }
    }
    out.sort_by(|a, b| (a.due, &a.tender_code).cmp(&(b.due, &b.tender_code)));
    Ok(AppJson(out))
}
