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

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    if store.find_login("admin").await?.is_none() {
        seed_market(state).await?;
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

async fn seed_market(state: &AppState) -> anyhow::Result<()> {
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
    let code = TenderCode::parse(&format!("QD-SN-{}-001", chrono::Datelike::year(&day)))
        .map_err(|p| anyhow::anyhow!(p.message))?;
    let mut tender = Tender::new_draft(
        TenderId::new(),
        code,
        division(DISTRICT)?,
        tenderee.id,
        tenderee_user.id,
        terms,
        now,
    );
    store
        .create_tender(
            &tender,
            &AuditEvent::new(
                Some(tenderee_user.id),
                now,
                "tender.create",
                "tender",
                tender.id,
            )
            .with_change::<(), _>(None, Some(&tender)),
        )
        .await?;
    let before = tender.clone();
    tender.submit_for_review(now, &state.calendar, &state.rules)?;
    store
        .update_tender(
            &tender,
            before.version,
            &AuditEvent::new(
                Some(tenderee_user.id),
                now,
                "tender.submit",
                "tender",
                tender.id,
            )
            .with_change(Some(&before), Some(&tender)),
        )
        .await?;
    let before = tender.clone();
    tender.approve(now, &state.rules)?;
    store
        .update_tender(
            &tender,
            before.version,
            &AuditEvent::new(Some(officer.id), now, "tender.approve", "tender", tender.id)
                .with_change(Some(&before), Some(&tender)),
        )
        .await?;
    println!(
        "Seeded the demo market: 2 halls, 7 organisations, {} accounts, tender {} (published).",
        users.len(),
        tender.code
    );
    Ok(())
}
