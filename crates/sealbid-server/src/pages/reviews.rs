//! The trading centre's review queue: tenders under review in the halls the officer covers,
//! soonest due first, with those past the 3-working-day limit marked overdue.
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use sealbid_domain::org::Role;
use sealbid_domain::tender::TenderState;
use sealbid_store::{HallScope, TenderFilter};

use super::{error_page, login_redirect, render, view, Nav, Viewer};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::state::AppState;

/// More than this many pending reviews would be a crisis; the page shows the first ones.
const QUEUE_LIMIT: u32 = 500;

pub struct ReviewRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub org: String,
    pub hall: String,
    pub submitted: String,
    pub due: String,
    pub overdue: bool,
    /// "2 h 5 min left" or "overdue by 1 day 3 h".
    pub due_note: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct QueuePage {
    nav: Nav,
    rows: Vec<ReviewRow>,
    overdue: usize,
    total: u64,
    scope: String,
}

pub async fn queue(State(state): State<AppState>, Viewer(user): Viewer) -> Response {
    let Some(user) = user else {
        return login_redirect("/reviews");
    };
    let nav = Nav::new(Some(&user), "reviews");
    match queue_page(&state, &user, nav.clone()).await {
        Ok(page) => render(StatusCode::OK, &page, &nav),
        Err(e) => error_page(e, &nav),
    }
}

async fn queue_page(state: &AppState, user: &CurrentUser, nav: Nav) -> AppResult<QueuePage> {
    user.require_any(&[Role::CentreOfficer])?;
    let u = &user.user;
    let scope = if u.has(Role::Admin) {
        HallScope::All
    } else {
        HallScope::Within(u.hall.clone())
    };
    let filter = TenderFilter {
        scope: scope.clone(),
        states: vec![TenderState::UnderReview],
        public_or_org: None,
        limit: QUEUE_LIMIT,
        ..TenderFilter::default()
    };
    let mut tenders = state.store.list_tenders(&filter).await?;
    let total = state.store.count_tenders(&filter).await?;
    tenders.retain(|t| crate::policy::ensure_reviewer(u, t).is_ok());
    tenders.sort_by_key(|t| (t.review_due, t.submitted_at));
    let halls = state.store.list_halls().await?;
    let now = state.now();
    let mut rows = Vec::with_capacity(tenders.len());
    for t in &tenders {
        let org = state
            .store
            .get_org(t.org)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let overdue = t.review_overdue(now);
        let due_note = match t.review_due {
            Some(due) if overdue => format!("overdue by {}", view::elapsed(due, now)),
            Some(due) => view::countdown(now, due).unwrap_or_default(),
            None => String::new(),
        };
        rows.push(ReviewRow {
            id: t.id.to_string(),
            code: t.code.to_string(),
            title: t.terms.title.clone(),
            org,
            hall: halls
                .iter()
                .find(|h| h.division == t.hall)
                .map(|h| h.name.clone())
                .unwrap_or_else(|| t.hall.as_str().to_string()),
            submitted: t.submitted_at.map(view::time).unwrap_or_default(),
            due: t.review_due.map(view::time).unwrap_or_default(),
            overdue,
            due_note,
            deadline: view::time(t.terms.bid_deadline),
        });
    }
    let scope = match scope {
        HallScope::All => "all halls".to_string(),
        HallScope::Within(d) => halls
            .iter()
            .find(|h| h.division == d)
            .map(|h| format!("{} ({}) and the halls it covers", h.name, d.as_str()))
            .unwrap_or_else(|| format!("hall {} and the halls it covers", d.as_str())),
    };
    Ok(QueuePage {
        nav,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        total,
        scope,
    })
}
