//! The `sealbid` binary itself: serve --demo on a fresh directory, audit verify (intact and
//! tampered), admin create-user, dev-cert, and configuration errors.
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn sealbid() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sealbid"))
}

/// A `serve --demo` child process that is killed when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo(dir: &std::path::Path) -> Server {
    let mut child = sealbid()
        .current_dir(dir)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("SEALBID_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start sealbid serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    let base = loop {
        let line = lines
            .next()
            .expect("server exited before it was serving")
            .expect("read stdout");
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Sealbid is serving on ") {
            break rest
                .split_whitespace()
                .next()
                .expect("url")
                .trim_end_matches('/')
                .to_string();
        }
    };
    assert!(
        printed.contains("password for all"),
        "demo logins are printed: {printed}"
    );
    assert!(printed.contains("tenderee"), "{printed}");
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

/// The demo server's API, read as JSON.
struct Api<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
}

impl Api<'_> {
    async fn get(&self, path: &str, token: Option<&str>) -> serde_json::Value {
        let mut req = self.client.get(format!("{}/api/v1{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.unwrap()
    }

    /// Signs in as a demo account; its token.
    async fn login(&self, username: &str) -> String {
        let resp = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": "sealbid-demo"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login {username}");
        let body: serde_json::Value = resp.json().await.unwrap();
        body["token"].as_str().expect("token").to_string()
    }
}

#[tokio::test]
async fn serve_demo_runs_on_a_fresh_directory_and_audit_verify_checks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = start_demo(dir.path());
        let client = reqwest::Client::new();
        let health = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let api = Api {
            client: &client,
            base: &server.base,
        };
        // The demo tender is a public notice: the anonymous list shows it.
        let list = api.get("/tenders", None).await;
        let items = list["items"].as_array().expect("items");
        // The published tender and the past one, opened some days ago and since evaluated,
        // awarded, contracted and completed.
        assert_eq!(items.len(), 2, "{list}");
        assert!(items.iter().any(|t| t["state"] == "published"), "{list}");
        let opened = items
            .iter()
            .find(|t| t["state"] == "completed")
            .unwrap_or_else(|| panic!("no completed demo tender: {list}"));
        let id = opened["id"].as_str().expect("id");
        let award = api.get(&format!("/tenders/{id}/award"), None).await;
        assert!(
            award["notice"]["winner"]["bidder_name"].is_string(),
            "{award}"
        );
        assert!(award["contract"]["signed_at"].is_string(), "{award}");
        // Its opening record is public: the four bids, all valid.
        let record = api
            .get(&format!("/tenders/{id}/opening/record"), None)
            .await;
        let bids = record["body"]["bids"].as_array().expect("opened bids");
        assert_eq!(bids.len(), 4, "{record}");
        assert!(
            bids.iter().all(|b| b["outcome"]["status"] == "valid"),
            "{record}"
        );
        // The opening screened it: the supervisor sees the anomaly engine's alerts.
        let token = api.login("supervisor").await;
        let alerts = api.get("/alerts", Some(&token)).await;
        let indicators: Vec<&str> = alerts["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .filter(|a| a["tender"] == opened["id"])
            .filter_map(|a| a["indicator"].as_str())
            .collect();
        for want in [
            "identical_prices",
            "shared_deposit_account",
            "identical_unit_prices",
        ] {
            assert!(indicators.contains(&want), "no {want} alert: {alerts}");
        }
        // The demo logins work; the officer's review queue holds the second demo tender.
        api.login("tenderee").await;
        let token = api.login("officer").await;
        let queue = api.get("/reviews", Some(&token)).await;
        let queue = queue["items"].as_array().expect("review items");
        assert_eq!(queue.len(), 1, "{queue:?}");
        assert_eq!(queue[0]["tender"]["state"], "under_review", "{queue:?}");
    }
    assert!(dir.path().join("data/sealbid.db").exists());

    // A second start finds the seeded accounts and does not seed twice.
    {
        let server = start_demo(dir.path());
        let list: serde_json::Value = reqwest::get(format!("{}/api/v1/tenders", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
    }

    let out = sealbid()
        .current_dir(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("audit chain intact"), "{text}");

    // Alter one record behind the platform's back: verify names it and fails.
    let url = format!("sqlite://{}", dir.path().join("data/sealbid.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // The append-only trigger stops an honest mistake, not an insider with the database file:
    // drop it as such an insider would, and let the hash chain catch the edit.
    let refused = sqlx::query("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "audit rows are append-only");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET event_json = replace(event_json, 'Haixin', 'Haixim') WHERE seq = (SELECT min(seq) FROM audit_log WHERE event_json LIKE '%Haixin%')")
        .execute(&pool)
        .await
        .unwrap();
    let seq: i64 =
        sqlx::query_scalar("SELECT min(seq) FROM audit_log WHERE event_json LIKE '%Haixim%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    let out = sealbid()
        .current_dir(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains(&format!("BROKEN at record {seq}")), "{text}");
}

#[test]
fn admin_create_user_reads_the_password_from_stdin_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], password: &str| {
        let mut child = sealbid()
            .current_dir(dir.path())
            .args(["admin", "create-user"])
            .args(args)
            .arg("--password-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = run(
        &[
            "--username",
            "Officer.Li",
            "--role",
            "centre_officer",
            "--hall",
            "370200",
        ],
        "a long enough password\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created user officer.li"));

    let dup = run(
        &[
            "--username",
            "officer.li",
            "--role",
            "supervisor",
            "--hall",
            "370200",
        ],
        "another long password",
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("taken"));

    let bad_role = run(
        &[
            "--username",
            "x.y.z",
            "--role",
            "emperor",
            "--hall",
            "370200",
        ],
        "a long enough password",
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));

    let no_org = run(
        &[
            "--username",
            "bidder9",
            "--role",
            "bidder",
            "--hall",
            "370200",
        ],
        "a long enough password",
    );
    assert!(!no_org.status.success());
    assert!(String::from_utf8_lossy(&no_org.stderr).contains("--org"));

    let weak = run(
        &[
            "--username",
            "weakling",
            "--role",
            "supervisor",
            "--hall",
            "370200",
        ],
        "short",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("10 to 256"));

    let out = sealbid()
        .current_dir(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    // Only the one successful account was recorded.
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 1 records"));
}

#[test]
fn dev_cert_writes_a_certificate_and_a_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = sealbid()
        .current_dir(dir.path())
        .arg("dev-cert")
        .output()
        .unwrap();
    assert!(out.status.success());
    let cert = std::fs::read_to_string(dir.path().join("keys/dev-cert.pem")).unwrap();
    let key = std::fs::read_to_string(dir.path().join("keys/dev-key.pem")).unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(key.contains("PRIVATE KEY"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("keys/dev-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is private to its owner");
    }
}

#[tokio::test]
async fn serve_speaks_https_with_the_dev_certificate() {
    let dir = tempfile::tempdir().unwrap();
    assert!(sealbid()
        .current_dir(dir.path())
        .arg("dev-cert")
        .output()
        .unwrap()
        .status
        .success());
    let mut child = sealbid()
        .current_dir(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "keys/dev-cert.pem",
            "--tls-key",
            "keys/dev-key.pem",
        ])
        .env("SEALBID_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let mut server = Server {
        child,
        base: String::new(),
    };
    let base = line
        .strip_prefix("Sealbid is serving on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    assert!(base.starts_with("https://"), "{base}");
    server.base = base;
    let pem = std::fs::read(dir.path().join("keys/dev-cert.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = server.base.replace("127.0.0.1", "localhost");
    let resp = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(server.base.replace("https://", "http://") + "/healthz")
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[test]
fn a_bad_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sealbid.toml"), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out = sealbid()
        .current_dir(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configuration error"), "{err}");
    assert!(err.contains("lisen"), "{err}");

    let other = tempfile::tempdir().unwrap();
    let out = sealbid()
        .current_dir(other.path())
        .args(["--database-url", "mysql://x", "audit", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
}

#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let out = sealbid().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/api/openapi.json"
    ))
    .unwrap();
    assert!(
        generated.trim_end() == committed.trim_end(),
        "docs/api/openapi.json is stale: regenerate it with `cargo run -- openapi > docs/api/openapi.json`"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}
