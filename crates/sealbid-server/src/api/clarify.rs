//! Changes to a published tender while bidding is open: amendments by the tenderee, and
//! clarification questions from bidders with the tenderee's answers. Either may move the
//! deadline when it comes less than 15 days before it (法 23, 条例 21).
use axum::extract::State;
use axum::http::StatusCode;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::tender::{Answer, Question};
use sealbid_domain::{AmendmentId, QuestionId, TenderId};

use super::dto::{AmendRequest, AmendmentView, AnswerRequest, AskRequest, QuestionView};
use super::tenders::load;
use super::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// Longest question or answer, in characters.
const MAX_TEXT: usize = 5000;

fn parse_text(s: &str, field: &str) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            "invalid_text",
            field,
            format!("{field} must have 1 to {MAX_TEXT} characters"),
        ));
    }
    Ok(s.to_string())
}

/// Amends a published tender before its deadline (the owning tenderee). An amendment less than
/// 15 days before the deadline moves the deadline and the opening out (`deadline_pushed`).
#[utoipa::path(
    post,
    path = "/tenders/{id}/amendments",
    tag = "clarifications",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = AmendRequest,
    responses(
        (status = 201, description = "The amendment", body = AmendmentView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not published, or the deadline has passed", body = ErrorBody),
        (status = 422, description = "Problems with the amended terms, all listed", body = ErrorBody),
    )
)]
pub async fn create_amendment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<AmendRequest>,
) -> AppResult<(StatusCode, AppJson<AmendmentView>)> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    if req.changes.documents.is_some() {
        return Err(AppError::invalid(
            "documents_via_upload",
            "changes.documents",
            "tender documents change through POST/DELETE /tenders/{id}/documents, which store the \
             file and record the amendment: leave documents out of the changes",
        ));
    }
    let now = state.now();
    let mut t = before.clone();
    let amendment = t.amend(
        AmendmentId::new(),
        now,
        user.user.id,
        req.summary,
        req.changes.into(),
        &state.rules,
    )?;
    let audit = AuditEvent::new(Some(user.user.id), now, "tender.amend", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    state
        .store
        .add_amendment(&t, before.version, &amendment, &audit)
        .await?;
    Ok((StatusCode::CREATED, AppJson(amendment.into())))
}

/// A tender's amendments, oldest first (whoever may see the tender).
#[utoipa::path(
    get,
    path = "/tenders/{id}/amendments",
    tag = "clarifications",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The amendments", body = Vec<AmendmentView>),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn list_amendments(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<AmendmentView>>> {
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    let list = state.store.list_amendments(id).await?;
    Ok(AppJson(list.into_iter().map(Into::into).collect()))
}

/// Asks a clarification question about a published tender before its deadline (bidders).
#[utoipa::path(
    post,
    path = "/tenders/{id}/questions",
    tag = "clarifications",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = AskRequest,
    responses(
        (status = 201, description = "The question", body = QuestionView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not published, or the deadline has passed", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    )
)]
pub async fn ask_question(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<AskRequest>,
) -> AppResult<(StatusCode, AppJson<QuestionView>)> {
    let t = load(&state, id).await?;
    policy::ensure_visible(Some(&user.user), &t)?;
    policy::ensure_bidder(&user.user)?;
    let now = state.now();
    t.can_ask(now)?;
    let q = Question {
        id: QuestionId::new(),
        tender_id: t.id,
        asked_by: user.user.id,
        asked_by_org: user.user.org,
        text: parse_text(&req.text, "text")?,
        asked_at: now,
        answer: None,
    };
    let audit = AuditEvent::new(Some(user.user.id), now, "question.ask", "question", q.id)
        .with_change::<Question, _>(None, Some(&q));
    state.store.add_question(&q, &audit).await?;
    let show = policy::sees_askers(Some(&user.user), &t);
    Ok((StatusCode::CREATED, AppJson(QuestionView::new(q, show))))
}

/// A tender's questions, oldest first. Answered questions are public with the tender; an
/// unanswered one is shown to the tenderee, the centre, supervisors and the organisation that
/// asked. Who asked is shown only to admins and supervisors.
#[utoipa::path(
    get,
    path = "/tenders/{id}/questions",
    tag = "clarifications",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The questions", body = Vec<QuestionView>),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn list_questions(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<QuestionView>>> {
    let user = user.map(|u| u.user);
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref(), &t)?;
    let show = policy::sees_askers(user.as_ref(), &t);
    let list = state
        .store
        .list_questions(id)
        .await?
        .into_iter()
        .filter(|q| policy::can_see_question(user.as_ref(), &t, q))
        .map(|q| QuestionView::new(q, show))
        .collect();
    Ok(AppJson(list))
}

/// Answers a question (the owning tenderee). An answer that affects how bids are prepared is a
/// clarification: if it comes less than 15 days before the deadline, the deadline moves.
#[utoipa::path(
    post,
    path = "/tenders/{id}/questions/{qid}/answer",
    tag = "clarifications",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("qid" = String, Path, format = Uuid, description = "Question id"),
    ),
    request_body = AnswerRequest,
    responses(
        (status = 200, description = "The answered question", body = QuestionView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender or question", body = ErrorBody),
        (status = 409, description = "Already answered, not published, or the deadline has passed", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    )
)]
pub async fn answer_question(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, qid)): AppPath<(TenderId, QuestionId)>,
    AppJson(req): AppJson<AnswerRequest>,
) -> AppResult<AppJson<QuestionView>> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    let mut q = state
        .store
        .get_question(qid)
        .await?
        .filter(|q| q.tender_id == id)
        .ok_or(AppError::NotFound("question"))?;
    if q.answer.is_some() {
        return Err(AppError::Conflict {
            code: "already_answered",
            message:
                "this question has been answered already; publish an amendment to change the tender"
                    .into(),
            state: None,
        });
    }
    let text = parse_text(&req.text, "text")?;
    let now = state.now();
    let mut t = before.clone();
    let new_deadline = t.clarify(now, req.affects_bids, &state.rules)?;
    q.answer = Some(Answer {
        text,
        at: now,
        by: user.user.id,
        affects_bids: req.affects_bids,
        new_deadline,
    });
    let audit = AuditEvent::new(Some(user.user.id), now, "tender.clarify", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    state
        .store
        .answer_question(&q, &t, before.version, &audit)
        .await?;
    let show = policy::sees_askers(Some(&user.user), &t);
    Ok(AppJson(QuestionView::new(q, show)))
}
