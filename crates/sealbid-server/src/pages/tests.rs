//! Page handlers through the whole router (`oneshot`, no socket), on an in-memory SQLite store
//! with a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::{DivisionCode, ManualClock, OrgId, UserId, WorkingCalendar};
use tower::ServiceExt;

use super::view;
use crate::state::{AppState, ServerSettings};

const PASSWORD: &str = "correct horse battery staple";
const HOST: &str = "sealbid.test";

/// Monday 3 March 2025, 09:00 China time.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap()
}

struct Fixture {
    state: AppState,
    app: Router,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn add_user(state: &AppState, username: &str, roles: Vec<Role>, org: Option<OrgId>) {
    let user = User {
        id: UserId::new(),
        username: username.into(),
        display_name: format!("{username} (display)"),
        roles,
        org,
        hall: DivisionCode::parse("370200").unwrap(),
        active: true,
        created_at: start(),
    };
    let hash = crate::auth::hash_password_with_salt(PASSWORD, &[9u8; 16]).unwrap();
    state
        .store
        .create_user(
            &user,
            &hash,
            &AuditEvent::new(None, start(), "user.create", "user", user.id),
        )
        .await
        .unwrap();
}

async fn add_org(state: &AppState, n: u32, kind: OrgKind) -> OrgId {
    let org = Organisation {
        id: OrgId::new(),
        credit_code: sealbid_domain::credit_code::complete_credit_code(&format!(
            "91370200MA{n:07}"
        ))
        .unwrap(),
        name: format!("Qingdao Org {n}"),
        kind,
        hall: DivisionCode::parse("370202").unwrap(),
        created_at: start(),
    };
    state
        .store
        .create_org(
            &org,
            &AuditEvent::new(None, start(), "org.create", "org", org.id),
        )
        .await
        .unwrap();
    org.id
}

/// A hall, a tenderee organisation with `tenderee`, a second one with `other`, a bidder, and a
/// centre officer `officer` of the city hall.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = sealbid_store::sqlite::SqliteStore::open_in_memory()
        .await
        .unwrap();
    let blobs = sealbid_store::blob::ObjectBlobStore::local(dir.path()).unwrap();
    let clock = ManualClock::new(start());
    let state = AppState::new(
        Arc::new(store),
        Arc::new(blobs),
        Arc::new(clock.clone()),
        Arc::new(WorkingCalendar::try_builtin().unwrap()),
        ServerSettings::default(),
    );
    for (code, name) in [("370200", "Qingdao Centre"), ("370202", "Shinan Hall")] {
        state
            .store
            .upsert_hall(
                &Hall {
                    division: DivisionCode::parse(code).unwrap(),
                    name: name.into(),
                },
                &AuditEvent::new(None, start(), "hall.upsert", "hall", code),
            )
            .await
            .unwrap();
    }
    let org = add_org(&state, 1, OrgKind::Tenderee).await;
    let other = add_org(&state, 2, OrgKind::Tenderee).await;
    let bidder_org = add_org(&state, 3, OrgKind::Bidder).await;
    add_user(&state, "tenderee", vec![Role::Tenderee], Some(org)).await;
    add_user(&state, "other", vec![Role::Tenderee], Some(other)).await;
    add_user(&state, "bidder", vec![Role::Bidder], Some(bidder_org)).await;
    add_user(&state, "officer", vec![Role::CentreOfficer], None).await;
    Fixture {
        app: crate::router(state.clone()),
        state,
        clock,
        _dir: dir,
    }
}

struct Page {
    status: StatusCode,
    location: String,
    cookie: String,
    content_type: String,
    html: String,
}

async fn send(app: &Router, req: Request<Body>) -> Page {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let h = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let location = h(header::LOCATION);
    let cookie = h(header::SET_COOKIE);
    let content_type = h(header::CONTENT_TYPE);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        location,
        cookie,
        content_type,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri).header(header::HOST, HOST);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", view::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn post(
    uri: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
    fields: &[(&str, &str)],
) -> Request<Body> {
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    b.body(Body::from(form_body(fields))).unwrap()
}

const SAME_ORIGIN: Option<&str> = Some("http://sealbid.test");

/// Signs in through the form; returns the `Cookie` header value.
async fn sign_in(app: &Router, username: &str) -> String {
    let p = send(
        app,
        post(
            "/login",
            None,
            SAME_ORIGIN,
            &[("username", username), ("password", PASSWORD), ("next", "")],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, "/tenders");
    assert!(p.cookie.contains("HttpOnly") && p.cookie.contains("SameSite=Lax"));
    p.cookie.split(';').next().unwrap().to_string()
}

/// The form of a tender that passes every check at `now`: deadline `days` days out.
fn tender_fields(code: &str, now: DateTime<Utc>, days: i64) -> Vec<(&'static str, String)> {
    vec![
        ("code", code.to_string()),
        ("title", format!("Road resurfacing {code}")),
        ("description", "12 km of district roads".into()),
        ("category", "works".into()),
        ("mandatory", "on".into()),
        ("estimated_price", "1,000,000".into()),
        ("ceiling_price", "1100000".into()),
        ("bid_deposit", "20000".into()),
        (
            "bid_deadline",
            view::datetime_local(now + Duration::days(days)),
        ),
        ("opening_time", String::new()),
        ("evaluation_method", "comprehensive_scoring".into()),
        (
            "qualification_criteria",
            "Grade II licence\nSafety permit".into(),
        ),
        ("committee_threshold", "3".into()),
        ("committee_members", "5".into()),
    ]
}

async fn create_draft(f: &Fixture, cookie: &str, code: &str) -> String {
    let fields = tender_fields(code, start(), 40);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = send(
        &f.app,
        post("/tenders/new", Some(cookie), SAME_ORIGIN, &refs),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let id = p
        .location
        .strip_prefix("/tenders/")
        .and_then(|r| r.strip_suffix("?done=created"))
        .unwrap_or_else(|| panic!("unexpected redirect {}", p.location));
    // An opening committee (one member and the platform, 2 of 2), so the tender can be published.
    let tender_id = sealbid_domain::TenderId::parse(id).unwrap();
    let member = sealbid_seal::keys::MemberIdentity::generate(&mut rand::rngs::OsRng);
    let seat = |index: u8, platform: bool, recipient: String| sealbid_store::CommitteeSeat {
        index,
        name: format!("Seat {index}"),
        role: "member".into(),
        user_id: None,
        platform,
        recipient: Some(recipient),
    };
    let sealing = sealbid_store::TenderSealing {
        tender_id,
        version: 1,
        threshold: 2,
        seats: vec![
            seat(1, false, member.recipient().to_string()),
            seat(2, true, f.state.sealing.identity.recipient().to_string()),
        ],
        policy: None,
        policy_index: None,
        closing: None,
        opened: None,
    };
    let audit = AuditEvent::new(None, start(), "tender.committee", "tender", tender_id);
    f.state
        .store
        .seal_write(sealbid_store::SealWrite {
            tender: None,
            sealing: Some((&sealing, 0)),
            bid: None,
            log: None,
            audit: &audit,
        })
        .await
        .unwrap();
    id.to_string()
}

#[tokio::test]
async fn the_root_and_the_stylesheet() {
    let f = fixture().await;
    let p = send(&f.app, get("/", None)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location, "/tenders");
    let css = send(&f.app, get("/static/app.css", None)).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    assert!(css.html.contains(".badge-draft"));
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_for_the_form() {
    let f = fixture().await;
    let p = send(&f.app, get("/tenders/new", None)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location, "/login?next=%2Ftenders%2Fnew");
    let p = send(&f.app, get("/reviews", None)).await;
    assert_eq!(p.location, "/login?next=%2Freviews");
    let login = send(&f.app, get("/login?next=%2Ftenders%2Fnew", None)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.content_type.starts_with("text/html"));
    assert!(login.html.contains("value=\"/tenders/new\"") || login.html.contains("&#x2f;tenders"));
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let f = fixture().await;
    let fields = [("username", "tenderee"), ("password", PASSWORD)];
    let p = send(
        &f.app,
        post("/login", None, Some("https://evil.example"), &fields),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.content_type.starts_with("text/html"));
    assert!(p.html.contains("another site"));
    assert!(p.cookie.is_empty());
    // `Origin: null` (sandboxed frames, some redirects) is not our site either.
    let p = send(&f.app, post("/login", None, Some("null"), &fields)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Same host, another port: another origin.
    let p = send(
        &f.app,
        post("/login", None, Some("http://sealbid.test:8080"), &fields),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // No Origin at all (old clients, curl): allowed; the cookie is SameSite=Lax anyway.
    let p = send(&f.app, post("/login", None, None, &fields)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_credentials_show_the_form_again_with_401() {
    let f = fixture().await;
    let p = send(
        &f.app,
        post(
            "/login",
            None,
            SAME_ORIGIN,
            &[("username", "tenderee"), ("password", "not the password")],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("Wrong username or password"));
    assert!(
        p.html.contains("value=\"tenderee\""),
        "the username is kept"
    );
    assert!(p.cookie.is_empty());
}

#[tokio::test]
async fn sign_in_then_out() {
    let f = fixture().await;
    let cookie = sign_in(&f.app, "tenderee").await;
    let list = send(&f.app, get("/tenders", Some(&cookie))).await;
    assert!(list.html.contains("tenderee (display)"));
    assert!(list.html.contains("href=\"/tenders/new\""));
    let out = send(&f.app, post("/logout", Some(&cookie), SAME_ORIGIN, &[])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.cookie.starts_with("sealbid_session=;") || out.cookie.contains("Max-Age=0"));
    // The session is gone on the server too.
    let p = send(&f.app, get("/tenders/new", Some(&cookie))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // Signing in again from a browser that has a session replaces it.
    let first = sign_in(&f.app, "tenderee").await;
    let again = send(
        &f.app,
        post(
            "/login",
            Some(&first),
            SAME_ORIGIN,
            &[
                ("username", "other"),
                ("password", PASSWORD),
                ("next", "/tenders/new"),
            ],
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location, "/tenders/new");
    let p = send(&f.app, get("/tenders/new", Some(&first))).await;
    assert_eq!(p.location, "/login?next=%2Ftenders%2Fnew");
    // Only local paths are followed after signing in.
    let p = send(
        &f.app,
        post(
            "/login",
            None,
            SAME_ORIGIN,
            &[
                ("username", "other"),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        ),
    )
    .await;
    assert_eq!(p.location, "/tenders");
}

#[tokio::test]
async fn only_tenderees_get_the_form() {
    let f = fixture().await;
    let bidder = sign_in(&f.app, "bidder").await;
    let p = send(&f.app, get("/tenders/new", Some(&bidder))).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("Only tenderee"));
    let p = send(
        &f.app,
        post("/tenders/new", Some(&bidder), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let tenderee = sign_in(&f.app, "tenderee").await;
    let p = send(&f.app, get("/tenders/new", Some(&tenderee))).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("id=\"bid_deadline\""));
}

#[tokio::test]
async fn the_form_lists_every_problem_and_keeps_the_input() {
    let f = fixture().await;
    let cookie = sign_in(&f.app, "tenderee").await;
    let mut fields = tender_fields("QD-BAD-1", start(), 10);
    fields[1].1 = String::new(); // title
    fields[7].1 = "999999".into(); // deposit far above 2%
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = send(
        &f.app,
        post("/tenders/new", Some(&cookie), SAME_ORIGIN, &refs),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("3 problems to fix"), "{}", p.html);
    assert!(p.html.contains("data-field=\"title\""));
    assert!(p.html.contains("data-field=\"bid_deposit\""));
    assert!(p.html.contains("data-field=\"bid_deadline\""));
    // The deadline problem names the earliest legal date: 20 days after now.
    let earliest = view::time(start() + Duration::days(20));
    assert!(p.html.contains("the earliest legal deadline is"));
    assert!(p.html.contains(&earliest), "{earliest}");
    // What was typed is still there.
    assert!(p.html.contains("value=\"QD-BAD-1\""));
    assert!(p.html.contains("value=\"999999\""));
}

#[tokio::test]
async fn a_tender_goes_from_draft_to_published_through_the_pages() {
    let f = fixture().await;
    let tenderee = sign_in(&f.app, "tenderee").await;
    let id = create_draft(&f, &tenderee, "QD-2025-001").await;
    let url = format!("/tenders/{id}");

    let p = send(&f.app, get(&format!("{url}?done=created"), Some(&tenderee))).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("data-state=\"draft\""));
    assert!(p.html.contains("Draft saved"));
    assert!(p.html.contains("¥1,000,000.00"));
    assert!(p.html.contains("any 3 of 5 members"));
    assert!(p.html.contains("id=\"submit-review\""));

    // Hidden from the public, from other tenderees and from officers while a draft.
    for who in [
        None,
        Some(sign_in(&f.app, "other").await),
        Some(sign_in(&f.app, "officer").await),
    ] {
        let p = send(&f.app, get(&url, who.as_deref())).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{who:?}");
        assert!(p.html.contains("Tender not found"));
    }
    let public = send(&f.app, get("/tenders", None)).await;
    assert!(!public.html.contains("QD-2025-001"));
    let own = send(&f.app, get("/tenders", Some(&tenderee))).await;
    assert!(own.html.contains("QD-2025-001"));

    // Someone else's form post cannot submit it.
    let other = sign_in(&f.app, "other").await;
    let p = send(
        &f.app,
        post(&format!("{url}/submit"), Some(&other), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);

    let p = send(
        &f.app,
        post(&format!("{url}/submit"), Some(&tenderee), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, format!("{url}?done=submitted"));

    // The officer's queue shows it, due in 3 working days; four days later it is overdue.
    let officer = sign_in(&f.app, "officer").await;
    let q = send(&f.app, get("/reviews", Some(&officer))).await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.html.contains("QD-2025-001"));
    assert!(!q.html.contains("row-overdue"));
    let d = send(&f.app, get(&url, Some(&officer))).await;
    assert!(d.html.contains("data-state=\"under_review\""));
    // Officers list it too (public tenders and those under review in their halls).
    let list = send(&f.app, get("/tenders", Some(&officer))).await;
    assert!(list.html.contains("QD-2025-001"));
    let list = send(&f.app, get("/tenders?state=draft", Some(&officer))).await;
    assert!(!list.html.contains("QD-2025-001"));
    assert!(d.html.contains("id=\"approve\""));
    assert!(!d.html.contains("id=\"overdue\""));

    // Return with two problems (blank lines are ignored).
    let p = send(
        &f.app,
        post(
            &format!("{url}/return"),
            Some(&officer),
            SAME_ORIGIN,
            &[(
                "problems",
                "Attach the drawings\n\nState the warranty period",
            )],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let d = send(&f.app, get(&url, Some(&tenderee))).await;
    assert!(d.html.contains("data-state=\"draft\""));
    assert!(d.html.contains("Attach the drawings"));
    assert!(d.html.contains("State the warranty period"));

    // Resubmit; the review runs late.
    let p = send(
        &f.app,
        post(&format!("{url}/submit"), Some(&tenderee), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    f.clock.advance(Duration::days(6));
    // Sessions last 12 hours: sign in again.
    let officer = sign_in(&f.app, "officer").await;
    let tenderee = sign_in(&f.app, "tenderee").await;
    let q = send(&f.app, get("/reviews", Some(&officer))).await;
    assert!(q.html.contains("row-overdue"));
    let d = send(&f.app, get(&url, Some(&officer))).await;
    assert!(d.html.contains("id=\"overdue\""));

    // A tenderee cannot approve.
    let p = send(
        &f.app,
        post(&format!("{url}/approve"), Some(&tenderee), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = send(
        &f.app,
        post(&format!("{url}/approve"), Some(&officer), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let d = send(&f.app, get(&url, None)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.html.contains("data-state=\"published\""));
    assert!(d.html.contains("left"), "a countdown to the deadline");
    assert!(
        !d.html.contains("id=\"actions\""),
        "no actions for the public"
    );
    let public = send(&f.app, get("/tenders?state=published&q=qd-2025", None)).await;
    assert!(public.html.contains("QD-2025-001"));
}

#[tokio::test]
async fn refused_actions_explain_themselves_on_the_tender_page() {
    let f = fixture().await;
    let tenderee = sign_in(&f.app, "tenderee").await;
    let id = create_draft(&f, &tenderee, "QD-2025-002").await;
    let url = format!("/tenders/{id}");
    // Cancelling needs a reason.
    let p = send(
        &f.app,
        post(
            &format!("{url}/cancel"),
            Some(&tenderee),
            SAME_ORIGIN,
            &[("reason", "  ")],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("A reason is required"));
    // Three weeks later the deadline is too close to submit: every problem is listed.
    f.clock.advance(Duration::days(21));
    let tenderee = sign_in(&f.app, "tenderee").await;
    let p = send(
        &f.app,
        post(&format!("{url}/submit"), Some(&tenderee), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains("id=\"action-error\""));
    assert!(p.html.contains("earliest legal deadline"));
    assert!(p.html.contains("data-state=\"draft\""));
    // Editing fixes it.
    let fields = tender_fields("QD-2025-002", start() + Duration::days(21), 30);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let e = send(&f.app, get(&format!("{url}/edit"), Some(&tenderee))).await;
    assert_eq!(e.status, StatusCode::OK);
    assert!(e.html.contains("value=\"QD-2025-002\""));
    let p = send(
        &f.app,
        post(&format!("{url}/edit"), Some(&tenderee), SAME_ORIGIN, &refs),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = send(
        &f.app,
        post(&format!("{url}/submit"), Some(&tenderee), SAME_ORIGIN, &[]),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    // Cancel with a reason.
    let p = send(
        &f.app,
        post(
            &format!("{url}/cancel"),
            Some(&tenderee),
            SAME_ORIGIN,
            &[("reason", "Budget withdrawn")],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let d = send(&f.app, get(&url, Some(&tenderee))).await;
    assert!(d.html.contains("data-state=\"cancelled\""));
    assert!(d.html.contains("Budget withdrawn"));
    // A second tender with the same code is refused beside the form.
    let fields = tender_fields("QD-2025-002", start() + Duration::days(21), 30);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let p = send(
        &f.app,
        post("/tenders/new", Some(&tenderee), SAME_ORIGIN, &refs),
    )
    .await;
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(p.html.contains("already exists"));
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_pages() {
    let f = fixture().await;
    for uri in [
        "/tenders/not-a-uuid",
        "/tenders/0190f5f2-0000-7000-8000-000000000000",
    ] {
        let p = send(&f.app, get(uri, None)).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert!(p.content_type.starts_with("text/html"));
        assert!(p.html.contains("Not found"));
    }
}

#[tokio::test]
async fn unknown_paths_are_html_outside_the_api_and_json_inside() {
    let f = fixture().await;
    let p = send(&f.app, get("/no/such/page", None)).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.content_type.starts_with("text/html"));
    assert!(p.html.contains("Page not found"));
    let p = send(&f.app, get("/api/v1/no/such/endpoint", None)).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(
        p.content_type.starts_with("application/json"),
        "{}",
        p.content_type
    );
    let p = send(&f.app, get("/healthz", None)).await;
    assert_eq!(p.status, StatusCode::OK);
}

#[tokio::test]
async fn the_list_pages() {
    let f = fixture().await;
    let tenderee = sign_in(&f.app, "tenderee").await;
    for i in 0..23 {
        f.clock.advance(Duration::minutes(1));
        create_draft(&f, &tenderee, &format!("QD-P-{i:03}")).await;
    }
    let p1 = send(&f.app, get("/tenders", Some(&tenderee))).await;
    assert!(p1.html.contains("23 tenders"));
    assert!(p1.html.contains("Page 1 of 2"));
    assert!(p1.html.contains("QD-P-022"), "newest first");
    assert!(!p1.html.contains("QD-P-002"));
    let p2 = send(&f.app, get("/tenders?page=2", Some(&tenderee))).await;
    assert!(p2.html.contains("QD-P-000"));
    assert!(p2.html.contains("Page 2 of 2"));
    let filtered = send(&f.app, get("/tenders?state=draft&q=P-01", Some(&tenderee))).await;
    assert!(
        filtered.html.contains("10 tenders match the filter"),
        "{}",
        filtered.html
    );
    let none = send(&f.app, get("/tenders?state=published", Some(&tenderee))).await;
    assert!(none.html.contains("No tenders match this filter"));
}
