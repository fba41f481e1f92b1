//! OCDS export of a synthetic market: N tenders made deterministically from a seed, exported as a
//! record package (default) or a release package the way `sealbid export-ocds` does it, timed.
//!
//! ```sh
//! cargo run --release -p sealbid-domain --example ocds_export -- \
//!     --tenders 10000 --seed 20250601 --out /tmp/ocds-10k.json [--format record|release]
//! ```
//!
//! Each tender is a public, open tender of the Qingdao market (works, goods or services) with its
//! terms filled in (description, estimate, ceiling, deposit, 1–4 documents, 2–5 qualification
//! criteria, evaluation method), run by its tenderee or by an agency; 30 % have one or two
//! amendments. Every tender is opened with 3–12 bids in `bids.details[]` (distinct bidders of the
//! tender's category, prices around the estimate; above the ceiling or ~8 % at random
//! disqualified; ~3 % of tenders also list a withdrawn bid). Then: ~80 % completed (an award to
//! the lowest valid price, or one of the three lowest under comprehensive scoring, and a signed
//! contract), ~9 % awarded without a contract yet, ~5 % still under evaluation, ~4 % failed
//! (`tenderUpdate`, and every tender without a valid bid) and ~2 % cancelled after the opening.
//!
//! The releases of a tender are made as `sealbid_server::ocds::releases_of` makes them: one
//! [`OcdsProcess`] with the tender as it stands now, one release per stage (publication,
//! amendments, opening, cancellation or failure) sorted by (date, stage), each by
//! [`ocds::build_release`]; all tenders' releases go into one [`ocds::record_package`] (or
//! [`ocds::release_package`]) under [`OcdsConfig::default`] and are serialised with
//! `serde_json::to_vec_pretty`, like the CLI. The server does not yet publish awards and
//! contracts; the domain module builds them (`ReleaseStage::Award`, `ReleaseStage::Contract`), and
//! this export adds them at the award's date and the contract's signature.
//!
//! Printed: (a) the time to build the releases and the package (with the compiled releases),
//! (b) the time to serialise it to JSON, their sum (`export:`), and the file size. Generating
//! the inputs and writing the file are timed apart and are not part of the export.
//! `benches/ocds.rs` measures the same export with criterion; `benches/ocds/run.sh` compares it
//! with libcoveocds's validation of the file.
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use sealbid_domain::credit_code::complete_credit_code;
use sealbid_domain::ocds::{
    self, OcdsAward, OcdsAwardStatus, OcdsBid, OcdsBidStatus, OcdsConfig, OcdsContract,
    OcdsContractStatus, OcdsError, OcdsParty, OcdsProcess, OcdsTender, ReleaseStage,
};
use sealbid_domain::org::{OrgKind, Organisation};
use sealbid_domain::tender::{
    Category, CommitteePolicy, EvaluationMethod, Tender, TenderCode, TenderDocument, TenderState,
    TenderTerms,
};
use sealbid_domain::{BidId, DivisionCode, Money, OrgId, TenderId, UserId};
use uuid::Uuid;

/// SplitMix64: the same market for the same seed on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5EA1_B1D0_0CD5_0001)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ x < n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// lo ≤ x ≤ hi.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A random (version 4) UUID from the generator.
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }

    /// 64 lower-case hex digits (a document's SHA-256).
    pub fn sha256_hex(&mut self) -> String {
        (0..4)
            .map(|_| format!("{:016x}", self.next_u64()))
            .collect()
    }
}

/// One tender with everything the export reports about it.
pub struct SynthTender {
    pub tender: Tender,
    /// Index into [`Market::buyers`].
    pub buyer: usize,
    /// Index into [`Market::agencies`] when an agency runs the tender.
    pub agency: Option<usize>,
    pub amendments: Vec<DateTime<Utc>>,
    pub bids: Vec<OcdsBid>,
    pub awards: Vec<OcdsAward>,
    pub contracts: Vec<OcdsContract>,
}

pub struct Market {
    pub buyers: Vec<Organisation>,
    pub agencies: Vec<Organisation>,
    /// Bidders by category (works, goods, services).
    pub bidders: [Vec<OcdsParty>; 3],
    pub tenders: Vec<SynthTender>,
}

const DISTRICTS: [(&str, &str, &str); 11] = [
    ("370200", "QD", "青岛市"),
    ("370202", "SN", "市南区"),
    ("370203", "SB", "市北区"),
    ("370211", "HD", "黄岛区"),
    ("370212", "LS", "崂山区"),
    ("370213", "LC", "李沧区"),
    ("370214", "CY", "城阳区"),
    ("370215", "JM", "即墨区"),
    ("370281", "JZ", "胶州市"),
    ("370283", "PD", "平度市"),
    ("370285", "LX", "莱西市"),
];

const BUYER_UNITS: [&str; 16] = [
    "住房和城乡建设局",
    "城市管理局",
    "教育和体育局",
    "卫生健康局",
    "交通运输局",
    "水务管理局",
    "园林和林业局",
    "人民医院",
    "中医医院",
    "第一实验小学",
    "第二中学",
    "市政工程服务中心",
    "机关事务服务中心",
    "公安分局",
    "图书馆",
    "人民政府街道办事处",
];

const PLACES: [&str; 12] = [
    "青岛",
    "山东",
    "胶州湾",
    "崂山",
    "黄海",
    "齐鲁",
    "海尔路",
    "琴岛",
    "鲁信",
    "半岛",
    "即墨",
    "蓝谷",
];
const WORDS: [&str; 12] = [
    "恒信", "华建", "中科", "海联", "永安", "金桥", "瑞丰", "广源", "鸿达", "正泰", "东方", "润德",
];
const TRADES: [[&str; 4]; 3] = [
    ["路桥建设", "市政工程", "建筑安装", "园林绿化"],
    ["医疗器械", "信息技术", "办公设备", "电子科技"],
    ["物业管理", "环境服务", "工程咨询", "安保服务"],
];
const SUFFIXES: [&str; 3] = ["有限公司", "集团有限公司", "股份有限公司"];

const ROADS: [&str; 12] = [
    "香港中路",
    "福州路",
    "重庆路",
    "黑龙江路",
    "长江路",
    "辽阳西路",
    "银川路",
    "海尔路",
    "深圳路",
    "青银高速连接线",
    "滨海大道",
    "胶州湾大桥引线",
];
const WORKS: [&str; 8] = [
    "道路修复",
    "雨污分流改造",
    "人行道及附属设施提升",
    "桥梁维修加固",
    "老旧小区改造",
    "学校教学楼改扩建",
    "污水管网新建",
    "公园景观提升",
];
const GOODS: [&str; 8] = [
    "彩色多普勒超声诊断仪",
    "教学一体机",
    "台式计算机及服务器",
    "环卫作业车辆",
    "实验室检测设备",
    "办公家具",
    "视频监控设备",
    "图书",
];
const SERVICES: [&str; 8] = [
    "道路清扫保洁",
    "物业管理",
    "工程造价咨询",
    "工程监理",
    "安保",
    "绿化养护",
    "信息系统运维",
    "食堂餐饮",
];
const LOTS: [&str; 3] = ["第一标段", "第二标段", "第三标段"];

const CRITERIA: [[&str; 5]; 3] = [
    [
        "具有市政公用工程施工总承包二级及以上资质",
        "拟派项目经理具有市政公用工程专业二级及以上注册建造师执业资格，且未担任其他在建工程项目经理",
        "具有有效的安全生产许可证",
        "近三年内无重大安全事故及行贿犯罪记录",
        "近三年完成过一项合同金额不低于本项目估算价 50% 的类似工程",
    ],
    [
        "具有独立承担民事责任的能力",
        "所投产品具有有效的医疗器械注册证（如属医疗器械）",
        "近三年内在经营活动中没有重大违法记录",
        "具有良好的商业信誉和健全的财务会计制度",
        "未被列入失信被执行人、重大税收违法失信主体名单",
    ],
    [
        "具有独立承担民事责任的能力",
        "具有履行合同所必需的设备和专业技术能力",
        "近三年内在经营活动中没有重大违法记录",
        "具有依法缴纳税收和社会保障资金的良好记录",
        "拟派项目负责人具有相关专业中级及以上职称",
    ],
];

fn credit(first17: &str) -> sealbid_domain::CreditCode {
    complete_credit_code(first17).unwrap_or_else(|e| unreachable!("synthetic credit code: {e}"))
}

fn division(code: &str) -> DivisionCode {
    DivisionCode::parse(code).unwrap_or_else(|e| unreachable!("{e}"))
}

/// An instant given in China time.
fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap_or_else(|| unreachable!("valid date"))
        - Duration::hours(8)
}

fn money_fen(fen: u64) -> Money {
    Money::from_fen(fen).unwrap_or_else(|e| unreachable!("synthetic amount: {e}"))
}

fn org(rng: &mut Rng, code: &str, name: String, kind: OrgKind, hall: &str) -> Organisation {
    Organisation {
        id: OrgId(rng.uuid()),
        credit_code: credit(code),
        name,
        kind,
        hall: division(hall),
        created_at: cn(2023, 6, 1, 9, 0) + Duration::minutes(rng.below(200_000) as i64),
    }
}

fn company_name(rng: &mut Rng, category: usize) -> String {
    format!(
        "{}{}{}{}",
        rng.pick(&PLACES),
        rng.pick(&WORDS),
        rng.pick(&TRADES[category]),
        rng.pick(&SUFFIXES)
    )
}

/// The organisations: 176 tenderees (16 units in each of 11 halls), 40 agencies, 1,000 bidders per category.
fn organisations(rng: &mut Rng) -> (Vec<Organisation>, Vec<Organisation>, [Vec<OcdsParty>; 3]) {
    let buyers = (0..(DISTRICTS.len() * BUYER_UNITS.len()) as u64)
        .map(|i| {
            let (div, _, dname) = DISTRICTS[(i % DISTRICTS.len() as u64) as usize];
            let unit = BUYER_UNITS[(i / DISTRICTS.len() as u64) as usize];
            // 11: government body, 12: public institution (hospitals, schools, centres).
            let kind = if unit.ends_with('局') || unit.ends_with("办事处") {
                "11"
            } else {
                "12"
            };
            let prefix = if div == "370200" { "" } else { "青岛市" };
            let name = format!("{prefix}{dname}{unit}");
            org(
                rng,
                &format!("{kind}{div}7{i:08}"),
                name,
                OrgKind::Tenderee,
                div,
            )
        })
        .collect();
    let agencies = (0..40u64)
        .map(|i| {
            let name = format!(
                "{}{}{}",
                rng.pick(&PLACES),
                rng.pick(&WORDS),
                if i % 2 == 0 {
                    "招标代理有限公司"
                } else {
                    "项目管理咨询有限公司"
                }
            );
            org(
                rng,
                &format!("913702008{i:08}"),
                name,
                OrgKind::Agency,
                "370200",
            )
        })
        .collect();
    let shandong = ["370100", "370200", "370600", "370700", "371000", "370300"];
    let mut bidders: [Vec<OcdsParty>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (cat, list) in bidders.iter_mut().enumerate() {
        for j in 0..1000u64 {
            let i = cat as u64 * 1000 + j;
            let div = *rng.pick(&shandong);
            let name = company_name(rng, cat);
            let o = org(rng, &format!("91{div}{i:09}"), name, OrgKind::Bidder, div);
            list.push(OcdsParty::from(&o));
        }
    }
    (buyers, agencies, bidders)
}

/// What is procured: one of [`WORKS`], [`GOODS`] or [`SERVICES`].
fn subject(rng: &mut Rng, category: Category) -> &'static str {
    let xs: &[&'static str] = match category {
        Category::Works => &WORKS,
        Category::Goods => &GOODS,
        Category::Services => &SERVICES,
    };
    xs[rng.below(xs.len() as u64) as usize]
}

fn title(rng: &mut Rng, category: Category, subject: &str, district: &str, buyer: &str) -> String {
    let base = match category {
        Category::Works => {
            let linear = ["道路", "管网", "雨污", "人行道"];
            if linear.iter().any(|w| subject.contains(w)) {
                format!("{district}{}{subject}工程", rng.pick(&ROADS))
            } else {
                format!("{district}{subject}工程")
            }
        }
        Category::Goods => format!("{buyer}{subject}采购项目"),
        Category::Services => format!("{buyer}{subject}服务项目"),
    };
    if rng.chance(150) {
        format!("{base}（{}）", rng.pick(&LOTS))
    } else {
        base
    }
}

fn description(rng: &mut Rng, category: Category, subject: &str) -> String {
    match category {
        Category::Works => format!(
            "主要内容：{subject}，含配套排水、交通标线及绿化恢复等。计划工期 {} 日历天，质量标准：合格。",
            rng.range(60, 540)
        ),
        Category::Goods => format!(
            "采购{subject} {} 台（套），含运输、安装、调试、培训及 {} 年质保；交货期：合同签订后 {} 日内。",
            rng.range(1, 200),
            rng.range(1, 5),
            rng.range(15, 90)
        ),
        Category::Services => format!(
            "提供{subject}服务，服务期 {} 个月，服务范围详见招标文件第五章《服务需求》。",
            rng.range(6, 36)
        ),
    }
}

fn documents(rng: &mut Rng, category: Category) -> Vec<TenderDocument> {
    let mut names = vec!["招标文件.pdf"];
    match category {
        Category::Works => {
            names.push("工程量清单.xlsx");
            if rng.chance(700) {
                names.push("施工图纸.zip");
            }
        }
        Category::Goods => names.push("技术规格书.pdf"),
        Category::Services => names.push("服务需求书.docx"),
    }
    if rng.chance(300) {
        names.push("合同条款及格式.pdf");
    }
    names
        .into_iter()
        .map(|n| TenderDocument {
            name: n.to_string(),
            sha256: rng.sha256_hex(),
            size: rng.range(40_000, 80_000_000),
        })
        .collect()
}

/// Amount in fen from a log-normal around `median_yuan`, clamped.
fn lognormal_fen(rng: &mut Rng, median_yuan: f64, sigma: f64, lo: f64, hi: f64) -> u64 {
    let y = (median_yuan.ln() + sigma * rng.normal())
        .exp()
        .clamp(lo, hi);
    (y * 100.0).round() as u64
}

/// Which way the tender went after the opening.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    Awarded,
    Evaluating,
    Failed,
    Cancelled,
}

fn synth_tender(
    rng: &mut Rng,
    seq: usize,
    buyers: &[Organisation],
    agencies: &[Organisation],
    bidders: &[Vec<OcdsParty>; 3],
) -> SynthTender {
    let buyer = rng.below(buyers.len() as u64) as usize;
    let b = &buyers[buyer];
    let agency = rng
        .chance(600)
        .then(|| rng.below(agencies.len() as u64) as usize);
    let (cat_ix, category) = match rng.below(100) {
        0..=44 => (0, Category::Works),
        45..=74 => (1, Category::Goods),
        _ => (2, Category::Services),
    };
    let (_, abbr, dname) = DISTRICTS
        .iter()
        .find(|(d, _, _)| *d == b.hall.as_str())
        .copied()
        .unwrap_or(DISTRICTS[0]);
    let (median, cat_code) = match category {
        Category::Works => (2_400_000.0, "GC"),
        Category::Goods => (650_000.0, "HW"),
        Category::Services => (480_000.0, "FW"),
    };
    let estimate_fen = lognormal_fen(rng, median, 1.0, 50_000.0, 400_000_000.0);
    // Estimates are usually whole yuan; a third carry fen.
    let estimate_fen = if rng.chance(333) {
        estimate_fen
    } else {
        estimate_fen / 100 * 100
    };
    let ceiling_fen = estimate_fen + estimate_fen * rng.range(0, 8) / 100;
    // Deposit: at most 2 % of the estimate (条例 26), in hundreds of yuan, at most 800,000.
    let deposit_fen = (estimate_fen * rng.range(5, 20) / 1000 / 10_000 * 10_000).min(80_000_000);

    // Published on a day of 2024-01-01 … 2025-06-29 between 09:00 and 17:30 China time.
    let published = cn(2024, 1, 1, 9, 0)
        + Duration::days(rng.below(546) as i64)
        + Duration::minutes(30 * rng.below(18) as i64);
    let bidding_days = rng.range(20, 35) as i64;
    let deadline = cn(2024, 1, 1, 9, 30)
        + Duration::days((published - cn(2024, 1, 1, 0, 0)).num_days() + bidding_days);
    let opened_at = deadline + Duration::minutes(rng.range(5, 45) as i64);
    let created = published - Duration::days(rng.range(5, 12) as i64);

    let mut amendments = Vec::new();
    if rng.chance(300) {
        let count = if rng.chance(170) { 2 } else { 1 };
        for k in 0..count {
            // Early enough to leave 15 days before the deadline (法 23).
            amendments.push(
                published + Duration::days(1 + 2 * k + rng.below(2) as i64) + Duration::hours(2),
            );
        }
    }

    let year = (published + Duration::hours(8)).format("%Y");
    let code = TenderCode::parse(&format!("{abbr}-{year}-{cat_code}-{:05}", seq + 1))
        .unwrap_or_else(|e| unreachable!("{}", e.message));
    let method = if category == Category::Works || rng.chance(400) {
        EvaluationMethod::ComprehensiveScoring
    } else {
        EvaluationMethod::LowestEvaluatedPrice
    };
    let criteria = {
        let n = rng.range(2, 5) as usize;
        let mut ix: Vec<usize> = (0..5).collect();
        for i in 0..n {
            let j = i + rng.below((5 - i) as u64) as usize;
            ix.swap(i, j);
        }
        ix[..n]
            .iter()
            .map(|&i| CRITERIA[cat_ix][i].to_string())
            .collect()
    };
    let subject = subject(rng, category);
    let title = title(rng, category, subject, dname, &b.name);

    // Bids: 3–12 distinct bidders of the category; now and then a withdrawn one among them.
    let n_bids = rng.range(3, 12) as usize;
    let pool = &bidders[cat_ix];
    let mut chosen: Vec<usize> = Vec::with_capacity(n_bids);
    while chosen.len() < n_bids {
        let i = rng.below(pool.len() as u64) as usize;
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    let withdrawn_ix = (n_bids > 3 && rng.chance(30)).then(|| rng.below(n_bids as u64) as usize);
    let mut bids: Vec<OcdsBid> =
        chosen
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let date = published
                    + Duration::minutes(
                        rng.range(24 * 60, (bidding_days * 24 * 60 - 60) as u64) as i64
                    );
                if Some(k) == withdrawn_ix {
                    return OcdsBid {
                        id: BidId(rng.uuid()),
                        bidder: pool[i].clone(),
                        value: None,
                        date,
                        status: OcdsBidStatus::Withdrawn,
                    };
                }
                // Around 93 % of the estimate, sd ~6 %.
                let factor = (0.93 + 0.06 * rng.normal()).clamp(0.70, 1.15);
                let price_fen = (estimate_fen as f64 * factor).round() as u64;
                let price_fen = if rng.chance(500) {
                    price_fen / 100 * 100
                } else {
                    price_fen
                };
                let status = if price_fen > ceiling_fen || rng.chance(80) {
                    OcdsBidStatus::Disqualified
                } else {
                    OcdsBidStatus::Valid
                };
                OcdsBid {
                    id: BidId(rng.uuid()),
                    bidder: pool[i].clone(),
                    value: Some(money_fen(price_fen)),
                    date,
                    status,
                }
            })
            .collect();
    bids.sort_by_key(|b| b.date);

    let mut outcome = match rng.below(100) {
        0..=79 => Outcome::Completed,
        80..=88 => Outcome::Awarded,
        89..=93 => Outcome::Evaluating,
        94..=97 => Outcome::Failed,
        _ => Outcome::Cancelled,
    };
    let mut valid: Vec<&OcdsBid> = bids
        .iter()
        .filter(|b| b.status == OcdsBidStatus::Valid)
        .collect();
    if valid.is_empty() && outcome != Outcome::Cancelled {
        outcome = Outcome::Failed;
    }
    valid.sort_by_key(|b| b.value);
    let mut awards = Vec::new();
    let mut contracts = Vec::new();
    let mut ended_at = None;
    let mut end_reason = None;
    let state = match outcome {
        Outcome::Completed | Outcome::Awarded => {
            let winner = match method {
                EvaluationMethod::LowestEvaluatedPrice => valid[0],
                EvaluationMethod::ComprehensiveScoring => {
                    valid[rng.below(valid.len().min(3) as u64) as usize]
                }
            };
            let price = winner.value.unwrap_or(Money::ZERO);
            let award_date = opened_at
                + Duration::days(rng.range(8, 25) as i64)
                + Duration::minutes(rng.below(480) as i64);
            let award_id = format!("{}-A1", code.as_str());
            awards.push(OcdsAward {
                id: award_id.clone(),
                supplier: winner.bidder.clone(),
                value: price,
                date: award_date,
                status: OcdsAwardStatus::Active,
            });
            if outcome == Outcome::Completed {
                contracts.push(OcdsContract {
                    id: format!("{}-C1", code.as_str()),
                    award_id,
                    value: price,
                    date_signed: Some(award_date + Duration::days(rng.range(3, 30) as i64)),
                    status: OcdsContractStatus::Active,
                });
                TenderState::Completed
            } else {
                TenderState::Awarded
            }
        }
        Outcome::Evaluating => TenderState::Evaluating,
        Outcome::Failed => {
            ended_at = Some(opened_at + Duration::days(rng.range(1, 10) as i64));
            end_reason = Some("经评审有效投标不足三家，招标失败，依法重新招标".to_string());
            TenderState::Failed
        }
        Outcome::Cancelled => {
            ended_at = Some(opened_at + Duration::days(rng.range(1, 10) as i64));
            end_reason = Some("项目资金来源发生变化，招标人终止招标".to_string());
            TenderState::Cancelled
        }
    };

    let tender = Tender {
        id: TenderId(rng.uuid()),
        code,
        hall: b.hall.clone(),
        org: b.id,
        created_by: UserId(rng.uuid()),
        terms: TenderTerms {
            title,
            description: description(rng, category, subject),
            category,
            mandatory: category == Category::Works || rng.chance(600),
            estimated_price: money_fen(estimate_fen),
            ceiling_price: Some(money_fen(ceiling_fen)),
            bid_deposit: money_fen(deposit_fen),
            documents: documents(rng, category),
            bid_deadline: deadline,
            opening_time: deadline,
            evaluation_method: method,
            qualification_criteria: criteria,
            committee: CommitteePolicy::default(),
        },
        state,
        version: 6 + amendments.len() as i64 + i64::from(u8::from(!awards.is_empty())),
        created_at: created,
        submitted_at: Some(created + Duration::days(1)),
        review_due: Some(created + Duration::days(4)),
        last_return: None,
        published_at: Some(published),
        closed_at: Some(deadline),
        opened_at: Some(opened_at),
        ended_at,
        end_reason,
    };
    SynthTender {
        tender,
        buyer,
        agency,
        amendments,
        bids,
        awards,
        contracts,
    }
}

/// `n` tenders from `seed`: the same market for the same arguments.
pub fn generate(n: usize, seed: u64) -> Market {
    let mut rng = Rng::new(seed);
    let (buyers, agencies, bidders) = organisations(&mut rng);
    let tenders = (0..n)
        .map(|i| synth_tender(&mut rng, i, &buyers, &agencies, &bidders))
        .collect();
    Market {
        buyers,
        agencies,
        bidders,
        tenders,
    }
}

/// The releases of one tender, oldest first, made as `sealbid_server::ocds::releases_of` makes
/// them (plus the award and contract releases the server does not publish yet).
pub fn releases_of(cfg: &OcdsConfig, m: &Market, t: &SynthTender) -> Result<Vec<Value>, OcdsError> {
    let tender = &t.tender;
    let process = OcdsProcess {
        tender: OcdsTender {
            tender,
            buyer: &m.buyers[t.buyer],
            procuring_entity: t.agency.map(|i| &m.agencies[i]),
        },
        bids: &t.bids,
        awards: &t.awards,
        contracts: &t.contracts,
    };
    let mut stages = Vec::new();
    if let Some(at) = tender.published_at {
        stages.push((ReleaseStage::Tender, at));
    }
    for at in &t.amendments {
        stages.push((ReleaseStage::TenderAmendment, *at));
    }
    if let Some(at) = tender.opened_at.filter(|_| !t.bids.is_empty()) {
        stages.push((ReleaseStage::Opening, at));
    }
    if let Some(at) = t.awards.iter().map(|a| a.date).max() {
        stages.push((ReleaseStage::Award, at));
    }
    if let Some(at) = t.contracts.iter().filter_map(|c| c.date_signed).max() {
        stages.push((ReleaseStage::Contract, at));
    }
    match (tender.state, tender.ended_at) {
        (TenderState::Cancelled, Some(at)) => stages.push((ReleaseStage::TenderCancellation, at)),
        (TenderState::Failed, Some(at)) => stages.push((ReleaseStage::TenderUpdate, at)),
        _ => {}
    }
    stages.sort_by_key(|(stage, at)| (*at, *stage));
    stages
        .into_iter()
        .map(|(stage, at)| ocds::build_release(cfg, &process, stage, at))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Record,
    Release,
}

/// Every tender's releases, in market order.
pub fn all_releases(cfg: &OcdsConfig, m: &Market) -> Result<Vec<Value>, OcdsError> {
    let mut releases = Vec::with_capacity(m.tenders.len() * 5);
    for t in &m.tenders {
        releases.extend(releases_of(cfg, m, t)?);
    }
    Ok(releases)
}

/// The package of `releases` as `sealbid export-ocds --format record|release` makes it.
pub fn package(
    cfg: &OcdsConfig,
    format: Format,
    uri: &str,
    published: DateTime<Utc>,
    releases: Vec<Value>,
) -> Result<Value, OcdsError> {
    match format {
        Format::Record => ocds::record_package(cfg, uri, published, releases),
        Format::Release => Ok(ocds::release_package(cfg, uri, published, releases)),
    }
}

/// The package's publication date: after every release of the synthetic market.
pub fn published_date() -> DateTime<Utc> {
    cn(2025, 12, 31, 18, 0)
}

/// The whole export, build and serialisation (pretty JSON, as the CLI writes it).
pub fn export(m: &Market, format: Format, uri: &str) -> Result<Vec<u8>, OcdsError> {
    let cfg = OcdsConfig::default();
    let releases = all_releases(&cfg, m)?;
    let pkg = package(&cfg, format, uri, published_date(), releases)?;
    serde_json::to_vec_pretty(&pkg).map_err(|e| OcdsError::Invalid(e.to_string()))
}

const USAGE: &str = "usage: ocds_export --tenders N --seed S --out FILE [--format record|release]";

struct Args {
    tenders: usize,
    seed: u64,
    out: std::path::PathBuf,
    format: Format,
}

fn parse_args() -> Result<Args, String> {
    let mut tenders = None;
    let mut seed = None;
    let mut out = None;
    let mut format = Format::Record;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--tenders" => tenders = Some(value()?.parse().map_err(|e| format!("--tenders: {e}"))?),
            "--seed" => seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--out" => out = Some(std::path::PathBuf::from(value()?)),
            "--format" => {
                format = match value()?.as_str() {
                    "record" => Format::Record,
                    "release" => Format::Release,
                    other => return Err(format!("--format: record or release, not {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        tenders: tenders.ok_or("--tenders is required")?,
        seed: seed.ok_or("--seed is required")?,
        out: out.ok_or("--out is required")?,
        format,
    })
}

fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ocds_export: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("ocds_export: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let market = generate(args.tenders, args.seed);
    let generated = t0.elapsed();

    let cfg = OcdsConfig::default();
    let uri = format!("file://{}", args.out.display());
    let t1 = Instant::now();
    let releases = all_releases(&cfg, &market)?;
    let built_releases = t1.elapsed();
    let n_releases = releases.len();
    let t2 = Instant::now();
    let pkg = package(&cfg, args.format, &uri, published_date(), releases)?;
    let built_package = t2.elapsed();
    let t3 = Instant::now();
    let bytes = serde_json::to_vec_pretty(&pkg)?;
    let serialized = t3.elapsed();
    let t4 = Instant::now();
    std::fs::write(&args.out, &bytes)?;
    let written = t4.elapsed();

    let count = |f: fn(&SynthTender) -> usize| market.tenders.iter().map(f).sum::<usize>();
    let by_state = |s: TenderState| {
        market
            .tenders
            .iter()
            .filter(|t| t.tender.state == s)
            .count()
    };
    let build = built_releases + built_package;
    let format = match args.format {
        Format::Record => "record package",
        Format::Release => "release package",
    };
    println!(
        "ocds_export: {} tenders (seed {}), {format}: {n_releases} releases, {} bids, {} awards, {} contracts, {} amendments",
        market.tenders.len(),
        args.seed,
        count(|t| t.bids.len()),
        count(|t| t.awards.len()),
        count(|t| t.contracts.len()),
        count(|t| t.amendments.len()),
    );
    println!(
        "states: completed {}, awarded {}, evaluating {}, failed {}, cancelled {}",
        by_state(TenderState::Completed),
        by_state(TenderState::Awarded),
        by_state(TenderState::Evaluating),
        by_state(TenderState::Failed),
        by_state(TenderState::Cancelled),
    );
    println!(
        "generate: {:.3} s (synthetic inputs, not part of the export)",
        secs(generated)
    );
    println!(
        "build: {:.3} s (releases {:.3} s + package {:.3} s{})",
        secs(build),
        secs(built_releases),
        secs(built_package),
        if args.format == Format::Record {
            ", with the compiled releases"
        } else {
            ""
        }
    );
    println!(
        "serialize: {:.3} s (serde_json::to_vec_pretty, as sealbid export-ocds)",
        secs(serialized)
    );
    println!(
        "export: {:.3} s (build + serialize)",
        secs(build + serialized)
    );
    println!("write: {:.3} s", secs(written));
    println!(
        "size: {} bytes ({:.1} MiB) {}",
        bytes.len(),
        bytes.len() as f64 / (1024.0 * 1024.0),
        args.out.display()
    );
    Ok(())
}
