//! The expert pool and the verifiable committee draw, through the real server on SQLite and
//! PostgreSQL: a centre officer imports a pool (a bad file is refused whole, every bad row named by
//! line), a draw before the opening or with too few eligible experts is refused with nothing
//! stored, the draw after the opening excludes the experts tied to a bidder, shows names only to
//! the trading centre, replaces a member who declines deterministically, and `sealbid verify-draw`
//! re-runs it from the public data and the pool file (and catches a changed pool).
use std::process::Command;

use chrono::Duration;
use sealbid_seal::keys::SigningKey;
use serde_json::{json, Value};

use crate::api_authz::{bid, member_committee, open_as_member, user_id, FixtureBidder};
use crate::support::TestApp;

async fn post_csv(app: &TestApp, token: &str, csv: &str) -> crate::support::Resp {
    let req = app
        .client
        .post(app.api("/experts/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_string());
    app.send(req).await
}

/// The pool: 8 building experts (A01), 4 cost engineers (B02); E03 works for bidder 1, E10 has a
/// declared relationship with bidder 2, E12 is unavailable.
fn pool_csv(bidder1: &str, bidder2: &str) -> String {
    let mut s = String::from(
        "id,name,specialties,region,available,employer,employer_credit_code,relationships\n",
    );
    for i in 1..=8 {
        let (employer, code) = if i == 3 {
            ("Builder One Co.", bidder1)
        } else {
            ("Qingdao Design Institute", "")
        };
        s.push_str(&format!(
            "E{i:02},专家{i},A01 building works,370200,yes,{employer},{code},\n"
        ));
    }
    for i in 9..=12 {
        let rel = if i == 10 {
            format!("{bidder2}:former employee")
        } else {
            String::new()
        };
        let available = if i == 12 { "no" } else { "yes" };
        s.push_str(&format!(
            "E{i:02},造价师{i},B02 cost engineering,370200,{available},,,{rel}\n"
        ));
    }
    s
}

fn members(draw: &Value) -> Vec<String> {
    draw["public"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["expert_id"].as_str().unwrap().to_string())
        .collect()
}

e2e_test! {
    async fn the_committee_is_drawn_verifiably(app: TestApp) {
        let hall = "370200";
        let owner_org = app.create_org("Draw Bureau", "tenderee", hall).await;
        let owner = app.create_user("draw.owner", &["tenderee"], Some(&owner_org), hall).await;
        let officer = app.create_user("draw.officer", &["centre_officer"], None, hall).await;
        let member = app.create_user("draw.member", &["committee_member"], None, hall).await;
        let member_id = user_id(&app, &member).await;
        let member_key = crate::support::member_identity();
        let tender = app.create_tender(&owner, "DRAW-2026-001", 21).await;
        member_committee(&app, &owner, &tender, (&member, &member_id), Some(&member_key)).await;
        app.post(&format!("/tenders/{tender}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(200);
        let mut bidders = Vec::new();
        let mut codes = Vec::new();
        for i in 1..=3 {
            let org = app.create_org(&format!("Draw Builder {i}"), "bidder", hall).await;
            let token = app.create_user(&format!("draw.bidder{i}"), &["bidder"], Some(&org), hall).await;
            let o = app.get(&format!("/orgs/{org}"), Some(&token)).await.expect(200);
            codes.push(o.body["credit_code"].as_str().unwrap().to_string());
            let b = FixtureBidder { token, org, key: SigningKey::generate(&mut rand::rngs::OsRng) };
            let (reference, _) = bid(&app, &b, &tender, &format!("95{i}000.00")).await;
            crate::screening::pay(&app, &format!("DRAW-{i}"), &reference, &format!("6222{i:012}")).await;
            bidders.push(b);
        }

        // The pool: a bad file is refused whole, naming each bad line.
        let bad = "id,name,specialties,region,available\nE01,Li,A01,370200,yes\nE02,,A01,370200,maybe\n,Wang,A01,999999,yes\n";
        let r = post_csv(&app, &officer, bad).await.expect(422);
        assert_eq!(r.code(), "invalid_expert_rows");
        assert!(r.text.contains("line 3") && r.text.contains("line 4"), "{}", r.text);
        let r = post_csv(&app, &bidders[0].token, &pool_csv(&codes[0], &codes[1])).await.expect(403);
        assert_eq!(r.code(), "forbidden");
        assert_eq!(app.get("/experts", Some(&officer)).await.expect(200).body["pool_size"], 0);
        let csv = pool_csv(&codes[0], &codes[1]);
        let r = post_csv(&app, &officer, &csv).await.expect(200);
        assert_eq!(r.body["imported"], 12);
        let digest = r.body["pool_digest"].as_str().unwrap().to_string();

        let request = json!({"committee_size": 5, "tenderee_representatives": 1,
                             "quotas": [{"specialty": "A01", "count": 3}, {"specialty": "B02", "count": 1}]});
        // Before the opening there is nothing to draw for.
        let r = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer), request.clone()).await.expect(409);
        assert_eq!(r.code(), "not_opened");
        app.clock.advance(Duration::days(22));
        sealbid_server::scheduler::tick(&app.state).await.unwrap();
        open_as_member(&app, &member, &tender, 1, &member_key).await;

        // Bad requests and a shortfall are refused, with nothing stored.
        let r = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer),
            json!({"committee_size": 4, "tenderee_representatives": 0, "quotas": [{"specialty": "A01", "count": 4}]})).await.expect(422);
        assert_eq!(r.code(), "invalid_draw_request");
        let r = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer),
            json!({"committee_size": 5, "tenderee_representatives": 1,
                   "quotas": [{"specialty": "A01", "count": 1}, {"specialty": "B02", "count": 3}]})).await.expect(422);
        assert_eq!(r.code(), "draw_shortfall");
        assert!(r.text.contains("B02 needs 3 but only 2 eligible"), "{}", r.text);
        app.get(&format!("/tenders/{tender}/committee-draw"), None).await.expect(404);
        app.post(&format!("/tenders/{tender}/committee-draw"), Some(&owner), request.clone()).await.expect(403);

        // The draw.
        let d = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer), request.clone()).await.expect(201);
        let drawn = members(&d.body);
        assert_eq!(drawn.len(), 4, "{}", d.text);
        assert!(!drawn.contains(&"E03".to_string()) && !drawn.contains(&"E10".to_string()) && !drawn.contains(&"E12".to_string()));
        let public = &d.body["public"];
        assert_eq!(public["pool_digest"], digest.as_str());
        assert_eq!(public["exclusions"]["employer_is_bidder"], 1);
        assert_eq!(public["exclusions"]["declared_relationship"], 1);
        assert_eq!(public["exclusions"]["unavailable"], 1);
        let committee = app.get(&format!("/tenders/{tender}/committee"), None).await.expect(200);
        assert_eq!(public["closing_checkpoint"], committee.body["closing_checkpoint"]);
        // Names: the trading centre sees them; the public and the bidders see only pool ids.
        let named = app.get(&format!("/tenders/{tender}/committee-draw"), Some(&officer)).await.expect(200);
        assert_eq!(named.body["private"]["members"].as_array().unwrap().len(), 4);
        for token in [None, Some(bidders[0].token.as_str()), Some(owner.as_str())] {
            let r = app.get(&format!("/tenders/{tender}/committee-draw"), token).await.expect(200);
            assert!(r.body["private"].is_null(), "{}", r.text);
            assert!(!r.text.contains("专家"), "a name leaked: {}", r.text);
        }
        let r = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer), request.clone()).await.expect(409);
        assert_eq!(r.code(), "already_drawn");

        // The public re-run: `sealbid verify-draw` with the pool file.
        let dir = tempfile::tempdir().unwrap();
        let pool_file = dir.path().join("pool.csv");
        std::fs::write(&pool_file, &csv).unwrap();
        let verify = |file: &std::path::Path| {
            Command::new(env!("CARGO_BIN_EXE_sealbid"))
                .args(["verify-draw", &tender, "--server", &app.base, "--pool", file.to_str().unwrap()])
                .output()
                .unwrap()
        };
        let out = verify(&pool_file);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("the draw verifies"));
        // Anyone can: the public pool (names withheld) comes with the draw, and re-runs it.
        let public_pool = app.client.get(app.api(&format!("/tenders/{tender}/committee-draw/pool"))).send().await.unwrap();
        assert_eq!(public_pool.status(), 200);
        let text = public_pool.text().await.unwrap();
        assert!(text.lines().count() == 13 && !text.contains("专家") && text.contains("(withheld)"), "{text}");
        let out = Command::new(env!("CARGO_BIN_EXE_sealbid"))
            .args(["verify-draw", &tender, "--server", &app.base])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("the draw verifies"));

        // The pool moves on after the draw (a new expert); the draw keeps the pool it was made from.
        post_csv(&app, &officer, "id,name,specialties,region,available\nE13,专家13,A01 building works,370200,yes\n").await.expect(200);
        // A member declines: replaced by the next draw of the same sequence, in the same seat.
        let r = app.post(&format!("/tenders/{tender}/committee-draw/decline"), Some(&officer),
            json!({"expert_id": "E99", "version": 1})).await.expect(422);
        assert_eq!(r.code(), "not_a_member");
        let r = app.post(&format!("/tenders/{tender}/committee-draw/decline"), Some(&officer),
            json!({"expert_id": drawn[0], "version": 7})).await.expect(409);
        assert_eq!(r.code(), "version_conflict");
        let r = app.post(&format!("/tenders/{tender}/committee-draw/decline"), Some(&officer),
            json!({"expert_id": drawn[0], "version": 1})).await.expect(200);
        let after = members(&r.body);
        assert_eq!(after.len(), 4);
        assert!(!after.contains(&drawn[0]));
        assert_eq!(after[1..], drawn[1..], "the other seats keep their members");
        assert_eq!(r.body["version"], 2);
        let out = verify(&pool_file);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

        // Members sign in with evaluator accounts the centre links to their pool ids.
        let member_acc = app.create_user("expert.member", &["evaluator"], None, hall).await;
        let outsider_acc = app.create_user("expert.outsider", &["evaluator"], None, hall).await;
        let outsider_expert = ["E01", "E02", "E04", "E05", "E06", "E07", "E08", "E09", "E11"]
            .into_iter()
            .find(|e| !after.contains(&e.to_string()))
            .unwrap();
        for (acc, expert) in [(&member_acc, after[1].as_str()), (&outsider_acc, outsider_expert)] {
            let uid = user_id(&app, acc).await;
            app.put(&format!("/experts/{expert}/account"), Some(&officer), json!({"user_id": uid})).await.expect(204);
        }
        let owner_id = user_id(&app, &owner).await;
        let r = app.put(&format!("/experts/{}/account", after[2]), Some(&officer), json!({"user_id": owner_id})).await.expect(422);
        assert_eq!(r.code(), "not_an_evaluator");
        app.put("/experts/E404/account", Some(&officer), json!({"user_id": owner_id})).await.expect(404);
        app.put(&format!("/experts/{}/account", after[2]), Some(&bidders[0].token), json!({"user_id": owner_id})).await.expect(403);

        // Nothing of the bids before the declaration; nothing at all for someone else's tender.
        let bids_path = format!("/tenders/{tender}/evaluation/bids");
        let r = app.get(&bids_path, Some(&member_acc)).await.expect(403);
        assert!(r.text.contains("declare"), "{}", r.text);
        for token in [&outsider_acc, &bidders[0].token, &owner] {
            let r = app.get(&bids_path, Some(token)).await.expect(403);
            assert!(!r.text.contains("95"), "{}", r.text);
            app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(token), json!({"no_conflict": true})).await.expect(403);
        }
        let r = app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(&member_acc), json!({"no_conflict": false})).await.expect(422);
        assert_eq!(r.code(), "conflict_declared");
        app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(&member_acc),
            json!({"no_conflict": true, "statement": "与本项目投标人无利害关系"})).await.expect(204);
        let r = app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(&member_acc), json!({"no_conflict": true})).await.expect(409);
        assert_eq!(r.code(), "already_declared");
        let r = app.get(&bids_path, Some(&member_acc)).await.expect(200);
        let shown = r.body.as_array().unwrap();
        assert_eq!(shown.len(), 3);
        assert!(shown.iter().all(|b| b["outcome"] == "valid" && b["price"].is_string()), "{}", r.text);

        // Scoring: the scheme, then sheets sealed from the other members until all are in.
        let scheme = json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"},
            "criteria": [{"id": "T1", "part": "technical", "label": "施工方案", "max": "60"},
                         {"id": "P", "part": "price", "label": "报价", "max": "40"}]});
        let bad_scheme = json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"},
            "criteria": [{"id": "T1", "part": "technical", "label": "x", "max": "50"},
                         {"id": "P", "part": "price", "label": "y", "max": "40"}]});
        let r = app.put(&format!("/tenders/{tender}/evaluation/scheme"), Some(&officer), bad_scheme).await.expect(422);
        assert_eq!(r.code(), "weights_not_100");
        app.put(&format!("/tenders/{tender}/evaluation/scheme"), Some(&bidders[0].token), scheme.clone()).await.expect(403);
        app.put(&format!("/tenders/{tender}/evaluation/scheme"), Some(&owner), scheme.clone()).await.expect(204);
        // Every member signs in and declares.
        let mut accounts = Vec::new();
        for (i, expert) in after.iter().enumerate() {
            let acc = if i == 1 {
                member_acc.clone()
            } else {
                let acc = app.create_user(&format!("expert.seat{i}"), &["evaluator"], None, hall).await;
                let uid = user_id(&app, &acc).await;
                app.put(&format!("/experts/{expert}/account"), Some(&officer), json!({"user_id": uid})).await.expect(204);
                app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(&acc), json!({"no_conflict": true})).await.expect(204);
                acc
            };
            accounts.push(acc);
        }
        // The tenderee's representative takes the seat the draw reserved, and scores too.
        let rep = app.create_user("draw.rep", &["tenderee"], Some(&owner_org), hall).await;
        let rep_id = user_id(&app, &rep).await;
        app.put(&format!("/tenders/{tender}/evaluation/representatives"), Some(&owner), json!({"user_ids": [rep_id]})).await.expect(200);
        app.post(&format!("/tenders/{tender}/evaluation/declaration"), Some(&rep), json!({"no_conflict": true})).await.expect(204);
        accounts.push(rep);
        let bid_ids: Vec<String> = {
            let tid: sealbid_domain::TenderId = tender.parse().unwrap();
            app.state.store.list_bids(tid).await.unwrap().into_iter().map(|b| b.id.to_string()).collect()
        };
        assert_eq!(bid_ids.len(), 3);
        let sheet_path = |bid: &str| format!("/tenders/{tender}/evaluation/sheets/{bid}");
        // Out of range, the price scored by hand, and an outsider: refused.
        let r = app.put(&sheet_path(&bid_ids[0]), Some(&accounts[0]), json!({"scores": {"T1": "61"}})).await.expect(422);
        assert_eq!(r.code(), "score_out_of_range");
        let r = app.put(&sheet_path(&bid_ids[0]), Some(&accounts[0]), json!({"scores": {"T1": "50", "P": "40"}})).await.expect(422);
        assert_eq!(r.code(), "price_scored_by_formula");
        app.put(&sheet_path(&bid_ids[0]), Some(&outsider_acc), json!({"scores": {"T1": "50"}})).await.expect(403);
        for (i, acc) in accounts.iter().enumerate() {
            for (j, bid) in bid_ids.iter().enumerate() {
                if i == 3 && j == 2 {
                    continue; // the last member has one sheet to go
                }
                app.put(&sheet_path(bid), Some(acc), json!({"scores": {"T1": format!("{}.5", 40 + i + j)}})).await.expect(204);
            }
        }
        let sheets_path = format!("/tenders/{tender}/evaluation/sheets");
        let v = app.get(&sheets_path, Some(&accounts[0])).await.expect(200);
        assert_eq!(v.body["complete"], false);
        assert_eq!(v.body["per_member"], 3);
        let seen = v.body["sheets"].as_array().unwrap();
        assert_eq!(seen.len(), 3, "only the member's own sheets before all are in: {}", v.text);
        let me = user_id(&app, &accounts[0]).await;
        assert!(seen.iter().all(|s| s["evaluator"] == me.as_str()));
        assert!(!v.text.contains("43.5"), "another member's score leaked: {}", v.text);
        assert_eq!(v.body["submitted"][after[3].as_str()], 2);
        app.get(&sheets_path, Some(&outsider_acc)).await.expect(403);
        // The last sheet: everyone's sheets open to every member.
        app.put(&sheet_path(&bid_ids[2]), Some(&accounts[3]), json!({"scores": {"T1": "45"}})).await.expect(204);
        let v = app.get(&sheets_path, Some(&accounts[0])).await.expect(200);
        assert_eq!(v.body["complete"], true);
        assert_eq!(v.body["sheets"].as_array().unwrap().len(), 15);
        // The scheme no longer changes once scoring has started.
        let r = app.put(&format!("/tenders/{tender}/evaluation/scheme"), Some(&owner), scheme).await.expect(409);
        assert_eq!(r.code(), "scoring_started");

        // A pool that differs in what the draw reads does not verify (names it never reads).
        std::fs::write(&pool_file, csv.replace("E01,专家1,A01 building works,370200,yes", "E01,专家1,A01 building works,370200,no")).unwrap();
        let out = verify(&pool_file);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pool digest"), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
