//! The evaluation session, second part: the tenderee's representatives on the committee, the
//! qualification review (each member's checklist per bid; the committee's conclusion by majority),
//! the session's time and members' requests for more (条例 48), the live progress (JSON and
//! server-sent events), and the evaluation report that every member signs with their own Ed25519
//! key before the platform countersigns it and appends it to the transparency log.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::evaluation::draw::{PrivateDraw, PublicDraw};
use sealbid_domain::evaluation::scoring::{
    self, ConfirmedCollusion, EvaluatedBid, Qualification, RejectionFacts, Scheme, ScoreSheet,
    ScoringError, ScoringRules,
};
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::{china_time, Tender};
use sealbid_domain::{BidId, OrgId, TenderId, UserId};
use sealbid_seal::keys::{Signature, VerifyingKey};
use sealbid_seal::opening::{BidOutcome, OpenedBid, OpeningRecord};
use sealbid_seal::report::{EvaluationReport, MemberSignature, ReportMember, SignedReport};
use sealbid_seal::signed::Signed;
use sealbid_store::{EvaluationTime, LogAppend, ReportWrite, Representative, StoredReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tenders::load;
use super::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// How much longer the members get when more than a third of them ask for more time.
pub const EXTENSION: Duration = Duration::hours(24);

/// How often the progress stream looks for changes.
const PROGRESS_POLL: StdDuration = StdDuration::from_millis(500);

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

// ----- the committee -----

/// A seat of the committee.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub seat: u32,
    /// The pool id of a drawn expert, or `rep-<seat>` for a tenderee's representative.
    pub member: String,
    pub representative: bool,
    /// The account that holds the seat; none while unlinked or unappointed.
    #[serde(skip)]
    pub user: Option<UserId>,
    #[serde(skip)]
    pub name: String,
}

pub(crate) struct Committee {
    pub public: PublicDraw,
    pub members: Vec<Member>,
}

impl Committee {
    pub fn size(&self) -> usize {
        self.members.len()
    }

    pub fn by_user(&self, user: UserId) -> Option<&Member> {
        self.members.iter().find(|m| m.user == Some(user))
    }
}

/// The tender's committee: drawn experts (with the accounts linked to them) and the tenderee's
/// representatives' seats, appointed or not. `None` before the draw.
pub(crate) async fn committee(state: &AppState, t: &Tender) -> AppResult<Option<Committee>> {
    let Some(d) = state.store.get_draw(t.id).await? else {
        return Ok(None);
    };
    let public: PublicDraw = serde_json::from_str(&d.public_doc).map_err(internal)?;
    let private: PrivateDraw = serde_json::from_str(&d.private_doc).map_err(internal)?;
    let mut members = Vec::new();
    for s in &public.members {
        members.push(Member {
            seat: s.seat,
            member: s.expert_id.clone(),
            representative: false,
            user: state.store.user_of_expert(&s.expert_id).await?,
            name: private
                .members
                .iter()
                .find(|m| m.expert_id == s.expert_id)
                .map(|m| m.name.clone())
                .unwrap_or_default(),
        });
    }
    let drawn = u32::try_from(public.members.len()).map_err(internal)?;
    let reps = state.store.list_representatives(t.id).await?;
    for seat in drawn..public.request.committee_size {
        let rep = reps.iter().find(|r| r.seat == seat);
        let name = match rep {
            Some(r) => state
                .store
                .get_user(r.user_id)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default(),
            None => String::new(),
        };
        members.push(Member {
            seat,
            member: format!("rep-{seat}"),
            representative: true,
            user: rep.map(|r| r.user_id),
            name,
        });
    }
    Ok(Some(Committee { public, members }))
}

/// The caller's seat on the tender's committee. Anyone else gets the same 403, whether or not the
/// tender has a committee: nothing is disclosed.
pub(crate) async fn member_of(state: &AppState, user: &User, t: &Tender) -> AppResult<Member> {
    let refuse = || {
        AppError::forbidden("only the members of this tender's evaluation committee may do this")
    };
    let c = committee(state, t).await?.ok_or_else(refuse)?;
    let m = c.by_user(user.id).ok_or_else(refuse)?;
    // A drawn expert signs in with an evaluator account; a representative with the tenderee's.
    if !m.representative && !user.has(Role::Evaluator) {
        return Err(refuse());
    }
    Ok(m.clone())
}

/// A member who has declared no conflict of interest, or 403.
pub(crate) async fn declared_member(
    state: &AppState,
    user: &User,
    t: &Tender,
) -> AppResult<Member> {
    let m = member_of(state, user, t).await?;
    if state.store.get_declaration(t.id, user.id).await?.is_none() {
        return Err(AppError::Forbidden(
            "declare that you have no conflict of interest first (POST …/evaluation/declaration)"
                .into(),
        ));
    }
    Ok(m)
}

// ----- the opened bids -----

pub(crate) struct OpenedBids {
    pub record: OpeningRecord,
    /// Hex SHA-256 of the record's signing bytes.
    pub digest: String,
    pub log_index: u64,
    /// Every bid of the record with its id.
    pub bids: Vec<(BidId, OpenedBid)>,
}

impl OpenedBids {
    /// The bids the opening found valid (the ones the committee evaluates).
    pub fn valid(&self) -> impl Iterator<Item = &(BidId, OpenedBid)> {
        self.bids
            .iter()
            .filter(|(_, b)| b.outcome == BidOutcome::Valid)
    }

    pub fn valid_ids(&self) -> HashSet<BidId> {
        self.valid().map(|(id, _)| *id).collect()
    }
}

/// The tender's signed opening record and its bids; 404 before the opening.
pub(crate) async fn opened_bids(state: &AppState, t: &Tender) -> AppResult<OpenedBids> {
    let opened = state
        .store
        .get_sealing(t.id)
        .await?
        .and_then(|s| s.opened)
        .ok_or(AppError::NotFound("opening record"))?;
    let signed =
        Signed::<OpeningRecord>::from_json_bytes(opened.record.as_bytes()).map_err(internal)?;
    let digest = signed.digest_hex().map_err(internal)?;
    let by_digest: HashMap<String, BidId> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .map(|b| (b.manifest_digest, b.id))
        .collect();
    let bids = signed
        .body
        .bids
        .iter()
        .filter_map(|b| by_digest.get(&b.manifest_digest).map(|id| (*id, b.clone())))
        .collect();
    Ok(OpenedBids {
        record: signed.body,
        digest,
        log_index: opened.log_index,
        bids,
    })
}

// ----- the session's time -----

/// The result is published (the candidates onwards): the members' names and the report are public
/// from then on.
pub(crate) fn result_published(t: &Tender) -> bool {
    use sealbid_domain::tender::TenderState;
    matches!(
        t.state,
        TenderState::CandidatesPublished | TenderState::Awarded | TenderState::Completed
    )
}

/// Refuses work after the session's time is over (409 `evaluation_time_over`).
pub(crate) async fn ensure_in_time(state: &AppState, t: &Tender) -> AppResult<()> {
    if let Some(time) = state.store.get_evaluation_time(t.id).await? {
        if state.now() > time.due_at {
            return Err(AppError::Conflict {
                code: "evaluation_time_over",
                message: format!(
                    "the time for this evaluation ended at {}: if more than a third of the \
                     members ask for more time (POST …/evaluation/more-time), it is extended",
                    china_time(time.due_at)
                ),
                state: Some(t.state),
            });
        }
    }
    Ok(())
}

fn ensure_owner_or_centre(user: &User, t: &Tender) -> AppResult<()> {
    if policy::ensure_owner(user, t).is_err() {
        policy::ensure_reviewer(user, t)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRequestBody {
    /// When the members must have finished (RFC 3339), in the future.
    pub due_at: DateTime<Utc>,
}

/// Sets the time by which the members must have finished (the tenderee or the trading centre).
#[utoipa::path(
    put,
    path = "/tenders/{id}/evaluation/time",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = TimeRequestBody,
    responses(
        (status = 204, description = "Set"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee or the trading centre", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 422, description = "The time is not in the future", body = ErrorBody),
    )
)]
pub async fn set_time(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<TimeRequestBody>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    ensure_owner_or_centre(&user.user, &t)?;
    let now = state.now();
    if body.due_at <= now {
        return Err(AppError::invalid(
            "due_in_past",
            "due_at",
            format!(
                "the time must be in the future (it is now {})",
                china_time(now)
            ),
        ));
    }
    let extended = state
        .store
        .get_evaluation_time(id)
        .await?
        .map_or(0, |t| t.extended);
    let time = EvaluationTime {
        tender_id: id,
        due_at: body.due_at,
        set_at: now,
        extended,
    };
    let audit = AuditEvent::new(Some(user.user.id), now, "evaluation.time", "tender", id)
        .with_change::<(), _>(None, Some(&serde_json::json!({"due_at": body.due_at})));
    state.store.set_evaluation_time(&time, &audit).await?;
    Ok(super::NoContent)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoreTimeBody {
    /// Why the time is not enough (1–1000 characters).
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoreTimeOutcome {
    /// Members who have asked, this one included.
    pub requests: usize,
    pub committee_size: usize,
    /// True when this request made more than a third ask, and the time was extended.
    pub extended: bool,
    pub due_at: Option<DateTime<Utc>>,
}

/// A member asks for more time; when more than a third of the members have asked, the time is
/// extended by 24 hours (条例 48).
#[utoipa::path(
    post,
    path = "/tenders/{id}/evaluation/more-time",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = MoreTimeBody,
    responses(
        (status = 200, description = "Recorded", body = MoreTimeOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a member", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Asked already, or the report is drawn up", body = ErrorBody),
        (status = 422, description = "No reason given", body = ErrorBody),
    )
)]
pub async fn more_time(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<MoreTimeBody>,
) -> AppResult<AppJson<MoreTimeOutcome>> {
    let t = load(&state, id).await?;
    member_of(&state, &user.user, &t).await?;
    let reason = body.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reason_required",
            "reason",
            "say why the time is not enough (1 to 1000 characters)",
        ));
    }
    if state.store.get_report(id).await?.is_some() {
        return Err(sealbid_store::StoreError::Conflict("report_drawn_up").into());
    }
    let size = committee(&state, &t).await?.map_or(0, |c| c.size()).max(1);
    let asked = state.store.list_time_requests(id).await?.len() + 1;
    let now = state.now();
    let time = state.store.get_evaluation_time(id).await?;
    // More than a third: the request that crosses the line extends the time.
    let crosses = asked * 3 > size && (asked - 1) * 3 <= size;
    let extend = match (&time, crosses) {
        (Some(time), true) => Some(EvaluationTime {
            due_at: time.due_at.max(now) + EXTENSION,
            set_at: now,
            extended: time.extended + 1,
            ..time.clone()
        }),
        _ => None,
    };
    let request = sealbid_store::TimeRequest {
        tender_id: id,
        user_id: user.user.id,
        at: now,
        reason,
    };
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        "evaluation.more_time",
        "tender",
        id,
    )
    .with_change::<(), _>(
        None,
        Some(&serde_json::json!({"requests": asked, "extended_to": extend.as_ref().map(|e| e.due_at)})),
    );
    state
        .store
        .add_time_request(&request, extend.as_ref(), &audit)
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict("time_request") => AppError::Conflict {
                code: "already_asked",
                message: "you have asked for more time already".into(),
                state: None,
            },
            e => e.into(),
        })?;
    Ok(AppJson(MoreTimeOutcome {
        requests: asked,
        committee_size: size,
        extended: extend.is_some(),
        due_at: extend.map(|e| e.due_at).or(time.map(|t| t.due_at)),
    }))
}

// ----- representatives -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativesBody {
    /// The tenderee's staff who sit on the committee, as many as the draw reserved seats for.
    #[schema(value_type = Vec<String>)]
    pub user_ids: Vec<UserId>,
}

/// The tenderee appoints its representatives to the seats the draw reserved (after the drawn
/// experts'). Replaced as a whole until scoring starts.
#[utoipa::path(
    put,
    path = "/tenders/{id}/evaluation/representatives",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = RepresentativesBody,
    responses(
        (status = 200, description = "Appointed: the committee's seats", body = Vec<Member>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not drawn yet, or scoring has started", body = ErrorBody),
        (status = 422, description = "Wrong number, unknown account or not the tenderee's staff", body = ErrorBody),
    )
)]
pub async fn set_representatives(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<RepresentativesBody>,
) -> AppResult<AppJson<Vec<Member>>> {
    let t = load(&state, id).await?;
    policy::ensure_owner(&user.user, &t)?;
    let c = committee(&state, &t)
        .await?
        .ok_or_else(|| AppError::Conflict {
            code: "not_drawn",
            message: "the committee is not drawn yet: the draw reserves the representatives' seats"
                .into(),
            state: Some(t.state),
        })?;
    let wanted = c.public.request.tenderee_representatives as usize;
    if body.user_ids.len() != wanted {
        return Err(AppError::invalid(
            "representatives_count",
            "user_ids",
            format!(
                "the draw reserved {wanted} seat(s) for the tenderee's representatives; {} given",
                body.user_ids.len()
            ),
        ));
    }
    let unique: HashSet<UserId> = body.user_ids.iter().copied().collect();
    if unique.len() != body.user_ids.len() {
        return Err(AppError::invalid(
            "duplicate_representative",
            "user_ids",
            "each representative takes one seat: the list names someone twice",
        ));
    }
    for uid in &body.user_ids {
        let u = state.store.get_user(*uid).await?.ok_or_else(|| {
            AppError::invalid("unknown_user", "user_ids", format!("no account {uid}"))
        })?;
        if u.org != Some(t.org) || !u.active {
            return Err(AppError::invalid(
                "not_tenderee_staff",
                "user_ids",
                format!(
                    "{} is not an active account of the tenderee: representatives are the \
                     tenderee's own staff",
                    u.username
                ),
            ));
        }
        if c.members
            .iter()
            .any(|m| !m.representative && m.user == Some(*uid))
        {
            return Err(AppError::invalid(
                "already_a_member",
                "user_ids",
                format!(
                    "{} already sits on the committee as a drawn expert",
                    u.username
                ),
            ));
        }
    }
    if !state.store.list_sheets(id).await?.is_empty()
        || !state.store.list_qualifications(id).await?.is_empty()
    {
        return Err(AppError::Conflict {
            code: "scoring_started",
            message: "members have started reviewing the bids: the committee can no longer change"
                .into(),
            state: Some(t.state),
        });
    }
    let first = u32::try_from(c.public.members.len()).map_err(internal)?;
    let now = state.now();
    let reps: Vec<Representative> = body
        .user_ids
        .iter()
        .zip(first..)
        .map(|(uid, seat)| Representative {
            tender_id: id,
            user_id: *uid,
            seat,
            appointed_at: now,
        })
        .collect();
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        "evaluation.representatives",
        "tender",
        id,
    )
    .with_change::<(), _>(None, Some(&body.user_ids));
    state.store.set_representatives(id, &reps, &audit).await?;
    let c = committee(&state, &t)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    Ok(AppJson(c.members))
}

// ----- qualification -----

/// One criterion of a member's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Index of the criterion in the tender's `qualification_criteria`.
    pub criterion: usize,
    pub pass: bool,
    /// Required when the bid fails the criterion.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistBody {
    /// One item per qualification criterion of the tender.
    pub items: Vec<ChecklistItem>,
}

/// A member's qualification checklist for one bid, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    #[schema(value_type = String)]
    pub evaluator: UserId,
    pub member: String,
    #[schema(value_type = String)]
    pub bid: BidId,
    pub items: Vec<ChecklistItem>,
}

/// Checks a checklist against the tender's criteria: each criterion once, a reason for each
/// failure, reasons of at most 1000 characters.
pub fn validate_checklist(items: &[ChecklistItem], criteria: &[String]) -> AppResult<()> {
    let bad = |msg: String| AppError::invalid("invalid_checklist", "items", msg);
    let mut seen = vec![false; criteria.len()];
    for it in items {
        let Some(slot) = seen.get_mut(it.criterion) else {
            return Err(bad(format!(
                "criterion {} does not exist: the tender has {} qualification criteria (0 to {})",
                it.criterion,
                criteria.len(),
                criteria.len().saturating_sub(1)
            )));
        };
        if std::mem::replace(slot, true) {
            return Err(bad(format!("criterion {} is checked twice", it.criterion)));
        }
        if !it.pass && it.reason.trim().is_empty() {
            return Err(bad(format!(
                "criterion {} (\"{}\") fails: give the reason",
                it.criterion, criteria[it.criterion]
            )));
        }
        if it.reason.chars().count() > 1000 {
            return Err(bad(format!(
                "the reason for criterion {} has more than 1000 characters",
                it.criterion
            )));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(bad(format!(
            "criterion {missing} (\"{}\") is not checked: check every criterion",
            criteria[missing]
        )));
    }
    Ok(())
}

/// The committee's conclusion on a bid from the members' checklists: the bid fails a criterion
/// that a majority of the whole committee failed it on (the first such, with those members'
/// reasons).
pub fn conclude(checklists: &[&Checklist], criteria: &[String], size: usize) -> Qualification {
    for (i, c) in criteria.iter().enumerate() {
        let fails: Vec<&ChecklistItem> = checklists
            .iter()
            .filter_map(|cl| cl.items.iter().find(|it| it.criterion == i && !it.pass))
            .collect();
        if fails.len() * 2 > size {
            return Qualification::Fail {
                criterion: c.clone(),
                reason: fails
                    .iter()
                    .map(|f| f.reason.trim())
                    .collect::<Vec<_>>()
                    .join("; "),
            };
        }
    }
    Qualification::Pass
}

async fn valid_bid(state: &AppState, t: &Tender, bid: BidId) -> AppResult<OpenedBids> {
    let opened = opened_bids(state, t).await?;
    match opened.bids.iter().find(|(id, _)| *id == bid) {
        None => Err(AppError::NotFound("bid")),
        Some((_, b)) if b.outcome != BidOutcome::Valid => Err(AppError::invalid(
            "bid_not_evaluated",
            "bid",
            "this bid did not open validly (see the opening record): it is not evaluated",
        )),
        Some(_) => Ok(opened),
    }
}

/// A member records their qualification checklist for one bid (post-qualification, 条例 20).
#[utoipa::path(
    put,
    path = "/tenders/{id}/evaluation/qualification/{bid}",
    tag = "evaluation",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("bid" = String, Path, format = Uuid, description = "Bid id"),
    ),
    request_body = ChecklistBody,
    responses(
        (status = 204, description = "Stored"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender or bid", body = ErrorBody),
        (status = 409, description = "The time is over, or the report is drawn up", body = ErrorBody),
        (status = 422, description = "A criterion missing, twice, unknown, or failed without a reason", body = ErrorBody),
    )
)]
pub async fn put_checklist(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, bid)): AppPath<(TenderId, BidId)>,
    AppJson(body): AppJson<ChecklistBody>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    let m = declared_member(&state, &user.user, &t).await?;
    valid_bid(&state, &t, bid).await?;
    validate_checklist(&body.items, &t.terms.qualification_criteria)?;
    ensure_in_time(&state, &t).await?;
    let mut items = body.items;
    items.sort_by_key(|i| i.criterion);
    for it in &mut items {
        it.reason = it.reason.trim().to_string();
    }
    let checklist = Checklist {
        evaluator: user.user.id,
        member: m.member,
        bid,
        items,
    };
    let now = state.now();
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        "evaluation.qualification",
        "tender",
        id,
    )
    .with_change::<(), _>(None, Some(&serde_json::json!({"bid": bid})));
    state
        .store
        .put_qualification(
            &sealbid_store::StoredSheet {
                tender_id: id,
                user_id: user.user.id,
                bid_id: bid,
                submitted_at: now,
                doc: serde_json::to_string(&checklist).map_err(internal)?,
            },
            &audit,
        )
        .await?;
    Ok(super::NoContent)
}

/// The caller's own checklists (a declared member).
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/qualification",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The caller's checklists", body = Vec<Checklist>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn my_checklists(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<Checklist>>> {
    let t = load(&state, id).await?;
    declared_member(&state, &user.user, &t).await?;
    state
        .store
        .list_qualifications(id)
        .await?
        .into_iter()
        .filter(|s| s.user_id == user.user.id)
        .map(|s| serde_json::from_str(&s.doc).map_err(internal))
        .collect::<AppResult<Vec<_>>>()
        .map(AppJson)
}

// ----- progress -----

/// One member's progress: what they have done, never what they scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberProgress {
    pub seat: u32,
    pub member: String,
    pub representative: bool,
    /// An account holds the seat.
    pub seated: bool,
    pub declared: bool,
    /// Qualification checklists submitted (of `bids`).
    pub checklists: usize,
    /// Score sheets submitted (of `bids`).
    pub sheets: usize,
    pub asked_for_time: bool,
    pub signed: bool,
}

/// The session's progress as the chair (and every member, the trading centre and supervisors)
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    /// Bids under evaluation (those that opened validly).
    pub bids: usize,
    /// Qualification criteria of the tender.
    pub criteria: usize,
    /// Whether score sheets are needed (comprehensive scoring).
    pub scoring: bool,
    pub members: Vec<MemberProgress>,
    pub due_at: Option<DateTime<Utc>>,
    pub extended: u32,
    /// `none`, `drawn_up` (being signed) or `logged`.
    pub report: String,
    /// Every member has done everything the report needs.
    pub ready_for_report: bool,
}

pub(crate) async fn progress_of(state: &AppState, t: &Tender) -> AppResult<Progress> {
    let valid = opened_bids(state, t).await?.valid_ids();
    progress_with(state, t, &valid).await
}

/// [`progress_of`] with the bids under evaluation already known (they never change after the
/// opening: the progress stream reads the opening record once, not at every poll).
async fn progress_with(
    state: &AppState,
    t: &Tender,
    valid: &HashSet<BidId>,
) -> AppResult<Progress> {
    let c = committee(state, t)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    let scoring = match state.store.get_scheme(t.id).await? {
        Some(doc) => {
            let s: Scheme = serde_json::from_str(&doc).map_err(internal)?;
            s.method == sealbid_domain::tender::EvaluationMethod::ComprehensiveScoring
        }
        None => true,
    };
    let count = |docs: &[sealbid_store::StoredSheet], user: Option<UserId>| {
        docs.iter()
            .filter(|d| Some(d.user_id) == user && valid.contains(&d.bid_id))
            .count()
    };
    let sheets = state.store.list_sheets(t.id).await?;
    let checklists = state.store.list_qualifications(t.id).await?;
    let requests = state.store.list_time_requests(t.id).await?;
    let report = state.store.get_report(t.id).await?;
    let signers: Vec<MemberSignature> = match &report {
        Some(r) => serde_json::from_str(&r.signatures).map_err(internal)?,
        None => Vec::new(),
    };
    let mut members = Vec::new();
    for m in &c.members {
        let declared = match m.user {
            Some(u) => state.store.get_declaration(t.id, u).await?.is_some(),
            None => false,
        };
        members.push(MemberProgress {
            seat: m.seat,
            member: m.member.clone(),
            representative: m.representative,
            seated: m.user.is_some(),
            declared,
            checklists: count(&checklists, m.user),
            sheets: count(&sheets, m.user),
            asked_for_time: requests.iter().any(|r| Some(r.user_id) == m.user),
            signed: signers.iter().any(|s| s.member == m.member),
        });
    }
    let criteria = t.terms.qualification_criteria.len();
    let bids = valid.len();
    let ready_for_report = members.iter().all(|m| {
        m.declared && (criteria == 0 || m.checklists >= bids) && (!scoring || m.sheets >= bids)
    });
    let time = state.store.get_evaluation_time(t.id).await?;
    Ok(Progress {
        bids,
        criteria,
        scoring,
        members,
        due_at: time.as_ref().map(|t| t.due_at),
        extended: time.map_or(0, |t| t.extended),
        report: match &report {
            None => "none",
            Some(r) if r.logged.is_some() => "logged",
            Some(_) => "drawn_up",
        }
        .into(),
        ready_for_report,
    })
}

/// Who may read the report: with the result (the candidates' publication) anyone who may see the
/// tender — they can check it against the digest the log committed to when the last member signed;
/// before it, the tenderee, the members, the trading centre and the supervisors. 401 for the public
/// before the result, 403 for others signed in.
pub(crate) async fn ensure_may_read_report(
    state: &AppState,
    user: Option<&User>,
    t: &Tender,
) -> AppResult<()> {
    if result_published(t) {
        return policy::ensure_visible(user, t);
    }
    let user = user.ok_or(AppError::Unauthenticated)?;
    if policy::ensure_owner(user, t).is_ok() {
        return Ok(());
    }
    ensure_can_follow(state, user, t).await
}

/// Members, the trading centre of the tender's hall and its supervisors may follow the session.
async fn ensure_can_follow(state: &AppState, user: &User, t: &Tender) -> AppResult<()> {
    if policy::ensure_reviewer(user, t).is_ok() || policy::ensure_supervisor(user, t).is_ok() {
        return Ok(());
    }
    member_of(state, user, t).await.map(|_| ())
}

/// The session's progress: who has declared, checked and scored how many bids, asked for time and
/// signed — never a score.
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/progress",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The progress", body = Progress),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a member, the trading centre or a supervisor", body = ErrorBody),
        (status = 404, description = "No such tender, or not drawn", body = ErrorBody),
    )
)]
pub async fn get_progress(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Progress>> {
    let t = load(&state, id).await?;
    ensure_can_follow(&state, &user.user, &t).await?;
    Ok(AppJson(progress_of(&state, &t).await?))
}

/// The progress as server-sent events: a `progress` event at once (so a client that reconnects
/// resumes with the current state) and another whenever it changes; the stream ends after the
/// report is logged.
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/progress/stream",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "text/event-stream of `progress` events (data: Progress as JSON)", content_type = "text/event-stream"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a member, the trading centre or a supervisor", body = ErrorBody),
        (status = 404, description = "No such tender, or not drawn", body = ErrorBody),
    )
)]
pub async fn progress_stream(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<Sse<impl futures::Stream<Item = Result<Event, Infallible>>>> {
    let t = load(&state, id).await?;
    ensure_can_follow(&state, &user.user, &t).await?;
    let valid = opened_bids(&state, &t).await?.valid_ids();
    let first = progress_with(&state, &t, &valid).await?;
    struct S {
        state: AppState,
        t: Tender,
        valid: HashSet<BidId>,
        last: Option<Progress>,
        pending: Option<Progress>,
        seq: u64,
        done: bool,
    }
    let init = S {
        state,
        t,
        valid,
        last: None,
        pending: Some(first),
        seq: 0,
        done: false,
    };
    let stream = futures::stream::unfold(init, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            let next = match s.pending.take() {
                Some(p) => p,
                None => {
                    tokio::time::sleep(PROGRESS_POLL).await;
                    match progress_with(&s.state, &s.t, &s.valid).await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(tender = %s.t.id, error = %e, "progress stream stopped");
                            s.done = true;
                            let ev = Event::default()
                                .event("error")
                                .data("the progress could not be read: reconnect");
                            return Some((Ok(ev), s));
                        }
                    }
                }
            };
            if s.last.as_ref() == Some(&next) {
                continue;
            }
            s.seq += 1;
            s.done = next.report == "logged";
            let ev = Event::default()
                .event("progress")
                .id(s.seq.to_string())
                .json_data(&next)
                .unwrap_or_else(|_| Event::default().event("error").data("encoding"));
            s.last = Some(next);
            return Some((Ok(ev), s));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

// ----- the report -----

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawUpBody {
    /// The price below which the committee finds a bid below cost (法 41(2)), if it found one.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub cost_floor: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedReport {
    pub log_index: u64,
    pub checkpoint: String,
    /// The platform-signed document (`{"body":{"report":…,"signatures":[…]},"key":…,"signature":…}`).
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub version: i64,
    pub drawn_up_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub report: EvaluationReport,
    /// What a member signs (Ed25519), base64: `sealbid.org/evaluation-report/v1\n` and the
    /// report's JSON.
    pub signing_bytes_b64: String,
    /// Hex SHA-256 of the signing bytes.
    pub digest: String,
    #[schema(value_type = Vec<Object>)]
    pub signatures: Vec<MemberSignature>,
    pub logged: Option<LoggedReport>,
}

fn report_view(r: &StoredReport) -> AppResult<ReportView> {
    let report: EvaluationReport = serde_json::from_str(&r.body).map_err(internal)?;
    let bytes = report.signing_bytes().map_err(internal)?;
    use sha2::Digest as _;
    Ok(ReportView {
        version: r.version,
        drawn_up_at: r.drawn_up_at,
        signing_bytes_b64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        digest: hex::encode(sha2::Sha256::digest(&bytes)),
        report,
        signatures: serde_json::from_str(&r.signatures).map_err(internal)?,
        logged: match (&r.logged, r.log_index, &r.checkpoint) {
            (Some(doc), Some(log_index), Some(checkpoint)) => Some(LoggedReport {
                log_index,
                checkpoint: checkpoint.clone(),
                document: serde_json::from_str(doc).map_err(internal)?,
            }),
            _ => None,
        },
    })
}

fn incomplete(what: Vec<String>) -> AppError {
    AppError::Conflict {
        code: "evaluation_incomplete",
        message: format!(
            "the report cannot be drawn up yet: {}",
            what.into_iter().take(10).collect::<Vec<_>>().join("; ")
        ),
        state: None,
    }
}

/// Everything the report says, computed from the stored session.
async fn compute_report(
    state: &AppState,
    t: &Tender,
    cost_floor: Option<Decimal>,
) -> AppResult<EvaluationReport> {
    let c = committee(state, t)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    let opened = opened_bids(state, t).await?;
    let progress = progress_with(state, t, &opened.valid_ids()).await?;
    let mut missing = Vec::new();
    for m in &progress.members {
        if !m.seated {
            missing.push(format!("seat {} ({}) has no account", m.seat, m.member));
        } else if !m.declared {
            missing.push(format!("{} has not declared", m.member));
        } else {
            if progress.criteria > 0 && m.checklists < progress.bids {
                missing.push(format!(
                    "{} has checked {} of {} bids",
                    m.member, m.checklists, progress.bids
                ));
            }
            if progress.scoring && m.sheets < progress.bids {
                missing.push(format!(
                    "{} has scored {} of {} bids",
                    m.member, m.sheets, progress.bids
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(missing));
    }
    let scheme: Scheme = match state.store.get_scheme(t.id).await? {
        Some(doc) => serde_json::from_str(&doc).map_err(internal)?,
        None => return Err(incomplete(vec!["the tender has no scoring scheme".into()])),
    };
    let member_users: HashMap<UserId, &Member> = c
        .members
        .iter()
        .filter_map(|m| m.user.map(|u| (u, m)))
        .collect();
    let checklists: Vec<Checklist> = state
        .store
        .list_qualifications(t.id)
        .await?
        .iter()
        .filter(|s| member_users.contains_key(&s.user_id))
        .map(|s| serde_json::from_str(&s.doc).map_err(internal))
        .collect::<AppResult<_>>()?;
    let rejections = state.store.list_bid_rejections(t.id).await?;
    let criteria = &t.terms.qualification_criteria;
    let mut bids = Vec::new();
    let mut qualification = Vec::new();
    let mut all_grounds: BTreeMap<BidId, Vec<scoring::Rejection>> = BTreeMap::new();
    for (id, b) in opened.valid() {
        let Some(price) = &b.price else { continue };
        let bidder = OrgId::parse(&b.bidder).map_err(internal)?;
        let mine: Vec<&Checklist> = checklists.iter().filter(|c| c.bid == *id).collect();
        let q = conclude(&mine, criteria, c.size());
        let paid = b.deposit.paid.parse::<Decimal>().unwrap_or(Decimal::ZERO);
        let collusion =
            rejections
                .iter()
                .find(|r| r.bidder_org == bidder)
                .map(|r| ConfirmedCollusion {
                    alert: r.alert_id,
                    detail: format!("confirmed by supervision on {}", r.ground),
                });
        let facts = RejectionFacts::from_terms(&t.terms, cost_floor, paid, collusion);
        let mut eb = EvaluatedBid {
            bid: *id,
            bidder,
            price: price.total,
            log_index: b.log_index,
            qualification: q.clone(),
            rejected: None,
        };
        let grounds = eb.apply_rejections(&facts);
        all_grounds.insert(*id, grounds.clone());
        qualification.push(serde_json::json!({
            "bid": id,
            "bidder": b.bidder,
            "bidder_name": b.bidder_name,
            "conclusion": q,
            "grounds": grounds,
            "checklists": mine,
        }));
        bids.push(eb);
    }
    let invalid_at_opening: Vec<serde_json::Value> = opened
        .bids
        .iter()
        .filter_map(|(id, b)| match &b.outcome {
            BidOutcome::Invalid { code, reason } => Some(serde_json::json!({
                "bid": id, "bidder": b.bidder, "bidder_name": b.bidder_name,
                "code": code, "reason": reason,
            })),
            BidOutcome::Valid => None,
        })
        .collect();
    let sheets: Vec<ScoreSheet> = state
        .store
        .list_sheets(t.id)
        .await?
        .iter()
        .filter(|s| member_users.contains_key(&s.user_id))
        .filter(|s| bids.iter().any(|b| b.bid == s.bid_id))
        .map(|s| serde_json::from_str(&s.doc).map_err(internal))
        .collect::<AppResult<_>>()?;
    let size = c.size();
    let outcome = scoring::evaluate(&scheme, &bids, &sheets, size, &ScoringRules::default())
        .map_err(|e| match e {
            ScoringError::MissingSheets { .. } | ScoringError::EvaluatorCount { .. } => {
                incomplete(vec![e.to_string()])
            }
            e => AppError::invalid(e.code(), "scores", e.to_string()),
        })?;
    let explanations: Vec<serde_json::Value> = state
        .store
        .list_explanations(t.id)
        .await?
        .iter()
        .filter(|e| {
            outcome
                .outliers
                .iter()
                .any(|o| o.evaluator == e.user_id && o.bid == e.bid_id)
        })
        .map(|e| {
            serde_json::json!({
                "member": member_users.get(&e.user_id).map(|m| m.member.clone()),
                "evaluator": e.user_id,
                "bid": e.bid_id,
                "text": e.doc,
                "at": e.submitted_at,
            })
        })
        .collect();
    let mut outcome_json = serde_json::to_value(&outcome).map_err(internal)?;
    outcome_json["explanations"] = serde_json::Value::Array(explanations);
    let sheets_json: Vec<serde_json::Value> = sheets
        .iter()
        .map(|s| {
            serde_json::json!({
                "member": member_users.get(&s.evaluator).map(|m| m.member.clone()),
                "evaluator": s.evaluator,
                "bid": s.bid,
                "scores": s.scores,
            })
        })
        .collect();
    Ok(EvaluationReport {
        version: 1,
        tender: t.id.to_string(),
        tender_code: t.code.as_str().to_string(),
        opening_log_index: opened.log_index,
        opening_record_digest: opened.digest.clone(),
        drawn_up_at: state.now(),
        members: c
            .members
            .iter()
            .map(|m| ReportMember {
                seat: m.seat,
                member: m.member.clone(),
                name: m.name.clone(),
                representative: m.representative,
                user: m.user.map(|u| u.to_string()).unwrap_or_default(),
            })
            .collect(),
        scheme: serde_json::to_value(&scheme).map_err(internal)?,
        qualification: serde_json::json!({
            "criteria": criteria,
            "bids": qualification,
            "invalid_at_opening": invalid_at_opening,
            "cost_floor": cost_floor,
        }),
        sheets: serde_json::Value::Array(sheets_json),
        outcome: outcome_json,
    })
}

/// Draws up the evaluation report (a declared member: the chair) once every member has declared,
/// checked and scored every bid. While nobody has signed it, drawing it up again replaces it (e.g.
/// with a cost floor); from then on scores and checklists are frozen.
#[utoipa::path(
    post,
    path = "/tenders/{id}/evaluation/report",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = DrawUpBody,
    responses(
        (status = 201, description = "Drawn up", body = ReportView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not everyone has finished, or members have signed", body = ErrorBody),
        (status = 422, description = "The scores do not evaluate", body = ErrorBody),
    )
)]
pub async fn draw_up_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<DrawUpBody>,
) -> AppResult<(axum::http::StatusCode, AppJson<ReportView>)> {
    let t = load(&state, id).await?;
    declared_member(&state, &user.user, &t).await?;
    let cost_floor = body.cost_floor;
    if cost_floor.is_some_and(|c| c <= Decimal::ZERO) {
        return Err(AppError::invalid(
            "invalid_cost_floor",
            "cost_floor",
            "the cost floor is a positive amount in yuan",
        ));
    }
    let existing = state.store.get_report(id).await?;
    let expected = match &existing {
        None => None,
        Some(r) => {
            let sigs: Vec<MemberSignature> =
                serde_json::from_str(&r.signatures).map_err(internal)?;
            if !sigs.is_empty() {
                return Err(AppError::Conflict {
                    code: "report_signed",
                    message: "members have signed the report: it can no longer be drawn up again"
                        .into(),
                    state: Some(t.state),
                });
            }
            Some(r.version)
        }
    };
    let report = compute_report(&state, &t, cost_floor).await?;
    let body = serde_json::to_string(&report).map_err(internal)?;
    let stored = StoredReport {
        tender_id: id,
        version: expected.map_or(1, |v| v + 1),
        drawn_up_at: report.drawn_up_at,
        body,
        signatures: "[]".into(),
        logged: None,
        log_index: None,
        checkpoint: None,
    };
    let view = report_view(&stored)?;
    let audit = AuditEvent::new(
        Some(user.user.id),
        stored.drawn_up_at,
        "evaluation.report",
        "tender",
        id,
    )
    .with_change::<(), _>(
        None,
        Some(&serde_json::json!({"version": stored.version, "digest": view.digest})),
    );
    state
        .store
        .save_report(ReportWrite {
            report: &stored,
            expected_version: expected,
            log: None,
            audit: &audit,
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, AppJson(view)))
}

/// The report: the members, the trading centre, the supervisors and the tenderee; anyone once the
/// result is published.
#[utoipa::path(
    get,
    path = "/tenders/{id}/evaluation/report",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The report", body = ReportView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tender, or no report yet", body = ErrorBody),
    )
)]
pub async fn get_report(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<ReportView>> {
    let t = load(&state, id).await?;
    ensure_may_read_report(&state, user.as_ref().map(|u| &u.user), &t).await?;
    let r = state
        .store
        .get_report(id)
        .await?
        .ok_or(AppError::NotFound("evaluation report"))?;
    Ok(AppJson(report_view(&r)?))
}

/// The first outlier flag of the report without an explanation: (member, bid).
fn unexplained_outlier(report: &EvaluationReport) -> Option<(String, String)> {
    let flags = report.outcome["outliers"].as_array()?;
    let explained = report.outcome["explanations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    flags.iter().find_map(|f| {
        let done = explained
            .iter()
            .any(|e| e["evaluator"] == f["evaluator"] && e["bid"] == f["bid"]);
        if done {
            return None;
        }
        let member = report
            .members
            .iter()
            .find(|m| serde_json::Value::String(m.user.clone()) == f["evaluator"])
            .map_or_else(|| f["evaluator"].to_string(), |m| m.member.clone());
        Some((member, f["bid"].as_str().unwrap_or_default().to_string()))
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplanationBody {
    #[schema(value_type = String, format = Uuid)]
    pub bid: BidId,
    /// Why the member's total differs so much from the others' (1–2000 characters).
    pub text: String,
}

/// A member explains a total the report flags as an outlier (their total on a bid strays from the
/// others' median by more than the rule allows). Then the report is drawn up again with it;
/// nobody can sign while a flag is unexplained.
#[utoipa::path(
    post,
    path = "/tenders/{id}/evaluation/explanations",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = ExplanationBody,
    responses(
        (status = 204, description = "Stored"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender, or no report yet", body = ErrorBody),
        (status = 409, description = "Members have signed the report", body = ErrorBody),
        (status = 422, description = "Not flagged, or no text", body = ErrorBody),
    )
)]
pub async fn explain(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<ExplanationBody>,
) -> AppResult<super::NoContent> {
    let t = load(&state, id).await?;
    let m = declared_member(&state, &user.user, &t).await?;
    let stored = state
        .store
        .get_report(id)
        .await?
        .ok_or(AppError::NotFound("evaluation report"))?;
    let sigs: Vec<MemberSignature> = serde_json::from_str(&stored.signatures).map_err(internal)?;
    if !sigs.is_empty() {
        return Err(AppError::Conflict {
            code: "report_signed",
            message: "members have signed the report: it can no longer change".into(),
            state: Some(t.state),
        });
    }
    let report: EvaluationReport = serde_json::from_str(&stored.body).map_err(internal)?;
    let me = serde_json::Value::String(user.user.id.to_string());
    let bid = serde_json::Value::String(body.bid.to_string());
    let flagged = report.outcome["outliers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|o| o["evaluator"] == me && o["bid"] == bid));
    if !flagged {
        return Err(AppError::invalid(
            "not_an_outlier",
            "bid",
            "the report flags no total of yours on this bid: there is nothing to explain",
        ));
    }
    let text = body.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(AppError::invalid(
            "invalid_text",
            "text",
            "the explanation has 1 to 2000 characters",
        ));
    }
    let now = state.now();
    let audit = AuditEvent::new(Some(user.user.id), now, "evaluation.explain", "tender", id)
        .with_change::<(), _>(
            None,
            Some(&serde_json::json!({"member": m.member, "bid": body.bid})),
        );
    state
        .store
        .put_explanation(
            &sealbid_store::StoredSheet {
                tender_id: id,
                user_id: user.user.id,
                bid_id: body.bid,
                submitted_at: now,
                doc: text,
            },
            &audit,
        )
        .await?;
    Ok(super::NoContent)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// The member's Ed25519 public key (base64), e.g. from `sealbid keygen --signing`.
    #[schema(value_type = String)]
    pub key: VerifyingKey,
    /// Ed25519 signature over the report's signing bytes (base64).
    #[schema(value_type = String)]
    pub signature: Signature,
    /// The report version signed; another current one is a 409.
    pub version: i64,
}

/// A member signs the report. When the last member has signed, the platform countersigns it and
/// appends it to the transparency log (like the opening record).
#[utoipa::path(
    post,
    path = "/tenders/{id}/evaluation/report/signatures",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = SignBody,
    responses(
        (status = 200, description = "Signed", body = ReportView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a declared member", body = ErrorBody),
        (status = 404, description = "No such tender, or no report yet", body = ErrorBody),
        (status = 409, description = "Signed already, or the report changed", body = ErrorBody),
        (status = 422, description = "The signature does not verify", body = ErrorBody),
    )
)]
pub async fn sign_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(body): AppJson<SignBody>,
) -> AppResult<AppJson<ReportView>> {
    let t = load(&state, id).await?;
    let m = declared_member(&state, &user.user, &t).await?;
    let stored = state
        .store
        .get_report(id)
        .await?
        .ok_or(AppError::NotFound("evaluation report"))?;
    if stored.version != body.version {
        return Err(AppError::Conflict {
            code: "version_conflict",
            message: format!(
                "the report was drawn up again (version {} now, you signed {}): read it again and \
                 sign what it says now",
                stored.version, body.version
            ),
            state: None,
        });
    }
    let report: EvaluationReport = serde_json::from_str(&stored.body).map_err(internal)?;
    if let Some((member, bid)) = unexplained_outlier(&report) {
        return Err(AppError::Conflict {
            code: "explanation_missing",
            message: format!(
                "member {member}'s total on bid {bid} strays from the others': they explain it \
                 (POST …/evaluation/explanations), then the report is drawn up again"
            ),
            state: None,
        });
    }
    let mut sigs: Vec<MemberSignature> =
        serde_json::from_str(&stored.signatures).map_err(internal)?;
    if sigs.iter().any(|s| s.member == m.member) {
        return Err(AppError::Conflict {
            code: "already_signed",
            message: "you have signed this report already".into(),
            state: None,
        });
    }
    report
        .verify_member(&body.key, &body.signature)
        .map_err(|_| {
            AppError::invalid(
                "bad_signature",
                "signature",
                "the signature does not verify over this report's signing bytes with this key: \
                 sign `signing_bytes_b64` of the current version (e.g. `sealbid sign-report`)",
            )
        })?;
    let now = state.now();
    sigs.push(MemberSignature {
        member: m.member.clone(),
        signed_at: now,
        key: body.key,
        signature: body.signature,
    });
    let order: HashMap<&str, u32> = report
        .members
        .iter()
        .map(|r| (r.member.as_str(), r.seat))
        .collect();
    sigs.sort_by_key(|s| order.get(s.member.as_str()).copied().unwrap_or(u32::MAX));
    let complete = report
        .members
        .iter()
        .all(|r| sigs.iter().any(|s| s.member == r.member));
    let mut next = StoredReport {
        version: stored.version + 1,
        signatures: serde_json::to_string(&sigs).map_err(internal)?,
        ..stored.clone()
    };
    let mut leaf = None;
    if complete {
        let signed_report = SignedReport {
            report,
            signatures: sigs,
        };
        signed_report.verify().map_err(internal)?;
        let logged = Signed::sign(signed_report, &state.sealing.signing).map_err(internal)?;
        next.logged =
            Some(String::from_utf8(logged.to_json_bytes().map_err(internal)?).map_err(internal)?);
        leaf = Some(
            String::from_utf8(
                sealbid_seal::report::log_entry(&logged)
                    .and_then(|e| e.to_leaf())
                    .map_err(internal)?,
            )
            .map_err(internal)?,
        );
    }
    let audit = AuditEvent::new(
        Some(user.user.id),
        now,
        if complete {
            "evaluation.report_logged"
        } else {
            "evaluation.sign"
        },
        "tender",
        id,
    )
    .with_change::<(), _>(
        None,
        Some(&serde_json::json!({"member": m.member, "key": body.key.to_string()})),
    );
    let appended = state
        .store
        .save_report(ReportWrite {
            report: &next,
            expected_version: Some(stored.version),
            log: leaf.map(|entry| LogAppend {
                tender_id: id,
                kind: "evaluation_report",
                entry,
                at: now,
                signer: &state.sealing.log,
                closing: false,
            }),
            audit: &audit,
        })
        .await?;
    if let Some(a) = appended {
        next.log_index = Some(a.index);
        next.checkpoint = Some(a.checkpoint);
    }
    Ok(AppJson(report_view(&next)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn item(criterion: usize, pass: bool, reason: &str) -> ChecklistItem {
        ChecklistItem {
            criterion,
            pass,
            reason: reason.into(),
        }
    }

    fn criteria() -> Vec<String> {
        vec!["licence".into(), "turnover".into()]
    }

    fn code(r: AppResult<()>) -> String {
        match r {
            Err(AppError::Invalid { code, message, .. }) => format!("{code}: {message}"),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_checklist_covers_every_criterion_once_with_reasons_for_failures() {
        let c = criteria();
        validate_checklist(&[item(1, true, ""), item(0, false, "expired")], &c).unwrap();
        assert!(code(validate_checklist(&[item(0, true, "")], &c)).contains("criterion 1"));
        assert!(code(validate_checklist(
            &[item(0, true, ""), item(0, true, ""), item(1, true, "")],
            &c
        ))
        .contains("twice"));
        assert!(code(validate_checklist(
            &[item(0, true, ""), item(2, true, "")],
            &c
        ))
        .contains("does not exist"));
        assert!(code(validate_checklist(
            &[item(0, false, "  "), item(1, true, "")],
            &c
        ))
        .contains("give the reason"));
        let long = "x".repeat(1001);
        assert!(code(validate_checklist(
            &[item(0, false, &long), item(1, true, "")],
            &c
        ))
        .contains("1000"));
        // No criteria: an empty checklist.
        validate_checklist(&[], &[]).unwrap();
    }

    fn checklist(member: &str, items: Vec<ChecklistItem>) -> Checklist {
        Checklist {
            evaluator: UserId::new(),
            member: member.into(),
            bid: BidId::new(),
            items,
        }
    }

    #[test]
    fn the_committee_fails_a_bid_only_by_a_majority_of_all_members() {
        let c = criteria();
        let fail0 = |m: &str| checklist(m, vec![item(0, false, "expired"), item(1, true, "")]);
        let pass = |m: &str| checklist(m, vec![item(0, true, ""), item(1, true, "")]);
        let two = [fail0("a"), fail0("b"), pass("c"), pass("d"), pass("e")];
        assert_eq!(
            conclude(&two.iter().collect::<Vec<_>>(), &c, 5),
            Qualification::Pass
        );
        let three = [fail0("a"), fail0("b"), fail0("c"), pass("d"), pass("e")];
        assert_eq!(
            conclude(&three.iter().collect::<Vec<_>>(), &c, 5),
            Qualification::Fail {
                criterion: "licence".into(),
                reason: "expired; expired; expired".into()
            }
        );
        // Missing checklists count as passes, never as failures: three of seven is no majority.
        assert_eq!(
            conclude(&three.iter().take(3).collect::<Vec<_>>(), &c, 7),
            Qualification::Pass
        );
        // The first criterion failed by a majority is the one recorded.
        let both = |m: &str| checklist(m, vec![item(0, false, "l"), item(1, false, "t")]);
        let all = [both("a"), both("b"), both("c")];
        assert!(matches!(
            conclude(&all.iter().collect::<Vec<_>>(), &c, 5),
            Qualification::Fail { criterion, .. } if criterion == "licence"
        ));
    }
}
