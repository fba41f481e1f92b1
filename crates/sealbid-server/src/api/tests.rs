//! Router tests without a socket (`oneshot`), on an in-memory SQLite store.
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::TimeZone;
use http_body_util::BodyExt;
use sealbid_domain::{ManualClock, WorkingCalendar};
use tower::ServiceExt;
use utoipa::OpenApi;

use super::*;
use crate::state::ServerSettings;

async fn state(dir: &tempfile::TempDir) -> AppState {
    let store = sealbid_store::sqlite::SqliteStore::open_in_memory()
        .await
        .unwrap();
    let blobs = sealbid_store::blob::ObjectBlobStore::local(dir.path()).unwrap();
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap());
    AppState::new(
        Arc::new(store),
        Arc::new(blobs),
        Arc::new(clock),
        Arc::new(WorkingCalendar::try_builtin().unwrap()),
        ServerSettings::default(),
    )
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn json_request(method: &str, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[test]
fn the_document_is_openapi_3_1_with_every_endpoint() {
    let doc = ApiDoc::openapi();
    let json = serde_json::to_value(&doc).unwrap();
    assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
    let operations: usize = doc
        .paths
        .paths
        .values()
        .map(|item| {
            [
                &item.get,
                &item.post,
                &item.put,
                &item.delete,
                &item.patch,
                &item.head,
                &item.options,
                &item.trace,
            ]
            .iter()
            .filter(|o| o.is_some())
            .count()
        })
        .sum();
    assert_eq!(operations, 27);
    assert!(openapi_text()
        .unwrap()
        .contains("\"/tenders/{id}/questions/{qid}/answer\""));
}

#[test]
fn pages_are_bounded() {
    assert_eq!(page(None, None).unwrap(), (DEFAULT_PAGE, 0));
    assert_eq!(page(Some(100), Some(5)).unwrap(), (100, 5));
    assert_eq!(page(Some(0), None).unwrap_err().code(), "invalid_query");
    assert_eq!(page(Some(101), None).unwrap_err().code(), "invalid_query");
    assert_eq!(
        page(None, Some(MAX_OFFSET + 1)).unwrap_err().code(),
        "invalid_query"
    );
}

#[tokio::test]
async fn router_answers_in_the_api_error_format() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::router(state(&dir).await);

    let (status, body) = send(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["paths"]["/tenders"].is_object());

    let (status, body) = send(
        &app,
        Request::get("/api/v1/halls").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([]));

    let (status, body) = send(&app, json_request("POST", "/api/v1/tenders", "{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");

    let (status, body) = send(
        &app,
        json_request("POST", "/api/v1/auth/login", "{\"username\": "),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_json");

    let (status, body) = send(
        &app,
        json_request(
            "POST",
            "/api/v1/auth/login",
            r#"{"username": "nobody", "password": "nothing at all"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "bad_credentials");

    let (status, body) = send(
        &app,
        Request::get("/api/v1/tenders/not-a-uuid")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_path");

    let (status, body) = send(
        &app,
        Request::get(format!("/api/v1/tenders/{}", uuid::Uuid::new_v4()))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) = send(
        &app,
        Request::get("/api/v1/nothing/here")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) = send(
        &app,
        Request::delete("/api/v1/halls")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let (status, body) = send(
        &app,
        Request::get("/api/v1/tenders?limit=500")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_query");
}
