//! Tenders: create and edit drafts, submit them for review, the trading centre's review
//! (approve = publish, or return with every problem), cancellation, listings and the review queue.
use axum::extract::State;
use axum::http::{header, StatusCode};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::Role;
use sealbid_domain::tender::{Problem, Tender, TenderCode, TenderState, TenderTerms};
use sealbid_domain::TenderId;
use sealbid_store::{HallScope, TenderFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{
    CancelRequest, ReturnRequest, ReviewItem, ReviewList, TenderInput, TenderList, TenderView,
};
use super::{page, AppJson, AppPath, AppQuery};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// Loads a tender, or 404.
pub(crate) async fn load(state: &AppState, id: TenderId) -> AppResult<Tender> {
    state
        .store
        .get_tender(id)
        .await?
        .ok_or(AppError::NotFound("tender"))
}

/// Stores `after` (changed from `before` by `user`) with its audit record, in one store call.
async fn save(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    before: &Tender,
    after: &Tender,
) -> AppResult<()> {
    let audit = AuditEvent::new(Some(user.user.id), state.now(), action, "tender", after.id)
        .with_change(Some(before), Some(after));
    state
        .store
        .update_tender(after, before.version, &audit)
        .await?;
    Ok(())
}

/// Parses the code and checks the terms as they would stand if published now; every problem at
/// once. A draft is checked when it is written, not only when it is submitted, so the tenderee
/// learns of a deadline that is already too early while still editing.
fn check_input(state: &AppState, input: TenderInput) -> AppResult<(TenderCode, TenderTerms)> {
    let (code, terms) = input.into_parts();
    let mut problems: Vec<Problem> = Vec::new();
    let code = TenderCode::parse(&code).map_err(|p| problems.push(p)).ok();
    problems.extend(terms.problems(state.now(), &state.rules));
    match code {
        Some(code) if problems.is_empty() => Ok((code, terms)),
        _ => Err(AppError::Problems(problems)),
    }
}

fn created(
    t: Tender,
) -> (
    StatusCode,
    [(header::HeaderName, String); 1],
    AppJson<TenderView>,
) {
    let location = format!("/api/v1/tenders/{}", t.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        AppJson(t.into()),
    )
}

/// Creates a draft tender for the signed-in tenderee's organisation, in that organisation's hall.
/// The terms are checked against the legal figures as if published now; every problem is
/// reported at once (e.g. `deadline_too_early`, naming the earliest legal deadline).
#[utoipa::path(
    post,
    path = "/tenders",
    tag = "tenders",
    security(("bearer" = [])),
    request_body = TenderInput,
    responses(
        (status = 201, description = "The new draft", body = TenderView),
        (status = 400, description = "Malformed JSON or unknown field", body = ErrorBody),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a tenderee of an organisation", body = ErrorBody),
        (status = 409, description = "Duplicate tender code", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Problems with the terms, all listed", body = ErrorBody),
    )
)]
pub async fn create_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(input): AppJson<TenderInput>,
) -> AppResult<(
    StatusCode,
    [(header::HeaderName, String); 1],
    AppJson<TenderView>,
)> {
    policy::ensure_can_create(&user.user)?;
    let org_id = user
        .user
        .org
        .ok_or_else(|| AppError::forbidden("your account acts for no organisation"))?;
    let org = state.store.get_org(org_id).await?.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("user {} has a missing org", user.user.id))
    })?;
    let (code, terms) = check_input(&state, input)?;
    let now = state.now();
    let t = Tender::new_draft(
        TenderId::new(),
        code,
        org.hall,
        org.id,
        user.user.id,
        terms,
        now,
    );
    let audit = AuditEvent::new(Some(user.user.id), now, "tender.create", "tender", t.id)
        .with_change::<Tender, _>(None, Some(&t));
    state.store.create_tender(&t, &audit).await?;
    Ok(created(t))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenderQuery {
    /// Only tenders in this state, e.g. `published`.
    pub state: Option<String>,
    /// Case-insensitive part of the code or title.
    pub q: Option<String>,
    /// Only your own organisation's tenders.
    pub mine: Option<bool>,
    /// At most 100 (default 50).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Tenders the caller may see, newest first: the public ones (published and after) for everyone;
/// also their own organisation's drafts for tenderees; also those under review in the halls they
/// cover for centre officers and supervisors; everything for admins.
#[utoipa::path(
    get,
    path = "/tenders",
    tag = "tenders",
    params(TenderQuery),
    responses(
        (status = 200, description = "One page of tenders", body = TenderList),
        (status = 400, description = "Invalid query", body = ErrorBody),
    )
)]
pub async fn list_tenders(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppQuery(q): AppQuery<TenderQuery>,
) -> AppResult<AppJson<TenderList>> {
    let (limit, offset) = page(q.limit, q.offset)?;
    let wanted_state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(TenderState::parse(s).ok_or_else(|| AppError::BadRequest {
            code: "invalid_query",
            message: format!("\"{s}\" is not a tender state"),
        })?),
    };
    let user = user.map(|u| u.user);
    let org = if q.mine.unwrap_or(false) {
        match user.as_ref().and_then(|u| u.org) {
            Some(org) => Some(org),
            // No organisation: nothing is "mine".
            None => {
                return Ok(AppJson(TenderList {
                    items: Vec::new(),
                    total: 0,
                }))
            }
        }
    } else {
        None
    };
    let text = q.q.filter(|t| !t.trim().is_empty());
    let filters: Vec<TenderFilter> = policy::listings(user.as_ref())
        .into_iter()
        .filter_map(|l| {
            let states = match (wanted_state, l.states.is_empty()) {
                (None, _) => l.states,
                (Some(s), true) => vec![s],
                (Some(s), false) if l.states.contains(&s) => vec![s],
                (Some(_), false) => return None,
            };
            Some(TenderFilter {
                scope: l.scope,
                states,
                org,
                text: text.clone(),
                public_or_org: l.public_or_org,
                limit,
                offset,
            })
        })
        .collect();
    let (items, total) = union_page(&state, filters, limit, offset).await?;
    Ok(AppJson(TenderList {
        items: items.into_iter().map(Into::into).collect(),
        total,
    }))
}

/// One page of the union of several listings, newest first. With one listing this is the store's
/// own page; with several (a supervisor sees public tenders and those under review in their
/// halls) each contributes its first `offset + limit` rows and the merge is cut to the page. The
/// listings come from `policy::listings`, whose sets do not overlap except for a user holding
/// both a tenderee and a staff role, where duplicates are dropped from the page.
async fn union_page(
    state: &AppState,
    filters: Vec<TenderFilter>,
    limit: u32,
    offset: u32,
) -> AppResult<(Vec<Tender>, u64)> {
    if let [only] = filters.as_slice() {
        let items = state.store.list_tenders(only).await?;
        let total = state.store.count_tenders(only).await?;
        return Ok((items, total));
    }
    let mut all: Vec<Tender> = Vec::new();
    let mut total = 0;
    for mut f in filters {
        total += state.store.count_tenders(&f).await?;
        f.offset = 0;
        f.limit = offset.saturating_add(limit);
        all.extend(state.store.list_tenders(&f).await?);
    }
    all.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
    all.dedup_by_key(|t| t.id);
    let items = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok((items, total))
}

/// One tender. Drafts and tenders under review that the caller may not see answer 404, exactly
/// like an id that does not exist.
#[utoipa::path(
    get,
    path = "/tenders/{id}",
    tag = "tenders",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The tender", body = TenderView),
        (status = 404, description = "No such tender (or not visible to you)", body = ErrorBody),
    )
)]
pub async fn get_tender(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<TenderView>> {
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    Ok(AppJson(t.into()))
}

/// Replaces a draft's code and terms (the owning tenderee). Checked like a new draft.
#[utoipa::path(
    put,
    path = "/tenders/{id}",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = TenderInput,
    responses(
        (status = 200, description = "The edited draft", body = TenderView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not a draft (`error.state` says what it is), or duplicate code", body = ErrorBody),
        (status = 422, description = "Problems with the terms, all listed", body = ErrorBody),
    )
)]
pub async fn update_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(input): AppJson<TenderInput>,
) -> AppResult<AppJson<TenderView>> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    let mut t = before.clone();
    // The state is checked before the terms, so editing a published tender is a 409, not a list
    // of problems with terms that could not be applied anyway.
    t.edit_draft(before.terms.clone())?;
    let (code, terms) = check_input(&state, input)?;
    t.code = code;
    // Uploaded documents stay: they change only through the documents endpoints.
    t.terms = TenderTerms {
        documents: before.terms.documents.clone(),
        ..terms
    };
    save(&state, &user, "tender.edit", &before, &t).await?;
    Ok(AppJson(t.into()))
}

/// Submits a draft to the trading centre for review (the owning tenderee). The terms are checked
/// against the legal figures; the centre must answer within 3 working days (`review_due`).
#[utoipa::path(
    post,
    path = "/tenders/{id}/submit",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Under review", body = TenderView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
        (status = 422, description = "Problems with the terms, all listed", body = ErrorBody),
    )
)]
pub async fn submit_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<TenderView>> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    let mut t = before.clone();
    t.submit_for_review(state.now(), &state.calendar, &state.rules)?;
    save(&state, &user, "tender.submit", &before, &t).await?;
    Ok(AppJson(t.into()))
}

/// Approves a tender under review, which publishes it now (a centre officer covering its hall).
#[utoipa::path(
    post,
    path = "/tenders/{id}/approve",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Published", body = TenderView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer of this hall", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not under review", body = ErrorBody),
        (status = 422, description = "The terms no longer meet the legal figures at publication", body = ErrorBody),
    )
)]
pub async fn approve_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<TenderView>> {
    let before = load(&state, id).await?;
    policy::ensure_reviewer(&user.user, &before)?;
    let mut t = before.clone();
    t.approve(state.now(), &state.rules)?;
    // Publication logs the signed sealing policy with the tender's change.
    let audit = AuditEvent::new(
        Some(user.user.id),
        state.now(),
        "tender.publish",
        "tender",
        t.id,
    )
    .with_change(Some(&before), Some(&t));
    crate::sealing::publish(&state, &before, &t, &audit).await?;
    Ok(AppJson(t.into()))
}

/// Returns a tender under review to its draft, listing every problem at once (a centre officer
/// covering its hall).
#[utoipa::path(
    post,
    path = "/tenders/{id}/return",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = ReturnRequest,
    responses(
        (status = 200, description = "Back to draft", body = TenderView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer of this hall", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not under review", body = ErrorBody),
        (status = 422, description = "No problem given", body = ErrorBody),
    )
)]
pub async fn return_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<ReturnRequest>,
) -> AppResult<AppJson<TenderView>> {
    let before = load(&state, id).await?;
    policy::ensure_reviewer(&user.user, &before)?;
    let mut t = before.clone();
    t.return_for_changes(state.now(), user.user.id, req.problems)?;
    save(&state, &user, "tender.return", &before, &t).await?;
    Ok(AppJson(t.into()))
}

/// Cancels a tender that has not been awarded, with a published reason (the owning tenderee).
#[utoipa::path(
    post,
    path = "/tenders/{id}/cancel",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "Cancelled", body = TenderView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Too late to cancel", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    )
)]
pub async fn cancel_tender(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<CancelRequest>,
) -> AppResult<AppJson<TenderView>> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    let mut t = before.clone();
    t.cancel(state.now(), &req.reason)?;
    save(&state, &user, "tender.cancel", &before, &t).await?;
    Ok(AppJson(t.into()))
}

/// Most tenders the review queue sorts at once.
const MAX_QUEUE: u32 = 10_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// At most 100 (default 50).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The trading centre's review queue: tenders under review in the halls the officer covers, with
/// when each review is due and whether it is overdue.
#[utoipa::path(
    get,
    path = "/reviews",
    tag = "tenders",
    security(("bearer" = [])),
    params(ReviewQuery),
    responses(
        (status = 200, description = "The queue, oldest due first", body = ReviewList),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a centre officer", body = ErrorBody),
    )
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<ReviewQuery>,
) -> AppResult<AppJson<ReviewList>> {
    user.require_any(&[Role::CentreOfficer])?;
    let (limit, offset) = page(q.limit, q.offset)?;
    let scope = if user.has(Role::Admin) {
        HallScope::All
    } else {
        HallScope::Within(user.user.hall.clone())
    };
    let mut filter = TenderFilter {
        scope,
        states: vec![TenderState::UnderReview],
        ..TenderFilter::default()
    };
    // The queue is short (each review is due within days), so it is sorted by due time whole
    // and then paged; the store's own order is newest first.
    let total = state.store.count_tenders(&filter).await?;
    filter.limit = u32::try_from(total).unwrap_or(u32::MAX).min(MAX_QUEUE);
    let mut tenders = state.store.list_tenders(&filter).await?;
    tenders.sort_by_key(|t| (t.review_due, t.id));
    let tenders: Vec<Tender> = tenders
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let now = state.now();
    let items = tenders
        .into_iter()
        .map(|t| ReviewItem {
            review_due: t.review_due,
            overdue: t.review_overdue(now),
            tender: t.into(),
        })
        .collect();
    Ok(AppJson(ReviewList { items, total }))
}
