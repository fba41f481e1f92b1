//! The supervisors' pages: the alert queue (filters by tender, bidder, indicator, score and status),
//! one alert with its evidence (figures, facts, passages side by side, the tender's price chart) and
//! the review form (take up, confirm or dismiss with a reason, an optional bar), and a bidder's
//! credit history for everyone who checks qualifications. Same rules as the API (`crate::policy`).
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine as _;
use sealbid_domain::screening::{AlertStatus, ReviewAction};
use sealbid_domain::{AlertId, OrgId};
use serde::Deserialize;

use super::{error_page, login_redirect, render, view, Nav, Viewer};
use crate::api::screening::{alert_filter, detail, load_alert, AlertQuery, AlertSummary};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::policy;
use crate::state::AppState;

/// Rows on one page of the queue.
const QUEUE_PAGE: u32 = 100;

pub struct AlertRow {
    pub id: String,
    pub tender_code: String,
    pub tender_id: String,
    pub indicator: String,
    pub ground: String,
    pub bidders: String,
    pub score: String,
    pub score_pct: u32,
    pub status: String,
    pub status_label: &'static str,
    pub raised: String,
    pub summary: String,
}

fn status_label(s: &str) -> &'static str {
    AlertStatus::parse(s).map_or("?", |s| s.label())
}

fn row(a: &AlertSummary) -> AlertRow {
    AlertRow {
        id: a.id.to_string(),
        tender_code: a.tender_code.clone(),
        tender_id: a.tender.to_string(),
        indicator: a.indicator.replace('_', " "),
        ground: a.legal_ground.clone().unwrap_or_else(|| "—".into()),
        bidders: a
            .bidders
            .iter()
            .map(|b| b.name.clone().unwrap_or_else(|| b.id.clone()))
            .collect::<Vec<_>>()
            .join(", "),
        score: format!("{:.2}", a.score),
        score_pct: (a.score * 100.0).round().clamp(0.0, 100.0) as u32,
        status: a.status.clone(),
        status_label: status_label(&a.status),
        raised: view::time(a.raised_at),
        summary: a
            .bidders
            .iter()
            .fold(a.summary.clone(), |t, b| match &b.name {
                Some(n) => t.replace(b.id.as_str(), n),
                None => t,
            }),
    }
}

/// The queue's filter form as typed (kept to refill the form).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueParams {
    tender: String,
    bidder: String,
    indicator: String,
    status: String,
    min_score: String,
    offset: Option<u32>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<AlertRow>,
    total: u64,
    params: QueueParams,
    statuses: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    flash: Option<String>,
}

fn blank(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn to_query(p: &QueueParams) -> AppResult<AlertQuery> {
    let bad = |field: &str, what: &str| AppError::BadRequest {
        code: "invalid_query",
        message: format!("{field}: {what}"),
    };
    Ok(AlertQuery {
        tender: blank(&p.tender)
            .map(|s| {
                s.parse()
                    .map_err(|_| bad("tender", "paste the tender's id"))
            })
            .transpose()?,
        bidder: blank(&p.bidder)
            .map(|s| {
                s.parse()
                    .map_err(|_| bad("bidder", "paste the bidder organisation's id"))
            })
            .transpose()?,
        indicator: blank(&p.indicator).map(|s| s.replace(' ', "_")),
        family: None,
        status: blank(&p.status).map(str::to_string),
        min_score: blank(&p.min_score)
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| bad("min score", "a number from 0 to 1"))
            })
            .transpose()?,
        limit: Some(QUEUE_PAGE),
        offset: p.offset,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Flash {
    done: String,
}

pub async fn queue(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    params: Result<Query<QueueParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect("/supervision/alerts");
    };
    let nav = Nav::new(Some(&user), "supervision");
    let params = params.map(|Query(p)| p).unwrap_or_default();
    match queue_page(&state, &user, nav.clone(), params).await {
        Ok(page) => render(StatusCode::OK, &page, &nav),
        Err(e) => error_page(e, &nav),
    }
}

async fn queue_page(
    state: &AppState,
    user: &CurrentUser,
    nav: Nav,
    params: QueueParams,
) -> AppResult<QueuePage> {
    let scope = policy::supervision_scope(&user.user)?;
    let statuses = AlertStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let query = match to_query(&params).and_then(|q| alert_filter(&q, scope)) {
        Ok(f) => f,
        Err(e) => {
            return Ok(QueuePage {
                nav,
                rows: Vec::new(),
                total: 0,
                params,
                statuses,
                error: Some(super::message_of(&e)),
                flash: None,
            })
        }
    };
    let alerts = state.store.list_alerts(&query).await?;
    let total = state.store.count_alerts(&query).await?;
    let rows = crate::api::screening::summaries(state, &alerts)
        .await?
        .iter()
        .map(row)
        .collect();
    Ok(QueuePage {
        nav,
        rows,
        total,
        params,
        statuses,
        error: None,
        flash: None,
    })
}

pub struct FigureRow {
    pub name: String,
    pub value: String,
}

pub struct PassageRow {
    pub left_who: String,
    pub left_text: String,
    pub right_who: String,
    pub right_text: String,
}

pub struct ReviewRow {
    pub at: String,
    pub action: String,
    pub from: &'static str,
    pub to: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    nav: Nav,
    row: AlertRow,
    version: i64,
    ground_text: String,
    score_method: String,
    score_parts: Vec<FigureRow>,
    figures: Vec<FigureRow>,
    facts: Vec<FigureRow>,
    tenders: Vec<String>,
    passages: Vec<PassageRow>,
    /// `data:` URL of the price chart (an `<img>` never runs an SVG's scripts).
    chart: Option<String>,
    reviews: Vec<ReviewRow>,
    can_start: bool,
    can_decide: bool,
    error: Option<String>,
    flash: Option<String>,
    reason: String,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

async fn alert_page(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    error: Option<String>,
    flash: Option<String>,
    reason: String,
) -> AppResult<AlertPage> {
    let id: AlertId = id.trim().parse().map_err(|_| AppError::NotFound("alert"))?;
    let a = load_alert(state, &user.user, id).await?;
    let d = detail(state, &a).await?;
    let engine: sealbid_screen::Alert = serde_json::from_value(d.alert.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored alert: {e}")))?;
    // The engine names bidders by organisation id; people read names.
    let names: Vec<(String, String)> = d
        .summary
        .bidders
        .iter()
        .filter_map(|b| b.name.clone().map(|n| (b.id.clone(), n)))
        .collect();
    let named = |text: &str| {
        names.iter().fold(text.to_string(), |t, (id, name)| {
            t.replace(id.as_str(), name)
        })
    };
    let chart = engine.evidence.chart_svg.as_ref().map(|svg| {
        format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
        )
    });
    let mut shown = row(&d.summary);
    shown.summary = named(&shown.summary);
    Ok(AlertPage {
        nav: Nav::new(Some(user), "supervision"),
        row: shown,
        version: a.version,
        ground_text: engine
            .legal_ground
            .as_ref()
            .map(|g| g.text.clone())
            .unwrap_or_else(|| {
                "a statistical screen: grounds for a look, not a deemed case of collusion".into()
            }),
        score_method: engine.score.method.clone(),
        score_parts: engine
            .score
            .parts
            .iter()
            .map(|p| FigureRow {
                name: p.name.clone(),
                value: format!("{} → {:+.3}", number(p.value), p.weight),
            })
            .collect(),
        figures: engine
            .evidence
            .figures
            .iter()
            .map(|(k, v)| FigureRow {
                name: named(&k.replace('_', " ")),
                value: number(*v),
            })
            .collect(),
        facts: engine
            .evidence
            .facts
            .iter()
            .map(|(k, v)| FigureRow {
                name: named(&k.replace('_', " ")),
                value: named(v),
            })
            .collect(),
        tenders: engine.evidence.tenders.clone(),
        passages: engine
            .evidence
            .passages
            .iter()
            .map(|p| PassageRow {
                left_who: format!(
                    "{} · {} @{}",
                    named(&p.left.bidder),
                    p.left.file,
                    p.left.offset
                ),
                left_text: p.left.text.clone(),
                right_who: format!(
                    "{} · {} @{}",
                    named(&p.right.bidder),
                    p.right.file,
                    p.right.offset
                ),
                right_text: p.right.text.clone(),
            })
            .collect(),
        chart,
        reviews: d
            .reviews
            .iter()
            .map(|r| ReviewRow {
                at: view::time(r.at),
                action: r.action.clone(),
                from: status_label(&r.from),
                to: status_label(&r.to),
                reason: r.reason.clone(),
            })
            .collect(),
        can_start: a.status == AlertStatus::Open,
        can_decide: a.status == AlertStatus::UnderReview,
        error,
        flash,
        reason,
    })
}

pub async fn alert(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    flash: Result<Query<Flash>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/supervision/alerts/{}", id.trim()));
    };
    let nav = Nav::new(Some(&user), "supervision");
    let flash = flash
        .ok()
        .and_then(|Query(f)| blank(&f.done).map(|d| format!("Alert {d}.")));
    match alert_page(&state, &user, &id, None, flash, String::new()).await {
        Ok(page) => render(StatusCode::OK, &page, &nav),
        Err(e) => error_page(e, &nav),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewForm {
    action: String,
    reason: String,
    bar_days: String,
    version: i64,
}

pub async fn review(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/supervision/alerts/{}", id.trim()));
    };
    let nav = Nav::new(Some(&user), "supervision");
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(AppError::InvalidBody(e.body_text()), &nav),
    };
    let outcome: AppResult<&'static str> = async {
        let alert_id: AlertId = id.trim().parse().map_err(|_| AppError::NotFound("alert"))?;
        let a = load_alert(&state, &user.user, alert_id).await?;
        let action = match f.action.as_str() {
            "start" => ReviewAction::Start,
            "confirm" => ReviewAction::Confirm,
            "dismiss" => ReviewAction::Dismiss,
            other => {
                return Err(AppError::invalid(
                    "invalid_action",
                    "action",
                    format!("unknown review action {other:?}"),
                ))
            }
        };
        let bar_days = match blank(&f.bar_days) {
            None => None,
            Some(s) => Some(s.parse::<u32>().map_err(|_| {
                AppError::invalid(
                    "bar_out_of_range",
                    "bar_days",
                    "the bar is a whole number of days; leave it empty for no bar",
                )
            })?),
        };
        crate::screening::review(
            &state, &user.user, &a, action, &f.reason, bar_days, f.version,
        )
        .await?;
        Ok(match action {
            ReviewAction::Start => "taken up for review",
            ReviewAction::Confirm => "confirmed",
            ReviewAction::Dismiss => "dismissed",
        })
    }
    .await;
    match outcome {
        Ok(done) => Redirect::to(&format!(
            "/supervision/alerts/{}?done={}",
            id.trim(),
            view::url_encode(done)
        ))
        .into_response(),
        // Refused: the same page again, with the message and what was typed.
        Err(e) if !matches!(e, AppError::NotFound(_) | AppError::Forbidden(_)) => {
            let status = e.status();
            match alert_page(
                &state,
                &user,
                &id,
                Some(super::message_of(&e)),
                None,
                f.reason.clone(),
            )
            .await
            {
                Ok(page) => render(status, &page, &nav),
                Err(e) => error_page(e, &nav),
            }
        }
        Err(e) => error_page(e, &nav),
    }
}

/// Re-screens every opened tender in the supervisor's halls.
pub async fn screen_history(State(state): State<AppState>, Viewer(user): Viewer) -> Response {
    let Some(user) = user else {
        return login_redirect("/supervision/alerts");
    };
    let nav = Nav::new(Some(&user), "supervision");
    let run: AppResult<usize> = async {
        let scope = policy::supervision_scope(&user.user)?;
        Ok(
            crate::screening::screen_history(&state, &user.user, &scope, (None, None))
                .await?
                .len(),
        )
    }
    .await;
    match run {
        Ok(n) => {
            let params = QueueParams::default();
            match queue_page(&state, &user, nav.clone(), params).await {
                Ok(mut page) => {
                    page.flash = Some(format!("Screened {n} opened tender(s)."));
                    render(StatusCode::OK, &page, &nav)
                }
                Err(e) => error_page(e, &nav),
            }
        }
        Err(e) => error_page(e, &nav),
    }
}

pub struct CreditRow {
    pub recorded: String,
    pub kind: String,
    pub ground: String,
    pub reason: String,
    pub tender: String,
    pub barred_until: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "credit.html")]
struct CreditPage {
    nav: Nav,
    org_name: String,
    credit_code: String,
    barred: Option<String>,
    rows: Vec<CreditRow>,
}

pub async fn credit(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&format!("/orgs/{}/credit", id.trim()));
    };
    let nav = Nav::new(Some(&user), "");
    let page: AppResult<CreditPage> = async {
        let org: OrgId = id
            .trim()
            .parse()
            .map_err(|_| AppError::NotFound("organisation"))?;
        policy::ensure_can_see_credit(&user.user, org)?;
        let o = state
            .store
            .get_org(org)
            .await?
            .ok_or(AppError::NotFound("organisation"))?;
        let now = state.now();
        let records = state.store.list_credit_records(org).await?;
        let barred = records
            .iter()
            .filter(|r| r.bars_at(now))
            .filter_map(|r| r.barred_until)
            .max()
            .map(view::time);
        let mut rows = Vec::new();
        for r in &records {
            let tender = match r.tender_id {
                Some(t) => state
                    .store
                    .get_tender(t)
                    .await?
                    .map(|t| t.code.as_str().to_string())
                    .unwrap_or_default(),
                None => String::new(),
            };
            rows.push(CreditRow {
                recorded: view::time(r.recorded_at),
                kind: r.kind.clone(),
                ground: r.ground.clone(),
                reason: r.reason.clone(),
                tender,
                barred_until: r.barred_until.map(view::time).unwrap_or_default(),
                active: r.bars_at(now),
            });
        }
        Ok(CreditPage {
            nav: nav.clone(),
            org_name: o.name,
            credit_code: o.credit_code.as_str().to_string(),
            barred,
            rows,
        })
    }
    .await;
    match page {
        Ok(p) => render(StatusCode::OK, &p, &nav),
        Err(e) => error_page(e, &nav),
    }
}
