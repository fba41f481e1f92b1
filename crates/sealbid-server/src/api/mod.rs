//! The JSON API under `/api/v1`: accounts, organisations, tenders (create, review, publish,
//! amend, clarify), tender documents (upload, download, withdraw), the review queue and the audit
//! log, with its OpenAPI document at `/api/v1/openapi.json`.
//!
//! Every endpoint is listed once, in [`endpoints!`]: the router and the OpenAPI document are both
//! built from that list and from each handler's `#[utoipa::path]`, so the document cannot miss a
//! route and a route cannot be served at a path or method other than the documented one.
//!
//! Handlers follow one shape: extract (our own `AppJson`/`AppPath`/`AppQuery`, whose rejections
//! are `AppError`s), load, check `policy`, apply the domain transition on a copy, then write the
//! change and its audit record in one store call. Time comes from `state.now()` only.
use std::sync::OnceLock;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::handler::Handler;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use serde::Serialize;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;

mod accounts;
mod audit;
pub mod award;
mod clarify;
pub mod documents;
pub mod dto;
pub mod evaluation;
pub mod ocds;
pub mod screening;
pub mod sealing;
pub mod session;
mod tenders;

pub(crate) use tenders::load as load_tender;

/// A JSON body whose rejections (syntax, unknown field, size, content type) are `AppError`s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; a malformed id is a 400 `invalid_path` in our error format.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

/// Query parameters; a malformed value is a 400 `invalid_query` in our error format.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// Largest page a listing returns.
pub const MAX_PAGE: u32 = 100;
/// Page size when the client does not say.
pub const DEFAULT_PAGE: u32 = 50;
/// Deepest offset a listing accepts (deeper pages: narrow the query instead).
pub const MAX_OFFSET: u32 = 100_000;

/// `limit` and `offset` of a listing, checked.
pub(crate) fn page(limit: Option<u32>, offset: Option<u32>) -> AppResult<(u32, u32)> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    let offset = offset.unwrap_or(0);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            message: format!("limit must be between 1 and {MAX_PAGE}"),
        });
    }
    if offset > MAX_OFFSET {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            message: format!("offset must be at most {MAX_OFFSET}: narrow the query instead"),
        });
    }
    Ok((limit, offset))
}

/// The shared OpenAPI attributes; the paths come from [`endpoints!`].
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "a token from POST /auth/login (the pages' session cookie works too)",
                    ))
                    .build(),
            ),
        );
    }
}

/// A handler, with a layer of its own when the list gives one.
macro_rules! layered {
    ($h:path) => {
        $h
    };
    ($h:path, $layer:expr) => {
        $h.layer($layer)
    };
}

/// Lists every endpoint as `module::handler / module::__path_handler`, optionally followed by
/// `with LAYER` for a layer of that route alone, and generates from that one list both [`ApiDoc`]
/// and the router.
macro_rules! endpoints {
    ($($m:ident :: $h:ident / $p:ident $(with $layer:expr)?),* $(,)?) => {
        /// The OpenAPI 3.1 document of the API.
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "Sealbid API",
                description = "Sealed-bid electronic tendering: accounts, organisations, tenders, review, clarifications and the audit log. Errors always have the body `{\"error\": {\"code\", \"message\", …}}` with a stable `code`.",
                license(name = "Apache-2.0")
            ),
            servers((url = "/api/v1")),
            paths($($m::$h),*),
            components(schemas(ErrorBody)),
            modifiers(&BearerAuth),
            tags(
                (name = "auth", description = "Sign in and out"),
                (name = "accounts", description = "Halls, users and organisations"),
                (name = "tenders", description = "Tenders and their review"),
                (name = "clarifications", description = "Amendments, questions and answers"),
                (name = "documents", description = "Tender documents: the files themselves"),
                (name = "evaluation", description = "The expert pool and the verifiable committee draw"),
        (name = "award", description = "Candidates, objections, the award notice, the contract and the deposit refunds"),
                (name = "open data", description = "OCDS 1.1 releases and records of the public tenders"),
                (name = "supervision", description = "The anomaly engine's screenings and alerts, their review, credit histories and rejected bids"),
                (name = "audit", description = "The hash-chained audit log"),
                (name = "meta", description = "This document")
            )
        )]
        pub struct ApiDoc;

        fn routes() -> Router<AppState> {
            let router = Router::new();
            $(let router = add::<$m::$p, _, _>(router, layered!($m::$h $(, $layer)?));)*
            router
        }
    };
}

endpoints! {
    accounts::login / __path_login,
    accounts::logout / __path_logout,
    accounts::me / __path_me,
    accounts::list_halls / __path_list_halls,
    accounts::create_hall / __path_create_hall,
    accounts::create_user / __path_create_user,
    accounts::list_users / __path_list_users,
    accounts::create_org / __path_create_org,
    accounts::list_orgs / __path_list_orgs,
    accounts::get_org / __path_get_org,
    tenders::create_tender / __path_create_tender,
    tenders::list_tenders / __path_list_tenders,
    tenders::get_tender / __path_get_tender,
    tenders::update_tender / __path_update_tender,
    tenders::submit_tender / __path_submit_tender,
    tenders::approve_tender / __path_approve_tender,
    tenders::return_tender / __path_return_tender,
    tenders::cancel_tender / __path_cancel_tender,
    tenders::list_reviews / __path_list_reviews,
    clarify::create_amendment / __path_create_amendment,
    clarify::list_amendments / __path_list_amendments,
    clarify::ask_question / __path_ask_question,
    clarify::list_questions / __path_list_questions,
    clarify::answer_question / __path_answer_question,
    // Uploads stream through their own limit (`ServerSettings::max_document_bytes`).
    documents::upload_document / __path_upload_document with DefaultBodyLimit::disable(),
    documents::withdraw_document / __path_withdraw_document,
    documents::download_document / __path_download_document,
    sealing::get_committee / __path_get_committee,
    sealing::set_committee / __path_set_committee,
    sealing::register_key / __path_register_key,
    sealing::deposit_reference / __path_deposit_reference,
    // Envelopes stream through their own limit (`ServerSettings::max_bid_bytes`).
    sealing::upload_envelope / __path_upload_envelope with DefaultBodyLimit::disable(),
    sealing::download_envelope / __path_download_envelope,
    sealing::submit_bid / __path_submit_bid,
    sealing::withdraw_bid / __path_withdraw_bid,
    sealing::count_bids / __path_count_bids,
    sealing::my_bids / __path_my_bids,
    sealing::bank_deposit / __path_bank_deposit,
    sealing::opening_envelopes / __path_opening_envelopes,
    sealing::opening_commit / __path_opening_commit,
    // A reveal holds one key per envelope of the tender (about 180 bytes each).
    sealing::opening_reveal / __path_opening_reveal with DefaultBodyLimit::max(sealing::MAX_REVEAL_BYTES),
    sealing::opening_finish / __path_opening_finish,
    sealing::opening_record / __path_opening_record,
    sealing::log_key / __path_log_key,
    sealing::log_checkpoint / __path_log_checkpoint,
    sealing::log_entries / __path_log_entries,
    sealing::log_proof / __path_log_proof,
    // Expert pools stream through their own limit (`evaluation::MAX_POOL_CSV_BYTES`).
    evaluation::import_experts / __path_import_experts with DefaultBodyLimit::max(evaluation::MAX_POOL_CSV_BYTES),
    evaluation::list_experts / __path_list_experts,
    evaluation::draw_committee / __path_draw_committee,
    evaluation::get_draw / __path_get_draw,
    evaluation::public_pool / __path_public_pool,
    evaluation::decline_member / __path_decline_member,
    evaluation::link_account / __path_link_account,
    evaluation::declare / __path_declare,
    evaluation::bids_for_review / __path_bids_for_review,
    evaluation::set_scheme / __path_set_scheme,
    evaluation::put_sheet / __path_put_sheet,
    evaluation::list_sheets / __path_list_sheets,
    session::set_representatives / __path_set_representatives,
    session::set_time / __path_set_time,
    session::more_time / __path_more_time,
    session::put_checklist / __path_put_checklist,
    session::my_checklists / __path_my_checklists,
    session::get_progress / __path_get_progress,
    session::progress_stream / __path_progress_stream,
    session::draw_up_report / __path_draw_up_report,
    session::get_report / __path_get_report,
    session::sign_report / __path_sign_report,
    session::explain / __path_explain,
    award::get_award / __path_get_award,
    award::publish / __path_publish,
    award::object / __path_object,
    award::answer / __path_answer,
    award::notice / __path_notice,
    award::contract / __path_contract,
    award::refund_done / __path_refund_done,
    award::refund_tasks / __path_refund_tasks,
    ocds::tender_releases / __path_tender_releases,
    ocds::tender_record / __path_tender_record,
    ocds::records / __path_records,
    screening::run_screening / __path_run_screening,
    screening::get_screening / __path_get_screening,
    screening::run_history / __path_run_history,
    screening::list_alerts / __path_list_alerts,
    screening::get_alert / __path_get_alert,
    screening::review_alert / __path_review_alert,
    screening::org_credit / __path_org_credit,
    screening::tender_rejections / __path_tender_rejections,
    audit::tender_audit / __path_tender_audit,
    audit::verify_audit / __path_verify_audit,
    self::openapi_json / __path_openapi_json,
}

/// Registers `handler` at the path and methods its `#[utoipa::path]` documents.
fn add<P, H, T>(router: Router<AppState>, handler: H) -> Router<AppState>
where
    P: utoipa::Path,
    H: Handler<T, AppState>,
    T: 'static,
{
    let path = P::path();
    P::methods().into_iter().fold(router, |r, m| {
        r.route(&path, on(method_filter(m), handler.clone()))
    })
}

fn method_filter(m: HttpMethod) -> MethodFilter {
    match m {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Delete => MethodFilter::DELETE,
        HttpMethod::Options => MethodFilter::OPTIONS,
        HttpMethod::Head => MethodFilter::HEAD,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Trace => MethodFilter::TRACE,
    }
}

/// The API, to be nested under `/api/v1`. Unknown paths and methods below it answer in our
/// error format too (404 `not_found`, 405 `method_not_allowed`).
pub fn router() -> Router<AppState> {
    routes()
        .fallback(|| async { AppError::NotFound("API endpoint") })
        .method_not_allowed_fallback(|method: Method| async move {
            AppError::MethodNotAllowed(method.to_string())
        })
}

/// The rendered document, built once.
fn openapi_text() -> AppResult<&'static str> {
    static DOC: OnceLock<Result<String, String>> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .map_err(|e| e.to_string())
    })
    .as_deref()
    .map_err(|e| AppError::Internal(anyhow::anyhow!("OpenAPI document: {e}")))
}

/// The OpenAPI 3.1 document as pretty JSON (the `sealbid openapi` command writes it to
/// `docs/api/openapi.json`).
pub fn openapi_document() -> Result<String, AppError> {
    openapi_text().map(str::to_string)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> AppResult<Response> {
    let text = openapi_text()?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response())
}

/// An empty success, for endpoints that answer 204.
#[derive(Debug)]
pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
