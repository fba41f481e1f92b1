//! Load program against the real release server (docs/performance.md). Starts `sealbid serve
//! --demo` on a fresh data directory (and, for PostgreSQL, a fresh database), seeds through the
//! API as the demo admin, and runs one of two scenarios:
//!
//! * `submit` (default): N bidders (default 500) each submit a 1 MiB sealed bid at once, in the
//!   last minute before the deadline. Three runs in the same session: the envelope uploads alone
//!   (`PUT /tenders/{id}/envelopes/{sha}`), the manifests alone (`POST /tenders/{id}/bids`, the
//!   durable store + log append + receipt), and the full submission (both, on a second tender).
//!   Every submission must answer 201 with a receipt that verifies against the log key and holds
//!   the manifest that was sent, and the server's bid count must equal the submissions.
//! * `open`: N bidders (default 1000) submit 1 MiB bids to two tenders; the server's clock passes
//!   the deadline, the scheduler closes both, two committee members (plus the platform's seat,
//!   3 of 5) commit and reveal, and the reveal that opens the bids is timed — with the server
//!   pinned to one core for the first tender and to both cores for the second.
//!
//! The server runs under libfaketime (`apt-get install faketime`) so that its clock can be moved
//! to the last minute before the deadline, and past it, while it runs; the deadline is ≥ 20 days
//! out by law. `--no-faketime` runs `submit` on the real clock (weeks before the deadline) as a
//! check of what the preload costs.
//!
//! ```sh
//! cargo build --release
//! cargo bench --bench submit_bids -- submit --backend sqlite
//! cargo bench --bench submit_bids -- submit --backend postgres   # postgres://postgres@127.0.0.1:5432
//! cargo bench --bench submit_bids -- open --backend sqlite
//! ```
//! Options: `--bidders N`, `--kib N` (bid size, default 1024), `--bin PATH` (default
//! `$SEALBID_BIN` or `target/release/sealbid`), `--pg-url URL` (server URL without database).
//! Only `cargo bench` runs it (`cargo test --benches` builds it and returns at once).
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{Client, Method, StatusCode};
use rust_decimal::Decimal;
use sealbid_seal::entry::LogEntryBody;
use sealbid_seal::envelope::seal_envelope;
use sealbid_seal::keys::{MemberIdentity, SigningKey};
use sealbid_seal::manifest::{EnvelopeEntry, Manifest};
use sealbid_seal::note::NoteVerifier;
use sealbid_seal::opening::{BidOutcome, Reveal, RevealedKey, SignedOpeningRecord};
use sealbid_seal::payload::{BoqLine, PricePayload};
use sealbid_seal::policy::SealingPolicy;
use sealbid_seal::receipt::Receipt;
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{member_share_key_at, read_header, EnvelopeKind, ShareContext};
use serde_json::{json, Value};
use tokio::sync::{Barrier, Semaphore};

type Res<T> = anyhow::Result<T>;

const PASSWORD: &str = "sealbid-demo";
const HALL: &str = "370200";
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
/// Seeding requests in flight at once (password hashing dominates).
const SEED_CONCURRENCY: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Submit,
    Open,
}

struct Args {
    scenario: Scenario,
    postgres: bool,
    bidders: usize,
    kib: usize,
    faketime: bool,
    bin: PathBuf,
    pg_url: String,
}

fn parse_args() -> Res<Option<Args>> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.iter().any(|a| a == "--bench") {
        println!("submit_bids: a load program; run it with `cargo bench --bench submit_bids`");
        return Ok(None);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        scenario: Scenario::Submit,
        postgres: false,
        bidders: 0,
        kib: 1024,
        faketime: true,
        bin: std::env::var_os("SEALBID_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/release/sealbid")),
        pg_url: "postgres://postgres@127.0.0.1:5432".into(),
    };
    let mut it = raw.into_iter().filter(|s| s != "--bench");
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{arg} needs a value"))
        };
        match arg.as_str() {
            "submit" => a.scenario = Scenario::Submit,
            "open" => a.scenario = Scenario::Open,
            "--backend" => a.postgres = value()? == "postgres",
            "--bidders" => a.bidders = value()?.parse()?,
            "--kib" => a.kib = value()?.parse()?,
            "--bin" => a.bin = PathBuf::from(value()?),
            "--pg-url" => a.pg_url = value()?,
            "--no-faketime" => a.faketime = false,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    if a.bidders == 0 {
        a.bidders = if a.scenario == Scenario::Submit {
            500
        } else {
            1000
        };
    }
    if a.scenario == Scenario::Open && !a.faketime {
        anyhow::bail!("the open scenario needs the server's clock past the deadline: faketime");
    }
    if !a.bin.exists() {
        anyhow::bail!(
            "{} does not exist: run `cargo build --release` first (or pass --bin)",
            a.bin.display()
        );
    }
    Ok(Some(a))
}

// ----- the server -------------------------------------------------------------------------------

struct Server {
    child: std::process::Child,
    base: String,
    work: tempfile::TempDir,
    clock_file: Option<PathBuf>,
    http: Client,
}

impl Server {
    async fn start(a: &Args, db_name: &str) -> Res<Server> {
        let work = tempfile::tempdir()?;
        let url = if a.postgres {
            let admin = format!("{}/postgres", a.pg_url);
            for sql in [
                format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"),
                format!("CREATE DATABASE {db_name}"),
            ] {
                let st = std::process::Command::new("psql")
                    .args(["-q", &admin, "-c", &sql])
                    .status()?;
                anyhow::ensure!(st.success(), "psql {sql} failed");
            }
            format!("{}/{db_name}", a.pg_url)
        } else {
            format!("sqlite://{}/bench.db", work.path().display())
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(work.path().join("serve.log"))?;
        let mut cmd = std::process::Command::new(&a.bin);
        cmd.current_dir(work.path())
            .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", &url])
            .args([
                "--blob-store",
                &work.path().join("blobs").display().to_string(),
            ])
            .env("SEALBID_LOG", "warn")
            .env("SEALBID_KEYS_DIR", work.path().join("keys"))
            // Sessions opened while seeding must outlive the clock's jump to the deadline.
            .env("SEALBID_SESSION_TTL_HOURS", "2400")
            .env("SEALBID_SCHEDULER_INTERVAL_SECS", "1")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        let clock_file = if a.faketime {
            anyhow::ensure!(
                Path::new(LIBFAKETIME).exists(),
                "{LIBFAKETIME} is missing: apt-get install -y faketime"
            );
            let f = work.path().join("faketime");
            std::fs::write(&f, "+0\n")?;
            cmd.env("LD_PRELOAD", LIBFAKETIME)
                .env("FAKETIME_TIMESTAMP_FILE", &f)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("FAKETIME_CACHE_DURATION", "1");
            Some(f)
        } else {
            None
        };
        let child = cmd.spawn()?;
        let http = Client::builder()
            .pool_max_idle_per_host(2048)
            .timeout(Duration::from_secs(900))
            .build()?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            work,
            clock_file,
            http,
        };
        for _ in 0..300 {
            if let Ok(r) = server
                .http
                .get(format!("{}/healthz", server.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(server.work.path().join("serve.log")).unwrap_or_default();
        anyhow::bail!("the server did not come up:\n{log}")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's clock, from the `Date` header of a response.
    async fn now(&self) -> Res<DateTime<Utc>> {
        let r = self
            .http
            .get(format!("{}/healthz", self.base))
            .send()
            .await?;
        let date = r
            .headers()
            .get("date")
            .and_then(|d| d.to_str().ok())
            .ok_or_else(|| anyhow::anyhow!("no Date header"))?;
        Ok(DateTime::parse_from_rfc2822(date)?.with_timezone(&Utc))
    }

    /// Moves the server's clock so that it reads `target` now.
    async fn set_clock(&self, target: DateTime<Utc>) -> Res<()> {
        let f = self
            .clock_file
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no faketime"))?;
        let offset = (target - Utc::now()).num_seconds();
        std::fs::write(f, format!("{offset:+}\n"))?;
        // libfaketime re-reads the file at most once a second.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let now = self.now().await?;
        anyhow::ensure!(
            (now - target).num_seconds().abs() < 10,
            "the server's clock reads {now}, not {target}"
        );
        Ok(())
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<(StatusCode, Value)> {
        let mut req = self.http.request(method, self.api(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status();
        let text = r.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    async fn expect(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        want: u16,
    ) -> Res<Value> {
        let (status, v) = self.call(method.clone(), path, token, body).await?;
        anyhow::ensure!(
            status.as_u16() == want,
            "{method} {path}: {status} (expected {want}): {v}"
        );
        Ok(v)
    }

    async fn login(&self, username: &str) -> Res<String> {
        let v = self
            .expect(
                Method::POST,
                "/auth/login",
                None,
                Some(json!({"username": username, "password": PASSWORD})),
                200,
            )
            .await?;
        Ok(str_of(&v["token"])?.to_string())
    }
}

impl Drop for Server {
    /// Stops the server this program started (by its own child handle).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn str_of(v: &Value) -> Res<&str> {
    v.as_str()
        .ok_or_else(|| anyhow::anyhow!("expected a string, got {v}"))
}

// ----- seeding ----------------------------------------------------------------------------------

struct Bidder {
    token: String,
    org: String,
    key: SigningKey,
    /// The deposit reference per tender (same order as the tenders).
    references: Vec<String>,
}

struct Tender {
    id: String,
    deadline: DateTime<Utc>,
    policy: Signed<SealingPolicy>,
}

struct Seeded {
    admin: String,
    log_key: NoteVerifier,
    tenders: Vec<Tender>,
    bidders: Vec<Bidder>,
    /// Committee members with accounts: (token, seat, identity).
    members: Vec<(String, u8, MemberIdentity)>,
}

async fn seed(s: &Server, a: &Args, tenders: usize, member_accounts: usize) -> Res<Seeded> {
    let t0 = Instant::now();
    let admin = s.login("admin").await?;
    let tenderee = s.login("tenderee").await?;
    let officer = s.login("officer").await?;
    let log_key = NoteVerifier::from_str(str_of(
        &s.expect(Method::GET, "/log/key", None, None, 200).await?["key"],
    )?)
    .map_err(|e| anyhow::anyhow!("log key: {e}"))?;

    // The committee: 4 member seats and the platform's, 3 of 5. The first `member_accounts`
    // seats belong to accounts that register their keys; the others are given as keys.
    let mut members = Vec::new();
    let mut seats = Vec::new();
    let mut rng = rand::rngs::OsRng;
    for i in 1..=4u8 {
        let id = MemberIdentity::generate(&mut rng);
        if usize::from(i) <= member_accounts {
            let name = format!("bench.member{i}");
            let u = s
                .expect(
                    Method::POST,
                    "/users",
                    Some(&admin),
                    Some(
                        json!({"username": name, "display_name": name, "password": PASSWORD,
                        "roles": ["committee_member"], "hall": HALL}),
                    ),
                    201,
                )
                .await?;
            seats
                .push(json!({"name": format!("Member {i}"), "role": "member", "user_id": u["id"]}));
            members.push((s.login(&name).await?, i, id));
        } else {
            seats.push(json!({"name": format!("Member {i}"), "role": "member",
                "recipient": id.recipient().to_string()}));
        }
    }
    let deadline = (Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .and_hms_opt(2, 0, 0)
        .ok_or_else(|| anyhow::anyhow!("date"))?
        .and_utc();
    let mut tender_list = Vec::new();
    for k in 0..tenders {
        let code = format!("LOAD-{}-{k}", std::process::id());
        let t = s
            .expect(
                Method::POST,
                "/tenders",
                Some(&tenderee),
                Some(json!({
                    "code": code, "title": format!("Load test tender {k}"), "description": "",
                    "category": "works", "mandatory": true, "estimated_price": "1000000.00",
                    "ceiling_price": null, "bid_deposit": "20000.00",
                    "bid_deadline": deadline.to_rfc3339(), "opening_time": deadline.to_rfc3339(),
                    "evaluation_method": "lowest_evaluated_price",
                    "qualification_criteria": ["grade II"],
                    "committee": {"threshold": 3, "members": 5}
                })),
                201,
            )
            .await?;
        let id = str_of(&t["id"])?.to_string();
        s.expect(
            Method::PUT,
            &format!("/tenders/{id}/committee"),
            Some(&tenderee),
            Some(json!({"threshold": 3, "seats": seats, "platform_seat": true})),
            200,
        )
        .await?;
        s.expect(
            Method::POST,
            &format!("/tenders/{id}/submit"),
            Some(&tenderee),
            Some(json!({})),
            200,
        )
        .await?;
        for (token, seat, mid) in &members {
            s.expect(
                Method::PUT,
                &format!("/tenders/{id}/committee/seats/{seat}/key"),
                Some(token),
                Some(json!({"recipient": mid.recipient().to_string()})),
                200,
            )
            .await?;
        }
        s.expect(
            Method::POST,
            &format!("/tenders/{id}/approve"),
            Some(&officer),
            Some(json!({})),
            200,
        )
        .await?;
        let c = s
            .expect(
                Method::GET,
                &format!("/tenders/{id}/committee"),
                None,
                None,
                200,
            )
            .await?;
        let policy: Signed<SealingPolicy> = serde_json::from_value(c["policy"].clone())?;
        tender_list.push(Tender {
            id,
            deadline,
            policy,
        });
    }

    // Bidders: an organisation, an account and a deposit reference per tender each.
    let tender_ids: Arc<Vec<String>> = Arc::new(tender_list.iter().map(|t| t.id.clone()).collect());
    let admin_token = Arc::new(admin.clone());
    let sem = Arc::new(Semaphore::new(SEED_CONCURRENCY));
    let server = Arc::new(ServerRef {
        http: s.http.clone(),
        base: s.base.clone(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.bidders {
        let (sem, server, admin, tender_ids) = (
            sem.clone(),
            server.clone(),
            admin_token.clone(),
            tender_ids.clone(),
        );
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await?;
            let b = server.bidder(i, &admin, &tender_ids).await;
            b.map(|b| (i, b))
        });
    }
    let mut bidders: Vec<(usize, Bidder)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        bidders.push(r??);
    }
    bidders.sort_by_key(|(i, _)| *i);
    println!(
        "seeded {} tender(s) and {} bidders in {:.1} s",
        tenders,
        bidders.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        admin,
        log_key,
        tenders: tender_list,
        bidders: bidders.into_iter().map(|(_, b)| b).collect(),
        members,
    })
}

/// What the seeding tasks need of the server.
struct ServerRef {
    http: Client,
    base: String,
}

impl ServerRef {
    async fn post(&self, path: &str, token: &str, body: Value, want: u16) -> Res<Value> {
        let r = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.as_u16() == want, "POST {path}: {status}: {v}");
        Ok(v)
    }

    async fn bidder(&self, i: usize, admin: &str, tenders: &[String]) -> Res<Bidder> {
        let code = sealbid_domain::credit_code::complete_credit_code(&format!("91370200LB{i:07}"))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string();
        let org = self
            .post(
                "/orgs",
                admin,
                json!({"credit_code": code, "name": format!("Load Bidder {i} Co"), "kind": "bidder", "hall": HALL}),
                201,
            )
            .await?;
        let org = str_of(&org["id"])?.to_string();
        let username = format!("loadbidder{i}");
        self.post(
            "/users",
            admin,
            json!({"username": username, "display_name": username, "password": PASSWORD,
                "roles": ["bidder"], "org_id": org, "hall": HALL}),
            201,
        )
        .await?;
        let login = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await?
            .json::<Value>()
            .await?;
        let token = str_of(&login["token"])?.to_string();
        let mut references = Vec::new();
        for t in tenders {
            let r = self
                .post(
                    &format!("/tenders/{t}/deposit-reference"),
                    &token,
                    json!({}),
                    200,
                )
                .await?;
            references.push(str_of(&r["reference"])?.to_string());
        }
        Ok(Bidder {
            token,
            org,
            key: SigningKey::generate(&mut rand::rngs::OsRng),
            references,
        })
    }
}

// ----- sealing on the bidders' side -------------------------------------------------------------

/// A priced bill of quantities of about `bytes` bytes of JSON: a price envelope of that size.
fn price_document(bytes: usize) -> Res<Vec<u8>> {
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    let mut size = 64;
    let mut n = 0u32;
    while size < bytes {
        n += 1;
        let quantity = Decimal::from(n % 997 + 1);
        let unit_price = Decimal::new(i64::from(n % 10_000) * 7 + 105, 2);
        let amount = quantity * unit_price;
        total += amount;
        let line = BoqLine {
            code: format!("040{n:06}"),
            description: format!(
                "Item {n}: excavation, haulage and backfill, grade {}",
                n % 7
            ),
            unit: "m3".into(),
            quantity,
            unit_price,
            amount,
        };
        size += serde_json::to_vec(&line)?.len() + 1;
        lines.push(line);
    }
    let doc = PricePayload {
        currency: "CNY".into(),
        personnel: Default::default(),
        total: if lines.is_empty() {
            Decimal::ONE
        } else {
            total
        },
        lines,
    };
    doc.validate()?;
    Ok(doc.to_json_bytes()?)
}

/// One sealed bid: its price envelope (hash, bytes) and the signed manifest.
struct SealedBid {
    sha256: String,
    envelope: Vec<u8>,
    manifest: Vec<u8>,
}

fn seal_bid(t: &Tender, b: &Bidder, reference: &str, plain: &[u8]) -> Res<SealedBid> {
    let committee = t.policy.body.committee();
    let ctx = ShareContext {
        tender: t.id.clone(),
        bidder: b.org.clone(),
        kind: EnvelopeKind::Price,
    };
    let mut envelope = Vec::with_capacity(plain.len() + 4096);
    let d = seal_envelope(
        &committee,
        &ctx,
        None,
        &mut rand::rngs::OsRng,
        plain,
        &mut envelope,
    )?;
    let manifest = Manifest {
        version: 1,
        tender: t.id.clone(),
        bidder: b.org.clone(),
        policy_hash: t.policy.body.hash_hex()?,
        deposit_reference: reference.to_string(),
        envelopes: vec![EnvelopeEntry {
            kind: EnvelopeKind::Price,
            sha256: d.sha256_hex(),
            size: d.size,
        }],
        sealed_at: Utc::now(),
    };
    Ok(SealedBid {
        sha256: d.sha256_hex(),
        envelope,
        manifest: Signed::sign(manifest, &b.key)?.to_json_bytes()?,
    })
}

/// Seals every bidder's bid for tender `k` (on the blocking pool: both cores).
async fn seal_all(seeded: &Arc<Seeded>, k: usize, plain: &Arc<Vec<u8>>) -> Res<Vec<SealedBid>> {
    let n = seeded.bidders.len();
    let mut handles = Vec::new();
    for part in 0..2 {
        let (seeded, plain) = (seeded.clone(), plain.clone());
        handles.push(tokio::task::spawn_blocking(move || {
            (part..n)
                .step_by(2)
                .map(|i| {
                    let b = &seeded.bidders[i];
                    seal_bid(&seeded.tenders[k], b, &b.references[k], &plain)
                })
                .collect::<Res<Vec<_>>>()
        }));
    }
    let mut halves = Vec::new();
    for h in handles {
        halves.push(h.await??.into_iter());
    }
    let mut out = Vec::with_capacity(n);
    let (mut even, mut odd) = (halves.remove(0), halves.remove(0));
    for i in 0..n {
        let next = if i % 2 == 0 { even.next() } else { odd.next() };
        out.push(next.ok_or_else(|| anyhow::anyhow!("sealing lost a bid"))?);
    }
    Ok(out)
}

// ----- firing -----------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Upload,
    Manifest,
    Both,
}

/// The outcome of one bidder's request(s).
struct Shot {
    latency: Duration,
    ok: bool,
    receipt: Option<Value>,
    error: Option<String>,
}

async fn shoot(
    http: &Client,
    base: &str,
    tender: &str,
    token: &str,
    bid: &SealedBid,
    step: Step,
) -> Shot {
    let start = Instant::now();
    let mut error = None;
    let mut receipt = None;
    if matches!(step, Step::Upload | Step::Both) {
        let r = http
            .put(format!(
                "{base}/api/v1/tenders/{tender}/envelopes/{}",
                bid.sha256
            ))
            .bearer_auth(token)
            .body(bid.envelope.clone())
            .send()
            .await;
        match r {
            Ok(r) if r.status() == StatusCode::CREATED => {}
            Ok(r) => {
                error = Some(format!(
                    "PUT {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => error = Some(format!("PUT: {e}")),
        }
    }
    if error.is_none() && matches!(step, Step::Manifest | Step::Both) {
        let r = http
            .post(format!("{base}/api/v1/tenders/{tender}/bids"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(bid.manifest.clone())
            .send()
            .await;
        match r {
            Ok(r) if r.status() == StatusCode::CREATED => match r.json::<Value>().await {
                Ok(v) => receipt = Some(v["receipt"].clone()),
                Err(e) => error = Some(format!("POST body: {e}")),
            },
            Ok(r) => {
                error = Some(format!(
                    "POST {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => error = Some(format!("POST: {e}")),
        }
    }
    Shot {
        latency: start.elapsed(),
        ok: error.is_none(),
        receipt,
        error,
    }
}

struct RunResult {
    label: String,
    wall: Duration,
    shots: Vec<Shot>,
}

/// Fires every bid at once (`concurrency` = all) or at most `concurrency` at a time.
async fn fire(
    s: &Server,
    seeded: &Arc<Seeded>,
    k: usize,
    bids: &Arc<Vec<SealedBid>>,
    step: Step,
    concurrency: usize,
    label: &str,
) -> Res<RunResult> {
    let n = bids.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let sem = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (http, base, seeded, bids, barrier, sem) = (
            s.http.clone(),
            s.base.clone(),
            seeded.clone(),
            bids.clone(),
            barrier.clone(),
            sem.clone(),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            let _permit = sem.acquire_owned().await;
            let t = &seeded.tenders[k].id;
            let b = &seeded.bidders[i];
            (i, shoot(&http, &base, t, &b.token, &bids[i], step).await)
        });
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut shots: Vec<Option<Shot>> = (0..n).map(|_| None).collect();
    while let Some(r) = tasks.join_next().await {
        let (i, shot) = r?;
        shots[i] = Some(shot);
    }
    let wall = start.elapsed();
    Ok(RunResult {
        label: label.to_string(),
        wall,
        shots: shots.into_iter().flatten().collect(),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(r: &RunResult, what: &str) {
    let mut lat: Vec<Duration> = r.shots.iter().filter(|s| s.ok).map(|s| s.latency).collect();
    lat.sort();
    let ok = lat.len();
    let failed = r.shots.len() - ok;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {} | {} | {ok}/{} | {failed} | {:.2} s | {:.1} {what}/s | {:.0} ms | {:.0} ms | {:.0} ms |",
        r.label,
        r.shots.len(),
        r.shots.len(),
        r.wall.as_secs_f64(),
        ok as f64 / r.wall.as_secs_f64(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or_default()),
    );
    for s in r.shots.iter().filter(|s| !s.ok).take(5) {
        println!("    failure: {}", s.error.as_deref().unwrap_or("?"));
    }
}

/// Every receipt verifies, names a distinct log index and holds the manifest that was sent.
fn check_receipts(seeded: &Seeded, r: &RunResult, bids: &[SealedBid]) -> Res<usize> {
    let mut indexes = HashSet::new();
    let mut good = 0;
    for (shot, bid) in r.shots.iter().zip(bids) {
        let Some(v) = &shot.receipt else { continue };
        let receipt: Receipt = serde_json::from_value(v.clone())?;
        let verified = receipt
            .verify(&seeded.log_key)
            .map_err(|e| anyhow::anyhow!("a receipt does not verify: {e}"))?;
        match verified.body {
            LogEntryBody::Bid { manifest } => anyhow::ensure!(
                manifest.to_json_bytes()? == bid.manifest,
                "a receipt holds another manifest"
            ),
            other => anyhow::bail!("a receipt holds a {} entry", other.kind()),
        }
        anyhow::ensure!(
            indexes.insert(receipt.index),
            "two receipts name log index {}",
            receipt.index
        );
        good += 1;
    }
    Ok(good)
}

async fn bid_count(s: &Server, tender: &str) -> Res<u64> {
    let v = s
        .expect(
            Method::GET,
            &format!("/tenders/{tender}/bids/count"),
            None,
            None,
            200,
        )
        .await?;
    v["sealed"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no count: {v}"))
}

const TABLE_HEAD: &str = "| run | bidders | 201 | failed | wall | throughput | p50 | p99 | max |\n|---|---|---|---|---|---|---|---|---|";

// ----- scenarios --------------------------------------------------------------------------------

async fn submit_scenario(a: &Args) -> Res<()> {
    let backend = if a.postgres { "postgres" } else { "sqlite" };
    let s = Server::start(a, "sealbid_bench_submit").await?;
    let seeded = Arc::new(seed(&s, a, 2, 0).await?);
    let plain = Arc::new(price_document(a.kib * 1024)?);
    let t0 = Instant::now();
    let bids_a = Arc::new(seal_all(&seeded, 0, &plain).await?);
    let bids_b = Arc::new(seal_all(&seeded, 1, &plain).await?);
    println!(
        "pre-sealed {} bids of {} bytes (envelope {} bytes) in {:.1} s",
        2 * a.bidders,
        plain.len(),
        bids_a[0].envelope.len(),
        t0.elapsed().as_secs_f64()
    );
    let deadline = seeded.tenders[0].deadline;
    let n = a.bidders;
    if a.faketime {
        s.set_clock(deadline - chrono::Duration::minutes(10))
            .await?;
    }
    println!("server clock {} · deadline {deadline}", s.now().await?);
    let upload = fire(
        &s,
        &seeded,
        0,
        &bids_a,
        Step::Upload,
        n,
        "PUT envelope only",
    )
    .await?;
    let manifest = fire(
        &s,
        &seeded,
        0,
        &bids_a,
        Step::Manifest,
        n,
        "POST manifest only (receipt)",
    )
    .await?;
    if a.faketime {
        s.set_clock(deadline - chrono::Duration::seconds(60))
            .await?;
    }
    let clock_before = s.now().await?;
    let full = fire(
        &s,
        &seeded,
        1,
        &bids_b,
        Step::Both,
        n,
        "full submission (PUT + POST)",
    )
    .await?;
    let clock_after = s.now().await?;
    println!(
        "\nbackend {backend}, {n} concurrent bidders, {} KiB bids; server clock {} → {} (deadline {}){}",
        a.kib,
        clock_before.format("%H:%M:%S"),
        clock_after.format("%H:%M:%S"),
        deadline.format("%H:%M:%S"),
        if a.faketime { "" } else { " — real clock, no faketime" }
    );
    println!("{TABLE_HEAD}");
    report(&upload, "uploads");
    report(&manifest, "receipts");
    report(&full, "receipts");
    let good_a = check_receipts(&seeded, &manifest, &bids_a)?;
    let good_b = check_receipts(&seeded, &full, &bids_b)?;
    let count_a = bid_count(&s, &seeded.tenders[0].id).await?;
    let count_b = bid_count(&s, &seeded.tenders[1].id).await?;
    println!(
        "\nreceipts verified: {good_a}/{n} (manifest run), {good_b}/{n} (full run); server bid counts {count_a} and {count_b}"
    );
    let lost = (n - good_a) + (n - good_b);
    anyhow::ensure!(
        lost == 0 && count_a == n as u64 && count_b == n as u64,
        "LOST OR UNRECEIPTED BIDS: {lost} without a verified receipt; counts {count_a}, {count_b}"
    );
    println!("0 lost or unreceipted bids");
    Ok(())
}

async fn open_scenario(a: &Args) -> Res<()> {
    let s = Server::start(a, "sealbid_bench_open").await?;
    let seeded = Arc::new(seed(&s, a, 2, 2).await?);
    let plain = Arc::new(price_document(a.kib * 1024)?);
    let n = a.bidders;
    for k in 0..2 {
        let bids = Arc::new(seal_all(&seeded, k, &plain).await?);
        let r = fire(
            &s,
            &seeded,
            k,
            &bids,
            Step::Both,
            8,
            &format!("submit tender {k}"),
        )
        .await?;
        println!("{TABLE_HEAD}");
        report(&r, "receipts");
        let good = check_receipts(&seeded, &r, &bids)?;
        anyhow::ensure!(good == n, "only {good} of {n} bids have a verified receipt");
    }
    let deadline = seeded.tenders[0].deadline;
    s.set_clock(deadline + chrono::Duration::seconds(5)).await?;
    for t in &seeded.tenders {
        let mut state = String::new();
        for _ in 0..120 {
            let v = s
                .expect(
                    Method::GET,
                    &format!("/tenders/{}", t.id),
                    Some(&seeded.admin),
                    None,
                    200,
                )
                .await?;
            state = v["state"].as_str().unwrap_or_default().to_string();
            if state == "closed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        anyhow::ensure!(state == "closed", "tender {} is {state}, not closed", t.id);
    }
    let pid = s.pid();
    println!(
        "\n| tender | server cores | envelopes | member 1 reveal (checks only) | member 2 reveal (opens {n} bids) | bids opened |\n|---|---|---|---|---|---|"
    );
    for (k, cores) in [(0usize, "0"), (1, "0,1")] {
        let st = std::process::Command::new("taskset")
            .args(["-a", "-cp", cores, &pid.to_string()])
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(st.success(), "taskset failed");
        let t = &seeded.tenders[k];
        let mut reveals = Vec::new();
        for (token, seat, id) in &seeded.members {
            let envs = s
                .expect(
                    Method::GET,
                    &format!("/tenders/{}/opening/envelopes", t.id),
                    Some(token),
                    None,
                    200,
                )
                .await?;
            let envs = envs
                .as_array()
                .ok_or_else(|| anyhow::anyhow!("envelopes: {envs}"))?;
            let mut keys = Vec::new();
            for e in envs {
                use base64::Engine;
                let header =
                    base64::engine::general_purpose::STANDARD.decode(str_of(&e["header"])?)?;
                let h = read_header(header.as_slice())?;
                let ctx = ShareContext {
                    tender: str_of(&e["tender"])?.to_string(),
                    bidder: str_of(&e["bidder"])?.to_string(),
                    kind: str_of(&e["kind"])?.parse()?,
                };
                keys.push(RevealedKey {
                    envelope_sha256: str_of(&e["sha256"])?.to_string(),
                    key: member_share_key_at(id, &h, &ctx, *seat)?,
                });
            }
            let mut nonce = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
            let r = Reveal {
                tender: t.id.clone(),
                seat: *seat,
                keys,
                nonce: hex::encode(nonce),
            };
            s.expect(
                Method::POST,
                &format!("/tenders/{}/opening/commit", t.id),
                Some(token),
                Some(json!({"commitment": r.commitment()?})),
                204,
            )
            .await?;
            reveals.push((token.clone(), r));
        }
        let mut times = Vec::new();
        let mut last = Value::Null;
        let mut envelopes = 0;
        for (token, r) in &reveals {
            let body = serde_json::to_vec(r)?;
            envelopes = r.keys.len();
            let start = Instant::now();
            let resp = s
                .http
                .post(s.api(&format!("/tenders/{}/opening/reveal", t.id)))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            times.push(start.elapsed());
            anyhow::ensure!(
                status == StatusCode::OK,
                "reveal of {} bytes: {status}: {v}",
                body.len()
            );
            last = v;
        }
        anyhow::ensure!(
            last["opened"] == true,
            "the last reveal did not open: {last}"
        );
        let record: SignedOpeningRecord = serde_json::from_value(last["record"].clone())?;
        // Without deposits every bid ends `deposit_insufficient` — a code given only after its
        // price envelope decrypted, matched its manifest and parsed.
        let opened = record
            .body
            .bids
            .iter()
            .filter(|b| match &b.outcome {
                BidOutcome::Valid => true,
                BidOutcome::Invalid { code, .. } => code == "deposit_insufficient",
            })
            .count();
        println!(
            "| {k} | {cores} | {envelopes} | {:.2} s | {:.2} s | {opened}/{n} |",
            times[0].as_secs_f64(),
            times[1].as_secs_f64()
        );
        anyhow::ensure!(opened == n, "only {opened} of {n} bids opened");
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let run = async {
        let Some(a) = parse_args()? else {
            return Ok(());
        };
        println!(
            "scenario {:?}, backend {}, {} bidders, {} KiB, server {}",
            a.scenario,
            if a.postgres { "postgres" } else { "sqlite" },
            a.bidders,
            a.kib,
            a.bin.display()
        );
        match a.scenario {
            Scenario::Submit => submit_scenario(&a).await,
            Scenario::Open => open_scenario(&a).await,
        }
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
