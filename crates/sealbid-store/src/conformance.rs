//! The one conformance suite every `Store` must pass. Each case is an async fn taking a
//! [`Harness`] around a FRESH, empty store; the SQLite and PostgreSQL test modules turn every
//! case into its own `#[tokio::test]` with [`for_each_conformance_case!`](crate::for_each_conformance_case),
//! so a failure names the case and the backend. Other crates (with the `conformance` feature)
//! can run the lot with [`run_all`].
//!
//! Every case also checks the store's promise about failure: a call that fails leaves the store
//! exactly as it was (no row, no audit record).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use sealbid_domain::audit::{AuditEvent, AuditRecord};
use sealbid_domain::credit_code::complete_credit_code;
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::tender::{
    Amendment, Answer, Category, CommitteePolicy, EvaluationMethod, Question, Tender, TenderCode,
    TenderDocument, TenderState, TenderTerms, TermsPatch,
};
use sealbid_domain::{AmendmentId, DivisionCode, Money, OrgId, QuestionId, TenderId, UserId};

use crate::{HallScope, OrgFilter, Session, SessionKind, Store, StoreError, TenderFilter};

/// A fresh store, plus what the suite needs that the `Store` trait deliberately lacks.
#[async_trait]
pub trait Harness: Send + Sync {
    fn store(&self) -> Arc<dyn Store>;
    /// Overwrites one audit record's `event_json` with raw SQL, as an intruder would.
    async fn tamper_audit(&self, seq: i64, event_json: &str);
}

/// Calls `$callback! { case, case, … }` with the name of every conformance case, so that each
/// backend generates one test per case and none can be forgotten.
#[macro_export]
macro_rules! for_each_conformance_case {
    ($callback:ident) => {
        $callback! {
            halls_upsert_and_list,
            orgs_round_trip,
            orgs_list_filters,
            duplicate_credit_code_is_a_conflict,
            users_round_trip,
            duplicate_username_is_a_conflict,
            user_with_unknown_org_is_refused,
            set_password,
            sessions_round_trip_and_expiry,
            tenders_round_trip,
            tender_list_filters,
            tender_list_paging,
            duplicate_tender_code_is_a_conflict,
            tender_with_unknown_org_is_refused,
            update_tender_checks_the_version,
            concurrent_updates_one_wins,
            tenders_due_for_closing,
            amendments_round_trip,
            questions_round_trip,
            every_write_appends_one_audit_record,
            audit_paging_and_entity_lookup,
            concurrent_writers_keep_one_chain,
            tampering_is_detected,
            timestamps_keep_microseconds,
            sealing_log_appends_and_proves,
            sealing_bids_replace_and_withdraw,
            sealing_documents_record_their_log_entries,
            sealing_deposits_are_idempotent,
            sealing_opening_actions_once_each,
            screening_saves_are_idempotent,
            alert_review_confirms_with_effects,
            evaluation_pool_and_draws,
        }
    };
}

/// One case: takes a harness around a fresh store and panics on failure.
pub type CaseFn = for<'a> fn(&'a dyn Harness) -> BoxFuture<'a, ()>;

macro_rules! case_table {
    ($($case:ident),* $(,)?) => {
        /// Every conformance case, by name.
        pub fn cases() -> Vec<(&'static str, CaseFn)> {
            vec![$((stringify!($case), boxed::$case as CaseFn)),*]
        }

        mod boxed {
            use super::Harness;
            use futures::future::BoxFuture;
            $(
                pub fn $case(h: &dyn Harness) -> BoxFuture<'_, ()> {
                    Box::pin(super::$case(h))
                }
            )*
        }
    };
}
crate::for_each_conformance_case!(case_table);

/// Runs every case, each on a fresh harness from `make`. Panics on the first failure, naming it.
pub async fn run_all<F, Fut, H>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = H>,
    H: Harness,
{
    for (name, case) in cases() {
        let h = make().await;
        eprintln!("conformance: {name}");
        case(&h).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Test data, built with the real domain constructors.

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

fn div(code: &str) -> DivisionCode {
    DivisionCode::parse(code).unwrap()
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// A valid unified social credit code, distinct for each `n`.
fn credit(n: u32) -> sealbid_domain::CreditCode {
    complete_credit_code(&format!("91370200{n:09}")).unwrap()
}

fn event(action: &str, kind: &str, id: impl ToString, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent::new(None, at, action, kind, id)
        .with_change::<(), _>(None, Some(&serde_json::json!({ "action": action })))
}

fn org(n: u32, name: &str, kind: OrgKind, hall: &str) -> Organisation {
    Organisation {
        id: OrgId::new(),
        credit_code: credit(n),
        name: name.to_string(),
        kind,
        hall: div(hall),
        created_at: minutes(i64::from(n)),
    }
}

fn user(username: &str, org: Option<OrgId>, hall: &str, roles: Vec<Role>) -> User {
    User {
        id: UserId::new(),
        username: username.to_string(),
        display_name: format!("{username} (display)"),
        roles,
        org,
        hall: div(hall),
        active: true,
        created_at: t0(),
    }
}

fn terms(title: &str, deadline: DateTime<Utc>) -> TenderTerms {
    TenderTerms {
        title: title.to_string(),
        description: "Works as set out in the tender documents.".to_string(),
        category: Category::Works,
        mandatory: false,
        estimated_price: money("1000000.00"),
        ceiling_price: Some(money("1100000")),
        bid_deposit: money("20000.5"),
        documents: vec![TenderDocument {
            name: "specification.pdf".to_string(),
            sha256: hex::encode(Sha256::digest(b"specification")),
            size: 13,
        }],
        bid_deadline: deadline,
        opening_time: deadline,
        evaluation_method: EvaluationMethod::LowestEvaluatedPrice,
        qualification_criteria: vec!["Class II construction licence".to_string()],
        committee: CommitteePolicy::default(),
    }
}

fn tender(code: &str, title: &str, hall: &str, org: OrgId, state: TenderState) -> Tender {
    tender_at(code, title, hall, org, state, t0())
}

fn tender_at(
    code: &str,
    title: &str,
    hall: &str,
    org: OrgId,
    state: TenderState,
    created: DateTime<Utc>,
) -> Tender {
    let mut t = Tender::new_draft(
        TenderId::new(),
        TenderCode::parse(code).unwrap(),
        div(hall),
        org,
        UserId::new(),
        terms(title, created + Duration::days(30)),
        created,
    );
    t.state = state;
    if state.is_public() {
        t.submitted_at = Some(created + Duration::hours(1));
        t.published_at = Some(created + Duration::hours(2));
    }
    t
}

async fn audit_all(s: &dyn Store) -> Vec<AuditRecord> {
    s.audit_records(0, 0).await.unwrap()
}

async fn audit_len(s: &dyn Store) -> usize {
    audit_all(s).await.len()
}

/// The last audit record, checked to carry exactly `expected`.
async fn assert_last_audit(s: &dyn Store, expected: &AuditEvent) {
    let all = audit_all(s).await;
    let last = all.last().expect("an audit record");
    assert_eq!(last.seq, all.len() as i64);
    assert_eq!(&last.event().unwrap(), expected);
    assert_eq!(last.event_json, expected.canonical_json());
}

async fn new_org(s: &dyn Store, n: u32, name: &str, kind: OrgKind, hall: &str) -> Organisation {
    let o = org(n, name, kind, hall);
    s.create_org(&o, &event("org.create", "org", o.id, o.created_at))
        .await
        .unwrap();
    o
}

async fn new_tender(s: &dyn Store, t: Tender) -> Tender {
    s.create_tender(&t, &event("tender.create", "tender", t.id, t.created_at))
        .await
        .unwrap();
    t
}

fn codes(ts: &[Tender]) -> Vec<String> {
    ts.iter().map(|t| t.code.as_str().to_string()).collect()
}

fn names(os: &[Organisation]) -> Vec<String> {
    os.iter().map(|o| o.name.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Halls

pub async fn halls_upsert_and_list(h: &dyn Harness) {
    let s = h.store();
    assert!(s.list_halls().await.unwrap().is_empty());
    let shinan = Hall {
        division: div("370202"),
        name: "Shinan District Hall".to_string(),
    };
    let city = Hall {
        division: div("370200"),
        name: "青岛市公共资源交易中心".to_string(),
    };
    for hall in [&shinan, &city] {
        s.upsert_hall(hall, &event("hall.upsert", "hall", &hall.division, t0()))
            .await
            .unwrap();
    }
    assert_eq!(
        s.list_halls().await.unwrap(),
        vec![city.clone(), shinan.clone()]
    );

    let renamed = Hall {
        name: "Shinan Trading Hall".to_string(),
        ..shinan.clone()
    };
    let ev = event("hall.upsert", "hall", "370202", minutes(1));
    s.upsert_hall(&renamed, &ev).await.unwrap();
    assert_eq!(s.list_halls().await.unwrap(), vec![city, renamed]);
    assert_eq!(audit_len(&*s).await, 3);
    assert_last_audit(&*s, &ev).await;
}

// ---------------------------------------------------------------------------------------------
// Organisations

pub async fn orgs_round_trip(h: &dyn Harness) {
    let s = h.store();
    let o = org(1, "Qingdao Road Works Co., Ltd.", OrgKind::Bidder, "370202");
    let ev = event("org.create", "org", o.id, t0());
    s.create_org(&o, &ev).await.unwrap();
    assert_eq!(s.get_org(o.id).await.unwrap(), Some(o.clone()));
    assert_eq!(s.get_org(OrgId::new()).await.unwrap(), None);
    let trail = s.audit_for_entity("org", &o.id.to_string()).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].event().unwrap(), ev);
}

pub async fn orgs_list_filters(h: &dyn Harness) {
    let s = h.store();
    let a = new_org(&*s, 1, "Alpha Road Works", OrgKind::Bidder, "370202").await;
    let b = new_org(&*s, 2, "Beta Builders", OrgKind::Bidder, "370203").await;
    let c = new_org(
        &*s,
        3,
        "Gamma City Procurement",
        OrgKind::Tenderee,
        "370200",
    )
    .await;
    let d = new_org(&*s, 4, "Delta Shenyang ROADS", OrgKind::Agency, "210102").await;
    let all = |f: OrgFilter| {
        let s = s.clone();
        async move { names(&s.list_orgs(&f).await.unwrap()) }
    };
    let within = |code: &str| HallScope::Within(div(code));

    assert_eq!(
        all(OrgFilter::default()).await,
        names(&[a.clone(), b.clone(), d.clone(), c.clone()]),
        "ordered by name"
    );
    let f = |scope| OrgFilter {
        scope,
        ..OrgFilter::default()
    };
    assert_eq!(
        all(f(within("370200"))).await,
        names(&[a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        all(f(within("370000"))).await,
        names(&[a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        all(f(within("370202"))).await,
        names(std::slice::from_ref(&a))
    );
    assert_eq!(
        all(f(within("210000"))).await,
        names(std::slice::from_ref(&d))
    );
    assert!(all(f(within("110000"))).await.is_empty());

    let kind = OrgFilter {
        kind: Some(OrgKind::Bidder),
        ..OrgFilter::default()
    };
    assert_eq!(all(kind).await, names(&[a.clone(), b.clone()]));

    let text = |t: &str| OrgFilter {
        text: Some(t.to_string()),
        ..OrgFilter::default()
    };
    assert_eq!(
        all(text("road")).await,
        names(&[a.clone(), d.clone()]),
        "case-insensitive"
    );
    assert_eq!(
        all(text(" ROAD ")).await,
        names(&[a.clone(), d.clone()]),
        "trimmed"
    );
    let code = c.credit_code.as_str().to_lowercase();
    assert_eq!(
        all(text(&code)).await,
        names(std::slice::from_ref(&c)),
        "matches the credit code"
    );
    assert!(
        all(text("%")).await.is_empty(),
        "LIKE wildcards are literal"
    );
    assert!(
        all(text("_")).await.is_empty(),
        "LIKE wildcards are literal"
    );

    let page = |limit, offset| OrgFilter {
        limit,
        offset,
        ..OrgFilter::default()
    };
    assert_eq!(all(page(2, 0)).await, names(&[a.clone(), b.clone()]));
    assert_eq!(all(page(2, 2)).await, names(&[d.clone(), c.clone()]));
    assert!(all(page(2, 4)).await.is_empty());
    assert_eq!(all(page(0, 3)).await, names(&[c]), "limit 0 means no limit");
}

pub async fn duplicate_credit_code_is_a_conflict(h: &dyn Harness) {
    let s = h.store();
    let first = new_org(&*s, 7, "First Holder", OrgKind::Bidder, "370202").await;
    let before = audit_len(&*s).await;
    let mut second = org(7, "Second Claimant", OrgKind::Tenderee, "370203");
    second.credit_code = first.credit_code.clone();
    let err = s
        .create_org(&second, &event("org.create", "org", second.id, t0()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("credit_code")),
        "got {err:?}"
    );
    assert_eq!(err.code(), "conflict");
    assert_eq!(
        audit_len(&*s).await,
        before,
        "no audit record for a failed call"
    );
    assert_eq!(s.get_org(second.id).await.unwrap(), None);
    assert_eq!(
        s.list_orgs(&OrgFilter::default()).await.unwrap(),
        vec![first]
    );
    assert_eq!(s.verify_audit().await.unwrap(), Ok(1));
}

// ---------------------------------------------------------------------------------------------
// Users

pub async fn users_round_trip(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee Co.", OrgKind::Tenderee, "370202").await;
    let alice = user(
        "alice",
        Some(o.id),
        "370202",
        vec![Role::Tenderee, Role::Bidder],
    );
    let ev = event("user.create", "user", alice.id, t0());
    s.create_user(&alice, "$argon2id$v=19$alice", &ev)
        .await
        .unwrap();
    assert_last_audit(&*s, &ev).await;

    let mut officer = user("zed.officer", None, "370200", vec![Role::CentreOfficer]);
    officer.active = false;
    s.create_user(
        &officer,
        "$argon2id$v=19$zed",
        &event("user.create", "user", officer.id, t0()),
    )
    .await
    .unwrap();
    let nobody = user("bob_no-roles", None, "210102", vec![]);
    s.create_user(
        &nobody,
        "$argon2id$v=19$bob",
        &event("user.create", "user", nobody.id, t0()),
    )
    .await
    .unwrap();

    assert_eq!(s.get_user(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(s.get_user(officer.id).await.unwrap(), Some(officer.clone()));
    assert_eq!(s.get_user(nobody.id).await.unwrap(), Some(nobody.clone()));
    assert_eq!(s.get_user(UserId::new()).await.unwrap(), None);

    assert_eq!(
        s.find_login("alice").await.unwrap(),
        Some((alice.clone(), "$argon2id$v=19$alice".to_string()))
    );
    assert_eq!(s.find_login("mallory").await.unwrap(), None);

    let all = s.list_users(&HallScope::All, 0, 0).await.unwrap();
    assert_eq!(
        all,
        vec![alice.clone(), nobody.clone(), officer.clone()],
        "by username"
    );
    let city = s
        .list_users(&HallScope::Within(div("370200")), 0, 0)
        .await
        .unwrap();
    assert_eq!(city, vec![alice.clone(), officer.clone()]);
    let district = s
        .list_users(&HallScope::Within(div("370202")), 0, 0)
        .await
        .unwrap();
    assert_eq!(district, vec![alice.clone()]);
    assert_eq!(
        s.list_users(&HallScope::All, 1, 1).await.unwrap(),
        vec![nobody]
    );
}

pub async fn duplicate_username_is_a_conflict(h: &dyn Harness) {
    let s = h.store();
    let first = user("alice", None, "370202", vec![Role::Bidder]);
    s.create_user(&first, "h1", &event("user.create", "user", first.id, t0()))
        .await
        .unwrap();
    let before = audit_len(&*s).await;
    let second = user("alice", None, "370203", vec![Role::Admin]);
    let err = s
        .create_user(
            &second,
            "h2",
            &event("user.create", "user", second.id, t0()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("username")),
        "got {err:?}"
    );
    assert_eq!(audit_len(&*s).await, before);
    assert_eq!(s.get_user(second.id).await.unwrap(), None);
    assert_eq!(
        s.find_login("alice").await.unwrap(),
        Some((first, "h1".to_string()))
    );
}

pub async fn user_with_unknown_org_is_refused(h: &dyn Harness) {
    let s = h.store();
    let u = user("carol", Some(OrgId::new()), "370202", vec![Role::Bidder]);
    let err = s
        .create_user(&u, "h", &event("user.create", "user", u.id, t0()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("unknown_org")),
        "got {err:?}"
    );
    assert_eq!(s.get_user(u.id).await.unwrap(), None);
    assert_eq!(audit_len(&*s).await, 0);
}

pub async fn set_password(h: &dyn Harness) {
    let s = h.store();
    let u = user("dave", None, "370202", vec![Role::Admin]);
    s.create_user(&u, "old", &event("user.create", "user", u.id, t0()))
        .await
        .unwrap();
    let ev = event("user.set_password", "user", u.id, minutes(1));
    s.set_password(u.id, "new", &ev).await.unwrap();
    assert_eq!(
        s.find_login("dave").await.unwrap(),
        Some((u, "new".to_string()))
    );
    assert_last_audit(&*s, &ev).await;

    let before = audit_len(&*s).await;
    let ghost = UserId::new();
    let err = s
        .set_password(
            ghost,
            "x",
            &event("user.set_password", "user", ghost, minutes(2)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(
        audit_len(&*s).await,
        before,
        "no audit record for a failed call"
    );
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub async fn sessions_round_trip_and_expiry(h: &dyn Harness) {
    let s = h.store();
    let u = user("erin", None, "370202", vec![Role::Bidder]);
    s.create_user(&u, "h", &event("user.create", "user", u.id, t0()))
        .await
        .unwrap();
    let audit_before = audit_len(&*s).await;
    let cookie = Session {
        token_hash: hex::encode(Sha256::digest(b"cookie-token")),
        user_id: u.id,
        kind: SessionKind::Cookie,
        created_at: t0(),
        expires_at: minutes(60),
    };
    let bearer = Session {
        token_hash: hex::encode(Sha256::digest(b"bearer-token")),
        kind: SessionKind::Bearer,
        expires_at: minutes(600),
        ..cookie.clone()
    };
    s.create_session(&cookie).await.unwrap();
    s.create_session(&bearer).await.unwrap();
    assert_eq!(
        audit_len(&*s).await,
        audit_before,
        "sessions are not audited"
    );

    let get = |hash: String, now| {
        let s = s.clone();
        async move { s.get_session(&hash, now).await.unwrap() }
    };
    assert_eq!(
        get(cookie.token_hash.clone(), t0()).await,
        Some(cookie.clone())
    );
    assert_eq!(
        get(
            cookie.token_hash.clone(),
            minutes(60) - Duration::microseconds(1)
        )
        .await,
        Some(cookie.clone())
    );
    assert_eq!(
        get(cookie.token_hash.clone(), minutes(60)).await,
        None,
        "expired at expires_at"
    );
    assert_eq!(get(cookie.token_hash.clone(), minutes(61)).await, None);
    assert_eq!(
        get(bearer.token_hash.clone(), minutes(61)).await,
        Some(bearer.clone())
    );
    assert_eq!(get("0".repeat(64), t0()).await, None);

    let dup = s.create_session(&cookie).await.unwrap_err();
    assert!(
        matches!(dup, StoreError::Conflict("session")),
        "got {dup:?}"
    );
    let orphan = Session {
        token_hash: "f".repeat(64),
        user_id: UserId::new(),
        ..cookie.clone()
    };
    let err = s.create_session(&orphan).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("unknown_user")),
        "got {err:?}"
    );

    assert_eq!(s.purge_expired_sessions(minutes(61)).await.unwrap(), 1);
    assert_eq!(
        get(bearer.token_hash.clone(), t0()).await,
        Some(bearer.clone())
    );
    s.delete_session(&bearer.token_hash).await.unwrap();
    assert_eq!(get(bearer.token_hash.clone(), t0()).await, None);
    s.delete_session(&bearer.token_hash).await.unwrap();
    assert_eq!(audit_len(&*s).await, audit_before);
}

// ---------------------------------------------------------------------------------------------
// Tenders

pub async fn tenders_round_trip(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let t = tender(
        "QD-2026-001",
        "道路修缮工程 Road resurfacing",
        "370202",
        o.id,
        TenderState::Draft,
    );
    let ev = event("tender.create", "tender", t.id, t0());
    s.create_tender(&t, &ev).await.unwrap();
    assert_eq!(s.get_tender(t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(s.get_tender(TenderId::new()).await.unwrap(), None);
    assert_last_audit(&*s, &ev).await;
    let trail = s
        .audit_for_entity("tender", &t.id.to_string())
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
}

/// Five tenders across halls, states and organisations, created one minute apart.
async fn tender_fixture(s: &dyn Store) -> (OrgId, OrgId, Vec<Tender>) {
    let a = new_org(s, 1, "Org A", OrgKind::Tenderee, "370202").await.id;
    let b = new_org(s, 2, "Org B", OrgKind::Agency, "210102").await.id;
    let specs = [
        (
            "QD-T1",
            "Road resurfacing in Shinan",
            "370202",
            a,
            TenderState::Draft,
        ),
        (
            "QD-T2",
            "School canteen goods",
            "370203",
            a,
            TenderState::Published,
        ),
        (
            "QD-T3",
            "Bridge repair",
            "370202",
            b,
            TenderState::UnderReview,
        ),
        (
            "SY-T4",
            "Hospital beds 病床",
            "210102",
            b,
            TenderState::Published,
        ),
        ("QD-T5", "ROAD lighting", "370200", b, TenderState::Closed),
    ];
    let mut out = Vec::new();
    for (i, (code, title, hall, org, state)) in specs.into_iter().enumerate() {
        let t = tender_at(code, title, hall, org, state, minutes(i as i64 + 1));
        out.push(new_tender(s, t).await);
    }
    (a, b, out)
}

pub async fn tender_list_filters(h: &dyn Harness) {
    let s = h.store();
    let (a, b, _) = tender_fixture(&*s).await;
    // Lists and counts must agree for every filter.
    let check = |f: TenderFilter, expected: &'static [&'static str]| {
        let s = s.clone();
        async move {
            let got = codes(&s.list_tenders(&f).await.unwrap());
            assert_eq!(got, expected, "list for {f:?}");
            assert_eq!(
                s.count_tenders(&f).await.unwrap(),
                expected.len() as u64,
                "count for {f:?}"
            );
        }
    };
    let within = |code: &str| HallScope::Within(div(code));

    check(
        TenderFilter::default(),
        &["QD-T5", "SY-T4", "QD-T3", "QD-T2", "QD-T1"],
    )
    .await;

    let scope = |sc| TenderFilter {
        scope: sc,
        ..TenderFilter::default()
    };
    check(
        scope(within("370200")),
        &["QD-T5", "QD-T3", "QD-T2", "QD-T1"],
    )
    .await;
    check(
        scope(within("370000")),
        &["QD-T5", "QD-T3", "QD-T2", "QD-T1"],
    )
    .await;
    check(scope(within("370202")), &["QD-T3", "QD-T1"]).await;
    check(scope(within("210000")), &["SY-T4"]).await;
    check(scope(within("210100")), &["SY-T4"]).await;
    check(scope(within("110000")), &[]).await;

    let states = |st: Vec<TenderState>| TenderFilter {
        states: st,
        ..TenderFilter::default()
    };
    check(states(vec![TenderState::Published]), &["SY-T4", "QD-T2"]).await;
    check(
        states(vec![TenderState::Published, TenderState::Closed]),
        &["QD-T5", "SY-T4", "QD-T2"],
    )
    .await;
    check(states(vec![TenderState::Awarded]), &[]).await;

    let org = |o| TenderFilter {
        org: Some(o),
        ..TenderFilter::default()
    };
    check(org(a), &["QD-T2", "QD-T1"]).await;
    check(org(b), &["QD-T5", "SY-T4", "QD-T3"]).await;
    check(org(OrgId::new()), &[]).await;

    let text = |t: &str| TenderFilter {
        text: Some(t.to_string()),
        ..TenderFilter::default()
    };
    check(text("road"), &["QD-T5", "QD-T1"]).await;
    check(text("ROAD"), &["QD-T5", "QD-T1"]).await;
    check(text("qd-t"), &["QD-T5", "QD-T3", "QD-T2", "QD-T1"]).await;
    check(text("病床"), &["SY-T4"]).await;
    check(text("   "), &["QD-T5", "SY-T4", "QD-T3", "QD-T2", "QD-T1"]).await;
    check(text("%"), &[]).await;
    check(text("Q_-T"), &[]).await;

    let visible = |v| TenderFilter {
        public_or_org: Some(v),
        ..TenderFilter::default()
    };
    check(visible(None), &["QD-T5", "SY-T4", "QD-T2"]).await;
    check(visible(Some(a)), &["QD-T5", "SY-T4", "QD-T2", "QD-T1"]).await;
    check(visible(Some(b)), &["QD-T5", "SY-T4", "QD-T3", "QD-T2"]).await;

    let combined = TenderFilter {
        scope: within("370200"),
        states: vec![
            TenderState::Draft,
            TenderState::Published,
            TenderState::Closed,
        ],
        text: Some("o".to_string()),
        public_or_org: Some(Some(a)),
        ..TenderFilter::default()
    };
    check(combined, &["QD-T5", "QD-T2", "QD-T1"]).await;
    let combined_org = TenderFilter {
        org: Some(b),
        public_or_org: Some(None),
        ..TenderFilter::default()
    };
    check(combined_org, &["QD-T5", "SY-T4"]).await;
}

pub async fn tender_list_paging(h: &dyn Harness) {
    let s = h.store();
    tender_fixture(&*s).await;
    let page = |limit, offset| TenderFilter {
        limit,
        offset,
        ..TenderFilter::default()
    };
    let list = |f: TenderFilter| {
        let s = s.clone();
        async move { codes(&s.list_tenders(&f).await.unwrap()) }
    };
    assert_eq!(list(page(2, 0)).await, ["QD-T5", "SY-T4"]);
    assert_eq!(list(page(2, 2)).await, ["QD-T3", "QD-T2"]);
    assert_eq!(list(page(2, 4)).await, ["QD-T1"]);
    assert!(list(page(2, 5)).await.is_empty());
    assert_eq!(list(page(0, 4)).await, ["QD-T1"], "limit 0 means no limit");
    assert_eq!(
        s.count_tenders(&page(2, 4)).await.unwrap(),
        5,
        "count ignores paging"
    );
}

pub async fn duplicate_tender_code_is_a_conflict(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let first = new_tender(
        &*s,
        tender("QD-2026-007", "First", "370202", o.id, TenderState::Draft),
    )
    .await;
    let tenders_before = s.count_tenders(&TenderFilter::default()).await.unwrap();
    let audit_before = audit_len(&*s).await;
    let second = tender("QD-2026-007", "Second", "370203", o.id, TenderState::Draft);
    let err = s
        .create_tender(&second, &event("tender.create", "tender", second.id, t0()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("tender_code")),
        "got {err:?}"
    );
    assert_eq!(
        s.count_tenders(&TenderFilter::default()).await.unwrap(),
        tenders_before
    );
    assert_eq!(audit_len(&*s).await, audit_before);
    assert_eq!(s.get_tender(second.id).await.unwrap(), None);
    assert_eq!(s.get_tender(first.id).await.unwrap(), Some(first));
}

pub async fn tender_with_unknown_org_is_refused(h: &dyn Harness) {
    let s = h.store();
    let t = tender(
        "QD-ORPHAN",
        "Orphan",
        "370202",
        OrgId::new(),
        TenderState::Draft,
    );
    let err = s
        .create_tender(&t, &event("tender.create", "tender", t.id, t0()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("unknown_org")),
        "got {err:?}"
    );
    assert_eq!(s.count_tenders(&TenderFilter::default()).await.unwrap(), 0);
    assert_eq!(audit_len(&*s).await, 0);
}

pub async fn update_tender_checks_the_version(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let v1 = new_tender(
        &*s,
        tender("QD-UPD", "Old title", "370202", o.id, TenderState::Draft),
    )
    .await;

    let mut v2 = v1.clone();
    v2.edit_draft(terms("Harbour dredging", minutes(60 * 24 * 40)))
        .unwrap();
    assert_eq!(v2.version, 2);
    let ev = event("tender.edit", "tender", v2.id, minutes(1));
    s.update_tender(&v2, 1, &ev).await.unwrap();
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v2.clone()));
    assert_last_audit(&*s, &ev).await;
    // The query columns follow the document.
    let by_text = |t: &str| TenderFilter {
        text: Some(t.to_string()),
        ..TenderFilter::default()
    };
    assert_eq!(s.count_tenders(&by_text("dredging")).await.unwrap(), 1);
    assert_eq!(s.count_tenders(&by_text("old title")).await.unwrap(), 0);

    // A writer still holding version 1 loses, and nothing changes.
    let audit_before = audit_len(&*s).await;
    let mut stale = v1.clone();
    stale
        .edit_draft(terms("Stale edit", minutes(60 * 24 * 40)))
        .unwrap();
    let err = s
        .update_tender(
            &stale,
            1,
            &event("tender.edit", "tender", v1.id, minutes(2)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                expected: 1,
                found: 2
            }
        ),
        "got {err:?}"
    );
    assert_eq!(err.code(), "version_conflict");
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v2.clone()));
    assert_eq!(audit_len(&*s).await, audit_before);

    // Publishing moves the tender into the public listings and the closing queue.
    let mut v3 = v2.clone();
    v3.state = TenderState::Published;
    v3.published_at = Some(minutes(3));
    v3.version = 3;
    s.update_tender(
        &v3,
        2,
        &event("tender.approve", "tender", v3.id, minutes(3)),
    )
    .await
    .unwrap();
    let public = TenderFilter {
        public_or_org: Some(None),
        ..TenderFilter::default()
    };
    assert_eq!(s.list_tenders(&public).await.unwrap(), vec![v3.clone()]);

    let ghost = tender("QD-GHOST", "Ghost", "370202", o.id, TenderState::Draft);
    let err = s
        .update_tender(
            &ghost,
            1,
            &event("tender.edit", "tender", ghost.id, minutes(4)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(s.count_tenders(&TenderFilter::default()).await.unwrap(), 1);
}

pub async fn concurrent_updates_one_wins(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let v1 = new_tender(
        &*s,
        tender("QD-RACE", "Race", "370202", o.id, TenderState::Draft),
    )
    .await;
    let audit_before = audit_len(&*s).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = s.clone();
        let mut t = v1.clone();
        tasks.push(tokio::spawn(async move {
            t.edit_draft(terms(&format!("Writer {i}"), minutes(60 * 24 * 40)))
                .unwrap();
            let ev = event("tender.edit", "tender", t.id, minutes(i));
            s.update_tender(&t, 1, &ev).await.map(|()| t)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(t) => winners.push(t),
            Err(StoreError::VersionConflict {
                expected: 1,
                found: 2,
            }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    assert_eq!(s.get_tender(v1.id).await.unwrap(), winners.pop());
    assert_eq!(audit_len(&*s).await, audit_before + 1);
    assert_eq!(s.verify_audit().await.unwrap(), Ok(audit_before as i64 + 1));
}

pub async fn tenders_due_for_closing(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let with_deadline = |code: &str, state, days: i64| {
        let mut t = tender(code, code, "370202", o.id, state);
        t.terms.bid_deadline = t0() + Duration::days(days);
        t.terms.opening_time = t.terms.bid_deadline;
        t
    };
    let soon = new_tender(&*s, with_deadline("DUE-10", TenderState::Published, 10)).await;
    let later = new_tender(&*s, with_deadline("DUE-20", TenderState::Published, 20)).await;
    new_tender(&*s, with_deadline("DRAFT-5", TenderState::Draft, 5)).await;
    new_tender(&*s, with_deadline("CLOSED-1", TenderState::Closed, 1)).await;

    let due = |days: i64| {
        let s = s.clone();
        async move {
            codes(
                &s.tenders_due_for_closing(t0() + Duration::days(days))
                    .await
                    .unwrap(),
            )
        }
    };
    assert!(due(9).await.is_empty());
    assert_eq!(due(10).await, ["DUE-10"], "due at the deadline itself");
    assert_eq!(
        due(30).await,
        ["DUE-10", "DUE-20"],
        "earliest deadline first"
    );
    let just_before = s
        .tenders_due_for_closing(soon.terms.bid_deadline - Duration::microseconds(1))
        .await
        .unwrap();
    assert!(just_before.is_empty());

    // A moved deadline (an amendment) is what the scheduler sees.
    let mut moved = later.clone();
    moved.terms.bid_deadline = t0() + Duration::days(8);
    moved.terms.opening_time = moved.terms.bid_deadline;
    moved.version += 1;
    s.update_tender(
        &moved,
        later.version,
        &event("tender.amend", "tender", later.id, t0()),
    )
    .await
    .unwrap();
    assert_eq!(due(9).await, ["DUE-20"]);
}

// ---------------------------------------------------------------------------------------------
// Amendments and questions

fn amendment(t: &Tender, by: UserId, at: DateTime<Utc>, title: &str) -> Amendment {
    Amendment {
        id: AmendmentId::new(),
        tender_id: t.id,
        at,
        by,
        summary: format!("Title changed to {title}"),
        changes: TermsPatch {
            title: Some(title.to_string()),
            ceiling_price: Some(money("1200000.00")),
            ..TermsPatch::default()
        },
        previous_deadline: t.terms.bid_deadline,
        new_deadline: t.terms.bid_deadline + Duration::days(3),
        deadline_pushed: true,
    }
}

pub async fn amendments_round_trip(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let v1 = new_tender(
        &*s,
        tender("QD-AMD", "Original", "370202", o.id, TenderState::Published),
    )
    .await;
    let by = UserId::new();
    assert!(s.list_amendments(v1.id).await.unwrap().is_empty());

    let first = amendment(&v1, by, minutes(10), "Amended once");
    let mut v2 = v1.clone();
    v2.terms.title = "Amended once".to_string();
    v2.terms.bid_deadline = first.new_deadline;
    v2.terms.opening_time = first.new_deadline;
    v2.version = 2;
    let ev = event("tender.amend", "tender", v1.id, minutes(10));
    s.add_amendment(&v2, 1, &first, &ev).await.unwrap();
    assert_last_audit(&*s, &ev).await;
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v2.clone()));

    let second = amendment(&v2, by, minutes(20), "Amended twice");
    let mut v3 = v2.clone();
    v3.terms.title = "Amended twice".to_string();
    v3.version = 3;
    s.add_amendment(
        &v3,
        2,
        &second,
        &event("tender.amend", "tender", v1.id, minutes(20)),
    )
    .await
    .unwrap();
    assert_eq!(
        s.list_amendments(v1.id).await.unwrap(),
        vec![first.clone(), second.clone()],
        "in order"
    );

    // A stale writer changes neither the tender nor the amendments.
    let audit_before = audit_len(&*s).await;
    let stale = amendment(&v2, by, minutes(30), "Stale");
    let err = s
        .add_amendment(
            &v3,
            2,
            &stale,
            &event("tender.amend", "tender", v1.id, minutes(30)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                expected: 2,
                found: 3
            }
        ),
        "got {err:?}"
    );
    assert_eq!(s.list_amendments(v1.id).await.unwrap(), vec![first, second]);
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v3));
    assert_eq!(audit_len(&*s).await, audit_before);
    assert!(s.list_amendments(TenderId::new()).await.unwrap().is_empty());
}

pub async fn questions_round_trip(h: &dyn Harness) {
    let s = h.store();
    let o = new_org(&*s, 1, "Tenderee", OrgKind::Tenderee, "370202").await;
    let bidder = new_org(&*s, 2, "Bidder", OrgKind::Bidder, "370203").await;
    let v1 = new_tender(
        &*s,
        tender(
            "QD-QNA",
            "Questions",
            "370202",
            o.id,
            TenderState::Published,
        ),
    )
    .await;
    let asker = UserId::new();
    let q1 = Question {
        id: QuestionId::new(),
        tender_id: v1.id,
        asked_by: asker,
        asked_by_org: Some(bidder.id),
        text: "Is a Class III licence acceptable? 三级资质可以吗？".to_string(),
        asked_at: minutes(5),
        answer: None,
    };
    let q2 = Question {
        id: QuestionId::new(),
        text: "Second question".to_string(),
        asked_at: minutes(6),
        asked_by_org: None,
        ..q1.clone()
    };
    let ev = event("question.ask", "question", q1.id, minutes(5));
    s.add_question(&q1, &ev).await.unwrap();
    assert_last_audit(&*s, &ev).await;
    s.add_question(&q2, &event("question.ask", "question", q2.id, minutes(6)))
        .await
        .unwrap();
    assert_eq!(s.get_question(q1.id).await.unwrap(), Some(q1.clone()));
    assert_eq!(s.get_question(QuestionId::new()).await.unwrap(), None);
    assert_eq!(
        s.list_questions(v1.id).await.unwrap(),
        vec![q1.clone(), q2.clone()]
    );

    let orphan = Question {
        id: QuestionId::new(),
        tender_id: TenderId::new(),
        ..q1.clone()
    };
    let audit_before = audit_len(&*s).await;
    let err = s
        .add_question(
            &orphan,
            &event("question.ask", "question", orphan.id, minutes(7)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict("unknown_tender")),
        "got {err:?}"
    );
    assert_eq!(audit_len(&*s).await, audit_before);

    // The answer and the tender it changes are written together.
    let mut answered = q1.clone();
    let new_deadline = v1.terms.bid_deadline + Duration::days(2);
    answered.answer = Some(Answer {
        text: "Yes.".to_string(),
        at: minutes(8),
        by: UserId::new(),
        affects_bids: true,
        new_deadline: Some(new_deadline),
    });
    let mut v2 = v1.clone();
    v2.terms.bid_deadline = new_deadline;
    v2.terms.opening_time = new_deadline;
    v2.version = 2;
    let ev = event("question.answer", "question", q1.id, minutes(8));
    s.answer_question(&answered, &v2, 1, &ev).await.unwrap();
    assert_last_audit(&*s, &ev).await;
    assert_eq!(s.get_question(q1.id).await.unwrap(), Some(answered.clone()));
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v2.clone()));

    // Stale tender version: neither the question nor the tender changes.
    let audit_before = audit_len(&*s).await;
    let mut q2_answered = q2.clone();
    q2_answered.answer = answered.answer.clone();
    let err = s
        .answer_question(
            &q2_answered,
            &v2,
            1,
            &event("question.answer", "question", q2.id, minutes(9)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::VersionConflict { .. }),
        "got {err:?}"
    );
    assert_eq!(s.get_question(q2.id).await.unwrap(), Some(q2.clone()));

    // Unknown question: the tender update in the same call is rolled back.
    let mut v3 = v2.clone();
    v3.version = 3;
    let ghost = Question {
        id: QuestionId::new(),
        ..q2_answered.clone()
    };
    let err = s
        .answer_question(
            &ghost,
            &v3,
            2,
            &event("question.answer", "question", ghost.id, minutes(9)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "got {err:?}");
    assert_eq!(s.get_tender(v1.id).await.unwrap(), Some(v2));
    assert_eq!(audit_len(&*s).await, audit_before);
    assert_eq!(s.list_questions(v1.id).await.unwrap(), vec![answered, q2]);
}

// ---------------------------------------------------------------------------------------------
// The audit chain

pub async fn every_write_appends_one_audit_record(h: &dyn Harness) {
    let s = h.store();
    let mut n = 0;
    // Runs a write and checks that it appended exactly `ev`.
    macro_rules! audited {
        ($ev:expr, $call:expr) => {{
            let ev: AuditEvent = $ev;
            $call(&ev).await.unwrap();
            n += 1;
            assert_eq!(audit_len(&*s).await, n, "after {}", ev.action);
            assert_last_audit(&*s, &ev).await;
        }};
    }
    let hall = Hall {
        division: div("370202"),
        name: "Shinan".to_string(),
    };
    audited!(event("hall.upsert", "hall", "370202", t0()), |ev| s
        .upsert_hall(&hall, ev));
    let o = org(1, "Org", OrgKind::Tenderee, "370202");
    audited!(event("org.create", "org", o.id, t0()), |ev| s
        .create_org(&o, ev));
    let u = user("frank", Some(o.id), "370202", vec![Role::Tenderee]);
    audited!(event("user.create", "user", u.id, t0()), |ev| s
        .create_user(&u, "h", ev));
    audited!(event("user.set_password", "user", u.id, t0()), |ev| s
        .set_password(u.id, "h2", ev));
    let t = tender("QD-AUD", "Audited", "370202", o.id, TenderState::Published);
    audited!(event("tender.create", "tender", t.id, t0()), |ev| s
        .create_tender(&t, ev));
    let mut t2 = t.clone();
    t2.version = 2;
    audited!(event("tender.update", "tender", t.id, t0()), |ev| s
        .update_tender(&t2, 1, ev));
    let a = amendment(&t2, u.id, minutes(1), "Amended");
    let mut t3 = t2.clone();
    t3.version = 3;
    audited!(event("tender.amend", "tender", t.id, t0()), |ev| s
        .add_amendment(&t3, 2, &a, ev));
    let q = Question {
        id: QuestionId::new(),
        tender_id: t.id,
        asked_by: u.id,
        asked_by_org: None,
        text: "?".to_string(),
        asked_at: minutes(2),
        answer: None,
    };
    audited!(event("question.ask", "question", q.id, t0()), |ev| s
        .add_question(&q, ev));
    let mut t4 = t3.clone();
    t4.version = 4;
    audited!(event("question.answer", "question", q.id, t0()), |ev| s
        .answer_question(&q, &t4, 3, ev));
    let platform = AuditEvent::new(
        Some(u.id),
        minutes(3),
        "platform.start",
        "platform",
        "sealbid",
    );
    let record = s.append_audit(&platform).await.unwrap();
    n += 1;
    assert_eq!(record.seq, n as i64);
    assert_eq!(audit_all(&*s).await.last(), Some(&record));
    assert_eq!(s.verify_audit().await.unwrap(), Ok(n as i64));
}

pub async fn audit_paging_and_entity_lookup(h: &dyn Harness) {
    let s = h.store();
    assert!(audit_all(&*s).await.is_empty());
    assert_eq!(s.verify_audit().await.unwrap(), Ok(0));
    let mut written = Vec::new();
    for i in 0..7 {
        let kind = if i % 2 == 0 { "tender" } else { "org" };
        let ev = event("x.touch", kind, format!("id-{}", i % 3), minutes(i));
        written.push(s.append_audit(&ev).await.unwrap());
    }
    assert_eq!(audit_all(&*s).await, written);
    assert_eq!(s.audit_records(0, 3).await.unwrap(), written[..3]);
    assert_eq!(s.audit_records(3, 3).await.unwrap(), written[3..6]);
    assert_eq!(s.audit_records(6, 3).await.unwrap(), written[6..]);
    assert!(s.audit_records(7, 3).await.unwrap().is_empty());
    // i = 0 and 6 are ("tender", "id-0"); i = 3 is ("org", "id-0").
    let tender0 = s.audit_for_entity("tender", "id-0").await.unwrap();
    assert_eq!(tender0, vec![written[0].clone(), written[6].clone()]);
    let org0 = s.audit_for_entity("org", "id-0").await.unwrap();
    assert_eq!(org0, vec![written[3].clone()]);
    assert!(s
        .audit_for_entity("tender", "nope")
        .await
        .unwrap()
        .is_empty());
    // The chain links each record to the one before.
    for pair in written.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(written[0].prev_hash, sealbid_domain::audit::GENESIS_HASH);
}

pub async fn concurrent_writers_keep_one_chain(h: &dyn Harness) {
    let s = h.store();
    let mut tasks = Vec::new();
    for i in 0..20u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let o = org(
                100 + i,
                &format!("Concurrent {i:02}"),
                OrgKind::Bidder,
                "370202",
            );
            s.create_org(&o, &event("org.create", "org", o.id, minutes(i64::from(i))))
                .await
        }));
    }
    // A few audit-only appends racing with them.
    for i in 0..5 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_audit(&event("platform.tick", "platform", i, t0()))
                .await
                .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let all = audit_all(&*s).await;
    assert_eq!(all.len(), 25);
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=25).collect::<Vec<_>>()
    );
    assert_eq!(s.verify_audit().await.unwrap(), Ok(25));
    assert_eq!(s.list_orgs(&OrgFilter::default()).await.unwrap().len(), 20);
}

pub async fn tampering_is_detected(h: &dyn Harness) {
    let s = h.store();
    for i in 0..4 {
        s.append_audit(&event("x.touch", "thing", i, minutes(i)))
            .await
            .unwrap();
    }
    assert_eq!(s.verify_audit().await.unwrap(), Ok(4));
    let original = audit_all(&*s).await[1].clone();
    let forged = original.event_json.replace("x.touch", "x.forge");
    assert_ne!(forged, original.event_json);
    h.tamper_audit(2, &forged).await;
    assert_eq!(
        audit_all(&*s).await[1].event_json,
        forged,
        "the tamper hook worked"
    );
    let broken = s.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2, "{broken}");
}

pub async fn timestamps_keep_microseconds(h: &dyn Harness) {
    let s = h.store();
    let mut o = org(1, "Precise", OrgKind::Bidder, "370202");
    o.created_at = t0() + Duration::microseconds(123_456);
    s.create_org(&o, &event("org.create", "org", o.id, o.created_at))
        .await
        .unwrap();
    assert_eq!(
        s.get_org(o.id).await.unwrap().unwrap().created_at,
        o.created_at
    );
    let u = User {
        created_at: t0() + Duration::microseconds(999_999),
        ..user("gina", None, "370202", vec![])
    };
    s.create_user(&u, "h", &event("user.create", "user", u.id, t0()))
        .await
        .unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap(), Some(u));
}

// ---------------------------------------------------------------------------------------------
// Sealing: the log, bids, deposits and the opening's actions.

fn log_signer() -> sealbid_seal::note::NoteSigner {
    sealbid_seal::note::NoteSigner::from_seed("conformance.example/log", [7u8; 32]).unwrap()
}

fn log_append<'a>(
    tender: TenderId,
    kind: &'a str,
    entry: String,
    signer: &'a sealbid_seal::note::NoteSigner,
) -> crate::LogAppend<'a> {
    crate::LogAppend {
        tender_id: tender,
        kind,
        entry,
        at: t0(),
        signer,
        closing: kind == "closing",
    }
}

async fn sealing_tender(s: &dyn Store) -> (Organisation, Tender) {
    let o = new_org(s, 1, "Works Bureau", OrgKind::Tenderee, "370200").await;
    let t = new_tender(
        s,
        tender(
            "SEAL-CONF-1",
            "Sealed",
            "370200",
            o.id,
            TenderState::Published,
        ),
    )
    .await;
    (o, t)
}

fn sealed_bid(t: &Tender, bidder: OrgId, digest: &str) -> crate::Bid {
    crate::Bid {
        id: sealbid_domain::BidId::new(),
        tender_id: t.id,
        bidder_org: bidder,
        submitted_by: UserId::new(),
        status: crate::BidStatus::Active,
        submitted_at: t0(),
        manifest: format!("{{\"manifest\":\"{digest}\"}}"),
        manifest_digest: digest.to_string(),
        envelopes: vec![crate::StoredEnvelope {
            kind: "price".into(),
            sha256: "ab".repeat(32),
            size: 123,
            blob_key: format!("bids/{digest}.age"),
        }],
        log_index: 0,
        checkpoint: String::new(),
        withdrawal: None,
        replaced_by: None,
        upload: Some(crate::UploadSource {
            ip: Some("203.0.113.7".into()),
            device: None,
        }),
    }
}

pub async fn sealing_log_appends_and_proves(h: &dyn Harness) {
    use sealbid_seal::checkpoint::SignedCheckpoint;
    use sealbid_seal::merkle::{self, MemoryLog};
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let signer = log_signer();
    let mut mem = MemoryLog::new();
    assert_eq!(s.log_size().await.unwrap(), 0);
    for i in 0..21u64 {
        let entry = format!("{{\"n\":{i}}}");
        let app = s
            .seal_write(crate::SealWrite {
                tender: None,
                sealing: None,
                bid: None,
                log: Some(log_append(t.id, "policy", entry.clone(), &signer)),
                audit: &event("log.append", "tender", t.id, t0()),
            })
            .await
            .unwrap()
            .unwrap();
        mem.append(entry.as_bytes());
        assert_eq!((app.index, app.size), (i, i + 1));
        // The receipt's parts: the proof verifies under the signed checkpoint's root.
        let cp = SignedCheckpoint::verify(&app.checkpoint, &signer.verifier())
            .unwrap()
            .checkpoint;
        assert_eq!((cp.size, cp.root), (i + 1, mem.root()));
        merkle::verify_inclusion(
            &merkle::leaf_hash(entry.as_bytes()),
            i,
            cp.size,
            &app.proof,
            &cp.root,
        )
        .unwrap();
    }
    assert_eq!(s.log_size().await.unwrap(), 21);
    let entries = s.log_entries(5, 8).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert_eq!(entries[0].entry, "{\"n\":5}");
    assert_eq!(entries[0].leaf_hash, merkle::leaf_hash(b"{\"n\":5}"));
    for size in [1u64, 7, 8, 13, 21] {
        assert_eq!(s.log_root(size).await.unwrap(), mem.root_at(size).unwrap());
        for index in [0, size / 2, size - 1] {
            let proof = s.log_inclusion_proof(index, size).await.unwrap();
            merkle::verify_inclusion(
                &mem.leaf(index).unwrap(),
                index,
                size,
                &proof,
                &mem.root_at(size).unwrap(),
            )
            .unwrap();
        }
        let proof = s.log_consistency_proof(3.min(size), size).await.unwrap();
        merkle::verify_consistency(
            3.min(size),
            size,
            &mem.root_at(3.min(size)).unwrap(),
            &mem.root_at(size).unwrap(),
            &proof,
        )
        .unwrap();
    }
    // Batches: the same entries and proofs as one at a time.
    let some = [20u64, 3, 11];
    let batch = s.log_entries_at(&some).await.unwrap();
    assert_eq!(
        batch.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![3, 11, 20]
    );
    let proofs = s.log_inclusion_proofs(&some, 21).await.unwrap();
    for (i, p) in some.iter().zip(&proofs) {
        assert_eq!(p, &s.log_inclusion_proof(*i, 21).await.unwrap());
    }
    assert!(matches!(
        s.log_inclusion_proofs(&[3, 21], 21).await,
        Err(StoreError::Invalid(_))
    ));
    // Beyond the log: a clear refusal.
    assert!(matches!(
        s.log_inclusion_proof(0, 22).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.log_consistency_proof(5, 4).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn sealing_bids_replace_and_withdraw(h: &dyn Harness) {
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let bidder = new_org(s.as_ref(), 2, "Builder Co", OrgKind::Bidder, "370200").await;
    let other = new_org(s.as_ref(), 3, "Other Co", OrgKind::Bidder, "370200").await;
    let signer = log_signer();
    let submit = |b: crate::Bid| {
        let s = s.clone();
        let signer = &signer;
        let t = t.id;
        async move {
            s.seal_write(crate::SealWrite {
                tender: None,
                sealing: None,
                bid: Some(crate::BidChange::Submit(&b)),
                log: Some(log_append(t, "bid", b.manifest.clone(), signer)),
                audit: &event("bid.submit", "tender", t, t0()),
            })
            .await
        }
    };
    let first = sealed_bid(&t, bidder.id, "d1");
    let app = submit(first.clone()).await.unwrap().unwrap();
    let stored = s.get_bid(first.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.log_index, &stored.checkpoint),
        (app.index, &app.checkpoint)
    );
    submit(sealed_bid(&t, other.id, "o1")).await.unwrap();
    // The same manifest again: refused, nothing written (no log entry either).
    let (size, audits) = (s.log_size().await.unwrap(), audit_len(s.as_ref()).await);
    let again = sealed_bid(&t, bidder.id, "d1");
    assert!(matches!(
        submit(again).await,
        Err(StoreError::Conflict("manifest_digest"))
    ));
    assert_eq!(s.log_size().await.unwrap(), size);
    assert_eq!(audit_len(s.as_ref()).await, audits);
    // A second bid replaces the first.
    let second = sealed_bid(&t, bidder.id, "d2");
    submit(second.clone()).await.unwrap();
    let mine = s.list_bids_of(t.id, bidder.id).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|b| (b.manifest_digest.as_str(), b.status))
            .collect::<Vec<_>>(),
        vec![
            ("d1", crate::BidStatus::Replaced),
            ("d2", crate::BidStatus::Active)
        ]
    );
    assert_eq!(mine[0].replaced_by, Some(second.id));
    assert_eq!(s.count_active_bids(t.id).await.unwrap(), 2);
    assert_eq!(s.list_bids(t.id).await.unwrap().len(), 3);
    // Withdraw the active one; withdrawing it (or the replaced one) again is refused.
    let withdraw = |id: sealbid_domain::BidId| {
        let s = s.clone();
        let signer = &signer;
        let t = t.id;
        async move {
            s.seal_write(crate::SealWrite {
                tender: None,
                sealing: None,
                bid: Some(crate::BidChange::Withdraw {
                    bid: id,
                    signed: "{\"withdrawal\":1}".into(),
                    at: t0(),
                }),
                log: Some(log_append(
                    t,
                    "withdrawal",
                    format!("{{\"w\":\"{id}\"}}"),
                    signer,
                )),
                audit: &event("bid.withdraw", "tender", t, t0()),
            })
            .await
        }
    };
    let app = withdraw(second.id).await.unwrap().unwrap();
    let w = s.get_bid(second.id).await.unwrap().unwrap();
    assert_eq!(w.status, crate::BidStatus::Withdrawn);
    assert_eq!(w.withdrawal.unwrap().log_index, app.index);
    let size = s.log_size().await.unwrap();
    assert!(matches!(
        withdraw(second.id).await,
        Err(StoreError::Conflict("bid_not_active"))
    ));
    assert!(matches!(
        withdraw(first.id).await,
        Err(StoreError::Conflict("bid_not_active"))
    ));
    assert_eq!(
        s.log_size().await.unwrap(),
        size,
        "a refused withdrawal logged nothing"
    );
    assert_eq!(s.count_active_bids(t.id).await.unwrap(), 1);
}

pub async fn sealing_documents_record_their_log_entries(h: &dyn Harness) {
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let signer = log_signer();
    let mut doc = crate::TenderSealing {
        tender_id: t.id,
        version: 1,
        threshold: 2,
        seats: vec![crate::CommitteeSeat {
            index: 1,
            name: "Notary".into(),
            role: "notary".into(),
            user_id: None,
            platform: false,
            recipient: None,
        }],
        policy: None,
        policy_index: None,
        closing: None,
        opened: None,
    };
    let write = |doc: crate::TenderSealing, expected: i64, log: Option<&'static str>| {
        let s = s.clone();
        let signer = &signer;
        let t = t.id;
        async move {
            s.seal_write(crate::SealWrite {
                tender: None,
                sealing: Some((&doc, expected)),
                bid: None,
                log: log.map(|k| log_append(t, k, format!("{{\"k\":\"{k}\"}}"), signer)),
                audit: &event("tender.sealing", "tender", t, t0()),
            })
            .await
        }
    };
    write(doc.clone(), 0, None).await.unwrap();
    assert_eq!(s.get_sealing(t.id).await.unwrap().unwrap(), doc);
    // A second create, or a stale version, changes nothing.
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        write(doc.clone(), 0, None).await,
        Err(StoreError::Conflict("tender_sealing"))
    ));
    doc.version = 2;
    assert!(matches!(
        write(doc.clone(), 5, Some("policy")).await,
        Err(StoreError::VersionConflict {
            expected: 5,
            found: 1
        })
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(
        s.log_size().await.unwrap(),
        0,
        "a refused write logged nothing"
    );
    // With a log entry, the store records where it landed.
    doc.policy = Some("{\"policy\":1}".into());
    write(doc.clone(), 1, Some("policy")).await.unwrap();
    let got = s.get_sealing(t.id).await.unwrap().unwrap();
    assert_eq!(got.policy_index, Some(0));
    doc = got;
    doc.version = 3;
    doc.closing = Some(crate::Closing {
        at: t0(),
        log_index: 0,
        checkpoint: String::new(),
        bids: 4,
    });
    let app = write(doc.clone(), 2, Some("closing"))
        .await
        .unwrap()
        .unwrap();
    let closing = s.get_sealing(t.id).await.unwrap().unwrap().closing.unwrap();
    assert_eq!(
        (closing.log_index, &closing.checkpoint),
        (app.index, &app.checkpoint)
    );
    assert!(
        closing.checkpoint.contains("sealbid-closing"),
        "{}",
        closing.checkpoint
    );
    doc.version = 4;
    doc.closing = Some(closing);
    doc.opened = Some(crate::Opened {
        at: t0(),
        log_index: 0,
        checkpoint: String::new(),
        record: "{\"record\":1}".into(),
    });
    let app = write(doc, 3, Some("opening")).await.unwrap().unwrap();
    let opened = s.get_sealing(t.id).await.unwrap().unwrap().opened.unwrap();
    assert_eq!(
        (opened.log_index, opened.checkpoint),
        (app.index, app.checkpoint)
    );
}

pub async fn sealing_deposits_are_idempotent(h: &dyn Harness) {
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let bidder = new_org(s.as_ref(), 2, "Builder Co", OrgKind::Bidder, "370200").await;
    let ev = event("deposit.reference", "tender", t.id, t0());
    let r = s
        .deposit_reference(t.id, bidder.id, "SB0001", t0(), &ev)
        .await
        .unwrap();
    assert_eq!(r.reference, "SB0001");
    // Asked again: the same reference, whatever the new candidate.
    let audits = audit_len(s.as_ref()).await;
    let again = s
        .deposit_reference(t.id, bidder.id, "SB9999", t0(), &ev)
        .await
        .unwrap();
    assert_eq!(again, r);
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(
        s.find_deposit_reference("SB0001").await.unwrap(),
        Some(r.clone())
    );
    assert_eq!(s.find_deposit_reference("SB9999").await.unwrap(), None);
    let pay = |txn: &str, reference: &str| crate::DepositPayment {
        bank_txn_id: txn.into(),
        reference: reference.into(),
        tender_id: t.id,
        amount: "20000.00".into(),
        received_at: t0(),
        envelope: crate::StoredEnvelope {
            kind: "deposit_payer".into(),
            sha256: "cd".repeat(32),
            size: 99,
            blob_key: format!("deposits/{txn}.age"),
        },
    };
    let ev = event("deposit.paid", "tender", t.id, t0());
    let (p, new) = s
        .record_deposit_payment(&pay("T1", "SB0001"), &ev)
        .await
        .unwrap();
    assert!(new);
    let mut repeat = pay("T1", "SB0001");
    repeat.amount = "1.00".into();
    let (stored, new) = s.record_deposit_payment(&repeat, &ev).await.unwrap();
    assert!(!new);
    assert_eq!(
        stored, p,
        "a repeated bank transaction keeps the first record"
    );
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        s.record_deposit_payment(&pay("T2", "SB-UNKNOWN"), &ev)
            .await,
        Err(StoreError::Conflict("unknown_deposit_reference"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(s.list_deposit_payments(t.id).await.unwrap(), vec![p]);
}

pub async fn sealing_opening_actions_once_each(h: &dyn Harness) {
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let action = |seat: u8, kind: &str, doc: &str| crate::OpeningAction {
        tender_id: t.id,
        member_index: seat,
        kind: kind.into(),
        at: t0(),
        doc: doc.into(),
    };
    let ev = event("opening.commit", "tender", t.id, t0());
    s.add_opening_action(&action(1, "commit", "aa"), &ev)
        .await
        .unwrap();
    s.add_opening_action(&action(2, "commit", "bb"), &ev)
        .await
        .unwrap();
    s.add_opening_action(&action(1, "reveal", "{}"), &ev)
        .await
        .unwrap();
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        s.add_opening_action(&action(1, "commit", "cc"), &ev).await,
        Err(StoreError::Conflict("opening_action"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    let got = s.list_opening_actions(t.id).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], action(1, "commit", "aa"));
}

// ---------------------------------------------------------------------------------------------
// Screening: alerts, their review, bid rejections and credit records.

fn new_alert(
    t: &Tender,
    fingerprint: &str,
    indicator: &str,
    milli: i64,
    bidders: &[OrgId],
) -> crate::NewAlert {
    crate::NewAlert {
        id: sealbid_domain::AlertId::new(),
        fingerprint: fingerprint.into(),
        tender_id: t.id,
        family: "price_pattern".into(),
        indicator: indicator.into(),
        score_milli: milli,
        bidders: bidders.iter().map(|b| b.to_string()).collect(),
        doc: format!("{{\"fingerprint\":\"{fingerprint}\"}}"),
    }
}

fn screening_of(t: &Tender, at: DateTime<Utc>, milli: Option<i64>) -> crate::TenderScreening {
    crate::TenderScreening {
        tender_id: t.id,
        at,
        score_milli: milli,
        doc: "{\"screens\":{}}".into(),
    }
}

pub async fn screening_saves_are_idempotent(h: &dyn Harness) {
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let b1 = new_org(s.as_ref(), 11, "Bidder One", OrgKind::Bidder, "370200").await;
    let b2 = new_org(s.as_ref(), 12, "Bidder Two", OrgKind::Bidder, "370200").await;
    let alerts = vec![
        new_alert(&t, "fp-1", "identical_prices", 900, &[b1.id, b2.id]),
        new_alert(&t, "fp-2", "cv", 400, &[]),
    ];
    let ev = event("screening.run", "tender", t.id, t0());
    let first = s
        .save_screening(crate::ScreeningWrite {
            screening: &screening_of(&t, t0(), Some(734)),
            alerts: &alerts,
            audit: &ev,
        })
        .await
        .unwrap();
    assert_eq!(first.inserted.len(), 2);
    assert_eq!(first.existing, 0);
    // Re-running: same fingerprints, new ids — nothing new, the screening replaced.
    let again: Vec<_> = ["fp-1", "fp-2"]
        .iter()
        .map(|fp| new_alert(&t, fp, "identical_prices", 100, &[b1.id]))
        .collect();
    let second = s
        .save_screening(crate::ScreeningWrite {
            screening: &screening_of(&t, minutes(5), None),
            alerts: &again,
            audit: &ev,
        })
        .await
        .unwrap();
    assert!(second.inserted.is_empty());
    assert_eq!(second.existing, 2);
    let stored = s.get_tender_screening(t.id).await.unwrap().unwrap();
    assert_eq!(stored.at, minutes(5));
    assert_eq!(stored.score_milli, None);
    assert_eq!(s.list_tender_screenings().await.unwrap().len(), 1);

    let all = s.list_alerts(&crate::AlertFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].fingerprint, "fp-1", "highest score first");
    assert_eq!(all[0].score_milli, 900, "the first stored alert is kept");
    let mut want = vec![b1.id.to_string(), b2.id.to_string()];
    want.sort();
    assert_eq!(all[0].bidders, want);
    assert_eq!(all[0].status, sealbid_domain::screening::AlertStatus::Open);
    assert_eq!(all[0].version, 1);

    // Filters.
    let by_bidder = crate::AlertFilter {
        bidder: Some(b2.id.to_string()),
        ..Default::default()
    };
    assert_eq!(s.list_alerts(&by_bidder).await.unwrap().len(), 1);
    assert_eq!(s.count_alerts(&by_bidder).await.unwrap(), 1);
    let by_score = crate::AlertFilter {
        min_score_milli: Some(500),
        tender: Some(t.id),
        ..Default::default()
    };
    assert_eq!(s.list_alerts(&by_score).await.unwrap().len(), 1);
    let by_indicator = crate::AlertFilter {
        indicator: Some("cv".into()),
        status: Some(sealbid_domain::screening::AlertStatus::Open),
        ..Default::default()
    };
    let cv = s.list_alerts(&by_indicator).await.unwrap();
    assert_eq!(cv.len(), 1);
    assert!(cv[0].bidders.is_empty());
    let in_hall = |code: &str| crate::AlertFilter {
        scope: HallScope::Within(div(code)),
        ..Default::default()
    };
    assert_eq!(s.count_alerts(&in_hall("370200")).await.unwrap(), 2);
    assert_eq!(s.count_alerts(&in_hall("370000")).await.unwrap(), 2);
    assert_eq!(s.count_alerts(&in_hall("110000")).await.unwrap(), 0);

    // Bad input leaves the store as it was.
    let audits = audit_len(s.as_ref()).await;
    let bad = vec![new_alert(&t, "fp-3", "cv", 1001, &[])];
    assert!(matches!(
        s.save_screening(crate::ScreeningWrite {
            screening: &screening_of(&t, minutes(9), Some(10)),
            alerts: &bad,
            audit: &ev,
        })
        .await,
        Err(StoreError::Invalid(_))
    ));
    let mut ghost = tender(
        "SEAL-CONF-GHOST",
        "Ghost",
        "370200",
        b1.id,
        TenderState::Published,
    );
    ghost.id = TenderId::new();
    assert!(matches!(
        s.save_screening(crate::ScreeningWrite {
            screening: &screening_of(&ghost, minutes(9), None),
            alerts: &[],
            audit: &ev,
        })
        .await,
        Err(StoreError::Conflict("unknown_tender"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(
        s.get_tender_screening(t.id).await.unwrap().unwrap().at,
        minutes(5)
    );
}

pub async fn alert_review_confirms_with_effects(h: &dyn Harness) {
    use sealbid_domain::screening::AlertStatus;
    let s = h.store();
    let (_, t) = sealing_tender(s.as_ref()).await;
    let b1 = new_org(s.as_ref(), 11, "Bidder One", OrgKind::Bidder, "370200").await;
    let b2 = new_org(s.as_ref(), 12, "Bidder Two", OrgKind::Bidder, "370200").await;
    let a = new_alert(&t, "fp-r", "deposit_same_account", 950, &[b1.id, b2.id]);
    let ev = event("screening.run", "tender", t.id, t0());
    s.save_screening(crate::ScreeningWrite {
        screening: &screening_of(&t, t0(), None),
        alerts: std::slice::from_ref(&a),
        audit: &ev,
    })
    .await
    .unwrap();
    let supervisor = UserId::new();
    let step =
        |seq: i64, action: &str, from: AlertStatus, to: AlertStatus, at| crate::AlertReview {
            alert_id: a.id,
            seq,
            at,
            actor: Some(supervisor),
            action: action.into(),
            from_status: from,
            to_status: to,
            reason: format!("{action} reason"),
        };
    let rev = event("alert.review", "alert", a.id, minutes(1));
    let started = step(
        1,
        "start",
        AlertStatus::Open,
        AlertStatus::UnderReview,
        minutes(1),
    );
    let after = s
        .review_alert(crate::AlertDecision {
            alert: a.id,
            expected_version: 1,
            review: &started,
            rejections: &[],
            credit: &[],
            audit: &rev,
        })
        .await
        .unwrap();
    assert_eq!(after.status, AlertStatus::UnderReview);
    assert_eq!(after.version, 2);

    // A stale decision (version 1) changes nothing, not even the audit chain.
    let audits = audit_len(s.as_ref()).await;
    let confirm = step(
        2,
        "confirm",
        AlertStatus::UnderReview,
        AlertStatus::Confirmed,
        minutes(2),
    );
    let rejections: Vec<_> = [b1.id, b2.id]
        .iter()
        .map(|&b| crate::BidRejection {
            tender_id: t.id,
            bidder_org: b,
            alert_id: a.id,
            ground: "条例 40(6)".into(),
            at: minutes(2),
        })
        .collect();
    let credit: Vec<_> = [b1.id, b2.id]
        .iter()
        .map(|&b| crate::CreditRecord {
            id: uuid::Uuid::now_v7(),
            org_id: b,
            tender_id: Some(t.id),
            alert_id: Some(a.id),
            kind: "collusion".into(),
            ground: "条例 40(6)".into(),
            reason: "one payer account".into(),
            recorded_at: minutes(2),
            barred_until: Some(minutes(2) + Duration::days(365)),
            recorded_by: Some(supervisor),
        })
        .collect();
    assert!(matches!(
        s.review_alert(crate::AlertDecision {
            alert: a.id,
            expected_version: 1,
            review: &confirm,
            rejections: &rejections,
            credit: &credit,
            audit: &rev,
        })
        .await,
        Err(StoreError::VersionConflict {
            expected: 1,
            found: 2
        })
    ));
    // A rejection naming an unknown organisation rolls the whole decision back.
    let mut bad = rejections.clone();
    bad[1].bidder_org = OrgId::new();
    assert!(s
        .review_alert(crate::AlertDecision {
            alert: a.id,
            expected_version: 2,
            review: &confirm,
            rejections: &bad,
            credit: &credit,
            audit: &rev,
        })
        .await
        .is_err());
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert!(s.list_bid_rejections(t.id).await.unwrap().is_empty());
    assert!(s.list_credit_records(b1.id).await.unwrap().is_empty());
    assert_eq!(s.get_alert(a.id).await.unwrap().unwrap().version, 2);

    let done = s
        .review_alert(crate::AlertDecision {
            alert: a.id,
            expected_version: 2,
            review: &confirm,
            rejections: &rejections,
            credit: &credit,
            audit: &rev,
        })
        .await
        .unwrap();
    assert_eq!(done.status, AlertStatus::Confirmed);
    assert_eq!(done.updated_at, minutes(2));
    assert_eq!(audit_len(s.as_ref()).await, audits + 1);
    let steps = s.list_alert_reviews(a.id).await.unwrap();
    assert_eq!(steps, vec![started, confirm.clone()]);
    assert_eq!(s.list_bid_rejections(t.id).await.unwrap().len(), 2);
    let history = s.list_credit_records(b2.id).await.unwrap();
    assert_eq!(history, vec![credit[1].clone()]);
    assert!(history[0].bars_at(minutes(3)));
    assert!(!history[0].bars_at(minutes(2) + Duration::days(366)));
    // Re-running the screening leaves the decided alert as it is.
    s.save_screening(crate::ScreeningWrite {
        screening: &screening_of(&t, minutes(4), None),
        alerts: &[new_alert(&t, "fp-r", "deposit_same_account", 100, &[b1.id])],
        audit: &ev,
    })
    .await
    .unwrap();
    let kept = s.get_alert(a.id).await.unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.score_milli),
        (AlertStatus::Confirmed, 950)
    );
    // Unknown alert.
    assert!(matches!(
        s.review_alert(crate::AlertDecision {
            alert: sealbid_domain::AlertId::new(),
            expected_version: 1,
            review: &confirm,
            rejections: &[],
            credit: &[],
            audit: &rev,
        })
        .await,
        Err(StoreError::NotFound)
    ));
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the expert pool and committee draws.

pub async fn evaluation_pool_and_draws(h: &dyn Harness) {
    let s = h.store();
    let expert = |id: &str, doc: &str| crate::ExpertRecord {
        id: id.into(),
        updated_at: t0(),
        doc: doc.into(),
    };
    let ev = event("experts.import", "expert_pool", "pool", t0());
    assert_eq!(
        s.upsert_experts(&[expert("E2", "{\"v\":1}"), expert("E1", "{\"v\":1}")], &ev)
            .await
            .unwrap(),
        2
    );
    s.upsert_experts(&[expert("E2", "{\"v\":2}")], &ev)
        .await
        .unwrap();
    let pool = s.list_experts().await.unwrap();
    assert_eq!(
        pool.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["E1", "E2"]
    );
    assert_eq!(pool[1].doc, "{\"v\":2}");

    let (_, t) = sealing_tender(s.as_ref()).await;
    assert!(s.get_draw(t.id).await.unwrap().is_none());
    let draw = |version: i64, at| crate::CommitteeDraw {
        tender_id: t.id,
        version,
        drawn_at: at,
        public_doc: format!("{{\"v\":{version}}}"),
        private_doc: "{}".into(),
    };
    let dev = event("committee.draw", "tender", t.id, t0());
    assert!(s.get_draw_pool(t.id).await.unwrap().is_none());
    s.save_draw(crate::DrawWrite {
        draw: &draw(1, t0()),
        expected_version: None,
        tender: None,
        pool: Some(("digest-1", "[\"pool\"]")),
        audit: &dev,
    })
    .await
    .unwrap();
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        s.save_draw(crate::DrawWrite {
            draw: &draw(1, t0()),
            expected_version: None,
            tender: None,
            pool: Some(("digest-2", "[]")),
            audit: &dev,
        })
        .await,
        Err(StoreError::Conflict("committee_draw"))
    ));
    assert!(matches!(
        s.save_draw(crate::DrawWrite {
            draw: &draw(3, minutes(1)),
            expected_version: Some(2),
            tender: None,
            pool: None,
            audit: &dev,
        })
        .await,
        Err(StoreError::VersionConflict {
            expected: 2,
            found: 1
        })
    ));
    let mut ghost = draw(1, t0());
    ghost.tender_id = TenderId::new();
    assert!(matches!(
        s.save_draw(crate::DrawWrite {
            draw: &ghost,
            expected_version: None,
            tender: None,
            pool: None,
            audit: &dev,
        })
        .await,
        Err(StoreError::Conflict("unknown_tender"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    s.save_draw(crate::DrawWrite {
        draw: &draw(2, minutes(1)),
        expected_version: Some(1),
        tender: None,
        pool: None,
        audit: &dev,
    })
    .await
    .unwrap();
    assert_eq!(
        s.get_draw(t.id).await.unwrap().unwrap(),
        draw(2, minutes(1))
    );
    assert_eq!(
        s.get_draw_pool(t.id).await.unwrap(),
        Some(("digest-1".to_string(), "[\"pool\"]".to_string()))
    );

    // Expert accounts and declarations.
    let u = user("expert.one", None, "370200", vec![Role::Evaluator]);
    s.create_user(&u, "hash", &event("user.create", "user", u.id, t0()))
        .await
        .unwrap();
    let lev = event("expert.link", "expert", "E1", t0());
    s.link_expert_account("E1", u.id, t0(), &lev).await.unwrap();
    assert_eq!(s.expert_of_user(u.id).await.unwrap().as_deref(), Some("E1"));
    // Relinking moves the link.
    s.link_expert_account("E2", u.id, t0(), &lev).await.unwrap();
    assert_eq!(s.expert_of_user(u.id).await.unwrap().as_deref(), Some("E2"));
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        s.link_expert_account("E1", UserId::new(), t0(), &lev).await,
        Err(StoreError::Conflict("unknown_user"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(s.expert_of_user(u.id).await.unwrap().as_deref(), Some("E2"));
    let decl = crate::Declaration {
        tender_id: t.id,
        user_id: u.id,
        expert_id: "E2".into(),
        at: minutes(2),
        statement: "no conflict".into(),
    };
    assert!(s.get_declaration(t.id, u.id).await.unwrap().is_none());
    let dev = event("evaluation.declare", "tender", t.id, minutes(2));
    s.add_declaration(&decl, &dev).await.unwrap();
    assert!(matches!(
        s.add_declaration(&decl, &dev).await,
        Err(StoreError::Conflict("declaration"))
    ));
    assert_eq!(s.get_declaration(t.id, u.id).await.unwrap(), Some(decl));

    // Scheme and score sheets (replaced by key).
    assert!(s.get_scheme(t.id).await.unwrap().is_none());
    s.set_scheme(t.id, "{\"a\":1}", t0(), &dev).await.unwrap();
    s.set_scheme(t.id, "{\"a\":2}", t0(), &dev).await.unwrap();
    assert_eq!(
        s.get_scheme(t.id).await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
    let bid = sealbid_domain::BidId::new();
    let sheet = |doc: &str, at| crate::StoredSheet {
        tender_id: t.id,
        user_id: u.id,
        bid_id: bid,
        submitted_at: at,
        doc: doc.into(),
    };
    s.put_sheet(&sheet("{\"s\":1}", minutes(3)), &dev)
        .await
        .unwrap();
    s.put_sheet(&sheet("{\"s\":2}", minutes(4)), &dev)
        .await
        .unwrap();
    assert_eq!(
        s.list_sheets(t.id).await.unwrap(),
        vec![sheet("{\"s\":2}", minutes(4))]
    );
    let audits = audit_len(s.as_ref()).await;
    let mut ghost = sheet("{}", minutes(5));
    ghost.user_id = UserId::new();
    assert!(s.put_sheet(&ghost, &dev).await.is_err());
    assert_eq!(audit_len(s.as_ref()).await, audits);

    // The expert behind an account, reversed.
    assert_eq!(s.user_of_expert("E2").await.unwrap(), Some(u.id));
    assert_eq!(s.user_of_expert("E1").await.unwrap(), None);

    // Representatives: replaced as a set; an unknown account leaves the set as it was.
    let rep = crate::Representative {
        tender_id: t.id,
        user_id: u.id,
        seat: 4,
        appointed_at: t0(),
    };
    s.set_representatives(t.id, std::slice::from_ref(&rep), &dev)
        .await
        .unwrap();
    let audits = audit_len(s.as_ref()).await;
    let ghost_rep = crate::Representative {
        user_id: UserId::new(),
        seat: 3,
        ..rep.clone()
    };
    assert!(matches!(
        s.set_representatives(t.id, &[ghost_rep], &dev).await,
        Err(StoreError::Conflict("unknown_user"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(s.list_representatives(t.id).await.unwrap(), vec![rep]);

    // Qualification checklists are kept like sheets.
    s.put_qualification(&sheet("{\"q\":1}", minutes(5)), &dev)
        .await
        .unwrap();
    assert_eq!(
        s.list_qualifications(t.id).await.unwrap(),
        vec![sheet("{\"q\":1}", minutes(5))]
    );

    // The session's time and requests for more (one per member; extension in the same write).
    let time = crate::EvaluationTime {
        tender_id: t.id,
        due_at: minutes(600),
        set_at: minutes(5),
        extended: 0,
    };
    s.set_evaluation_time(&time, &dev).await.unwrap();
    assert_eq!(
        s.get_evaluation_time(t.id).await.unwrap(),
        Some(time.clone())
    );
    let req = crate::TimeRequest {
        tender_id: t.id,
        user_id: u.id,
        at: minutes(6),
        reason: "long technical proposals".into(),
    };
    let longer = crate::EvaluationTime {
        due_at: minutes(600 + 1440),
        extended: 1,
        ..time.clone()
    };
    s.add_time_request(&req, Some(&longer), &dev).await.unwrap();
    let audits = audit_len(s.as_ref()).await;
    let even_longer = crate::EvaluationTime {
        due_at: minutes(600 + 2880),
        extended: 2,
        ..time.clone()
    };
    assert!(matches!(
        s.add_time_request(&req, Some(&even_longer), &dev).await,
        Err(StoreError::Conflict("time_request"))
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    assert_eq!(s.get_evaluation_time(t.id).await.unwrap(), Some(longer));
    assert_eq!(s.list_time_requests(t.id).await.unwrap(), vec![req]);

    // The report: first write, stale version refused, then logged with the log append.
    assert!(s.get_report(t.id).await.unwrap().is_none());
    let report = crate::StoredReport {
        tender_id: t.id,
        version: 1,
        drawn_up_at: minutes(10),
        body: "{\"r\":1}".into(),
        signatures: "[]".into(),
        logged: None,
        log_index: None,
        checkpoint: None,
    };
    let rev = event("evaluation.report", "tender", t.id, minutes(10));
    assert!(s
        .save_report(crate::ReportWrite {
            report: &report,
            expected_version: None,
            log: None,
            audit: &rev,
        })
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.get_report(t.id).await.unwrap(), Some(report.clone()));
    // Once a report is drawn up, sheets and checklists are frozen.
    assert!(matches!(
        s.put_sheet(&sheet("{\"s\":3}", minutes(11)), &dev).await,
        Err(StoreError::Conflict("report_drawn_up"))
    ));
    assert!(matches!(
        s.put_qualification(&sheet("{\"q\":2}", minutes(11)), &dev)
            .await,
        Err(StoreError::Conflict("report_drawn_up"))
    ));
    // Explanations of outliers are still taken while the report is drawn up.
    s.put_explanation(&sheet("my reasons", minutes(11)), &dev)
        .await
        .unwrap();
    s.put_explanation(&sheet("my better reasons", minutes(12)), &dev)
        .await
        .unwrap();
    assert_eq!(
        s.list_explanations(t.id).await.unwrap(),
        vec![sheet("my better reasons", minutes(12))]
    );
    assert!(matches!(
        s.save_report(crate::ReportWrite {
            report: &report,
            expected_version: None,
            log: None,
            audit: &rev,
        })
        .await,
        Err(StoreError::Conflict("report"))
    ));
    let audits = audit_len(s.as_ref()).await;
    let signed = crate::StoredReport {
        version: 2,
        signatures: "[{\"member\":\"E2\"}]".into(),
        logged: Some("{\"logged\":true}".into()),
        ..report.clone()
    };
    assert!(matches!(
        s.save_report(crate::ReportWrite {
            report: &signed,
            expected_version: Some(7),
            log: None,
            audit: &rev,
        })
        .await,
        Err(StoreError::VersionConflict {
            expected: 7,
            found: 1
        })
    ));
    assert_eq!(audit_len(s.as_ref()).await, audits);
    let signer = log_signer();
    let size = s.log_size().await.unwrap();
    let appended = s
        .save_report(crate::ReportWrite {
            report: &signed,
            expected_version: Some(1),
            log: Some(log_append(
                t.id,
                "evaluation_report",
                "{\"type\":\"evaluation_report\"}".into(),
                &signer,
            )),
            audit: &rev,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(appended.index, size);
    let back = s.get_report(t.id).await.unwrap().unwrap();
    assert_eq!(back.log_index, Some(size));
    assert_eq!(
        back.checkpoint.as_deref(),
        Some(appended.checkpoint.as_str())
    );
    assert_eq!(back.logged, signed.logged);
    assert_eq!(
        s.log_entry(size).await.unwrap().unwrap().entry,
        "{\"type\":\"evaluation_report\"}"
    );

    // The award document, with the tender's state change in the same write.
    let current = s.get_tender(t.id).await.unwrap().unwrap();
    let award = crate::StoredAward {
        tender_id: t.id,
        version: 1,
        updated_at: minutes(20),
        doc: "{\"a\":1}".into(),
    };
    let aev = event("award.publish", "tender", t.id, minutes(20));
    let audits = audit_len(s.as_ref()).await;
    assert!(matches!(
        s.save_award(crate::AwardWrite {
            award: &award,
            expected_version: None,
            tender: Some((&current, current.version + 5)),
            audit: &aev,
        })
        .await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert!(s.get_award(t.id).await.unwrap().is_none());
    assert_eq!(audit_len(s.as_ref()).await, audits);
    let mut renamed = current.clone();
    renamed.terms.title = "Renamed with the award".into();
    s.save_award(crate::AwardWrite {
        award: &award,
        expected_version: None,
        tender: Some((&renamed, current.version)),
        audit: &aev,
    })
    .await
    .unwrap();
    assert_eq!(
        s.get_tender(t.id).await.unwrap().unwrap().terms.title,
        "Renamed with the award"
    );
    assert!(matches!(
        s.save_award(crate::AwardWrite {
            award: &award,
            expected_version: None,
            tender: None,
            audit: &aev,
        })
        .await,
        Err(StoreError::Conflict("award"))
    ));
    let next = crate::StoredAward {
        version: 2,
        doc: "{\"a\":2}".into(),
        ..award.clone()
    };
    assert!(matches!(
        s.save_award(crate::AwardWrite {
            award: &next,
            expected_version: Some(9),
            tender: None,
            audit: &aev,
        })
        .await,
        Err(StoreError::VersionConflict { .. })
    ));
    s.save_award(crate::AwardWrite {
        award: &next,
        expected_version: Some(1),
        tender: None,
        audit: &aev,
    })
    .await
    .unwrap();
    assert_eq!(s.get_award(t.id).await.unwrap(), Some(next.clone()));
    assert_eq!(s.list_awards().await.unwrap(), vec![next]);
}
