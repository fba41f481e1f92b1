//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys, interoperable with
//! `golang.org/x/mod/sumdb/note`.
//!
//! A signed note is a UTF-8 text ending in a newline, a blank line, then one or more signature lines
//! `— <key name> <base64(4-byte key ID ‖ signature)>\n`. The Ed25519 key ID is the first four bytes of
//! `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`; verifier keys are written
//! `<name>+<hex key ID>+<base64(0x01 ‖ public key)>` and signer keys
//! `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use crate::merkle::LogError;

/// Largest signed note accepted or produced, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// Most signature lines accepted on one note (the C2SP minimum is 16; Go's reference accepts 100).
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte of Ed25519 note keys.
const ALG_ED25519: u8 = 0x01;
/// Em dash (U+2014) and a space: the start of every signature line.
const SIG_PREFIX: &str = "\u{2014} ";
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

fn bad_key(msg: &str) -> LogError {
    LogError::BadKey(msg.to_owned())
}

fn bad_note(msg: &str) -> LogError {
    LogError::BadNote(msg.to_owned())
}

/// Whether `name` is a valid key name: non-empty, no Unicode white space, no `+`, no control
/// characters.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// Whether `s` contains only characters allowed in a signed note: no ASCII control character other
/// than newline.
fn has_only_note_chars(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// Checks the rules for a note text: non-empty, ends in a newline, no control character other than
/// newline (so no `\r`).
pub fn check_note_text(text: &str) -> Result<(), LogError> {
    if text.is_empty() {
        return Err(bad_note("empty text"));
    }
    if !text.ends_with('\n') {
        return Err(bad_note("text does not end in a newline"));
    }
    if !has_only_note_chars(text) {
        return Err(bad_note("text contains a control character"));
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(bad_note("text too large"));
    }
    Ok(())
}

/// The Ed25519 key ID: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[..4]`, big-endian.
pub fn ed25519_key_hash(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Parses exactly eight lowercase hexadecimal digits.
fn parse_hash8(s: &str) -> Result<u32, LogError> {
    if s.len() != 8
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad_key("key ID is not 8 lowercase hex digits"));
    }
    u32::from_str_radix(s, 16).map_err(|_| bad_key("key ID is not hexadecimal"))
}

/// Decodes `base64(0x01 ‖ 32 bytes)`.
fn decode_ed25519_material(b64: &str) -> Result<Zeroizing<[u8; 32]>, LogError> {
    let raw = Zeroizing::new(
        STANDARD
            .decode(b64)
            .map_err(|_| bad_key("key material is not base64"))?,
    );
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) => {
            let mut out = Zeroizing::new([0u8; 32]);
            if rest.len() != 32 {
                return Err(bad_key("Ed25519 key is not 32 bytes"));
            }
            out.copy_from_slice(rest);
            Ok(out)
        }
        Some(_) => Err(bad_key("unsupported key type (only Ed25519, 0x01)")),
        None => Err(bad_key("empty key material")),
    }
}

fn encode_ed25519_material(key: &[u8; 32]) -> Zeroizing<String> {
    let mut raw = Zeroizing::new([0u8; 33]);
    raw[0] = ALG_ED25519;
    raw[1..].copy_from_slice(key);
    Zeroizing::new(STANDARD.encode(&raw[..]))
}

/// The public half of a note key: verifies signatures by `name`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NoteVerifier {
    name: String,
    key_hash: u32,
    public_key: [u8; 32],
}

impl NoteVerifier {
    /// A verifier for an Ed25519 public key under `name`.
    pub fn from_public_key(name: &str, public_key: [u8; 32]) -> Result<Self, LogError> {
        if !is_valid_key_name(name) {
            return Err(bad_key("invalid key name"));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key_hash: ed25519_key_hash(name, &public_key),
            public_key,
        })
    }

    /// Parses a verifier key `<name>+<hex8 key ID>+<base64(0x01 ‖ public key)>`; the key ID must match.
    pub fn parse(vkey: &str) -> Result<Self, LogError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hash), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_key("verifier key needs name+id+key"));
        };
        if !is_valid_key_name(name) {
            return Err(bad_key("invalid key name"));
        }
        let hash = parse_hash8(hash)?;
        let public_key = *decode_ed25519_material(material)?;
        let v = NoteVerifier::from_public_key(name, public_key)?;
        if v.key_hash != hash {
            return Err(bad_key("key ID does not match the key"));
        }
        Ok(v)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// Whether `sig` (without the key ID) is a valid Ed25519 signature of `msg` by this key.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        sig.len() == 64
            && UnparsedPublicKey::new(&ED25519, &self.public_key)
                .verify(msg, sig)
                .is_ok()
    }

    fn id(&self) -> String {
        format!("{}+{:08x}", self.name, self.key_hash)
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_hash,
            encode_ed25519_material(&self.public_key).as_str()
        )
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

impl FromStr for NoteVerifier {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoteVerifier::parse(s)
    }
}

impl Serialize for NoteVerifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for NoteVerifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NoteVerifier::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The private half of a note key. Its `Debug` output never shows the seed, which is zeroed on drop.
pub struct NoteSigner {
    name: String,
    key_hash: u32,
    seed: Zeroizing<[u8; 32]>,
    keypair: Ed25519KeyPair,
    public_key: [u8; 32],
}

impl NoteSigner {
    /// A signer for the Ed25519 key with this 32-byte seed (RFC 8032 private key) under `name`.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, LogError> {
        let seed = Zeroizing::new(seed);
        if !is_valid_key_name(name) {
            return Err(bad_key("invalid key name"));
        }
        let keypair = Ed25519KeyPair::from_seed_unchecked(&seed[..])
            .map_err(|_| bad_key("invalid Ed25519 seed"))?;
        let mut public_key = [0u8; 32];
        let pk = keypair.public_key().as_ref();
        if pk.len() != 32 {
            return Err(bad_key("invalid Ed25519 public key"));
        }
        public_key.copy_from_slice(pk);
        Ok(NoteSigner {
            name: name.to_owned(),
            key_hash: ed25519_key_hash(name, &public_key),
            seed,
            keypair,
            public_key,
        })
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 ‖ seed)>`; the key ID must
    /// match the derived public key.
    pub fn parse(skey: &str) -> Result<Self, LogError> {
        let Some(rest) = skey.strip_prefix(SKEY_PREFIX) else {
            return Err(bad_key("signer key must start with PRIVATE+KEY+"));
        };
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_key("signer key needs name+id+key"));
        };
        if !is_valid_key_name(name) {
            return Err(bad_key("invalid key name"));
        }
        let hash = parse_hash8(hash)?;
        let seed = decode_ed25519_material(material)?;
        let signer = NoteSigner::from_seed(name, *seed)?;
        if signer.key_hash != hash {
            return Err(bad_key("key ID does not match the key"));
        }
        Ok(signer)
    }

    /// The signer key string `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 ‖ seed)>`. Secret: store it as
    /// such.
    pub fn to_skey_string(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_hash,
            encode_ed25519_material(&self.seed).as_str()
        ))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_hash: self.key_hash,
            public_key: self.public_key,
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_hash(&self) -> u32 {
        self.key_hash
    }

    /// The raw Ed25519 signature of `msg`.
    fn sign_raw(&self, msg: &[u8]) -> ring::signature::Signature {
        self.keypair.sign(msg)
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_hash", &format_args!("{:08x}", self.key_hash))
            .field("seed", &"<redacted>")
            .finish()
    }
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The 32-bit key ID.
    pub key_hash: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

/// A note split into its text and signature lines, no signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedNote {
    /// The signed text, final newline included.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

/// Splits a signed note into text and signatures, checking its syntax and size limits only.
pub fn parse_note(msg: &str) -> Result<ParsedNote, LogError> {
    if msg.len() > MAX_NOTE_BYTES {
        return Err(bad_note("note too large"));
    }
    if !has_only_note_chars(msg) {
        return Err(bad_note("note contains a control character"));
    }
    // The text is separated from the signatures by the last blank line.
    let Some(split) = msg.rfind("\n\n") else {
        return Err(bad_note("no blank line before the signatures"));
    };
    let text = &msg[..split + 1];
    let sigs = &msg[split + 2..];
    if sigs.is_empty() {
        return Err(bad_note("no signature lines"));
    }
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(bad_note("signature block does not end in a newline"));
    };
    let mut signatures = Vec::new();
    for line in sigs.split('\n') {
        if signatures.len() >= MAX_SIGNATURES {
            return Err(bad_note("too many signatures"));
        }
        let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
            return Err(bad_note("signature line does not start with an em dash"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(bad_note("signature line lacks a signature"));
        };
        if !is_valid_key_name(name) {
            return Err(bad_note("invalid key name in a signature line"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| bad_note("signature is not base64"))?;
        if raw.len() < 5 {
            return Err(bad_note("signature too short"));
        }
        let (hash, sig) = raw.split_at(4);
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_hash: u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]),
            signature: sig.to_vec(),
        });
    }
    Ok(ParsedNote {
        text: text.to_owned(),
        signatures,
    })
}

/// Signs `text` with every signer, in order (a second signer with the same name and key ID as an
/// earlier one is skipped). The text must be non-empty, end in a newline and contain no control
/// character other than newline.
pub fn sign_note(text: &str, signers: &[&NoteSigner]) -> Result<String, LogError> {
    check_note_text(text)?;
    if signers.is_empty() {
        return Err(bad_note("no signer"));
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(bad_note("too many signers"));
    }
    let mut out = String::with_capacity(text.len() + 1 + signers.len() * 110);
    out.push_str(text);
    out.push('\n');
    let mut seen = HashSet::new();
    for s in signers {
        if !seen.insert((s.name.as_str(), s.key_hash)) {
            continue;
        }
        let sig = s.sign_raw(text.as_bytes());
        let mut raw = Vec::with_capacity(68);
        raw.extend_from_slice(&s.key_hash.to_be_bytes());
        raw.extend_from_slice(sig.as_ref());
        out.push_str(SIG_PREFIX);
        out.push_str(&s.name);
        out.push(' ');
        out.push_str(&STANDARD.encode(raw));
        out.push('\n');
    }
    if out.len() > MAX_NOTE_BYTES {
        return Err(bad_note("note too large"));
    }
    Ok(out)
}

/// A note whose text is vouched for by at least one known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The signed text, final newline included.
    pub text: String,
    /// Names of the known keys whose signatures verified, in signature order, each key once.
    pub verified_by: Vec<String>,
    /// Number of distinct signatures from unknown keys (ignored, as the spec requires).
    pub unverified: usize,
}

/// Opens a signed note: checks its syntax, verifies every signature from a known key and ignores the
/// others.
///
/// Errors: `bad_note` for a malformed note, `ambiguous_key` when two different verifiers share the name
/// and key ID of a signature, `bad_signature` when a signature from a known key does not verify (the
/// whole note is rejected), `unknown_key` when no signature is from a known key.
pub fn open_note(msg: &str, verifiers: &[&NoteVerifier]) -> Result<OpenedNote, LogError> {
    let parsed = parse_note(msg)?;
    let mut verified_by = Vec::new();
    let mut verified_keys = HashSet::new();
    let mut unverified = HashSet::new();
    for sig in &parsed.signatures {
        let mut candidates = verifiers
            .iter()
            .filter(|v| v.name == sig.name && v.key_hash == sig.key_hash);
        let Some(verifier) = candidates.next() else {
            unverified.insert(sig);
            continue;
        };
        if candidates.any(|other| other.public_key != verifier.public_key) {
            return Err(LogError::AmbiguousKey(verifier.id()));
        }
        if !verifier.verify(parsed.text.as_bytes(), &sig.signature) {
            return Err(LogError::BadSignature(verifier.id()));
        }
        if verified_keys.insert((sig.name.as_str(), sig.key_hash)) {
            verified_by.push(sig.name.clone());
        }
    }
    if verified_by.is_empty() {
        return Err(LogError::UnknownKey);
    }
    Ok(OpenedNote {
        text: parsed.text,
        verified_by,
        unverified: unverified.len(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn signer(name: &str, byte: u8) -> NoteSigner {
        NoteSigner::from_seed(name, [byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_key_strings() {
        let s = signer("example.com/log", 7);
        let v = s.verifier();
        assert_eq!(v.name(), "example.com/log");
        assert_eq!(v.key_hash(), s.key_hash());
        let vkey = v.to_string();
        assert_eq!(NoteVerifier::parse(&vkey).unwrap(), v);
        assert_eq!(vkey.parse::<NoteVerifier>().unwrap(), v);
        let skey = s.to_skey_string();
        let s2 = NoteSigner::parse(&skey).unwrap();
        assert_eq!(s2.verifier(), v);
        assert!(skey.starts_with("PRIVATE+KEY+example.com/log+"));

        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, format!("\"{vkey}\""));
        assert_eq!(serde_json::from_str::<NoteVerifier>(&json).unwrap(), v);
        assert!(serde_json::from_str::<NoteVerifier>("\"nope\"").is_err());

        let text = "hello\nworld\n";
        let note = sign_note(text, &[&s]).unwrap();
        let opened = open_note(&note, &[&v]).unwrap();
        assert_eq!(opened.text, text);
        assert_eq!(opened.verified_by, vec!["example.com/log".to_owned()]);
        assert_eq!(opened.unverified, 0);
    }

    #[test]
    fn debug_redacts_the_seed() {
        let s = signer("k", 0x42);
        let dbg = format!("{s:?}");
        assert!(dbg.contains("redacted"));
        let material = encode_ed25519_material(&[0x42; 32]);
        assert!(!dbg.contains(material.as_str()));
        assert!(!dbg.contains("66, 66"));
    }

    #[test]
    fn invalid_names_and_texts_are_refused() {
        for name in ["", "a b", "a+b", "a\u{a0}b", "a\tb", "a\nb"] {
            assert_eq!(
                NoteSigner::from_seed(name, [1; 32]).unwrap_err().code(),
                "bad_key"
            );
        }
        let s = signer("k", 1);
        for text in ["", "no newline", "cr\r\n", "tab\there\n", "nul\0\n"] {
            assert_eq!(
                sign_note(text, &[&s]).unwrap_err().code(),
                "bad_note",
                "{text:?}"
            );
        }
        assert_eq!(sign_note("ok\n", &[]).unwrap_err().code(), "bad_note");
        let big = "a".repeat(MAX_NOTE_BYTES) + "\n";
        assert_eq!(sign_note(&big, &[&s]).unwrap_err().code(), "bad_note");
    }

    #[test]
    fn texts_with_blank_lines_round_trip() {
        let s = signer("k", 3);
        for text in ["a\n\nb\n", "a\n\n", "\n", "\n\n\n", "— k AAAA\n"] {
            let note = sign_note(text, &[&s]).unwrap();
            assert_eq!(open_note(&note, &[&s.verifier()]).unwrap().text, text);
        }
    }

    #[test]
    fn signature_rules() {
        let (a, b, c) = (signer("a", 1), signer("b", 2), signer("c", 3));
        let text = "body\n";
        let note = sign_note(text, &[&a, &b, &a]).unwrap();
        assert_eq!(
            note.matches('\u{2014}').count(),
            2,
            "duplicate signer skipped"
        );

        // Unknown keys are ignored but counted; at least one known key is needed.
        let opened = open_note(&note, &[&a.verifier()]).unwrap();
        assert_eq!(opened.verified_by, vec!["a".to_owned()]);
        assert_eq!(opened.unverified, 1);
        let opened = open_note(&note, &[&b.verifier(), &a.verifier()]).unwrap();
        assert_eq!(opened.verified_by, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(
            open_note(&note, &[&c.verifier()]).unwrap_err(),
            LogError::UnknownKey
        );
        assert_eq!(open_note(&note, &[]).unwrap_err().code(), "unknown_key");

        // Same name, other key: a different key ID, so it is an unknown key, not a bad signature.
        let a2 = signer("a", 9);
        assert_eq!(
            open_note(&note, &[&a2.verifier()]).unwrap_err().code(),
            "unknown_key"
        );

        // A changed text fails for the known key.
        let tampered = note.replacen("body", "bodY", 1);
        assert_eq!(
            open_note(&tampered, &[&a.verifier()]).unwrap_err(),
            LogError::BadSignature(a.verifier().id())
        );
        // A bad signature from a known key rejects the note even when another known key verifies.
        let other = sign_note("other\n", &[&b]).unwrap();
        let b_line = other.lines().last().unwrap();
        let mixed = format!(
            "{text}\n{}\n{b_line}\n",
            note[text.len() + 1..].lines().next().unwrap()
        );
        assert_eq!(
            open_note(&mixed, &[&a.verifier(), &b.verifier()])
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        assert!(open_note(&mixed, &[&a.verifier()]).is_ok());

        // Identical verifiers listed twice are fine; two different keys with one name and ID are not.
        assert!(open_note(&note, &[&a.verifier(), &a.verifier()]).is_ok());
        let mut forged = a2.verifier();
        forged.key_hash = a.key_hash();
        assert_eq!(
            open_note(&note, &[&a.verifier(), &forged])
                .unwrap_err()
                .code(),
            "ambiguous_key"
        );
    }

    #[test]
    fn malformed_notes_are_refused() {
        let a = signer("a", 1);
        let note = sign_note("text\n", &[&a]).unwrap();
        let sig_line = note.lines().last().unwrap().to_owned();
        let v = a.verifier();
        let bad = [
            "text\n".to_owned(),
            "text\n\n".to_owned(),
            format!("text\n\n{sig_line}"),
            format!("text\r\n\n{sig_line}\n"),
            format!("text\n\n{sig_line}\nextra\n"),
            format!("text\n\n{}\n", sig_line.replacen('\u{2014}', "-", 1)),
            format!("text\n\n{}\n", sig_line.replacen(" a ", " a b ", 1)),
            format!("text\n\n{}\n", sig_line.replacen(" a ", " a+b ", 1)),
            format!("text\n\n{sig_line}!\n"),
            "text\n\n\u{2014} a AAAA\n".to_owned(),
            "text\n\n\u{2014} a\n".to_owned(),
            format!("text\n\n{sig_line}\n\n"),
            format!("text\n\n{}\n", sig_line.repeat(2)),
        ];
        for msg in &bad {
            assert_eq!(
                open_note(msg, &[&v]).unwrap_err().code(),
                "bad_note",
                "{msg:?}"
            );
        }
        let many = format!(
            "text\n\n{}",
            format!("{sig_line}\n").repeat(MAX_SIGNATURES + 1)
        );
        assert_eq!(open_note(&many, &[&v]).unwrap_err().code(), "bad_note");
        let ok = format!("text\n\n{}", format!("{sig_line}\n").repeat(MAX_SIGNATURES));
        let opened = open_note(&ok, &[&v]).unwrap();
        assert_eq!(opened.verified_by.len(), 1);
        let huge = format!("{}\n\n{sig_line}\n", "x".repeat(MAX_NOTE_BYTES));
        assert_eq!(open_note(&huge, &[&v]).unwrap_err().code(), "bad_note");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let s = signer("name", 5);
        let vkey = s.verifier().to_string();
        let (name, rest) = vkey.split_once('+').unwrap();
        let (hash, material) = rest.split_once('+').unwrap();
        let mut bad = vec![
            String::new(),
            name.to_owned(),
            format!("{name}+{hash}"),
            format!("{name}+{}+{material}", &hash[1..]),
            format!("other+{hash}+{material}"),
            format!("+{hash}+{material}"),
            format!("{name}+{hash}+{}", &material[1..]),
            format!("{name}+{hash}+{material}="),
            format!("{name}+{hash}+{}", STANDARD.encode([2u8; 33])),
            format!("{name}+{hash}+{}", STANDARD.encode([1u8; 32])),
        ];
        if hash.bytes().any(|b| b.is_ascii_alphabetic()) {
            bad.push(format!("{name}+{}+{material}", hash.to_uppercase()));
        }
        for k in &bad {
            assert_eq!(
                NoteVerifier::parse(k).unwrap_err().code(),
                "bad_key",
                "{k:?}"
            );
        }
        let skey = s.to_skey_string();
        assert!(NoteSigner::parse(&skey[1..]).is_err());
        assert!(NoteSigner::parse(&vkey).is_err());
        assert!(NoteSigner::parse(&skey.replacen("PRIVATE+KEY+", "private+key+", 1)).is_err());
    }
}
