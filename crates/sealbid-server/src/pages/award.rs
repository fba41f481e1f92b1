//! After the evaluation, on the public result page: the candidates' publication and its window,
//! the objections, the award notice, the contract and the deposit refunds, each as the API shows
//! it to the viewer, with the forms of whoever may act (the tenderee publishes, answers, gives the
//! notice and records the contract; a bidder of the tender objects during the publication; the
//! trading centre marks deposits refunded). And the trading centre's refund tasks (`/refunds`).
//!
//! Every rule is the API's: the forms call `crate::api::award`'s handlers with the page's signed-in
//! user and show the error they give (code and message) with what was typed. Whether a form is
//! shown is decided with the same `crate::policy` functions the handlers use.
use std::collections::HashMap;

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sealbid_domain::evaluation::award::{Answer, AwardNotice, ContractRecord, Publication};
use sealbid_domain::evaluation::deadlines::is_overdue;
use sealbid_domain::org::Role;
use sealbid_domain::tender::Tender;
use sealbid_domain::{BidId, OrgId, TenderId};
use serde::Deserialize;

use super::evaluation::signed_in_form;
use super::{error_page, login_redirect, message_of, render, view, Nav, Viewer};
use crate::api::award as award_api;
use crate::api::session as session_api;
use crate::api::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::policy;
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn blank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// An error as a form shows it: the API's stable code and its message.
#[derive(Clone, Debug)]
pub struct FormError {
    pub code: String,
    pub message: String,
}

impl FormError {
    fn of(e: &AppError) -> FormError {
        FormError {
            code: e.code().to_string(),
            message: message_of(e),
        }
    }
}

/// What a refused form had in it, to show it again.
#[derive(Clone, Debug)]
pub(super) enum Typed {
    Publish {
        end: String,
    },
    Object {
        text: String,
    },
    Answer {
        number: u32,
        text: String,
        upheld: bool,
    },
    Notice {
        bid: String,
    },
    Contract {
        signed_at: String,
        amount: String,
        reference: String,
    },
    Refund,
}

/// A refused form: what was typed and why it was refused.
pub(super) struct Failure {
    typed: Typed,
    error: FormError,
}

/// Whether an error is shown on the page with the form (the others are an error page).
fn shown_with_form(e: &AppError) -> bool {
    !matches!(
        e,
        AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Unauthenticated
    ) && !e.status().is_server_error()
}

/// The note after a form went through (`?done=`).
pub(super) fn flash_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "published" => "The candidates are published. 中标候选人已公示",
        "objected" => {
            "Your objection is received: the tenderee answers it within 3 days. 异议已提交"
        }
        "answered" => "The answer is recorded. 异议答复已记录",
        "awarded" => "The award notice is given. 中标通知书已发出",
        "contract" => {
            "The contract is recorded: the deposits are refunded within 5 days. 合同已备案"
        }
        "refunded" => "The deposit is marked refunded. 保证金已退还",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The section of the result page

pub struct AnswerView {
    pub at: String,
    /// The answer's text, for those who see objections in full.
    pub text: Option<String>,
    pub upheld: bool,
    pub late: bool,
}

pub struct ObjectionRow {
    pub number: u32,
    pub received_at: String,
    pub answer_due: String,
    /// The objection's text, for those who see objections in full.
    pub text: Option<String>,
    pub answer: Option<AnswerView>,
    /// Not answered within its time.
    pub overdue: bool,
    pub can_answer: bool,
    pub typed_text: String,
    pub typed_upheld: bool,
    pub error: Option<FormError>,
}

pub struct CandidateOption {
    pub bid: String,
    pub label: String,
    pub selected: bool,
}

pub struct NoticeView {
    pub at: String,
    pub winner: String,
    pub price: String,
    pub total: String,
    pub contract_due: String,
    /// No contract recorded and its time has passed.
    pub contract_overdue: bool,
}

pub struct ContractView {
    pub signed_at: String,
    pub recorded_at: String,
    pub amount: String,
    pub reference: String,
    pub late: bool,
}

pub struct RefundRow {
    pub org: String,
    pub bidder: String,
    pub reference: String,
    pub amount: String,
    pub due: String,
    pub overdue: bool,
    pub overdue_by: String,
    pub refunded_at: Option<String>,
    pub can_mark: bool,
}

/// The part of the result page after the evaluation.
#[derive(Default)]
pub struct AwardSection {
    pub published: bool,
    /// The latest start of the publication.
    pub publication_due: String,
    pub window_start: String,
    pub window_end: String,
    /// Published after its deadline.
    pub late: bool,
    /// `open`, `closed` or `not_open`.
    pub window: &'static str,
    pub objections: Vec<ObjectionRow>,
    pub answered: usize,
    pub notice: Option<NoticeView>,
    pub contract: Option<ContractView>,
    pub refunds: Vec<RefundRow>,
    /// The viewer sees every refund (the tenderee, the trading centre, supervisors).
    pub all_refunds: bool,
    /// An error that belongs to no form on the page.
    pub error: Option<FormError>,
    pub can_publish: bool,
    pub publish_end: String,
    pub publish_error: Option<FormError>,
    pub can_object: bool,
    pub object_text: String,
    pub object_error: Option<FormError>,
    pub can_notice: bool,
    pub candidates: Vec<CandidateOption>,
    pub notice_error: Option<FormError>,
    pub can_contract: bool,
    pub contract_signed_at: String,
    pub contract_amount: String,
    pub contract_reference: String,
    pub contract_error: Option<FormError>,
    pub refund_error: Option<FormError>,
}

/// An objection as the API shows it: in full (text, answer) or as a summary.
#[derive(Deserialize)]
struct SeenObjection {
    number: u32,
    received_at: DateTime<Utc>,
    answer_due: DateTime<Utc>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    answer: Option<Answer>,
    #[serde(default)]
    answered: Option<bool>,
    #[serde(default)]
    upheld: Option<bool>,
}

/// A refund as the API shows it (with its overdue mark).
#[derive(Deserialize)]
struct SeenRefund {
    bidder: OrgId,
    bidder_name: String,
    reference: String,
    amount: Decimal,
    due: DateTime<Utc>,
    refunded_at: Option<DateTime<Utc>>,
    overdue: bool,
}

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    serde_json::from_value(v).map_err(internal)
}

fn score(total: Option<Decimal>) -> String {
    total.map(|t| t.to_string()).unwrap_or_default()
}

/// The section for `user` on the result page of `t` (`logged`: the report is logged), with a
/// refused form's input and error.
pub(super) async fn section(
    state: &AppState,
    user: Option<&CurrentUser>,
    t: &Tender,
    logged: bool,
    failure: Option<Failure>,
) -> AppResult<AwardSection> {
    let u = user.map(|c| &c.user);
    let owner = u.is_some_and(|u| policy::ensure_owner(u, t).is_ok());
    let centre = u.is_some_and(|u| policy::ensure_reviewer(u, t).is_ok());
    let (typed, error) = match failure {
        Some(f) => (Some(f.typed), Some(f.error)),
        None => (None, None),
    };
    let mut s = AwardSection::default();
    // The API's own view: what it shows this viewer, nothing more.
    let v = match award_api::get_award(State(state.clone()), user.cloned(), AppPath(t.id)).await {
        Ok(AppJson(v)) => v,
        Err(AppError::Conflict {
            code: "not_published",
            ..
        }) => {
            s.can_publish = owner && logged;
            match typed {
                Some(Typed::Publish { end }) if s.can_publish => {
                    s.publish_end = end;
                    s.publish_error = error;
                }
                _ => s.error = error,
            }
            return Ok(s);
        }
        Err(e) => return Err(e),
    };
    let now = state.now();
    s.published = v.publication.is_some();
    s.publication_due = view::time(v.publication_due);
    let publication: Option<Publication> = v.publication.map(parse).transpose()?;
    if let Some(p) = &publication {
        s.window_start = view::time(p.window.start);
        s.window_end = view::time(p.window.end);
        s.late = p.late;
        s.window = if p.window.is_open(now) {
            "open"
        } else if now < p.window.start {
            "not_open"
        } else {
            "closed"
        };
    }
    let notice: Option<AwardNotice> = v.notice.map(parse).transpose()?;
    let contract: Option<ContractRecord> = v.contract.map(parse).transpose()?;

    // Objections.
    for o in v.objections {
        let o: SeenObjection = parse(o)?;
        let answered = o.answer.is_some() || o.answered == Some(true);
        s.objections.push(ObjectionRow {
            number: o.number,
            received_at: view::time(o.received_at),
            answer_due: view::time(o.answer_due),
            text: o.text,
            answer: match (o.answer, o.upheld) {
                (Some(a), _) => Some(AnswerView {
                    at: view::time(a.at),
                    text: Some(a.text),
                    upheld: a.upheld,
                    late: a.late,
                }),
                (None, Some(upheld)) => Some(AnswerView {
                    at: String::new(),
                    text: None,
                    upheld,
                    late: false,
                }),
                (None, None) => None,
            },
            overdue: !answered && is_overdue(now, o.answer_due),
            can_answer: owner && !answered,
            typed_text: String::new(),
            typed_upheld: false,
            error: None,
        });
    }
    s.answered = s.objections.iter().filter(|o| o.answer.is_some()).count();

    // The bidders of the tender object during the publication, as `award_api::object` checks.
    let bidder_of_tender = match u.and_then(|u| u.org.filter(|_| u.has(Role::Bidder))) {
        Some(org) => session_api::opened_bids(state, t)
            .await?
            .bids
            .iter()
            .any(|(_, b)| b.bidder == org.to_string()),
        None => false,
    };
    s.can_object = bidder_of_tender && s.window == "open";

    // The award notice.
    s.can_notice = owner && publication.is_some() && notice.is_none();
    if let Some(p) = &publication {
        s.candidates = p
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| CandidateOption {
                bid: c.bid.to_string(),
                label: format!(
                    "{}. {} — {}{}",
                    c.rank,
                    c.bidder_name,
                    view::yuan(c.price),
                    c.total.map(|t| format!(" · {t}")).unwrap_or_default()
                ),
                selected: i == 0,
            })
            .collect();
    }
    if let Some(n) = &notice {
        s.notice = Some(NoticeView {
            at: view::time(n.at),
            winner: n.winner.bidder_name.clone(),
            price: view::yuan(n.winner.price),
            total: score(n.winner.total),
            contract_due: view::time(n.contract_due),
            contract_overdue: contract.is_none() && is_overdue(now, n.contract_due),
        });
    }

    // The contract.
    s.can_contract = owner && notice.is_some() && contract.is_none();
    if let Some(c) = &contract {
        s.contract = Some(ContractView {
            signed_at: view::time(c.signed_at),
            recorded_at: view::time(c.recorded_at),
            amount: view::yuan(c.amount),
            reference: c.reference.clone(),
            late: c.late,
        });
    }

    // The refunds: all of them for the staff, a bidder's own for a bidder.
    s.all_refunds = owner || centre || u.is_some_and(|u| policy::ensure_supervisor(u, t).is_ok());
    for r in v.refunds {
        let r: SeenRefund = parse(r)?;
        s.refunds.push(RefundRow {
            org: r.bidder.to_string(),
            bidder: r.bidder_name,
            reference: r.reference,
            amount: view::yuan(r.amount),
            due: view::time(r.due),
            overdue: r.overdue,
            overdue_by: if r.overdue {
                view::elapsed(r.due, now)
            } else {
                String::new()
            },
            refunded_at: r.refunded_at.map(view::time),
            can_mark: centre && r.refunded_at.is_none(),
        });
    }

    // A refused form again, with what was typed and the error.
    match typed {
        Some(Typed::Object { text }) if bidder_of_tender && publication.is_some() => {
            s.can_object = true;
            s.object_text = text;
            s.object_error = error;
        }
        Some(Typed::Answer {
            number,
            text,
            upheld,
        }) if s
            .objections
            .iter()
            .any(|o| o.number == number && o.can_answer) =>
        {
            if let Some(o) = s.objections.iter_mut().find(|o| o.number == number) {
                o.typed_text = text;
                o.typed_upheld = upheld;
                o.error = error;
            }
        }
        Some(Typed::Notice { bid }) if s.can_notice => {
            for c in &mut s.candidates {
                c.selected = c.bid == bid.trim();
            }
            s.notice_error = error;
        }
        Some(Typed::Contract {
            signed_at,
            amount,
            reference,
        }) if s.can_contract => {
            s.contract_signed_at = signed_at;
            s.contract_amount = amount;
            s.contract_reference = reference;
            s.contract_error = error;
        }
        Some(Typed::Refund) if !s.refunds.is_empty() => s.refund_error = error,
        _ => s.error = error,
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// The forms

fn result_path(id: &str) -> String {
    format!("/tenders/{}/result", id.trim())
}

/// After a form: on success back to the result page with a note; refused, the result page again
/// with the API's code and message and what was typed (a 403 or 404 is an error page).
async fn after(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    outcome: AppResult<&'static str>,
    typed: Typed,
) -> Response {
    match outcome {
        Ok(done) => Redirect::to(&format!("{}?done={done}#award", result_path(id))).into_response(),
        Err(e) if shown_with_form(&e) => {
            super::evaluation::result_response(
                state,
                Some(user),
                id,
                e.status(),
                None,
                Some(Failure {
                    typed,
                    error: FormError::of(&e),
                }),
            )
            .await
        }
        Err(e) => error_page(e, &Nav::new(Some(user), "tenders")),
    }
}

/// A form of the result page: signed in and the form read (`signed_in_form`); what was typed
/// kept (`keep`) to show again if refused; `act` (the API's handler); then `after` with the note
/// it returns, or its error.
async fn result_form<F>(
    state: &AppState,
    user: Option<CurrentUser>,
    id: &str,
    form: Result<Form<F>, FormRejection>,
    keep: impl FnOnce(&F) -> Typed,
    act: impl AsyncFnOnce(&CurrentUser, F) -> AppResult<&'static str>,
) -> Response {
    signed_in_form(user, &result_path(id), form, async |user, f| {
        let typed = keep(&f);
        let outcome = act(&user, f).await;
        after(state, &user, id, outcome, typed).await
    })
    .await
}

fn tender_id(id: &str) -> AppResult<TenderId> {
    super::tenders::parse_id(id)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublishForm {
    /// China time, `datetime-local`; empty: the shortest publication.
    end: String,
}

pub async fn publish(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<PublishForm>, FormRejection>,
) -> Response {
    let keep = |f: &PublishForm| Typed::Publish { end: f.end.clone() };
    let act = async |user: &CurrentUser, f: PublishForm| {
        let tid = tender_id(&id)?;
        let end = match blank(&f.end) {
            None => None,
            Some(s) => Some(view::parse_datetime_local(s).ok_or_else(|| {
                AppError::invalid(
                    "invalid_end",
                    "end",
                    "the end of the publication is a date and time (China time), e.g. \
                     2025-03-10T17:00; leave it empty for the shortest publication (3 days)",
                )
            })?),
        };
        let body = AppJson(award_api::PublishBody { end });
        award_api::publish(State(state.clone()), user.clone(), AppPath(tid), body).await?;
        Ok("published")
    };
    result_form(&state, user, &id, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ObjectForm {
    text: String,
}

pub async fn object(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<ObjectForm>, FormRejection>,
) -> Response {
    let keep = |f: &ObjectForm| Typed::Object {
        text: f.text.clone(),
    };
    let act = async |user: &CurrentUser, f: ObjectForm| {
        let tid = tender_id(&id)?;
        let body = AppJson(award_api::ObjectionBody { text: f.text });
        award_api::object(State(state.clone()), user.clone(), AppPath(tid), body).await?;
        Ok("objected")
    };
    result_form(&state, user, &id, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    text: String,
    /// The checkbox: present when ticked.
    upheld: Option<String>,
}

pub async fn answer(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path((id, number)): Path<(String, String)>,
    form: Result<Form<AnswerForm>, FormRejection>,
) -> Response {
    // Not a number: no such objection, a 404 page (checked before the tender's id; nothing
    // typed is shown again then).
    let number = number.trim().parse::<u32>().ok();
    let keep = |f: &AnswerForm| Typed::Answer {
        number: number.unwrap_or_default(),
        text: f.text.clone(),
        upheld: f.upheld.is_some(),
    };
    let act = async |user: &CurrentUser, f: AnswerForm| {
        let number = number.ok_or(AppError::NotFound("objection"))?;
        let tid = tender_id(&id)?;
        let body = AppJson(award_api::AnswerBody {
            text: f.text,
            upheld: f.upheld.is_some(),
        });
        award_api::answer(
            State(state.clone()),
            user.clone(),
            AppPath((tid, number)),
            body,
        )
        .await?;
        Ok("answered")
    };
    result_form(&state, user, &id, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeForm {
    /// One of the candidates' bids; empty: the first candidate.
    bid: String,
}

pub async fn notice(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<NoticeForm>, FormRejection>,
) -> Response {
    let keep = |f: &NoticeForm| Typed::Notice { bid: f.bid.clone() };
    let act = async |user: &CurrentUser, f: NoticeForm| {
        let tid = tender_id(&id)?;
        let bid = match blank(&f.bid) {
            None => None,
            Some(b) => Some(BidId::parse(b).map_err(|_| {
                AppError::invalid("invalid_bid", "bid", "choose one of the candidates")
            })?),
        };
        let body = AppJson(award_api::NoticeBody { bid });
        award_api::notice(State(state.clone()), user.clone(), AppPath(tid), body).await?;
        Ok("awarded")
    };
    result_form(&state, user, &id, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContractForm {
    /// China time, `datetime-local`.
    signed_at: String,
    amount: String,
    reference: String,
}

pub async fn contract(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<ContractForm>, FormRejection>,
) -> Response {
    let keep = |f: &ContractForm| Typed::Contract {
        signed_at: f.signed_at.clone(),
        amount: f.amount.clone(),
        reference: f.reference.clone(),
    };
    let act = async |user: &CurrentUser, f: ContractForm| {
        let tid = tender_id(&id)?;
        let signed_at = view::parse_datetime_local(&f.signed_at).ok_or_else(|| {
            AppError::invalid(
                "invalid_signed_at",
                "signed_at",
                "when the contract was signed: a date and time (China time), e.g. \
                 2025-04-01T10:00",
            )
        })?;
        let amount = view::clean_amount(&f.amount)
            .parse::<Decimal>()
            .map_err(|_| {
                AppError::invalid(
                    "invalid_amount",
                    "amount",
                    "the contract amount is an amount in yuan, e.g. 951000.00",
                )
            })?;
        let body = AppJson(award_api::ContractBody {
            signed_at,
            amount,
            reference: f.reference,
        });
        award_api::contract(State(state.clone()), user.clone(), AppPath(tid), body).await?;
        Ok("contract")
    };
    result_form(&state, user, &id, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundForm {
    /// `refunds`: sent from the task list, which is where to go back to.
    back: String,
}

pub async fn refund(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path((id, org)): Path<(String, String)>,
    form: Result<Form<RefundForm>, FormRejection>,
) -> Response {
    signed_in_form(
        user,
        &result_path(&id),
        form,
        async |user, f: RefundForm| {
            let outcome = async {
                let tid = tender_id(&id)?;
                let org = OrgId::parse(org.trim()).map_err(|_| AppError::NotFound("refund"))?;
                award_api::refund_done(State(state.clone()), user.clone(), AppPath((tid, org)))
                    .await?;
                Ok("refunded")
            }
            .await;
            if f.back != "refunds" {
                return after(&state, &user, &id, outcome, Typed::Refund).await;
            }
            // From the task list: back to it.
            match outcome {
                Ok(done) => Redirect::to(&format!("/refunds?done={done}")).into_response(),
                Err(e) if shown_with_form(&e) => {
                    let q = RefundsQuery::default();
                    refunds_response(&state, &user, &q, e.status(), Some(FormError::of(&e))).await
                }
                Err(e) => error_page(e, &Nav::new(Some(&user), "refunds")),
            }
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The refund tasks

pub struct RefundTaskRow {
    pub tender_id: String,
    pub code: String,
    pub org: String,
    pub bidder: String,
    pub reference: String,
    pub amount: String,
    pub due: String,
    pub overdue: bool,
    pub overdue_by: String,
    pub refunded_at: Option<String>,
    /// A centre officer of the tender's hall, and not refunded yet.
    pub can_mark: bool,
}

#[derive(Template)]
#[template(path = "refunds.html")]
struct RefundsPage {
    nav: Nav,
    rows: Vec<RefundTaskRow>,
    overdue: usize,
    only_overdue: bool,
    include_done: bool,
    flash: Option<&'static str>,
    error: Option<FormError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundsQuery {
    /// Only the overdue ones (`1`).
    overdue: String,
    /// Refunds already made too (`1`).
    include_done: String,
    done: String,
}

fn ticked(s: &str) -> bool {
    matches!(s.trim(), "1" | "on" | "true" | "yes")
}

pub async fn tasks(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    query: Result<Query<RefundsQuery>, QueryRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect("/refunds");
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    refunds_response(&state, &user, &q, StatusCode::OK, None).await
}

async fn refunds_response(
    state: &AppState,
    user: &CurrentUser,
    q: &RefundsQuery,
    status: StatusCode,
    error: Option<FormError>,
) -> Response {
    let nav = Nav::new(Some(user), "refunds");
    match refunds_page(state, user, q, nav.clone(), error).await {
        Ok(p) => render(status, &p, &nav),
        Err(e) => error_page(e, &nav),
    }
}

async fn refunds_page(
    state: &AppState,
    user: &CurrentUser,
    q: &RefundsQuery,
    nav: Nav,
    error: Option<FormError>,
) -> AppResult<RefundsPage> {
    let only_overdue = ticked(&q.overdue);
    let include_done = ticked(&q.include_done);
    // The API's own list: the centre's and supervisors' halls, nobody else.
    let tasks = award_api::refund_tasks(
        State(state.clone()),
        user.clone(),
        Query(award_api::RefundQuery {
            overdue: only_overdue,
            include_done,
        }),
    )
    .await?
    .0;
    let now = state.now();
    let mut centre: HashMap<TenderId, bool> = HashMap::new();
    let mut rows = Vec::with_capacity(tasks.len());
    for r in tasks {
        let can_mark = match centre.get(&r.tender) {
            Some(c) => *c,
            None => {
                let c = match state.store.get_tender(r.tender).await? {
                    Some(t) => policy::ensure_reviewer(&user.user, &t).is_ok(),
                    None => false,
                };
                centre.insert(r.tender, c);
                c
            }
        };
        rows.push(RefundTaskRow {
            tender_id: r.tender.to_string(),
            code: r.tender_code,
            org: r.bidder.to_string(),
            bidder: r.bidder_name,
            reference: r.reference,
            amount: view::yuan(r.amount),
            due: view::time(r.due),
            overdue: r.overdue,
            overdue_by: if r.overdue {
                view::elapsed(r.due, now)
            } else {
                view::countdown(now, r.due).unwrap_or_default()
            },
            refunded_at: r.refunded_at.map(view::time),
            can_mark: can_mark && r.refunded_at.is_none(),
        });
    }
    // Overdue first, then as the API orders them (soonest due first).
    rows.sort_by_key(|r| !r.overdue);
    Ok(RefundsPage {
        nav,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        only_overdue,
        include_done,
        flash: (q.done == "refunded").then_some("The deposit is marked refunded. 保证金已退还"),
        error,
    })
}
