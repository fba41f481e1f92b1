//! `sealbid serve --demo`: seeds a small, realistic market — the city hall and one district, a
//! tenderee, five bidders, staff accounts and one published tender — so a newcomer sees the
//! platform work at once. Seeding is idempotent: a second run finds the accounts and only
//! prints the logins.
use anyhow::Context;
use chrono::{Duration, TimeZone};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::credit_code::complete_credit_code;
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::tender::{
    Category, CommitteePolicy, EvaluationMethod, Tender, TenderCode, TenderTerms,
};
use sealbid_domain::{DivisionCode, Money, OrgId, TenderId, UserId};
use sealbid_server::AppState;

/// Every demo account's password. Demo data only: never seed a production database.
pub const DEMO_PASSWORD: &str = "sealbid-demo";

const CITY: &str = "370200";
const DISTRICT: &str = "370202";

fn division(code: &str) -> anyhow::Result<DivisionCode> {
    DivisionCode::parse(code).map_err(|e| anyhow::anyhow!("{e}"))
}

fn money(s: &str) -> anyhow::Result<Money> {
    Money::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn seed(state: &AppState, keys_dir: &std::path::Path) -> anyhow::Result<()> {
    let store = &state.store;
    if store.find_login("admin").await?.is_none() {
        seed_market(state, keys_dir).await?;
    }
    println!();
    println!("Demo accounts (password for all: {DEMO_PASSWORD}):");
    for (name, what) in [
        ("admin", "platform administrator"),
        (
            "officer",
            "trading-centre officer, city hall (reviews tenders)",
        ),
        (
            "tenderee",
            "Qingdao Municipal Works Bureau (creates tenders)",
        ),
        ("bidder1", "Haixin Construction Co. (bidder)"),
        ("supervisor", "supervisor, city hall"),
    ] {
        println!("  {name:<11} {what}");
    }
    println!();
    Ok(())
}

async fn seed_market(state: &AppState, keys_dir: &std::path::Path) -> anyhow::Result<()> {
    let store = &state.store;
    let now = state.now();
    let sys = |action: &str, kind: &str, id: String| AuditEvent::new(None, now, action, kind, id);

    for (code, name) in [
        (
            CITY,
            "青岛市公共资源交易中心 Qingdao Public Resource Trading Centre",
        ),
        (DISTRICT, "市南区分中心 Shinan District Hall"),
    ] {
        let hall = Hall {
            division: division(code)?,
            name: name.to_string(),
        };
        store
            .upsert_hall(
                &hall,
                &sys("hall.upsert", "hall", code.to_string())
                    .with_change::<(), _>(None, Some(&hall)),
            )
            .await?;
    }

    let org = |n: u32, name: &str, kind: OrgKind| -> anyhow::Result<Organisation> {
        let first17 = format!("913702{:011}", 20_000_000 + n);
        Ok(Organisation {
            id: OrgId::new(),
            credit_code: complete_credit_code(&first17).map_err(|e| anyhow::anyhow!("{e}"))?,
            name: name.to_string(),
            kind,
            hall: division(CITY)?,
            created_at: now,
        })
    };
    let tenderee = org(
        1,
        "青岛市市政工程建设局 Qingdao Municipal Works Bureau",
        OrgKind::Tenderee,
    )?;
    let centre = org(
        2,
        "青岛市公共资源交易中心 Trading Centre",
        OrgKind::Authority,
    )?;
    let bidder_names = [
        "海信建设有限公司 Haixin Construction Co.",
        "青建集团 Qingjian Group",
        "城建路桥有限公司 Chengjian Road & Bridge",
        "崂山工程有限公司 Laoshan Engineering",
        "黄海建工有限公司 Huanghai Builders",
    ];
    let mut bidders = Vec::new();
    for (i, name) in bidder_names.iter().enumerate() {
        bidders.push(org(10 + i as u32, name, OrgKind::Bidder)?);
    }
    for o in std::iter::once(&tenderee)
        .chain([&centre])
        .chain(bidders.iter())
    {
        store
            .create_org(
                o,
                &sys("org.create", "org", o.id.to_string()).with_change::<(), _>(None, Some(o)),
            )
            .await?;
    }

    let hash = sealbid_server::auth::hash_password(state, DEMO_PASSWORD)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = |username: &str,
                display: &str,
                roles: Vec<Role>,
                org: Option<OrgId>|
     -> anyhow::Result<User> {
        Ok(User {
            id: UserId::new(),
            username: username.to_string(),
            display_name: display.to_string(),
            roles,
            org,
            hall: division(CITY)?,
            active: true,
            created_at: now,
        })
    };
    let mut users = vec![
        user(
            "admin",
            "Platform administrator",
            vec![Role::Admin],
            Some(centre.id),
        )?,
        user(
            "officer",
            "Wang Li (centre officer)",
            vec![Role::CentreOfficer],
            Some(centre.id),
        )?,
        user(
            "supervisor",
            "Zhao Min (supervisor)",
            vec![Role::Supervisor],
            Some(centre.id),
        )?,
        user(
            "tenderee",
            "Chen Jing (Works Bureau)",
            vec![Role::Tenderee],
            Some(tenderee.id),
        )?,
    ];
    for (i, b) in bidders.iter().enumerate() {
        users.push(user(
            &format!("bidder{}", i + 1),
            &format!("Bid manager, {}", b.name),
            vec![Role::Bidder],
            Some(b.id),
        )?);
    }
    for u in &users {
        store
            .create_user(
                u,
                &hash,
                &sys("user.create", "user", u.id.to_string()).with_change::<(), _>(None, Some(u)),
            )
            .await?;
    }
    let tenderee_user = users
        .iter()
        .find(|u| u.username == "tenderee")
        .context("demo tenderee account")?
        .clone();
    let supervisor_user = users
        .iter()
        .find(|u| u.username == "supervisor")
        .context("demo supervisor account")?
        .clone();
    let officer = users
        .iter()
        .find(|u| u.username == "officer")
        .context("demo officer account")?
        .clone();

    // Deadline 25 days out, at 09:30 China time, as notices usually set it.
    let day = (now + Duration::days(25)).with_timezone(&sealbid_domain::clock::china_tz());
    let deadline = sealbid_domain::clock::china_tz()
        .with_ymd_and_hms(
            chrono::Datelike::year(&day),
            chrono::Datelike::month(&day),
            chrono::Datelike::day(&day),
            9,
            30,
            0,
        )
        .single()
        .context("demo deadline")?
        .with_timezone(&chrono::Utc);
    let terms = TenderTerms {
        title: "市南区海滨步道改造工程 Shinan seafront promenade renovation".into(),
        description: "Renovation of 2.4 km of seafront promenade: paving, drainage, lighting and \
                      planting. Works period 180 calendar days."
            .into(),
        category: Category::Works,
        mandatory: true,
        estimated_price: money("12800000.00")?,
        ceiling_price: Some(money("12500000.00")?),
        bid_deposit: money("200000.00")?,
        documents: Vec::new(),
        bid_deadline: deadline,
        opening_time: deadline,
        evaluation_method: EvaluationMethod::ComprehensiveScoring,
        qualification_criteria: vec![
            "Municipal public works general contracting qualification, grade II or above".into(),
            "Project manager registered as a grade-II constructor (municipal), no other project in hand".into(),
            "Safety production licence in force".into(),
        ],
        committee: CommitteePolicy::default(),
    };
    let year = chrono::Datelike::year(&day);
    // One tender published, and one waiting for the centre's review (the officer's queue).
    let published = new_tender(
        state,
        &format!("QD-SN-{year}-001"),
        terms.clone(),
        &tenderee_user,
    )
    .await?;
    let mut t = published;
    // The opening committee: the tenderee's and the supervisor's seats (their demo identities
    // are written under the keys directory) and the platform's, 2 of 3.
    let committee_dir = keys_dir.join("demo-committee");
    std::fs::create_dir_all(&committee_dir)
        .with_context(|| format!("cannot create {}", committee_dir.display()))?;
    let mut seats = Vec::new();
    for member in [&tenderee_user, &supervisor_user] {
        let id = sealbid_seal::keys::MemberIdentity::generate(&mut rand::rngs::OsRng);
        let path = committee_dir.join(format!("{}.age", member.username));
        write_private(&path, &format!("{}\n", id.to_secret_string().as_str()))?;
        seats.push(sealbid_server::sealing::SeatSpec {
            name: member.display_name.clone(),
            role: member.username.clone(),
            user_id: Some(member.id),
            recipient: Some(id.recipient().to_string()),
        });
    }
    sealbid_server::sealing::set_committee(state, &tenderee_user, &t, 2, seats.clone(), true)
        .await
        .map_err(|e| anyhow::anyhow!("demo committee: {e}"))?;
    // The committee's shape is part of the terms: read the tender back.
    t = state
        .store
        .get_tender(t.id)
        .await?
        .context("the demo tender")?;
    let before = t.clone();
    t.submit_for_review(now, &state.calendar, &state.rules)?;
    transition(state, &before, &tenderee_user, "tender.submit", &t).await?;
    let before = t.clone();
    t.approve(now, &state.rules)?;
    let audit = AuditEvent::new(Some(officer.id), now, "tender.publish", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    sealbid_server::sealing::publish(state, &before, &t, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("demo publication: {e}"))?;
    seed_sealed_bids(state, &t, &users, keys_dir).await?;
    let review_terms = TenderTerms {
        title: "市南区学校照明设备采购 LED lighting for Shinan district schools".into(),
        description: "Supply and installation of classroom LED lighting for 14 schools.".into(),
        category: Category::Goods,
        estimated_price: money("3600000.00")?,
        ceiling_price: Some(money("3500000.00")?),
        bid_deposit: money("70000.00")?,
        evaluation_method: EvaluationMethod::LowestEvaluatedPrice,
        qualification_criteria: vec![
            "Manufacturer's authorisation for the offered luminaires".into()
        ],
        ..terms
    };
    let mut r = new_tender(
        state,
        &format!("QD-SN-{year}-002"),
        review_terms,
        &tenderee_user,
    )
    .await?;
    sealbid_server::sealing::set_committee(state, &tenderee_user, &r, 2, seats, true)
        .await
        .map_err(|e| anyhow::anyhow!("demo committee: {e}"))?;
    r = state
        .store
        .get_tender(r.id)
        .await?
        .context("the demo tender under review")?;
    let before = r.clone();
    r.submit_for_review(now, &state.calendar, &state.rules)?;
    transition(state, &before, &tenderee_user, "tender.submit", &r).await?;
    println!(
        "Seeded the demo market: 2 halls, 7 organisations, {} accounts, tender {} (published) and {} (under review).",
        users.len(),
        t.code,
        r.code
    );
    Ok(())
}

async fn new_tender(
    state: &AppState,
    code: &str,
    terms: TenderTerms,
    by: &User,
) -> anyhow::Result<Tender> {
    let now = state.now();
    let code = TenderCode::parse(code).map_err(|p| anyhow::anyhow!(p.message))?;
    let org = by.org.context("the demo tenderee has an organisation")?;
    let tender = Tender::new_draft(
        TenderId::new(),
        code,
        division(DISTRICT)?,
        org,
        by.id,
        terms,
        now,
    );
    let audit = AuditEvent::new(Some(by.id), now, "tender.create", "tender", tender.id)
        .with_change::<(), _>(None, Some(&tender));
    state.store.create_tender(&tender, &audit).await?;
    Ok(tender)
}

/// Bidders 1–4 seal and submit bids to the published tender (as `sealbid seal` and `submit`
/// would) and the simulated bank pays their deposits, so the tender shows sealed bids and
/// receipts; bidder5 is left to try it by hand. Their signing keys are written under the keys
/// directory so they can replace or withdraw with the CLI.
async fn seed_sealed_bids(
    state: &AppState,
    t: &Tender,
    users: &[User],
    keys_dir: &std::path::Path,
) -> anyhow::Result<()> {
    use sealbid_seal::threshold::{EnvelopeKind, ShareContext};
    let sealing = state
        .store
        .get_sealing(t.id)
        .await?
        .context("the demo tender's committee")?;
    let policy = sealbid_server::sealing::policy_of(&sealing)
        .map_err(|e| anyhow::anyhow!("demo policy: {e}"))?;
    let committee = policy.body.committee();
    let bidder_dir = keys_dir.join("demo-bidders");
    std::fs::create_dir_all(&bidder_dir)
        .with_context(|| format!("cannot create {}", bidder_dir.display()))?;
    let prices = ["12180000.00", "12240000.00", "12095000.00", "12310000.00"];
    for (i, total) in prices.iter().enumerate() {
        let username = format!("bidder{}", i + 1);
        let user = users
            .iter()
            .find(|u| u.username == username)
            .with_context(|| format!("demo account {username}"))?;
        let org = user.org.context("demo bidders have organisations")?;
        let reference = sealbid_server::sealing::deposit_reference(state, user, t)
            .await
            .map_err(|e| anyhow::anyhow!("demo deposit reference: {e}"))?;
        let key = sealbid_seal::keys::SigningKey::generate(&mut rand::rngs::OsRng);
        write_private(
            &bidder_dir.join(format!("{username}.key")),
            &format!("{}\n", key.to_secret_string().as_str()),
        )?;
        let price = sealbid_seal::payload::PricePayload {
            currency: "CNY".into(),
            total: total.parse()?,
            lines: Vec::new(),
        };
        let plain = price.to_json_bytes()?;
        let ctx = ShareContext {
            tender: t.id.to_string(),
            bidder: org.to_string(),
            kind: EnvelopeKind::Price,
        };
        let mut sealed = Vec::new();
        let digest = sealbid_seal::envelope::seal_envelope(
            &committee,
            &ctx,
            None,
            &mut rand::rngs::OsRng,
            plain.as_slice(),
            &mut sealed,
        )?;
        state
            .blobs
            .put(
                &sealbid_server::sealing::envelope_key(t.id, org, &digest.sha256_hex()),
                sealed.into(),
            )
            .await?;
        let manifest = sealbid_seal::manifest::Manifest {
            version: 1,
            tender: t.id.to_string(),
            bidder: org.to_string(),
            policy_hash: policy.body.hash_hex()?,
            deposit_reference: reference.reference.clone(),
            envelopes: vec![sealbid_seal::manifest::EnvelopeEntry {
                kind: EnvelopeKind::Price,
                sha256: digest.sha256_hex(),
                size: digest.size,
            }],
            sealed_at: state.now(),
        };
        let signed = sealbid_seal::signed::Signed::sign(manifest, &key)?;
        sealbid_server::sealing::submit_bid(state, user, t, &signed.to_json_bytes()?)
            .await
            .map_err(|e| anyhow::anyhow!("demo bid: {e}"))?;
        sealbid_server::sealing::bank_payment(
            state,
            sealbid_server::sealing::BankCallback {
                transaction_id: format!("DEMO-BANK-{}", i + 1),
                reference: reference.reference,
                amount: t.terms.bid_deposit.amount().to_string(),
                payer_name: format!("Demo payer {}", i + 1),
                account_number: format!("62220000{:08}", i + 1),
                bank: "Bank of Qingdao".into(),
                paid_at: state.now(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo deposit: {e}"))?;
    }
    println!(
        "Sealed {} demo bids (deposits paid by the simulated bank); bidder5 can bid by hand.",
        prices.len()
    );
    Ok(())
}

/// Stores a transition the caller has applied, with its audit record, as the API does.
async fn transition(
    state: &AppState,
    before: &Tender,
    by: &User,
    action: &str,
    after: &Tender,
) -> anyhow::Result<()> {
    let audit = AuditEvent::new(Some(by.id), state.now(), action, "tender", after.id)
        .with_change(Some(before), Some(after));
    state
        .store
        .update_tender(after, before.version, &audit)
        .await?;
    Ok(())
}

/// Writes a secret file readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
