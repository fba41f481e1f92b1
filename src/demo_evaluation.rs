//! The demo's past tender after its opening: the evaluation committee is drawn from a small expert
//! pool, every member declares, checks and scores the bids, the report is signed and logged, the
//! candidates are published, the award notice and the contract follow and every deposit is
//! refunded — each step through the same server functions the API calls, on the demo's past clock.
use anyhow::{anyhow, Context};
use chrono::Duration;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::Tender;
use sealbid_domain::{BidId, ManualClock, OrgId, UserId};
use sealbid_seal::keys::SigningKey;
use sealbid_seal::opening::{BidOutcome, OpeningRecord};
use sealbid_seal::signed::Signed;
use sealbid_server::api::{award, evaluation, session, AppJson, AppPath};
use sealbid_server::auth::CurrentUser;
use sealbid_server::AppState;
use serde_json::json;

/// The demo's evaluators, by username.
pub const EXPERTS: [(&str, &str); 4] = [
    ("expert1", "Liu Yang (expert, building works)"),
    ("expert2", "Sun Hui (expert, building works)"),
    ("expert3", "Zhou Lei (expert, building works)"),
    ("expert4", "Wu Fang (expert, cost engineering)"),
];

fn as_user(u: &User) -> CurrentUser {
    CurrentUser {
        user: u.clone(),
        token_hash: String::new(),
    }
}

fn step<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow!("demo evaluation, {what}: {e}"))
}

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> anyhow::Result<AppJson<T>> {
    Ok(AppJson(serde_json::from_value(v)?))
}

/// The bids the opening found valid, in log order.
async fn valid_bids(state: &AppState, t: &Tender) -> anyhow::Result<Vec<BidId>> {
    let opened = state
        .store
        .get_sealing(t.id)
        .await?
        .and_then(|s| s.opened)
        .context("the demo tender's opening record")?;
    let record = Signed::<OpeningRecord>::from_json_bytes(opened.record.as_bytes())?.body;
    let bids = state.store.list_bids(t.id).await?;
    Ok(record
        .bids
        .iter()
        .filter(|b| b.outcome == BidOutcome::Valid)
        .filter_map(|b| {
            bids.iter()
                .find(|s| s.manifest_digest == b.manifest_digest)
                .map(|s| s.id)
        })
        .collect())
}

/// Evaluates and awards `t` (opened on `clock`'s current day). Returns the accounts it made.
pub async fn evaluate_and_award(
    past: &AppState,
    clock: &ManualClock,
    t: &Tender,
    (tenderee, officer): (&User, &User),
    password_hash: &str,
) -> anyhow::Result<Vec<User>> {
    let id = t.id;
    let now = past.now();
    // The expert pool: 8 building-works experts, 4 cost engineers.
    let mut csv = String::from("id,name,specialties,region,available\n");
    for i in 1..=8 {
        csv.push_str(&format!(
            "QE{i:03},建筑专家{i},A01 building works,370200,yes\n"
        ));
    }
    for i in 9..=12 {
        csv.push_str(&format!(
            "QE{i:03},造价专家{i},B02 cost engineering,370200,yes\n"
        ));
    }
    step(
        "the expert pool",
        evaluation::import_experts(
            axum::extract::State(past.clone()),
            as_user(officer),
            axum::body::Bytes::from(csv),
        )
        .await,
    )?;
    // The committee: 4 drawn experts and the tenderee's representative.
    clock.set(now + Duration::hours(1));
    let drawn = step(
        "the draw",
        evaluation::draw_committee(
            axum::extract::State(past.clone()),
            as_user(officer),
            AppPath(id),
            body(json!({"committee_size": 5, "tenderee_representatives": 1,
                        "quotas": [{"specialty": "A01", "count": 3}, {"specialty": "B02", "count": 1}]}))?,
        )
        .await,
    )?
    .1
    .0;
    let mut members = Vec::new();
    for ((username, display), seat) in EXPERTS.iter().zip(&drawn.public.members) {
        let u = User {
            id: UserId::new(),
            username: username.to_string(),
            display_name: display.to_string(),
            roles: vec![Role::Evaluator],
            org: None,
            hall: officer.hall.clone(),
            active: true,
            created_at: past.now(),
        };
        let audit = AuditEvent::new(None, past.now(), "user.create", "user", u.id)
            .with_change::<(), _>(None, Some(&u));
        past.store.create_user(&u, password_hash, &audit).await?;
        step(
            "linking an expert",
            evaluation::link_account(
                axum::extract::State(past.clone()),
                as_user(officer),
                AppPath(seat.expert_id.clone()),
                body(json!({"user_id": u.id}))?,
            )
            .await,
        )?;
        members.push(u);
    }
    step(
        "the representative",
        session::set_representatives(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(json!({"user_ids": [tenderee.id]}))?,
        )
        .await,
    )?;
    let mut committee: Vec<User> = members.clone();
    committee.push(tenderee.clone());
    step(
        "the scheme",
        evaluation::set_scheme(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(json!({"method": "comprehensive_scoring", "price_formula": {"kind": "lowest_valid"},
                "criteria": [
                    {"id": "T1", "part": "technical", "label": "施工组织设计 Method statement", "max": "40"},
                    {"id": "T2", "part": "technical", "label": "项目管理机构 Site organisation", "max": "10"},
                    {"id": "C1", "part": "commercial", "label": "类似业绩 Similar works", "max": "10"},
                    {"id": "P", "part": "price", "label": "报价 Price", "max": "40"}]}))?,
        )
        .await,
    )?;
    step(
        "the session's time",
        session::set_time(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(json!({"due_at": past.now() + Duration::hours(8)}))?,
        )
        .await,
    )?;
    let bids = valid_bids(past, t).await?;
    let criteria = t.terms.qualification_criteria.len();
    for (m, member) in committee.iter().enumerate() {
        clock.advance(Duration::minutes(5));
        step(
            "a declaration",
            evaluation::declare(
                axum::extract::State(past.clone()),
                as_user(member),
                AppPath(id),
                body(json!({"no_conflict": true,
                            "statement": "本人与本项目投标人无利害关系 No interest in any bidder"}))?,
            )
            .await,
        )?;
        for (b, bid) in bids.iter().enumerate() {
            let items: Vec<_> = (0..criteria)
                .map(|c| json!({"criterion": c, "pass": true}))
                .collect();
            step(
                "a checklist",
                session::put_checklist(
                    axum::extract::State(past.clone()),
                    as_user(member),
                    AppPath((id, *bid)),
                    body(json!({"items": items}))?,
                )
                .await,
            )?;
            // Scores that differ by bid and a little by member.
            let t1 = 28 + (b * 3 + m) % 11;
            let t2 = 6 + (b + m) % 4;
            let c1 = 5 + (b * 2 + m) % 5;
            step(
                "a score sheet",
                evaluation::put_sheet(
                    axum::extract::State(past.clone()),
                    as_user(member),
                    AppPath((id, *bid)),
                    body(json!({"scores": {"T1": t1.to_string(), "T2": t2.to_string(), "C1": c1.to_string()}}))?,
                )
                .await,
            )?;
        }
    }
    // The report, signed by every member with their own key, then logged.
    clock.advance(Duration::hours(2));
    let drawn_up = step(
        "the report",
        session::draw_up_report(
            axum::extract::State(past.clone()),
            as_user(&committee[0]),
            AppPath(id),
            body(json!({}))?,
        )
        .await,
    )?
    .1
     .0;
    let bytes = drawn_up.report.signing_bytes()?;
    for (version, member) in (drawn_up.version..).zip(&committee) {
        clock.advance(Duration::minutes(3));
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        step(
            "a signature",
            session::sign_report(
                axum::extract::State(past.clone()),
                as_user(member),
                AppPath(id),
                body(json!({"key": key.verifying_key().to_string(),
                            "signature": key.sign(&bytes).to_string(), "version": version}))?,
            )
            .await,
        )?;
    }
    // The candidates the next morning, for the shortest publication; the award after it.
    clock.advance(Duration::hours(18));
    step(
        "the publication",
        award::publish(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(json!({}))?,
        )
        .await,
    )?;
    clock.advance(Duration::days(3) + Duration::hours(1));
    step(
        "the award notice",
        award::notice(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(json!({}))?,
        )
        .await,
    )?;
    clock.advance(Duration::days(2));
    let winner_price = {
        let a = past.store.get_award(id).await?.context("the demo award")?;
        let v: serde_json::Value = serde_json::from_str(&a.doc)?;
        v["notice"]["winner"]["price"]
            .as_str()
            .context("the winner's price")?
            .to_string()
    };
    step(
        "the contract",
        award::contract(
            axum::extract::State(past.clone()),
            as_user(tenderee),
            AppPath(id),
            body(
                json!({"signed_at": past.now() - Duration::hours(3), "amount": winner_price,
                        "reference": format!("{}-HT-01", t.code.as_str())}),
            )?,
        )
        .await,
    )?;
    clock.advance(Duration::days(2));
    let award_doc = past.store.get_award(id).await?.context("the demo award")?;
    let process: sealbid_domain::evaluation::award::AwardProcess =
        serde_json::from_str(&award_doc.doc)?;
    let refunded: Vec<OrgId> = process.refunds.iter().map(|r| r.bidder).collect();
    for org in refunded {
        step(
            "a refund",
            award::refund_done(
                axum::extract::State(past.clone()),
                as_user(officer),
                AppPath((id, org)),
            )
            .await,
        )?;
    }
    Ok(members)
}
