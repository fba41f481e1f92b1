//! The evaluation pages: a committee member's workspace (the conflict-of-interest declaration; then
//! the opened bids with their envelopes, a qualification checklist and a score sheet per bid, the
//! member's own saved answers filled in; everyone's sheets once every member has scored every bid;
//! drawing up the report and signing it; asking for more time), the live progress for the chair,
//! the trading centre and supervisors (server-rendered, kept current by the API's server-sent
//! events), and the public result once the signed report is logged (with the steps after the
//! evaluation from `super::award`).
//!
//! Every rule is the API's: the handlers call the API's own handlers and functions
//! (`crate::api::evaluation`, `crate::api::session`) with the page's signed-in user, and only lay
//! out what they return or show the error they give.
use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use rust_decimal::Decimal;
use sealbid_domain::evaluation::scoring::{Outcome, Part, RankedBid, Rejection, Scheme};
use sealbid_domain::org::User;
use sealbid_domain::tender::Tender;
use sealbid_domain::BidId;
use sealbid_seal::keys::{Signature, VerifyingKey};
use sealbid_seal::opening::BidOutcome;
use sealbid_seal::report::SignedReport;
use sealbid_seal::signed::Signed;
use serde::Deserialize;

use super::{error_page, login_redirect, message_of, render, sealed, view, Nav, Viewer};
use crate::api::evaluation as eval_api;
use crate::api::session as session_api;
use crate::api::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::policy;
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

/// The tender of a page's path, whatever its state (the API's own loading: the membership check
/// that follows answers everyone but members with the same 403).
async fn load(state: &AppState, id: &str) -> AppResult<Tender> {
    crate::api::load_tender(state, super::tenders::parse_id(id)?).await
}

fn parse_bid(id: &str) -> AppResult<BidId> {
    BidId::parse(id.trim()).map_err(|_| AppError::NotFound("bid"))
}

fn blank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn yuan(d: Decimal) -> String {
    view::yuan(d)
}

// ---------------------------------------------------------------------------------------------
// Links from the tender's page

/// Which evaluation pages the viewer of a tender's page may open.
#[derive(Default)]
pub struct EvaluationLinks {
    /// A member of the committee: their workspace.
    pub workspace: bool,
    /// A member, the trading centre of the hall or a supervisor: the live progress.
    pub progress: bool,
    /// Anyone who sees the tender, once a committee is drawn: the result (or "in progress").
    pub result: bool,
}

/// The links for `user` on the page of `t`; none before the committee is drawn.
pub(super) async fn links(
    state: &AppState,
    user: Option<&User>,
    t: &Tender,
) -> AppResult<EvaluationLinks> {
    if state.store.get_draw(t.id).await?.is_none() {
        return Ok(EvaluationLinks::default());
    }
    let Some(u) = user else {
        return Ok(EvaluationLinks {
            result: true,
            ..EvaluationLinks::default()
        });
    };
    let workspace = session_api::member_of(state, u, t).await.is_ok();
    let progress = workspace
        || policy::ensure_reviewer(u, t).is_ok()
        || policy::ensure_supervisor(u, t).is_ok();
    Ok(EvaluationLinks {
        workspace,
        progress,
        result: true,
    })
}

// ---------------------------------------------------------------------------------------------
// The workspace

pub struct EnvelopeLink {
    pub kind: &'static str,
    pub url: String,
    pub sha256: String,
    /// The published file key (price and deposit envelopes), to decrypt it with.
    pub file_key: Option<String>,
}

pub struct CheckItem {
    pub index: usize,
    pub criterion: String,
    pub pass: bool,
    pub fail: bool,
    pub reason: String,
}

pub struct ScoreInput {
    pub id: String,
    pub label: String,
    pub part: &'static str,
    pub max: String,
    pub value: String,
}

pub struct BidRow {
    pub id: String,
    pub bidder: String,
    pub price: String,
    pub valid: bool,
    /// `valid`, or the opening's code and reason.
    pub outcome: String,
    pub rejection_grounds: Vec<String>,
    pub envelopes: Vec<EnvelopeLink>,
    pub checklist: Vec<CheckItem>,
    pub checklist_saved: bool,
    pub scores: Vec<ScoreInput>,
    pub sheet_saved: bool,
    /// The error of the form just sent for this bid.
    pub error: Option<String>,
}

pub struct SheetRow {
    pub member: String,
    pub bidder: String,
    pub scores: Vec<String>,
}

pub struct RankRow {
    pub rank: u32,
    /// Among the ranked candidates (条例 53).
    pub candidate: bool,
    pub bidder: String,
    pub price: String,
    pub total: String,
}

pub struct RejectRow {
    pub bidder: String,
    pub price: String,
    pub ground: String,
    pub basis: String,
    pub detail: String,
}

/// A member's total that the report flags as straying from the others' (it needs an explanation).
pub struct OutlierRow {
    pub member: String,
    pub bid: String,
    pub bidder: String,
    pub total: String,
    pub median: String,
    /// The member's explanation, empty while there is none.
    pub explanation: String,
    /// The caller's own total, and the report still unsigned: the caller explains it here.
    pub can_explain: bool,
}

pub struct ReportBox {
    pub outliers: Vec<OutlierRow>,
    pub version: i64,
    pub drawn_up_at: String,
    pub digest: String,
    pub signing_bytes_b64: String,
    pub command: String,
    pub ranking: Vec<RankRow>,
    pub rejected: Vec<RejectRow>,
    pub all_rejected: bool,
    pub signed: Vec<String>,
    pub members: usize,
    pub signed_by_me: bool,
    pub log_index: Option<u64>,
    pub checkpoint: Option<String>,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct WorkspacePage {
    nav: Nav,
    tender_id: String,
    code: String,
    title: String,
    member: String,
    seat: u32,
    declared: bool,
    flash: Option<&'static str>,
    error: Option<String>,
    statement: String,
    due: Option<String>,
    criteria: Vec<String>,
    scoring: bool,
    has_scheme: bool,
    bids: Vec<BidRow>,
    /// Every member has scored every bid: everyone's sheets.
    sheets_complete: bool,
    sheet_labels: Vec<String>,
    all_sheets: Vec<SheetRow>,
    submitted: Vec<(String, usize)>,
    per_member: usize,
    ready_for_report: bool,
    can_draw_up: bool,
    redraw: bool,
    cost_floor: String,
    report: Option<ReportBox>,
    sign_key: String,
    sign_signature: String,
    more_time: MoreTimeBox,
}

/// Asking for more time (条例 48): the form, or where the requests stand.
#[derive(Default)]
pub struct MoreTimeBox {
    /// The member may ask (has not asked, no report drawn up yet).
    pub can_ask: bool,
    pub asked: bool,
    /// Members who have asked, of `size`.
    pub requests: usize,
    pub size: usize,
    /// How many times the time was extended.
    pub extended: u32,
    pub due: Option<String>,
    pub reason: String,
    pub error: Option<String>,
}

/// What a refused form had in it, to show it again.
#[derive(Default)]
struct Typed {
    statement: String,
    /// The refused form was the request for more time, with this reason.
    more_time: bool,
    reason: String,
    bid: Option<BidId>,
    checklist: Option<Vec<(Option<bool>, String)>>,
    scores: Option<BTreeMap<String, String>>,
    cost_floor: String,
    sign_key: String,
    sign_signature: String,
}

fn flash_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "declared" => "Declared: the bids are open to you below. 已声明无利害关系",
        "checklist" => "Qualification checklist saved. 资格审查表已保存",
        "sheet" => "Score sheet saved. 评分表已保存",
        "report" => "The report is drawn up: every member signs it now. 评标报告已出具",
        "signed" => "Your signature is recorded. 已签署",
        "logged" => {
            "Every member has signed: the report is countersigned and logged. 评标报告已记入日志"
        }
        "explained" => {
            "Your explanation is recorded: the report is drawn up again to carry it, then signed. \
             已提交说明"
        }
        "time-asked" => {
            "Your request for more time is recorded; the time is not extended yet: that takes \
             more than a third of the members. 已申请延长评标时间（未延长）"
        }
        "time-extended" => {
            "Your request made more than a third of the members ask: the time is extended by \
             24 hours. 评标时间已延长"
        }
        _ => return None,
    })
}

fn rank_rows(
    ranked: &[RankedBid],
    candidates: &[RankedBid],
    names: &HashMap<BidId, String>,
) -> Vec<RankRow> {
    ranked
        .iter()
        .map(|r| RankRow {
            rank: r.rank,
            candidate: candidates.iter().any(|c| c.bid == r.bid),
            bidder: names
                .get(&r.bid)
                .cloned()
                .unwrap_or_else(|| r.bidder.to_string()),
            price: yuan(r.price),
            total: r.total.map(|t| t.to_string()).unwrap_or_default(),
        })
        .collect()
}

fn reject_row(bidder: String, price: String, ground: &str, basis: &str, detail: &str) -> RejectRow {
    RejectRow {
        bidder,
        price,
        ground: ground.replace('_', " "),
        basis: basis.to_string(),
        detail: detail.to_string(),
    }
}

fn rejected_rows(outcome: &Outcome, names: &HashMap<BidId, String>) -> Vec<RejectRow> {
    outcome
        .rejected
        .iter()
        .map(|r| {
            let Rejection { ground, detail } = &r.rejection;
            reject_row(
                names
                    .get(&r.bid)
                    .cloned()
                    .unwrap_or_else(|| r.bidder.to_string()),
                yuan(r.price),
                ground.code(),
                ground.legal_basis(),
                detail,
            )
        })
        .collect()
}

fn bidder_name(b: &sealbid_seal::opening::OpenedBid) -> String {
    if b.bidder_name.trim().is_empty() {
        b.bidder.clone()
    } else {
        b.bidder_name.clone()
    }
}

async fn workspace(
    state: &AppState,
    user: &CurrentUser,
    t: &Tender,
    base: Option<&str>,
    flash: Option<&'static str>,
    error: Option<String>,
    typed: Typed,
) -> AppResult<WorkspacePage> {
    let m = session_api::member_of(state, &user.user, t).await?;
    let declared = state
        .store
        .get_declaration(t.id, user.user.id)
        .await?
        .is_some();
    let mut page = WorkspacePage {
        nav: Nav::new(Some(user), "tenders"),
        tender_id: t.id.to_string(),
        code: t.code.as_str().to_string(),
        title: t.terms.title.clone(),
        member: m.member.clone(),
        seat: m.seat,
        declared,
        flash,
        error: None,
        statement: typed.statement.clone(),
        due: None,
        criteria: t.terms.qualification_criteria.clone(),
        scoring: false,
        has_scheme: false,
        bids: Vec::new(),
        sheets_complete: false,
        sheet_labels: Vec::new(),
        all_sheets: Vec::new(),
        submitted: Vec::new(),
        per_member: 0,
        ready_for_report: false,
        can_draw_up: false,
        redraw: false,
        cost_floor: typed.cost_floor.clone(),
        report: None,
        sign_key: typed.sign_key.clone(),
        sign_signature: typed.sign_signature.clone(),
        more_time: MoreTimeBox::default(),
    };
    if !declared {
        // Nothing of the bids before the declaration.
        page.error = error;
        return Ok(page);
    }
    let s = || axum::extract::State(state.clone());
    let review = eval_api::bids_for_review(s(), user.clone(), AppPath(t.id))
        .await?
        .0;
    let opened = session_api::opened_bids(state, t).await?;
    let committee = session_api::committee(state, t)
        .await?
        .ok_or(AppError::NotFound("committee draw"))?;
    let checklists = session_api::my_checklists(s(), user.clone(), AppPath(t.id))
        .await?
        .0;
    let sheets = eval_api::list_sheets(s(), user.clone(), AppPath(t.id))
        .await?
        .0;
    let scheme: Option<Scheme> = match state.store.get_scheme(t.id).await? {
        Some(doc) => Some(serde_json::from_str(&doc).map_err(internal)?),
        None => None,
    };
    let progress = session_api::progress_of(state, t).await?;
    let scored: Vec<&sealbid_domain::evaluation::scoring::Criterion> = scheme
        .as_ref()
        .map(|s| {
            s.criteria
                .iter()
                .filter(|c| c.part != Part::Price)
                .collect()
        })
        .unwrap_or_default();
    let names: HashMap<BidId, String> = opened
        .bids
        .iter()
        .map(|(id, b)| (*id, bidder_name(b)))
        .collect();

    let mut bids = Vec::new();
    for (id, b) in &opened.bids {
        let valid = b.outcome == BidOutcome::Valid;
        let typed_here = typed.bid == Some(*id);
        let mine = checklists.iter().find(|c| c.bid == *id);
        let checklist = page
            .criteria
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (pass, reason) = match (&typed.checklist, typed_here) {
                    (Some(items), true) => items.get(i).cloned().unwrap_or((None, String::new())),
                    _ => mine
                        .and_then(|cl| cl.items.iter().find(|it| it.criterion == i))
                        .map(|it| (Some(it.pass), it.reason.clone()))
                        .unwrap_or((None, String::new())),
                };
                CheckItem {
                    index: i,
                    criterion: c.clone(),
                    pass: pass == Some(true),
                    fail: pass == Some(false),
                    reason,
                }
            })
            .collect();
        let own_sheet = sheets
            .sheets
            .iter()
            .find(|s| s.evaluator == user.user.id && s.bid == *id);
        let scores = scored
            .iter()
            .map(|c| ScoreInput {
                id: c.id.clone(),
                label: c.label.clone(),
                part: match c.part {
                    Part::Technical => "technical 技术",
                    Part::Commercial => "commercial 商务",
                    Part::Price => "price 价格",
                },
                max: c.max.to_string(),
                value: match (&typed.scores, typed_here) {
                    (Some(typed), true) => typed.get(&c.id).cloned().unwrap_or_default(),
                    _ => own_sheet
                        .and_then(|s| s.scores.get(&c.id))
                        .map(Decimal::to_string)
                        .unwrap_or_default(),
                },
            })
            .collect();
        let outcome = match &b.outcome {
            BidOutcome::Valid => "valid".to_string(),
            BidOutcome::Invalid { code, reason } => format!("{code}: {reason}"),
        };
        bids.push(BidRow {
            id: id.to_string(),
            bidder: bidder_name(b),
            price: b
                .price
                .as_ref()
                .map(|p| yuan(p.total))
                .unwrap_or_else(|| "—".into()),
            valid,
            outcome,
            rejection_grounds: review
                .iter()
                .filter(|r| r.bidder == b.bidder)
                .flat_map(|r| r.rejection_grounds.iter().cloned())
                .collect(),
            envelopes: b
                .envelopes
                .iter()
                .map(|e| EnvelopeLink {
                    kind: e.kind.as_str(),
                    url: format!("/api/v1/tenders/{}/envelopes/{}", t.id, e.sha256),
                    sha256: e.sha256.clone(),
                    file_key: e.file_key.clone(),
                })
                .collect(),
            checklist,
            checklist_saved: mine.is_some(),
            scores,
            sheet_saved: own_sheet.is_some(),
            error: if typed_here { error.clone() } else { None },
        });
    }
    // An error that belongs to no bid's form goes on top.
    if typed.more_time {
        page.more_time.error = error;
        page.more_time.reason = typed.reason.clone();
    } else if typed.bid.is_none() {
        page.error = error;
    }

    page.sheets_complete = sheets.complete;
    page.sheet_labels = scored.iter().map(|c| c.id.clone()).collect();
    if sheets.complete {
        let mut rows: Vec<(u32, String, SheetRow)> = sheets
            .sheets
            .iter()
            .map(|s| {
                let member = committee.by_user(s.evaluator);
                (
                    member.map_or(u32::MAX, |m| m.seat),
                    names.get(&s.bid).cloned().unwrap_or_default(),
                    SheetRow {
                        member: member.map(|m| m.member.clone()).unwrap_or_default(),
                        bidder: names.get(&s.bid).cloned().unwrap_or_default(),
                        scores: scored
                            .iter()
                            .map(|c| {
                                s.scores
                                    .get(&c.id)
                                    .map(Decimal::to_string)
                                    .unwrap_or_default()
                            })
                            .collect(),
                    },
                )
            })
            .collect();
        rows.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        page.all_sheets = rows.into_iter().map(|(_, _, r)| r).collect();
    }
    page.submitted = sheets.submitted.into_iter().collect();
    page.per_member = sheets.per_member;
    page.scoring = progress.scoring;
    page.has_scheme = scheme.is_some();
    page.due = progress.due_at.map(view::time);
    page.ready_for_report = progress.ready_for_report;
    page.bids = bids;
    page.more_time.asked = progress
        .members
        .iter()
        .any(|p| p.member == m.member && p.asked_for_time);
    page.more_time.requests = progress.members.iter().filter(|p| p.asked_for_time).count();
    page.more_time.size = progress.members.len();
    page.more_time.extended = progress.extended;
    page.more_time.due = page.due.clone();

    if state.store.get_report(t.id).await?.is_some() {
        let r = session_api::get_report(s(), Some(user.clone()), AppPath(t.id))
            .await?
            .0;
        let outcome: Outcome =
            serde_json::from_value(r.report.outcome.clone()).map_err(internal)?;
        let signed: Vec<String> = r.signatures.iter().map(|s| s.member.clone()).collect();
        let explained = r.report.outcome["explanations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let outliers = outcome
            .outliers
            .iter()
            .map(|o| {
                let explanation = explained
                    .iter()
                    .find(|e| {
                        e["evaluator"] == o.evaluator.to_string() && e["bid"] == o.bid.to_string()
                    })
                    .and_then(|e| e["text"].as_str())
                    .unwrap_or_default()
                    .to_string();
                OutlierRow {
                    member: committee
                        .by_user(o.evaluator)
                        .map(|m| m.member.clone())
                        .unwrap_or_default(),
                    bid: o.bid.to_string(),
                    bidder: names.get(&o.bid).cloned().unwrap_or_default(),
                    total: o.total.to_string(),
                    median: o.median_of_others.to_string(),
                    can_explain: o.evaluator == user.user.id
                        && explanation.is_empty()
                        && signed.is_empty(),
                    explanation,
                }
            })
            .collect();
        page.redraw = signed.is_empty();
        page.can_draw_up = progress.ready_for_report && signed.is_empty();
        page.report = Some(ReportBox {
            outliers,
            version: r.version,
            drawn_up_at: view::time(r.drawn_up_at),
            command: format!(
                "sealbid sign-report {} --server {} --signing-key signing.key --digest {}",
                t.id,
                sealed::shell_quote(&sealed::server_arg(base)),
                r.digest
            ),
            digest: r.digest,
            signing_bytes_b64: r.signing_bytes_b64,
            ranking: rank_rows(&outcome.ranking, &outcome.candidates, &names),
            rejected: rejected_rows(&outcome, &names),
            all_rejected: outcome.all_rejected,
            signed_by_me: signed.contains(&m.member),
            signed,
            members: r.report.members.len(),
            log_index: r.logged.as_ref().map(|l| l.log_index),
            checkpoint: r.logged.map(|l| l.checkpoint),
        });
    } else {
        page.can_draw_up = progress.ready_for_report;
    }
    // The API refuses requests once a report is drawn up, and a second request of a member.
    page.more_time.can_ask = !page.more_time.asked && page.report.is_none();
    Ok(page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}/evaluation", id.trim()));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let done = query.map(|Query(q)| q.done).unwrap_or_default();
    let base = sealed::server_base(&state, &headers);
    let built = async {
        let t = load(&state, &id).await?;
        workspace(
            &state,
            &user,
            &t,
            base.as_deref(),
            flash_text(&done),
            None,
            Typed::default(),
        )
        .await
    }
    .await;
    match built {
        Ok(p) => render(StatusCode::OK, &p, &nav),
        Err(e) => error_page(e, &nav),
    }
}

/// After a form: on success back to the workspace with a note (at `anchor`); refused, the
/// workspace again with the message and what was typed (a 403 or 404 is an error page).
async fn after_form(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    headers: &HeaderMap,
    outcome: AppResult<(&'static str, String)>,
    typed: Typed,
) -> Response {
    let nav = Nav::new(Some(user), "tenders");
    match outcome {
        Ok((done, anchor)) => Redirect::to(&format!(
            "/tenders/{}/evaluation?done={done}{anchor}",
            id.trim()
        ))
        .into_response(),
        Err(e)
            if !matches!(
                e,
                AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Unauthenticated
            ) && !e.status().is_server_error() =>
        {
            let status = e.status();
            let base = sealed::server_base(state, headers);
            let built = async {
                let t = load(state, id).await?;
                workspace(
                    state,
                    user,
                    &t,
                    base.as_deref(),
                    None,
                    Some(message_of(&e)),
                    typed,
                )
                .await
            }
            .await;
            match built {
                Ok(p) => render(status, &p, &nav),
                Err(e) => error_page(e, &nav),
            }
        }
        Err(e) => error_page(e, &nav),
    }
}

/// The first steps of a page's form (here and in `super::award`): not signed in, off to sign in
/// (back at `back`); a form that does not read, an error page; else `then` with both.
pub(super) async fn signed_in_form<F>(
    user: Option<CurrentUser>,
    back: &str,
    form: Result<Form<F>, FormRejection>,
    then: impl AsyncFnOnce(CurrentUser, F) -> Response,
) -> Response {
    let Some(user) = user else {
        return login_redirect(back);
    };
    match form {
        Ok(Form(f)) => then(user, f).await,
        Err(e) => error_page(
            AppError::InvalidBody(e.body_text()),
            &Nav::new(Some(&user), "tenders"),
        ),
    }
}

/// A form of the workspace: signed in and the form read (`signed_in_form`); what was typed kept
/// (`keep`) to show again if refused; the tender loaded; `act` (the API's handler, which may add
/// to what is kept); then `after_form` with the note and anchor it returns, or its error.
async fn workspace_form<F>(
    state: &AppState,
    user: Option<CurrentUser>,
    id: &str,
    headers: &HeaderMap,
    form: Result<Form<F>, FormRejection>,
    keep: impl FnOnce(&F) -> Typed,
    act: impl AsyncFnOnce(&CurrentUser, &Tender, F, &mut Typed) -> AppResult<(&'static str, String)>,
) -> Response {
    let back = format!("/tenders/{}/evaluation", id.trim());
    signed_in_form(user, &back, form, async |user, f| {
        let mut typed = keep(&f);
        let outcome = async {
            let t = load(state, id).await?;
            act(&user, &t, f, &mut typed).await
        }
        .await;
        after_form(state, &user, id, headers, outcome, typed).await
    })
    .await
}

/// Nothing to keep but what `act` adds.
fn keep_nothing<F>(_: &F) -> Typed {
    Typed::default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeclarationForm {
    no_conflict: Option<String>,
    statement: String,
}

pub async fn declare(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<DeclarationForm>, FormRejection>,
) -> Response {
    let keep = |f: &DeclarationForm| Typed {
        statement: f.statement.clone(),
        ..Typed::default()
    };
    let act = async |user: &CurrentUser, t: &Tender, f: DeclarationForm, _: &mut Typed| {
        let body = AppJson(eval_api::DeclarationRequest {
            no_conflict: f.no_conflict.is_some(),
            statement: f.statement,
        });
        eval_api::declare(State(state.clone()), user.clone(), AppPath(t.id), body).await?;
        Ok(("declared", "#bids".to_string()))
    };
    workspace_form(&state, user, &id, &headers, form, keep, act).await
}

/// A bid's qualification checklist: `pass.{i}` (`pass` or `fail`) and `reason.{i}` for each
/// criterion `i`.
type ChecklistForm = HashMap<String, String>;

pub async fn checklist(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path((id, bid)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<ChecklistForm>, FormRejection>,
) -> Response {
    let act = async |user: &CurrentUser, t: &Tender, f: ChecklistForm, typed: &mut Typed| {
        let bid = parse_bid(&bid)?;
        typed.bid = Some(bid);
        let mut items = Vec::new();
        let mut kept = Vec::new();
        for i in 0..t.terms.qualification_criteria.len() {
            let pass = match f.get(&format!("pass.{i}")).map(String::as_str) {
                Some("pass") => Some(true),
                Some("fail") => Some(false),
                _ => None,
            };
            let reason = f.get(&format!("reason.{i}")).cloned().unwrap_or_default();
            if let Some(pass) = pass {
                items.push(session_api::ChecklistItem {
                    criterion: i,
                    pass,
                    reason: reason.clone(),
                });
            }
            kept.push((pass, reason));
        }
        typed.checklist = Some(kept);
        let body = AppJson(session_api::ChecklistBody { items });
        let path = AppPath((t.id, bid));
        session_api::put_checklist(State(state.clone()), user.clone(), path, body).await?;
        Ok(("checklist", format!("#bid-{bid}")))
    };
    workspace_form(&state, user, &id, &headers, form, keep_nothing, act).await
}

/// A bid's score sheet: `score.{criterion}` for each scored criterion.
type SheetForm = HashMap<String, String>;

pub async fn sheet(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path((id, bid)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<SheetForm>, FormRejection>,
) -> Response {
    let act = async |user: &CurrentUser, t: &Tender, f: SheetForm, typed: &mut Typed| {
        let bid = parse_bid(&bid)?;
        typed.bid = Some(bid);
        let raw: BTreeMap<String, String> = f
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("score.").map(|c| (c.to_string(), v.clone())))
            .collect();
        typed.scores = Some(raw.clone());
        let mut scores = BTreeMap::new();
        for (criterion, value) in &raw {
            let Some(v) = blank(value) else { continue };
            let d = v.parse::<Decimal>().map_err(|_| {
                AppError::invalid(
                    "invalid_score",
                    "scores",
                    format!("the score for {criterion} is not a number: {v:?}"),
                )
            })?;
            scores.insert(criterion.clone(), d);
        }
        let body = AppJson(eval_api::SheetRequest { scores });
        let path = AppPath((t.id, bid));
        eval_api::put_sheet(State(state.clone()), user.clone(), path, body).await?;
        Ok(("sheet", format!("#bid-{bid}")))
    };
    workspace_form(&state, user, &id, &headers, form, keep_nothing, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DrawUpForm {
    cost_floor: String,
}

pub async fn draw_up(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<DrawUpForm>, FormRejection>,
) -> Response {
    let keep = |f: &DrawUpForm| Typed {
        cost_floor: f.cost_floor.clone(),
        ..Typed::default()
    };
    let act = async |user: &CurrentUser, t: &Tender, f: DrawUpForm, _: &mut Typed| {
        let cost_floor = match blank(&f.cost_floor) {
            None => None,
            Some(s) => Some(view::clean_amount(s).parse::<Decimal>().map_err(|_| {
                AppError::invalid(
                    "invalid_cost_floor",
                    "cost_floor",
                    "the cost floor is an amount in yuan, e.g. 850000; leave it empty for none",
                )
            })?),
        };
        let body = AppJson(session_api::DrawUpBody { cost_floor });
        session_api::draw_up_report(State(state.clone()), user.clone(), AppPath(t.id), body)
            .await?;
        Ok(("report", "#report".to_string()))
    };
    workspace_form(&state, user, &id, &headers, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignForm {
    key: String,
    signature: String,
    /// The digest the page showed: a report that changed since is not signed.
    digest: String,
}

pub async fn sign(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<SignForm>, FormRejection>,
) -> Response {
    let keep = |f: &SignForm| Typed {
        sign_key: f.key.clone(),
        sign_signature: f.signature.clone(),
        ..Typed::default()
    };
    let act = async |user: &CurrentUser, t: &Tender, f: SignForm, _: &mut Typed| {
        let current =
            session_api::get_report(State(state.clone()), Some(user.clone()), AppPath(t.id))
                .await?
                .0;
        // As `sealbid sign-report --digest`: only the report that was read is signed.
        if !f.digest.trim().eq_ignore_ascii_case(&current.digest) {
            return Err(AppError::Conflict {
                code: "report_changed",
                message: format!(
                    "the report was drawn up again since you read it (digest {} now): read it \
                     again and sign what it says now",
                    current.digest
                ),
                state: None,
            });
        }
        let key: VerifyingKey = f.key.trim().parse().map_err(|_| {
            AppError::invalid(
                "bad_key",
                "key",
                "paste your public signing key (base64), as `sealbid keygen --signing` printed it",
            )
        })?;
        let signature: Signature = f.signature.trim().parse().map_err(|_| {
            AppError::invalid(
                "bad_signature",
                "signature",
                "paste the signature (base64) over the report's signing bytes",
            )
        })?;
        let body = AppJson(session_api::SignBody {
            key,
            signature,
            version: current.version,
        });
        let after =
            session_api::sign_report(State(state.clone()), user.clone(), AppPath(t.id), body)
                .await?
                .0;
        let done = if after.logged.is_some() {
            "logged"
        } else {
            "signed"
        };
        Ok((done, "#report".to_string()))
    };
    workspace_form(&state, user, &id, &headers, form, keep, act).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoreTimeForm {
    reason: String,
}

pub async fn more_time(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<MoreTimeForm>, FormRejection>,
) -> Response {
    let keep = |f: &MoreTimeForm| Typed {
        more_time: true,
        reason: f.reason.clone(),
        ..Typed::default()
    };
    let act = async |user: &CurrentUser, t: &Tender, f: MoreTimeForm, _: &mut Typed| {
        let body = AppJson(session_api::MoreTimeBody { reason: f.reason });
        let asked = session_api::more_time(State(state.clone()), user.clone(), AppPath(t.id), body)
            .await?
            .0;
        let done = if asked.extended {
            "time-extended"
        } else {
            "time-asked"
        };
        Ok((done, "#more-time".to_string()))
    };
    workspace_form(&state, user, &id, &headers, form, keep, act).await
}

#[derive(Debug, Deserialize)]
pub struct ExplainForm {
    bid: String,
    text: String,
}

/// A flagged member explains their total on a bid.
pub async fn explain(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ExplainForm>, FormRejection>,
) -> Response {
    let act = async |user: &CurrentUser, t: &Tender, f: ExplainForm, _: &mut Typed| {
        let body = AppJson(session_api::ExplanationBody {
            bid: parse_bid(&f.bid)?,
            text: f.text,
        });
        session_api::explain(State(state.clone()), user.clone(), AppPath(t.id), body).await?;
        Ok(("explained", "#report".to_string()))
    };
    workspace_form(&state, user, &id, &headers, form, keep_nothing, act).await
}

// ---------------------------------------------------------------------------------------------
// The live progress

pub struct ProgressRow {
    pub seat: u32,
    pub member: String,
    pub representative: bool,
    pub seated: bool,
    pub declared: &'static str,
    pub checklists: String,
    pub sheets: String,
    pub asked: &'static str,
    pub signed: &'static str,
}

#[derive(Template)]
#[template(path = "evaluation_progress.html")]
struct ProgressPage {
    nav: Nav,
    tender_id: String,
    code: String,
    title: String,
    bids: usize,
    criteria: usize,
    scoring: bool,
    rows: Vec<ProgressRow>,
    due: String,
    extended: u32,
    report_state: String,
    report_label: &'static str,
    ready: bool,
    is_member: bool,
    stream_url: String,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `n/N`, or a dash when the step is not needed (the JavaScript writes the same).
fn of(needed: bool, n: usize, all: usize) -> String {
    if needed {
        format!("{n}/{all}")
    } else {
        "—".into()
    }
}

fn report_label(state: &str) -> &'static str {
    match state {
        "none" => "Not drawn up yet 未出具",
        "drawn_up" => "Drawn up, being signed 签署中",
        "logged" => "Signed and logged 已签署并记入日志",
        _ => "?",
    }
}

pub async fn progress(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/tenders/{}/evaluation/progress", id.trim()));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let built: AppResult<ProgressPage> = async {
        let t = load(&state, &id).await?;
        // The API's handler: members, the centre of the hall and supervisors only.
        let p = session_api::get_progress(State(state.clone()), user.clone(), AppPath(t.id))
            .await?
            .0;
        let is_member = session_api::member_of(&state, &user.user, &t).await.is_ok();
        Ok(ProgressPage {
            nav: nav.clone(),
            tender_id: t.id.to_string(),
            code: t.code.as_str().to_string(),
            title: t.terms.title.clone(),
            bids: p.bids,
            criteria: p.criteria,
            scoring: p.scoring,
            rows: p
                .members
                .iter()
                .map(|m| ProgressRow {
                    seat: m.seat,
                    member: m.member.clone(),
                    representative: m.representative,
                    seated: m.seated,
                    declared: yes_no(m.declared),
                    checklists: of(p.criteria > 0, m.checklists, p.bids),
                    sheets: of(p.scoring, m.sheets, p.bids),
                    asked: yes_no(m.asked_for_time),
                    signed: yes_no(m.signed),
                })
                .collect(),
            due: p
                .due_at
                .map(view::time)
                .unwrap_or_else(|| "not set 未设".into()),
            extended: p.extended,
            report_label: report_label(&p.report),
            report_state: p.report,
            ready: p.ready_for_report,
            is_member,
            stream_url: format!("/api/v1/tenders/{}/evaluation/progress/stream", t.id),
        })
    }
    .await;
    match built {
        Ok(p) => render(StatusCode::OK, &p, &nav),
        Err(e) => error_page(e, &nav),
    }
}

/// Keeps the progress table current from the API's server-sent events (a file of its own: the
/// pages' content security policy runs no inline script).
const PROGRESS_JS: &str = r#""use strict";
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-stream");
  var live = document.getElementById("live-status");
  if (!url || !window.EventSource) { return; }
  var labels = {
    none: "Not drawn up yet 未出具",
    drawn_up: "Drawn up, being signed 签署中",
    logged: "Signed and logged 已签署并记入日志"
  };
  function yn(b) { return b ? "yes" : "no"; }
  function of(needed, n, all) { return needed ? n + "/" + all : "\u2014"; }
  function set(el, text) { if (el && el.textContent !== text) { el.textContent = text; } }
  function chinaTime(iso) {
    var d = new Date(Date.parse(iso) + 8 * 3600 * 1000).toISOString();
    return d.slice(0, 10) + " " + d.slice(11, 16) + " (UTC+8)";
  }
  var updates = 0;
  function update(p) {
    p.members.forEach(function (m) {
      var row = document.querySelector('tr[data-member="' + CSS.escape(m.member) + '"]');
      if (!row) { return; }
      var cell = function (f) { return row.querySelector('[data-field="' + f + '"]'); };
      set(cell("declared"), yn(m.declared));
      set(cell("checklists"), of(p.criteria > 0, m.checklists, p.bids));
      set(cell("sheets"), of(p.scoring, m.sheets, p.bids));
      set(cell("asked"), yn(m.asked_for_time));
      set(cell("signed"), yn(m.signed));
    });
    var report = document.getElementById("report-state");
    if (report) { set(report, labels[p.report] || p.report); report.setAttribute("data-state", p.report); }
    var ready = document.getElementById("ready");
    if (ready) {
      set(ready, p.ready_for_report ? "Ready for the report 可出具报告" : "Members are still working 评审中");
      ready.setAttribute("data-ready", String(p.ready_for_report));
    }
    if (p.due_at) { set(document.getElementById("due"), chinaTime(p.due_at)); }
    set(document.getElementById("extended"), String(p.extended));
    updates += 1;
    var table = document.getElementById("progress-table");
    if (table) { table.setAttribute("data-updates", String(updates)); }
  }
  var source = new EventSource(url);
  source.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    update(p);
    set(live, p.report === "logged" ? "Final 最终" : "Live 实时");
    if (p.report === "logged") { source.close(); }
  });
  source.addEventListener("error", function () {
    if (source.readyState !== EventSource.CLOSED) { set(live, "Reconnecting 重新连接中"); }
  });
})();
"#;

pub async fn progress_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PROGRESS_JS,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// The public result

pub struct MemberRow {
    pub name: String,
    pub representative: bool,
}

#[derive(Template)]
#[template(path = "evaluation_result.html")]
struct ResultPage {
    nav: Nav,
    tender_id: String,
    code: String,
    title: String,
    flash: Option<&'static str>,
    logged: bool,
    drawn_up_at: String,
    candidates: Vec<RankRow>,
    ranking: Vec<RankRow>,
    rejected: Vec<RejectRow>,
    all_rejected: bool,
    members: Vec<MemberRow>,
    log_index: String,
    checkpoint: String,
    /// After the evaluation: the publication, objections, award, contract and refunds.
    award: super::award::AwardSection,
}

pub async fn result(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    query: Result<Query<DoneQuery>, QueryRejection>,
) -> Response {
    let done = query.map(|Query(q)| q.done).unwrap_or_default();
    result_response(
        &state,
        user.as_ref(),
        &id,
        StatusCode::OK,
        super::award::flash_text(&done),
        None,
    )
    .await
}

/// The result page with `status`: after a form, its note, or the refused form again.
pub(super) async fn result_response(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: &str,
    status: StatusCode,
    flash: Option<&'static str>,
    failure: Option<super::award::Failure>,
) -> Response {
    let nav = Nav::new(user, "tenders");
    match result_page(state, user, id, nav.clone(), flash, failure).await {
        Ok(p) => render(status, &p, &nav),
        Err(e) => error_page(e, &nav),
    }
}

async fn result_page(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: &str,
    nav: Nav,
    flash: Option<&'static str>,
    failure: Option<super::award::Failure>,
) -> AppResult<ResultPage> {
    let t = super::tenders::load_visible(state, user.map(|u| &u.user), id).await?;
    let mut page = ResultPage {
        nav,
        tender_id: t.id.to_string(),
        code: t.code.as_str().to_string(),
        title: t.terms.title.clone(),
        flash,
        logged: false,
        drawn_up_at: String::new(),
        candidates: Vec::new(),
        ranking: Vec::new(),
        rejected: Vec::new(),
        all_rejected: false,
        members: Vec::new(),
        log_index: String::new(),
        checkpoint: String::new(),
        award: super::award::AwardSection::default(),
    };
    // Nothing before the report is logged, and for the public nothing before the result is
    // published (the candidates): no names, no scores.
    let may_read = session_api::ensure_may_read_report(state, user.map(|u| &u.user), &t)
        .await
        .is_ok();
    let stored = if may_read {
        state.store.get_report(t.id).await?
    } else {
        None
    };
    let logged = match stored {
        Some(stored) => match (&stored.logged, stored.log_index, &stored.checkpoint) {
            (Some(doc), Some(index), Some(checkpoint)) => {
                Some((doc.clone(), index, checkpoint.clone()))
            }
            _ => None,
        },
        None => None,
    };
    let Some((doc, index, checkpoint)) = logged else {
        page.award = super::award::section(state, user, &t, false, failure).await?;
        return Ok(page);
    };
    let logged = Signed::<SignedReport>::from_json_bytes(doc.as_bytes()).map_err(internal)?;
    let report = logged.body.report;
    let outcome: Outcome = serde_json::from_value(report.outcome.clone()).map_err(internal)?;
    let opened = session_api::opened_bids(state, &t).await?;
    let names: HashMap<BidId, String> = opened
        .bids
        .iter()
        .map(|(id, b)| (*id, bidder_name(b)))
        .collect();
    let mut rejected = rejected_rows(&outcome, &names);
    // Bids that did not open validly were rejected at the opening, on the record's ground.
    for (_, b) in &opened.bids {
        if let BidOutcome::Invalid { code, reason } = &b.outcome {
            rejected.push(reject_row(
                bidder_name(b),
                b.price
                    .as_ref()
                    .map(|p| yuan(p.total))
                    .unwrap_or_else(|| "—".into()),
                &format!("invalid at opening: {code}"),
                "开标记录",
                reason,
            ));
        }
    }
    page.logged = true;
    page.drawn_up_at = view::time(report.drawn_up_at);
    page.candidates = rank_rows(&outcome.candidates, &outcome.candidates, &names);
    page.ranking = rank_rows(&outcome.ranking, &outcome.candidates, &names);
    page.rejected = rejected;
    page.all_rejected = outcome.all_rejected;
    page.members = report
        .members
        .iter()
        .map(|m| MemberRow {
            name: m.name.clone(),
            representative: m.representative,
        })
        .collect();
    page.log_index = index.to_string();
    page.checkpoint = checkpoint;
    page.award = super::award::section(state, user, &t, true, failure).await?;
    Ok(page)
}
