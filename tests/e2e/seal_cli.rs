//! The sealing commands of the `sealbid` binary end to end, against the real server on SQLite and
//! PostgreSQL (the commands speak HTTP only, so both backends run): committee members generate
//! their age keys with `keygen` and register them; three bidders generate signing keys, `seal`
//! their bids (price and a technical folder) and `submit` them, keeping receipts that
//! `verify-receipt` accepts and rejects with any changed byte; one bidder withdraws and seals
//! again; `dev-bank pay` reports the deposits; after the deadline two of three members open the
//! bids with `committee open` and `committee reveal`; and `verify-opening` accepts the record
//! (fetched or saved) and rejects it with any changed byte.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::Duration;
use sealbid_seal::opening::{BidOutcome, SignedOpeningRecord};
use serde_json::{json, Value};

use crate::support::TestApp;

/// Exit code of a verification that ran and found the document invalid.
const INVALID: i32 = 2;

/// Runs `sealbid ARGS` on a blocking thread (the server answers on the test's runtime).
async fn sealbid(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealbid"));
        cmd.args(&args).env_remove("SEALBID_TOKEN");
        // The server is on 127.0.0.1: no proxy.
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd.output().expect("run sealbid")
    })
    .await
    .expect("sealbid thread")
}

/// Runs `sealbid ARGS`, requires exit code `code`, and returns its standard output.
async fn cli(args: &[&str], code: i32) -> String {
    let out = sealbid(args).await;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(code),
        "sealbid {args:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `bytes` with the first ASCII letter or digit at or after `pos` changed to another.
fn changed_at(bytes: &[u8], pos: usize) -> (Vec<u8>, usize) {
    let mut out = bytes.to_vec();
    let i = (pos..out.len())
        .find(|&i| out[i].is_ascii_alphanumeric())
        .expect("an alphanumeric byte to change");
    out[i] = match out[i] {
        b'0' => b'1',
        b'a' => b'b',
        b'A' => b'B',
        c if c.is_ascii_digit() => b'0',
        c if c.is_ascii_lowercase() => b'a',
        _ => b'A',
    };
    (out, i)
}

struct CliBidder {
    token: String,
    org: String,
    key: PathBuf,
    reference: String,
}

/// Seals a bid with `sealbid seal` into `out` (price and a technical folder), submits it with
/// `sealbid submit`, and checks its receipt with `sealbid verify-receipt`: valid as received,
/// invalid with any changed byte.
#[allow(clippy::too_many_arguments)]
async fn seal_and_submit(
    app: &TestApp,
    work: &Path,
    tender: &str,
    deadline: &str,
    log_key: &str,
    b: &CliBidder,
    price: &str,
    out: &Path,
) {
    let name = out.file_name().and_then(|n| n.to_str()).expect("out name");
    let price_file = work.join(format!("{name}-price.json"));
    std::fs::write(
        &price_file,
        serde_json::to_vec(&json!({"currency": "CNY", "total": price, "lines": []})).unwrap(),
    )
    .unwrap();
    let technical = work.join(format!("{name}-technical"));
    std::fs::create_dir_all(technical.join("drawings")).unwrap();
    std::fs::write(
        technical.join("proposal.txt"),
        format!("Technical proposal of {} for {tender}", b.org),
    )
    .unwrap();
    std::fs::write(technical.join("drawings/site.txt"), b"site plan").unwrap();

    let stdout = cli(
        &[
            "seal",
            "--server",
            &app.base,
            "--log-key",
            log_key,
            "--tender",
            tender,
            "--bidder",
            &b.org,
            "--deposit-reference",
            &b.reference,
            "--signing-key",
            s(&b.key),
            "--price",
            s(&price_file),
            "--technical",
            s(&technical),
            "--out",
            s(out),
        ],
        0,
    )
    .await;
    assert!(stdout.contains("Sealed the bid"), "{stdout}");
    for f in ["manifest.json", "price.age", "technical.age"] {
        assert!(out.join(f).is_file(), "seal wrote no {f}");
    }
    // The sealed files hold no plaintext.
    let sealed = std::fs::read(out.join("price.age")).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(price));

    let stdout = cli(
        &[
            "submit",
            "--server",
            &app.base,
            "--token",
            &b.token,
            "--tender",
            tender,
            "--log-key",
            log_key,
            s(out),
        ],
        0,
    )
    .await;
    assert!(stdout.contains("submitted"), "{stdout}");
    let receipt = out.join("receipt.json");
    assert!(receipt.is_file(), "submit kept no receipt.json");
    let manifest = out.join("manifest.json");
    let stdout = cli(
        &[
            "verify-receipt",
            s(&receipt),
            "--log-key",
            log_key,
            "--manifest",
            s(&manifest),
            "--deadline",
            deadline,
        ],
        0,
    )
    .await;
    assert!(stdout.contains("receipt VALID"), "{stdout}");

    // One changed byte anywhere that matters — the entry index, the entry, the proof or the
    // checkpoint — and the receipt is invalid.
    let bytes = std::fs::read(&receipt).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let index_at = text.find("\"index\"").expect("index") + "\"index\"".len();
    let mut positions = vec![index_at];
    for key in ["\"entry\"", "\"checkpoint\""] {
        let start = text.find(key).expect(key) + key.len() + 3;
        positions.push(start + 40);
    }
    positions.push(bytes.len() / 2);
    for pos in positions {
        let (changed, at) = changed_at(&bytes, pos);
        let tampered = work.join(format!("{name}-tampered-receipt.json"));
        std::fs::write(&tampered, &changed).unwrap();
        let stdout = cli(
            &[
                "verify-receipt",
                s(&tampered),
                "--log-key",
                log_key,
                "--manifest",
                s(&manifest),
            ],
            INVALID,
        )
        .await;
        assert!(
            stdout.contains("receipt INVALID"),
            "a change at byte {at}: {stdout}"
        );
    }
}

async fn bids_count(app: &TestApp, tender: &str) -> Value {
    app.get(&format!("/tenders/{tender}/bids/count"), None)
        .await
        .expect(200)
        .body["sealed"]
        .clone()
}

e2e_test! {
    async fn three_bidders_seal_submit_withdraw_and_the_committee_opens_with_the_cli(app: TestApp) {
        let hall = "370200";
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        let log_key = app.state.sealing.log_verifier().to_string();
        let served = app.get("/log/key", None).await.expect(200);
        assert_eq!(served.body["key"], log_key.as_str());

        let owner_org = app.create_org("Harbour Works Bureau", "tenderee", hall).await;
        let owner = app.create_user("cli.owner", &["tenderee"], Some(&owner_org), hall).await;
        let officer = app.create_user("cli.officer", &["centre_officer"], None, hall).await;

        // Three committee members generate their age keys; the tenderee seats their accounts,
        // 2 of 3, and each registers the public key `keygen` printed.
        let mut members = Vec::new();
        for i in 1..=3 {
            let token = app.create_user(&format!("cli.member{i}"), &["committee_member"], None, hall).await;
            let me = app.get("/me", Some(&token)).await.expect(200);
            let id = me.body["user"]["id"].as_str().unwrap().to_string();
            let key_file = w.join(format!("member{i}.key"));
            let public = cli(&["keygen", "--out", s(&key_file)], 0).await.trim().to_string();
            assert!(public.starts_with("age1"), "{public}");
            assert!(std::fs::read_to_string(&key_file).unwrap().contains("AGE-SECRET-KEY-1"));
            // Never overwritten.
            assert_ne!(sealbid(&["keygen", "--out", s(&key_file)]).await.status.code(), Some(0));
            members.push((token, id, key_file, public));
        }
        let tender = app.create_tender(&owner, "CLI-SEAL-001", 25).await;
        let seats: Vec<Value> = members
            .iter()
            .enumerate()
            .map(|(i, (_, id, _, _))| json!({"name": format!("Member {}", i + 1), "role": "member", "user_id": id}))
            .collect();
        app.put(
            &format!("/tenders/{tender}/committee"),
            Some(&owner),
            json!({"threshold": 2, "seats": seats, "platform_seat": false}),
        )
        .await
        .expect(200);
        for (i, (token, _, _, public)) in members.iter().enumerate() {
            app.put(
                &format!("/tenders/{tender}/committee/seats/{}/key", i + 1),
                Some(token),
                json!({"recipient": public}),
            )
            .await
            .expect(200);
        }
        app.post(&format!("/tenders/{tender}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(200);
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "published");
        let deadline = t.body["terms"]["bid_deadline"].as_str().expect("bid_deadline").to_string();

        // Three bidders: signing keys from `keygen --signing`, deposit references from the API.
        let mut bidders = Vec::new();
        for i in 1..=3 {
            let org = app.create_org(&format!("Harbour Builder {i} Co."), "bidder", hall).await;
            let token = app.create_user(&format!("cli.bidder{i}"), &["bidder"], Some(&org), hall).await;
            let key = w.join(format!("bidder{i}.signing"));
            let public = cli(&["keygen", "--signing", "--out", s(&key)], 0).await;
            assert!(!public.trim().is_empty());
            assert!(std::fs::read_to_string(&key).unwrap().contains("SEALBID-SIGNING-KEY-1"));
            let r = app
                .post(&format!("/tenders/{tender}/deposit-reference"), Some(&token), json!({}))
                .await
                .expect(200);
            let reference = r.body["reference"].as_str().unwrap().to_string();
            bidders.push(CliBidder { token, org, key, reference });
        }
        let prices = ["951000.00", "948500.00", "960000.00"];
        for (i, (b, price)) in bidders.iter().zip(prices).enumerate() {
            let out = w.join(format!("bid{}", i + 1));
            seal_and_submit(&app, w, &tender, &deadline, &log_key, b, price, &out).await;
        }
        assert_eq!(bids_count(&app, &tender).await, 3);

        // Bidder 1 withdraws its bid, then seals and submits a new one.
        let first = w.join("bid1");
        let stdout = cli(
            &[
                "withdraw", "--server", &app.base, "--token", &bidders[0].token, "--tender", &tender,
                "--signing-key", s(&bidders[0].key), "--log-key", &log_key, s(&first),
            ],
            0,
        )
        .await;
        assert!(stdout.contains("withdrawn"), "{stdout}");
        let withdrawal = first.join("withdrawal-receipt.json");
        assert!(withdrawal.is_file());
        let stdout = cli(&["verify-receipt", s(&withdrawal), "--log-key", &log_key], 0).await;
        assert!(stdout.contains("withdrawal by"), "{stdout}");
        assert_eq!(bids_count(&app, &tender).await, 2);
        // Withdrawn once is withdrawn.
        assert_ne!(
            sealbid(&[
                "withdraw", "--server", &app.base, "--token", &bidders[0].token, "--tender", &tender,
                "--signing-key", s(&bidders[0].key), s(&first),
            ])
            .await
            .status
            .code(),
            Some(0)
        );
        let again = w.join("bid1-again");
        seal_and_submit(&app, w, &tender, &deadline, &log_key, &bidders[0], "945000.00", &again).await;
        assert_eq!(bids_count(&app, &tender).await, 3);

        // The bank reports the deposits; a repeated transaction is recorded once; a wrong secret
        // is refused.
        let secret = app.state.sealing.bank_secret_hex();
        for (i, b) in bidders.iter().enumerate() {
            let account = format!("6222 0000 0000 {i:04}");
            let txn = format!("CLI-TXN-{i}");
            let pay = [
                "dev-bank", "pay", "--server", &app.base, "--secret", &secret, "--reference", &b.reference,
                "--amount", "20000.00", "--payer", "Harbour payer", "--account", &account,
                "--bank", "Bank of Qingdao", "--transaction-id", &txn,
            ];
            let stdout = cli(&pay, 0).await;
            assert!(stdout.contains("deposit recorded"), "{stdout}");
            if i == 0 {
                let stdout = cli(&pay, 0).await;
                assert!(stdout.contains("already recorded"), "{stdout}");
            }
        }
        let wrong = "00".repeat(32);
        let out = sealbid(&[
            "dev-bank", "pay", "--server", &app.base, "--secret", &wrong, "--reference", &bidders[0].reference,
            "--amount", "20000.00", "--payer", "Forger", "--account", "6222 9999", "--bank", "Bank of Qingdao",
        ])
        .await;
        assert_ne!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stderr).contains("signature"), "{out:?}");

        // The deadline passes; the scheduler closes the tender.
        app.clock.advance(Duration::days(26));
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 1);
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "closed");

        // The opening: member 1 commits (too few commitments to reveal yet), member 2 commits and
        // reveals, member 1 reveals and completes the threshold.
        let state1 = w.join("member1-state");
        let state2 = w.join("member2-state");
        let open = |i: usize, state: &Path| {
            let (token, _, key, _) = &members[i];
            vec![
                "committee".to_string(), "open".into(), "--server".into(), app.base.clone(),
                "--token".into(), token.clone(), "--tender".into(), tender.clone(),
                "--identity".into(), s(key).into(), "--state".into(), s(state).into(),
            ]
        };
        let args = open(0, &state1);
        let stdout = cli(&args.iter().map(String::as_str).collect::<Vec<_>>(), 0).await;
        assert!(stdout.contains("Not revealed yet"), "{stdout}");
        assert!(state1.join(format!("reveal-{tender}.json")).is_file());
        let args = open(1, &state2);
        let stdout = cli(&args.iter().map(String::as_str).collect::<Vec<_>>(), 0).await;
        assert!(stdout.contains("Revealed."), "{stdout}");
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "closed", "one reveal of two opens nothing");
        let stdout = cli(
            &["committee", "reveal", "--server", &app.base, "--token", &members[0].0, "--tender", &tender, "--state", s(&state1)],
            0,
        )
        .await;
        assert!(stdout.contains("the bids are open"), "{stdout}");
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "opened");

        // The record the reveal saved: three valid bids at the prices sealed, bidder 1's second.
        let record_file = state1.join(format!("opening-record-{tender}.json"));
        let record_bytes = std::fs::read(&record_file).expect("the reveal saved the opening record");
        let record = SignedOpeningRecord::from_json_bytes(&record_bytes).unwrap();
        assert_eq!(record.body.bids.len(), 3);
        for (b, price) in bidders.iter().zip(["945000.00", "948500.00", "960000.00"]) {
            let opened = record.body.bids.iter().find(|x| x.bidder == b.org).expect("the bidder's bid");
            assert!(matches!(opened.outcome, BidOutcome::Valid), "{:?}", opened.outcome);
            assert_eq!(opened.price.as_ref().map(|p| p.total.to_string()), Some(price.to_string()));
            assert!(opened.deposit.sufficient, "{:?}", opened.deposit);
        }

        // verify-opening: the record fetched from the server, and the saved file.
        let stdout = cli(
            &["verify-opening", "--server", &app.base, "--tender", &tender, "--log-key", &log_key],
            0,
        )
        .await;
        assert!(stdout.contains("opening record VALID"), "{stdout}");
        let stdout = cli(&["verify-opening", s(&record_file), "--server", &app.base, "--log-key", &log_key], 0).await;
        assert!(stdout.contains("opening record VALID"), "{stdout}");
        // Any changed byte of the record makes it invalid.
        let len = record_bytes.len();
        for pos in [1, 10, len / 5, len / 3, len / 2, len * 2 / 3, len * 4 / 5, len - 40] {
            let (changed, at) = changed_at(&record_bytes, pos);
            let tampered = w.join("tampered-record.json");
            std::fs::write(&tampered, &changed).unwrap();
            let stdout = cli(&["verify-opening", s(&tampered), "--server", &app.base, "--log-key", &log_key], INVALID).await;
            assert!(stdout.contains("opening record INVALID"), "a change at byte {at}: {stdout}");
        }
    }
}
