//! A tender's whole life through the API: create, submit, return with problems, edit, submit,
//! approve (publish), a question and an answer that moves the deadline, an amendment, and the
//! scheduler closing it at the deadline — with the audit trail and the chain checked at the end.
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

fn time(v: &serde_json::Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

e2e_test! {
    async fn full_lifecycle(app: TestApp) {
        // Parties: a tenderee and a bidder organisation in the Shinan district hall, a centre
        // officer of the Qingdao city hall (which covers Shinan), a supervisor.
        app.create_hall("370202", "Shinan District Hall").await;
        let tenderee_org = app.create_org("Shinan Roads Bureau", "tenderee", "370202").await;
        let bidder_org = app.create_org("Haiwan Construction Co.", "bidder", "370202").await;
        let tenderee = app.create_user("wang.tenderee", &["tenderee"], Some(&tenderee_org), "370202").await;
        let bidder = app.create_user("li.bidder", &["bidder"], Some(&bidder_org), "370202").await;
        let officer = app.create_user("zhao.officer", &["centre_officer"], None, "370200").await;
        let supervisor = app.create_user("sun.supervisor", &["supervisor"], None, "370200").await;

        let me = app.get("/me", Some(&tenderee)).await.expect(200);
        assert_eq!(me.body["user"]["username"], "wang.tenderee");
        assert_eq!(me.body["org"]["id"], tenderee_org.as_str());

        // Create: a draft in the organisation's hall.
        let created = app
            .post("/tenders", Some(&tenderee), app.tender_body("QD-2025-0001", 30))
            .await
            .expect(201);
        let id = created.body["id"].as_str().unwrap().to_string();
        app.set_committee(&tenderee, &id, 2, &[crate::support::member_identity().recipient()], true)
            .await;
        assert_eq!(created.body["state"], "draft");
        assert_eq!(created.body["hall"], "370202");
        assert_eq!(created.body["terms"]["estimated_price"], "1000000.00");
        assert_eq!(
            created.headers["location"].to_str().unwrap(),
            format!("/api/v1/tenders/{id}")
        );
        let path = format!("/tenders/{id}");

        // A draft is the tenderee's alone.
        app.get(&path, None).await.expect(404);
        app.get(&path, Some(&bidder)).await.expect(404);
        app.get(&path, Some(&officer)).await.expect(404);
        let mine = app.get("/tenders?mine=true", Some(&tenderee)).await.expect(200);
        assert_eq!(mine.body["total"], 1);

        // Submit: under review, due in 3 working days (Thursday 6 March, end of day in China).
        let submitted = app
            .post(&format!("{path}/submit"), Some(&tenderee), json!({}))
            .await
            .expect(200);
        assert_eq!(submitted.body["state"], "under_review");
        assert_eq!(submitted.body["review_due"], "2025-03-06T15:59:59Z");
        app.get(&path, Some(&officer)).await.expect(200);
        app.get(&path, Some(&supervisor)).await.expect(200);
        app.get(&path, None).await.expect(404);

        let queue = app.get("/reviews", Some(&officer)).await.expect(200);
        assert_eq!(queue.body["total"], 1);
        assert_eq!(queue.body["items"][0]["tender"]["id"], id.as_str());
        assert_eq!(queue.body["items"][0]["overdue"], false);

        // Return with two problems, listed at once.
        let returned = app
            .post(
                &format!("{path}/return"),
                Some(&officer),
                json!({"problems": [
                    "the qualification criteria must name the licence grade's issuing authority",
                    "attach the bill of quantities"
                ]}),
            )
            .await
            .expect(200);
        assert_eq!(returned.body["state"], "draft");
        assert_eq!(returned.body["last_return"]["problems"].as_array().unwrap().len(), 2);
        assert_eq!(returned.body["review_due"], serde_json::Value::Null);

        // Edit the draft and submit again.
        let mut body = app.tender_body("QD-2025-0001", 30);
        body["qualification_criteria"] = json!([
            "Grade II road construction licence issued by the provincial housing department"
        ]);
        // Attach the bill of quantities the centre asked for; editing the terms keeps it.
        let upload = app
            .client
            .post(app.api(&format!("{path}/documents?name=bill-of-quantities.xlsx")))
            .bearer_auth(&tenderee)
            .body(b"item,qty,unit price\npaving,12000,85.00\n".to_vec());
        app.send(upload).await.expect(201);
        let edited = app.put(&path, Some(&tenderee), body).await.expect(200);
        assert_eq!(edited.body["terms"]["documents"].as_array().unwrap().len(), 1);
        assert_eq!(
            edited.body["terms"]["documents"][0]["name"],
            "bill-of-quantities.xlsx"
        );
        app.post(&format!("{path}/submit"), Some(&tenderee), json!({}))
            .await
            .expect(200);

        // The review runs late: after four days the queue flags it.
        app.clock.advance(Duration::days(4));
        let queue = app.get("/reviews", Some(&officer)).await.expect(200);
        assert_eq!(queue.body["items"][0]["overdue"], true);

        // Approve: published now, visible to everyone.
        let published = app
            .post(&format!("{path}/approve"), Some(&officer), json!({}))
            .await
            .expect(200);
        assert_eq!(published.body["state"], "published");
        assert_eq!(time(&published.body["published_at"]), app.clock_now());
        let public = app.get("/tenders", None).await.expect(200);
        assert_eq!(public.body["total"], 1);
        app.get(&path, None).await.expect(200);
        let deadline = time(&published.body["terms"]["bid_deadline"]);

        // A bidder asks; the question is not public until answered, and the tenderee does not
        // learn who asked.
        let asked = app
            .post(
                &format!("{path}/questions"),
                Some(&bidder),
                json!({"text": "May the asphalt be sourced from outside the province?"}),
            )
            .await
            .expect(201);
        let qid = asked.body["id"].as_str().unwrap().to_string();
        let anon_qs = app.get(&format!("{path}/questions"), None).await.expect(200);
        assert_eq!(anon_qs.body.as_array().unwrap().len(), 0);
        let owner_qs = app.get(&format!("{path}/questions"), Some(&tenderee)).await.expect(200);
        assert_eq!(owner_qs.body.as_array().unwrap().len(), 1);
        assert!(owner_qs.body[0].get("asked_by").is_none(), "{}", owner_qs.text);
        let sup_qs = app.get(&format!("{path}/questions"), Some(&supervisor)).await.expect(200);
        assert_eq!(sup_qs.body[0]["asked_by_org"], bidder_org.as_str());

        // Ten days before the deadline the tenderee answers with a clarification that affects
        // bids: the deadline moves to 15 days after the answer (法 23).
        app.clock.set(deadline - Duration::days(10));
        let answered = app
            .post(
                &format!("{path}/questions/{qid}/answer"),
                Some(&tenderee),
                json!({"text": "Yes, if it meets JTG F40-2004.", "affects_bids": true}),
            )
            .await
            .expect(200);
        let moved_to = app.clock_now() + Duration::days(15);
        assert_eq!(time(&answered.body["answer"]["new_deadline"]), moved_to);
        let t = app.get(&path, None).await.expect(200);
        assert_eq!(time(&t.body["terms"]["bid_deadline"]), moved_to);
        assert_eq!(time(&t.body["terms"]["opening_time"]), moved_to);
        let anon_qs = app.get(&format!("{path}/questions"), None).await.expect(200);
        assert_eq!(anon_qs.body.as_array().unwrap().len(), 1);
        app.post(
            &format!("{path}/questions/{qid}/answer"),
            Some(&tenderee),
            json!({"text": "again", "affects_bids": false}),
        )
        .await
        .expect(409);

        // A day later an amendment: less than 15 days before the deadline, so it moves again.
        app.clock.advance(Duration::days(1));
        let amended = app
            .post(
                &format!("{path}/amendments"),
                Some(&tenderee),
                json!({"summary": "Deposit lowered", "changes": {"bid_deposit": "10000.00"}}),
            )
            .await
            .expect(201);
        assert_eq!(amended.body["deadline_pushed"], true);
        assert_eq!(time(&amended.body["previous_deadline"]), moved_to);
        let final_deadline = app.clock_now() + Duration::days(15);
        assert_eq!(time(&amended.body["new_deadline"]), final_deadline);
        let amendments = app.get(&format!("{path}/amendments"), None).await.expect(200);
        assert_eq!(amendments.body.as_array().unwrap().len(), 1);
        let t = app.get(&path, None).await.expect(200);
        assert_eq!(t.body["terms"]["bid_deposit"], "10000.00");

        // Just before the deadline the scheduler leaves it alone; past it, it closes it.
        app.clock.set(final_deadline - Duration::seconds(1));
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 0);
        app.clock.set(final_deadline + Duration::seconds(1));
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 1);
        assert_eq!(sealbid_server::scheduler::tick(&app.state).await.unwrap(), 0);
        // No bid was sealed: fewer than three, so the closing fails the tender (法 28).
        let closed = app.get(&path, None).await.expect(200);
        assert_eq!(closed.body["state"], "failed");
        // Too late for questions now.
        let late = app
            .post(&format!("{path}/questions"), Some(&bidder), json!({"text": "late?"}))
            .await
            .expect(409);
        assert_eq!(late.code(), "illegal_transition");
        assert_eq!(late.body["error"]["state"], "failed");

        // The trail: every change, in order, with who did it; the chain is intact.
        let trail = app.get(&format!("{path}/audit"), Some(&tenderee)).await.expect(200);
        let actions: Vec<&str> = trail
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["event"]["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "tender.create",
                "tender.committee",
                "tender.submit",
                "tender.return",
                "tender.document.add",
                "tender.edit",
                "tender.submit",
                "tender.publish",
                "tender.clarify",
                "tender.amend",
                "tender.close",
            ]
        );
        let close = trail
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["event"]["action"] == "tender.close")
            .unwrap();
        assert_eq!(close["event"]["actor"], serde_json::Value::Null);
        assert_eq!(close["event"]["before"]["state"], "published");
        assert_eq!(close["event"]["after"]["state"], "failed");
        let verify = app.get("/audit/verify", Some(&app.admin)).await.expect(200);
        assert_eq!(verify.body["ok"], true);
        assert!(verify.body["records"].as_i64().unwrap() >= 9);
    }
}

e2e_test! {
    async fn cancel_with_a_reason(app: TestApp) {
        app.create_hall("370202", "Shinan District Hall").await;
        let org = app.create_org("Shinan Roads Bureau", "tenderee", "370202").await;
        let tenderee = app.create_user("wang.tenderee", &["tenderee"], Some(&org), "370202").await;
        let id = app.create_tender(&tenderee, "QD-2025-0002", 30).await;
        let path = format!("/tenders/{id}/cancel");
        let r = app.post(&path, Some(&tenderee), json!({"reason": "  "})).await.expect(422);
        assert_eq!(r.code(), "reason_required");
        let r = app
            .post(&path, Some(&tenderee), json!({"reason": "budget withdrawn"}))
            .await
            .expect(200);
        assert_eq!(r.body["state"], "cancelled");
        assert_eq!(r.body["end_reason"], "budget withdrawn");
        // A cancelled tender is public (its notice says why) and final.
        app.get(&format!("/tenders/{id}"), None).await.expect(200);
        let r = app
            .post(&path, Some(&tenderee), json!({"reason": "again"}))
            .await
            .expect(409);
        assert_eq!(r.body["error"]["state"], "cancelled");
    }
}

e2e_test! {
    async fn sign_in_and_out(app: TestApp) {
        let r = app
            .post("/auth/login", None, json!({"username": "admin", "password": "wrong password!"}))
            .await
            .expect(401);
        assert_eq!(r.code(), "bad_credentials");
        let r = app
            .post("/auth/login", None, json!({"username": "nobody", "password": "wrong password!"}))
            .await
            .expect(401);
        assert_eq!(r.code(), "bad_credentials");
        // Usernames are case-insensitive.
        let r = app
            .post("/auth/login", None, json!({"username": "ADMIN", "password": crate::support::PASSWORD}))
            .await
            .expect(200);
        let token = r.body["token"].as_str().unwrap().to_string();
        assert_eq!(r.body["user"]["roles"], json!(["admin"]));
        let me = app.get("/me", Some(&token)).await.expect(200);
        assert_eq!(me.body["user"]["username"], "admin");
        app.post("/auth/logout", Some(&token), json!({})).await.expect(204);
        let r = app.get("/me", Some(&token)).await.expect(401);
        assert_eq!(r.code(), "unauthenticated");
        assert!(r.headers.contains_key("www-authenticate"));
        // Sessions expire with the clock.
        app.get("/me", Some(&app.admin)).await.expect(200);
        app.clock.advance(chrono::Duration::days(crate::support::SESSION_DAYS) + chrono::Duration::seconds(1));
        app.get("/me", Some(&app.admin)).await.expect(401);
    }
}

e2e_test! {
    async fn accounts_and_organisations(app: TestApp) {
        app.create_hall("370202", "Shinan District Hall").await;
        app.create_hall("370100", "Jinan City Hall").await;
        let halls = app.get("/halls", None).await.expect(200);
        assert_eq!(halls.body.as_array().unwrap().len(), 3);

        // A centre officer of Qingdao registers a bidder in Shinan and creates its account, but
        // may not grant staff roles nor act in Jinan.
        let officer = app.create_user("zhao.officer", &["centre_officer"], None, "370200").await;
        let org = app
            .post(
                "/orgs",
                Some(&officer),
                json!({"credit_code": "91110000600037341L", "name": "Haiwan Construction Co.", "kind": "bidder", "hall": "370202"}),
            )
            .await
            .expect(201);
        let org_id = org.body["id"].as_str().unwrap().to_string();
        let dup = app
            .post(
                "/orgs",
                Some(&officer),
                json!({"credit_code": "91110000600037341l", "name": "Copy", "kind": "bidder", "hall": "370202"}),
            )
            .await
            .expect(409);
        assert_eq!(dup.code(), "duplicate_credit_code");
        app.post(
            "/orgs",
            Some(&officer),
            json!({"credit_code": app.next_credit_code(), "name": "Jinan Co.", "kind": "bidder", "hall": "370100"}),
        )
        .await
        .expect(403);
        let user = |name: &str, roles: serde_json::Value, org: Option<&str>, hall: &str| {
            json!({"username": name, "display_name": name, "password": crate::support::PASSWORD,
                   "roles": roles, "org_id": org, "hall": hall})
        };
        app.post("/users", Some(&officer), user("li.bidder", json!(["bidder"]), Some(&org_id), "370202"))
            .await
            .expect(201);
        let r = app
            .post("/users", Some(&officer), user("li.bidder", json!(["bidder"]), Some(&org_id), "370202"))
            .await
            .expect(409);
        assert_eq!(r.code(), "duplicate_username");
        app.post("/users", Some(&officer), user("evil", json!(["admin"]), None, "370202"))
            .await
            .expect(403);
        app.post("/users", Some(&officer), user("far", json!(["bidder"]), Some(&org_id), "370100"))
            .await
            .expect(403);
        let r = app
            .post("/users", Some(&officer), user("no.org", json!(["bidder"]), None, "370202"))
            .await
            .expect(422);
        assert_eq!(r.code(), "org_required");
        let r = app
            .post("/users", Some(&app.admin), user("wrong.kind", json!(["tenderee"]), Some(&org_id), "370202"))
            .await
            .expect(422);
        assert_eq!(r.code(), "org_kind_mismatch");
        let r = app
            .post("/users", Some(&app.admin), user("weak", json!(["supervisor"]), None, "370202"))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let mut short = user("short.pw", json!(["supervisor"]), None, "370202");
        short["password"] = json!("short");
        let r = app.post("/users", Some(&app.admin), short).await.expect(422);
        assert_eq!(r.code(), "weak_password");

        // The officer lists the accounts of the halls it covers; the new bidder can sign in.
        let users = app.get("/users", Some(&officer)).await.expect(200);
        let names: Vec<&str> = users.body.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"li.bidder"), "{names:?}");
        let bidder = app.login("li.bidder").await;
        let orgs = app.get("/orgs?kind=bidder", Some(&bidder)).await.expect(200);
        assert_eq!(orgs.body.as_array().unwrap().len(), 1);
        let one = app.get(&format!("/orgs/{org_id}"), Some(&bidder)).await.expect(200);
        assert_eq!(one.body["credit_code"], "91110000600037341L");
        app.get(&format!("/orgs/{}", uuid::Uuid::new_v4()), Some(&bidder)).await.expect(404);
        let r = app.get("/orgs/not-a-uuid", Some(&bidder)).await.expect(400);
        assert_eq!(r.code(), "invalid_path");
        let r = app.get("/orgs?limit=1000", Some(&bidder)).await.expect(400);
        assert_eq!(r.code(), "invalid_query");
    }
}

e2e_test! {
    async fn listings_follow_visibility(app: TestApp) {
        app.create_hall("370202", "Shinan District Hall").await;
        app.create_hall("370100", "Jinan City Hall").await;
        let org_a = app.create_org("Shinan Roads Bureau", "tenderee", "370202").await;
        let org_b = app.create_org("Jinan Water Bureau", "tenderee", "370100").await;
        let a = app.create_user("a.tenderee", &["tenderee"], Some(&org_a), "370202").await;
        let b = app.create_user("b.tenderee", &["tenderee"], Some(&org_b), "370100").await;
        let officer = app.create_user("zhao.officer", &["centre_officer"], None, "370200").await;
        let supervisor = app.create_user("sun.supervisor", &["supervisor"], None, "370200").await;
        let jinan_officer = app.create_user("qian.officer", &["centre_officer"], None, "370100").await;

        // A: one draft, one under review, one published. B: one under review in Jinan.
        app.create_tender(&a, "A-DRAFT", 30).await;
        let a_rev = app.create_tender(&a, "A-REVIEW", 30).await;
        app.post(&format!("/tenders/{a_rev}/submit"), Some(&a), json!({})).await.expect(200);
        let a_pub = app.create_tender(&a, "A-PUBLIC", 30).await;
        app.post(&format!("/tenders/{a_pub}/submit"), Some(&a), json!({})).await.expect(200);
        app.post(&format!("/tenders/{a_pub}/approve"), Some(&officer), json!({})).await.expect(200);
        let b_rev = app.create_tender(&b, "B-REVIEW", 30).await;
        app.post(&format!("/tenders/{b_rev}/submit"), Some(&b), json!({})).await.expect(200);

        let codes = |r: &crate::support::Resp| -> Vec<String> {
            let mut v: Vec<String> = r.body["items"].as_array().unwrap().iter()
                .map(|t| t["code"].as_str().unwrap().to_string()).collect();
            v.sort();
            v
        };
        let anon = app.get("/tenders", None).await.expect(200);
        assert_eq!(codes(&anon), ["A-PUBLIC"]);
        let r = app.get("/tenders", Some(&a)).await.expect(200);
        assert_eq!(codes(&r), ["A-DRAFT", "A-PUBLIC", "A-REVIEW"]);
        assert_eq!(r.body["total"], 3);
        let r = app.get("/tenders", Some(&b)).await.expect(200);
        assert_eq!(codes(&r), ["A-PUBLIC", "B-REVIEW"]);
        let r = app.get("/tenders", Some(&officer)).await.expect(200);
        assert_eq!(codes(&r), ["A-PUBLIC", "A-REVIEW"]);
        assert_eq!(r.body["total"], 2);
        let r = app.get("/tenders", Some(&supervisor)).await.expect(200);
        assert_eq!(codes(&r), ["A-PUBLIC", "A-REVIEW"]);
        let r = app.get("/tenders", Some(&jinan_officer)).await.expect(200);
        assert_eq!(codes(&r), ["A-PUBLIC", "B-REVIEW"]);
        let r = app.get("/tenders", Some(&app.admin)).await.expect(200);
        assert_eq!(r.body["total"], 4);

        // Filters and paging.
        let r = app.get("/tenders?state=under_review", Some(&officer)).await.expect(200);
        assert_eq!(codes(&r), ["A-REVIEW"]);
        let r = app.get("/tenders?state=draft", Some(&officer)).await.expect(200);
        assert_eq!(r.body["total"], 0);
        let r = app.get("/tenders?q=public", Some(&a)).await.expect(200);
        assert_eq!(codes(&r), ["A-PUBLIC"]);
        let r = app.get("/tenders?mine=true", Some(&b)).await.expect(200);
        assert_eq!(codes(&r), ["B-REVIEW"]);
        let p1 = app.get("/tenders?limit=1", Some(&officer)).await.expect(200);
        let p2 = app.get("/tenders?limit=1&offset=1", Some(&officer)).await.expect(200);
        assert_eq!(p1.body["total"], 2);
        assert_eq!(p1.body["items"].as_array().unwrap().len(), 1);
        assert_ne!(p1.body["items"][0]["id"], p2.body["items"][0]["id"]);
        let r = app.get("/tenders?state=bogus", None).await.expect(400);
        assert_eq!(r.code(), "invalid_query");
        let r = app.get("/tenders?limit=101", None).await.expect(400);
        assert_eq!(r.code(), "invalid_query");

        // The review queues are per hall.
        let q = app.get("/reviews", Some(&officer)).await.expect(200);
        assert_eq!(q.body["total"], 1);
        let q = app.get("/reviews", Some(&jinan_officer)).await.expect(200);
        assert_eq!(q.body["items"][0]["tender"]["code"], "B-REVIEW");
    }
}
