//! The anomaly engine on the platform, through the real server on SQLite and PostgreSQL: four
//! bidders bid, two of them at the same price and two paying their deposits from one account; the
//! opening screens the tender by itself; only supervisors see the alerts; a supervisor walks the
//! deposit alert to "confirmed" (bad steps refused with nothing changed), which marks both bids
//! for rejection and bars both bidders in their credit histories, as the tenderee sees; re-running
//! the screening stores nothing new and leaves the decision as it was.
use chrono::Duration;
use reqwest::Method;
use sealbid_seal::keys::SigningKey;
use sealbid_seal::payload::{NamedPerson, Personnel};
use serde_json::{json, Value};

use crate::api_authz::{bid_with, member_committee, open_as_member, user_id, FixtureBidder};
use crate::support::TestApp;

/// Pays a bid's deposit through the bank callback, signed as the bank signs it.
pub(crate) async fn pay(app: &TestApp, txn: &str, reference: &str, account: &str) {
    let body = serde_json::to_vec(&json!({
        "transaction_id": txn,
        "reference": reference,
        "amount": "20000.00",
        "payer_name": "Payer",
        "account_number": account,
        "bank": "Bank of Qingdao",
        "paid_at": app.clock_now().to_rfc3339(),
    }))
    .unwrap();
    let mac = hex::encode(app.state.sealing.bank_mac(&body));
    let req = app
        .client
        .request(Method::POST, app.api("/bank/deposits"))
        .header("x-sealbid-signature", mac)
        .header("content-type", "application/json")
        .body(body);
    app.send(req).await.expect(200);
}

fn find<'a>(alerts: &'a [Value], indicator: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| a["indicator"] == indicator)
}

e2e_test! {
    async fn opening_screens_and_a_supervisor_confirms(app: TestApp) {
        let hall = "370200";
        let owner_org = app.create_org("Works Bureau", "tenderee", hall).await;
        let owner = app.create_user("screen.owner", &["tenderee"], Some(&owner_org), hall).await;
        let officer = app.create_user("screen.officer", &["centre_officer"], None, hall).await;
        let supervisor = app.create_user("screen.supervisor", &["supervisor"], None, hall).await;
        app.create_hall("370100", "Jinan City Hall").await;
        let far_supervisor = app.create_user("far.supervisor", &["supervisor"], None, "370100").await;
        let member = app.create_user("screen.member", &["committee_member"], None, hall).await;
        let member_id = user_id(&app, &member).await;
        let member_key = crate::support::member_identity();
        let tender = app.create_tender(&owner, "SCREEN-2026-001", 21).await;
        member_committee(&app, &owner, &tender, (&member, &member_id), Some(&member_key)).await;
        app.post(&format!("/tenders/{tender}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{tender}/approve"), Some(&officer), json!({})).await.expect(200);

        let mut bidders = Vec::new();
        for i in 1..=4 {
            let org = app.create_org(&format!("Screen Builder {i} Co."), "bidder", hall).await;
            let token = app.create_user(&format!("screen.bidder{i}"), &["bidder"], Some(&org), hall).await;
            bidders.push(FixtureBidder { token, org, key: SigningKey::generate(&mut rand::rngs::OsRng) });
        }
        // Bidders 1 and 2 bid the same price; 3 and 4 pay from one account.
        let prices = ["948000.00", "948000.00", "963500.00", "981200.00"];
        let accounts = ["6222000000000001", "6222000000000002", "6222 0000 0000 0099", "6222-0000-0000-0099"];
        // Bidders 2 and 3 hand in the same technical proposal, down to its typos; the others write
        // their own.
        let copied = "施工组织设计：本工程采用分段流水施工，基坑支护采用钻孔灌注桩加内支撑体系，\
            混凝土浇筑采用商品砼泵送工艺，冬季施工采取暖棚法养护措施，安全文明施工按照标准化工地要求执行，\
            项目经理部设质量、安全、技术三个职能组，关键工序实行旁站监理，材料进场实行见证取样复试制度。\
            特别说明：本方案的排水沟坡度按千分之三设置，沉降观测点按每二十米一个布置，养护期不少于十四天。";
        let own = [
            "技术方案甲：采用装配式钢结构体系，构件工厂预制，现场螺栓连接，工期一百二十天，配备两台塔吊。",
            copied,
            copied,
            "技术方案丁：主体采用现浇框架结构，模板采用铝模体系，设置三个流水段，配置劳务班组八个。",
        ];
        for (i, (b, p)) in bidders.iter().zip(prices).enumerate() {
            // Bidders 1 and 4 upload from the same machine (the same bid-preparation device id).
            let device = if i == 0 || i == 3 { "3f2a9c0d5e6b7a81" } else { ["a1", "b2", "c3", "d4"][i] };
            // Bidders 1 and 2 name the same project manager (same registration number).
            let personnel = Personnel {
                project_members: vec![NamedPerson {
                    name: if i < 2 { "王建军".into() } else { format!("项目经理{i}") },
                    certificate: Some(if i < 2 { "鲁237060912345".into() } else { format!("鲁2370609{i:05}") }),
                }],
                ..Default::default()
            };
            // Bidders 2 and 3 seal their folder as `sealbid seal --technical DIR` does: a tar archive.
            let technical = if i == 1 || i == 2 {
                let mut t = tar::Builder::new(Vec::new());
                for (name, text) in [("方案/施工组织设计.txt", own[i].to_string()), ("说明.txt", format!("投标人{i}的报价说明"))] {
                    let mut h = tar::Header::new_gnu();
                    h.set_size(text.len() as u64);
                    h.set_mode(0o644);
                    h.set_cksum();
                    t.append_data(&mut h, name, text.as_bytes()).unwrap();
                }
                t.into_inner().unwrap()
            } else {
                own[i].as_bytes().to_vec()
            };
            let (reference, _) = bid_with(&app, b, &tender, p, Some(&technical), Some(device), personnel).await;
            pay(&app, &format!("SCREEN-TXN-{i}"), &reference, accounts[i]).await;
        }
        // A malformed device id is refused before anything is read or stored.
        let req = app
            .client
            .post(app.api(&format!("/tenders/{tender}/bids")))
            .bearer_auth(&bidders[0].token)
            .header("content-type", "application/json")
            .header("x-sealbid-device", "not a device id")
            .body("{}");
        let r = app.send(req).await.expect(422);
        assert_eq!(r.code(), "invalid_device_id");
        app.clock.advance(Duration::days(22));
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 1);
        // Before the opening there is nothing to screen.
        let r = app.post(&format!("/tenders/{tender}/screening"), Some(&supervisor), json!({})).await.expect(409);
        assert_eq!(r.code(), "not_opened");
        open_as_member(&app, &member, &tender, 1, &member_key).await;

        // The opening screened the tender.
        let s = app.get(&format!("/tenders/{tender}/screening"), Some(&supervisor)).await.expect(200);
        assert_eq!(s.body["result"]["trigger"], "opening");
        assert_eq!(s.body["result"]["bids"].as_array().unwrap().len(), 4);
        assert!(s.body["result"]["screens"]["cv"].as_f64().unwrap() > 0.0, "{}", s.text);
        let list = app.get(&format!("/alerts?tender={tender}"), Some(&supervisor)).await.expect(200);
        let alerts = list.body["alerts"].as_array().unwrap().clone();
        let same_price = find(&alerts, "identical_prices").unwrap_or_else(|| panic!("no identical-prices alert: {}", list.text));
        assert_eq!(same_price["legal_ground"], "条例 40(4)");
        let named: Vec<&str> = same_price["bidders"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
        let mut want = vec![bidders[0].org.as_str(), bidders[1].org.as_str()];
        want.sort();
        assert_eq!(named, want);
        assert!(same_price["bidders"][0]["name"].as_str().unwrap().starts_with("Screen Builder"));
        let deposit = find(&alerts, "shared_deposit_account").unwrap_or_else(|| panic!("no deposit alert: {}", list.text)).clone();
        assert_eq!(deposit["legal_ground"], "条例 40(6)");
        assert_eq!(deposit["status"], "open");
        let id = deposit["id"].as_str().unwrap().to_string();
        // The copied technical proposal was compared at the opening (in memory only; the screening stores the alert and its evidence, not the document).
        let text = find(&alerts, "near_duplicate_text")
            .or_else(|| find(&alerts, "identical_file"))
            .unwrap_or_else(|| panic!("no document alert: {}", list.text));
        let named: Vec<&str> = text["bidders"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert!(named.contains(&bidders[1].org.as_str()) && named.contains(&bidders[2].org.as_str()), "{text}");
        // It names the file inside the sealed archive.
        let d = app.get(&format!("/alerts/{}", text["id"].as_str().unwrap()), Some(&supervisor)).await.expect(200);
        assert!(d.text.contains("施工组织设计.txt"), "{}", d.text);
        let same_pm = find(&alerts, "shared_project_member").unwrap_or_else(|| panic!("no project-member alert: {}", list.text));
        assert_eq!(same_pm["legal_ground"], "条例 40(3)");
                let same_device = find(&alerts, "same_upload_source").unwrap_or_else(|| panic!("no upload-source alert: {}", list.text));
        assert_eq!(same_device["legal_ground"], "条例 40(2)");
        let mut named: Vec<&str> = same_device["bidders"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
        named.sort();
        let mut want = vec![bidders[0].org.as_str(), bidders[3].org.as_str()];
        want.sort();
        assert_eq!(named, want);
        // Filters.
        let f = app.get(&format!("/alerts?bidder={}&status=open", bidders[3].org), Some(&supervisor)).await.expect(200);
        assert!(f.body["alerts"].as_array().unwrap().iter().all(|a| a["bidders"].as_array().unwrap().iter().any(|b| b["id"] == bidders[3].org.as_str())));
        assert!(f.body["total"].as_u64().unwrap() >= 1);
        let f = app.get("/alerts?indicator=identical_prices&min_score=0.5", Some(&supervisor)).await.expect(200);
        assert_eq!(f.body["total"], 1);
        let r = app.get("/alerts?min_score=2", Some(&supervisor)).await.expect(400);
        assert_eq!(r.code(), "invalid_query");

        // Nobody else sees alerts: not the bidders, not the tenderee, not a supervisor elsewhere.
        for token in [&bidders[3].token, &owner, &officer] {
            app.get("/alerts", Some(token)).await.expect(403);
            app.get(&format!("/alerts/{id}"), Some(token)).await.expect(403);
        }
        let far = app.get("/alerts", Some(&far_supervisor)).await.expect(200);
        assert_eq!(far.body["total"], 0);
        app.get(&format!("/alerts/{id}"), Some(&far_supervisor)).await.expect(404);

        // The alert's page data: evidence with the shared account, masked.
        let d = app.get(&format!("/alerts/{id}"), Some(&supervisor)).await.expect(200);
        assert!(d.text.contains("0099"), "{}", d.text);
        assert!(d.body["alert"]["score"]["value"].as_f64().unwrap() > 0.5);
        assert!(!d.body["alert"]["score"]["method"].as_str().unwrap().is_empty());

        // Bad steps are refused and change nothing.
        let audit_before = app.get(&format!("/tenders/{tender}/audit"), Some(&supervisor)).await.expect(200).body;
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "confirm", "reason": "x", "version": 1})).await.expect(409);
        assert_eq!(r.code(), "illegal_transition");
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "start", "version": 7})).await.expect(409);
        assert_eq!(r.code(), "version_conflict");
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "close", "version": 1})).await.expect(400);
        assert_eq!(r.status, 400);
        let r = app.post(&format!("/alerts/{id}/review"), Some(&bidders[2].token), json!({"action": "start", "version": 1})).await.expect(403);
        assert_eq!(r.code(), "forbidden");
        let again = app.get(&format!("/alerts/{id}"), Some(&supervisor)).await.expect(200);
        assert_eq!(again.body["status"], "open");
        assert_eq!(again.body["version"], 1);
        assert_eq!(app.get(&format!("/tenders/{tender}/audit"), Some(&supervisor)).await.expect(200).body, audit_before);

        // open → under review → confirmed, with a reason and a one-year bar.
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "start", "reason": "", "version": 1})).await.expect(200);
        assert_eq!(r.body["status"], "under_review");
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "confirm", "reason": "   ", "version": 2})).await.expect(422);
        assert_eq!(r.code(), "reason_required");
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "confirm", "reason": "r", "bar_days": 5000, "version": 2})).await.expect(422);
        assert_eq!(r.code(), "bar_out_of_range");
        let r = app
            .post(&format!("/alerts/{id}/review"), Some(&supervisor),
                json!({"action": "confirm", "reason": "both deposits came from account 6222…0099", "bar_days": 365, "version": 2}))
            .await
            .expect(200);
        assert_eq!(r.body["status"], "confirmed");
        let steps = r.body["reviews"].as_array().unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[1]["to"], "confirmed");
        assert!(steps[1]["reason"].as_str().unwrap().contains("0099"));
        // Decided: nothing moves it again.
        let r = app.post(&format!("/alerts/{id}/review"), Some(&supervisor), json!({"action": "dismiss", "reason": "x", "version": 3})).await.expect(409);
        assert_eq!(r.code(), "illegal_transition");

        // Both bids are marked for rejection; the tenderee sees it and the bars.
        let rj = app.get(&format!("/tenders/{tender}/rejections"), Some(&owner)).await.expect(200);
        let rejected: Vec<&str> = rj.body.as_array().unwrap().iter().map(|r| r["bidder"].as_str().unwrap()).collect();
        assert_eq!(rejected.len(), 2);
        assert!(rejected.contains(&bidders[2].org.as_str()) && rejected.contains(&bidders[3].org.as_str()));
        assert_eq!(rj.body[0]["ground"], "条例 40(6)");
        let c = app.get(&format!("/orgs/{}/credit", bidders[3].org), Some(&owner)).await.expect(200);
        assert_eq!(c.body["records"].as_array().unwrap().len(), 1);
        assert_eq!(c.body["records"][0]["kind"], "collusion");
        assert!(c.body["barred_until"].is_string(), "{}", c.text);
        // The bidder sees its own record, not another's; a clean bidder has none.
        app.get(&format!("/orgs/{}/credit", bidders[3].org), Some(&bidders[3].token)).await.expect(200);
        app.get(&format!("/orgs/{}/credit", bidders[3].org), Some(&bidders[0].token)).await.expect(403);
        let clean = app.get(&format!("/orgs/{}/credit", bidders[0].org), Some(&owner)).await.expect(200);
        assert!(clean.body["records"].as_array().unwrap().is_empty());
        assert!(clean.body["barred_until"].is_null());
        // While barred, bidder 4 cannot bid on another tender; bidder 1 can.
        let next = app.create_tender(&owner, "SCREEN-2026-002", 21).await;
        member_committee(&app, &owner, &next, (&member, &member_id), Some(&member_key)).await;
        app.post(&format!("/tenders/{next}/submit"), Some(&owner), json!({})).await.expect(200);
        app.post(&format!("/tenders/{next}/approve"), Some(&officer), json!({})).await.expect(200);
        let r = app.post(&format!("/tenders/{next}/deposit-reference"), Some(&bidders[3].token), json!({})).await.expect(422);
        assert_eq!(r.code(), "bidder_barred");
        assert!(r.text.contains("barred from bidding until"), "{}", r.text);
        app.post(&format!("/tenders/{next}/deposit-reference"), Some(&bidders[0].token), json!({})).await.expect(200);
        // A year later the bar has lapsed; the record stays.
        app.clock.advance(Duration::days(366));
        let owner = app.login("screen.owner").await;
        let supervisor = app.login("screen.supervisor").await;
        let c = app.get(&format!("/orgs/{}/credit", bidders[3].org), Some(&owner)).await.expect(200);
        assert!(c.body["barred_until"].is_null());
        assert_eq!(c.body["records"].as_array().unwrap().len(), 1);

        // Re-running is idempotent and keeps the decision.
        let total = app.get(&format!("/alerts?tender={tender}"), Some(&supervisor)).await.expect(200).body["total"].clone();
        let r = app.post(&format!("/tenders/{tender}/screening"), Some(&supervisor), json!({})).await.expect(200);
        assert_eq!(r.body["new_alerts"], 0, "{}", r.text);
        let r = app.post("/screening/history", Some(&supervisor), json!({})).await.expect(200);
        assert_eq!(r.body["tenders"].as_array().unwrap().len(), 1);
        assert_eq!(r.body["tenders"][0]["new_alerts"], 0);
        assert_eq!(app.get(&format!("/alerts?tender={tender}"), Some(&supervisor)).await.expect(200).body["total"], total);
        assert_eq!(app.get(&format!("/alerts/{id}"), Some(&supervisor)).await.expect(200).body["status"], "confirmed");
        let s = app.get(&format!("/tenders/{tender}/screening"), Some(&supervisor)).await.expect(200);
        assert_eq!(s.body["result"]["trigger"], "history");
    }
}
