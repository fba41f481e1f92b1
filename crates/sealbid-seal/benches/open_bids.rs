//! Opening 1,000 sealed bids of 1 MiB (docs/performance.md): the per-bid work of the server's
//! `finish_opening` — read the header, derive the platform seat's share key, check the revealed
//! share keys against their stanzas, recover the file key, stream the payload through the
//! decryptor while hashing the ciphertext, compare hash and size with the manifest — one bid
//! after the other, and on 2 worker threads (the server runs bids as tasks on tokio's blocking
//! pool; two threads taking the next bid from a shared counter is the same schedule).
//!
//! Two kinds of 1 MiB envelope: a technical one (random bytes, decrypted to a sink, as the server
//! does for technical envelopes) and a price envelope holding a 1 MiB priced bill of quantities
//! (decrypted into memory, then parsed and validated, as the server does for prices).
//!
//! `cargo bench -p sealbid-seal --bench open_bids`. Under `cargo test --benches` it runs once
//! over 10 bids.
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use rust_decimal::Decimal;
use sealbid_seal::envelope::{open_envelope, seal_envelope, EnvelopeDigest};
use sealbid_seal::keys::MemberIdentity;
use sealbid_seal::payload::{BoqLine, PricePayload};
use sealbid_seal::threshold::{
    member_share_key_at, open_share, read_header, recover_file_key, Committee, EnvelopeKind,
    ShareContext, ShareKey,
};
use sha2::{Digest, Sha256};

const BID_BYTES: usize = 1024 * 1024;
/// The platform holds seat 5; members 1 and 2 reveal (t = 3 of n = 5).
const PLATFORM_SEAT: u8 = 5;

fn bid_count() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1000
    } else {
        10
    }
}

struct SealedBid {
    ctx: ShareContext,
    ciphertext: Vec<u8>,
    digest: EnvelopeDigest,
    /// The members' revealed share keys (computed on their machines before the opening).
    revealed: Vec<ShareKey>,
}

/// A priced bill of quantities of about `bytes` bytes of JSON.
fn price_document(bytes: usize) -> Vec<u8> {
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    let mut size = 64;
    let mut n = 0u32;
    while size < bytes {
        n += 1;
        let quantity = Decimal::from(n % 997 + 1);
        let unit_price = Decimal::new(i64::from(n % 10_000) * 7 + 105, 2);
        let amount = quantity * unit_price;
        total += amount;
        let line = BoqLine {
            code: format!("040{n:06}"),
            description: format!(
                "Item {n}: excavation, haulage and backfill, grade {}",
                n % 7
            ),
            unit: "m3".into(),
            quantity,
            unit_price,
            amount,
        };
        size += serde_json::to_vec(&line).map_or(0, |v| v.len()) + 1;
        lines.push(line);
    }
    let doc = PricePayload {
        currency: "CNY".into(),
        personnel: Default::default(),
        total,
        lines,
    };
    doc.to_json_bytes()
        .unwrap_or_else(|e| panic!("price document: {e}"))
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// What the server does for one envelope at the opening; true when it opened and matched.
fn open_bid(bid: &SealedBid, platform: &MemberIdentity) -> bool {
    let mut hr = HashingReader {
        inner: bid.ciphertext.as_slice(),
        hasher: Sha256::new(),
        size: 0,
    };
    let mut buf = BufReader::with_capacity(64 * 1024, &mut hr);
    let Ok(header) = buf.fill_buf().map(read_header) else {
        return false;
    };
    let Ok(header) = header else { return false };
    let mut keys: Vec<ShareKey> = bid
        .revealed
        .iter()
        .filter(|k| open_share(&header, k).is_ok())
        .cloned()
        .collect();
    if let Ok(k) = member_share_key_at(platform, &header, &bid.ctx, PLATFORM_SEAT) {
        keys.push(k);
    }
    let Ok(file_key) = recover_file_key(&header, &keys) else {
        return false;
    };
    let price = bid.ctx.kind == EnvelopeKind::Price;
    let mut plain = Vec::new();
    let opened = if price {
        open_envelope(&file_key, &mut buf, &mut plain)
    } else {
        open_envelope(&file_key, &mut buf, io::sink())
    };
    let _ = io::copy(&mut buf, &mut io::sink());
    drop(buf);
    let sha: [u8; 32] = hr.hasher.finalize().into();
    let matches = opened.is_ok() && sha == bid.digest.sha256 && hr.size == bid.digest.size;
    if price {
        matches && PricePayload::from_json_bytes(&plain).is_ok_and(|p| p.validate().is_ok())
    } else {
        matches
    }
}

fn open_sequential(bids: &[SealedBid], platform: &MemberIdentity) -> usize {
    bids.iter().filter(|b| open_bid(b, platform)).count()
}

fn open_parallel(bids: &[SealedBid], platform: &MemberIdentity, threads: usize) -> usize {
    let next = AtomicUsize::new(0);
    let opened = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = bids.get(i) else { break };
                if open_bid(b, platform) {
                    opened.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    opened.into_inner()
}

fn bench_opening(c: &mut Criterion) {
    bench_kind(c, EnvelopeKind::Technical);
    bench_kind(c, EnvelopeKind::Price);
}

fn bench_kind(c: &mut Criterion, kind: EnvelopeKind) {
    let n = bid_count();
    let mut rng = StdRng::seed_from_u64(1000);
    let members: Vec<MemberIdentity> = (0..5).map(|_| MemberIdentity::generate(&mut rng)).collect();
    let committee = match Committee::new(3, members.iter().map(MemberIdentity::recipient).collect())
    {
        Ok(c) => c,
        Err(e) => panic!("committee: {e}"),
    };
    let platform = &members[usize::from(PLATFORM_SEAT) - 1];
    let mut plain = match kind {
        EnvelopeKind::Price => price_document(BID_BYTES),
        _ => vec![0u8; BID_BYTES],
    };
    let bids: Vec<SealedBid> = (0..n)
        .map(|i| {
            if kind != EnvelopeKind::Price {
                rng.fill_bytes(&mut plain);
            }
            let ctx = ShareContext {
                tender: "0190f3c2-0000-7000-8000-000000000001".into(),
                bidder: format!("0190f3c2-0000-7000-8000-{i:012}"),
                kind,
            };
            let mut ciphertext = Vec::with_capacity(BID_BYTES + 64 * 1024);
            let digest = seal_envelope(
                &committee,
                &ctx,
                None,
                &mut rng,
                &plain[..],
                &mut ciphertext,
            )
            .unwrap_or_else(|e| panic!("seal: {e}"));
            let header = read_header(&ciphertext[..]).unwrap_or_else(|e| panic!("header: {e}"));
            let revealed = [1u8, 2]
                .iter()
                .map(|&seat| {
                    member_share_key_at(&members[usize::from(seat) - 1], &header, &ctx, seat)
                        .unwrap_or_else(|e| panic!("share key: {e}"))
                })
                .collect();
            SealedBid {
                ctx,
                ciphertext,
                digest,
                revealed,
            }
        })
        .collect();
    // Every bid opens, both ways.
    assert_eq!(open_sequential(&bids, platform), n);
    assert_eq!(open_parallel(&bids, platform, 2), n);

    let mut g = c.benchmark_group(format!("open_{n}_{kind}_envelopes_of_1MiB"));
    g.sample_size(10);
    g.throughput(Throughput::Bytes((n * plain.len()) as u64));
    g.bench_function("sequential", |b| {
        b.iter(|| open_sequential(&bids, platform))
    });
    g.bench_function("2_threads", |b| {
        b.iter(|| open_parallel(&bids, platform, 2))
    });
    g.finish();
}

criterion_group!(benches, bench_opening);
criterion_main!(benches);
