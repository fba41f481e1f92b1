//! Streaming seal and open of envelopes (age v1 files with threshold stanzas).
//!
//! Everything streams in constant memory (64 KiB buffers; age encrypts in 64 KiB chunks), so a
//! technical envelope of several gigabytes seals and opens like a small one.
//!
//! Randomness: the Shamir coefficients, the stanzas' ephemeral keys and the label come from the
//! injected RNG. age itself draws the file key, the payload nonce and its grease stanza from the OS
//! RNG; the `age` crate offers no way to inject them, and that is accepted here (the OS RNG is the
//! right source for them anyway; only tests lose determinism).

use std::io::{self, BufReader, Read, Write};
use std::iter;

use age_core::format::{FileKey, Stanza, FILE_KEY_BYTES};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Result, SealError};
use crate::keys::{MemberIdentity, MemberRecipient};
use crate::threshold::{Committee, ShareContext, ThresholdRecipient, SHARE_TAG};

const BUFFER: usize = 64 * 1024;

/// SHA-256 and size of an envelope's ciphertext (what the manifest commits to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnvelopeDigest {
    /// SHA-256 of the ciphertext.
    pub sha256: [u8; 32],
    /// Ciphertext length in bytes.
    pub size: u64,
}

impl EnvelopeDigest {
    /// The SHA-256 as lower-case hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// A reader that hashes and counts what passes through it: open a stored ciphertext through it to
/// check its digest against the manifest in the same pass.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Reads what is left (so the digest covers the whole stream) and returns the digest.
    pub fn finish(mut self) -> io::Result<EnvelopeDigest> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(EnvelopeDigest {
            sha256: self.hasher.finalize().into(),
            size: self.size,
        })
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = buf.get(..n) {
            self.hasher.update(b);
        }
        self.size += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts what goes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.size += written.len() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Seals `input` to the committee (and optionally to the bidder's own key), writing the age file to
/// `output` and returning the ciphertext's digest.
///
/// The bidder's own key must not be a committee member's key (that member could open the bid alone).
pub fn seal_envelope<R: Read, W: Write>(
    committee: &Committee,
    ctx: &ShareContext,
    own: Option<&MemberRecipient>,
    rng: &mut (impl RngCore + CryptoRng),
    input: R,
    output: W,
) -> Result<EnvelopeDigest> {
    committee.validate()?;
    if ctx.tender.trim().is_empty() || ctx.bidder.trim().is_empty() {
        return Err(SealError::invalid(
            "bad_context",
            "the tender and bidder (or deposit reference) must be given to seal an envelope",
        ));
    }
    if let Some(own) = own {
        if committee.members.contains(own) {
            return Err(SealError::BadKey(format!(
                "the bidder's own key {own} is also a committee member's key, so that member could \
                 open the bid alone; use a key of the bidder's own"
            )));
        }
    }

    let recipient = ThresholdRecipient::new(committee, ctx, own, rng);
    let encryptor = age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient))
        .map_err(|e| {
            recipient.take_error().unwrap_or_else(|| {
                SealError::invalid("seal_failed", format!("age refused to encrypt: {e}"))
            })
        })?;

    let mut hashing = HashingWriter {
        inner: output,
        hasher: Sha256::new(),
        size: 0,
    };
    {
        let mut stream = encryptor
            .wrap_output(&mut hashing)
            .map_err(|e| SealError::io("writing the envelope", e))?;
        copy(input, &mut stream, ReadSide::Plaintext)?;
        stream
            .finish()
            .map_err(|e| SealError::io("writing the envelope", e))?;
    }
    hashing
        .flush()
        .map_err(|e| SealError::io("writing the envelope", e))?;
    Ok(EnvelopeDigest {
        sha256: hashing.hasher.finalize().into(),
        size: hashing.size,
    })
}

/// Where a copy reads from, to tell decryption failures from I/O failures.
#[derive(Clone, Copy)]
enum ReadSide {
    Plaintext,
    Ciphertext,
}

/// Copies in constant memory; returns the number of bytes copied.
fn copy(mut input: impl Read, mut output: impl Write, side: ReadSide) -> Result<u64> {
    let mut buf = Zeroizing::new(vec![0u8; BUFFER]);
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match side {
                    ReadSide::Plaintext => SealError::io("reading the plaintext", e),
                    ReadSide::Ciphertext => payload_error(e),
                })
            }
        };
        let chunk = buf.get(..n).unwrap_or(&buf[..]);
        output.write_all(chunk).map_err(|e| match side {
            ReadSide::Plaintext => SealError::io("writing the envelope", e),
            ReadSide::Ciphertext => SealError::io("writing the plaintext", e),
        })?;
        total += n as u64;
    }
    output.flush().map_err(|e| match side {
        ReadSide::Plaintext => SealError::io("writing the envelope", e),
        ReadSide::Ciphertext => SealError::io("writing the plaintext", e),
    })?;
    Ok(total)
}

fn payload_error(e: io::Error) -> SealError {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            SealError::DecryptFailed(format!(
                "the envelope's payload does not decrypt ({e}): it was altered or truncated after \
                 sealing; compare its SHA-256 with the signed manifest"
            ))
        }
        _ => SealError::io("reading the envelope", e),
    }
}

/// An identity that answers every `sealbid-share` stanza with a known file key; age then checks the
/// key against the header MAC.
struct FileKeyIdentity(Zeroizing<[u8; FILE_KEY_BYTES]>);

impl age::Identity for FileKeyIdentity {
    fn unwrap_stanza(
        &self,
        stanza: &Stanza,
    ) -> Option<std::result::Result<FileKey, age::DecryptError>> {
        (stanza.tag == SHARE_TAG)
            .then(|| Ok(FileKey::init_with_mut(|k| k.copy_from_slice(&*self.0))))
    }
}

fn decrypt_error(e: age::DecryptError, no_match: impl FnOnce() -> SealError) -> SealError {
    use age::DecryptError as D;
    match e {
        D::DecryptionFailed | D::InvalidMac | D::KeyDecryptionFailed => SealError::DecryptFailed(
            "the key does not match this envelope's header MAC: it is the wrong key (or one \
             recovered for another envelope), or the header was altered after sealing"
                .into(),
        ),
        D::InvalidHeader | D::UnknownFormat => SealError::BadHeader(
            "the file is not a valid age v1 envelope; check that you chose the right file".into(),
        ),
        D::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => SealError::BadHeader(
            "the file ends inside the age header; it is truncated — fetch the envelope again"
                .into(),
        ),
        D::Io(e) => SealError::io("reading the envelope", e),
        D::NoMatchingKeys => no_match(),
        D::ExcessiveWork { .. } => SealError::BadStructure(
            "the envelope is passphrase-encrypted, not sealed to a committee".into(),
        ),
    }
}

/// Decrypts an envelope with its (recovered) file key, streaming the plaintext to `output`.
/// Returns the number of plaintext bytes written.
///
/// age checks the key against the header MAC before decrypting anything: a wrong key or an altered
/// header → `decrypt_failed`; an altered or truncated payload → `decrypt_failed` as soon as the
/// damaged chunk is reached (plaintext written before that point is authentic but incomplete, so
/// callers must discard the output on error).
pub fn open_envelope<R: Read, W: Write>(
    file_key: &[u8; FILE_KEY_BYTES],
    input: R,
    output: W,
) -> Result<u64> {
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(BUFFER, input))
        .map_err(|e| decrypt_error(e, no_share_stanza))?;
    let identity = FileKeyIdentity(Zeroizing::new(*file_key));
    let reader = decryptor
        .decrypt(iter::once(&identity as &dyn age::Identity))
        .map_err(|e| decrypt_error(e, no_share_stanza))?;
    copy(reader, output, ReadSide::Ciphertext)
}

fn no_share_stanza() -> SealError {
    SealError::BadStructure(format!(
        "the envelope has no `{SHARE_TAG}` stanza: it was not sealed to an opening committee"
    ))
}

/// Decrypts an envelope with the bidder's own key (the optional `X25519` stanza). Returns the number
/// of plaintext bytes written.
pub fn open_own<R: Read, W: Write>(id: &MemberIdentity, input: R, output: W) -> Result<u64> {
    let age_id = id.to_age()?;
    let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(BUFFER, input))
        .map_err(|e| decrypt_error(e, || no_own_stanza(id)))?;
    let reader = decryptor
        .decrypt(iter::once(&age_id as &dyn age::Identity))
        .map_err(|e| decrypt_error(e, || no_own_stanza(id)))?;
    copy(reader, output, ReadSide::Ciphertext)
}

fn no_own_stanza(id: &MemberIdentity) -> SealError {
    SealError::NoMatchingShare(format!(
        "the envelope is not encrypted to {}: it was sealed without the bidder's own key or with \
         another one; only the committee can open it",
        id.recipient()
    ))
}

/// SHA-256 and size of a stream (e.g. an uploaded envelope), in constant memory.
pub fn digest_reader(r: impl Read) -> Result<EnvelopeDigest> {
    let mut r = r;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; BUFFER];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SealError::io("reading the envelope", e)),
        };
        let chunk = buf.get(..n).unwrap_or(&buf[..]);
        hasher.update(chunk);
        size += n as u64;
    }
    Ok(EnvelopeDigest {
        sha256: hasher.finalize().into(),
        size,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::threshold::{
        check_structure, member_share_key, member_share_key_at, open_share, read_header,
        recover_file_key, EnvelopeKind, HeaderInfo, ShareKey,
    };
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    struct Setup {
        members: Vec<MemberIdentity>,
        committee: Committee,
        bidder: MemberIdentity,
        rng: StdRng,
    }

    fn setup(seed: u64) -> Setup {
        let mut rng = StdRng::seed_from_u64(seed);
        let members: Vec<_> = (0..5).map(|_| MemberIdentity::generate(&mut rng)).collect();
        let committee =
            Committee::new(3, members.iter().map(MemberIdentity::recipient).collect()).unwrap();
        let bidder = MemberIdentity::generate(&mut rng);
        Setup {
            members,
            committee,
            bidder,
            rng,
        }
    }

    fn ctx(tender: &str, bidder: &str, kind: EnvelopeKind) -> ShareContext {
        ShareContext {
            tender: tender.into(),
            bidder: bidder.into(),
            kind,
        }
    }

    fn seal(s: &mut Setup, ctx: &ShareContext, own: bool, plaintext: &[u8]) -> Vec<u8> {
        let own_key = s.bidder.recipient();
        let mut out = Vec::new();
        let d = seal_envelope(
            &s.committee,
            ctx,
            own.then_some(&own_key),
            &mut s.rng,
            plaintext,
            &mut out,
        )
        .unwrap();
        assert_eq!(d.size, out.len() as u64);
        assert_eq!(d, digest_reader(&out[..]).unwrap());
        out
    }

    fn keys_of(s: &Setup, h: &HeaderInfo, ctx: &ShareContext, who: &[usize]) -> Vec<ShareKey> {
        who.iter()
            .map(|&i| member_share_key(&s.members[i], h, ctx).unwrap())
            .collect()
    }

    const PLAIN: &[u8] = b"{\"currency\":\"CNY\",\"total\":\"1234567.89\",\"lines\":[]}";

    #[test]
    fn three_of_five_round_trip() {
        let mut s = setup(10);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let file = seal(&mut s, &c, false, PLAIN);
        let h = read_header(&file[..]).unwrap();
        check_structure(&h, &s.committee).unwrap();
        assert_eq!(h.shares.len(), 5);
        assert_eq!(
            h.other_stanzas, 1,
            "only age's grease stanza: {:?}",
            h.other_tags
        );
        assert!(h.other_tags[0].ends_with("-grease"));

        // Each member finds their own stanza (member i ↔ index i + 1).
        for (i, m) in s.members.iter().enumerate() {
            let k = member_share_key(m, &h, &c).unwrap();
            assert_eq!(usize::from(k.index), i + 1);
            assert_eq!(open_share(&h, &k).unwrap()[0], k.index);
        }
        // Any three members suffice.
        for who in [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]] {
            let keys = keys_of(&s, &h, &c, &who);
            let file_key = recover_file_key(&h, &keys).unwrap();
            h.verify_file_key(&file_key).unwrap();
            let mut out = Vec::new();
            let n = open_envelope(&file_key, &file[..], &mut out).unwrap();
            assert_eq!(out, PLAIN);
            assert_eq!(n, PLAIN.len() as u64);
        }
        // All five work too.
        let keys = keys_of(&s, &h, &c, &[0, 1, 2, 3, 4]);
        let file_key = recover_file_key(&h, &keys).unwrap();
        let mut out = Vec::new();
        open_envelope(&file_key, &file[..], &mut out).unwrap();
        assert_eq!(out, PLAIN);
    }

    #[test]
    fn two_of_five_is_not_enough() {
        let mut s = setup(11);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let file = seal(&mut s, &c, false, PLAIN);
        let h = read_header(&file[..]).unwrap();
        let keys = keys_of(&s, &h, &c, &[1, 3]);
        let err = recover_file_key(&h, &keys).unwrap_err();
        assert_eq!(err.code(), "not_enough_shares");
        assert!(
            err.to_string()
                .contains("2 valid share key(s) supplied, 3 needed"),
            "{err}"
        );
        // A duplicated key does not count twice.
        let mut dup = keys_of(&s, &h, &c, &[1, 3]);
        dup.push(dup[0].clone());
        let err = recover_file_key(&h, &dup).unwrap_err();
        assert_eq!(err.code(), "duplicate_share");
        assert_eq!(
            recover_file_key(&h, &[]).unwrap_err().code(),
            "not_enough_shares"
        );
    }

    #[test]
    fn share_keys_from_another_envelope_are_rejected() {
        let mut s = setup(12);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let file = seal(&mut s, &c, false, PLAIN);
        let h = read_header(&file[..]).unwrap();

        let others = [
            ctx("T-1", "B-1", EnvelopeKind::Price), // same context, another envelope
            ctx("T-1", "B-2", EnvelopeKind::Price),
            ctx("T-2", "B-1", EnvelopeKind::Price),
            ctx("T-1", "B-1", EnvelopeKind::Technical),
        ];
        for oc in &others {
            let other_file = seal(&mut s, oc, false, PLAIN);
            let oh = read_header(&other_file[..]).unwrap();
            let foreign = keys_of(&s, &oh, oc, &[0, 1, 2]);
            for k in &foreign {
                assert_eq!(open_share(&h, k).unwrap_err().code(), "share_mismatch");
            }
            assert_eq!(
                recover_file_key(&h, &foreign).unwrap_err().code(),
                "share_mismatch"
            );
            // One foreign key among good ones is still caught.
            let mut mixed = keys_of(&s, &h, &c, &[0, 1]);
            mixed.push(foreign[2].clone());
            assert_eq!(
                recover_file_key(&h, &mixed).unwrap_err().code(),
                "share_mismatch"
            );
        }

        // A member deriving with the wrong context finds nothing (binding is in the derivation).
        for wrong in &others[1..] {
            let err = member_share_key(&s.members[0], &h, wrong).unwrap_err();
            assert_eq!(err.code(), "no_matching_share");
        }
    }

    #[test]
    fn non_member_finds_no_stanza() {
        let mut s = setup(13);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let file = seal(&mut s, &c, true, PLAIN);
        let h = read_header(&file[..]).unwrap();
        let outsider = MemberIdentity::generate(&mut s.rng);
        let err = member_share_key(&outsider, &h, &c).unwrap_err();
        assert_eq!(err.code(), "no_matching_share");
        assert!(err.to_string().contains(&outsider.recipient().to_string()));
        // The bidder's own key is not a share either.
        assert_eq!(
            member_share_key(&s.bidder, &h, &c).unwrap_err().code(),
            "no_matching_share"
        );
        // A member asking for someone else's index.
        assert_eq!(
            member_share_key_at(&s.members[0], &h, &c, 2)
                .unwrap_err()
                .code(),
            "no_matching_share"
        );
        assert_eq!(
            member_share_key_at(&s.members[1], &h, &c, 2).unwrap().index,
            2
        );
        // The outsider cannot open with a file key of their own making either.
        let mut out = Vec::new();
        assert_eq!(
            open_own(&outsider, &file[..], &mut out).unwrap_err().code(),
            "no_matching_share"
        );
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }

    #[test]
    fn tampering_and_wrong_keys_fail_to_decrypt() {
        let mut s = setup(14);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let plaintext = vec![7u8; 200_000]; // several 64 KiB chunks
        let file = seal(&mut s, &c, false, &plaintext);
        let h = read_header(&file[..]).unwrap();
        let keys = keys_of(&s, &h, &c, &[0, 1, 2]);
        let file_key = recover_file_key(&h, &keys).unwrap();

        // Payload bytes: first chunk, middle, last byte.
        let header_len = usize::try_from(h.header_len).unwrap();
        for pos in [header_len + 16 + 3, file.len() / 2, file.len() - 1] {
            let mut bad = file.clone();
            bad[pos] ^= 0x01;
            let err = open_envelope(&file_key, &bad[..], io::sink()).unwrap_err();
            assert_eq!(err.code(), "decrypt_failed", "pos {pos}: {err}");
        }
        // The payload nonce.
        let mut bad = file.clone();
        bad[header_len + 2] ^= 0x80;
        assert_eq!(
            open_envelope(&file_key, &bad[..], io::sink())
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );
        // Truncated payload.
        assert_eq!(
            open_envelope(&file_key, &file[..file.len() - 100], io::sink())
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );

        // Header: change one base64 character of a share body (still parses, MAC no longer matches).
        let stanza_line = find(&file, b"-> sealbid-share 2 3 5 ");
        let body_start = stanza_line + find(&file[stanza_line..], b"\n") + 1;
        let mut bad = file.clone();
        bad[body_start] = if bad[body_start] == b'A' { b'B' } else { b'A' };
        let bh = read_header(&bad[..]).unwrap();
        check_structure(&bh, &s.committee).unwrap();
        let err = open_envelope(&file_key, &bad[..], io::sink()).unwrap_err();
        assert_eq!(err.code(), "decrypt_failed", "{err}");
        assert_eq!(
            bh.verify_file_key(&file_key).unwrap_err().code(),
            "decrypt_failed"
        );
        // Header: change the t argument of a stanza (a parseable lie about the policy).
        let mut bad = file.clone();
        let pos = stanza_line + "-> sealbid-share 2 ".len();
        bad[pos] = b'4';
        let bh = read_header(&bad[..]).unwrap();
        assert_eq!(
            check_structure(&bh, &s.committee).unwrap_err().code(),
            "bad_structure"
        );
        assert_eq!(
            open_envelope(&file_key, &bad[..], io::sink())
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );

        // Header: change the MAC itself. The shares still open, but the recovered key no longer
        // matches the header, and recover_file_key says so.
        let mac_line = find(&file, b"\n--- ") + 5;
        let mut bad = file.clone();
        bad[mac_line] = if bad[mac_line] == b'A' { b'B' } else { b'A' };
        let bh = read_header(&bad[..]).unwrap();
        let err = recover_file_key(&bh, &keys_of(&s, &bh, &c, &[0, 1, 2])).unwrap_err();
        assert_eq!(err.code(), "decrypt_failed", "{err}");
        assert_eq!(
            open_envelope(&file_key, &bad[..], io::sink())
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );

        // Wrong file key.
        let mut wrong = file_key;
        wrong[0] ^= 1;
        let mut out = Vec::new();
        assert_eq!(
            open_envelope(&wrong, &file[..], &mut out)
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );
        assert!(out.is_empty(), "nothing is written before the MAC check");
        // The file key of another envelope.
        let other = seal(&mut s, &c, false, &plaintext);
        let oh = read_header(&other[..]).unwrap();
        let other_key = recover_file_key(&oh, &keys_of(&s, &oh, &c, &[2, 3, 4])).unwrap();
        assert_eq!(
            open_envelope(&other_key, &file[..], io::sink())
                .unwrap_err()
                .code(),
            "decrypt_failed"
        );
        // And the right key still works on the untouched file.
        let mut out = Vec::new();
        open_envelope(&file_key, &file[..], &mut out).unwrap();
        assert_eq!(out, plaintext);
    }

    #[test]
    fn not_an_envelope() {
        let err = open_envelope(&[0; 16], &b"PK\x03\x04 zip file"[..], io::sink()).unwrap_err();
        assert_eq!(err.code(), "bad_header");
        // An ordinary age file (no share stanza).
        let id = age::x25519::Identity::generate();
        let plain_age = age::encrypt(&id.to_public(), b"hello").unwrap();
        let err = open_envelope(&[0; 16], &plain_age[..], io::sink()).unwrap_err();
        assert_eq!(err.code(), "bad_structure");
        let h = read_header(&plain_age[..]).unwrap();
        assert!(h.shares.is_empty());
        assert_eq!(
            recover_file_key(&h, &[]).unwrap_err().code(),
            "bad_structure"
        );
    }

    #[test]
    fn bidder_reads_own_envelope_with_sealbid_and_with_age() {
        let mut s = setup(15);
        let c = ctx("T-1", "B-1", EnvelopeKind::Technical);
        let file = seal(&mut s, &c, true, PLAIN);
        let h = read_header(&file[..]).unwrap();
        check_structure(&h, &s.committee).unwrap();
        assert!(h.other_tags.iter().any(|t| t == "X25519"));

        let mut out = Vec::new();
        assert_eq!(
            open_own(&s.bidder, &file[..], &mut out).unwrap(),
            PLAIN.len() as u64
        );
        assert_eq!(out, PLAIN);

        // The real age API, with the identity parsed from the text form.
        let age_id: age::x25519::Identity = s.bidder.to_secret_string().parse().unwrap();
        let decryptor = age::Decryptor::new(&file[..]).unwrap();
        let mut reader = decryptor
            .decrypt(iter::once(&age_id as &dyn age::Identity))
            .unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, PLAIN);
        // age::decrypt convenience API too.
        assert_eq!(age::decrypt(&age_id, &file).unwrap(), PLAIN);

        // The committee still opens it.
        let keys = keys_of(&s, &h, &c, &[0, 3, 4]);
        let file_key = recover_file_key(&h, &keys).unwrap();
        let mut out = Vec::new();
        open_envelope(&file_key, &file[..], &mut out).unwrap();
        assert_eq!(out, PLAIN);

        // Without the own key the bidder cannot read it.
        let sealed_blind = seal(&mut s, &c, false, PLAIN);
        assert_eq!(
            open_own(&s.bidder, &sealed_blind[..], io::sink())
                .unwrap_err()
                .code(),
            "no_matching_share"
        );
    }

    #[test]
    fn own_key_must_not_be_a_member() {
        let mut s = setup(16);
        let c = ctx("T-1", "B-1", EnvelopeKind::Price);
        let member_key = s.members[2].recipient();
        let err = seal_envelope(
            &s.committee,
            &c,
            Some(&member_key),
            &mut s.rng,
            PLAIN,
            io::sink(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "bad_key");
        let err = seal_envelope(
            &s.committee,
            &ctx("", "B-1", EnvelopeKind::Price),
            None,
            &mut s.rng,
            PLAIN,
            io::sink(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "bad_context");
    }

    /// Builds a header by hand from `stanzas` (MAC not valid), for structure checks.
    fn header_with(stanzas: &[String]) -> HeaderInfo {
        let mut text = String::from("age-encryption.org/v1\n");
        for s in stanzas {
            text.push_str(s);
        }
        text.push_str(&format!("--- {}\n", "A".repeat(43)));
        read_header(text.as_bytes()).unwrap()
    }

    fn share_stanza(i: u8, t: u8, n: u8, body_len: usize) -> String {
        use base64::prelude::{Engine, BASE64_STANDARD_NO_PAD};
        let epk = BASE64_STANDARD_NO_PAD.encode([9u8; 32]);
        let body = BASE64_STANDARD_NO_PAD.encode(vec![1u8; body_len]);
        format!("-> sealbid-share {i} {t} {n} {epk}\n{body}\n")
    }

    #[test]
    fn check_structure_rejects_wrong_shapes() {
        let s = setup(17);
        let c = &s.committee;
        let good: Vec<String> = (1..=5).map(|i| share_stanza(i, 3, 5, 33)).collect();
        let x25519 = format!("-> X25519 {}\n{}\n", "A".repeat(43), "A".repeat(43));
        let grease = "-> a-grease b c\n\n".to_string();

        let ok = |v: &[String]| check_structure(&header_with(v), c);
        let code = |v: &[String]| ok(v).unwrap_err().code();
        ok(&good).unwrap();
        ok(&[good.clone(), vec![x25519.clone(), grease.clone()]].concat()).unwrap();

        // Missing stanza.
        let err = ok(&good[..4]).unwrap_err();
        assert_eq!(err.code(), "bad_structure");
        assert!(err.to_string().contains("member(s) 5"), "{err}");
        // Duplicated stanza.
        let mut dup = good.clone();
        dup[4] = share_stanza(4, 3, 5, 33);
        let err = ok(&dup).unwrap_err();
        assert!(
            err.to_string().contains("member 4 has more than one"),
            "{err}"
        );
        // Extra stanza (index beyond n).
        let mut extra = good.clone();
        extra.push(share_stanza(6, 3, 5, 33));
        assert_eq!(code(&extra), "bad_structure");
        // Wrong t, wrong n.
        let mut wrong_t = good.clone();
        wrong_t[0] = share_stanza(1, 2, 5, 33);
        assert_eq!(code(&wrong_t), "bad_structure");
        let wrong_n: Vec<String> = (1..=5).map(|i| share_stanza(i, 3, 6, 33)).collect();
        assert_eq!(code(&wrong_n), "bad_structure");
        // Wrong body length.
        let mut short = good.clone();
        short[2] = share_stanza(3, 3, 5, 32);
        assert_eq!(code(&short), "bad_structure");
        // Two X25519 stanzas (a second reader before the opening).
        let two = [good.clone(), vec![x25519.clone(), x25519.clone()]].concat();
        assert!(ok(&two).unwrap_err().to_string().contains("2 X25519"));
        // Another recipient type.
        let scrypt = format!("-> scrypt {} 18\n{}\n", "A".repeat(22), "A".repeat(43));
        let err = ok(&[good.clone(), vec![scrypt]].concat()).unwrap_err();
        assert!(err.to_string().contains("`scrypt`"), "{err}");
        // A committee of another size.
        let small = Committee::new(3, c.members[..4].to_vec()).unwrap();
        assert_eq!(
            check_structure(&header_with(&good), &small)
                .unwrap_err()
                .code(),
            "bad_structure"
        );
    }
}
