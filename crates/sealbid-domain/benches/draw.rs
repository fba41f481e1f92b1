//! Committee draw from a pool of 100,000 synthetic experts (deterministic generator, 20 specialties,
//! 5 % with a declared relationship to one of 30 bidders): the draw with conflict exclusion, the
//! same draw without bidders, and the pool digest. `cargo bench -p sealbid-domain --bench draw`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sealbid_domain::credit_code::complete_credit_code;
use sealbid_domain::evaluation::draw::{draw, DrawRequest, Quota, SeedInputs};
use sealbid_domain::evaluation::experts::{
    canonical_pool_bytes, pool_digest, Employer, Expert, Relationship,
};
use sealbid_domain::{CreditCode, DivisionCode};

const POOL: u32 = 100_000;
const SPECIALTIES: u32 = 20;
const BIDDERS: u32 = 30;

fn code(i: u32) -> CreditCode {
    match complete_credit_code(&format!("913702{i:011}")) {
        Ok(c) => c,
        Err(e) => unreachable!("synthetic credit code: {e}"),
    }
}

/// A simple LCG so the pool is the same on every run.
fn pool() -> Vec<Expert> {
    let mut state: u64 = 0x5EA1_B1D0;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let region = DivisionCode::parse("370202").unwrap_or_else(|e| unreachable!("{e}"));
    let employers: Vec<CreditCode> = (1000..1200).map(code).collect();
    (0..POOL)
        .map(|i| {
            let s1 = next() % SPECIALTIES;
            let mut specialties = vec![format!("S{s1:02} specialty {s1}")];
            if next() % 4 == 0 {
                let s2 = (s1 + 1 + next() % (SPECIALTIES - 1)) % SPECIALTIES;
                specialties.push(format!("S{s2:02} specialty {s2}"));
            }
            let relationships = if next() % 20 == 0 {
                vec![Relationship {
                    credit_code: code(next() % BIDDERS),
                    org_name: String::new(),
                    kind: "former_employer".into(),
                }]
            } else {
                vec![]
            };
            let emp = next() as usize % employers.len();
            Expert {
                id: format!("EXP{:08}", (i.wrapping_mul(2_654_435_761)) % 100_000_000),
                name: format!("Expert {i}"),
                specialties,
                employer: Some(Employer {
                    name: format!("Employer {emp}"),
                    credit_code: employers.get(emp).cloned(),
                }),
                region: region.clone(),
                relationships,
                credit_code: None,
                available: next() % 50 != 0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pool = pool();
    let bidders: Vec<CreditCode> = (0..BIDDERS).map(code).collect();
    let request = DrawRequest {
        committee_size: 9,
        tenderee_representatives: 2,
        quotas: vec![
            Quota {
                specialty: "S03".into(),
                count: 3,
            },
            Quota {
                specialty: "S07".into(),
                count: 2,
            },
            Quota {
                specialty: "S11".into(),
                count: 2,
            },
        ],
    };
    let seed = SeedInputs {
        closing_checkpoint: "sealbid.example/tenders\n1\nabc=\n".into(),
        nonce_hex: "00112233445566778899aabbccddeeff".into(),
    };
    let d = draw(&pool, &bidders, &request, &seed).unwrap_or_else(|e| unreachable!("{e}"));
    eprintln!(
        "pool {POOL}: excluded by relationship {}, unavailable {}, eligible {}; canonical bytes {}",
        d.public.exclusions.declared_relationship,
        d.public.exclusions.unavailable,
        d.public.exclusions.eligible,
        canonical_pool_bytes(&pool).len()
    );
    if let Ok(path) = std::env::var("SEALBID_DUMP_CANONICAL") {
        let _ = std::fs::write(path, canonical_pool_bytes(&pool));
        eprintln!("pool digest {}", pool_digest(&pool));
    }

    let mut g = c.benchmark_group("draw_100k");
    g.sample_size(20);
    g.bench_function("draw_with_conflicts", |b| {
        b.iter(|| draw(black_box(&pool), black_box(&bidders), &request, &seed))
    });
    g.bench_function("draw_without_bidders", |b| {
        b.iter(|| draw(black_box(&pool), black_box(&[]), &request, &seed))
    });
    g.bench_function("pool_digest", |b| b.iter(|| pool_digest(black_box(&pool))));
    g.bench_function("canonical_pool_bytes", |b| {
        b.iter(|| canonical_pool_bytes(black_box(&pool)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
