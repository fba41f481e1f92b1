//! Seals and opens 256 MiB through a bounded in-memory pipe, never holding the data: sealing runs
//! in one thread, the committee's side reads the header off the stream, recovers the file key and
//! decrypts the rest into a hashing sink.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sealbid_seal::envelope::{digest_reader, open_envelope, seal_envelope};
use sealbid_seal::keys::MemberIdentity;
use sealbid_seal::threshold::{
    check_structure, member_share_key, read_header, recover_file_key, Committee, EnvelopeKind,
    ShareContext,
};
use sha2::{Digest, Sha256};

const SIZE: u64 = 256 * 1024 * 1024;
const BYTE: u8 = 0x5a;

struct PipeWriter(SyncSender<Vec<u8>>);

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "reader hung up"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct PipeReader {
    rx: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hashes what is read through it.
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

/// Hashes what is written to it, keeping nothing.
struct HashingSink {
    hasher: Sha256,
    size: u64,
}

impl Write for HashingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Peak resident set size of this process in KiB (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn seal_and_open_256_mib_in_constant_memory() {
    let rss_before = peak_rss_kib();
    let mut rng = StdRng::seed_from_u64(99);
    let members: Vec<_> = (0..5).map(|_| MemberIdentity::generate(&mut rng)).collect();
    let committee =
        Committee::new(3, members.iter().map(MemberIdentity::recipient).collect()).unwrap();
    let ctx = ShareContext {
        tender: "T-BIG".into(),
        bidder: "B-BIG".into(),
        kind: EnvelopeKind::Technical,
    };

    let (tx, rx) = sync_channel::<Vec<u8>>(8);
    let sealer = {
        let committee = committee.clone();
        let ctx = ctx.clone();
        thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(100);
            seal_envelope(
                &committee,
                &ctx,
                None,
                &mut rng,
                io::repeat(BYTE).take(SIZE),
                PipeWriter(tx),
            )
        })
    };

    let mut ciphertext = HashingReader {
        inner: PipeReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        },
        hasher: Sha256::new(),
        size: 0,
    };
    // The header comes off the stream first; read_header stops exactly at its end.
    let header = read_header(&mut ciphertext).unwrap();
    check_structure(&header, &committee).unwrap();
    let keys: Vec<_> = [4, 0, 2]
        .iter()
        .map(|&i| member_share_key(&members[i], &header, &ctx).unwrap())
        .collect();
    let file_key = recover_file_key(&header, &keys).unwrap();

    let mut sink = HashingSink {
        hasher: Sha256::new(),
        size: 0,
    };
    let replayed_header = io::Cursor::new(header.raw_header().to_vec());
    let written =
        open_envelope(&file_key, replayed_header.chain(&mut ciphertext), &mut sink).unwrap();

    let digest = sealer.join().unwrap().unwrap();
    assert_eq!(written, SIZE);
    assert_eq!(sink.size, SIZE);
    let expected = digest_reader(io::repeat(BYTE).take(SIZE)).unwrap();
    assert_eq!(expected.size, SIZE);
    assert_eq!(<[u8; 32]>::from(sink.hasher.finalize()), expected.sha256);

    // The digest the sealer reported is the digest of what went over the pipe.
    assert_eq!(ciphertext.size, digest.size);
    assert_eq!(
        <[u8; 32]>::from(ciphertext.hasher.finalize()),
        digest.sha256
    );
    // age adds 16 bytes of tag per 64 KiB chunk, plus the header and the nonce.
    let chunks = SIZE.div_ceil(64 * 1024);
    assert_eq!(digest.size, header.header_len + 16 + SIZE + 16 * chunks);

    if let (Some(before), Some(after)) = (rss_before, peak_rss_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            grown_mib < 64,
            "peak memory grew by {grown_mib} MiB while streaming 256 MiB"
        );
    }
}
