//! The anomaly engine over HTTP, for supervisors: screening a tender (and the whole history) on
//! demand, the alert queue with its filters, one alert with its evidence and review steps, and the
//! review itself. Credit histories and a tender's rejected bids are for the wider set of roles that
//! need them (`crate::policy`). Bidders never see an alert.
use std::collections::HashMap;

use axum::extract::State;
use sealbid_domain::org::User;
use sealbid_domain::screening::{AlertStatus, ReviewAction};
use sealbid_domain::{AlertId, OrgId, TenderId};
use sealbid_store::{AlertFilter, StoredAlert};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tenders::load;
use super::{page, AppJson, AppPath, AppQuery};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::screening::{self, ScreeningOutcome};
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

// ----- screening -----

/// Screens an opened tender now (it also runs by itself at the opening). Idempotent: alerts
/// already stored keep their review status.
#[utoipa::path(
    post,
    path = "/tenders/{id}/screening",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Screened", body = ScreeningOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "The bids are not open yet", body = ErrorBody),
    )
)]
pub async fn run_screening(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<ScreeningOutcome>> {
    let t = load(&state, id).await?;
    policy::ensure_supervisor(&user.user, &t).map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("tender"),
        e => e,
    })?;
    Ok(AppJson(
        screening::screen_tender(&state, &t, "manual", Some(&user.user)).await?,
    ))
}

/// A tender's latest screening.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningView {
    #[schema(value_type = String, format = Uuid)]
    pub tender: TenderId,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The stored screening: trigger, engine, bids, screens, score and how it was reached.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
}

/// A tender's latest screening (supervisors).
#[utoipa::path(
    get,
    path = "/tenders/{id}/screening",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The screening", body = ScreeningView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "No such tender, or not screened yet", body = ErrorBody),
    )
)]
pub async fn get_screening(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<ScreeningView>> {
    let t = load(&state, id).await?;
    policy::ensure_supervisor(&user.user, &t).map_err(|e| match e {
        AppError::NotFound(_) => AppError::NotFound("tender"),
        e => e,
    })?;
    let s = state
        .store
        .get_tender_screening(id)
        .await?
        .ok_or(AppError::NotFound("screening"))?;
    Ok(AppJson(ScreeningView {
        tender: id,
        at: s.at,
        result: serde_json::from_str(&s.doc).map_err(internal)?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOutcome {
    pub tenders: Vec<ScreeningOutcome>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// Only tenders opened on or after this day (UTC).
    pub from: Option<chrono::NaiveDate>,
    /// Only tenders opened on or before this day (UTC).
    pub to: Option<chrono::NaiveDate>,
}

/// Re-screens the opened tenders in the supervisor's halls (all, or those opened in a period),
/// oldest first, so cross-tender detectors and market fences see the history.
#[utoipa::path(
    post,
    path = "/screening/history",
    tag = "supervision",
    security(("bearer" = [])),
    request_body = HistoryRequest,
    responses(
        (status = 200, description = "Screened", body = HistoryOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 422, description = "The period ends before it starts", body = ErrorBody),
    )
)]
pub async fn run_history(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<HistoryRequest>,
) -> AppResult<AppJson<HistoryOutcome>> {
    let scope = policy::supervision_scope(&user.user)?;
    if let (Some(from), Some(to)) = (body.from, body.to) {
        if to < from {
            return Err(AppError::invalid(
                "invalid_period",
                "to",
                format!("the period ends ({to}) before it starts ({from}): swap the dates"),
            ));
        }
    }
    let period = (body.from, body.to);
    Ok(AppJson(HistoryOutcome {
        tenders: screening::screen_history(&state, &user.user, &scope, period).await?,
    }))
}

// ----- alerts -----

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this tender's alerts.
    #[param(value_type = Option<String>, format = Uuid)]
    pub tender: Option<TenderId>,
    /// Only alerts naming this bidder (organisation id).
    #[param(value_type = Option<String>, format = Uuid)]
    pub bidder: Option<OrgId>,
    /// e.g. `identical_prices`, `cv`, `deposit_same_account`.
    pub indicator: Option<String>,
    /// `price_screen`, `price_pattern`, `history`, `documents`, `links`.
    pub family: Option<String>,
    /// `open`, `under_review`, `confirmed`, `dismissed`.
    pub status: Option<String>,
    /// Least score, 0 to 1.
    pub min_score: Option<f64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// A bidder named in an alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertBidder {
    /// Organisation id (or the engine's label for a bid without one).
    pub id: String,
    pub name: Option<String>,
}

/// One alert in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: AlertId,
    #[schema(value_type = String, format = Uuid)]
    pub tender: TenderId,
    pub tender_code: String,
    pub family: String,
    pub indicator: String,
    /// e.g. `条例 40(6)`; none for a statistical screen.
    pub legal_ground: Option<String>,
    pub bidders: Vec<AlertBidder>,
    /// 0 to 1.
    pub score: f64,
    pub status: String,
    pub version: i64,
    pub raised_at: chrono::DateTime<chrono::Utc>,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    pub total: u64,
    pub alerts: Vec<AlertSummary>,
}

const FAMILIES: [&str; 5] = [
    "price_screen",
    "price_pattern",
    "history",
    "documents",
    "links",
];

/// Checks the queue's query and turns it into a store filter.
pub(crate) fn alert_filter(
    q: &AlertQuery,
    scope: sealbid_store::HallScope,
) -> AppResult<AlertFilter> {
    let (limit, offset) = page(q.limit, q.offset)?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            AlertStatus::parse(s).ok_or_else(|| AppError::BadRequest {
                code: "invalid_query",
                message: format!(
                    "status must be one of open, under_review, confirmed, dismissed (got {s:?})"
                ),
            })
        })
        .transpose()?;
    if let Some(f) = q.family.as_deref().filter(|f| !f.is_empty()) {
        if !FAMILIES.contains(&f) {
            return Err(AppError::BadRequest {
                code: "invalid_query",
                message: format!("family must be one of {} (got {f:?})", FAMILIES.join(", ")),
            });
        }
    }
    let min_score_milli = match q.min_score {
        None => None,
        Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Some((v * 1000.0).round() as i64),
        Some(v) => {
            return Err(AppError::BadRequest {
                code: "invalid_query",
                message: format!("min_score is a number from 0 to 1 (got {v})"),
            })
        }
    };
    Ok(AlertFilter {
        scope,
        tender: q.tender,
        bidder: q.bidder.map(|b| b.to_string()),
        indicator: q.indicator.clone().filter(|s| !s.is_empty()),
        family: q.family.clone().filter(|s| !s.is_empty()),
        status,
        min_score_milli,
        limit,
        offset,
    })
}

/// Names of the organisations the alerts name, and the tenders' codes.
pub(crate) async fn summaries(
    state: &AppState,
    alerts: &[StoredAlert],
) -> AppResult<Vec<AlertSummary>> {
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut codes: HashMap<TenderId, String> = HashMap::new();
    let mut out = Vec::with_capacity(alerts.len());
    for a in alerts {
        if let std::collections::hash_map::Entry::Vacant(slot) = codes.entry(a.tender_id) {
            let code = state
                .store
                .get_tender(a.tender_id)
                .await?
                .map(|t| t.code.as_str().to_string())
                .unwrap_or_default();
            slot.insert(code);
        }
        let mut bidders = Vec::with_capacity(a.bidders.len());
        for b in &a.bidders {
            if !names.contains_key(b) {
                let name = match OrgId::parse(b) {
                    Ok(id) => state.store.get_org(id).await?.map(|o| o.name),
                    Err(_) => None,
                };
                names.insert(b.clone(), name);
            }
            bidders.push(AlertBidder {
                id: b.clone(),
                name: names.get(b).cloned().flatten(),
            });
        }
        let engine: sealbid_screen::Alert = serde_json::from_str(&a.doc).map_err(internal)?;
        out.push(AlertSummary {
            id: a.id,
            tender: a.tender_id,
            tender_code: codes.get(&a.tender_id).cloned().unwrap_or_default(),
            family: a.family.clone(),
            indicator: a.indicator.clone(),
            legal_ground: engine.legal_ground.map(|g| g.cite),
            bidders,
            score: a.score_milli as f64 / 1000.0,
            status: a.status.as_str().to_string(),
            version: a.version,
            raised_at: a.raised_at,
            summary: engine.summary,
        });
    }
    Ok(out)
}

/// The supervisors' alert queue, highest score first.
#[utoipa::path(
    get,
    path = "/alerts",
    tag = "supervision",
    security(("bearer" = [])),
    params(AlertQuery),
    responses(
        (status = 200, description = "The alerts", body = AlertList),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
    )
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<AlertQuery>,
) -> AppResult<AppJson<AlertList>> {
    let scope = policy::supervision_scope(&user.user)?;
    let filter = alert_filter(&q, scope)?;
    let alerts = state.store.list_alerts(&filter).await?;
    let total = state.store.count_alerts(&filter).await?;
    Ok(AppJson(AlertList {
        total,
        alerts: summaries(&state, &alerts).await?,
    }))
}

/// One alert with its evidence and its review steps.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub summary: AlertSummary,
    /// The engine's alert: legal ground, score and how it was reached, evidence (figures, facts,
    /// passages side by side, the tender's price chart as SVG).
    #[schema(value_type = Object)]
    pub alert: serde_json::Value,
    pub reviews: Vec<ReviewView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor: Option<sealbid_domain::UserId>,
    pub action: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// Loads an alert the user may supervise (404 otherwise, as if it did not exist).
pub(crate) async fn load_alert(
    state: &AppState,
    user: &User,
    id: AlertId,
) -> AppResult<StoredAlert> {
    policy::supervision_scope(user)?;
    let a = state
        .store
        .get_alert(id)
        .await?
        .ok_or(AppError::NotFound("alert"))?;
    let t = load(state, a.tender_id).await?;
    policy::ensure_supervisor(user, &t)?;
    Ok(a)
}

pub(crate) async fn detail(state: &AppState, a: &StoredAlert) -> AppResult<AlertDetail> {
    let summary = summaries(state, std::slice::from_ref(a))
        .await?
        .pop()
        .ok_or_else(|| internal("alert summary"))?;
    let reviews = state
        .store
        .list_alert_reviews(a.id)
        .await?
        .into_iter()
        .map(|r| ReviewView {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            from: r.from_status.as_str().into(),
            to: r.to_status.as_str().into(),
            reason: r.reason,
        })
        .collect();
    Ok(AlertDetail {
        summary,
        alert: serde_json::from_str(&a.doc).map_err(internal)?,
        reviews,
    })
}

/// One alert (supervisors).
#[utoipa::path(
    get,
    path = "/alerts/{id}",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Alert id")),
    responses(
        (status = 200, description = "The alert", body = AlertDetail),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
    )
)]
pub async fn get_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<AlertId>,
) -> AppResult<AppJson<AlertDetail>> {
    let a = load_alert(&state, &user.user, id).await?;
    Ok(AppJson(detail(&state, &a).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `start` (open → under review), `confirm` or `dismiss` (under review → decided).
    #[schema(value_type = String)]
    pub action: ReviewAction,
    /// Required to confirm or dismiss: what the evidence shows.
    #[serde(default)]
    pub reason: String,
    /// On confirmation: bar the bidders from bidding for this many days (1 to 1098).
    pub bar_days: Option<u32>,
    /// The alert's version as loaded; a different current one is a 409.
    pub version: i64,
}

/// A review step. Confirming marks the named bidders' bids for rejection in evaluation and writes a
/// record into their credit histories (optionally barring them for a period); every step is audited.
#[utoipa::path(
    post,
    path = "/alerts/{id}/review",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Alert id")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The alert after the step", body = AlertDetail),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a supervisor", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 409, description = "Not allowed from the alert's status, or it changed since loaded", body = ErrorBody),
        (status = 422, description = "Reason missing or too long, bar out of range", body = ErrorBody),
    )
)]
pub async fn review_alert(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<AlertId>,
    AppJson(body): AppJson<ReviewRequest>,
) -> AppResult<AppJson<AlertDetail>> {
    let a = load_alert(&state, &user.user, id).await?;
    let after = screening::review(
        &state,
        &user.user,
        &a,
        body.action,
        &body.reason,
        body.bar_days,
        body.version,
    )
    .await?;
    Ok(AppJson(detail(&state, &after).await?))
}

// ----- credit and rejections -----

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditView {
    #[schema(value_type = String, format = Uuid)]
    pub org: OrgId,
    pub org_name: String,
    /// Barred from bidding until then, if a record bars it now.
    pub barred_until: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<sealbid_store::CreditRecord>,
}

/// A bidder's credit history (tenderees, evaluators, supervisors, the trading centre; a bidder its own).
#[utoipa::path(
    get,
    path = "/orgs/{id}/credit",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Organisation id")),
    responses(
        (status = 200, description = "The credit history", body = CreditView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such organisation", body = ErrorBody),
    )
)]
pub async fn org_credit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<OrgId>,
) -> AppResult<AppJson<CreditView>> {
    policy::ensure_can_see_credit(&user.user, id)?;
    let org = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let now = state.now();
    let records = state.store.list_credit_records(id).await?;
    let barred_until = records
        .iter()
        .filter(|r| r.bars_at(now))
        .filter_map(|r| r.barred_until)
        .max();
    Ok(AppJson(CreditView {
        org: id,
        org_name: org.name,
        barred_until,
        records,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionView {
    #[schema(value_type = String, format = Uuid)]
    pub bidder: OrgId,
    pub bidder_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub alert: AlertId,
    pub ground: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The bids of a tender that confirmed collusion alerts mark for rejection in evaluation.
#[utoipa::path(
    get,
    path = "/tenders/{id}/rejections",
    tag = "supervision",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The rejections", body = Vec<RejectionView>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn tender_rejections(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<RejectionView>>> {
    let t = load(&state, id).await?;
    policy::ensure_can_see_rejections(&user.user, &t)?;
    let mut out = Vec::new();
    for r in state.store.list_bid_rejections(id).await? {
        let name = state
            .store
            .get_org(r.bidder_org)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        out.push(RejectionView {
            bidder: r.bidder_org,
            bidder_name: name,
            alert: r.alert_id,
            ground: r.ground,
            at: r.at,
        });
    }
    Ok(AppJson(out))
}
