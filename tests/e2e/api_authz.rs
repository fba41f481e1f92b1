//! Authorization, table-driven: every endpoint × every role, with the expected status. Requests
//! that pass authorization are built to fail just after it (an invalid body, a transition the
//! state does not allow, a deadline that has become too early, an opening time not reached yet),
//! or are reads, so the table changes nothing — which is checked too, sealing state and the
//! transparency log included. The table must name every route of the OpenAPI document.
use std::collections::BTreeSet;

use chrono::Duration;
use reqwest::Method;
use sealbid_seal::envelope::seal_envelope;
use sealbid_seal::keys::{MemberIdentity, SigningKey};
use sealbid_seal::manifest::{EnvelopeEntry, Manifest};
use sealbid_seal::opening::{Reveal, RevealedKey};
use sealbid_seal::payload::PricePayload;
use sealbid_seal::policy::SealingPolicy;
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{member_share_key_at, read_header, EnvelopeKind, ShareContext};
use serde_json::{json, Value};

use crate::support::TestApp;

/// Column order of the expected statuses.
const ROLES: [&str; 9] = [
    "anonymous",
    "admin",
    "officer (covers the hall)",
    "officer (another city)",
    "supervisor (covers the hall)",
    "tenderee (owner)",
    "tenderee (another organisation)",
    "bidder",
    "committee member (holds a seat of D, P, C and O)",
];

struct Row {
    method: Method,
    /// Path with placeholders: {D} draft, {R} under review, {P} published, {C} closed after its
    /// opening time and not opened, {O} opened (ids of `{id}`), {Q} a question of {P}, {A} the
    /// owner's organisation, {S} the SHA-256 of a document that D, R and P list, {X} one that
    /// none lists, {E} the bidder's sealed envelope of P, {F} its envelope of O (all of
    /// `{sha256}`), {N} the committee member's seat (`{seat}`). A query string is not part of the
    /// operation.
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 9],
    /// When the answer has this status, it must carry this error code.
    code: Option<(u16, &'static str)>,
    /// An extra request header.
    header: Option<(&'static str, String)>,
}

fn row(method: Method, path: &'static str, body: Option<Value>, expect: [u16; 9]) -> Row {
    Row {
        method,
        path,
        body,
        expect,
        code: None,
        header: None,
    }
}

impl Row {
    /// Requires the error code `code` of every answer with status `status`.
    fn code(mut self, status: u16, code: &'static str) -> Row {
        self.code = Some((status, code));
        self
    }

    /// Sends the header `name: value` too.
    fn header(mut self, name: &'static str, value: String) -> Row {
        self.header = Some((name, value));
        self
    }
}

/// Uploads `bytes` as a document of a draft.
async fn upload_document(app: &TestApp, token: &str, tender: &str, bytes: &[u8]) {
    let req = app
        .client
        .post(app.api(&format!("/tenders/{tender}/documents?name=spec.pdf")))
        .bearer_auth(token)
        .body(bytes.to_vec());
    app.send(req).await.expect(201);
}

/// The id of the signed-in account.
pub(crate) async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get("/me", Some(token)).await.expect(200);
    me.body["user"]["id"].as_str().expect("user id").to_string()
}

/// Gives a draft the opening committee of the table's world: seat 1 is the committee member's
/// account (its key registered by the member when `key` is given), seat 2 the platform's; 2 of 2.
pub(crate) async fn member_committee(
    app: &TestApp,
    owner: &str,
    tender: &str,
    member: (&str, &str),
    key: Option<&MemberIdentity>,
) {
    let (member_token, member_id) = member;
    app.put(
        &format!("/tenders/{tender}/committee"),
        Some(owner),
        json!({"threshold": 2, "platform_seat": true,
               "seats": [{"name": "Member", "role": "member", "user_id": member_id}]}),
    )
    .await
    .expect(200);
    if let Some(k) = key {
        app.put(
            &format!("/tenders/{tender}/committee/seats/1/key"),
            Some(member_token),
            json!({"recipient": k.recipient().to_string()}),
        )
        .await
        .expect(200);
    }
}

/// A bidder of the table's world: its session, organisation and signing key.
pub(crate) struct FixtureBidder {
    pub token: String,
    pub org: String,
    pub key: SigningKey,
}

/// Requests the bidder's deposit reference for a published tender, seals a price-only bid to
/// the tender's policy and submits it; returns the deposit reference and the price envelope's
/// SHA-256.
pub(crate) async fn bid(
    app: &TestApp,
    b: &FixtureBidder,
    tender: &str,
    total: &str,
) -> (String, String) {
    bid_with(app, b, tender, total, None, None, Default::default()).await
}

/// [`bid`] with a technical envelope holding `technical`, when given.
pub(crate) async fn bid_with(
    app: &TestApp,
    b: &FixtureBidder,
    tender: &str,
    total: &str,
    technical: Option<&[u8]>,
    device: Option<&str>,
    personnel: sealbid_seal::payload::Personnel,
) -> (String, String) {
    let r = app
        .post(
            &format!("/tenders/{tender}/deposit-reference"),
            Some(&b.token),
            json!({}),
        )
        .await
        .expect(200);
    let reference = r.body["reference"].as_str().expect("reference").to_string();
    let committee = app
        .get(&format!("/tenders/{tender}/committee"), None)
        .await
        .expect(200);
    let policy: Signed<SealingPolicy> =
        serde_json::from_value(committee.body["policy"].clone()).expect("policy");
    let price = PricePayload {
        currency: "CNY".into(),
        personnel,
        total: total.parse().expect("total"),
        lines: Vec::new(),
    };
    let plain = price.to_json_bytes().expect("price");
    let mut sealed = Vec::new();
    for (kind, plain) in std::iter::once((EnvelopeKind::Price, plain.as_slice()))
        .chain(technical.map(|t| (EnvelopeKind::Technical, t)))
    {
        let ctx = ShareContext {
            tender: tender.to_string(),
            bidder: b.org.clone(),
            kind,
        };
        let mut envelope = Vec::new();
        let digest = seal_envelope(
            &policy.body.committee(),
            &ctx,
            None,
            &mut rand::rngs::OsRng,
            plain,
            &mut envelope,
        )
        .expect("seal");
        sealed.push((kind, digest, envelope));
    }
    let sha = sealed[0].1.sha256_hex();
    let manifest = Manifest {
        version: 1,
        tender: tender.to_string(),
        bidder: b.org.clone(),
        policy_hash: policy.body.hash_hex().expect("policy hash"),
        deposit_reference: reference.clone(),
        envelopes: sealed
            .iter()
            .map(|(kind, d, _)| EnvelopeEntry {
                kind: *kind,
                sha256: d.sha256_hex(),
                size: d.size,
            })
            .collect(),
        sealed_at: chrono::Utc::now(),
    };
    let signed = Signed::sign(manifest, &b.key).expect("sign");
    for (_, d, envelope) in sealed {
        let req = app
            .client
            .put(app.api(&format!("/tenders/{tender}/envelopes/{}", d.sha256_hex())))
            .bearer_auth(&b.token)
            .body(envelope);
        app.send(req).await.expect(201);
    }
    let mut req = app
        .client
        .post(app.api(&format!("/tenders/{tender}/bids")))
        .bearer_auth(&b.token)
        .header("content-type", "application/json")
        .body(signed.to_json_bytes().expect("manifest"));
    if let Some(d) = device {
        req = req.header("x-sealbid-device", d);
    }
    app.send(req).await.expect(201);
    (reference, sha)
}

/// The member commits and reveals its share keys for a closed tender; with the platform's share
/// that makes 2 of 2, and the bids are opened.
pub(crate) async fn open_as_member(
    app: &TestApp,
    token: &str,
    tender: &str,
    seat: u8,
    id: &MemberIdentity,
) {
    use base64::Engine;
    let envs = app
        .get(&format!("/tenders/{tender}/opening/envelopes"), Some(token))
        .await
        .expect(200);
    let mut keys = Vec::new();
    for e in envs.body.as_array().expect("envelopes") {
        let header = base64::engine::general_purpose::STANDARD
            .decode(e["header"].as_str().expect("header"))
            .expect("base64");
        let h = read_header(header.as_slice()).expect("age header");
        let ctx = ShareContext {
            tender: e["tender"].as_str().expect("tender").to_string(),
            bidder: e["bidder"].as_str().expect("bidder").to_string(),
            kind: e["kind"].as_str().expect("kind").parse().expect("kind"),
        };
        keys.push(RevealedKey {
            envelope_sha256: e["sha256"].as_str().expect("sha256").to_string(),
            key: member_share_key_at(id, &h, &ctx, seat).expect("share key"),
        });
    }
    let reveal = Reveal {
        tender: tender.to_string(),
        seat,
        keys,
        nonce: hex::encode(rand::random::<[u8; 32]>()),
    };
    app.post(
        &format!("/tenders/{tender}/opening/commit"),
        Some(token),
        json!({"commitment": reveal.commitment().expect("commitment")}),
    )
    .await
    .expect(204);
    let req = app
        .client
        .post(app.api(&format!("/tenders/{tender}/opening/reveal")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&reveal).expect("reveal"));
    let r = app.send(req).await.expect(200);
    assert_eq!(r.body["opened"], true, "{}", r.text);
}

/// What the sealing side holds, as far as the API shows it: each tender's committee (policy,
/// closing) and bid count, and the transparency log's checkpoint and entries.
async fn sealing_snapshot(app: &TestApp, tenders: &[&str]) -> Value {
    let mut out = Vec::new();
    for t in tenders {
        let committee = app
            .get(&format!("/tenders/{t}/committee"), Some(&app.admin))
            .await
            .expect(200);
        let count = app
            .get(&format!("/tenders/{t}/bids/count"), Some(&app.admin))
            .await
            .expect(200);
        out.push(json!({"committee": committee.body, "bids": count.body}));
    }
    let checkpoint = app.get("/log/checkpoint", None).await.expect(200);
    let entries = app
        .get("/log/entries?start=0&end=1000", None)
        .await
        .expect(200);
    json!({"tenders": out, "checkpoint": checkpoint.text, "entries": entries.body})
}

e2e_test! {
    async fn every_endpoint_for_every_role(app: TestApp) {
        app.create_hall("370202", "Shinan District Hall").await;
        app.create_hall("370100", "Jinan City Hall").await;
        let org_a = app.create_org("Shinan Roads Bureau", "tenderee", "370202").await;
        let org_b = app.create_org("Laoshan Water Bureau", "tenderee", "370202").await;
        let org_c = app.create_org("Haiwan Construction Co.", "bidder", "370202").await;
        let admin = app.login("admin").await;
        let officer = app.create_user("zhao.officer", &["centre_officer"], None, "370200").await;
        let officer_other = app.create_user("qian.officer", &["centre_officer"], None, "370100").await;
        let supervisor = app.create_user("sun.supervisor", &["supervisor"], None, "370200").await;
        let owner = app.create_user("wang.tenderee", &["tenderee"], Some(&org_a), "370202").await;
        let other = app.create_user("zhou.tenderee", &["tenderee"], Some(&org_b), "370202").await;
        let bidder = app.create_user("li.bidder", &["bidder"], Some(&org_c), "370202").await;
        let member = app.create_user("ma.member", &["committee_member"], None, "370200").await;
        let tokens: [Option<&str>; 9] = [
            None,
            Some(&admin),
            Some(&officer),
            Some(&officer_other),
            Some(&supervisor),
            Some(&owner),
            Some(&other),
            Some(&bidder),
            Some(&member),
        ];
        let member_id = user_id(&app, &member).await;
        let member_key = crate::support::member_identity();
        let seat = (member.as_str(), member_id.as_str());

        // Sealing fixtures first. C and O are published with the member's committee (the
        // member's seat and the platform's, 2 of 2), take three sealed bids each, and close at
        // their deadline; the member and the platform open O. C stays closed and unopened, past
        // its opening time.
        let mut bidders = vec![FixtureBidder {
            token: bidder.clone(),
            org: org_c.clone(),
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }];
        for i in 2..=3 {
            let org = app.create_org(&format!("Haiwan Builder {i} Co."), "bidder", "370202").await;
            let token = app.create_user(&format!("bidder{i}.authz"), &["bidder"], Some(&org), "370202").await;
            bidders.push(FixtureBidder { token, org, key: SigningKey::generate(&mut rand::rngs::OsRng) });
        }
        let c = app.create_tender(&owner, "AUTHZ-C", 21).await;
        let o = app.create_tender(&owner, "AUTHZ-O", 21).await;
        for t in [&c, &o] {
            member_committee(&app, &owner, t, seat, Some(&member_key)).await;
            app.post(&format!("/tenders/{t}/submit"), Some(&owner), json!({})).await.expect(200);
            app.post(&format!("/tenders/{t}/approve"), Some(&officer), json!({})).await.expect(200);
        }
        let mut f = String::new();
        for (i, b) in bidders.iter().enumerate() {
            bid(&app, b, &c, &format!("95{i}000.00")).await;
            // The first two bid O at the same price: the opening's screening flags it.
            let (reference, sha) = bid(&app, b, &o, &format!("96{}000.00", i.max(1))).await;
            crate::screening::pay(&app, &format!("AUTHZ-O-{i}"), &reference, &format!("6222{i:012}")).await;
            if i == 0 {
                f = sha;
            }
        }
        app.clock.advance(Duration::days(22));
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 2);
        open_as_member(&app, &member, &o, 1, &member_key).await;
        // The opening screened O: two of its bids have the same price, which the engine flags
        // (条例 40(4)); L is an alert on O.
        let alert_l = {
            let o_id: sealbid_domain::TenderId = o.parse().unwrap();
            let alerts = app
                .state
                .store
                .list_alerts(&sealbid_store::AlertFilter { tender: Some(o_id), ..Default::default() })
                .await
                .unwrap();
            assert!(!alerts.is_empty(), "the opening raised no alert on O");
            alerts[0].id.to_string()
        };
        for (t, expected) in [(&c, "closed"), (&o, "opened")] {
            let view = app.get(&format!("/tenders/{t}"), None).await.expect(200);
            assert_eq!(view.body["state"], expected, "{}", view.text);
        }

        // D and R have deadlines 21 days out; two days later they are too early, so submitting D
        // or approving R fails after authorization. P is published with time to spare. Each lists
        // one uploaded document, S, added while a draft. The member holds seat 1 of D (no key
        // yet) and of P (its key registered); the bidder has sealed a bid for P (envelope E).
        const DOCUMENT: &[u8] = b"%PDF-1.7 tender documents";
        let s = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(DOCUMENT));
        let x = "0".repeat(64);
        let d = app.create_tender(&owner, "AUTHZ-D", 21).await;
        upload_document(&app, &owner, &d, DOCUMENT).await;
        member_committee(&app, &owner, &d, seat, None).await;
        let r = app.create_tender(&owner, "AUTHZ-R", 21).await;
        upload_document(&app, &owner, &r, DOCUMENT).await;
        app.post(&format!("/tenders/{r}/submit"), Some(&owner), json!({})).await.expect(200);
        let p = app.create_tender(&owner, "AUTHZ-P", 60).await;
        upload_document(&app, &owner, &p, DOCUMENT).await;
        member_committee(&app, &owner, &p, seat, Some(&member_key)).await;
        app.post(&format!("/tenders/{p}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{p}/approve"), Some(&officer), json!({})).await.expect(200);
        let q = app
            .post(&format!("/tenders/{p}/questions"), Some(&bidder), json!({"text": "Is a joint bid allowed?"}))
            .await
            .expect(201);
        let q = q.body["id"].as_str().unwrap().to_string();
        let (reference, e) = bid(&app, &bidders[0], &p, "990000.00").await;
        app.clock.advance(Duration::days(2));

        let mut bad_tender = app.tender_body("x", 60);
        bad_tender["code"] = json!("x");
        let bad_user = json!({"username": "A B", "display_name": "x", "password": crate::support::PASSWORD,
                              "roles": ["bidder"], "org_id": org_c, "hall": "370202"});
        let bad_org = json!({"credit_code": "91110000600037341X", "name": "x", "kind": "bidder", "hall": "370202"});
        let (get, post, put, delete) = (Method::GET, Method::POST, Method::PUT, Method::DELETE);
        const ALL_200: [u16; 9] = [200; 9];
        const SIGNED_IN_200: [u16; 9] = [401, 200, 200, 200, 200, 200, 200, 200, 200];
        // Refused before the opening time, whoever asks.
        const NOT_YET: [u16; 9] = [401, 409, 409, 409, 409, 409, 409, 409, 409];
        // Opening actions after the opening time: the committee member only.
        const MEMBER_ONLY: [u16; 9] = [401, 403, 403, 403, 403, 403, 403, 403, 422];
        // Finishing the opening: the committee, the tenderee, or a centre officer of the hall.
        const FINISHERS: [u16; 9] = [401, 409, 409, 403, 403, 409, 403, 403, 409];
        // Bidding actions: bidders only, on a tender they may see.
        const BIDDER_ONLY_P: [u16; 9] = [401, 403, 403, 403, 403, 403, 403, 422, 403];
        const BIDDER_ONLY_D: [u16; 9] = [401, 403, 404, 404, 404, 403, 404, 404, 404];
        const BIDDER_ONLY_C: [u16; 9] = [401, 403, 403, 403, 403, 403, 403, 409, 403];
        const DRAFT_READ: [u16; 9] = [404, 200, 404, 404, 404, 200, 404, 404, 404];
        let bad_committee = json!({"threshold": 1, "seats": [{"name": "x"}], "platform_seat": true});
        let committee = json!({"threshold": 2, "seats": [{"name": "x"}], "platform_seat": true});
        let bad_key = json!({"recipient": "not an age key"});
        let commit = json!({"commitment": "not a sha-256"});
        // A well-formed bank callback for the bidder's reference, without the bank's signature.
        let unsigned_payment = json!({
            "transaction_id": "BANK-TXN-AUTHZ", "reference": reference, "amount": "20000.00",
            "payer_name": "Haiwan Construction Co.", "account_number": "6222000000000001",
            "bank": "Bank of Qingdao", "paid_at": app.clock_now().to_rfc3339(),
        });
        // A well-formed report signature (over nothing the server holds).
        let signer = SigningKey::from_seed([3; 32]);
        let report_signature = json!({"key": signer.verifying_key().to_string(),
            "signature": signer.sign(b"report").to_string(), "version": 1});
        #[rustfmt::skip]
        let table = vec![
            //                                                                   anon admin off  off2  sup  owner other bidder member
            row(get.clone(), "/openapi.json", None, ALL_200),
            row(post.clone(), "/auth/login", Some(json!({"username": "admin", "password": "not the password"})),
                                                                                 [401, 401, 401, 401, 401, 401, 401, 401, 401]),
            row(get.clone(), "/me", None, SIGNED_IN_200),
            row(get.clone(), "/halls", None, ALL_200),
            row(post.clone(), "/halls", Some(json!({"division": "000000", "name": "x"})),
                                                                                 [401, 422, 403, 403, 403, 403, 403, 403, 403]),
            row(post.clone(), "/users", Some(bad_user), [401, 422, 422, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/users", None, [401, 200, 200, 200, 403, 403, 403, 403, 403]),
            row(post.clone(), "/orgs", Some(bad_org), [401, 422, 422, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/orgs", None, SIGNED_IN_200),
            row(get.clone(), "/orgs/{A}", None, SIGNED_IN_200),
            row(get.clone(), "/tenders", None, ALL_200),
            row(post.clone(), "/tenders", Some(bad_tender.clone()), [401, 403, 403, 403, 403, 422, 422, 403, 403]),
            row(get.clone(), "/tenders/{D}", None, [404, 200, 404, 404, 404, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{R}", None, [404, 200, 200, 404, 200, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}", None, ALL_200),
            row(put.clone(), "/tenders/{D}", Some(bad_tender.clone()), [401, 403, 404, 404, 404, 422, 404, 404, 404]),
            row(put.clone(), "/tenders/{P}", Some(bad_tender.clone()), [401, 409, 403, 403, 403, 409, 403, 403, 403]),
            row(post.clone(), "/tenders/{D}/submit", None, [401, 403, 404, 404, 404, 422, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/submit", None, [401, 409, 403, 403, 403, 409, 403, 403, 403]),
            row(post.clone(), "/tenders/{R}/approve", None, [401, 422, 422, 404, 403, 403, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/approve", None, [401, 409, 409, 403, 403, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{R}/return", Some(json!({"problems": [" "]})),
                                                                                 [401, 422, 422, 404, 403, 403, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/return", Some(json!({"problems": ["p"]})),
                                                                                 [401, 409, 409, 403, 403, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{D}/cancel", Some(json!({"reason": ""})), [401, 403, 404, 404, 404, 422, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/cancel", Some(json!({"reason": ""})), [401, 422, 403, 403, 403, 422, 403, 403, 403]),
            row(get.clone(), "/reviews", None, [401, 200, 200, 200, 403, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{P}/amendments", Some(json!({"summary": "", "changes": {}})),
                                                                                 [401, 422, 403, 403, 403, 422, 403, 403, 403]),
            row(post.clone(), "/tenders/{D}/amendments", Some(json!({"summary": "s", "changes": {"title": "t"}})),
                                                                                 [401, 403, 404, 404, 404, 409, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}/amendments", None, ALL_200),
            row(get.clone(), "/tenders/{D}/amendments", None, [404, 200, 404, 404, 404, 200, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/questions", Some(json!({"text": " "})), [401, 403, 403, 403, 403, 403, 403, 422, 403]),
            row(post.clone(), "/tenders/{D}/questions", Some(json!({"text": "q"})), [401, 403, 404, 404, 404, 403, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}/questions", None, ALL_200),
            row(get.clone(), "/tenders/{D}/questions", None, [404, 200, 404, 404, 404, 200, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/questions/{Q}/answer", Some(json!({"text": "", "affects_bids": false})),
                                                                                 [401, 422, 403, 403, 403, 422, 403, 403, 403]),
            // Documents: uploads with a bad name fail just after authorization; withdrawing fails
            // on R's state or on X not being listed; downloads change nothing.
            row(post.clone(), "/tenders/{D}/documents?name=a%2Fb.pdf", None, [401, 403, 404, 404, 404, 422, 404, 404, 404]),
            row(post.clone(), "/tenders/{P}/documents?name=a%2Fb.pdf", None, [401, 422, 403, 403, 403, 422, 403, 403, 403]),
            row(get.clone(), "/tenders/{D}/documents/{S}", None, [404, 200, 404, 404, 404, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{R}/documents/{S}", None, [404, 200, 200, 404, 200, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}/documents/{S}", None, ALL_200),
            row(get.clone(), "/tenders/{P}/documents/{X}", None, [404; 9]),
            row(delete.clone(), "/tenders/{D}/documents/{X}", None, [401, 403, 404, 404, 404, 404, 404, 404, 404]),
            row(delete.clone(), "/tenders/{R}/documents/{S}", None, [401, 403, 403, 404, 403, 409, 404, 404, 404]),
            row(delete.clone(), "/tenders/{P}/documents/{X}", None, [401, 404, 403, 403, 403, 404, 403, 403, 403]),
            row(get.clone(), "/tenders/{R}/audit", None, [401, 200, 200, 404, 200, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}/audit", None, [401, 200, 200, 403, 200, 200, 403, 403, 403]),
            row(get.clone(), "/audit/verify", None, [401, 200, 403, 403, 403, 403, 403, 403, 403]),
            // Sealing: the committee. Only the owner sets it, before publication; only the seat's
            // member registers its key, before publication. The committee of a tender that is not
            // public is read as the tender is, except by its seat holders: the member holding seat
            // 1 of D reads D's committee (it registers its key there).
            row(get.clone(), "/tenders/{D}/committee", None, [404, 200, 404, 404, 404, 200, 404, 404, 200]),
            row(get.clone(), "/tenders/{R}/committee", None, [404, 200, 200, 404, 200, 200, 404, 404, 404]),
            row(get.clone(), "/tenders/{P}/committee", None, ALL_200),
            row(put.clone(), "/tenders/{D}/committee", Some(bad_committee),
                                                                                 [401, 403, 404, 404, 404, 422, 404, 404, 404])
                .code(422, "invalid_threshold"),
            row(put.clone(), "/tenders/{P}/committee", Some(committee),
                                                                                 [401, 409, 403, 403, 403, 409, 403, 403, 403])
                .code(409, "committee_fixed"),
            row(put.clone(), "/tenders/{D}/committee/seats/{N}/key", Some(bad_key.clone()),
                                                                                 [401, 403, 404, 404, 404, 403, 404, 404, 422])
                .code(422, "invalid_recipient"),
            row(put.clone(), "/tenders/{P}/committee/seats/{N}/key", Some(bad_key),
                                                                                 [401, 403, 403, 403, 403, 403, 403, 403, 409])
                .code(409, "committee_fixed"),
            // Bidding: deposit references, envelopes, bids and withdrawals are for bidders on a
            // tender they can see; a hidden tender is 404 to everyone who cannot see it, as
            // elsewhere (a 403 would tell them the draft exists: an unknown id is 404). After the
            // deadline (C) they are refused.
            row(post.clone(), "/tenders/{P}/deposit-reference", None, [401, 403, 403, 403, 403, 403, 403, 200, 403]),
            row(post.clone(), "/tenders/{D}/deposit-reference", None, BIDDER_ONLY_D),
            row(post.clone(), "/tenders/{C}/deposit-reference", None, BIDDER_ONLY_C),
            row(put.clone(), "/tenders/{P}/envelopes/{X}", None, BIDDER_ONLY_P).code(422, "hash_mismatch"),
            row(put.clone(), "/tenders/{D}/envelopes/{X}", None, BIDDER_ONLY_D),
            row(put.clone(), "/tenders/{C}/envelopes/{X}", None, BIDDER_ONLY_C).code(409, "deadline_passed"),
            row(post.clone(), "/tenders/{P}/bids", None, BIDDER_ONLY_P).code(422, "invalid_manifest"),
            row(post.clone(), "/tenders/{D}/bids", None, BIDDER_ONLY_D),
            row(post.clone(), "/tenders/{C}/bids", None, BIDDER_ONLY_C).code(409, "deadline_passed"),
            row(post.clone(), "/tenders/{P}/bids/withdraw", None, BIDDER_ONLY_P).code(422, "invalid_withdrawal"),
            row(post.clone(), "/tenders/{D}/bids/withdraw", None, BIDDER_ONLY_D),
            row(post.clone(), "/tenders/{C}/bids/withdraw", None, BIDDER_ONLY_C).code(409, "deadline_passed"),
            row(get.clone(), "/tenders/{P}/bids/count", None, ALL_200),
            row(get.clone(), "/tenders/{D}/bids/count", None, DRAFT_READ),
            row(get.clone(), "/tenders/{P}/bids/mine", None, [401, 403, 403, 403, 403, 403, 403, 200, 403]),
            row(get.clone(), "/tenders/{D}/bids/mine", None, [401, 403, 404, 404, 404, 403, 404, 404, 404]),
            // A sealed envelope is its bidder's alone until the opening, then everyone's.
            row(get.clone(), "/tenders/{P}/envelopes/{E}", None, [404, 404, 404, 404, 404, 404, 404, 200, 404]),
            row(get.clone(), "/tenders/{O}/envelopes/{F}", None, ALL_200),
            row(get.clone(), "/tenders/{D}/envelopes/{X}", None, [404; 9]),
            // The bank's callback is authenticated by its signature alone: a session is no
            // substitute for a missing or forged one.
            row(post.clone(), "/bank/deposits", Some(unsigned_payment.clone()), [401; 9]).code(401, "unauthenticated"),
            row(post.clone(), "/bank/deposits", Some(unsigned_payment), [401; 9])
                .code(401, "unauthenticated")
                .header("x-sealbid-signature", "00".repeat(32)),
            // The opening: refused before the opening time whoever asks (P); after it, for the
            // committee (C: the request fails just after authorization; O: already opened).
            row(get.clone(), "/tenders/{P}/opening/envelopes", None, NOT_YET).code(409, "opening_not_yet"),
            row(get.clone(), "/tenders/{D}/opening/envelopes", None, [401, 409, 404, 404, 404, 409, 404, 404, 404])
                .code(409, "opening_not_yet"),
            row(get.clone(), "/tenders/{C}/opening/envelopes", None, [401, 403, 403, 403, 403, 403, 403, 403, 200]),
            row(post.clone(), "/tenders/{P}/opening/commit", Some(commit.clone()), NOT_YET).code(409, "opening_not_yet"),
            row(post.clone(), "/tenders/{C}/opening/commit", Some(commit.clone()), MEMBER_ONLY).code(422, "invalid_commitment"),
            row(post.clone(), "/tenders/{O}/opening/commit", Some(commit),
                                                                                 [401, 403, 403, 403, 403, 403, 403, 403, 409])
                .code(409, "already_opened"),
            row(post.clone(), "/tenders/{P}/opening/reveal", None, NOT_YET).code(409, "opening_not_yet"),
            row(post.clone(), "/tenders/{C}/opening/reveal", None, MEMBER_ONLY).code(422, "invalid_reveal"),
            row(post.clone(), "/tenders/{P}/opening/finish", None, NOT_YET).code(409, "opening_not_yet"),
            row(post.clone(), "/tenders/{C}/opening/finish", None, FINISHERS).code(409, "not_enough_reveals"),
            row(post.clone(), "/tenders/{O}/opening/finish", None, FINISHERS).code(409, "already_opened"),
            row(get.clone(), "/tenders/{P}/opening/record", None, [409; 9]).code(409, "opening_not_yet"),
            row(get.clone(), "/tenders/{D}/opening/record", None, [404, 409, 404, 404, 404, 409, 404, 404, 404])
                .code(409, "opening_not_yet"),
            row(get.clone(), "/tenders/{C}/opening/record", None, [409; 9]).code(409, "not_opened"),
            row(get.clone(), "/tenders/{O}/opening/record", None, ALL_200),
            // Evaluation: the pool is the trading centre's; draws after the opening by a centre
            // officer of the tender's hall. Refused after authorization so nothing changes.
            row(post.clone(), "/experts/import", None, [401, 422, 422, 422, 403, 403, 403, 403, 403])
                .code(422, "invalid_expert_rows"),
            row(get.clone(), "/experts", None, [401, 200, 200, 200, 200, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{C}/committee-draw", Some(json!({"committee_size": 5, "tenderee_representatives": 1, "quotas": [{"specialty": "A01", "count": 4}]})),
                                                                                 [401, 409, 409, 403, 403, 403, 403, 403, 403])
                .code(409, "not_opened"),
            row(get.clone(), "/tenders/{O}/committee-draw", None, [404; 9]),
            row(get.clone(), "/tenders/{O}/committee-draw/pool", None, [404; 9]),
            row(post.clone(), "/tenders/{O}/committee-draw/decline", Some(json!({"expert_id": "E1", "version": 1})),
                                                                                 [401, 404, 404, 403, 403, 403, 403, 403, 403]),
            row(put.clone(), "/experts/{EX}/account", Some(json!({"user_id": "00000000-0000-0000-0000-000000000000"})),
                                                                                 [401, 404, 404, 404, 403, 403, 403, 403, 403]),
            // The evaluation session: members of the tender's committee only (O has none).
            row(post.clone(), "/tenders/{O}/evaluation/declaration", Some(json!({"no_conflict": true})), [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/tenders/{O}/evaluation/bids", None, [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(put.clone(), "/tenders/{O}/evaluation/scheme", Some(json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"}, "criteria": []})),
                                                                                 [401, 422, 422, 403, 403, 422, 403, 403, 403]),
            row(put.clone(), "/tenders/{O}/evaluation/sheets/{EX}", Some(json!({"scores": {}})), [401, 400, 400, 400, 400, 400, 400, 400, 400]),
            row(put.clone(), "/tenders/{O}/evaluation/sheets/{BID}", Some(json!({"scores": {}})), [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/tenders/{O}/evaluation/sheets", None, [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            // The representatives are the tenderee's to appoint (O is not drawn: refused after
            // authorization); the time is the tenderee's or the centre's; the rest is the members'.
            row(put.clone(), "/tenders/{O}/evaluation/representatives", Some(json!({"user_ids": []})),
                                                                                 [401, 409, 403, 403, 403, 409, 403, 403, 403])
                .code(409, "not_drawn"),
            row(put.clone(), "/tenders/{O}/evaluation/time", Some(json!({"due_at": "2020-01-01T00:00:00Z"})),
                                                                                 [401, 422, 422, 403, 403, 422, 403, 403, 403])
                .code(422, "due_in_past"),
            row(post.clone(), "/tenders/{O}/evaluation/more-time", Some(json!({"reason": "long bids"})), [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(put.clone(), "/tenders/{O}/evaluation/qualification/{BID}", Some(json!({"items": []})), [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/tenders/{O}/evaluation/qualification", None, [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            // Progress: members, the centre of the hall and its supervisors (O has no committee).
            row(get.clone(), "/tenders/{O}/evaluation/progress", None, [401, 404, 404, 403, 404, 403, 403, 403, 403]),
            row(get.clone(), "/tenders/{O}/evaluation/progress/stream", None, [401, 404, 404, 403, 404, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/evaluation/report", Some(json!({})), [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/tenders/{O}/evaluation/report", None, [401, 404, 404, 403, 404, 404, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/evaluation/explanations", Some(json!({"bid": "00000000-0000-0000-0000-000000000000", "text": "reasons"})),
                                                                                 [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/evaluation/report/signatures", Some(report_signature.clone()),
                                                                                 [401, 403, 403, 403, 403, 403, 403, 403, 403]),
            // After the evaluation: O has no signed report, so nothing is published (refused after
            // authorization); objections are for the tender's bidders, refunds for the centre.
            row(get.clone(), "/tenders/{O}/award", None, [409; 9]).code(409, "not_published"),
            row(post.clone(), "/tenders/{O}/award/publication", Some(json!({})),
                                                                                 [401, 409, 403, 403, 403, 409, 403, 403, 403])
                .code(409, "report_not_signed"),
            row(post.clone(), "/tenders/{O}/award/objections", Some(json!({"text": "objection"})),
                                                                                 [401, 403, 403, 403, 403, 403, 403, 409, 403])
                .code(409, "not_published"),
            row(post.clone(), "/tenders/{O}/award/objections/1/answer", Some(json!({"text": "answer", "upheld": false})),
                                                                                 [401, 409, 403, 403, 403, 409, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/award/notice", Some(json!({})), [401, 409, 403, 403, 403, 409, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/award/contract", Some(json!({"signed_at": "2026-01-01T00:00:00Z", "amount": "1.00", "reference": "C-1"})),
                                                                                 [401, 409, 403, 403, 403, 409, 403, 403, 403]),
            row(post.clone(), "/tenders/{O}/award/refunds/{A}/done", None, [401, 409, 409, 403, 403, 403, 403, 403, 403]),
            row(get.clone(), "/refunds", None, [401, 200, 200, 200, 200, 403, 403, 403, 403]),
            // Open data: public tenders for anyone; a draft does not exist.
            row(get.clone(), "/ocds/tenders/{O}/releases", None, ALL_200),
            row(get.clone(), "/ocds/tenders/{D}/record", None, [404; 9]),
            row(get.clone(), "/ocds/records", None, ALL_200),
            // Supervision: alerts are for supervisors (and admins) only; never bidders or tenderees.
            row(get.clone(), "/alerts", None, [401, 200, 403, 403, 200, 403, 403, 403, 403]),
            row(get.clone(), "/alerts?status=closed", None, [401, 400, 403, 403, 400, 403, 403, 403, 403])
                .code(400, "invalid_query"),
            row(get.clone(), "/alerts/{L}", None, [401, 200, 403, 403, 200, 403, 403, 403, 403]),
            // Confirming an open alert skips "under review": refused after authorization.
            row(post.clone(), "/alerts/{L}/review", Some(json!({"action": "confirm", "reason": "r", "version": 1})),
                                                                                 [401, 409, 403, 403, 409, 403, 403, 403, 403])
                .code(409, "illegal_transition"),
            row(get.clone(), "/tenders/{O}/screening", None, [401, 200, 403, 403, 200, 403, 403, 403, 403]),
            row(post.clone(), "/tenders/{C}/screening", None, [401, 409, 403, 403, 409, 403, 403, 403, 403])
                .code(409, "not_opened"),
            row(post.clone(), "/screening/history", Some(json!({"from": "2027-01-02", "to": "2027-01-01"})),
                                                                                 [401, 422, 403, 403, 422, 403, 403, 403, 403])
                .code(422, "invalid_period"),
            // Credit histories: whoever checks qualifications; a bidder only its own.
            row(get.clone(), "/orgs/{A}/credit", None, [401, 200, 200, 200, 200, 200, 200, 403, 403]),
            row(get.clone(), "/orgs/{B}/credit", None, [401, 200, 200, 200, 200, 200, 200, 200, 403]),
            row(get.clone(), "/tenders/{O}/rejections", None, [401, 200, 200, 403, 200, 200, 403, 403, 403]),
            // The transparency log is public.
            row(get.clone(), "/log/key", None, ALL_200),
            row(get.clone(), "/log/checkpoint", None, ALL_200),
            row(get.clone(), "/log/entries?start=0&end=100", None, ALL_200),
            row(get.clone(), "/log/proof?index=0&size=1", None, ALL_200),
            // Last: it ends the sessions it is given.
            row(post.clone(), "/auth/logout", None, [401, 204, 204, 204, 204, 204, 204, 204, 204]),
        ];

        let fixtures = [d.as_str(), r.as_str(), p.as_str(), c.as_str(), o.as_str()];
        let before = (app.snapshot().await, sealing_snapshot(&app, &fixtures).await);
        let mut failures = Vec::new();
        for row in &table {
            let path = row
                .path
                .replace("{D}", &d)
                .replace("{R}", &r)
                .replace("{P}", &p)
                .replace("{Q}", &q)
                .replace("{A}", &org_a)
                .replace("{S}", &s)
                .replace("{X}", &x)
                .replace("{C}", &c)
                .replace("{O}", &o)
                .replace("{E}", &e)
                .replace("{F}", &f)
                .replace("{N}", "1")
                .replace("{EX}", "E404")
                .replace("{BID}", "00000000-0000-0000-0000-000000000000")
                .replace("{L}", &alert_l)
                .replace("{B}", &org_c);
            let body = row.body.clone().or_else(|| (row.method == Method::POST).then(|| json!({})));
            for (i, token) in tokens.iter().enumerate() {
                let resp = match &row.header {
                    None => app.call(row.method.clone(), &path, *token, body.as_ref()).await,
                    Some((name, value)) => {
                        let mut req = app.client.request(row.method.clone(), app.api(&path)).header(*name, value);
                        if let Some(t) = token {
                            req = req.bearer_auth(t);
                        }
                        if let Some(b) = &body {
                            req = req.json(b);
                        }
                        app.send(req).await
                    }
                };
                if resp.status != row.expect[i] {
                    failures.push(format!(
                        "{} {} as {}: expected {}, got {} {}",
                        row.method, row.path, ROLES[i], row.expect[i], resp.status, resp.text
                    ));
                } else if let Some((status, code)) = row.code.filter(|(s, _)| *s == resp.status) {
                    if resp.code() != code {
                        failures.push(format!(
                            "{} {} as {}: expected {status} {code}, got {}",
                            row.method, row.path, ROLES[i], resp.text
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
        let after = (app.snapshot().await, sealing_snapshot(&app, &fixtures).await);
        assert_eq!(before.0, after.0, "the table changed the store");
        assert_eq!(before.1, after.1, "the table changed the sealing state or the log");

        // The table covers every documented operation.
        let doc = app.get("/openapi.json", None).await.expect(200);
        let documented = crate::api_openapi::operations(&doc.body);
        let tested: BTreeSet<(String, String)> = table
            .iter()
            .map(|row| {
                let template = row
                    .path
                    .replace("{D}", "{id}")
                    .replace("{R}", "{id}")
                    .replace("{P}", "{id}")
                    .replace("{A}", "{id}")
                    .replace("{Q}", "{qid}")
                    .replace("{S}", "{sha256}")
                    .replace("{X}", "{sha256}")
                    .replace("{C}", "{id}")
                    .replace("{O}", "{id}")
                    .replace("{E}", "{sha256}")
                    .replace("{F}", "{sha256}")
                    .replace("{N}", "{seat}")
                    .replace("/sheets/{EX}", "/sheets/{bid}")
                    .replace("{EX}", "{expert_id}")
                    .replace("{BID}", "{bid}")
                    .replace("/objections/1/", "/objections/{number}/")
                    .replace("/refunds/{id}/", "/refunds/{org}/")
                    .replace("{L}", "{id}")
                    .replace("{B}", "{id}");
                let template = template.split('?').next().unwrap_or_default().to_string();
                (row.method.as_str().to_ascii_lowercase(), template)
            })
            .collect();
        let untested: Vec<_> = documented.difference(&tested).collect();
        assert!(untested.is_empty(), "operations missing from the table: {untested:?}");
    }
}
