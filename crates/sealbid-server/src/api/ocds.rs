//! Open data under `/api/v1/ocds`: OCDS 1.1 release and record packages of the public tenders, for
//! anyone (no sign-in). Drafts and tenders under review do not exist here.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sealbid_domain::TenderId;
use serde::Deserialize;
use utoipa::IntoParams;

use super::tenders::load;
use super::{page, AppPath, AppQuery};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;

fn json(v: &serde_json::Value) -> AppResult<Response> {
    let body =
        serde_json::to_vec(v).map_err(|e| AppError::Internal(anyhow::anyhow!("ocds: {e}")))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// One tender's releases, as an OCDS release package.
#[utoipa::path(
    get,
    path = "/ocds/tenders/{id}/releases",
    tag = "open data",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Release package", content_type = "application/json"),
        (status = 404, description = "No such public tender", body = ErrorBody),
    )
)]
pub async fn tender_releases(
    State(state): State<AppState>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<Response> {
    let t = load(&state, id).await?;
    let uri = format!("/api/v1/ocds/tenders/{id}/releases");
    json(&crate::ocds::release_package(&state, &t, &uri).await?)
}

/// One tender's record (its releases and compiled release), as an OCDS record package.
#[utoipa::path(
    get,
    path = "/ocds/tenders/{id}/record",
    tag = "open data",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Record package", content_type = "application/json"),
        (status = 404, description = "No such public tender", body = ErrorBody),
    )
)]
pub async fn tender_record(
    State(state): State<AppState>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<Response> {
    let t = load(&state, id).await?;
    if !t.state.is_public() {
        return Err(AppError::NotFound("tender"));
    }
    let uri = format!("/api/v1/ocds/tenders/{id}/record");
    json(&crate::ocds::record_package(&state, std::slice::from_ref(&t), &uri).await?)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OcdsPage {
    /// Tenders per page (1–100, default 50).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The public tenders' records, newest tender first, as an OCDS record package (paged).
#[utoipa::path(
    get,
    path = "/ocds/records",
    tag = "open data",
    params(OcdsPage),
    responses(
        (status = 200, description = "Record package", content_type = "application/json"),
        (status = 400, description = "Bad paging", body = ErrorBody),
    )
)]
pub async fn records(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<OcdsPage>,
) -> AppResult<Response> {
    let (limit, offset) = page(q.limit, q.offset)?;
    let tenders = crate::ocds::public_tenders(&state, limit, offset).await?;
    let uri = format!("/api/v1/ocds/records?limit={limit}&offset={offset}");
    json(&crate::ocds::record_package(&state, &tenders, &uri).await?)
}
