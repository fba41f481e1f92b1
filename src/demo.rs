//! `sealbid serve --demo`: seeds a small, realistic market — the city hall and one district, a
//! tenderee, five bidders, staff accounts, one published tender and one tender opened some days
//! ago whose screening raised alerts for the supervisor — so a newcomer sees the platform work at
//! once. Seeding is idempotent: a second run finds the accounts and only prints the logins.
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::credit_code::complete_credit_code;
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::tender::{
    Category, CommitteePolicy, EvaluationMethod, Tender, TenderCode, TenderTerms,
};
use sealbid_domain::{DivisionCode, ManualClock, Money, OrgId, TenderId, UserId};
use sealbid_seal::keys::{MemberIdentity, SigningKey};
use sealbid_seal::payload::{BoqLine, PricePayload};
use sealbid_seal::threshold::{EnvelopeKind, ShareContext};
use sealbid_server::sealing::{BankCallback, SeatSpec};
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
        (
            "expert1",
            "evaluator on the past tender's committee (its report is signed)",
        ),
        (
            "supervisor",
            "supervisor, city hall (anomaly alerts under Supervision)",
        ),
    ] {
        println!("  {name:<11} {what}");
    }
    println!();
    Ok(())
}

/// How long before today the demo market was set up: its past tender was published the next day
/// and opened some 11 days ago.
const MARKET_AGE_DAYS: i64 = 35;

async fn seed_market(state: &AppState, keys_dir: &std::path::Path) -> anyhow::Result<()> {
    let store = &state.store;
    // The market and its past tender are seeded on a hand-set clock that starts weeks ago, so the
    // records (and the transparency log) run forward in time up to today's tenders.
    let (past, clock) = past_state(
        state,
        keys_dir,
        china_time_on(state.now() - Duration::days(MARKET_AGE_DAYS), 9, 0)?,
    )?;
    let now = past.now();
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
    let tenderee_user = find_user(&users, "tenderee")?.clone();
    let supervisor_user = find_user(&users, "supervisor")?.clone();
    let officer = find_user(&users, "officer")?.clone();

    // The opening committee of every demo tender: the tenderee's and the supervisor's seats
    // (their demo identities are written under the keys directory) and the platform's, 2 of 3.
    let committee_dir = keys_dir.join("demo-committee");
    std::fs::create_dir_all(&committee_dir)
        .with_context(|| format!("cannot create {}", committee_dir.display()))?;
    let mut seats = Vec::new();
    let mut identities = Vec::new();
    for member in [&tenderee_user, &supervisor_user] {
        let id = MemberIdentity::generate(&mut rand::rngs::OsRng);
        let path = committee_dir.join(format!("{}.age", member.username));
        write_private(&path, &format!("{}\n", id.to_secret_string().as_str()))?;
        seats.push(SeatSpec {
            name: member.display_name.clone(),
            role: member.username.clone(),
            user_id: Some(member.id),
            recipient: Some(id.recipient().to_string()),
        });
        identities.push(id);
    }
    let tenderee_identity = identities.first().context("the tenderee's demo identity")?;
    // Bidders 1–4 sign their bids with one key each, written under the keys directory so they can
    // replace or withdraw their bid on the published tender with the CLI.
    let bidder_dir = keys_dir.join("demo-bidders");
    std::fs::create_dir_all(&bidder_dir)
        .with_context(|| format!("cannot create {}", bidder_dir.display()))?;
    let mut bidder_keys = Vec::new();
    for i in 1..=4 {
        let username = format!("bidder{i}");
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        write_private(
            &bidder_dir.join(format!("{username}.key")),
            &format!("{}\n", key.to_secret_string().as_str()),
        )?;
        bidder_keys.push((find_user(&users, &username)?.clone(), key));
    }

    // First the past: a tender published five weeks ago, bid on, closed and opened.
    let opened = seed_opened_tender(
        &past,
        &clock,
        (&tenderee_user, tenderee_identity, &officer),
        seats.clone(),
        &bidder_keys,
    )
    .await?;

    // Its evaluation and award, on the days after the opening.
    let evaluators = crate::demo_evaluation::evaluate_and_award(
        &past,
        &clock,
        &opened.tender,
        (&tenderee_user, &officer),
        &hash,
    )
    .await?;

    // Then today.
    let now = state.now();
    // Deadline 25 days out, at 09:30 China time, as notices usually set it.
    let deadline = china_time_on(now + Duration::days(25), 9, 30)?;
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
    let year = chrono::Datelike::year(&deadline.with_timezone(&sealbid_domain::clock::china_tz()));
    // One tender published, and one waiting for the centre's review (the officer's queue).
    let t = publish_tender(
        state,
        &format!("QD-SN-{year}-001"),
        terms.clone(),
        seats.clone(),
        &tenderee_user,
        &officer,
    )
    .await?;
    seed_sealed_bids(state, &t, &bidder_keys).await?;
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
    println!(
        "Past tender {} was opened on {} (China time) and screened at the opening: {} alerts ({}); sign in as supervisor to review them under Supervision (/supervision/alerts).",
        opened.tender.code,
        opened
            .opened_at
            .with_timezone(&sealbid_domain::clock::china_tz())
            .format("%Y-%m-%d %H:%M"),
        opened.alerts,
        opened.indicators.join(", ")
    );
    println!(
        "Its committee ({}, and the tenderee's representative) evaluated it; the candidates were published, the award notice given, the contract recorded and every deposit refunded: see its result and the open data (/api/v1/ocds/tenders/{}/releases).",
        evaluators
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        opened.tender.id
    );
    Ok(())
}

fn find_user<'a>(users: &'a [User], username: &str) -> anyhow::Result<&'a User> {
    users
        .iter()
        .find(|u| u.username == username)
        .with_context(|| format!("demo account {username}"))
}

/// `hour:minute` China time on the China calendar date of `day`.
fn china_time_on(day: DateTime<Utc>, hour: u32, minute: u32) -> anyhow::Result<DateTime<Utc>> {
    let tz = sealbid_domain::clock::china_tz();
    let d = day.with_timezone(&tz);
    Ok(tz
        .with_ymd_and_hms(
            chrono::Datelike::year(&d),
            chrono::Datelike::month(&d),
            chrono::Datelike::day(&d),
            hour,
            minute,
            0,
        )
        .single()
        .context("a demo date")?
        .with_timezone(&Utc))
}

/// A state sharing `state`'s store, blob store, calendar, settings and platform keys, whose clock
/// is a [`ManualClock`] starting at `start`: the demo's past is played on it. The platform keys are
/// not `Clone`, so they are loaded again from the keys directory the server loaded them from (and
/// checked to be the same keys).
fn past_state(
    state: &AppState,
    keys_dir: &std::path::Path,
    start: DateTime<Utc>,
) -> anyhow::Result<(AppState, ManualClock)> {
    let verifier = state.sealing.log_verifier();
    let keys = sealbid_server::sealing::SealingKeys::load_or_create(keys_dir, verifier.name())
        .with_context(|| format!("the platform keys in {}", keys_dir.display()))?;
    if keys.log_verifier().to_string() != verifier.to_string()
        || keys.identity.recipient().to_string() != state.sealing.identity.recipient().to_string()
    {
        anyhow::bail!(
            "the platform keys in {} are not the keys the server runs with",
            keys_dir.display()
        );
    }
    let clock = ManualClock::new(start);
    let past = AppState::with_keys(
        state.store.clone(),
        state.blobs.clone(),
        Arc::new(clock.clone()),
        state.calendar.clone(),
        state.settings.clone(),
        keys,
    );
    Ok((past, clock))
}

/// Creates a draft with the demo committee, submits it, and has the centre's officer approve and
/// publish it, all at `state.now()`.
async fn publish_tender(
    state: &AppState,
    code: &str,
    terms: TenderTerms,
    seats: Vec<SeatSpec>,
    tenderee: &User,
    officer: &User,
) -> anyhow::Result<Tender> {
    let now = state.now();
    let draft = new_tender(state, code, terms, tenderee).await?;
    sealbid_server::sealing::set_committee(state, tenderee, &draft, 2, seats, true)
        .await
        .map_err(|e| anyhow::anyhow!("demo committee: {e}"))?;
    // The committee's shape is part of the terms: read the tender back.
    let mut t = state
        .store
        .get_tender(draft.id)
        .await?
        .context("the demo tender")?;
    let before = t.clone();
    t.submit_for_review(now, &state.calendar, &state.rules)?;
    transition(state, &before, tenderee, "tender.submit", &t).await?;
    let before = t.clone();
    t.approve(now, &state.rules)?;
    let audit = AuditEvent::new(Some(officer.id), now, "tender.publish", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    sealbid_server::sealing::publish(state, &before, &t, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("demo publication: {e}"))?;
    Ok(t)
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
/// receipts; bidder5 is left to try it by hand.
async fn seed_sealed_bids(
    state: &AppState,
    t: &Tender,
    bidders: &[(User, SigningKey)],
) -> anyhow::Result<()> {
    let prices = ["12180000.00", "12240000.00", "12095000.00", "12310000.00"];
    for (i, ((user, key), total)) in bidders.iter().zip(prices).enumerate() {
        let reference = deposit_reference(state, user, t).await?;
        let price = PricePayload {
            currency: "CNY".into(),
            personnel: Default::default(),
            total: total.parse()?,
            lines: Vec::new(),
        };
        submit_sealed_bid(state, t, user, key, &reference, &price, None).await?;
        pay_deposit(
            state,
            t,
            &reference,
            &format!("DEMO-BANK-{}", i + 1),
            &format!("Demo payer {}", i + 1),
            &format!("62220000{:08}", i + 1),
        )
        .await?;
    }
    println!(
        "Sealed {} demo bids (deposits paid by the simulated bank); bidder5 can bid by hand.",
        prices.len()
    );
    Ok(())
}

/// The bidder's deposit reference for the tender (requested as the API does).
async fn deposit_reference(state: &AppState, user: &User, t: &Tender) -> anyhow::Result<String> {
    Ok(sealbid_server::sealing::deposit_reference(state, user, t)
        .await
        .map_err(|e| anyhow::anyhow!("demo deposit reference: {e}"))?
        .reference)
}

/// Seals the price (and technical) envelopes to the tender's committee, stores them as the
/// upload would, and submits the signed manifest, as `sealbid seal` and `submit` do.
async fn submit_sealed_bid(
    state: &AppState,
    t: &Tender,
    user: &User,
    key: &SigningKey,
    reference: &str,
    price: &PricePayload,
    technical: Option<&[u8]>,
) -> anyhow::Result<()> {
    let sealing = state
        .store
        .get_sealing(t.id)
        .await?
        .context("the demo tender's committee")?;
    let policy = sealbid_server::sealing::policy_of(&sealing)
        .map_err(|e| anyhow::anyhow!("demo policy: {e}"))?;
    let committee = policy.body.committee();
    let org = user.org.context("demo bidders have organisations")?;
    let plain = price.to_json_bytes()?;
    let mut envelopes = Vec::new();
    for (kind, plain) in std::iter::once((EnvelopeKind::Price, plain.as_slice()))
        .chain(technical.map(|t| (EnvelopeKind::Technical, t)))
    {
        let ctx = ShareContext {
            tender: t.id.to_string(),
            bidder: org.to_string(),
            kind,
        };
        let mut sealed = Vec::new();
        let digest = sealbid_seal::envelope::seal_envelope(
            &committee,
            &ctx,
            None,
            &mut rand::rngs::OsRng,
            plain,
            &mut sealed,
        )?;
        state
            .blobs
            .put(
                &sealbid_server::sealing::envelope_key(t.id, org, &digest.sha256_hex()),
                sealed.into(),
            )
            .await?;
        envelopes.push(sealbid_seal::manifest::EnvelopeEntry {
            kind,
            sha256: digest.sha256_hex(),
            size: digest.size,
        });
    }
    let manifest = sealbid_seal::manifest::Manifest {
        version: 1,
        tender: t.id.to_string(),
        bidder: org.to_string(),
        policy_hash: policy.body.hash_hex()?,
        deposit_reference: reference.to_string(),
        envelopes,
        sealed_at: state.now(),
    };
    let signed = sealbid_seal::signed::Signed::sign(manifest, key)?;
    sealbid_server::sealing::submit_bid(state, user, t, &signed.to_json_bytes()?, None)
        .await
        .map_err(|e| anyhow::anyhow!("demo bid: {e}"))?;
    Ok(())
}

/// The simulated bank pays a deposit: "reference R paid the tender's deposit".
async fn pay_deposit(
    state: &AppState,
    t: &Tender,
    reference: &str,
    transaction_id: &str,
    payer_name: &str,
    account_number: &str,
) -> anyhow::Result<()> {
    sealbid_server::sealing::bank_payment(
        state,
        BankCallback {
            transaction_id: transaction_id.to_string(),
            reference: reference.to_string(),
            amount: t.terms.bid_deposit.amount().to_string(),
            payer_name: payer_name.to_string(),
            account_number: account_number.to_string(),
            bank: "Bank of Qingdao".into(),
            paid_at: state.now(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo deposit: {e}"))?;
    Ok(())
}

/// The bill of quantities of the past road-repair tender: code (GB 50500), item, unit, quantity.
const ROAD_BILL: [(&str, &str, &str, &str); 14] = [
    (
        "040101001001",
        "挖一般土方 Earth excavation",
        "m3",
        "3852.6",
    ),
    ("040103001001", "回填方 Backfill", "m3", "2210"),
    (
        "040202001001",
        "路床整形碾压 Subgrade trimming and rolling",
        "m2",
        "18640",
    ),
    (
        "040202015001",
        "水泥稳定碎石基层 20cm Cement-stabilised macadam base",
        "m2",
        "16420",
    ),
    (
        "040203006001",
        "沥青混凝土 AC-20C 6cm Asphalt concrete binder course",
        "m2",
        "16420",
    ),
    (
        "040203006002",
        "沥青混凝土 AC-13C 4cm Asphalt concrete wearing course",
        "m2",
        "16420",
    ),
    (
        "041001001001",
        "铣刨旧路面 Milling of the old surface",
        "m2",
        "14230",
    ),
    (
        "040204002001",
        "人行道块料铺设 Footway paving blocks",
        "m2",
        "5185.5",
    ),
    ("040204004001", "安砌侧平石 Kerbs and channels", "m", "4310"),
    (
        "040501001001",
        "混凝土管 DN600 Concrete storm-water pipe",
        "m",
        "962",
    ),
    ("040504001001", "砌筑检查井 Manholes", "座 each", "38"),
    ("040504009001", "雨水口 Gullies", "座 each", "86"),
    (
        "040205005001",
        "热熔标线 Thermoplastic road markings",
        "m2",
        "2104",
    ),
    (
        "041109001001",
        "安全文明施工 Safety and site management",
        "项 item",
        "1",
    ),
];

/// A priced bill of quantities: `unit_prices` line by line (amount = quantity × unit price,
/// rounded half away from zero to the fen), the total their sum. With `balance_to`, the last
/// line's unit price is set so that the total is exactly that figure.
fn priced_bill(
    unit_prices: &[&str; 14],
    balance_to: Option<Decimal>,
) -> anyhow::Result<PricePayload> {
    let mut lines = Vec::new();
    for ((code, description, unit, quantity), unit_price) in ROAD_BILL.iter().zip(unit_prices) {
        let quantity: Decimal = quantity.parse()?;
        let unit_price: Decimal = unit_price.parse()?;
        lines.push(BoqLine {
            code: (*code).to_string(),
            description: (*description).to_string(),
            unit: (*unit).to_string(),
            quantity,
            unit_price,
            amount: (quantity * unit_price)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
        });
    }
    if let Some(target) = balance_to {
        let others: Decimal = lines.iter().rev().skip(1).map(|l| l.amount).sum();
        let last = lines.last_mut().context("a bill of quantities has lines")?;
        last.quantity = Decimal::ONE;
        last.unit_price = target - others;
        last.amount = last.unit_price;
    }
    let price = PricePayload {
        currency: "CNY".into(),
        personnel: Default::default(),
        total: lines.iter().map(|l| l.amount).sum(),
        lines,
    };
    price.validate()?;
    Ok(price)
}

/// Bidder 1's own technical proposal.
const PROPOSAL_1: &str = "海信建设 施工组织设计（崂山区道路维修工程）\n\
一、总体部署：全线分三个施工段，先铣刨旧路面后恢复基层，半幅封闭、半幅通行，每段工期四十天。\n\
二、路面工程：沥青混合料由本公司李村拌和站供应，运距十二公里，摊铺采用两台摊铺机梯队作业，\
初压采用双钢轮压路机，复压采用胶轮压路机，终压消除轮迹。\n\
三、排水工程：雨水管道采用开槽施工，沟槽深度超过三米处采用钢板桩支护，管道闭水试验逐段进行。\n\
四、交通组织：设置交通协管员六名，夜间设警示灯带，公交站点临时迁移方案报交警部门批准后实施。";

/// The technical proposal bidders 2 and 3 both hand in, down to its typos (one hand wrote both).
const PROPOSAL_COPIED: &str = "施工组织设计\n\
本工程采用分段流水施工，路面铣刨后对基层病害进行挖补处理，水泥稳定碎石基层采用厂拌法施工，\
养生期不少于七天，沥青面层施工前喷洒粘层油，摊铺温度不低于一百四十度，碾压遍数按试验段确定。\
雨水管道沟槽采用机械开挖人工清底，检查井砌筑砂浆饱满度不小于百分之八十，井盖采用防沉降井盖。\
项目经理部设质量、安全、技术三个职能组，关键工序实行旁站，材料进场实行见证取样复试制度。\
特别说明：本方案的横坡按百分之一点五设置，沉降观测点按每二十米一个布置，夜间施工噪音控制在五十五分贝以下。";

/// Bidder 4's own technical proposal.
const PROPOSAL_4: &str = "崂山工程有限公司 技术标\n\
第一章 工程概况与重难点：本工程位于交通繁忙路段，重点是保证通行与夜间施工扰民控制。\n\
第二章 施工方法：基层采用冷再生工艺利用旧料，面层采用温拌沥青降低烟气排放，检查井加固采用预制井圈。\n\
第三章 资源配置：投入铣刨机一台、摊铺机一台、压路机四台，劳务班组五个，高峰期人数八十人。\n\
第四章 质量保证：执行三检制，面层平整度每车道每二百米检测一处，压实度按每一千平方米一点。";

/// What the past tender shows once opened.
struct OpenedTender {
    tender: Tender,
    opened_at: DateTime<Utc>,
    /// How many alerts its screening raised, and their indicators, readable ("shared deposit
    /// account").
    alerts: usize,
    indicators: Vec<String>,
}

/// The past: a road-repair tender published 34 days ago, bid on by bidders 1–4, closed and opened
/// 11 days ago by the tenderee's committee seat with the platform's — and screened at the opening
/// as every opened tender is. The bids carry what the anomaly engine looks for: bidders 2 and 3
/// quote the same total and hand in the same technical proposal, bidders 3 and 4 pay their deposits
/// from one account, and bidders 1 and 4 price their bills of quantities at mostly the same unit
/// prices.
async fn seed_opened_tender(
    past: &AppState,
    clock: &ManualClock,
    (tenderee, tenderee_identity, officer): (&User, &MemberIdentity, &User),
    seats: Vec<SeatSpec>,
    bidders: &[(User, SigningKey)],
) -> anyhow::Result<OpenedTender> {
    let founded = past.now();
    // Published the day after the market was set up; bids until 09:30 China time 23 days later.
    let published_at = founded + Duration::days(1) + Duration::hours(1);
    let deadline = china_time_on(published_at + Duration::days(23), 9, 30)?;
    let terms = TenderTerms {
        title: "崂山区道路维修工程 Laoshan road repairs".into(),
        description: "Resurfacing of 4.1 km of district roads (milling, base repairs, two asphalt \
                      courses), footways, kerbs and storm-water drainage. Works period 120 \
                      calendar days. Priced bill of quantities required."
            .into(),
        category: Category::Works,
        mandatory: true,
        estimated_price: money("6600000.00")?,
        ceiling_price: Some(money("6400000.00")?),
        bid_deposit: money("120000.00")?,
        documents: Vec::new(),
        bid_deadline: deadline,
        opening_time: deadline,
        evaluation_method: EvaluationMethod::ComprehensiveScoring,
        qualification_criteria: vec![
            "Municipal public works general contracting qualification, grade III or above".into(),
            "Project manager registered as a constructor (municipal)".into(),
            "Safety production licence in force".into(),
        ],
        committee: CommitteePolicy::default(),
    };
    let year =
        chrono::Datelike::year(&published_at.with_timezone(&sealbid_domain::clock::china_tz()));
    clock.set(founded + Duration::hours(2));
    let draft = new_tender(past, &format!("QD-SN-WX-{year}-017"), terms, tenderee).await?;
    sealbid_server::sealing::set_committee(past, tenderee, &draft, 2, seats, true)
        .await
        .map_err(|e| anyhow::anyhow!("demo committee: {e}"))?;
    let mut t = past
        .store
        .get_tender(draft.id)
        .await?
        .context("the past demo tender")?;
    let before = t.clone();
    t.submit_for_review(past.now(), &past.calendar, &past.rules)?;
    transition(past, &before, tenderee, "tender.submit", &t).await?;
    clock.set(published_at);
    let before = t.clone();
    t.approve(past.now(), &past.rules)?;
    let audit = AuditEvent::new(
        Some(officer.id),
        past.now(),
        "tender.publish",
        "tender",
        t.id,
    )
    .with_change(Some(&before), Some(&t));
    sealbid_server::sealing::publish(past, &before, &t, &audit)
        .await
        .map_err(|e| anyhow::anyhow!("demo publication: {e}"))?;

    // Unit prices of the 14 lines. Bidder 4 copied bidder 1's table and changed three prices;
    // bidders 2 and 3 priced their own, and bidder 3 balanced its last line to bidder 2's total.
    let bill_1 = priced_bill(
        &[
            "38.50",
            "24.60",
            "6.80",
            "68.00",
            "86.50",
            "62.00",
            "18.00",
            "128.00",
            "72.00",
            "520.00",
            "4800.00",
            "1350.00",
            "58.00",
            "160000.00",
        ],
        None,
    )?;
    let bill_2 = priced_bill(
        &[
            "41.20",
            "22.80",
            "7.30",
            "71.50",
            "84.90",
            "64.30",
            "16.50",
            "121.00",
            "76.80",
            "548.00",
            "4600.00",
            "1420.00",
            "55.00",
            "168000.00",
        ],
        None,
    )?;
    let bill_3 = priced_bill(
        &[
            "36.90", "25.50", "6.50", "69.40", "88.20", "60.80", "19.20", "131.50", "69.50",
            "505.00", "5100.00", "1280.00", "61.00", "0",
        ],
        Some(bill_2.total),
    )?;
    let bill_4 = priced_bill(
        &[
            "38.50",
            "24.60",
            "6.80",
            "66.80",
            "86.50",
            "62.00",
            "18.00",
            "128.00",
            "72.00",
            "520.00",
            "4950.00",
            "1350.00",
            "58.00",
            "152000.00",
        ],
        None,
    )?;
    // (bill, technical proposal, payer, payer's account, days after publication)
    let shared_account = "6222 0238 0201 7755 019";
    let plan = [
        (
            &bill_1,
            PROPOSAL_1,
            "海信建设有限公司 Haixin Construction Co.",
            "3802 0101 0900 0231 457",
            6,
        ),
        (
            &bill_2,
            PROPOSAL_COPIED,
            "青建集团 Qingjian Group",
            "3802 0201 0900 1187 302",
            11,
        ),
        (
            &bill_3,
            PROPOSAL_COPIED,
            "刘建国 Liu Jianguo",
            shared_account,
            15,
        ),
        (
            &bill_4,
            PROPOSAL_4,
            "刘建国 Liu Jianguo",
            shared_account,
            16,
        ),
    ];
    for (i, ((user, key), (bill, proposal, payer, account, day))) in
        bidders.iter().zip(plan).enumerate()
    {
        // Reference in the morning, deposit paid within the hour, bid sealed and sent next day.
        clock.set(published_at + Duration::days(day));
        let reference = deposit_reference(past, user, &t).await?;
        clock.advance(Duration::minutes(40 + 7 * i as i64));
        pay_deposit(
            past,
            &t,
            &reference,
            &format!("DEMO-BANK-P{}", i + 1),
            payer,
            account,
        )
        .await?;
        clock.advance(Duration::days(1));
        submit_sealed_bid(
            past,
            &t,
            user,
            key,
            &reference,
            bill,
            Some(proposal.as_bytes()),
        )
        .await?;
    }

    // The deadline: the tender closes (as the scheduler would close it).
    clock.set(deadline);
    sealbid_server::sealing::close_tender(past, t.clone())
        .await
        .map_err(|e| anyhow::anyhow!("demo closing: {e}"))?;
    // The opening: the tenderee's seat commits and reveals; with the platform's share that makes
    // 2 of 3, the bids open and the anomaly engine screens them.
    clock.set(deadline + Duration::minutes(15));
    let t = past
        .store
        .get_tender(t.id)
        .await?
        .context("the past demo tender")?;
    open_as_member(past, clock, &t, tenderee, tenderee_identity).await?;
    let opened_at = past.now();
    let t = past
        .store
        .get_tender(t.id)
        .await?
        .context("the past demo tender")?;
    let mut indicators: Vec<String> = past
        .store
        .list_alerts(&sealbid_store::AlertFilter {
            tender: Some(t.id),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|a| a.indicator.replace('_', " "))
        .collect();
    let alerts = indicators.len();
    indicators.sort();
    indicators.dedup();
    Ok(OpenedTender {
        tender: t,
        opened_at,
        alerts,
        indicators,
    })
}

/// A committee member's part of the opening, as `sealbid committee open` does it: derives its
/// share key of every envelope to open, commits to the reveal, then reveals. Fails unless that
/// opens the bids.
async fn open_as_member(
    state: &AppState,
    clock: &ManualClock,
    t: &Tender,
    member: &User,
    identity: &MemberIdentity,
) -> anyhow::Result<()> {
    use base64::Engine;
    use sealbid_seal::opening::{Reveal, RevealedKey};
    let sealing = state
        .store
        .get_sealing(t.id)
        .await?
        .context("the demo tender's committee")?;
    let seat = sealbid_server::sealing::seat_of(&sealing, member)
        .map_err(|e| anyhow::anyhow!("demo opening: {e}"))?;
    let mut keys = Vec::new();
    for e in sealbid_server::sealing::envelopes_to_open(state, t)
        .await
        .map_err(|e| anyhow::anyhow!("demo opening: {e}"))?
    {
        let raw = base64::engine::general_purpose::STANDARD.decode(&e.header)?;
        let header = sealbid_seal::threshold::read_header(raw.as_slice())?;
        let ctx = ShareContext {
            tender: e.tender.clone(),
            bidder: e.bidder.clone(),
            kind: e.kind.parse()?,
        };
        keys.push(RevealedKey {
            key: sealbid_seal::threshold::member_share_key_at(identity, &header, &ctx, seat)?,
            envelope_sha256: e.sha256,
        });
    }
    let mut nonce = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let reveal = Reveal {
        tender: t.id.to_string(),
        seat,
        keys,
        nonce: hex::encode(nonce),
    };
    sealbid_server::sealing::commit(state, member, t, &reveal.commitment()?)
        .await
        .map_err(|e| anyhow::anyhow!("demo commitment: {e}"))?;
    clock.advance(Duration::minutes(2));
    let record = sealbid_server::sealing::reveal(state, member, t, &serde_json::to_vec(&reveal)?)
        .await
        .map_err(|e| anyhow::anyhow!("demo reveal: {e}"))?;
    record.context("the demo opening needs the platform's share: the tender did not open")?;
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
