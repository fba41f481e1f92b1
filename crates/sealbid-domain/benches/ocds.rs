//! OCDS export of 10,000 synthetic tenders (the generator of `examples/ocds_export.rs`, seed
//! 20250601: published, opened with 3–12 bids, most awarded and contracted): every tender's
//! releases, the record package with its compiled releases, and its serialisation to pretty JSON
//! in a `Vec<u8>`, as `sealbid export-ocds` writes it (~430 MB). One iteration takes seconds, so
//! the samples are flat (one iteration each) and there are 10 of them, about a minute in all
//! (criterion warns that 10 samples do not fit the 10 s target: expected, a longer target would
//! run two iterations per sample). `cargo bench -p sealbid-domain --bench ocds`; figures in
//! docs/performance.md.
use criterion::{black_box, criterion_group, criterion_main, Criterion, SamplingMode};

#[allow(dead_code)]
#[path = "../examples/ocds_export.rs"]
mod ocds_export;

use ocds_export::{export, generate, Format};

const TENDERS: usize = 10_000;
const SEED: u64 = 20_250_601;
const URI: &str = "file:///tmp/ocds-bench.json";

fn bench(c: &mut Criterion) {
    let market = generate(TENDERS, SEED);
    let mut g = c.benchmark_group("ocds_export_10k");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(10));
    g.bench_function("record_package_build_and_serialize", |b| {
        b.iter(|| match export(black_box(&market), Format::Record, URI) {
            Ok(bytes) => bytes.len(),
            Err(e) => unreachable!("benchmark inputs: {e}"),
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
