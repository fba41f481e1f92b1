//! The transparency log at one million entries (docs/performance.md): appending, and inclusion
//! and consistency proofs from stored subtree hashes, against two baselines in the same run —
//! hashing the same entries alone (what `sha256sum` over the entries would cost, the floor for any
//! append), and a proof recomputed naively from the leaf hashes (what a log without stored
//! nodes would do).
//!
//! `cargo bench -p sealbid-seal --bench merkle`. Under `cargo test --benches` each benchmark runs
//! once on a log of 10,000 entries.
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sealbid_seal::merkle::{
    append_nodes, consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash,
    verify_consistency, verify_inclusion, Hash, MemoryLog, NodeMap,
};
use sha2::{Digest, Sha256};

/// A log entry is a signed bid manifest or similar JSON document of about a kilobyte.
const ENTRY_BYTES: usize = 1024;

fn entries_in_log() -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        10_000
    }
}

/// Entry `i`: its index followed by pseudo-random bytes (distinct entries, cheap to make).
fn entry(i: u64, buf: &mut [u8; ENTRY_BYTES]) {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    buf[..8].copy_from_slice(&i.to_be_bytes());
}

/// RFC 6962 §2.1.1 `PATH(m, D[n])` straight from the definition, over the leaf hashes.
fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn bench_log(c: &mut Criterion) {
    let n = entries_in_log();
    let mut buf = [0u8; ENTRY_BYTES];

    // ---- appending n entries -----------------------------------------------------------------
    let mut g = c.benchmark_group(format!("log_append_{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    // Baseline: the leaf hashes alone (SHA-256 of every entry, nothing else).
    g.bench_function("sha256_of_entries_only", |b| {
        b.iter(|| {
            let mut buf = [0u8; ENTRY_BYTES];
            let mut acc = 0u8;
            for i in 0..n {
                entry(i, &mut buf);
                acc ^= Sha256::digest(buf)[0];
            }
            black_box(acc)
        })
    });
    g.bench_function("memory_log_append", |b| {
        b.iter(|| {
            let mut buf = [0u8; ENTRY_BYTES];
            let mut log = MemoryLog::new();
            for i in 0..n {
                entry(i, &mut buf);
                log.append(&buf);
            }
            black_box(log.root())
        })
    });
    // The store's way: `append_nodes` reads the left siblings it needs and returns the nodes that
    // become complete; here they go into a hash map where a database would insert rows.
    g.bench_function("append_nodes_into_node_map", |b| {
        b.iter(|| {
            let mut buf = [0u8; ENTRY_BYTES];
            let mut nodes = NodeMap::new();
            for i in 0..n {
                entry(i, &mut buf);
                let new = append_nodes(i, leaf_hash(&buf), &nodes).unwrap_or_default();
                nodes.extend_nodes(&new);
            }
            black_box(nodes.len())
        })
    });
    g.finish();

    // ---- proofs at size n --------------------------------------------------------------------
    let mut log = MemoryLog::new();
    let mut leaves = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for i in 0..n {
        entry(i, &mut buf);
        let h = leaf_hash(&buf);
        leaves.push(h);
        log.append_leaf_hash(h);
    }
    let root = log.root();
    let map: NodeMap = {
        let mut m = NodeMap::new();
        for level in 0u8..64 {
            let count = n >> level;
            if count == 0 {
                break;
            }
            for index in 0..count {
                if let Ok(h) = sealbid_seal::merkle::NodeReader::node(&log, level, index) {
                    m.insert(level, index, h);
                }
            }
        }
        m
    };
    let mut rng = StdRng::seed_from_u64(6962);

    let mut g = c.benchmark_group(format!("log_proofs_at_{n}"));
    g.bench_function("inclusion_proof_memory_log", |b| {
        b.iter_batched(
            || rng.gen_range(0..n),
            |i| inclusion_proof(&log, i, n),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("inclusion_proof_node_map", |b| {
        b.iter_batched(
            || rng.gen_range(0..n),
            |i| inclusion_proof(&map, i, n),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("consistency_proof_node_map", |b| {
        b.iter_batched(
            || rng.gen_range(1..n),
            |m| consistency_proof(&map, m, n),
            BatchSize::SmallInput,
        )
    });
    let proofs: Vec<(u64, Vec<Hash>)> = (0..1024)
        .map(|_| {
            let i = rng.gen_range(0..n);
            (i, inclusion_proof(&log, i, n).unwrap_or_default())
        })
        .collect();
    let mut k = 0usize;
    g.bench_function("verify_inclusion", |b| {
        b.iter(|| {
            k = (k + 1) % proofs.len();
            let (i, p) = &proofs[k];
            let leaf = leaves[usize::try_from(*i).unwrap_or(0)];
            verify_inclusion(&leaf, *i, n, p, &root)
        })
    });
    let old = n / 3 + 7;
    let old_root = log.root_at(old).unwrap_or_default();
    let cproof = consistency_proof(&log, old, n).unwrap_or_default();
    g.bench_function("verify_consistency", |b| {
        b.iter(|| verify_consistency(old, n, &old_root, &root, &cproof))
    });
    g.finish();

    // Baseline: the same inclusion proof recomputed from the n leaf hashes.
    let mut g = c.benchmark_group(format!("log_proofs_at_{n}"));
    g.sample_size(10);
    g.bench_function("inclusion_proof_naive_from_leaves", |b| {
        b.iter_batched(
            || rng.gen_range(0..leaves.len()),
            |i| naive_path(i, &leaves),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    // Both ways give the same proof.
    let i = n / 2 + 1;
    assert_eq!(
        inclusion_proof(&map, i, n).ok(),
        Some(naive_path(usize::try_from(i).unwrap_or(0), &leaves))
    );
}

criterion_group!(benches, bench_log);
criterion_main!(benches);
