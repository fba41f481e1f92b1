//! Starts the real server for a test: the whole router on 127.0.0.1:0, a fresh SQLite file in a
//! temporary directory or — when `SEALBID_TEST_PG_URL` is set — a fresh PostgreSQL schema, a
//! manual clock the test moves, and a seeded admin. Helpers create halls, organisations and users
//! through the API and sign them in.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::Method;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{Hall, Role, User};
use sealbid_domain::{DivisionCode, ManualClock, UserId, WorkingCalendar};
use sealbid_server::{AppState, ServerSettings, ThrottleLimits};
use sealbid_store::Store;
use serde_json::{json, Value};

/// How long test sessions last.
pub const SESSION_DAYS: i64 = 120;

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// The test server's limit on a tender document (`ServerSettings::max_document_bytes`): small, so
/// that tests can go over it cheaply.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024;

/// A fresh committee member identity (random).
pub fn member_identity() -> sealbid_seal::keys::MemberIdentity {
    sealbid_seal::keys::MemberIdentity::generate(&mut rand::rngs::OsRng)
}

/// Tests start on Monday 3 March 2025, 09:00 in China: a working day in a year the holiday table
/// covers.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap()
}

/// Runs an async test body once on SQLite and once on PostgreSQL: generates a module named after
/// the test with the functions `sqlite` and `postgres`. The PostgreSQL run prints a notice and
/// passes when `SEALBID_TEST_PG_URL` is unset; when it is set but unreachable, the test fails.
macro_rules! e2e_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::support::spawn_app($crate::support::Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = $crate::support::Backend::postgres_from_env() else {
                    eprintln!(
                        "SEALBID_TEST_PG_URL is not set: {} ran on SQLite only",
                        stringify!($name)
                    );
                    return;
                };
                run($crate::support::spawn_app(backend).await).await;
            }
        }
    };
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn postgres_from_env() -> Option<Backend> {
        std::env::var("SEALBID_TEST_PG_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(Backend::Postgres)
    }
}

/// Drops the test's PostgreSQL schema when the test ends, pass or fail.
struct PgSchema {
    url: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, which cannot block on a future: use a thread with
        // a runtime of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(sealbid_store::postgres::PgStore::drop_schema(&url, &schema));
            }
        })
        .join();
    }
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub state: AppState,
    /// The seeded admin's bearer token.
    pub admin: String,
    counter: AtomicU32,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    _pg: Option<PgSchema>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A response: status, JSON body (`Null` when empty or not JSON) and the raw text.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The stable error code of an error response.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// The login throttle's limits in tests: high enough never to get in the way.
pub fn test_throttle_limits() -> ThrottleLimits {
    ThrottleLimits {
        max_failures_per_username: 1_000,
        max_failures_per_ip: 10_000,
        ..ThrottleLimits::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, pg): (Arc<dyn Store>, Option<PgSchema>) = match &backend {
        Backend::Sqlite => {
            let path = dir.path().join("sealbid.db");
            let store = sealbid_store::sqlite::SqliteStore::open(&path.to_string_lossy())
                .await
                .expect("open SQLite store");
            (Arc::new(store), None)
        }
        Backend::Postgres(url) => {
            let schema = format!("e2e_{}", uuid::Uuid::new_v4().simple());
            let guard = PgSchema {
                url: url.clone(),
                schema: schema.clone(),
            };
            let store = sealbid_store::postgres::PgStore::connect_with_schema(url, &schema)
                .await
                .unwrap_or_else(|e| {
                    panic!("SEALBID_TEST_PG_URL is set but PostgreSQL is not usable: {e}")
                });
            (Arc::new(store), Some(guard))
        }
    };
    let blobs =
        sealbid_store::blob::ObjectBlobStore::local(dir.path().join("blobs")).expect("blob store");
    let clock = ManualClock::new(start_time());
    let calendar = WorkingCalendar::try_builtin().expect("holiday table");
    let state = AppState::new(
        store.clone(),
        Arc::new(blobs),
        Arc::new(clock.clone()),
        Arc::new(calendar),
        ServerSettings {
            // Tests move the clock by weeks; sessions outlast that unless a test is about expiry.
            session_ttl: Duration::days(SESSION_DAYS),
            // Tests send wrong passwords on purpose (the authorization table sends one per
            // role): far more than the production limits. Tests of the throttle itself set the
            // limits they test with `app.state.login_throttle.set_limits(…)`.
            login_throttle: test_throttle_limits(),
            max_document_bytes: MAX_DOCUMENT_BYTES,
            ..ServerSettings::default()
        },
    )
    .expect("fresh platform keys");

    // Seed: the Qingdao city hall and an admin, written to the store directly (the API needs an
    // admin to create anything).
    let qingdao = DivisionCode::parse("370200").unwrap();
    let hall = Hall {
        division: qingdao.clone(),
        name: "Qingdao Public Resource Trading Centre".into(),
    };
    store
        .upsert_hall(
            &hall,
            &AuditEvent::new(None, start_time(), "hall.upsert", "hall", "370200"),
        )
        .await
        .expect("seed hall");
    let admin = User {
        id: UserId::new(),
        username: "admin".into(),
        display_name: "Administrator".into(),
        roles: vec![Role::Admin],
        org: None,
        hall: qingdao,
        active: true,
        created_at: start_time(),
    };
    let hash = sealbid_server::auth::hash_password_with_salt(PASSWORD, &[42u8; 16]).unwrap();
    store
        .create_user(
            &admin,
            &hash,
            &AuditEvent::new(None, start_time(), "user.create", "user", admin.id),
        )
        .await
        .expect("seed admin");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    // With the client's address, as `sealbid_server::serve` does (the login throttle counts
    // failures per address too).
    let router = sealbid_server::router(state.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let mut app = TestApp {
        base: format!("http://{addr}"),
        client,
        clock,
        state,
        admin: String::new(),
        counter: AtomicU32::new(0),
        server,
        _dir: dir,
        _pg: pg,
    };
    app.admin = app.login("admin").await;
    app
}

impl TestApp {
    /// The URL of an API path (`/tenders` → `http://…/api/v1/tenders`).
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Sends a request to an API path; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.client.request(method, self.api(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(&body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::PUT, path, token, Some(&body)).await
    }

    /// Signs in through the API; returns the bearer token.
    pub async fn login(&self, username: &str) -> String {
        let r = self
            .post(
                "/auth/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await
            .expect(200);
        r.body["token"].as_str().expect("token").to_string()
    }

    pub async fn create_hall(&self, division: &str, name: &str) {
        let r = self
            .post(
                "/halls",
                Some(&self.admin),
                json!({"division": division, "name": name}),
            )
            .await;
        assert!(
            r.status == 201 || r.status == 200,
            "create hall: {}",
            r.text
        );
    }

    /// A valid unified social credit code not used before in this test.
    pub fn next_credit_code(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        sealbid_domain::credit_code::complete_credit_code(&format!("91370200MA{n:07}"))
            .unwrap()
            .to_string()
    }

    /// Registers an organisation as the admin; returns its id.
    pub async fn create_org(&self, name: &str, kind: &str, hall: &str) -> String {
        let r = self
            .post(
                "/orgs",
                Some(&self.admin),
                json!({"credit_code": self.next_credit_code(), "name": name, "kind": kind, "hall": hall}),
            )
            .await
            .expect(201);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Creates an account as the admin and signs it in; returns its bearer token.
    pub async fn create_user(
        &self,
        username: &str,
        roles: &[&str],
        org: Option<&str>,
        hall: &str,
    ) -> String {
        self.post(
            "/users",
            Some(&self.admin),
            json!({
                "username": username,
                "display_name": username,
                "password": PASSWORD,
                "roles": roles,
                "org_id": org,
                "hall": hall,
            }),
        )
        .await
        .expect(201);
        self.login(username).await
    }

    /// A tender body that passes every check now: mandatory, deadline `days` days away.
    pub fn tender_body(&self, code: &str, days: i64) -> Value {
        let deadline = self.clock_now() + Duration::days(days);
        json!({
            "code": code,
            "title": format!("Road resurfacing {code}"),
            "description": "Resurfacing of 12 km of district roads.",
            "category": "works",
            "mandatory": true,
            "estimated_price": "1000000.00",
            "ceiling_price": "1100000.00",
            "bid_deposit": "20000.00",
            "bid_deadline": deadline.to_rfc3339(),
            "evaluation_method": "comprehensive_scoring",
            "qualification_criteria": ["Grade II road construction licence"],
            "committee": {"threshold": 3, "members": 5}
        })
    }

    /// The test's temporary directory (the SQLite database and the blob store are in it).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().to_path_buf()
    }

    /// The PostgreSQL URL and schema of this test, when it runs on PostgreSQL.
    pub fn pg_schema(&self) -> Option<(String, String)> {
        self._pg.as_ref().map(|p| (p.url.clone(), p.schema.clone()))
    }

    /// The directory of the server's blob store.
    pub fn blob_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("blobs")
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use sealbid_domain::Clock;
        self.clock.now()
    }

    /// Creates a draft as `token`; returns its id.
    pub async fn create_tender(&self, token: &str, code: &str, days: i64) -> String {
        let r = self
            .post("/tenders", Some(token), self.tender_body(code, days))
            .await
            .expect(201);
        let id = r.body["id"].as_str().unwrap().to_string();
        // Every tender needs an opening committee before it can be published: two members with
        // throwaway keys and the platform's seat, 2 of 3. Tests that open bids set their own.
        self.set_committee(token, &id, 2, &[member_identity().recipient()], true)
            .await;
        id
    }

    /// Sets a tender's opening committee (as its tenderee): one seat per key, plus the
    /// platform's seat when `platform` is set; always a second throwaway member so that t ≥ 2
    /// holds for one key.
    pub async fn set_committee(
        &self,
        token: &str,
        tender: &str,
        threshold: u8,
        keys: &[sealbid_seal::keys::MemberRecipient],
        platform: bool,
    ) -> Value {
        let mut seats: Vec<Value> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| json!({"name": format!("Member {}", i + 1), "role": "member", "recipient": k.to_string()}))
            .collect();
        if keys.len() < 2 && !platform {
            seats.push(json!({"name": "Notary", "role": "notary", "recipient": member_identity().recipient().to_string()}));
        }
        self.put(
            &format!("/tenders/{tender}/committee"),
            Some(token),
            json!({"threshold": threshold, "seats": seats, "platform_seat": platform}),
        )
        .await
        .expect(200)
        .body
    }

    /// What the store holds, as far as the API shows it to an admin: every tender (full JSON),
    /// every organisation, every account, and the audit chain's length.
    pub async fn snapshot(&self) -> Value {
        let tenders = self
            .get("/tenders?limit=100", Some(&self.admin))
            .await
            .expect(200);
        let orgs = self
            .get("/orgs?limit=100", Some(&self.admin))
            .await
            .expect(200);
        let users = self
            .get("/users?limit=100", Some(&self.admin))
            .await
            .expect(200);
        let halls = self.get("/halls", None).await.expect(200);
        let audit = self
            .get("/audit/verify", Some(&self.admin))
            .await
            .expect(200);
        assert_eq!(audit.body["ok"], true, "audit chain: {}", audit.text);
        json!({
            "tenders": tenders.body,
            "orgs": orgs.body,
            "users": users.body,
            "halls": halls.body,
            "audit_records": audit.body["records"],
        })
    }
}
