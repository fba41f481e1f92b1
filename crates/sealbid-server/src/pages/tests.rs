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
    /// The organisation of `bidder`.
    bidder_org: OrgId,
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
    )
    .expect("fresh platform keys");
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
    let bidder2_org = add_org(&state, 4, OrgKind::Bidder).await;
    add_user(&state, "tenderee", vec![Role::Tenderee], Some(org)).await;
    add_user(&state, "other", vec![Role::Tenderee], Some(other)).await;
    add_user(&state, "bidder", vec![Role::Bidder], Some(bidder_org)).await;
    add_user(&state, "bidder2", vec![Role::Bidder], Some(bidder2_org)).await;
    add_user(&state, "officer", vec![Role::CentreOfficer], None).await;
    Fixture {
        app: crate::router(state.clone()),
        state,
        clock,
        bidder_org,
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
    // An opening committee (one member and the platform, 2 of 2), so the tender can be published;
    // set as the tenderee does, which also sets the tender's committee terms.
    let tender_id = sealbid_domain::TenderId::parse(id).unwrap();
    let member = sealbid_seal::keys::MemberIdentity::generate(&mut rand::rngs::OsRng);
    let tender = f.state.store.get_tender(tender_id).await.unwrap().unwrap();
    let (owner, _) = f.state.store.find_login("tenderee").await.unwrap().unwrap();
    crate::sealing::set_committee(
        &f.state,
        &owner,
        &tender,
        2,
        vec![crate::sealing::SeatSpec {
            name: "Seat 1".into(),
            role: "member".into(),
            user_id: None,
            recipient: Some(member.recipient().to_string()),
        }],
        true,
    )
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
    assert!(p.html.contains("any 2 of 2 members"));
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

// ---------------------------------------------------------------------------------------------
// Sealed bids: the bidder's page and the sealing part of the tender's page

use sealbid_seal::keys::SigningKey;
use sealbid_seal::manifest::{EnvelopeEntry, Manifest};
use sealbid_seal::policy::SealingPolicy;
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{EnvelopeKind, ShareContext};

/// A draft created, submitted and approved through the pages: published, deadline 40 days out.
async fn published_tender(f: &Fixture, code: &str) -> String {
    let tenderee = sign_in(&f.app, "tenderee").await;
    let id = create_draft(f, &tenderee, code).await;
    let p = send(
        &f.app,
        post(
            &format!("/tenders/{id}/submit"),
            Some(&tenderee),
            SAME_ORIGIN,
            &[],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let officer = sign_in(&f.app, "officer").await;
    let p = send(
        &f.app,
        post(
            &format!("/tenders/{id}/approve"),
            Some(&officer),
            SAME_ORIGIN,
            &[],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    id
}

async fn policy(f: &Fixture, id: &str) -> Signed<SealingPolicy> {
    let tid = sealbid_domain::TenderId::parse(id).unwrap();
    let s = f.state.store.get_sealing(tid).await.unwrap().unwrap();
    crate::sealing::policy_of(&s).unwrap()
}

/// The bidder's deposit reference, through the page's form.
async fn reference_for(f: &Fixture, cookie: &str, id: &str) -> String {
    let p = send(
        &f.app,
        post(
            &format!("/tenders/{id}/bid/deposit-reference"),
            Some(cookie),
            SAME_ORIGIN,
            &[],
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let prefix = format!("/tenders/{id}/bid?reference=");
    p.location
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("unexpected redirect {}", p.location))
        .to_string()
}

/// A bid sealed as `sealbid seal` seals it: the signed manifest and the envelope files
/// (`price.age`, and `technical.age` when asked for).
struct SealedBid {
    manifest: Vec<u8>,
    files: Vec<(&'static str, &'static str, Vec<u8>)>,
}

fn seal_bid(
    policy: &Signed<SealingPolicy>,
    tender: &str,
    org: OrgId,
    reference: &str,
    key: &SigningKey,
    technical: bool,
) -> SealedBid {
    let committee = policy.body.committee();
    let mut rng = rand::rngs::OsRng;
    let price = br#"{"currency":"CNY","total":"987654.32","lines":[]}"#.to_vec();
    let mut kinds = vec![(EnvelopeKind::Price, "price", "price.age", price)];
    if technical {
        kinds.push((
            EnvelopeKind::Technical,
            "technical",
            "technical.age",
            b"technical proposal".to_vec(),
        ));
    }
    let mut entries = Vec::new();
    let mut files = Vec::new();
    for (kind, field, file, plain) in kinds {
        let ctx = ShareContext {
            tender: tender.to_string(),
            bidder: org.to_string(),
            kind,
        };
        let mut out = Vec::new();
        let d = sealbid_seal::envelope::seal_envelope(
            &committee,
            &ctx,
            None,
            &mut rng,
            plain.as_slice(),
            &mut out,
        )
        .unwrap();
        entries.push(EnvelopeEntry {
            kind,
            sha256: d.sha256_hex(),
            size: d.size,
        });
        files.push((field, file, out));
    }
    let manifest = Manifest {
        version: 1,
        tender: tender.to_string(),
        bidder: org.to_string(),
        policy_hash: policy.body.hash_hex().unwrap(),
        deposit_reference: reference.to_string(),
        envelopes: entries,
        sealed_at: start(),
    };
    SealedBid {
        manifest: Signed::sign(manifest, key)
            .unwrap()
            .to_json_bytes()
            .unwrap(),
        files,
    }
}

/// A `multipart/form-data` post of files, as the browser sends the bid form.
fn multipart(uri: &str, cookie: &str, parts: &[(&str, &str, &[u8])]) -> Request<Body> {
    let boundary = "----sealbid-test-boundary-5b1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, "http://sealbid.test")
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap()
}

fn bid_form(sealed: &SealedBid) -> Vec<(&str, &str, &[u8])> {
    let mut parts: Vec<(&str, &str, &[u8])> =
        vec![("manifest", "manifest.json", sealed.manifest.as_slice())];
    for (field, file, bytes) in &sealed.files {
        parts.push((field, file, bytes.as_slice()));
    }
    parts
}

/// Every file under the blob store's `bids/` folder.
fn stored_bid_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&f._dir.path().join("bids"), &mut out);
    out
}

/// The text of the element with `id` (up to its first tag inside).
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].trim()
}

#[tokio::test]
async fn the_bid_page_is_for_bidders_only() {
    let f = fixture().await;
    let id = published_tender(&f, "QD-BID-001").await;
    let url = format!("/tenders/{id}/bid");

    // A bidder sees its page, with its organisation and this tender in the command line.
    let bidder = sign_in(&f.app, "bidder").await;
    let p = send(&f.app, get(&url, Some(&bidder))).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("id=\"bid-form\""));
    assert!(p.html.contains("enctype=\"multipart/form-data\""));
    assert!(p.html.contains("id=\"get-reference\""));
    let command = text_of(&p.html, "seal-command");
    assert!(
        command.starts_with("sealbid seal --server http://sealbid.test"),
        "{command}"
    );
    assert!(command.contains(&format!("--tender {id}")), "{command}");
    assert!(command.contains(&f.bidder_org.to_string()), "{command}");
    assert!(
        command.contains("--deposit-reference REFERENCE"),
        "{command}"
    );
    assert!(p.html.contains("id=\"no-bids\""));
    // The tender's page links to it for the bidder, and for nobody else.
    let d = send(&f.app, get(&format!("/tenders/{id}"), Some(&bidder))).await;
    assert!(d.html.contains(&format!("href=\"{url}\"")));
    let d = send(&f.app, get(&format!("/tenders/{id}"), None)).await;
    assert!(!d.html.contains(&format!("href=\"{url}\"")));

    // Signed in, but not a bidder: 403, as the API answers.
    for who in ["tenderee", "other", "officer"] {
        let cookie = sign_in(&f.app, who).await;
        let p = send(&f.app, get(&url, Some(&cookie))).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who}");
        assert!(p.html.contains("Only bidders"), "{who}: {}", p.html);
        let p = send(
            &f.app,
            post(
                &format!("{url}/deposit-reference"),
                Some(&cookie),
                SAME_ORIGIN,
                &[],
            ),
        )
        .await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who}");
        let p = send(&f.app, multipart(&url, &cookie, &[])).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who}");
    }
    // Not signed in: off to sign in, and back here afterwards.
    let p = send(&f.app, get(&url, None)).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location, format!("/login?next=%2Ftenders%2F{id}%2Fbid"));
    // A draft the bidder may not see is not found, like any unknown tender.
    let tenderee = sign_in(&f.app, "tenderee").await;
    let draft = create_draft(&f, &tenderee, "QD-BID-002").await;
    let p = send(&f.app, get(&format!("/tenders/{draft}/bid"), Some(&bidder))).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = send(
        &f.app,
        get(
            "/tenders/0190f5f2-0000-7000-8000-000000000000/bid",
            Some(&bidder),
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bidder_gets_a_reference_uploads_a_sealed_bid_and_keeps_the_receipt() {
    let f = fixture().await;
    let id = published_tender(&f, "QD-BID-010").await;
    let url = format!("/tenders/{id}/bid");
    let bidder = sign_in(&f.app, "bidder").await;

    // The tender's page: the committee, the policy and the log key; no bids yet.
    let d = send(&f.app, get(&format!("/tenders/{id}"), None)).await;
    assert_eq!(text_of(&d.html, "sealed-bids"), "0");
    assert!(d.html.contains("Seat 1") && d.html.contains("Sealbid platform"));
    assert_eq!(d.html.matches("Key registered").count(), 2);
    let pol = policy(&f, &id).await;
    assert_eq!(
        text_of(&d.html, "policy-hash"),
        pol.body.hash_hex().unwrap()
    );
    let log_key = f.state.sealing.log_verifier().to_string();
    assert_eq!(text_of(&d.html, "log-key"), log_key);

    // The reference, through the form; asking again gives the same one.
    let reference = reference_for(&f, &bidder, &id).await;
    assert!(reference.starts_with("SB"), "{reference}");
    assert_eq!(reference_for(&f, &bidder, &id).await, reference);
    let p = send(
        &f.app,
        get(&format!("{url}?reference={reference}"), Some(&bidder)),
    )
    .await;
    assert_eq!(text_of(&p.html, "deposit-reference"), reference);
    assert!(text_of(&p.html, "seal-command").contains(&format!("--deposit-reference {reference}")));
    // Someone else's reference in the address is not shown as theirs.
    let bidder2 = sign_in(&f.app, "bidder2").await;
    let p = send(
        &f.app,
        get(&format!("{url}?reference={reference}"), Some(&bidder2)),
    )
    .await;
    assert!(!p.html.contains(&reference));
    assert!(p.html.contains("id=\"get-reference\""));

    // Upload the files `sealbid seal` wrote.
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let sealed = seal_bid(&pol, &id, f.bidder_org, &reference, &key, true);
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&sealed))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let bid_id = p
        .location
        .strip_prefix(&format!("{url}?submitted="))
        .unwrap_or_else(|| panic!("unexpected redirect {}", p.location))
        .to_string();
    let page = send(&f.app, get(&p.location, Some(&bidder))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("id=\"receipt\""), "{}", page.html);
    let index: u64 = text_of(&page.html, "receipt-index").parse().unwrap();
    assert!(
        page.html.contains(&view::time(start())),
        "the checkpoint time"
    );
    assert!(page.html.contains("data-status=\"active\""));
    // The reference is remembered from the bid.
    assert_eq!(text_of(&page.html, "deposit-reference"), reference);
    // The envelopes are stored under their hashes; nothing is left in staging.
    let stored = stored_bid_files(&f);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored
        .iter()
        .all(|p| !p.to_string_lossy().contains("staging")));

    // The receipt downloads as JSON and verifies against the log key.
    let r = send(
        &f.app,
        get(&format!("{url}/receipts/{bid_id}.json"), Some(&bidder)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.html);
    assert!(r.content_type.starts_with("application/json"));
    let receipt: sealbid_seal::receipt::Receipt = serde_json::from_str(&r.html).unwrap();
    assert_eq!(receipt.index, index);
    let verified = receipt.verify(&f.state.sealing.log_verifier()).unwrap();
    assert_eq!(
        text_of(&page.html, "receipt-entry"),
        hex::encode(sealbid_seal::merkle::leaf_hash(receipt.entry.as_bytes()))
    );
    assert_eq!(verified.time, start());
    // Nobody else gets it: another bidder, the tenderee, a made-up name.
    let p = send(
        &f.app,
        get(&format!("{url}/receipts/{bid_id}.json"), Some(&bidder2)),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let tenderee = sign_in(&f.app, "tenderee").await;
    let p = send(
        &f.app,
        get(&format!("{url}/receipts/{bid_id}.json"), Some(&tenderee)),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = send(
        &f.app,
        get(&format!("{url}/receipts/{bid_id}"), Some(&bidder)),
    )
    .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);

    // The tender's page counts one sealed bid, and never says whose.
    let d = send(&f.app, get(&format!("/tenders/{id}"), Some(&tenderee))).await;
    assert_eq!(text_of(&d.html, "sealed-bids"), "1");
    assert!(!d.html.contains("Qingdao Org 3"));
    assert!(!d.html.contains(&f.bidder_org.to_string()));

    // A second bid (price only) replaces the first; both are listed with their receipts.
    f.clock.advance(Duration::hours(1));
    let bidder = sign_in(&f.app, "bidder").await;
    let again = seal_bid(&pol, &id, f.bidder_org, &reference, &key, false);
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&again))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let page = send(&f.app, get(&p.location, Some(&bidder))).await;
    assert!(page.html.contains("data-status=\"active\""));
    assert!(page.html.contains("data-status=\"replaced\""));
    assert_eq!(
        page.html.matches("/receipts/").count(),
        2 + 1,
        "two rows and the new receipt"
    );
    let d = send(&f.app, get(&format!("/tenders/{id}"), None)).await;
    assert_eq!(text_of(&d.html, "sealed-bids"), "1");
}

#[tokio::test]
async fn refused_uploads_show_the_code_and_keep_nothing() {
    let f = fixture().await;
    let id = published_tender(&f, "QD-BID-020").await;
    let url = format!("/tenders/{id}/bid");
    let bidder = sign_in(&f.app, "bidder").await;
    let reference = reference_for(&f, &bidder, &id).await;
    let pol = policy(&f, &id).await;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);

    // A manifest whose signature does not verify.
    let sealed = seal_bid(&pol, &id, f.bidder_org, &reference, &key, true);
    let text = String::from_utf8(sealed.manifest.clone()).unwrap();
    let tampered = text.replace(&reference, "SB0000000000000000");
    assert_ne!(tampered, text);
    let forged = SealedBid {
        manifest: tampered.into_bytes(),
        files: sealed.files.clone(),
    };
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&forged))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert_eq!(text_of(&p.html, "bid-error-code"), "bad_signature");
    assert!(
        stored_bid_files(&f).is_empty(),
        "{:?}",
        stored_bid_files(&f)
    );

    // An envelope of another sealing run.
    let other = seal_bid(&pol, &id, f.bidder_org, &reference, &key, false);
    let mixed = SealedBid {
        manifest: sealed.manifest.clone(),
        files: vec![other.files[0].clone()],
    };
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&mixed))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(text_of(&p.html, "bid-error-code"), "manifest_mismatch");
    assert!(p.html.contains("price.age"));
    assert!(stored_bid_files(&f).is_empty());

    // The technical envelope left out: the manifest lists it.
    let partial = SealedBid {
        manifest: sealed.manifest.clone(),
        files: vec![sealed.files[0].clone()],
    };
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&partial))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(text_of(&p.html, "bid-error-code"), "envelope_missing");
    assert!(stored_bid_files(&f).is_empty());

    // No manifest at all.
    let p = send(
        &f.app,
        multipart(&url, &bidder, &[("price", "price.age", &sealed.files[0].2)]),
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(text_of(&p.html, "bid-error-code"), "no_manifest");
    assert!(stored_bid_files(&f).is_empty());
    assert_eq!(
        f.state
            .store
            .count_active_bids(pol_tender(&id))
            .await
            .unwrap(),
        0
    );

    // After the deadline: refused before a byte is read, with `deadline_passed`.
    f.clock.advance(Duration::days(41));
    let bidder = sign_in(&f.app, "bidder").await;
    let p = send(&f.app, multipart(&url, &bidder, &bid_form(&sealed))).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
    assert_eq!(text_of(&p.html, "bid-error-code"), "deadline_passed");
    assert!(p.html.contains("id=\"bidding-closed\""));
    assert!(
        !p.html.contains("id=\"bid-form\""),
        "no form after the deadline"
    );
    assert!(stored_bid_files(&f).is_empty());
    assert_eq!(
        f.state
            .store
            .count_active_bids(pol_tender(&id))
            .await
            .unwrap(),
        0
    );
    // The page itself still opens (for the receipts), without the form.
    let p = send(&f.app, get(&url, Some(&bidder))).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.html.contains("id=\"bid-form\""));
}

fn pol_tender(id: &str) -> sealbid_domain::TenderId {
    sealbid_domain::TenderId::parse(id).unwrap()
}

/// The opening record of tender `id` (`code`) opened at `at` with `bids`: 2 of 2 shares, deposits
/// of 20,000, after the closing at log index 5.
fn opening_record(
    id: &str,
    code: &str,
    at: DateTime<Utc>,
    bids: Vec<sealbid_seal::opening::OpenedBid>,
) -> sealbid_seal::opening::OpeningRecord {
    sealbid_seal::opening::OpeningRecord {
        version: 1,
        tender: id.into(),
        tender_code: code.into(),
        opening_time: at,
        opened_at: at,
        threshold: 2,
        revealed_by: vec![1, 2],
        deposit_required: "20000.00".into(),
        closing_index: 5,
        closing_entry: String::new(),
        closing_proof: Vec::new(),
        closing_checkpoint: String::new(),
        bids,
    }
}

#[tokio::test]
async fn the_tender_page_shows_the_closing_checkpoint_and_the_opening_record() {
    use sealbid_seal::opening::{BidOutcome, DepositCheck, OpenedBid, OpenedEnvelope};
    let f = fixture().await;
    let id = published_tender(&f, "QD-BID-030").await;
    let tid = pol_tender(&id);
    // The closing and the opening as the ceremony stores them (the record is built here; the
    // page only lays out what it says).
    let mut s = f.state.store.get_sealing(tid).await.unwrap().unwrap();
    let opened_bid =
        |name: &str, total: Option<&str>, outcome: BidOutcome, sufficient: bool| OpenedBid {
            bidder: OrgId::new().to_string(),
            bidder_name: name.into(),
            log_index: 7,
            entry: String::new(),
            proof: Vec::new(),
            manifest_digest: "ab".repeat(32),
            envelopes: vec![OpenedEnvelope {
                kind: EnvelopeKind::Price,
                sha256: "cd".repeat(32),
                size: 300,
                file_key: None,
                file_key_sha256: None,
            }],
            price: total.map(|t| sealbid_seal::opening::OpenedPrice {
                currency: "CNY".into(),
                total: t.parse().unwrap(),
                lines: 0,
                plaintext_sha256: "ef".repeat(32),
            }),
            deposit: DepositCheck {
                reference: "SB1".into(),
                paid: "20000.00".into(),
                sufficient,
                envelopes: Vec::new(),
                payers: Vec::new(),
            },
            outcome,
        };
    let bids = vec![
        opened_bid(
            "Haixin Construction",
            Some("950000.00"),
            BidOutcome::Valid,
            true,
        ),
        opened_bid(
            "Late Builders",
            None,
            BidOutcome::Invalid {
                code: "hash_mismatch".into(),
                reason: "the ciphertext is not the one the manifest names".into(),
            },
            false,
        ),
    ];
    let record = opening_record(&id, "QD-BID-030", start(), bids);
    let signed = Signed::sign(record, &f.state.sealing.signing).unwrap();
    s.closing = Some(sealbid_store::Closing {
        at: start(),
        log_index: 5,
        checkpoint: "sealbid.local/log\n6\nROOT=\n\n— sealbid.local/log SIG=\n".into(),
        bids: 2,
    });
    s.opened = Some(sealbid_store::Opened {
        at: start(),
        log_index: 8,
        checkpoint: String::new(),
        record: String::from_utf8(signed.to_json_bytes().unwrap()).unwrap(),
    });
    let version = s.version;
    s.version += 1;
    let audit = AuditEvent::new(None, start(), "test.opened", "tender", tid);
    f.state
        .store
        .seal_write(sealbid_store::SealWrite {
            tender: None,
            sealing: Some((&s, version)),
            bid: None,
            log: None,
            audit: &audit,
        })
        .await
        .unwrap();

    let d = send(&f.app, get(&format!("/tenders/{id}"), None)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.html);
    assert!(d.html.contains("id=\"closing-checkpoint\""));
    assert!(d.html.contains("sealbid.local/log\n6\nROOT="));
    assert_eq!(text_of(&d.html, "sealed-bids"), "2");
    assert!(d.html.contains("id=\"opening-table\""));
    assert!(d.html.contains("Haixin Construction"));
    assert!(d.html.contains("¥950,000.00"));
    assert!(d.html.contains("hash_mismatch"));
    assert!(d.html.contains("Insufficient"));
    assert!(d.html.contains(&"cd".repeat(32)));
    assert!(d
        .html
        .contains(&format!("href=\"/api/v1/tenders/{id}/opening/record\"")));
    let hint = text_of(&d.html, "verify-opening");
    assert!(hint.starts_with("sealbid verify-opening opening-record-QD-BID-030.json --log-key "));
    assert!(hint.ends_with("--server http://sealbid.test"), "{hint}");
}

// ---------------------------------------------------------------------------------------------
// The evaluation pages (the whole session runs in the browser tests: tests/e2e/browser.rs)

/// A page as `cookie` sees it.
async fn fetch(f: &Fixture, uri: &str, cookie: Option<&str>) -> Page {
    send(&f.app, get(uri, cookie)).await
}

/// A form sent from the page's own site as `cookie`.
async fn submit(f: &Fixture, uri: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Page {
    send(&f.app, post(uri, cookie, SAME_ORIGIN, fields)).await
}

/// The same form sent from another site.
async fn submit_cross_site(
    f: &Fixture,
    uri: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Page {
    let elsewhere = Some("https://evil.example");
    send(&f.app, post(uri, cookie, elsewhere, fields)).await
}

#[tokio::test]
async fn the_evaluation_workspace_is_for_committee_members_only() {
    let f = fixture().await;
    let id = published_tender(&f, "QD-EVAL-001").await;
    let workspace = format!("/tenders/{id}/evaluation");
    // Not signed in: to the sign-in page, coming back here.
    let p = fetch(&f, &workspace, None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location,
        format!("/login?next=%2Ftenders%2F{id}%2Fevaluation")
    );
    // Anyone else, whoever they are: the same 403, which says nothing of the tender.
    let declaration = format!("{workspace}/declaration");
    let mut messages = Vec::new();
    for who in ["bidder", "officer", "tenderee", "other"] {
        let cookie = sign_in(&f.app, who).await;
        let p = fetch(&f, &workspace, Some(&cookie)).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who}: {}", p.html);
        assert!(p.content_type.starts_with("text/html"));
        assert!(!p.html.contains("QD-EVAL-001"), "{who}");
        messages.push(text_of(&p.html, "error-message").to_string());
        // The forms refuse them the same way, storing nothing.
        let p = submit(&f, &declaration, Some(&cookie), &[("no_conflict", "yes")]).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{who}: {}", p.html);
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("evaluation committee"), "{messages:?}");
    // Malformed ids are 404 pages.
    let bidder = sign_in(&f.app, "bidder").await;
    let p = fetch(&f, "/tenders/not-a-tender/evaluation", Some(&bidder)).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    // A cross-site post is refused before anything else.
    let fields = [("no_conflict", "yes")];
    let p = submit_cross_site(&f, &declaration, Some(&bidder), &fields).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("another site"));
}

#[tokio::test]
async fn progress_and_result_before_the_committee_is_drawn() {
    let f = fixture().await;
    let id = published_tender(&f, "QD-EVAL-002").await;
    // The live progress: bidders are refused; the trading centre finds no committee yet.
    let progress = format!("/tenders/{id}/evaluation/progress");
    let bidder = sign_in(&f.app, "bidder").await;
    let p = fetch(&f, &progress, Some(&bidder)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    let officer = sign_in(&f.app, "officer").await;
    let p = fetch(&f, &progress, Some(&officer)).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.html);
    // The result is public, and says nothing until the report is logged.
    let p = fetch(&f, &format!("/tenders/{id}/result"), None).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("id=\"result-pending\""));
    assert!(p.html.contains("The evaluation is in progress"));
    assert!(!p.html.contains("id=\"candidates\""));
    // No committee drawn: the tender's page links to none of the evaluation pages.
    let d = fetch(&f, &format!("/tenders/{id}"), Some(&officer)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(!d.html.contains("id=\"evaluation-links\""));
    // The progress page's script is served as a script of our own (no inline script runs).
    let js = fetch(&f, "/static/evaluation-progress.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.html.contains("EventSource"));
    assert!(js.html.contains("data-stream"));
}

// ---------------------------------------------------------------------------------------------
// After the evaluation: the result page's forms and the refund tasks (the whole flow runs in the
// browser test `a_tenderee_awards_and_a_bidder_objects_in_the_browser`)

/// A tender whose two bids (of `bidder`, "Haixin Construction", and `bidder2`, "Laoshan
/// Builders") opened validly, and whose evaluation report is logged with both as candidates,
/// Haixin first; stored as the opening and the last signature store them. Returns the tender and
/// the bids in rank order.
async fn logged_tender(f: &Fixture, code: &str) -> (String, Vec<(sealbid_domain::BidId, OrgId)>) {
    use sealbid_domain::evaluation::scoring::{Outcome, RankedBid};
    use sealbid_domain::tender::{EvaluationMethod, TenderState};
    use sealbid_seal::opening::{BidOutcome, DepositCheck, OpenedBid, OpenedPrice};
    use sealbid_seal::report::{EvaluationReport, MemberSignature, ReportMember, SignedReport};

    let id = published_tender(f, code).await;
    let tid = pol_tender(&id);
    let pol = policy(f, &id).await;
    let bidder2_org = f
        .state
        .store
        .find_login("bidder2")
        .await
        .unwrap()
        .unwrap()
        .0
        .org
        .unwrap();
    let mut bids = Vec::new();
    for (who, org, name, price) in [
        ("bidder", f.bidder_org, "Haixin Construction", "951000.00"),
        ("bidder2", bidder2_org, "Laoshan Builders", "962000.00"),
    ] {
        let cookie = sign_in(&f.app, who).await;
        let reference = reference_for(f, &cookie, &id).await;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let sealed = seal_bid(&pol, &id, org, &reference, &key, false);
        let p = send(
            &f.app,
            multipart(&format!("/tenders/{id}/bid"), &cookie, &bid_form(&sealed)),
        )
        .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
        let stored = f
            .state
            .store
            .list_bids(tid)
            .await
            .unwrap()
            .into_iter()
            .find(|b| b.bidder_org == org)
            .unwrap();
        bids.push((stored, name, price, reference));
    }
    let now = f.state.now();
    let opened = bids
        .iter()
        .map(|(b, name, price, reference)| OpenedBid {
            bidder: b.bidder_org.to_string(),
            bidder_name: name.to_string(),
            log_index: b.log_index,
            entry: String::new(),
            proof: Vec::new(),
            manifest_digest: b.manifest_digest.clone(),
            envelopes: Vec::new(),
            price: Some(OpenedPrice {
                currency: "CNY".into(),
                total: price.parse().unwrap(),
                lines: 0,
                plaintext_sha256: "ef".repeat(32),
            }),
            deposit: DepositCheck {
                reference: reference.clone(),
                paid: "20000.00".into(),
                sufficient: true,
                envelopes: Vec::new(),
                payers: Vec::new(),
            },
            outcome: BidOutcome::Valid,
        })
        .collect();
    let record = opening_record(&id, code, now, opened);
    let signed = Signed::sign(record, &f.state.sealing.signing).unwrap();
    let mut s = f.state.store.get_sealing(tid).await.unwrap().unwrap();
    s.opened = Some(sealbid_store::Opened {
        at: now,
        log_index: 8,
        checkpoint: String::new(),
        record: String::from_utf8(signed.to_json_bytes().unwrap()).unwrap(),
    });
    let version = s.version;
    s.version += 1;
    // The tender under evaluation, as the opening and the draw leave it.
    let mut t = f.state.store.get_tender(tid).await.unwrap().unwrap();
    let read = t.version;
    t.state = TenderState::Evaluating;
    t.version += 1;
    let audit = AuditEvent::new(None, now, "test.opened", "tender", tid);
    f.state
        .store
        .seal_write(sealbid_store::SealWrite {
            tender: Some((&t, read)),
            sealing: Some((&s, version)),
            bid: None,
            log: None,
            audit: &audit,
        })
        .await
        .unwrap();

    let ranked: Vec<RankedBid> = bids
        .iter()
        .enumerate()
        .map(|(i, (b, _, price, _))| RankedBid {
            rank: i as u32 + 1,
            bid: b.id,
            bidder: b.bidder_org,
            price: price.parse().unwrap(),
            log_index: b.log_index,
            price_score: None,
            technical: None,
            commercial: None,
            aggregate: None,
            total: Some(format!("{}", 90 - i).parse().unwrap()),
            member_totals: Vec::new(),
            tie_break: None,
        })
        .collect();
    let outcome = Outcome {
        method: EvaluationMethod::ComprehensiveScoring,
        committee_size: 1,
        lowest_valid_price: Some("951000.00".parse().unwrap()),
        benchmark_price: None,
        ranking: ranked.clone(),
        candidates: ranked,
        rejected: Vec::new(),
        outliers: Vec::new(),
        all_rejected: false,
    };
    let report = EvaluationReport {
        version: 1,
        tender: id.clone(),
        tender_code: code.into(),
        opening_log_index: 8,
        opening_record_digest: "ab".repeat(32),
        drawn_up_at: now,
        members: vec![ReportMember {
            seat: 1,
            member: "E01".into(),
            name: "Expert One 评委".into(),
            representative: false,
            user: UserId::new().to_string(),
        }],
        scheme: serde_json::json!({}),
        qualification: serde_json::json!({}),
        sheets: serde_json::json!([]),
        outcome: serde_json::to_value(&outcome).unwrap(),
    };
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let signature = key.sign(&report.signing_bytes().unwrap());
    let body = serde_json::to_string(&report).unwrap();
    let logged = Signed::sign(
        SignedReport {
            report,
            signatures: vec![MemberSignature {
                member: "E01".into(),
                signed_at: now,
                key: key.verifying_key(),
                signature,
            }],
        },
        &f.state.sealing.signing,
    )
    .unwrap();
    let stored = sealbid_store::StoredReport {
        tender_id: tid,
        version: 1,
        drawn_up_at: now,
        body,
        signatures: "[]".into(),
        logged: Some(String::from_utf8(logged.to_json_bytes().unwrap()).unwrap()),
        log_index: Some(9),
        checkpoint: Some("sealbid.local/log\n10\nROOT=\n".into()),
    };
    let audit = AuditEvent::new(None, now, "test.report", "tender", tid);
    f.state
        .store
        .save_report(sealbid_store::ReportWrite {
            report: &stored,
            expected_version: None,
            log: None,
            audit: &audit,
        })
        .await
        .unwrap();
    let order = bids.iter().map(|(b, ..)| (b.id, b.bidder_org)).collect();
    (id, order)
}

/// Whether the page has an element with this id.
fn has(html: &str, id: &str) -> bool {
    html.contains(&format!("id=\"{id}\""))
}

#[tokio::test]
async fn the_result_page_shows_the_publication_and_objections_each_as_the_api_does() {
    let f = fixture().await;
    let (id, _) = logged_tender(&f, "QD-AWD-001").await;
    let url = format!("/tenders/{id}/result");
    let tenderee = sign_in(&f.app, "tenderee").await;
    let bidder = sign_in(&f.app, "bidder").await;
    let bidder2 = sign_in(&f.app, "bidder2").await;
    let officer = sign_in(&f.app, "officer").await;
    let other = sign_in(&f.app, "other").await;
    let page = async |cookie: Option<&str>| fetch(&f, &url, cookie).await;

    // The report is logged: the tenderee alone gets the form to publish the candidates.
    let p = page(Some(&tenderee)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(has(&p.html, "publish-form") && has(&p.html, "publication-pending"));
    assert!(
        has(&p.html, "candidates"),
        "the tenderee reads the report to publish it"
    );
    // Until the candidates are published the report is the tenderee's, the committee's, the
    // centre's and supervision's: the public, bidders and others see no names and no scores.
    for (who, cookie, reads) in [
        ("the public", None, false),
        ("a bidder", Some(&bidder), false),
        ("the centre", Some(&officer), true),
        ("another tenderee", Some(&other), false),
    ] {
        let p = page(cookie.map(String::as_str)).await;
        assert_eq!(p.status, StatusCode::OK, "{who}: {}", p.html);
        assert_eq!(has(&p.html, "candidates"), reads, "{who}");
        assert_eq!(has(&p.html, "result-pending"), !reads, "{who}");
        assert!(!has(&p.html, "publish-form"), "{who}");
    }
    // Posted anyway by a bidder: the API's 403, as an error page; nothing published.
    let publish = format!("{url}/publication");
    let p = submit(&f, &publish, Some(&bidder), &[("end", "")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    // From another site: refused before anything else.
    let p = submit_cross_site(&f, &publish, Some(&tenderee), &[("end", "")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("another site"));
    // Not signed in: to the sign-in page.
    let p = submit(&f, &publish, None, &[("end", "")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(p.location.starts_with("/login?next="), "{}", p.location);
    // Too short: the API's code and message, the typed end kept.
    let short = view::datetime_local(start() + Duration::days(2));
    let p = submit(&f, &publish, Some(&tenderee), &[("end", &short)]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(has(&p.html, "publish-error"));
    assert!(p.html.contains("publication_too_short"), "{}", p.html);
    assert!(p.html.contains(&format!("value=\"{short}\"")));
    // Published for the shortest time.
    let p = submit(&f, &publish, Some(&tenderee), &[("end", "")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, format!("{url}?done=published#award"));
    let p = fetch(&f, &format!("{url}?done=published"), Some(&tenderee)).await;
    assert!(has(&p.html, "flash"));
    let window_end = view::time(start() + Duration::days(3));
    assert_eq!(text_of(&p.html, "window-end"), window_end);
    assert!(!has(&p.html, "publish-form") && !has(&p.html, "publication-late"));
    assert!(has(&p.html, "notice-form"));
    // With the publication, the result is public.
    for cookie in [None, Some(bidder.as_str()), Some(other.as_str())] {
        let p = page(cookie).await;
        assert!(
            has(&p.html, "candidates") && !has(&p.html, "result-pending"),
            "{}",
            p.html
        );
    }

    // Objections: the bidders of this tender, during the window; nobody else gets the form.
    for cookie in [&bidder, &bidder2] {
        assert!(has(&page(Some(cookie)).await.html, "object-form"));
    }
    for cookie in [None, Some(&tenderee), Some(&officer), Some(&other)] {
        let p = page(cookie.map(String::as_str)).await;
        assert!(!has(&p.html, "object-form"));
        assert!(!has(&p.html, "notice-form") || cookie == Some(&tenderee));
    }
    let objections = format!("{url}/objections");
    let p = submit(&f, &objections, Some(&bidder), &[("text", "  ")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(has(&p.html, "object-error") && p.html.contains("invalid_text"));
    let p = submit(&f, &objections, Some(&other), &[("text", "x")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    let text = "Our Grade II licence was renewed in March; the certificate is in our bid.";
    let p = submit(&f, &objections, Some(&bidder), &[("text", text)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, format!("{url}?done=objected#award"));
    // The text: the tenderee, the centre and the objector; the others see that there is one.
    for (who, cookie, full) in [
        ("the public", None, false),
        ("the other bidder", Some(&bidder2), false),
        ("another tenderee", Some(&other), false),
        ("the objector", Some(&bidder), true),
        ("the centre", Some(&officer), true),
        ("the tenderee", Some(&tenderee), true),
    ] {
        let p = page(cookie.map(String::as_str)).await;
        assert_eq!(p.html.contains("was renewed in March"), full, "{who}");
        assert!(has(&p.html, "objection-1"), "{who}");
        assert!(
            p.html.contains("1 objection(s), 0 answered"),
            "{who}: {}",
            p.html
        );
        // Only the tenderee answers.
        assert_eq!(
            has(&p.html, "answer-form-1"),
            cookie == Some(&tenderee),
            "{who}"
        );
    }
    // An empty answer: refused, the ticked box kept.
    let answer = format!("{url}/objections/1/answer");
    let ticked = [("text", ""), ("upheld", "yes")];
    let p = submit(&f, &answer, Some(&tenderee), &ticked).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(has(&p.html, "answer-error-1") && p.html.contains("invalid_text"));
    assert!(p
        .html
        .contains("id=\"answer-upheld-1\" value=\"yes\" checked"));
    let p = submit(&f, &answer, Some(&bidder), &[("text", "x")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let reply = "The certificate expired before the deadline.";
    let p = submit(&f, &answer, Some(&tenderee), &[("text", reply)]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = page(None).await;
    assert!(p.html.contains("not upheld") && !p.html.contains("expired before"));
    assert!(p.html.contains("1 objection(s), 1 answered"));

    // The award notice waits for the end of the publication.
    let notice = format!("{url}/notice");
    let p = submit(&f, &notice, Some(&tenderee), &[("bid", "")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
    assert!(has(&p.html, "notice-error") && p.html.contains("publication_running"));
    // After the window: no objection form; a page left open and sent anyway is refused with the
    // closing time, the text kept.
    f.clock.advance(Duration::days(3) + Duration::minutes(1));
    // Sessions last 12 hours: signed in again.
    let bidder2 = sign_in(&f.app, "bidder2").await;
    let p = page(Some(&bidder2)).await;
    assert!(!has(&p.html, "object-form"));
    assert!(p.html.contains("objections are closed"));
    let late = "We object too, late.";
    let p = submit(&f, &objections, Some(&bidder2), &[("text", late)]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("objection_window_closed"));
    assert!(p.html.contains(&window_end), "{}", p.html);
    assert!(p.html.contains("We object too, late."));
}

#[tokio::test]
async fn the_award_notice_contract_and_refunds_through_the_pages() {
    let f = fixture().await;
    add_user(&f.state, "supervisor", vec![Role::Supervisor], None).await;
    let (id, bids) = logged_tender(&f, "QD-AWD-002").await;
    let url = format!("/tenders/{id}/result");
    let tenderee = sign_in(&f.app, "tenderee").await;
    let page = async |cookie: Option<&str>| fetch(&f, &url, cookie).await;
    let go = async |path: &str, cookie: &str, fields: &[(&str, &str)]| {
        submit(&f, &format!("{url}/{path}"), Some(cookie), fields).await
    };
    let p = go("publication", &tenderee, &[("end", "")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    f.clock.advance(Duration::days(3) + Duration::minutes(1));
    // Sessions last 12 hours: signed in again.
    let tenderee = sign_in(&f.app, "tenderee").await;
    let bidder = sign_in(&f.app, "bidder").await;
    let officer = sign_in(&f.app, "officer").await;
    let supervisor = sign_in(&f.app, "supervisor").await;

    // The notice: the candidates to choose from, the first chosen by default.
    let p = page(Some(&tenderee)).await;
    assert!(p.html.contains(&format!(
        "<option value=\"{}\" selected>1. Haixin Construction",
        bids[0].0
    )));
    assert!(p.html.contains("2. Laoshan Builders"));
    let p = go("notice", &tenderee, &[("bid", "not-a-bid")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(p.html.contains("invalid_bid"));
    let p = go("notice", &bidder, &[("bid", "")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = go("notice", &tenderee, &[("bid", &bids[0].0.to_string())]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = page(None).await;
    assert!(text_of(&p.html, "notice-winner").starts_with("Awarded"));
    assert!(p
        .html
        .contains("<strong>Haixin Construction</strong> at ¥951,000.00"));
    assert!(has(&p.html, "contract-due") && has(&p.html, "contract-pending"));
    assert!(!has(&p.html, "notice-form") && !has(&p.html, "contract-form"));
    assert!(!has(&page(Some(&bidder)).await.html, "contract-form"));

    // The contract: refused input is kept with the API's code.
    let signed = view::datetime_local(f.state.now());
    let contract = async |amount: &str| {
        let fields = [
            ("signed_at", signed.as_str()),
            ("amount", amount),
            ("reference", "QD-C-7"),
        ];
        go("contract", &tenderee, &fields).await
    };
    let p = contract("0").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(has(&p.html, "contract-error") && p.html.contains("invalid_amount"));
    assert!(p.html.contains("value=\"QD-C-7\""));
    let p = contract("951,000.00").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);

    // The refunds: every one for the staff, the centre's buttons; a bidder's own; none publicly.
    let (own, theirs) = (bids[0].1.to_string(), bids[1].1.to_string());
    for (who, cookie, rows, buttons) in [
        ("the centre", Some(&officer), 2, true),
        ("the tenderee", Some(&tenderee), 2, false),
        ("a supervisor", Some(&supervisor), 2, false),
        ("the bidder", Some(&bidder), 1, false),
        ("the public", None, 0, false),
    ] {
        let p = page(cookie.map(String::as_str)).await;
        assert!(has(&p.html, "contract-record"), "{who}");
        let shown = [&own, &theirs]
            .iter()
            .filter(|o| p.html.contains(&format!("<tr data-org=\"{o}\"")))
            .count();
        assert_eq!(shown, rows, "{who}");
        assert_eq!(p.html.contains("mark-refunded-"), buttons, "{who}");
    }
    assert!(page(Some(&bidder))
        .await
        .html
        .contains(&format!("<tr data-org=\"{own}\"")));

    // The task list: the centre and supervisors only.
    let p = fetch(&f, "/refunds", None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = fetch(&f, "/refunds", Some(&bidder)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(!p.html.contains("refunds-link"));
    let p = fetch(&f, "/refunds", Some(&supervisor)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(has(&p.html, "refunds-link"));
    assert_eq!(p.html.matches("<tr data-tender=").count(), 2);
    assert!(!p.html.contains("mark-refunded"));
    let p = fetch(&f, "/refunds?overdue=1", Some(&officer)).await;
    assert!(has(&p.html, "no-refunds"));
    // Past due: overdue, first; the centre marks one from the list, the other from the page.
    f.clock.advance(Duration::days(6));
    let officer = sign_in(&f.app, "officer").await;
    let tenderee = sign_in(&f.app, "tenderee").await;
    let p = fetch(&f, "/refunds?overdue=1", Some(&officer)).await;
    assert_eq!(
        p.html.matches("data-overdue=\"true\"").count(),
        2,
        "{}",
        p.html
    );
    assert!(p
        .html
        .contains(&format!("href=\"/tenders/{id}/result#refunds\"")));
    let done = format!("{url}/refunds/{own}/done");
    let p = submit(&f, &done, Some(&officer), &[("back", "refunds")]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, "/refunds?done=refunded");
    let p = submit(&f, &done, Some(&officer), &[("back", "refunds")]).await;
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.html);
    assert!(has(&p.html, "refunds-error") && p.html.contains("already_refunded"));
    let p = submit(&f, &done, Some(&tenderee), &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = fetch(&f, "/refunds", Some(&officer)).await;
    assert_eq!(p.html.matches("<tr data-tender=").count(), 1);
    let done = format!("{url}/refunds/{theirs}/done");
    let p = submit(&f, &done, Some(&officer), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location, format!("{url}?done=refunded#award"));
    let p = fetch(&f, "/refunds?include_done=1", Some(&officer)).await;
    assert_eq!(p.html.matches("<tr data-tender=").count(), 2);
    assert!(!p.html.contains("mark-refunded"));
    let t = f
        .state
        .store
        .get_tender(pol_tender(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.state, sealbid_domain::tender::TenderState::Completed);
}
