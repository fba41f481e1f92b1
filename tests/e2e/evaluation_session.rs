//! The evaluation session after the draw, through the real server on SQLite and PostgreSQL: the
//! tenderee appoints its representative, every member declares, checks each bid's qualification
//! and scores it; the chair follows the progress live (server-sent events); more than a third of
//! the members asking for more time extends it; the report is drawn up, signed by every member
//! with their own Ed25519 key, countersigned by the platform and appended to the log. Misuse is
//! refused with a stable code and leaves the session as it was.
use base64::Engine as _;
use chrono::Duration;
use sealbid_seal::keys::SigningKey;
use sealbid_seal::report::SignedReport;
use sealbid_seal::signed::Signed;
use serde_json::{json, Value};

use crate::api_authz::user_id;
use crate::evaluation_fixture::{evaluator, opened_tender, Names, Opened, HALL};

/// Reads the next server-sent event of `event` type from a streaming response (waiting at most a
/// minute, so a broken stream fails the test instead of hanging it).
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, event: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut kind = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if kind == event {
                return serde_json::from_str(&data).unwrap();
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("no event within a minute")
            .unwrap()
            .expect("the stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

/// Reads events until one satisfies `done`.
async fn event_until(
    resp: &mut reqwest::Response,
    buf: &mut String,
    done: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let v = next_event(resp, buf, "progress").await;
        if done(&v) {
            return v;
        }
    }
}

e2e_test! {
    async fn the_committee_reviews_scores_and_signs_the_report(app: TestApp) {
        let hall = HALL;
        let mut experts = String::new();
        for i in 1..=6 {
            experts.push_str(&format!("S{i:02},评委{i},A01 building works,370200,yes\n"));
        }
        experts.push_str("S07,造价评委7,B02 cost engineering,370200,yes\n");
        let names = Names { prefix: "sess", owner_org: "Session Bureau", code: "SESS-2026-001",
            bidders: "Session Builder", payments: "SESS", experts: &experts };
        // Four bids; the fourth is above the ceiling price (1,100,000).
        let prices = ["951000.00", "962000.00", "940000.00", "1150000.00"];
        let Opened { owner_org, owner, officer, tender, bidders, .. } = opened_tender(&app, &names, &prices).await;
        let rep = app.create_user("sess.rep", &["tenderee"], Some(&owner_org), hall).await;
        let rep_id = user_id(&app, &rep).await;
        let supervisor = app.create_user("sess.supervisor", &["supervisor"], None, hall).await;
        let mut codes = Vec::new();
        for b in &bidders {
            let o = app.get(&format!("/orgs/{}", b.org), Some(&b.token)).await.expect(200);
            codes.push(o.body["credit_code"].as_str().unwrap().to_string());
        }

        let path = |p: &str| format!("/tenders/{tender}/evaluation/{p}");
        // Representatives before the draw: nothing to appoint to.
        let r = app.put(&path("representatives"), Some(&owner), json!({"user_ids": [rep_id]})).await.expect(409);
        assert_eq!(r.code(), "not_drawn");
        let d = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer),
            json!({"committee_size": 5, "tenderee_representatives": 1,
                   "quotas": [{"specialty": "A01", "count": 3}, {"specialty": "B02", "count": 1}]})).await.expect(201);
        let experts: Vec<String> = d.body["public"]["members"].as_array().unwrap().iter()
            .map(|m| m["expert_id"].as_str().unwrap().to_string()).collect();
        assert_eq!(experts.len(), 4);

        // The representative: the tenderee's own active staff, as many as the draw reserved.
        let r = app.put(&path("representatives"), Some(&owner), json!({"user_ids": []})).await.expect(422);
        assert_eq!(r.code(), "representatives_count");
        let bidder_user = user_id(&app, &bidders[0].token).await;
        let r = app.put(&path("representatives"), Some(&owner), json!({"user_ids": [bidder_user]})).await.expect(422);
        assert_eq!(r.code(), "not_tenderee_staff");
        app.put(&path("representatives"), Some(&officer), json!({"user_ids": [rep_id]})).await.expect(403);
        let seats = app.put(&path("representatives"), Some(&owner), json!({"user_ids": [rep_id]})).await.expect(200);
        assert_eq!(seats.body.as_array().unwrap().len(), 5);
        assert_eq!(seats.body[4]["member"], "rep-4");

        // Names stay hidden from bidders and the public until the result.
        for token in [None, Some(bidders[0].token.as_str())] {
            let r = app.get(&format!("/tenders/{tender}/committee-draw"), token).await.expect(200);
            assert!(r.body["private"].is_null() && !r.text.contains("评委"), "{}", r.text);
        }
        // The drawn experts sign in with evaluator accounts.
        let mut members = Vec::new();
        for (i, e) in experts.iter().enumerate() {
            members.push(evaluator(&app, &officer, e, &format!("sess.expert{i}")).await);
        }
        members.push(rep.clone());
        let outsider = app.create_user("sess.outsider", &["evaluator"], None, hall).await;

        // Who may follow the session: members, the centre, supervisors; nobody else.
        for token in [&officer, &supervisor, &members[0], &rep] {
            app.get(&path("progress"), Some(token)).await.expect(200);
        }
        for token in [&outsider, &bidders[0].token, &owner] {
            let r = app.get(&path("progress"), Some(token)).await.expect(403);
            assert!(!r.text.contains("S0"), "{}", r.text);
        }
        // The chair's live view (the centre officer's here): one event at once.
        let mut stream = app.client.get(app.api(&path("progress/stream"))).bearer_auth(&officer)
            .header("accept", "text/event-stream").send().await.unwrap();
        assert_eq!(stream.status(), 200);
        assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        let mut buf = String::new();
        let first = next_event(&mut stream, &mut buf, "progress").await;
        assert_eq!(first["bids"], 4);
        assert_eq!(first["criteria"], 1);
        assert_eq!(first["members"].as_array().unwrap().len(), 5);
        assert!(first["members"].as_array().unwrap().iter().all(|m| m["seated"] == true && m["declared"] == false));

        // The session's time.
        let now = app.clock_now();
        let r = app.put(&path("time"), Some(&owner), json!({"due_at": (now - Duration::hours(1)).to_rfc3339()})).await.expect(422);
        assert_eq!(r.code(), "due_in_past");
        app.put(&path("time"), Some(&bidders[0].token), json!({"due_at": (now + Duration::days(2)).to_rfc3339()})).await.expect(403);
        app.put(&path("time"), Some(&owner), json!({"due_at": (now + Duration::days(2)).to_rfc3339()})).await.expect(204);

        // Nothing before the declaration.
        let bids: Vec<String> = {
            let tid: sealbid_domain::TenderId = tender.parse().unwrap();
            let mut b = app.state.store.list_bids(tid).await.unwrap();
            b.sort_by_key(|b| b.log_index);
            b.into_iter().map(|b| b.id.to_string()).collect()
        };
        let pass = json!({"items": [{"criterion": 0, "pass": true}]});
        app.put(&path(&format!("qualification/{}", bids[0])), Some(&rep), pass.clone()).await.expect(403);
        let r = app.put(&path(&format!("sheets/{}", bids[0])), Some(&rep), json!({"scores": {"T1": "50"}})).await.expect(403);
        assert!(r.text.contains("declare"), "{}", r.text);
        app.get(&path("bids"), Some(&members[0])).await.expect(403);
        for m in &members {
            app.post(&path("declaration"), Some(m), json!({"no_conflict": true})).await.expect(204);
        }
        let declared = event_until(&mut stream, &mut buf, |v| v["members"].as_array().unwrap().iter().all(|m| m["declared"] == true)).await;
        assert_eq!(declared["report"], "none");

        // Bad checklists are refused and store nothing.
        for bad in [json!({"items": []}),
                    json!({"items": [{"criterion": 0, "pass": false}]}),
                    json!({"items": [{"criterion": 0, "pass": true}, {"criterion": 0, "pass": true}]}),
                    json!({"items": [{"criterion": 3, "pass": true}]})] {
            let r = app.put(&path(&format!("qualification/{}", bids[0])), Some(&members[0]), bad).await.expect(422);
            assert_eq!(r.code(), "invalid_checklist");
        }
        app.put(&path(&format!("qualification/{}", bids[0])), Some(&outsider), pass.clone()).await.expect(403);
        assert_eq!(app.get(&path("qualification"), Some(&members[0])).await.expect(200).body, json!([]));
        // The report needs everyone's work.
        let r = app.post(&path("report"), Some(&members[0]), json!({})).await.expect(409);
        assert_eq!(r.code(), "evaluation_incomplete");
        let r = app.post(&path("report"), Some(&members[0]), json!({})).await.expect(409);
        assert!(r.text.contains("has checked 0 of 4"), "{}", r.text);

        // Qualification: three of five fail the third bid on the licence; one fails the first.
        for (i, m) in members.iter().enumerate() {
            for (j, b) in bids.iter().enumerate() {
                let item = if (j == 2 && i < 3) || (j == 0 && i == 4) {
                    json!({"criterion": 0, "pass": false, "reason": "licence expired in 2025"})
                } else {
                    json!({"criterion": 0, "pass": true})
                };
                app.put(&path(&format!("qualification/{b}")), Some(m), json!({"items": [item]})).await.expect(204);
            }
        }
        let mine = app.get(&path("qualification"), Some(&members[4])).await.expect(200);
        assert_eq!(mine.body.as_array().unwrap().len(), 4);

        // Scoring.
        app.put(&path("scheme"), Some(&owner), json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"},
            "criteria": [{"id": "T1", "part": "technical", "label": "施工方案", "max": "60"},
                         {"id": "P", "part": "price", "label": "报价", "max": "40"}]})).await.expect(204);
        let sheet = |b: &str| path(&format!("sheets/{b}"));
        app.put(&sheet(&bids[0]), Some(&members[0]), json!({"scores": {"T1": "50"}})).await.expect(204);
        let scored = event_until(&mut stream, &mut buf, |v| v["members"][0]["sheets"] == 1).await;
        assert!(!serde_json::to_string(&scored).unwrap().contains("\"50\""), "progress never shows a score");

        // More time: more than a third of five is two; the second request extends by a day.
        let r = app.post(&path("more-time"), Some(&members[1]), json!({"reason": " "})).await.expect(422);
        assert_eq!(r.code(), "reason_required");
        app.post(&path("more-time"), Some(&outsider), json!({"reason": "x"})).await.expect(403);
        let r = app.post(&path("more-time"), Some(&members[1]), json!({"reason": "the technical proposals are long"})).await.expect(200);
        assert_eq!(r.body["extended"], false);
        let r = app.post(&path("more-time"), Some(&members[1]), json!({"reason": "again"})).await.expect(409);
        assert_eq!(r.code(), "already_asked");
        let r = app.post(&path("more-time"), Some(&rep), json!({"reason": "site visit reports to read"})).await.expect(200);
        assert_eq!(r.body["extended"], true);
        let due = chrono::DateTime::parse_from_rfc3339(r.body["due_at"].as_str().unwrap()).unwrap();
        assert_eq!(due, now + Duration::days(3));
        // After the time, nothing more is accepted until it is set again.
        app.clock.advance(Duration::days(3) + Duration::minutes(1));
        let r = app.put(&sheet(&bids[1]), Some(&members[0]), json!({"scores": {"T1": "45"}})).await.expect(409);
        assert_eq!(r.code(), "evaluation_time_over");
        let later = app.clock_now() + Duration::days(1);
        app.put(&path("time"), Some(&officer), json!({"due_at": later.to_rfc3339()})).await.expect(204);

        for (i, m) in members.iter().enumerate() {
            for (j, b) in bids.iter().enumerate() {
                // One member's total on the second bid strays far from the others'.
                let t1 = if i == 3 && j == 1 { 20 } else { 40 + i + 2 * j };
                app.put(&sheet(b), Some(m), json!({"scores": {"T1": t1.to_string()}})).await.expect(204);
            }
        }
        let ready = event_until(&mut stream, &mut buf, |v| v["ready_for_report"] == true).await;
        assert!(ready["members"].as_array().unwrap().iter().all(|m| m["sheets"] == 4 && m["checklists"] == 4));

        // The report.
        let r = app.post(&path("report"), Some(&members[0]), json!({"cost_floor": "-1"})).await.expect(422);
        assert_eq!(r.code(), "invalid_cost_floor");
        app.post(&path("report"), Some(&outsider), json!({})).await.expect(403);
        let report = app.post(&path("report"), Some(&members[0]), json!({})).await.expect(201);
        let outcome = &report.body["report"]["outcome"];
        let ranked: Vec<String> = outcome["ranking"].as_array().unwrap().iter().map(|r| r["bid"].as_str().unwrap().to_string()).collect();
        assert_eq!(ranked.len(), 2, "{}", report.text);
        assert!(ranked.contains(&bids[0]) && ranked.contains(&bids[1]));
        let rejected: Vec<(&str, &str)> = outcome["rejected"].as_array().unwrap().iter()
            .map(|r| (r["bid"].as_str().unwrap(), r["rejection"]["ground"].as_str().unwrap())).collect();
        assert!(rejected.contains(&(bids[2].as_str(), "failed_qualification")), "{}", report.text);
        assert!(rejected.contains(&(bids[3].as_str(), "above_ceiling")), "{}", report.text);
        // The first bid failed one member's checklist only: it stands.
        let q = &report.body["report"]["qualification"]["bids"];
        assert!(q.as_array().unwrap().iter().any(|b| b["bid"] == bids[0].as_str() && b["conclusion"]["result"] == "pass"));
        assert_eq!(report.body["report"]["members"][4]["representative"], true);
        assert_eq!(report.body["report"]["sheets"].as_array().unwrap().len(), 20);
        // The stray total is flagged; nobody signs until its member has explained it.
        let outliers = outcome["outliers"].as_array().unwrap();
        assert_eq!(outliers.len(), 1, "{}", report.text);
        assert_eq!(outliers[0]["bid"], bids[1].as_str());
        let v1 = base64::engine::general_purpose::STANDARD
            .decode(report.body["signing_bytes_b64"].as_str().unwrap()).unwrap();
        let k = SigningKey::generate(&mut rand::rngs::OsRng);
        let r = app.post(&path("report/signatures"), Some(&members[0]), json!({
            "key": k.verifying_key().to_string(), "signature": k.sign(&v1).to_string(), "version": 1})).await.expect(409);
        assert_eq!(r.code(), "explanation_missing");
        assert!(r.message().contains(&experts[3]), "{}", r.text);
        let r = app.post(&path("explanations"), Some(&members[0]), json!({"bid": bids[1], "text": "x"})).await.expect(422);
        assert_eq!(r.code(), "not_an_outlier");
        let r = app.post(&path("explanations"), Some(&members[3]), json!({"bid": bids[1], "text": "  "})).await.expect(422);
        assert_eq!(r.code(), "invalid_text");
        app.post(&path("explanations"), Some(&outsider), json!({"bid": bids[1], "text": "x"})).await.expect(403);
        // The flagged member sees a form for it on the workspace page; the others see it awaited.
        let page = |token: &str| {
            app.client
                .get(format!("{}/tenders/{tender}/evaluation", app.base))
                .header("cookie", format!("sealbid_session={token}"))
                .send()
        };
        let theirs = page(&members[0]).await.unwrap().text().await.unwrap();
        assert!(!theirs.contains(&format!("id=\"explain-{}\"", bids[1])) && theirs.contains("awaiting the member"), "{theirs}");
        let mine = page(&members[3]).await.unwrap().text().await.unwrap();
        assert!(mine.contains(&format!("id=\"explain-{}\"", bids[1])), "{mine}");
        let sent = app
            .client
            .post(format!("{}/tenders/{tender}/evaluation/explanations", app.base))
            .header("cookie", format!("sealbid_session={}", members[3]))
            .form(&[("bid", bids[1].as_str()), ("text", "the method statement omits the traffic management plan the documents require")])
            .send()
            .await
            .unwrap();
        // The form redirects back to the workspace with a note.
        assert_eq!(sent.status(), 200);
        let after = sent.text().await.unwrap();
        assert!(after.contains("Your explanation is recorded"), "{after}");
        // Drawn up again (nobody has signed): a new version, with the explanation.
        let report = app.post(&path("report"), Some(&members[1]), json!({})).await.expect(201);
        assert_eq!(report.body["version"], 2);
        assert_eq!(report.body["report"]["outcome"]["explanations"][0]["member"], experts[3].as_str());
        let mine = page(&members[3]).await.unwrap().text().await.unwrap();
        assert!(mine.contains("traffic management plan") && !mine.contains(&format!("id=\"explain-{}\"", bids[1])), "{mine}");
        let outcome = &report.body["report"]["outcome"];
        let ranked: Vec<String> = outcome["ranking"].as_array().unwrap().iter().map(|r| r["bid"].as_str().unwrap().to_string()).collect();

        // Who reads the report.
        app.get(&path("report"), Some(&owner)).await.expect(200);
        app.get(&path("report"), Some(&supervisor)).await.expect(200);
        for token in [&outsider, &bidders[0].token] {
            let r = app.get(&path("report"), Some(token)).await.expect(403);
            assert!(!r.text.contains("outcome"), "{}", r.text);
        }

        // Signing: each member with their own key over the signing bytes.
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(report.body["signing_bytes_b64"].as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"sealbid.org/evaluation-report/v1\n"));
        let keys: Vec<SigningKey> = (0..5).map(|_| SigningKey::generate(&mut rand::rngs::OsRng)).collect();
        let sign = |i: usize, msg: &[u8], version: i64| json!({
            "key": keys[i].verifying_key().to_string(),
            "signature": keys[i].sign(msg).to_string(),
            "version": version,
        });
        let r = app.post(&path("report/signatures"), Some(&members[0]), sign(0, b"something else", 2)).await.expect(422);
        assert_eq!(r.code(), "bad_signature");
        let r = app.post(&path("report/signatures"), Some(&members[0]), sign(0, &bytes, 1)).await.expect(409);
        assert_eq!(r.code(), "version_conflict");
        app.post(&path("report/signatures"), Some(&outsider), sign(0, &bytes, 2)).await.expect(403);
        let r = app.post(&path("report/signatures"), Some(&members[0]), sign(0, &bytes, 2)).await.expect(200);
        assert_eq!(r.body["signatures"].as_array().unwrap().len(), 1);
        assert!(r.body["logged"].is_null());
        // After signing, nothing changes: not a score, not a checklist, not the report.
        let r = app.put(&sheet(&bids[0]), Some(&members[0]), json!({"scores": {"T1": "59"}})).await.expect(409);
        assert_eq!(r.code(), "report_drawn_up");
        let r = app.put(&path(&format!("qualification/{}", bids[2])), Some(&members[0]), pass.clone()).await.expect(409);
        assert_eq!(r.code(), "report_drawn_up");
        let r = app.post(&path("report"), Some(&members[0]), json!({})).await.expect(409);
        assert_eq!(r.code(), "report_signed");
        let r = app.post(&path("report/signatures"), Some(&members[0]), sign(0, &bytes, 3)).await.expect(409);
        assert_eq!(r.code(), "already_signed");
        let r = app.post(&path("more-time"), Some(&members[2]), json!({"reason": "late"})).await.expect(409);
        assert_eq!(r.code(), "report_drawn_up");
        let mut last = Value::Null;
        for (i, (member, version)) in members.iter().zip(2..).enumerate().skip(1).take(3) {
            last = app.post(&path("report/signatures"), Some(member), sign(i, &bytes, version)).await.expect(200).body;
        }
        assert!(last["logged"].is_null());
        // The last member signs with the CLI: a digest other than the one read is refused.
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("signing.key");
        let cli = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_sealbid"))
                .args(args)
                .env("SEALBID_TOKEN", &members[4])
                .output()
                .unwrap()
        };
        let out = cli(&["keygen", "--signing", "--out", key_file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let digest = report.body["digest"].as_str().unwrap();
        let sign_args = |d: &str| vec!["sign-report".to_string(), tender.clone(), "--server".into(), app.base.clone(),
            "--signing-key".into(), key_file.to_str().unwrap().to_string(), "--digest".into(), d.to_string()];
        let wrong = sign_args(&"0".repeat(64));
        let out = cli(&wrong.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("changed"), "{}", String::from_utf8_lossy(&out.stderr));
        let right = sign_args(digest);
        let out = cli(&right.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("logged at index"), "{}", String::from_utf8_lossy(&out.stdout));
        let last = app.get(&path("report"), Some(&owner)).await.expect(200).body;

        // The last signature: countersigned by the platform and logged.
        let logged = &last["logged"];
        assert!(logged["log_index"].is_u64(), "{last}");
        let doc: Signed<SignedReport> = serde_json::from_value(logged["document"].clone()).unwrap();
        doc.verify().unwrap();
        doc.body.verify().unwrap();
        assert_eq!(doc.key, app.state.sealing.signing.verifying_key());
        assert_eq!(doc.body.signatures.len(), 5);
        let index = logged["log_index"].as_u64().unwrap();
        let entry = app.state.store.log_entry(index).await.unwrap().unwrap();
        let body = sealbid_seal::entry::LogEntryBody::from_leaf(entry.entry.as_bytes()).unwrap();
        assert_eq!(body.kind(), "evaluation_report");
        // The public log commits to the report's digest, not its names and scores.
        assert_eq!(sealbid_seal::report::log_entry(&doc).unwrap().to_leaf().unwrap(), entry.entry.as_bytes());
        assert!(!entry.entry.contains("评委") && !entry.entry.contains("scores"), "{}", entry.entry);
        // Until the result is published, bidders cannot read the report.
        app.get(&path("report"), Some(&bidders[0].token)).await.expect(403);
        app.get(&path("report"), None).await.expect(401);
        let done = event_until(&mut stream, &mut buf, |v| v["report"] == "logged").await;
        assert!(done["members"].as_array().unwrap().iter().all(|m| m["signed"] == true));
        // The stream ends once the report is logged.
        let rest = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(c) = stream.chunk().await.unwrap() {
                buf.push_str(std::str::from_utf8(&c).unwrap());
            }
        }).await;
        assert!(rest.is_ok(), "the stream did not end");

        // ----- after the evaluation: candidates, objections, award, contract, refunds -----
        let award = |p: &str| format!("/tenders/{tender}/award{p}");
        let state_of = |v: &Value| v["state"].as_str().unwrap().to_string();
        assert_eq!(state_of(&app.get(&format!("/tenders/{tender}"), None).await.expect(200).body), "evaluating");
        let r = app.get(&award(""), None).await.expect(409);
        assert_eq!(r.code(), "not_published");
        app.post(&award("/publication"), Some(&bidders[0].token), json!({})).await.expect(403);
        app.post(&award("/publication"), Some(&officer), json!({})).await.expect(403);
        let short = app.clock_now() + Duration::days(2);
        let r = app.post(&award("/publication"), Some(&owner), json!({"end": short.to_rfc3339()})).await.expect(422);
        assert_eq!(r.code(), "publication_too_short");
        let published = app.post(&award("/publication"), Some(&owner), json!({})).await.expect(201);
        let window_end: chrono::DateTime<chrono::Utc> =
            published.body["publication"]["window"]["end"].as_str().unwrap().parse().unwrap();
        assert_eq!(window_end, app.clock_now() + Duration::days(3));
        let candidates: Vec<&str> = published.body["publication"]["candidates"].as_array().unwrap().iter()
            .map(|c| c["bid"].as_str().unwrap()).collect();
        assert_eq!(candidates.len(), 2);
        assert_eq!(candidates[0], ranked[0]);
        let r = app.post(&award("/publication"), Some(&owner), json!({})).await.expect(409);
        assert_eq!(r.code(), "already_published");
        assert_eq!(state_of(&app.get(&format!("/tenders/{tender}"), None).await.expect(200).body), "candidates_published");
        // With the result, the members' names are public (not who was excluded and why).
        let d = app.get(&format!("/tenders/{tender}/committee-draw"), None).await.expect(200);
        assert_eq!(d.body["private"]["members"].as_array().unwrap().len(), 4, "{}", d.text);
        assert_eq!(d.body["private"]["excluded"], json!([]));
        // With the result, the report is public: a bidder checks it against the logged digest.
        let public_report = app.get(&path("report"), Some(&bidders[2].token)).await.expect(200);
        assert_eq!(app.get(&path("report"), None).await.expect(200).body["digest"], public_report.body["digest"]);
        let doc2: Signed<SignedReport> = serde_json::from_value(public_report.body["logged"]["document"].clone()).unwrap();
        assert_eq!(sealbid_seal::report::log_entry(&doc2).unwrap().to_leaf().unwrap(), entry.entry.as_bytes());
        // Anyone reads the publication.
        let public = app.get(&award(""), None).await.expect(200);
        assert_eq!(public.body["publication"]["candidates"].as_array().unwrap().len(), 2);

        // Objections: bidders of this tender, during the window.
        app.post(&award("/objections"), Some(&outsider), json!({"text": "x"})).await.expect(403);
        app.post(&award("/objections"), Some(&owner), json!({"text": "x"})).await.expect(403);
        let r = app.post(&award("/objections"), Some(&bidders[2].token), json!({"text": " "})).await.expect(422);
        assert_eq!(r.code(), "invalid_text");
        let r = app.post(&award("/objections"), Some(&bidders[2].token),
            json!({"text": "our licence was renewed in March 2026; the certificate is attached to our bid"})).await.expect(201);
        assert_eq!(r.body["objections"][0]["number"], 1);
        // The public sees that there is an objection, not its text.
        let public = app.get(&award(""), None).await.expect(200);
        assert!(!public.text.contains("renewed"), "{}", public.text);
        assert_eq!(public.body["objections"][0]["answered"], false);
        let r = app.post(&award("/notice"), Some(&owner), json!({})).await.expect(409);
        assert_eq!(r.code(), "publication_running");
        app.clock.advance(Duration::days(3) + Duration::minutes(1));
        let r = app.post(&award("/objections"), Some(&bidders[3].token), json!({"text": "too late"})).await.expect(422);
        assert_eq!(r.code(), "objection_window_closed");
        assert!(r.message().contains(&sealbid_domain::tender::china_time(window_end)), "{}", r.text);
        let r = app.post(&award("/notice"), Some(&owner), json!({})).await.expect(409);
        assert_eq!(r.code(), "objection_pending");
        app.post(&award("/objections/1/answer"), Some(&bidders[2].token), json!({"text": "x", "upheld": false})).await.expect(403);
        let r = app.post(&award("/objections/9/answer"), Some(&owner), json!({"text": "x", "upheld": false})).await.expect(422);
        assert_eq!(r.code(), "no_such_objection");
        let r = app.post(&award("/objections/1/answer"), Some(&owner),
            json!({"text": "the committee checked the certificate: it expired before the deadline", "upheld": false})).await.expect(200);
        // Received on the publication's first day, answered after its 3 days: on the record as late.
        assert_eq!(r.body["objections"][0]["answer"]["late"], true);
        let r = app.post(&award("/objections/1/answer"), Some(&owner), json!({"text": "again", "upheld": false})).await.expect(409);
        assert_eq!(r.code(), "already_answered");

        // The award notice: a candidate only; the first by default.
        let r = app.post(&award("/notice"), Some(&owner), json!({"bid": bids[2]})).await.expect(422);
        assert_eq!(r.code(), "not_a_candidate");
        let noticed = app.post(&award("/notice"), Some(&owner), json!({})).await.expect(200);
        assert_eq!(noticed.body["notice"]["winner"]["bid"], ranked[0]);
        let notice_at: chrono::DateTime<chrono::Utc> = noticed.body["notice"]["at"].as_str().unwrap().parse().unwrap();
        let price = noticed.body["notice"]["winner"]["price"].as_str().unwrap().to_string();
        assert_eq!(state_of(&app.get(&format!("/tenders/{tender}"), None).await.expect(200).body), "awarded");
        let r = app.post(&award("/notice"), Some(&owner), json!({})).await.expect(409);
        assert_eq!(r.code(), "already_awarded");

        // The contract, then the refunds due 5 days after signing.
        app.clock.advance(Duration::days(10));
        let contract = |signed: chrono::DateTime<chrono::Utc>, amount: &str| json!({"signed_at": signed.to_rfc3339(), "amount": amount, "reference": "SESS-C-001"});
        let r = app.post(&award("/contract"), Some(&owner), contract(notice_at - Duration::hours(1), "940000.00")).await.expect(422);
        assert_eq!(r.code(), "signed_before_notice");
        let r = app.post(&award("/contract"), Some(&owner), contract(app.clock_now() + Duration::hours(1), "940000.00")).await.expect(422);
        assert_eq!(r.code(), "signed_in_future");
        let r = app.post(&award("/contract"), Some(&owner), contract(app.clock_now(), "0")).await.expect(422);
        assert_eq!(r.code(), "invalid_amount");
        app.post(&award("/contract"), Some(&bidders[0].token), contract(app.clock_now(), "951000.00")).await.expect(403);
        let signed_at = app.clock_now() - Duration::days(1);
        let recorded = app.post(&award("/contract"), Some(&owner), contract(signed_at, &price)).await.expect(200);
        assert_eq!(recorded.body["contract"]["late"], false);
        assert_eq!(recorded.body["refunds"].as_array().unwrap().len(), 4);
        let tasks = app.get("/refunds", Some(&officer)).await.expect(200);
        assert_eq!(tasks.body.as_array().unwrap().len(), 4);
        assert!(tasks.body.as_array().unwrap().iter().all(|t| t["overdue"] == false));
        assert_eq!(app.get("/refunds?overdue=true", Some(&officer)).await.expect(200).body, json!([]));
        app.get("/refunds", Some(&bidders[0].token)).await.expect(403);
        // A bidder sees its own refund only.
        let mine = app.get(&award(""), Some(&bidders[1].token)).await.expect(200);
        assert_eq!(mine.body["refunds"].as_array().unwrap().len(), 1);
        app.clock.advance(Duration::days(5));
        let overdue = app.get("/refunds?overdue=true", Some(&supervisor)).await.expect(200);
        assert_eq!(overdue.body.as_array().unwrap().len(), 4, "{}", overdue.text);
        app.post(&award(&format!("/refunds/{}/done", bidders[0].org)), Some(&owner), json!({})).await.expect(403);
        for b in &bidders {
            app.post(&award(&format!("/refunds/{}/done", b.org)), Some(&officer), json!({})).await.expect(200);
        }
        let r = app.post(&award(&format!("/refunds/{}/done", bidders[0].org)), Some(&officer), json!({})).await.expect(409);
        assert_eq!(r.code(), "already_refunded");
        assert_eq!(app.get("/refunds", Some(&officer)).await.expect(200).body, json!([]));
        assert_eq!(state_of(&app.get(&format!("/tenders/{tender}"), None).await.expect(200).body), "completed");

        // Open data: the award and the contract are published as OCDS releases.
        let releases = app.get(&format!("/ocds/tenders/{tender}/releases"), None).await.expect(200);
        let tags: Vec<String> = releases.body["releases"].as_array().unwrap().iter()
            .map(|r| r["tag"][0].as_str().unwrap().to_string()).collect();
        assert!(tags.contains(&"award".to_string()) && tags.contains(&"contract".to_string()), "{tags:?}");
        let award_releases: Vec<&Value> = releases.body["releases"].as_array().unwrap().iter().filter(|r| r["tag"][0] == "award").collect();
        assert_eq!(award_releases.len(), 2, "the candidates, then the notice");
        assert!(award_releases[0]["awards"].as_array().unwrap().iter().all(|a| a["status"] == "pending"));
        assert_eq!(award_releases[1]["awards"][0]["status"], "active");
        assert_eq!(award_releases[1]["awards"][1]["status"], "unsuccessful");
        let awarded = award_releases[1];
        assert_eq!(awarded["awards"][0]["value"]["amount"].as_f64(), price.parse::<f64>().ok(), "{awarded}");
    }
}

e2e_test! {
    async fn a_lowest_price_tender_is_evaluated_without_score_sheets(app: TestApp) {
        let mut experts = String::new();
        for i in 1..=6 {
            experts.push_str(&format!("L{i:02},低价评委{i},A01 building works,370200,yes\n"));
        }
        let names = Names { prefix: "low", owner_org: "Lowest Price Bureau", code: "LOW-2026-001",
            bidders: "Lowest Builder", payments: "LOW", experts: &experts };
        // The second bid is the lowest, the third above the ceiling.
        let prices = ["951000.00", "940000.00", "1150000.00"];
        let Opened { owner, officer, tender, .. } = opened_tender(&app, &names, &prices).await;
        let path = |p: &str| format!("/tenders/{tender}/evaluation/{p}");
        let d = app.post(&format!("/tenders/{tender}/committee-draw"), Some(&officer),
            json!({"committee_size": 5, "tenderee_representatives": 0, "quotas": [{"specialty": "A01", "count": 5}]})).await.expect(201);
        let mut members = Vec::new();
        for (i, m) in d.body["public"]["members"].as_array().unwrap().iter().enumerate() {
            let acc = evaluator(&app, &officer, m["expert_id"].as_str().unwrap(), &format!("low.expert{i}")).await;
            app.post(&path("declaration"), Some(&acc), json!({"no_conflict": true})).await.expect(204);
            members.push(acc);
        }
        // Lowest evaluated price: a scheme with criteria is refused; without, no sheets are needed.
        let r = app.put(&path("scheme"), Some(&owner), json!({"method": "lowest_evaluated_price", "price_formula": {"kind": "lowest_valid"},
            "criteria": [{"id": "T1", "part": "technical", "label": "x", "max": "10"}]})).await.expect(422);
        assert_eq!(r.code(), "criteria_not_scored");
        app.put(&path("scheme"), Some(&owner), json!({"method": "lowest_evaluated_price", "price_formula": {"kind": "lowest_valid"}, "criteria": []})).await.expect(204);
        let bids: Vec<String> = {
            let tid: sealbid_domain::TenderId = tender.parse().unwrap();
            let mut b = app.state.store.list_bids(tid).await.unwrap();
            b.sort_by_key(|b| b.log_index);
            b.into_iter().map(|b| b.id.to_string()).collect()
        };
        let r = app.put(&path(&format!("sheets/{}", bids[0])), Some(&members[0]), json!({"scores": {"T1": "5"}})).await.expect(422);
        assert_eq!(r.code(), "unknown_criterion");
        for m in &members {
            for b in &bids {
                app.put(&path(&format!("qualification/{b}")), Some(m), json!({"items": [{"criterion": 0, "pass": true}]})).await.expect(204);
            }
        }
        let progress = app.get(&path("progress"), Some(&officer)).await.expect(200);
        assert_eq!(progress.body["scoring"], false);
        assert_eq!(progress.body["ready_for_report"], true, "{}", progress.text);
        let report = app.post(&path("report"), Some(&members[0]), json!({})).await.expect(201);
        let outcome = &report.body["report"]["outcome"];
        assert_eq!(outcome["method"], "lowest_evaluated_price");
        let ranked: Vec<&str> = outcome["ranking"].as_array().unwrap().iter().map(|r| r["bid"].as_str().unwrap()).collect();
        assert_eq!(ranked, [bids[1].as_str(), bids[0].as_str()], "{}", report.text);
        assert_eq!(outcome["rejected"][0]["rejection"]["ground"], "above_ceiling");
        assert_eq!(report.body["report"]["sheets"], json!([]));
    }
}
