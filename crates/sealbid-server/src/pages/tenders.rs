//! The tender pages: the list, a tender's page with its actions, the form for new tenders and
//! drafts, the actions (submit, cancel, approve, return) as form posts, and the upload of tender
//! documents as a multipart form (through the API's one upload path, `api::documents`).
//!
//! Each action follows the one pattern the API uses too: load the tender, check the policy,
//! apply the domain transition to a copy, then `update_tender` with the version read and an
//! audit event carrying the before and after images.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::{
    Amendment, Problem, Question, Tender, TenderError, TenderState, TermsPatch,
};
use sealbid_domain::TenderId;
use sealbid_store::{StoreError, TenderFilter};
use serde::Deserialize;

use super::form::{self, FormView, TenderForm};
use super::sealed::{self, SealingView};
use super::{error_page, login_redirect, message_of, problems_of, render, view};
use super::{Nav, ProblemView, Viewer};
use crate::api::documents::{self, DocumentAdded};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::policy;
use crate::state::AppState;

pub const PAGE_SIZE: u32 = 20;
/// Deepest page: listings merged from several sets read `page × PAGE_SIZE` rows of each.
const MAX_PAGE: u32 = 250;

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    state: String,
    q: String,
    page: String,
}

pub struct TenderRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub category: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub estimated_price: String,
    pub deadline: String,
    pub countdown: Option<String>,
    pub overdue: bool,
}

impl TenderRow {
    fn new(t: &Tender, now: DateTime<Utc>) -> TenderRow {
        let open = matches!(t.state, TenderState::Published);
        TenderRow {
            id: t.id.to_string(),
            code: t.code.to_string(),
            title: t.terms.title.clone(),
            category: view::category_label(t.terms.category),
            state: t.state.as_str(),
            state_label: view::state_label(t.state),
            estimated_price: view::yuan(t.terms.estimated_price.amount()),
            deadline: view::time(t.terms.bid_deadline),
            countdown: open
                .then(|| view::countdown(now, t.terms.bid_deadline))
                .flatten(),
            overdue: t.review_overdue(now),
        }
    }
}

pub struct StateOpt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "tenders.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<TenderRow>,
    states: Vec<StateOpt>,
    q: String,
    total: u64,
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    filtered: bool,
}

/// The listings that together make up what `user` may see (`policy::listings`, the same rule
/// as `policy::can_see`), narrowed to a state and a text, and the overlap between them (a user
/// who is both a tenderee and a centre officer would otherwise count their own tenders under
/// review twice).
pub struct Listing {
    pub sets: Vec<TenderFilter>,
    pub overlap: Option<TenderFilter>,
}

pub fn visible_listing(
    user: Option<&User>,
    state: Option<TenderState>,
    text: Option<String>,
) -> Listing {
    let sets: Vec<TenderFilter> = policy::listings(user)
        .into_iter()
        .filter_map(|l| {
            let states = match state {
                None => l.states,
                Some(s) if l.states.is_empty() || l.states.contains(&s) => vec![s],
                Some(_) => return None,
            };
            Some(TenderFilter {
                scope: l.scope,
                states,
                text: text.clone(),
                public_or_org: l.public_or_org,
                ..TenderFilter::default()
            })
        })
        .collect();
    let own_org = user.filter(|u| u.has(Role::Tenderee)).and_then(|u| u.org);
    let overlap = match (own_org, sets.as_slice()) {
        (Some(org), [_, staff, ..]) => Some(TenderFilter {
            org: Some(org),
            ..staff.clone()
        }),
        _ => None,
    };
    Listing { sets, overlap }
}

/// One page of a listing, newest first, and the total.
pub async fn fetch_page(
    state: &AppState,
    listing: &Listing,
    offset: u32,
    limit: u32,
) -> AppResult<(Vec<Tender>, u64)> {
    if let [only] = listing.sets.as_slice() {
        let page = TenderFilter {
            limit,
            offset,
            ..only.clone()
        };
        let rows = state.store.list_tenders(&page).await?;
        let total = state.store.count_tenders(only).await?;
        return Ok((rows, total));
    }
    // Several listings: merge their first offset+limit rows each.
    let mut all: Vec<Tender> = Vec::new();
    let mut total: u64 = 0;
    for f in &listing.sets {
        let head = TenderFilter {
            limit: offset.saturating_add(limit),
            offset: 0,
            ..f.clone()
        };
        all.extend(state.store.list_tenders(&head).await?);
        total += state.store.count_tenders(f).await?;
    }
    if let Some(o) = &listing.overlap {
        total = total.saturating_sub(state.store.count_tenders(o).await?);
    }
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    all.dedup_by_key(|t| t.id);
    let rows = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok((rows, total))
}

fn list_url(state: &str, q: &str, page: u32) -> String {
    let mut parts = Vec::new();
    if !state.is_empty() {
        parts.push(format!("state={}", view::url_encode(state)));
    }
    if !q.is_empty() {
        parts.push(format!("q={}", view::url_encode(q)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/tenders".to_string()
    } else {
        format!("/tenders?{}", parts.join("&"))
    }
}

pub async fn list(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let nav = Nav::new(user.as_ref(), "tenders");
    let q = query.map(|Query(q)| q).unwrap_or_default();
    match list_page(&state, user.as_ref(), &q, nav.clone()).await {
        Ok(page) => render(StatusCode::OK, &page, &nav),
        Err(e) => error_page(e, &nav),
    }
}

async fn list_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    q: &ListQuery,
    nav: Nav,
) -> AppResult<ListPage> {
    let wanted = TenderState::parse(q.state.trim());
    let state_param = wanted.map(|s| s.as_str()).unwrap_or("");
    let text: String = q.q.trim().chars().take(100).collect();
    let page = q.page.trim().parse::<u32>().unwrap_or(1).clamp(1, MAX_PAGE);
    let user = user.map(|u| &u.user);
    let listing = visible_listing(user, wanted, (!text.is_empty()).then(|| text.clone()));
    let (tenders, total) = fetch_page(state, &listing, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let now = state.now();
    let rows = tenders
        .iter()
        .filter(|t| policy::can_see(user, t))
        .map(|t| TenderRow::new(t, now))
        .collect();
    let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(MAX_PAGE)
        .clamp(1, MAX_PAGE);
    let states = TenderState::ALL
        .into_iter()
        .map(|s| StateOpt {
            value: s.as_str(),
            label: view::state_label(s),
            selected: Some(s) == wanted,
        })
        .collect();
    Ok(ListPage {
        nav,
        rows,
        states,
        total,
        page,
        pages,
        prev_url: (page > 1).then(|| list_url(state_param, &text, page - 1)),
        next_url: (page < pages).then(|| list_url(state_param, &text, page + 1)),
        filtered: wanted.is_some() || !text.is_empty(),
        q: text,
    })
}

// ---------------------------------------------------------------------------------------------
// A tender's page

pub struct TimetableRow {
    pub label: String,
    pub at: String,
    pub iso: String,
}

pub struct DocView {
    pub name: String,
    pub sha256: String,
    pub size: String,
    /// Where the file is downloaded (the API, which takes the session cookie too).
    pub url: String,
}

pub struct TenderView {
    pub id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    pub category: &'static str,
    pub mandatory: bool,
    pub state: &'static str,
    pub state_label: &'static str,
    pub hall: String,
    pub org: String,
    pub estimated_price: String,
    pub ceiling_price: Option<String>,
    pub bid_deposit: String,
    pub deadline: String,
    pub deadline_iso: String,
    pub opening: String,
    pub countdown: Option<String>,
    pub bidding_open: bool,
    pub review_due: Option<String>,
    pub review_countdown: Option<String>,
    pub overdue: bool,
    pub overdue_by: String,
    pub method: &'static str,
    pub committee: String,
    pub criteria: Vec<String>,
    pub documents: Vec<DocView>,
    pub timetable: Vec<TimetableRow>,
    pub last_return_at: Option<String>,
    pub last_return: Vec<String>,
    pub end_reason: Option<String>,
}

pub struct AmendmentView {
    pub at: String,
    pub summary: String,
    pub changes: Vec<String>,
    pub deadline_note: Option<String>,
}

pub struct QuestionView {
    pub asked_at: String,
    pub text: String,
    pub answer: Option<AnswerView>,
}

pub struct AnswerView {
    pub at: String,
    pub text: String,
    pub affects_bids: bool,
    pub new_deadline: Option<String>,
}

/// What the viewer may do with the tender now.
#[derive(Default)]
pub struct Actions {
    pub edit: bool,
    pub submit: bool,
    pub cancel: bool,
    pub review: bool,
    /// Upload documents: shown with the documents, not among the actions.
    pub upload: bool,
    /// The bidder's page of this tender (a bidder of an organisation, once published).
    pub bid: bool,
    /// Whether bids are taken now (the bidder's link says "submit" rather than "your bids").
    pub bidding_open: bool,
}

impl Actions {
    fn any(&self) -> bool {
        self.edit || self.submit || self.cancel || self.review || self.bid
    }
}

#[derive(Template)]
#[template(path = "tender.html")]
struct DetailPage {
    nav: Nav,
    t: TenderView,
    amendments: Vec<AmendmentView>,
    questions: Vec<QuestionView>,
    actions: Actions,
    flash: Option<&'static str>,
    error: Option<String>,
    error_problems: Vec<ProblemView>,
    return_text: String,
    cancel_text: String,
    /// The largest document an upload may carry, for people.
    max_document: String,
    /// Committee, policy, sealed-bid count, closing checkpoint and opening record.
    sealing: Option<SealingView>,
    /// The evaluation pages the viewer may open.
    evaluation: super::evaluation::EvaluationLinks,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    done: String,
}

fn flash_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "created" => {
            "Draft saved. Check it, then submit it to the trading centre for review. 草稿已保存"
        }
        "saved" => "Changes saved. 修改已保存",
        "submitted" => {
            "Submitted for review: the trading centre answers within 3 working days. 已提交审核"
        }
        "approved" => "Approved: the tender is published. 已审核通过并发布",
        "returned" => "Returned to the tenderee with the problems listed. 已退回修改",
        "cancelled" => "The tender is cancelled. 已终止",
        "document_added" => "Document added. 招标文件已上传",
        "document_amended" => {
            "Document added and published as an amendment; see the amendments for any change of the bid deadline. 招标文件已上传并发布变更公告"
        }
        _ => return None,
    })
}

pub(super) fn parse_id(id: &str) -> AppResult<TenderId> {
    TenderId::parse(id.trim()).map_err(|_| AppError::NotFound("tender"))
}

/// The tender if it exists and the viewer may know it does (404 otherwise).
pub(super) async fn load_visible(
    state: &AppState,
    user: Option<&User>,
    id: &str,
) -> AppResult<Tender> {
    let id = parse_id(id)?;
    let t = state
        .store
        .get_tender(id)
        .await?
        .ok_or(AppError::NotFound("tender"))?;
    policy::ensure_visible(user, &t)?;
    Ok(t)
}

fn cancellable(s: TenderState) -> bool {
    matches!(
        s,
        TenderState::Draft
            | TenderState::UnderReview
            | TenderState::Published
            | TenderState::Closed
            | TenderState::Opened
            | TenderState::Evaluating
    )
}

fn actions_for(user: Option<&User>, t: &Tender, now: DateTime<Utc>) -> Actions {
    let Some(u) = user else {
        return Actions::default();
    };
    let owner = policy::ensure_owner(u, t).is_ok();
    let draft = t.state == TenderState::Draft;
    Actions {
        edit: owner && draft,
        submit: owner && draft,
        cancel: owner && cancellable(t.state),
        review: t.state == TenderState::UnderReview && policy::ensure_reviewer(u, t).is_ok(),
        upload: owner
            && (draft || (t.state == TenderState::Published && now < t.terms.bid_deadline)),
        bid: super::bids::is_bidder(Some(u))
            && t.state.is_public()
            && t.state != TenderState::Cancelled,
        bidding_open: crate::sealing::ensure_bidding_open(t, now).is_ok(),
    }
}

fn patch_lines(p: &TermsPatch) -> Vec<String> {
    let label = view::field_label;
    let mut out = Vec::new();
    if let Some(v) = &p.title {
        out.push(format!("{}: {v}", label("title")));
    }
    if let Some(v) = &p.description {
        let short: String = v.chars().take(200).collect();
        let more = if v.chars().count() > 200 { "…" } else { "" };
        out.push(format!("{}: {short}{more}", label("description")));
    }
    if let Some(v) = &p.estimated_price {
        out.push(format!(
            "{}: {}",
            label("estimated_price"),
            view::yuan(v.amount())
        ));
    }
    if let Some(v) = &p.ceiling_price {
        out.push(format!(
            "{}: {}",
            label("ceiling_price"),
            view::yuan(v.amount())
        ));
    }
    if let Some(v) = &p.bid_deposit {
        out.push(format!(
            "{}: {}",
            label("bid_deposit"),
            view::yuan(v.amount())
        ));
    }
    if let Some(v) = &p.documents {
        out.push(format!("{}: {} file(s)", label("documents"), v.len()));
    }
    if let Some(v) = &p.bid_deadline {
        out.push(format!("{}: {}", label("bid_deadline"), view::time(*v)));
    }
    if let Some(v) = &p.evaluation_method {
        out.push(format!(
            "{}: {}",
            label("evaluation_method"),
            view::method_label(*v)
        ));
    }
    if let Some(v) = &p.qualification_criteria {
        out.push(format!(
            "{}: {}",
            label("qualification_criteria"),
            v.join("; ")
        ));
    }
    out
}

fn amendment_view(a: &Amendment) -> AmendmentView {
    AmendmentView {
        at: view::time(a.at),
        summary: a.summary.clone(),
        changes: patch_lines(&a.changes),
        deadline_note: (a.new_deadline != a.previous_deadline).then(|| {
            let why = if a.deadline_pushed {
                " (moved out automatically: changes need at least 15 days before the deadline, 法 23)"
            } else {
                ""
            };
            format!(
                "Bid deadline moved from {} to {}{why}",
                view::time(a.previous_deadline),
                view::time(a.new_deadline)
            )
        }),
    }
}

/// Questions as everyone sees them: never who asked. Unanswered questions only reach the
/// tenderee (who must answer them) and admins.
fn question_views(qs: &[Question], sees_unanswered: bool) -> Vec<QuestionView> {
    qs.iter()
        .filter(|q| q.answer.is_some() || sees_unanswered)
        .map(|q| QuestionView {
            asked_at: view::time(q.asked_at),
            text: q.text.clone(),
            answer: q.answer.as_ref().map(|a| AnswerView {
                at: view::time(a.at),
                text: a.text.clone(),
                affects_bids: a.affects_bids,
                new_deadline: a.new_deadline.map(view::time),
            }),
        })
        .collect()
}

async fn tender_view(state: &AppState, t: &Tender, now: DateTime<Utc>) -> AppResult<TenderView> {
    let org = state
        .store
        .get_org(t.org)
        .await?
        .map(|o| o.name)
        .unwrap_or_else(|| t.org.to_string());
    let hall = state
        .store
        .list_halls()
        .await?
        .into_iter()
        .find(|h| h.division == t.hall)
        .map(|h| format!("{} ({})", h.name, h.division.as_str()))
        .unwrap_or_else(|| t.hall.as_str().to_string());
    let terms = &t.terms;
    let overdue = t.review_overdue(now);
    Ok(TenderView {
        id: t.id.to_string(),
        code: t.code.to_string(),
        title: terms.title.clone(),
        description: terms.description.clone(),
        category: view::category_label(terms.category),
        mandatory: terms.mandatory,
        state: t.state.as_str(),
        state_label: view::state_label(t.state),
        hall,
        org,
        estimated_price: view::yuan(terms.estimated_price.amount()),
        ceiling_price: terms.ceiling_price.map(|m| view::yuan(m.amount())),
        bid_deposit: view::yuan(terms.bid_deposit.amount()),
        deadline: view::time(terms.bid_deadline),
        deadline_iso: view::iso(terms.bid_deadline),
        opening: view::time(terms.opening_time),
        countdown: view::countdown(now, terms.bid_deadline),
        bidding_open: t.state == TenderState::Published && now < terms.bid_deadline,
        review_due: (t.state == TenderState::UnderReview)
            .then_some(t.review_due)
            .flatten()
            .map(view::time),
        review_countdown: (t.state == TenderState::UnderReview)
            .then_some(t.review_due)
            .flatten()
            .and_then(|due| view::countdown(now, due)),
        overdue,
        overdue_by: match t.review_due {
            Some(due) if overdue => view::elapsed(due, now),
            _ => String::new(),
        },
        method: view::method_label(terms.evaluation_method),
        committee: format!(
            "any {} of {} members can open the bids",
            terms.committee.threshold, terms.committee.members
        ),
        criteria: terms.qualification_criteria.clone(),
        documents: terms
            .documents
            .iter()
            .map(|d| DocView {
                name: d.name.clone(),
                sha256: d.sha256.clone(),
                size: view::size(d.size),
                url: documents::download_path(t.id, &d.sha256),
            })
            .collect(),
        timetable: t
            .timetable()
            .into_iter()
            .map(|(k, at)| TimetableRow {
                label: view::timetable_label(k),
                at: view::time(at),
                iso: view::iso(at),
            })
            .collect(),
        last_return_at: t.last_return.as_ref().map(|r| view::time(r.at)),
        last_return: t
            .last_return
            .as_ref()
            .map(|r| r.problems.clone())
            .unwrap_or_default(),
        end_reason: t.end_reason.clone(),
    })
}

/// Everything the page of a tender shows, with an optional error of a failed action.
struct DetailExtras {
    flash: Option<&'static str>,
    error: Option<AppError>,
    return_text: String,
    cancel_text: String,
    /// This server's URL as the browser reached it, for command lines to copy.
    base: Option<String>,
}

async fn detail_response(
    state: &AppState,
    user: Option<&CurrentUser>,
    t: &Tender,
    extras: DetailExtras,
) -> Response {
    let nav = Nav::new(user, "tenders");
    let u = user.map(|c| &c.user);
    let now = state.now();
    let built: AppResult<DetailPage> = async {
        let sees_unanswered =
            u.is_some_and(|u| policy::ensure_owner(u, t).is_ok() || u.has(Role::Admin));
        let amendments = state.store.list_amendments(t.id).await?;
        let questions = state.store.list_questions(t.id).await?;
        let status_error = extras.error.as_ref();
        Ok(DetailPage {
            nav: nav.clone(),
            t: tender_view(state, t, now).await?,
            amendments: amendments.iter().map(amendment_view).collect(),
            questions: question_views(&questions, sees_unanswered),
            actions: actions_for(u, t, now),
            flash: extras.flash,
            error: status_error.map(message_of),
            error_problems: status_error.map(problems_of).unwrap_or_default(),
            return_text: extras.return_text,
            cancel_text: extras.cancel_text,
            max_document: view::size(state.settings.max_document_bytes),
            sealing: sealed::sealing_view(state, t, extras.base.as_deref()).await?,
            evaluation: super::evaluation::links(state, u, t).await?,
        })
    }
    .await;
    match built {
        Ok(page) => {
            let status = extras
                .error
                .as_ref()
                .map(AppError::status)
                .unwrap_or(StatusCode::OK);
            render(status, &page, &nav)
        }
        Err(e) => error_page(e, &nav),
    }
}

pub async fn detail(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<DetailQuery>, QueryRejection>,
) -> Response {
    let nav = Nav::new(user.as_ref(), "tenders");
    let done = query.map(|Query(q)| q.done).unwrap_or_default();
    match load_visible(&state, user.as_ref().map(|u| &u.user), &id).await {
        Ok(t) => {
            let extras = DetailExtras {
                flash: flash_text(&done),
                error: None,
                return_text: String::new(),
                cancel_text: String::new(),
                base: sealed::server_base(&state, &headers),
            };
            detail_response(&state, user.as_ref(), &t, extras).await
        }
        Err(e) => error_page(e, &nav),
    }
}

// ---------------------------------------------------------------------------------------------
// Actions

/// One kind of transition as a form post.
struct Step {
    /// Who may take it (after the visibility check).
    check: fn(&User, &Tender) -> AppResult<()>,
    /// The audit action, e.g. `tender.submit`.
    action: &'static str,
    /// The `done` flag of the page it redirects to.
    done: &'static str,
    /// What the person typed (return problems, cancel reason), shown again on a refusal.
    typed: (String, String),
}

/// Runs one transition with the common pattern; on a refusal, the tender's page again with the
/// reason (and the text the person typed).
async fn transition(
    state: &AppState,
    user: Option<CurrentUser>,
    id: &str,
    step: Step,
    apply: impl FnOnce(&mut Tender, DateTime<Utc>, &User) -> Result<(), TenderError>,
) -> Response {
    let Step {
        check,
        action,
        done,
        typed,
    } = step;
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}", id.trim()));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let before = match load_visible(state, Some(&user.user), id).await {
        Ok(t) => t,
        Err(e) => return error_page(e, &nav),
    };
    if let Err(e) = check(&user.user, &before) {
        return error_page(e, &nav);
    }
    let now = state.now();
    let mut t = before.clone();
    let refused = |e: AppError, shown: &Tender| {
        let extras = DetailExtras {
            flash: None,
            error: Some(e),
            return_text: typed.0.clone(),
            cancel_text: typed.1.clone(),
            base: None,
        };
        (extras, shown.clone())
    };
    let outcome = match apply(&mut t, now, &user.user) {
        Err(e) => Err(refused(e.into(), &before)),
        Ok(()) => {
            let audit = AuditEvent::new(Some(user.user.id), now, action, "tender", t.id)
                .with_change(Some(&before), Some(&t));
            let saved = if action == "tender.publish" {
                // Publication logs the signed sealing policy with the tender's change.
                match crate::sealing::publish(state, &before, &t, &audit).await {
                    Ok(()) => Ok(()),
                    Err(AppError::Conflict {
                        code: "version_conflict",
                        ..
                    }) => Err(StoreError::VersionConflict {
                        expected: before.version,
                        found: before.version,
                    }),
                    Err(e) => {
                        return detail_response(state, Some(&user), &before, refused(e, &before).0)
                            .await
                    }
                }
            } else {
                state.store.update_tender(&t, before.version, &audit).await
            };
            match saved {
                Ok(()) => Ok(()),
                Err(e @ StoreError::VersionConflict { .. }) => {
                    // Show the tender as it is now, with the conflict explained — if the user
                    // may still see it (someone may have returned it to a private draft).
                    match state.store.get_tender(before.id).await {
                        Ok(Some(current)) if policy::can_see(Some(&user.user), &current) => {
                            Err(refused(e.into(), &current))
                        }
                        _ => return error_page(e.into(), &nav),
                    }
                }
                Err(e) => return error_page(e.into(), &nav),
            }
        }
    };
    match outcome {
        Ok(()) => Redirect::to(&format!("/tenders/{}?done={done}", t.id)).into_response(),
        Err((extras, shown)) => detail_response(state, Some(&user), &shown, extras).await,
    }
}

pub async fn submit(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> Response {
    let calendar = state.calendar.clone();
    let rules = state.rules.clone();
    transition(
        &state,
        user,
        &id,
        Step {
            check: policy::ensure_owner,
            action: "tender.submit",
            done: "submitted",
            typed: (String::new(), String::new()),
        },
        move |t, now, _| t.submit_for_review(now, &calendar, &rules),
    )
    .await
}

pub async fn approve(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> Response {
    let rules = state.rules.clone();
    transition(
        &state,
        user,
        &id,
        Step {
            check: policy::ensure_reviewer,
            action: "tender.publish",
            done: "approved",
            typed: (String::new(), String::new()),
        },
        move |t, now, _| t.approve(now, &rules),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReturnForm {
    problems: String,
}

pub async fn return_for_changes(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<ReturnForm>, FormRejection>,
) -> Response {
    let text = match form {
        Ok(Form(f)) => f.problems,
        Err(e) => {
            return error_page(
                AppError::InvalidBody(e.body_text()),
                &Nav::new(user.as_ref(), "tenders"),
            )
        }
    };
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    transition(
        &state,
        user,
        &id,
        Step {
            check: policy::ensure_reviewer,
            action: "tender.return",
            done: "returned",
            typed: (text, String::new()),
        },
        move |t, now, by| t.return_for_changes(now, by.id, lines),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CancelForm {
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<CancelForm>, FormRejection>,
) -> Response {
    let reason = match form {
        Ok(Form(f)) => f.reason,
        Err(e) => {
            return error_page(
                AppError::InvalidBody(e.body_text()),
                &Nav::new(user.as_ref(), "tenders"),
            )
        }
    };
    let r = reason.clone();
    transition(
        &state,
        user,
        &id,
        Step {
            check: policy::ensure_owner,
            action: "tender.cancel",
            done: "cancelled",
            typed: (String::new(), reason),
        },
        move |t, now, _| t.cancel(now, &r),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Documents

/// Room for the multipart framing around the file (boundaries, part headers, a stray small
/// field): the body as a whole may exceed the document limit by this much.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// Uploads a tender document from the page's form (`multipart/form-data`, the file in the field
/// `file`, named as the browser names it) through `api::documents::add_document`, the one upload
/// path, and comes back to the tender's page.
pub async fn upload_document(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}", id.trim()));
    };
    let nav = Nav::new(Some(&user), "tenders");
    // Refuse what can be refused before reading the upload.
    let t = match load_visible(&state, Some(&user.user), &id).await {
        Ok(t) => t,
        Err(e) => return error_page(e, &nav),
    };
    if let Err(e) = policy::ensure_owner(&user.user, &t) {
        return error_page(e, &nav);
    }
    match receive_upload(&state, &user.user, t.id, req).await {
        Ok(added) => {
            let done = if added.amendment.is_some() {
                "document_amended"
            } else {
                "document_added"
            };
            Redirect::to(&format!("/tenders/{}?done={done}", t.id)).into_response()
        }
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Internal(_))) => {
            error_page(e, &nav)
        }
        // Refused (too large, empty, duplicate, bad name, wrong state): the tender's page as it
        // is now, with the reason.
        Err(e) => match load_visible(&state, Some(&user.user), &id).await {
            Ok(current) => {
                let extras = DetailExtras {
                    flash: None,
                    error: Some(e),
                    return_text: String::new(),
                    cancel_text: String::new(),
                    base: None,
                };
                detail_response(&state, Some(&user), &current, extras).await
            }
            Err(e) => error_page(e, &nav),
        },
    }
}

/// Finds the `file` field of the form and hands its bytes, as they arrive, to the upload path.
/// The whole body is capped too (the document limit plus the framing), so fields other than the
/// file cannot make the server read without end.
async fn receive_upload(
    state: &AppState,
    user: &User,
    tender: TenderId,
    req: Request,
) -> AppResult<DocumentAdded> {
    let limit = state.settings.max_document_bytes;
    let too_large = || AppError::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    };
    let tripped = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = documents::capped(
        body.into_data_stream()
            .map_err(std::io::Error::other)
            .boxed(),
        limit.saturating_add(MULTIPART_OVERHEAD),
        tripped.clone(),
    );
    let req = Request::from_parts(parts, Body::from_stream(body));
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| AppError::InvalidBody(e.body_text()))?;
    let no_file = || AppError::invalid("no_file", "file", "choose a file to upload");
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Err(no_file()),
            Err(_) if tripped.load(Ordering::Relaxed) => return Err(too_large()),
            Err(e) => return Err(AppError::InvalidBody(e.body_text())),
        };
        if field.name() != Some("file") {
            // Dropping a field skips its bytes without keeping them.
            continue;
        }
        // Old browsers send the whole path of the file: keep its last part.
        let name = field
            .file_name()
            .and_then(|n| n.rsplit(['/', '\\']).next())
            .unwrap_or_default()
            .to_string();
        if name.trim().is_empty() {
            return Err(no_file());
        }
        let stream = field.map_err(std::io::Error::other).boxed();
        return match documents::add_document(state, user, tender, &name, None, stream).await {
            Err(_) if tripped.load(Ordering::Relaxed) => Err(too_large()),
            other => other,
        };
    }
}

// ---------------------------------------------------------------------------------------------
// The form: new tenders and drafts

#[derive(Template)]
#[template(path = "tender_form.html")]
struct FormPage {
    nav: Nav,
    /// `None` for a new tender; the tender's id and code when editing its draft.
    editing: Option<(String, String)>,
    action: String,
    form: FormView,
}

fn form_page(
    state: &AppState,
    user: &CurrentUser,
    editing: Option<&Tender>,
    f: TenderForm,
    problems: &[Problem],
    status: StatusCode,
) -> Response {
    let now = state.now();
    let nav = Nav::new(
        Some(user),
        if editing.is_some() { "tenders" } else { "new" },
    );
    let docs = editing.map(|t| t.terms.documents.as_slice()).unwrap_or(&[]);
    let page = FormPage {
        nav: nav.clone(),
        editing: editing.map(|t| (t.id.to_string(), t.code.to_string())),
        action: match editing {
            Some(t) => format!("/tenders/{}/edit", t.id),
            None => "/tenders/new".to_string(),
        },
        form: FormView::new(f, problems, docs, now, &state.rules),
    };
    render(status, &page, &nav)
}

pub async fn new_form(State(state): State<AppState>, Viewer(user): Viewer) -> Response {
    let Some(user) = user else {
        return login_redirect("/tenders/new");
    };
    if let Err(e) = policy::ensure_can_create(&user.user) {
        return error_page(e, &Nav::new(Some(&user), "new"));
    }
    let blank = TenderForm::blank(state.now());
    form_page(&state, &user, None, blank, &[], StatusCode::OK)
}

pub async fn create(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    form: Result<Form<TenderForm>, FormRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect("/tenders/new");
    };
    let nav = Nav::new(Some(&user), "new");
    if let Err(e) = policy::ensure_can_create(&user.user) {
        return error_page(e, &nav);
    }
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(AppError::InvalidBody(e.body_text()), &nav),
    };
    let Some(org) = user.user.org else {
        return error_page(
            AppError::forbidden("only staff of an organisation may create tenders"),
            &nav,
        );
    };
    let now = state.now();
    let parsed = form::parse(&f, None, Vec::new(), now, &state.rules);
    let code = match parsed.code {
        Some(code) if parsed.problems.is_empty() => code,
        _ => {
            return form_page(
                &state,
                &user,
                None,
                f,
                &parsed.problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    // The tender runs in the hall its organisation is registered with.
    let hall = match state.store.get_org(org).await {
        Ok(Some(o)) => o.hall,
        Ok(None) => user.user.hall.clone(),
        Err(e) => return error_page(e.into(), &nav),
    };
    let t = Tender::new_draft(
        TenderId::new(),
        code,
        hall,
        org,
        user.user.id,
        parsed.terms,
        now,
    );
    let audit = AuditEvent::new(Some(user.user.id), now, "tender.create", "tender", t.id)
        .with_change::<Tender, Tender>(None, Some(&t));
    match state.store.create_tender(&t, &audit).await {
        Ok(()) => Redirect::to(&format!("/tenders/{}?done=created", t.id)).into_response(),
        Err(StoreError::Conflict("tender_code")) => form_page(
            &state,
            &user,
            None,
            f,
            &[duplicate_code()],
            StatusCode::CONFLICT,
        ),
        Err(e) => error_page(e.into(), &nav),
    }
}

fn duplicate_code() -> Problem {
    Problem::new(
        "code",
        "duplicate_tender_code",
        "a tender with this code already exists: choose another code",
    )
}

/// The draft the user may edit: visible, owned, still a draft.
async fn editable_draft(state: &AppState, user: &User, id: &str) -> AppResult<Tender> {
    let t = load_visible(state, Some(user), id).await?;
    policy::ensure_owner(user, &t)?;
    if t.state != TenderState::Draft {
        return Err(AppError::Tender(TenderError::IllegalTransition {
            from: t.state,
            action: "edited as a draft",
        }));
    }
    Ok(t)
}

pub async fn edit_form(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}/edit", id.trim()));
    };
    match editable_draft(&state, &user.user, &id).await {
        Ok(t) => {
            let f = TenderForm::from_terms(&t.code, &t.terms);
            form_page(&state, &user, Some(&t), f, &[], StatusCode::OK)
        }
        Err(e) => error_page(e, &Nav::new(Some(&user), "tenders")),
    }
}

pub async fn edit_submit(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<TenderForm>, FormRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}/edit", id.trim()));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let before = match editable_draft(&state, &user.user, &id).await {
        Ok(t) => t,
        Err(e) => return error_page(e, &nav),
    };
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(AppError::InvalidBody(e.body_text()), &nav),
    };
    let now = state.now();
    let parsed = form::parse(&f, None, before.terms.documents.clone(), now, &state.rules);
    let code = match parsed.code {
        Some(code) if parsed.problems.is_empty() => code,
        _ => {
            return form_page(
                &state,
                &user,
                Some(&before),
                f,
                &parsed.problems,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let mut t = before.clone();
    if let Err(e) = t.edit_draft(parsed.terms) {
        return error_page(e.into(), &nav);
    }
    t.code = code;
    let audit = AuditEvent::new(Some(user.user.id), now, "tender.edit", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    match state.store.update_tender(&t, before.version, &audit).await {
        Ok(()) => Redirect::to(&format!("/tenders/{}?done=saved", t.id)).into_response(),
        Err(StoreError::Conflict("tender_code")) => {
            let p = duplicate_code();
            form_page(&state, &user, Some(&before), f, &[p], StatusCode::CONFLICT)
        }
        Err(e) => error_page(e.into(), &nav),
    }
}
