//! Server-rendered pages for people: sign-in, the tender list, a tender's page with the actions
//! its viewer may take (and its documents to download or, for its tenderee, to upload; its
//! opening committee, sealed-bid count, closing checkpoint and opening record), a bidder's page
//! to submit a bid sealed with `sealbid seal` and keep its receipts, the tender form, the
//! trading centre's review queue, the evaluation pages, the steps after the evaluation on the
//! result page (publication, objections, award notice, contract, refunds) and the refund tasks.
//!
//! Pages apply the same rules as the JSON API (`crate::policy`), read the time only from the
//! state's clock, and answer errors with an HTML page carrying the `AppError`'s message and
//! status. Forms post with the `SameSite=Lax` session cookie; a post whose `Origin` names another
//! site is refused (CSRF defence).
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequestParts, OptionalFromRequestParts, Request};
use axum::handler::Handler;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sealbid_domain::org::Role;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

mod award;
mod bids;
mod evaluation;
mod form;
mod reviews;
mod sealed;
mod session;
mod supervision;
mod tenders;
pub mod view;

#[cfg(test)]
mod tests;

/// The one stylesheet, compiled in.
const APP_CSS: &str = include_str!("../../static/app.css");

/// The pages' routes. `lib.rs` merges them into the application router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/tenders") }))
        .route(
            "/login",
            get(session::login_form).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route("/tenders", get(tenders::list))
        .route("/tenders/new", get(tenders::new_form).post(tenders::create))
        .route("/tenders/{id}", get(tenders::detail))
        .route(
            "/tenders/{id}/edit",
            get(tenders::edit_form).post(tenders::edit_submit),
        )
        .route("/tenders/{id}/submit", post(tenders::submit))
        .route("/tenders/{id}/cancel", post(tenders::cancel))
        .route("/tenders/{id}/approve", post(tenders::approve))
        .route("/tenders/{id}/return", post(tenders::return_for_changes))
        // Documents stream through their own limit (`ServerSettings::max_document_bytes`).
        .route(
            "/tenders/{id}/documents",
            post(tenders::upload_document).layer(DefaultBodyLimit::disable()),
        )
        // The bidder's page: deposit reference, the sealing command, the upload of a sealed
        // bid (envelopes stream through `ServerSettings::max_bid_bytes`) and the receipts.
        .route(
            "/tenders/{id}/bid",
            get(bids::page).post(bids::upload.layer(DefaultBodyLimit::disable())),
        )
        .route(
            "/tenders/{id}/bid/deposit-reference",
            post(bids::deposit_reference),
        )
        // `{bid_id}.json`: the router takes no suffix after a parameter; the handler strips it.
        .route("/tenders/{id}/bid/receipts/{file}", get(bids::receipt))
        // The evaluation: a member's workspace and its forms, the live progress, the result.
        .route("/tenders/{id}/evaluation", get(evaluation::page))
        .route(
            "/tenders/{id}/evaluation/declaration",
            post(evaluation::declare),
        )
        .route(
            "/tenders/{id}/evaluation/qualification/{bid}",
            post(evaluation::checklist),
        )
        .route(
            "/tenders/{id}/evaluation/sheets/{bid}",
            post(evaluation::sheet),
        )
        .route("/tenders/{id}/evaluation/report", post(evaluation::draw_up))
        .route(
            "/tenders/{id}/evaluation/report/sign",
            post(evaluation::sign),
        )
        .route(
            "/tenders/{id}/evaluation/more-time",
            post(evaluation::more_time),
        )
        .route(
            "/tenders/{id}/evaluation/explanations",
            post(evaluation::explain),
        )
        .route(
            "/tenders/{id}/evaluation/progress",
            get(evaluation::progress),
        )
        .route("/tenders/{id}/result", get(evaluation::result))
        // After the evaluation, on the result page: publication, objections, the award notice,
        // the contract and the deposit refunds (the API's handlers, with the page's user).
        .route("/tenders/{id}/result/publication", post(award::publish))
        .route("/tenders/{id}/result/objections", post(award::object))
        .route(
            "/tenders/{id}/result/objections/{number}/answer",
            post(award::answer),
        )
        .route("/tenders/{id}/result/notice", post(award::notice))
        .route("/tenders/{id}/result/contract", post(award::contract))
        .route(
            "/tenders/{id}/result/refunds/{org}/done",
            post(award::refund),
        )
        .route("/refunds", get(award::tasks))
        .route(
            "/static/evaluation-progress.js",
            get(evaluation::progress_script),
        )
        .route("/reviews", get(reviews::queue))
        .route("/supervision/alerts", get(supervision::queue))
        .route("/supervision/alerts/{id}", get(supervision::alert))
        .route("/supervision/alerts/{id}/review", post(supervision::review))
        .route("/supervision/history", post(supervision::screen_history))
        .route("/orgs/{id}/credit", get(supervision::credit))
        .route("/static/app.css", get(stylesheet))
        // Any other path outside the API: a 404 page (the API has its own JSON fallback).
        .fallback(not_found)
        .layer(middleware::from_fn(same_origin_posts))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
                 form-action 'self'; base-uri 'none'",
            ),
        ))
        // Pages can show private drafts: no shared caches, and revalidate on every visit.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

async fn not_found(Viewer(user): Viewer) -> Response {
    error_page(AppError::NotFound("page"), &Nav::new(user.as_ref(), ""))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
        .into_response()
}

/// The host (and port) an `Origin` header names, e.g. `example.org:8443`.
fn origin_authority(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    let rest = rest.trim_end_matches('/');
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// Whether a state-changing request comes from our own pages: when the browser says where the
/// form was (`Origin`), it must be this host. Browsers always send `Origin` on cross-site posts.
fn same_origin(req: &Request) -> bool {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return true;
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match (origin.to_str().ok().and_then(origin_authority), host) {
        (Some(o), Some(h)) => o.eq_ignore_ascii_case(h.trim()),
        _ => false,
    }
}

async fn same_origin_posts(req: Request, next: Next) -> Response {
    if same_origin(&req) {
        next.run(req).await
    } else {
        error_page(
            AppError::forbidden(
                "this form was sent from another site; cross-site form posts are refused. \
                 Open the page on Sealbid itself and send the form again.",
            ),
            &Nav::default(),
        )
    }
}

/// Who is looking, for the header: name and the links their roles open.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    pub user: Option<NavUser>,
    pub can_create: bool,
    pub can_review: bool,
    pub can_supervise: bool,
    /// Which top-level link is current: `tenders`, `new`, `reviews`, `refunds`, `supervision`,
    /// `login`.
    pub active: &'static str,
}

#[derive(Clone, Debug)]
pub struct NavUser {
    pub display_name: String,
    pub username: String,
    pub roles: String,
}

impl Nav {
    pub fn new(user: Option<&CurrentUser>, active: &'static str) -> Nav {
        let Some(u) = user.map(|c| &c.user) else {
            return Nav {
                active,
                ..Nav::default()
            };
        };
        Nav {
            user: Some(NavUser {
                display_name: u.display_name.clone(),
                username: u.username.clone(),
                roles: u
                    .roles
                    .iter()
                    .map(|r| r.as_str().replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            can_create: crate::policy::ensure_can_create(u).is_ok(),
            can_review: u.has(Role::CentreOfficer) || u.has(Role::Admin),
            can_supervise: u.has(Role::Supervisor) || u.has(Role::Admin),
            active,
        }
    }
}

/// `Option<CurrentUser>` whose failure (a store error while resolving the session) is an HTML
/// error page rather than JSON.
pub struct Viewer(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        <CurrentUser as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Viewer)
            .map_err(|e| error_page(e, &Nav::default()))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: &'a Nav,
    status: u16,
    reason: &'a str,
    message: String,
    problems: Vec<ProblemView>,
}

/// One problem, labelled for people.
#[derive(Clone, Debug)]
pub struct ProblemView {
    pub field: String,
    pub label: String,
    pub message: String,
}

impl ProblemView {
    pub fn from_problem(p: &sealbid_domain::tender::Problem) -> ProblemView {
        ProblemView {
            field: p.field.clone(),
            label: view::field_label(&p.field),
            message: p.message.clone(),
        }
    }
}

/// The problems an error carries, if it lists several.
pub fn problems_of(e: &AppError) -> Vec<ProblemView> {
    use sealbid_domain::tender::TenderError;
    match e {
        AppError::Problems(p) | AppError::Tender(TenderError::Invalid(p)) => {
            p.iter().map(ProblemView::from_problem).collect()
        }
        _ => Vec::new(),
    }
}

/// The message of an error as people read it (5xx causes stay in the log).
pub fn message_of(e: &AppError) -> String {
    use sealbid_domain::tender::TenderError;
    match e {
        AppError::Tender(TenderError::Invalid(p)) | AppError::Problems(p) => format!(
            "The tender has {} problem(s): fix all of them and try again.",
            p.len()
        ),
        other => view::sentence(&other.to_string()),
    }
}

/// Renders an error as a page. Not signed in: off to the sign-in page instead.
pub fn error_page(e: AppError, nav: &Nav) -> Response {
    if matches!(e, AppError::Unauthenticated) {
        return Redirect::to("/login").into_response();
    }
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = ?e, "page failed");
    }
    let page = ErrorPage {
        nav,
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Error"),
        message: message_of(&e),
        problems: problems_of(&e),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "error template failed");
            (status, e.to_string()).into_response()
        }
    }
}

/// Renders a template with a status; a template failure becomes a 500 page.
pub fn render<T: Template>(status: StatusCode, page: &T, nav: &Nav) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => error_page(AppError::Internal(anyhow::anyhow!("template: {err}")), nav),
    }
}

/// Sends someone who is not signed in to the sign-in page, coming back to `next` afterwards.
pub fn login_redirect(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", view::url_encode(next))).into_response()
}

/// A path we may redirect to after signing in: local, absolute, no scheme-relative tricks.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control());
    ok.then_some(next)
}
