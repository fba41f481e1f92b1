//! Sealed bids end to end, through the real server on SQLite and PostgreSQL: five bidders seal on
//! their side and submit, one replaces and one withdraws its bid, a late bid is refused with
//! nothing stored, every opening action before the opening time is refused for every role, the
//! database and the blob store hold no plaintext before the opening, 3 of 5 members open, a share
//! replayed from another envelope is rejected, a ciphertext altered in storage makes that bid
//! invalid while the others open, the record verifies offline and fails on any changed byte, and
//! a tender with fewer than 3 bids fails without an opening.
use std::io::Read;

use chrono::Duration;
use reqwest::Method;
use rust_decimal::Decimal;
use sealbid_seal::entry::LogEntryBody;
use sealbid_seal::envelope::seal_envelope;
use sealbid_seal::keys::{MemberIdentity, SigningKey};
use sealbid_seal::manifest::{EnvelopeEntry, Manifest, Withdrawal};
use sealbid_seal::note::NoteVerifier;
use sealbid_seal::opening::{verify_opening, BidOutcome, Reveal, RevealedKey, SignedOpeningRecord};
use sealbid_seal::payload::PricePayload;
use sealbid_seal::policy::SealingPolicy;
use sealbid_seal::receipt::Receipt;
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{member_share_key_at, read_header, EnvelopeKind, ShareContext};
use serde_json::{json, Value};

use crate::support::TestApp;

/// Appears in every plaintext (prices, technical documents, payer names): the scan looks for it.
const MARKER: &str = "PLAINTEXT-MARKER-7f3a";

struct Bidder {
    token: String,
    org: String,
    key: SigningKey,
    reference: String,
}

struct Sealed {
    manifest: Vec<u8>,
    envelopes: Vec<(String, Vec<u8>)>,
}

fn seal_bid(policy: &Signed<SealingPolicy>, tender: &str, b: &Bidder, total: &str) -> Sealed {
    let committee = policy.body.committee();
    let mut rng = rand::rngs::OsRng;
    let price = PricePayload {
        currency: "CNY".into(),
        personnel: Default::default(),
        total: total.parse().unwrap(),
        lines: Vec::new(),
    };
    let mut price_json = price.to_json_bytes().unwrap();
    // The marker rides in the technical envelope and the payers' names; the prices are searched
    // for as they are.
    let technical = format!("{MARKER} technical proposal of {} for {tender}", b.org).into_bytes();
    let mut envelopes = Vec::new();
    let mut entries = Vec::new();
    for (kind, plain) in [
        (EnvelopeKind::Price, std::mem::take(&mut price_json)),
        (EnvelopeKind::Technical, technical),
    ] {
        let ctx = ShareContext {
            tender: tender.to_string(),
            bidder: b.org.clone(),
            kind,
        };
        let mut out = Vec::new();
        let d =
            seal_envelope(&committee, &ctx, None, &mut rng, plain.as_slice(), &mut out).unwrap();
        entries.push(EnvelopeEntry {
            kind,
            sha256: d.sha256_hex(),
            size: d.size,
        });
        envelopes.push((d.sha256_hex(), out));
    }
    let manifest = Manifest {
        version: 1,
        tender: tender.to_string(),
        bidder: b.org.clone(),
        policy_hash: policy.body.hash_hex().unwrap(),
        deposit_reference: b.reference.clone(),
        envelopes: entries,
        sealed_at: chrono::Utc::now(),
    };
    let signed = Signed::sign(manifest, &b.key).unwrap();
    Sealed {
        manifest: signed.to_json_bytes().unwrap(),
        envelopes,
    }
}

async fn upload(
    app: &TestApp,
    token: &str,
    tender: &str,
    sha: &str,
    bytes: &[u8],
) -> crate::support::Resp {
    let req = app
        .client
        .request(
            Method::PUT,
            app.api(&format!("/tenders/{tender}/envelopes/{sha}")),
        )
        .bearer_auth(token)
        .body(bytes.to_vec());
    app.send(req).await
}

async fn post_raw(app: &TestApp, token: &str, path: &str, bytes: &[u8]) -> crate::support::Resp {
    let req = app
        .client
        .request(Method::POST, app.api(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(bytes.to_vec());
    app.send(req).await
}

async fn submit(app: &TestApp, b: &Bidder, tender: &str, s: &Sealed) -> crate::support::Resp {
    for (sha, bytes) in &s.envelopes {
        upload(app, &b.token, tender, sha, bytes).await.expect(201);
    }
    post_raw(
        app,
        &b.token,
        &format!("/tenders/{tender}/bids"),
        &s.manifest,
    )
    .await
}

fn log_key(app: &TestApp) -> NoteVerifier {
    app.state.sealing.log_verifier()
}

/// Every byte the store and the blob store hold, as text where it is text.
async fn stored_text(app: &TestApp) -> String {
    let mut out = String::new();
    fn walk(dir: &std::path::Path, out: &mut String) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                let mut bytes = Vec::new();
                std::fs::File::open(&p)
                    .unwrap()
                    .read_to_end(&mut bytes)
                    .unwrap();
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    walk(&app.data_dir(), &mut out);
    if let Some((url, schema)) = app.pg_schema() {
        use sqlx::Row;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let tables: Vec<String> = sqlx::query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
        )
        .bind(&schema)
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        assert!(tables.len() > 5, "{tables:?}");
        for t in tables {
            let rows = sqlx::query(&format!(
                "SELECT row_to_json(x)::text FROM \"{schema}\".\"{t}\" x"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            for r in rows {
                out.push_str(&r.get::<String, _>(0));
            }
        }
    }
    out
}

e2e_test! {
    async fn five_bidders_seal_submit_and_three_of_five_open(app: TestApp) {
        let hall = "370200";
        let owner_org = app.create_org("Works Bureau", "tenderee", hall).await;
        let owner = app.create_user("sealing.owner", &["tenderee"], Some(&owner_org), hall).await;
        let officer = app.create_user("sealing.officer", &["centre_officer"], None, hall).await;
        let supervisor = app.create_user("sealing.supervisor", &["supervisor"], None, hall).await;

        // The committee: five members with their own keys, 3 of 5, no platform seat.
        let mut members = Vec::new();
        for i in 1..=5 {
            let token = app
                .create_user(&format!("member{i}"), &["committee_member"], None, hall)
                .await;
            let me = app.get("/me", Some(&token)).await.expect(200);
            let id = me.body["user"]["id"].as_str().or(me.body["id"].as_str()).unwrap().to_string();
            members.push((token, id, MemberIdentity::generate(&mut rand::rngs::OsRng)));
        }
        let tender = app.create_tender(&owner, "SEAL-2025-001", 25).await;
        let seats: Vec<Value> = members
            .iter()
            .enumerate()
            .map(|(i, (_, id, _))| json!({"name": format!("Member {}", i + 1), "role": "member", "user_id": id}))
            .collect();
        app.put(
            &format!("/tenders/{tender}/committee"),
            Some(&owner),
            json!({"threshold": 3, "seats": seats, "platform_seat": false}),
        )
        .await
        .expect(200);
        app.post(&format!("/tenders/{tender}/submit"), Some(&owner), json!({})).await.expect(200);
        // Not publishable until every member has registered a key.
        let r = app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(422);
        assert_eq!(r.code(), "committee_incomplete");
        // A member cannot register someone else's seat.
        let r = app
            .put(&format!("/tenders/{tender}/committee/seats/2/key"), Some(&members[0].0),
                json!({"recipient": members[0].2.recipient().to_string()}))
            .await
            .expect(403);
        assert_eq!(r.code(), "forbidden");
        for (i, (token, _, id)) in members.iter().enumerate() {
            app.put(
                &format!("/tenders/{tender}/committee/seats/{}/key", i + 1),
                Some(token),
                json!({"recipient": id.recipient().to_string()}),
            )
            .await
            .expect(200);
        }
        app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(200);
        let committee = app.get(&format!("/tenders/{tender}/committee"), None).await.expect(200);
        let policy: Signed<SealingPolicy> = serde_json::from_value(committee.body["policy"].clone()).unwrap();
        policy.verify().unwrap();
        assert_eq!(policy.body.threshold, 3);
        assert_eq!(policy.body.members.len(), 5);

        // Five bidders, each with a deposit reference and a signing key.
        let mut bidders = Vec::new();
        for i in 1..=5 {
            let org = app.create_org(&format!("Builder {i} Co"), "bidder", hall).await;
            let token = app.create_user(&format!("bidder{i}"), &["bidder"], Some(&org), hall).await;
            let r = app.post(&format!("/tenders/{tender}/deposit-reference"), Some(&token), json!({})).await.expect(200);
            let reference = r.body["reference"].as_str().unwrap().to_string();
            assert!(!reference.contains(&org));
            bidders.push(Bidder { token, org, key: SigningKey::generate(&mut rand::rngs::OsRng), reference });
        }
        let prices = ["951000.00", "948500.00", "960000.00", "955000.00", "970000.00"];
        let mut receipts = Vec::new();
        for (b, p) in bidders.iter().zip(prices) {
            let sealed = seal_bid(&policy, &tender, b, p);
            let r = submit(&app, b, &tender, &sealed).await.expect(201);
            let receipt: Receipt = serde_json::from_value(r.body["receipt"].clone()).unwrap();
            let v = receipt.verify_before(&log_key(&app), app.clock_now() + Duration::days(25)).unwrap();
            match v.body {
                LogEntryBody::Bid { manifest } => {
                    assert_eq!(manifest.to_json_bytes().unwrap(), sealed.manifest);
                }
                other => panic!("a bid receipt holds a bid entry, not {}", other.kind()),
            }
            receipts.push((sealed, receipt));
        }
        // The public sees how many bids are sealed, never who.
        let count = app.get(&format!("/tenders/{tender}/bids/count"), None).await.expect(200);
        assert_eq!(count.body["sealed"], 5);
        let log = app.get("/log/entries?start=0&end=100", None).await.expect(200);
        for e in log.body.as_array().unwrap() {
            if e["kind"] == "bid" {
                assert!(e["entry"].is_null(), "bid entries stay hidden before the opening: {e}");
            }
        }

        // The bank pays the deposits; the payer's details are sealed at once.
        for (i, b) in bidders.iter().enumerate() {
            let body = serde_json::to_vec(&json!({
                "transaction_id": format!("BANK-TXN-{i}"),
                "reference": b.reference,
                "amount": "20000.00",
                "payer_name": format!("{MARKER} payer {i}"),
                "account_number": format!("6222{i:012}"),
                "bank": "Bank of Qingdao",
                "paid_at": app.clock_now().to_rfc3339(),
            }))
            .unwrap();
            let mac = hex::encode(app.state.sealing.bank_mac(&body));
            let send = |mac: String, body: Vec<u8>| {
                app.client
                    .request(Method::POST, app.api("/bank/deposits"))
                    .header("x-sealbid-signature", mac)
                    .header("content-type", "application/json")
                    .body(body)
            };
            let r = app.send(send(mac.clone(), body.clone())).await.expect(200);
            assert_eq!(r.body["new"], true);
            // Idempotent on the bank's transaction id.
            let r = app.send(send(mac, body.clone())).await.expect(200);
            assert_eq!(r.body["new"], false);
            // A forged callback is refused.
            app.send(send("00".repeat(32), body)).await.expect(401);
        }

        // Bidder 2 replaces its bid; bidder 5 withdraws.
        let replacement = seal_bid(&policy, &tender, &bidders[1], "947000.00");
        submit(&app, &bidders[1], &tender, &replacement).await.expect(201);
        let withdrawal = Withdrawal {
            version: 1,
            tender: tender.clone(),
            bidder: bidders[4].org.clone(),
            withdrawn_manifest: hex::encode(
                Signed::<Manifest>::from_json_bytes(&receipts[4].0.manifest).unwrap().digest().unwrap(),
            ),
            at: app.clock_now(),
        };
        let signed = Signed::sign(withdrawal, &bidders[4].key).unwrap();
        post_raw(&app, &bidders[4].token, &format!("/tenders/{tender}/bids/withdraw"), &signed.to_json_bytes().unwrap())
            .await
            .expect(200);
        let count = app.get(&format!("/tenders/{tender}/bids/count"), None).await.expect(200);
        assert_eq!(count.body["sealed"], 4);

        // Before the opening: no plaintext anywhere the platform keeps data.
        let stored = stored_text(&app).await;
        assert!(!stored.is_empty());
        assert!(!stored.contains(MARKER), "a plaintext marker is in the store or the blob store");
        for p in prices.iter().chain(["947000.00"].iter()) {
            assert!(!stored.contains(p), "a price is in the store or the blob store");
        }

        // Every opening action before the opening time is refused, whoever asks.
        let tokens = [
            app.admin.clone(), owner.clone(), officer.clone(), supervisor.clone(),
            bidders[0].token.clone(), members[0].0.clone(),
        ];
        for token in &tokens {
            let r = app.get(&format!("/tenders/{tender}/opening/envelopes"), Some(token)).await.expect(409);
            assert_eq!(r.code(), "opening_not_yet");
            let r = app.post(&format!("/tenders/{tender}/opening/commit"), Some(token), json!({"commitment": "0".repeat(64)})).await.expect(409);
            assert_eq!(r.code(), "opening_not_yet");
            let r = post_raw(&app, token, &format!("/tenders/{tender}/opening/reveal"), b"{}").await.expect(409);
            assert_eq!(r.code(), "opening_not_yet");
            let r = app.post(&format!("/tenders/{tender}/opening/finish"), Some(token), json!({})).await.expect(409);
            assert_eq!(r.code(), "opening_not_yet");
            let r = app.get(&format!("/tenders/{tender}/opening/record"), Some(token)).await.expect(409);
            assert_eq!(r.code(), "opening_not_yet");
        }

        // The deadline passes: a late bid is refused and nothing is stored.
        app.clock.advance(Duration::days(26));
        let before = stored_text(&app).await.len();
        let late = seal_bid(&policy, &tender, &bidders[0], "900000.00");
        let (sha, bytes) = &late.envelopes[0];
        let r = upload(&app, &bidders[0].token, &tender, sha, bytes).await.expect(409);
        assert_eq!(r.code(), "deadline_passed");
        let r = post_raw(&app, &bidders[0].token, &format!("/tenders/{tender}/bids"), &late.manifest).await.expect(409);
        assert_eq!(r.code(), "deadline_passed");
        assert_eq!(stored_text(&app).await.len(), before, "a refused late bid stored something");

        // The scheduler closes the tender and logs the closing entry.
        sealbid_server::scheduler::tick(&app.state).await.unwrap();
        let committee = app.get(&format!("/tenders/{tender}/committee"), None).await.expect(200);
        assert_eq!(committee.body["closing_bids"], 4);
        assert!(committee.body["closing_checkpoint"].as_str().unwrap().contains("sealbid-closing"));

        // Someone alters bidder 3's price ciphertext in storage.
        let bid3 = &receipts[2].0;
        let key = format!("bids/{tender}/{}/{}.age", bidders[2].org, bid3.envelopes[0].0);
        let mut altered = bid3.envelopes[0].1.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0x01;
        app.state.blobs.put(&key, altered.into()).await.unwrap();

        // The opening: members 1–4 commit; member 4 tries a key replayed from another envelope
        // and is refused; members 1–3 reveal and the third reveal opens the bids.
        let envs = app.get(&format!("/tenders/{tender}/opening/envelopes"), Some(&members[0].0)).await.expect(200);
        let envs = envs.body.as_array().unwrap().clone();
        assert_eq!(envs.len(), 4 * 2 + 5, "4 bids × 2 envelopes and 5 deposits: {envs:?}");
        let reveal_of = |seat: u8, id: &MemberIdentity| {
            let mut keys = Vec::new();
            for e in &envs {
                use base64::Engine;
                let header = base64::engine::general_purpose::STANDARD.decode(e["header"].as_str().unwrap()).unwrap();
                let h = read_header(header.as_slice()).unwrap();
                let ctx = ShareContext {
                    tender: e["tender"].as_str().unwrap().to_string(),
                    bidder: e["bidder"].as_str().unwrap().to_string(),
                    kind: e["kind"].as_str().unwrap().parse().unwrap(),
                };
                let key = member_share_key_at(id, &h, &ctx, seat).unwrap();
                keys.push(RevealedKey { envelope_sha256: e["sha256"].as_str().unwrap().to_string(), key });
            }
            Reveal { tender: tender.clone(), seat, keys, nonce: hex::encode(rand::random::<[u8; 32]>()) }
        };
        let mut reveals = Vec::new();
        for (i, (token, _, id)) in members.iter().enumerate().take(4) {
            let seat = u8::try_from(i + 1).unwrap();
            let mut r = reveal_of(seat, id);
            if seat == 4 {
                // Replay: the key of the first envelope presented as the second's.
                let first = r.keys[0].key.clone();
                r.keys[1].key = first;
            }
            app.post(&format!("/tenders/{tender}/opening/commit"), Some(token), json!({"commitment": r.commitment().unwrap()}))
                .await
                .expect(204);
            reveals.push(r);
        }
        let r = post_raw(&app, &members[3].0, &format!("/tenders/{tender}/opening/reveal"), &serde_json::to_vec(&reveals[3]).unwrap())
            .await
            .expect(422);
        assert_eq!(r.code(), "share_mismatch");
        // A reveal that does not match the commitment is refused too.
        let mut other = reveals[0].clone();
        other.nonce = "00".repeat(32);
        let r = post_raw(&app, &members[0].0, &format!("/tenders/{tender}/opening/reveal"), &serde_json::to_vec(&other).unwrap())
            .await
            .expect(422);
        assert_eq!(r.code(), "commitment_mismatch");
        let mut outcome = Value::Null;
        for i in 0..3 {
            let r = post_raw(&app, &members[i].0, &format!("/tenders/{tender}/opening/reveal"), &serde_json::to_vec(&reveals[i]).unwrap())
                .await
                .expect(200);
            assert_eq!(r.body["opened"], i == 2);
            outcome = r.body;
        }
        let record: SignedOpeningRecord = serde_json::from_value(outcome["record"].clone()).unwrap();
        let rec = &record.body;
        assert_eq!(rec.bids.len(), 4);
        let by_org = |org: &str| rec.bids.iter().find(|b| b.bidder == org).unwrap();
        let price = |org: &str| by_org(org).price.as_ref().map(|p| p.total);
        assert_eq!(price(&bidders[0].org), Some("951000.00".parse::<Decimal>().unwrap()));
        assert_eq!(price(&bidders[1].org), Some("947000.00".parse::<Decimal>().unwrap()));
        assert_eq!(price(&bidders[3].org), Some("955000.00".parse::<Decimal>().unwrap()));
        match &by_org(&bidders[2].org).outcome {
            BidOutcome::Invalid { code, .. } => assert!(code == "ciphertext_altered" || code == "decrypt_failed", "{code}"),
            BidOutcome::Valid => panic!("the altered bid must be invalid"),
        }
        assert!(rec.bids.iter().all(|b| b.bidder != bidders[4].org), "the withdrawn bid is not opened");
        for org in [&bidders[0].org, &bidders[1].org, &bidders[3].org] {
            let d = &by_org(org).deposit;
            assert!(d.sufficient);
            assert_eq!(d.payers.len(), 1);
            assert!(d.payers[0].payer_name.contains(MARKER));
        }
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "opened");

        // The published record verifies offline against the ciphertexts served after the opening.
        let text = app.get(&format!("/tenders/{tender}/opening/record"), None).await.expect(200).text;
        let fetch_from = |app: &TestApp, tender: &str| {
            let base = app.api(&format!("/tenders/{tender}/envelopes"));
            move |sha: &str| -> Result<Option<Box<dyn Read>>, sealbid_seal::error::SealError> {
                let url = format!("{base}/{sha}");
                let bytes = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async { reqwest::get(url).await.unwrap().bytes().await.unwrap().to_vec() })
                })
                .join()
                .unwrap();
                Ok(Some(Box::new(std::io::Cursor::new(bytes))))
            }
        };
        let mut fetch = fetch_from(&app, &tender);
        let report = verify_opening(text.as_bytes(), &log_key(&app), &mut fetch).unwrap();
        assert_eq!((report.bids, report.valid, report.invalid), (4, 3, 1));
        assert!(report.envelopes_decrypted >= 6, "{report:?}");
        // Any single changed byte of the record makes it fail.
        let bytes = text.as_bytes();
        for pos in [0, 10, bytes.len() / 3, bytes.len() / 2, bytes.len() * 2 / 3, bytes.len() - 2] {
            let mut changed = bytes.to_vec();
            changed[pos] = if changed[pos] == b'0' { b'1' } else { b'0' };
            let mut fetch = fetch_from(&app, &tender);
            assert!(verify_opening(&changed, &log_key(&app), &mut fetch).is_err(), "a change at byte {pos} went unnoticed");
        }
        // And so does a changed byte of a ciphertext it decrypts.
        let good_sha = rec.bids[0].envelopes[0].sha256.clone();
        let inner = fetch_from(&app, &tender);
        let mut tampering = move |sha: &str| -> Result<Option<Box<dyn Read>>, sealbid_seal::error::SealError> {
            let r = inner(sha)?;
            if sha != good_sha {
                return Ok(r);
            }
            let mut bytes = Vec::new();
            r.unwrap().read_to_end(&mut bytes).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x80;
            Ok(Some(Box::new(std::io::Cursor::new(bytes))))
        };
        let e = verify_opening(text.as_bytes(), &log_key(&app), &mut tampering).unwrap_err();
        assert!(e.path.starts_with("bids[0]"), "{e}");
    }
}

e2e_test! {
    async fn fewer_than_three_bids_fail_the_tender_without_an_opening(app: TestApp) {
        let hall = "370200";
        let owner_org = app.create_org("Works Bureau", "tenderee", hall).await;
        let owner = app.create_user("few.owner", &["tenderee"], Some(&owner_org), hall).await;
        let officer = app.create_user("few.officer", &["centre_officer"], None, hall).await;
        let member = crate::support::member_identity();
        let tender = app.create_tender(&owner, "SEAL-FEW-001", 25).await;
        app.set_committee(&owner, &tender, 2, &[member.recipient()], true).await;
        // The committee's shape is the tender's committee terms: the notice says what seals it.
        let t = app.get(&format!("/tenders/{tender}"), Some(&owner)).await.expect(200);
        assert_eq!(t.body["terms"]["committee"], json!({"threshold": 2, "members": 2}));
        app.post(&format!("/tenders/{tender}/submit"), Some(&owner), json!({})).await.expect(200);
        // Under review the committee is fixed (members could still register keys).
        let r = app
            .put(&format!("/tenders/{tender}/committee"), Some(&owner),
                json!({"threshold": 2, "seats": [{"name": "x", "recipient": member.recipient().to_string()}], "platform_seat": true}))
            .await
            .expect(409);
        assert_eq!(r.code(), "committee_fixed");
        app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(200);
        let committee = app.get(&format!("/tenders/{tender}/committee"), None).await.expect(200);
        let policy: Signed<SealingPolicy> = serde_json::from_value(committee.body["policy"].clone()).unwrap();
        for i in 1..=2 {
            let org = app.create_org(&format!("Few {i} Co"), "bidder", hall).await;
            let token = app.create_user(&format!("few.bidder{i}"), &["bidder"], Some(&org), hall).await;
            let r = app.post(&format!("/tenders/{tender}/deposit-reference"), Some(&token), json!({})).await.expect(200);
            let b = Bidder { token, org, key: SigningKey::generate(&mut rand::rngs::OsRng), reference: r.body["reference"].as_str().unwrap().into() };
            let sealed = seal_bid(&policy, &tender, &b, "990000.00");
            submit(&app, &b, &tender, &sealed).await.expect(201);
        }
        app.clock.advance(Duration::days(26));
        sealbid_server::scheduler::tick(&app.state).await.unwrap();
        let t = app.get(&format!("/tenders/{tender}"), None).await.expect(200);
        assert_eq!(t.body["state"], "failed");
        let r = app.get(&format!("/tenders/{tender}/opening/envelopes"), Some(&owner)).await.expect(409);
        assert_eq!(r.code(), "tender_failed");
    }
}
