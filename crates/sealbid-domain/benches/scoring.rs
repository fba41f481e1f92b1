//! Evaluation of 200 bids by a committee of 9 (deterministic generator): comprehensive scoring with
//! 10 criteria (9 scored by the members, one price criterion) under the lowest-valid-price and the
//! benchmark price formulas, and the lowest-evaluated-price method for comparison. Each iteration
//! validates all 1,800 score sheets, computes the price scores, aggregates (dropping the highest
//! and lowest of 9), flags outliers and ranks. `cargo bench -p sealbid-domain --bench scoring`.
use std::collections::BTreeMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion as Bench};
use rust_decimal::Decimal;
use sealbid_domain::evaluation::scoring::{
    evaluate, mandatory_rejections, Criterion, EvaluatedBid, Part, PriceFormula, Qualification,
    RejectionFacts, Scheme, ScoreSheet, ScoringRules,
};
use sealbid_domain::tender::EvaluationMethod;
use sealbid_domain::{BidId, OrgId, UserId};
use uuid::Uuid;

const BIDS: u128 = 200;
const MEMBERS: u128 = 9;

/// A simple LCG so the inputs are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// Nine scored criteria (technical 6 × 7 = 42, commercial 3 × 6 = 18) and price 40.
fn scheme(price_formula: PriceFormula) -> Scheme {
    let mut criteria: Vec<Criterion> = (0..9)
        .map(|i| Criterion {
            id: format!("c{i}"),
            part: if i < 6 {
                Part::Technical
            } else {
                Part::Commercial
            },
            label: format!("criterion {i}"),
            max: Decimal::from(if i < 6 { 7 } else { 6 }),
        })
        .collect();
    criteria.push(Criterion {
        id: "price".into(),
        part: Part::Price,
        label: "price".into(),
        max: Decimal::from(40),
    });
    Scheme {
        method: EvaluationMethod::ComprehensiveScoring,
        criteria,
        price_formula,
    }
}

fn inputs(scheme: &Scheme) -> (Vec<EvaluatedBid>, Vec<ScoreSheet>) {
    let mut rng = Lcg(0x0005_C0E5);
    let facts = RejectionFacts {
        ceiling_price: Some(Decimal::from(1_000_000)),
        cost_floor: Some(Decimal::from(700_000)),
        required_deposit: Decimal::from(20_000),
        deposit_received: Decimal::from(20_000),
        collusion: None,
    };
    let mut bids = Vec::new();
    for i in 0..BIDS {
        // 680,000.00 – 1,019,999.99: a few fall below cost or above the ceiling.
        let fen = 68_000_000 + rng.next() % 34_000_000;
        let mut b = EvaluatedBid {
            bid: BidId(Uuid::from_u128(i + 1)),
            bidder: OrgId(Uuid::from_u128(10_000 + i)),
            price: Decimal::new(i64::try_from(fen).unwrap_or(i64::MAX), 2),
            log_index: u64::try_from(i).unwrap_or(u64::MAX),
            qualification: Qualification::Pass,
            rejected: None,
        };
        b.rejected = mandatory_rejections(&b, &facts).into_iter().next();
        bids.push(b);
    }
    let mut sheets = Vec::new();
    for b in &bids {
        for m in 0..MEMBERS {
            let scores: BTreeMap<String, Decimal> = scheme
                .criteria
                .iter()
                .filter(|c| c.part != Part::Price)
                .map(|c| {
                    // Half points up to the criterion's maximum.
                    let halves = c.max * Decimal::TWO;
                    let steps = u64::try_from(halves.mantissa()).unwrap_or(1) + 1;
                    let got = Decimal::new(i64::try_from(rng.next() % steps).unwrap_or(0), 0)
                        / Decimal::TWO;
                    (c.id.clone(), got.min(c.max))
                })
                .collect();
            sheets.push(ScoreSheet {
                evaluator: UserId(Uuid::from_u128(1_000_000 + m)),
                bid: b.bid,
                scores,
            });
        }
    }
    (bids, sheets)
}

fn bench(c: &mut Bench) {
    let rules = ScoringRules::default();
    let members = usize::try_from(MEMBERS).unwrap_or(9);

    let lowest_valid = scheme(PriceFormula::LowestValid);
    let (bids, sheets) = inputs(&lowest_valid);
    // Sanity: the inputs evaluate, with some bids rejected.
    match evaluate(&lowest_valid, &bids, &sheets, members, &rules) {
        Ok(o) => eprintln!(
            "valid bids {}, rejected {}, outlier flags {}",
            o.ranking.len(),
            o.rejected.len(),
            o.outliers.len()
        ),
        Err(e) => unreachable!("benchmark inputs: {e}"),
    }

    c.bench_function("comprehensive_lowest_valid_200_bids_9_members", |b| {
        b.iter(|| {
            evaluate(
                black_box(&lowest_valid),
                black_box(&bids),
                black_box(&sheets),
                members,
                &rules,
            )
        })
    });

    let benchmark = scheme(PriceFormula::common_benchmark());
    c.bench_function("comprehensive_benchmark_200_bids_9_members", |b| {
        b.iter(|| {
            evaluate(
                black_box(&benchmark),
                black_box(&bids),
                black_box(&sheets),
                members,
                &rules,
            )
        })
    });

    let lowest_price = Scheme {
        method: EvaluationMethod::LowestEvaluatedPrice,
        criteria: vec![],
        price_formula: PriceFormula::LowestValid,
    };
    c.bench_function("lowest_evaluated_price_200_bids", |b| {
        b.iter(|| {
            evaluate(
                black_box(&lowest_price),
                black_box(&bids),
                &[],
                members,
                &rules,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
