//! The opened tender the evaluation tests start from (`evaluation_session.rs` and the browser's
//! evaluation and award tests): a tenderee with its organisation, a centre officer and the opening
//! committee's member; a published tender with one bid at each price, its deposit paid; an expert
//! pool; the deadline passed and the bids opened. Each test then draws its own committee and links
//! the drawn experts' evaluator accounts (`evaluator`).
use chrono::Duration;
use serde_json::json;

use crate::api_authz::{bid, member_committee, open_as_member, user_id, FixtureBidder};
use crate::support::TestApp;

/// The hall of every party.
pub(crate) const HALL: &str = "370200";

/// The names a test gives the parties of its tender.
pub(crate) struct Names<'a> {
    /// Usernames: `{prefix}.owner`, `{prefix}.officer`, `{prefix}.opener`, `{prefix}.bidder{i}`.
    pub prefix: &'a str,
    /// The tenderee's organisation.
    pub owner_org: &'a str,
    /// The tender's code.
    pub code: &'a str,
    /// The bidders' organisations are `{bidders} {i}`.
    pub bidders: &'a str,
    /// The deposits' bank transactions are `{payments}-{i}`.
    pub payments: &'a str,
    /// The expert pool: the rows of the import's CSV (`id,name,specialties,region,available`).
    pub experts: &'a str,
}

pub(crate) struct Opened {
    pub owner_org: String,
    /// The tokens of the tenderee and of the centre officer.
    pub owner: String,
    pub officer: String,
    pub tender: String,
    /// One bidder a price, in the order of the prices.
    pub bidders: Vec<FixtureBidder>,
    /// The bidders' organisation names, in the same order.
    pub bidder_names: Vec<String>,
}

/// The tender of `names` with one bid at each of `prices`, opened.
pub(crate) async fn opened_tender(app: &TestApp, names: &Names<'_>, prices: &[&str]) -> Opened {
    let owner_org = app.create_org(names.owner_org, "tenderee", HALL).await;
    let user = async |name: &str, role: &str, org: Option<&str>| {
        let username = format!("{}.{name}", names.prefix);
        app.create_user(&username, &[role], org, HALL).await
    };
    let owner = user("owner", "tenderee", Some(&owner_org)).await;
    let officer = user("officer", "centre_officer", None).await;
    let opener = user("opener", "committee_member", None).await;
    let opener_id = user_id(app, &opener).await;
    let opener_key = crate::support::member_identity();
    let tender = app.create_tender(&owner, names.code, 21).await;
    member_committee(
        app,
        &owner,
        &tender,
        (&opener, &opener_id),
        Some(&opener_key),
    )
    .await;
    for (step, token) in [("submit", &owner), ("approve", &officer)] {
        app.post(&format!("/tenders/{tender}/{step}"), Some(token), json!({}))
            .await
            .expect(200);
    }
    let mut bidders = Vec::new();
    let mut bidder_names = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let name = format!("{} {i}", names.bidders);
        let org = app.create_org(&name, "bidder", HALL).await;
        let token = user(&format!("bidder{i}"), "bidder", Some(&org)).await;
        let b = FixtureBidder {
            token,
            org,
            key: sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng),
        };
        let (reference, _) = bid(app, &b, &tender, price).await;
        let txn = format!("{}-{i}", names.payments);
        crate::screening::pay(app, &txn, &reference, &format!("6223{i:012}")).await;
        bidders.push(b);
        bidder_names.push(name);
    }
    app.client
        .post(app.api("/experts/import"))
        .bearer_auth(&officer)
        .header("content-type", "text/csv")
        .body(format!(
            "id,name,specialties,region,available\n{}",
            names.experts
        ))
        .send()
        .await
        .expect("import")
        .error_for_status()
        .expect("imported");
    app.clock.advance(Duration::days(22));
    sealbid_server::scheduler::tick(&app.state)
        .await
        .expect("close");
    open_as_member(app, &opener, &tender, 1, &opener_key).await;
    Opened {
        owner_org,
        owner,
        officer,
        tender,
        bidders,
        bidder_names,
    }
}

/// Links a new evaluator account `username` to the pool's `expert` (as the centre officer);
/// returns the account's token.
pub(crate) async fn evaluator(
    app: &TestApp,
    officer: &str,
    expert: &str,
    username: &str,
) -> String {
    let token = app.create_user(username, &["evaluator"], None, HALL).await;
    let uid = user_id(app, &token).await;
    app.put(
        &format!("/experts/{expert}/account"),
        Some(officer),
        json!({"user_id": uid}),
    )
    .await
    .expect(204);
    token
}
