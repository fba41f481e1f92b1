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
    .expect("fresh platform keys")
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
    assert_eq!(operations, 92);
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

#[tokio::test]
async fn sign_ins_are_throttled_with_or_without_the_clients_address() {
    use axum::extract::connect_info::MockConnectInfo;
    use std::net::SocketAddr;

    let dir = tempfile::tempdir().unwrap();
    let state = state(&dir).await;
    state
        .login_throttle
        .set_limits(crate::throttle::ThrottleLimits {
            max_failures_per_ip: 3,
            ..Default::default()
        });
    let attempt = |user: &str| {
        json_request(
            "POST",
            "/api/v1/auth/login",
            &format!(r#"{{"username": "{user}", "password": "nothing at all"}}"#),
        )
    };

    // `oneshot` without connect info: no address, so only the per-username limit applies.
    let app = crate::router(state.clone());
    for _ in 0..5 {
        assert_eq!(
            send(&app, attempt("nobody")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let resp = app.clone().oneshot(attempt("nobody")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "900");
    for i in 0..5 {
        let (status, _) = send(&app, attempt(&format!("user{i}"))).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "no address, no address limit"
        );
    }

    // With the client's address (as `serve` provides it), the address is limited too.
    let app = crate::router(state.clone())
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 7], 40000))));
    for i in 0..3 {
        let (status, _) = send(&app, attempt(&format!("ip{i}"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = send(&app, attempt("fresh")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "too_many_attempts");
}

#[test]
fn request_types_never_print_passwords() {
    let login: dto::LoginRequest =
        serde_json::from_str(r#"{"username": "admin", "password": "hunter2 hunter2"}"#).unwrap();
    let create: dto::CreateUserRequest = serde_json::from_str(
        r#"{"username": "u", "display_name": "U", "password": "hunter2 hunter2",
            "roles": ["bidder"], "hall": "370200"}"#,
    )
    .unwrap();
    for shown in [format!("{login:?}"), format!("{create:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}
