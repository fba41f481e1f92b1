//! Every kind of bad input gets its status and stable error code — and leaves the store exactly as
//! it was (compared through a snapshot of everything the admin can list plus the audit chain's
//! length, taken before and after).
use chrono::Duration;
use serde_json::{json, Value};

use crate::support::{Resp, TestApp};

/// Parties and tenders the bad requests aim at.
struct World {
    tenderee: String,
    other_tenderee: String,
    bidder: String,
    officer: String,
    draft: String,
    published: String,
}

async fn world(app: &TestApp) -> World {
    app.create_hall("370202", "Shinan District Hall").await;
    let org = app
        .create_org("Shinan Roads Bureau", "tenderee", "370202")
        .await;
    let other_org = app
        .create_org("Laoshan Water Bureau", "tenderee", "370202")
        .await;
    let bidder_org = app
        .create_org("Haiwan Construction Co.", "bidder", "370202")
        .await;
    let tenderee = app
        .create_user("wang.tenderee", &["tenderee"], Some(&org), "370202")
        .await;
    let other_tenderee = app
        .create_user("zhou.tenderee", &["tenderee"], Some(&other_org), "370202")
        .await;
    let bidder = app
        .create_user("li.bidder", &["bidder"], Some(&bidder_org), "370202")
        .await;
    let officer = app
        .create_user("zhao.officer", &["centre_officer"], None, "370200")
        .await;
    let draft = app.create_tender(&tenderee, "QD-DRAFT-1", 30).await;
    let published = app.create_tender(&tenderee, "QD-PUB-1", 30).await;
    app.post(
        &format!("/tenders/{published}/submit"),
        Some(&tenderee),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/tenders/{published}/approve"),
        Some(&officer),
        json!({}),
    )
    .await
    .expect(200);
    World {
        tenderee,
        other_tenderee,
        bidder,
        officer,
        draft,
        published,
    }
}

/// Sends a raw body with a content type.
async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut req = app
        .client
        .request(method, app.api(path))
        .bearer_auth(token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    app.send(req).await
}

/// Sends `bad` (a request future, which does nothing until awaited), checks its status and code,
/// and checks that the store did not change.
async fn unchanged(
    app: &TestApp,
    status: u16,
    code: &str,
    bad: impl std::future::Future<Output = Resp>,
) -> Resp {
    let before = app.snapshot().await;
    let r = bad.await;
    assert_eq!(
        r.status, status,
        "expected {status} {code}, got: {}",
        r.text
    );
    assert_eq!(r.code(), code, "{}", r.text);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "errors are JSON"
    );
    let after = app.snapshot().await;
    assert_eq!(
        before, after,
        "the store changed after a refused request ({code})"
    );
    r
}

e2e_test! {
    async fn malformed_json_is_400(app: TestApp) {
        let w = world(&app).await;
        let r = unchanged(&app, 400, "invalid_json",             raw(&app, reqwest::Method::POST, "/tenders", &w.tenderee, Some("application/json"), br#"{"code": "QD-X", "title": "#.to_vec())
        )
        .await;
        assert!(!r.message().is_empty());
        unchanged(&app, 400, "invalid_json",             raw(&app, reqwest::Method::PUT, &format!("/tenders/{}", w.draft), &w.tenderee, Some("application/json"), b"not json".to_vec())
        )
        .await;
        unchanged(&app, 415, "unsupported_media_type",             raw(&app, reqwest::Method::POST, "/tenders", &w.tenderee, Some("text/plain"), app.tender_body("QD-X", 30).to_string().into_bytes())
        )
        .await;
        // A field of the wrong type is a 400 too, with its own code.
        let mut body = app.tender_body("QD-X", 30);
        body["mandatory"] = json!("yes");
        unchanged(&app, 400, "invalid_body", app.post("/tenders", Some(&w.tenderee), body)).await;
        let mut body = app.tender_body("QD-X", 30);
        body["estimated_price"] = json!("12.345");
        let r = unchanged(&app, 400, "invalid_body", app.post("/tenders", Some(&w.tenderee), body)).await;
        assert!(r.message().contains("two decimal places"), "{}", r.text);
    }
}

e2e_test! {
    async fn unknown_field_is_400(app: TestApp) {
        let w = world(&app).await;
        let mut body = app.tender_body("QD-X", 30);
        body["colour"] = json!("red");
        let r = unchanged(&app, 400, "unknown_field", app.post("/tenders", Some(&w.tenderee), body)).await;
        assert!(r.message().contains("colour"), "{}", r.text);
        // Nested objects are strict too.
        let r = unchanged(&app, 400, "unknown_field",             app.post(
                &format!("/tenders/{}/amendments", w.published),
                Some(&w.tenderee),
                json!({"summary": "s", "changes": {"category": "goods"}}),
            )
        )
        .await;
        assert!(r.message().contains("category"), "{}", r.text);
        unchanged(&app, 400, "unknown_field",             app.post("/auth/login", None, json!({"username": "admin", "password": "x", "otp": 1}))
        )
        .await;
    }
}

e2e_test! {
    async fn body_over_the_limit_is_413(app: TestApp) {
        let w = world(&app).await;
        let mut body = app.tender_body("QD-X", 30);
        body["description"] = Value::String("x".repeat(sealbid_server::BODY_LIMIT + 1));
        let r = unchanged(&app, 413, "body_too_large", app.post("/tenders", Some(&w.tenderee), body)).await;
        assert!(r.message().contains(&sealbid_server::BODY_LIMIT.to_string()), "{}", r.text);
    }
}

e2e_test! {
    async fn invalid_credit_code_is_422_naming_the_check_character(app: TestApp) {
        let w = world(&app).await;
        // 91110000600037341L is valid; with X as its 18th character it is not.
        let r = unchanged(&app, 422, "invalid_credit_code",             app.post(
                "/orgs",
                Some(&w.officer),
                json!({"credit_code": "91110000600037341X", "name": "Bad Code Co.", "kind": "bidder", "hall": "370202"}),
            )
        )
        .await;
        assert!(r.message().contains("'L'"), "names the expected check character: {}", r.text);
        assert_eq!(r.body["error"]["field"], "credit_code");
        let r = unchanged(&app, 422, "invalid_credit_code",             app.post(
                "/orgs",
                Some(&app.admin),
                json!({"credit_code": "9111000060003734", "name": "Short Co.", "kind": "bidder", "hall": "370202"}),
            )
        )
        .await;
        assert!(r.message().contains("18"), "{}", r.text);
        let r = unchanged(&app, 422, "invalid_division_code",             app.post(
                "/orgs",
                Some(&app.admin),
                json!({"credit_code": app.next_credit_code(), "name": "Nowhere Co.", "kind": "bidder", "hall": "000000"}),
            )
        )
        .await;
        assert_eq!(r.body["error"]["field"], "hall");
        unchanged(&app, 422, "unknown_hall",             app.post(
                "/orgs",
                Some(&app.admin),
                json!({"credit_code": app.next_credit_code(), "name": "Elsewhere Co.", "kind": "bidder", "hall": "110101"}),
            )
        )
        .await;
    }
}

e2e_test! {
    async fn deadline_too_early_is_422_naming_the_earliest_legal_date(app: TestApp) {
        let w = world(&app).await;
        // Mandatory tender, deadline 10 days out: the earliest legal deadline is 20 days after
        // publication — here, now: 2025-03-23 09:00 China time.
        let r = unchanged(&app, 422, "deadline_too_early",             app.post("/tenders", Some(&w.tenderee), app.tender_body("QD-EARLY", 10))
        )
        .await;
        assert!(r.message().contains("2025-03-23 09:00"), "{}", r.text);
        assert_eq!(r.body["error"]["field"], "bid_deadline");
        // Several problems are reported at once.
        let mut body = app.tender_body("QD-EARLY", 10);
        body["bid_deposit"] = json!("50000.00");
        body["title"] = json!("");
        let r = unchanged(&app, 422, "invalid_tender", app.post("/tenders", Some(&w.tenderee), body)).await;
        let codes: Vec<&str> = r.body["error"]["problems"].as_array().unwrap().iter()
            .map(|p| p["code"].as_str().unwrap()).collect();
        for c in ["invalid_title", "deposit_too_high", "deadline_too_early"] {
            assert!(codes.contains(&c), "{c} missing from {codes:?}");
        }
        // Editing a draft is checked the same way.
        unchanged(&app, 422, "deadline_too_early",             app.put(&format!("/tenders/{}", w.draft), Some(&w.tenderee), app.tender_body("QD-DRAFT-1", 10))
        )
        .await;
        // And a draft whose deadline has become too early cannot be submitted.
        app.clock.advance(Duration::days(15));
        let r = unchanged(&app, 422, "deadline_too_early",             app.post(&format!("/tenders/{}/submit", w.draft), Some(&w.tenderee), json!({}))
        )
        .await;
        assert!(r.message().contains("2025-04-07 09:00"), "{}", r.text);
    }
}

e2e_test! {
    async fn illegal_transition_is_409_with_the_current_state(app: TestApp) {
        let w = world(&app).await;
        for (path, token) in [
            (format!("/tenders/{}/approve", w.published), &w.officer),
            (format!("/tenders/{}/submit", w.published), &w.tenderee),
        ] {
            let r = unchanged(&app, 409, "illegal_transition", app.post(&path, Some(token), json!({}))).await;
            assert_eq!(r.body["error"]["state"], "published", "{}", r.text);
        }
        let r = unchanged(&app, 409, "illegal_transition",             app.put(&format!("/tenders/{}", w.published), Some(&w.tenderee), app.tender_body("QD-PUB-1", 30))
        )
        .await;
        assert_eq!(r.body["error"]["state"], "published");
        let r = unchanged(&app, 409, "illegal_transition",             app.post(&format!("/tenders/{}/amendments", w.draft), Some(&w.tenderee),
                json!({"summary": "s", "changes": {"title": "t"}}))
        )
        .await;
        assert_eq!(r.body["error"]["state"], "draft");
        // Past the deadline nothing about the bidding may change.
        app.clock.advance(Duration::days(31));
        unchanged(&app, 409, "deadline_passed",             app.post(&format!("/tenders/{}/amendments", w.published), Some(&w.tenderee),
                json!({"summary": "s", "changes": {"title": "t"}}))
        )
        .await;
    }
}

e2e_test! {
    async fn no_session_is_401(app: TestApp) {
        let w = world(&app).await;
        let r = unchanged(&app, 401, "unauthenticated", app.post("/tenders", None, app.tender_body("QD-X", 30))).await;
        assert!(r.headers.contains_key("www-authenticate"));
        unchanged(&app, 401, "unauthenticated",             app.post("/tenders", Some("not-a-real-token"), app.tender_body("QD-X", 30))
        )
        .await;
        unchanged(&app, 401, "unauthenticated",             app.post(&format!("/tenders/{}/cancel", w.published), None, json!({"reason": "r"}))
        )
        .await;
    }
}

e2e_test! {
    async fn wrong_role_or_organisation_is_403_and_hidden_drafts_404(app: TestApp) {
        let w = world(&app).await;
        let r = unchanged(&app, 403, "forbidden", app.post("/tenders", Some(&w.bidder), app.tender_body("QD-X", 30))).await;
        assert!(r.message().contains("tenderee"), "{}", r.text);
        unchanged(&app, 403, "forbidden",             app.post(&format!("/tenders/{}/cancel", w.published), Some(&w.other_tenderee), json!({"reason": "mine now"}))
        )
        .await;
        unchanged(&app, 403, "forbidden",             app.post(&format!("/tenders/{}/approve", w.published), Some(&w.tenderee), json!({}))
        )
        .await;
        unchanged(&app, 403, "forbidden", app.get("/audit/verify", Some(&w.officer))).await;

        // Another organisation's draft does not exist for them: the 404 is byte-for-byte the
        // one for an id that was never used.
        let missing = format!("/tenders/{}", uuid::Uuid::now_v7());
        let nothing = app.get(&missing, Some(&w.other_tenderee)).await.expect(404);
        for (method, suffix, body) in [
            (reqwest::Method::GET, "", None),
            (reqwest::Method::PUT, "", Some(app.tender_body("QD-DRAFT-1", 30))),
            (reqwest::Method::POST, "/submit", Some(json!({}))),
            (reqwest::Method::POST, "/cancel", Some(json!({"reason": "r"}))),
            (reqwest::Method::GET, "/audit", None),
            (reqwest::Method::GET, "/questions", None),
        ] {
            let hidden = unchanged(&app, 404, "not_found",                 app.call(method.clone(), &format!("/tenders/{}{suffix}", w.draft), Some(&w.other_tenderee), body.as_ref())
        )
            .await;
            let absent = app
                .call(method.clone(), &format!("{missing}{suffix}"), Some(&w.other_tenderee), body.as_ref())
                .await
                .expect(404);
            assert_eq!(hidden.text, absent.text, "{method} {suffix}");
            assert_eq!(hidden.text, nothing.text);
        }
    }
}

e2e_test! {
    async fn duplicate_tender_code_is_409(app: TestApp) {
        let w = world(&app).await;
        let r = unchanged(&app, 409, "duplicate_tender_code",             app.post("/tenders", Some(&w.other_tenderee), app.tender_body("QD-PUB-1", 30))
        )
        .await;
        assert!(r.message().contains("code"), "{}", r.text);
        // Renaming a draft onto a taken code too.
        unchanged(&app, 409, "duplicate_tender_code",             app.put(&format!("/tenders/{}", w.draft), Some(&w.tenderee), app.tender_body("QD-PUB-1", 30))
        )
        .await;
    }
}
