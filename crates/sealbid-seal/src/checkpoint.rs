//! C2SP transparency-log checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed tree head of the
//! log, as a [signed note](crate::note) whose text is
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <base64 root hash>
//! [extension lines]
//! ```
//!
//! Sealbid checkpoints carry their time as the extension line `sealbid-time <RFC 3339 UTC, seconds>`
//! and a tender's closing checkpoint is marked by `sealbid-closing <tender id>`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::merkle::{verify_consistency, verify_inclusion, Hash, LogError};
use crate::note::{check_note_text, open_note, parse_note, sign_note, NoteSigner, NoteVerifier};

/// Keyword of the time extension line.
pub const TIME_EXTENSION: &str = "sealbid-time";
/// Keyword of the closing extension line.
pub const CLOSING_EXTENSION: &str = "sealbid-closing";
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

fn bad(msg: &str) -> LogError {
    LogError::BadCheckpoint(msg.to_owned())
}

/// Formats a time as our extension value: RFC 3339, UTC, whole seconds (`2026-11-29T10:00:00Z`).
fn format_time(time: &DateTime<Utc>) -> String {
    time.format(TIME_FORMAT).to_string()
}

/// Parses the canonical form written by [`format_time`], and nothing else.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = NaiveDateTime::parse_from_str(s, TIME_FORMAT)
        .ok()?
        .and_utc();
    (format_time(&t) == s).then_some(t)
}

/// The value of an extension line `<keyword> <value>`, `Some("")` for a bare keyword, `None` for
/// another extension.
fn extension_value<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(keyword)?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix(' ')
}

/// A log checkpoint body (unsigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity; also the key name of the log's signature.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// A checkpoint stamped with `time` (truncated to whole seconds) as a `sealbid-time` line.
    pub fn with_time(
        origin: impl Into<String>,
        size: u64,
        root: Hash,
        time: DateTime<Utc>,
    ) -> Self {
        let mut cp = Checkpoint::new(origin, size, root);
        cp.extensions
            .push(format!("{TIME_EXTENSION} {}", format_time(&time)));
        cp
    }

    /// Marks this checkpoint as the closing checkpoint of `tender` (replacing any earlier mark). The id
    /// must be non-empty without white space or control characters, or signing fails.
    pub fn with_closing(mut self, tender: &str) -> Self {
        self.extensions
            .retain(|l| extension_value(l, CLOSING_EXTENSION).is_none());
        self.extensions
            .push(format!("{CLOSING_EXTENSION} {tender}"));
        self
    }

    /// The `sealbid-time` of this checkpoint, if it has a well-formed one.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        self.extensions
            .iter()
            .find_map(|l| extension_value(l, TIME_EXTENSION))
            .and_then(parse_time)
    }

    /// The tender this checkpoint closes, if it is a closing checkpoint.
    pub fn closing(&self) -> Option<&str> {
        self.extensions
            .iter()
            .find_map(|l| extension_value(l, CLOSING_EXTENSION))
            .filter(|v| !v.is_empty())
    }

    /// The note text of this checkpoint. Only meaningful when [`Checkpoint::check`] passes.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Checks that this checkpoint is well formed, i.e. that its text parses back to it.
    pub fn check(&self) -> Result<(), LogError> {
        if Checkpoint::parse(&self.to_text())? != *self {
            return Err(bad("origin or extension line contains a line break"));
        }
        Ok(())
    }

    /// Parses a checkpoint body strictly: non-empty origin, decimal size without sign or leading zeros,
    /// canonical base64 of a 32-byte root, non-empty extension lines, final newline, no control
    /// characters; at most one well-formed `sealbid-time` and one well-formed `sealbid-closing` line.
    pub fn parse(text: &str) -> Result<Self, LogError> {
        check_note_text(text).map_err(|e| LogError::BadCheckpoint(e.to_string()))?;
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(bad("empty origin"));
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad("tree size is not a canonical decimal number"));
        }
        let size: u64 = size.parse().map_err(|_| bad("tree size out of range"))?;
        let raw = STANDARD
            .decode(root)
            .map_err(|_| bad("root hash is not base64"))?;
        let root_hash: Hash = raw
            .as_slice()
            .try_into()
            .map_err(|_| bad("root hash is not 32 bytes"))?;
        if STANDARD.encode(root_hash) != root {
            return Err(bad("root hash is not canonical base64"));
        }
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        let (mut times, mut closings) = (0, 0);
        for ext in &extensions {
            if ext.is_empty() {
                return Err(bad("empty extension line"));
            }
            if let Some(v) = extension_value(ext, TIME_EXTENSION) {
                times += 1;
                if parse_time(v).is_none() {
                    return Err(bad("sealbid-time is not an RFC 3339 UTC time in seconds"));
                }
            }
            if let Some(v) = extension_value(ext, CLOSING_EXTENSION) {
                closings += 1;
                if v.is_empty() || v.chars().any(char::is_whitespace) {
                    return Err(bad("sealbid-closing needs one tender id"));
                }
            }
        }
        if times > 1 || closings > 1 {
            return Err(bad("repeated sealbid extension"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: root_hash,
            extensions,
        })
    }

    /// Verifies that `leaf_hash` is leaf `index` of the tree this checkpoint commits to.
    pub fn verify_inclusion(
        &self,
        leaf_hash: &Hash,
        index: u64,
        proof: &[Hash],
    ) -> Result<(), LogError> {
        verify_inclusion(leaf_hash, index, self.size, proof, &self.root)
    }

    /// Verifies that `newer` extends this checkpoint's tree (same origin, consistency proof).
    pub fn verify_consistency(&self, newer: &Checkpoint, proof: &[Hash]) -> Result<(), LogError> {
        if self.origin != newer.origin {
            return Err(bad("checkpoints are from different logs"));
        }
        verify_consistency(self.size, newer.size, &self.root, &newer.root, proof)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A checkpoint with its signed note. Serialized as the note text.
///
/// Values from [`SignedCheckpoint::sign`] and [`SignedCheckpoint::verify`] are signed by the log;
/// values from [`SignedCheckpoint::parse_unverified`] (and from deserialization) are only well formed
/// and must be checked with [`SignedCheckpoint::verify_with`] before they are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// The full signed note.
    pub note: String,
}

impl SignedCheckpoint {
    /// Signs a checkpoint as the log. The signer's key name must equal the origin.
    pub fn sign(checkpoint: Checkpoint, signer: &NoteSigner) -> Result<Self, LogError> {
        checkpoint.check()?;
        if signer.name() != checkpoint.origin {
            return Err(bad("the signer's key name differs from the origin"));
        }
        let note = sign_note(&checkpoint.to_text(), &[signer])?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Opens a checkpoint note signed by the log key `verifier`, whose name must be the origin.
    pub fn verify(note: &str, verifier: &NoteVerifier) -> Result<Self, LogError> {
        let opened = open_note(note, &[verifier])?;
        let checkpoint = Checkpoint::parse(&opened.text)?;
        if checkpoint.origin != verifier.name() {
            return Err(bad("the origin differs from the log's key name"));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note: note.to_owned(),
        })
    }

    /// Parses a checkpoint note without checking any signature; it must carry a signature line named as
    /// its origin.
    pub fn parse_unverified(note: &str) -> Result<Self, LogError> {
        let parsed = parse_note(note)?;
        let checkpoint = Checkpoint::parse(&parsed.text)?;
        if !parsed
            .signatures
            .iter()
            .any(|s| s.name == checkpoint.origin)
        {
            return Err(bad("no signature line named as the origin"));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note: note.to_owned(),
        })
    }

    /// Checks that this note is signed by `verifier` as its origin and matches `self.checkpoint`.
    pub fn verify_with(&self, verifier: &NoteVerifier) -> Result<(), LogError> {
        let verified = SignedCheckpoint::verify(&self.note, verifier)?;
        if verified.checkpoint != self.checkpoint {
            return Err(bad("checkpoint does not match its note"));
        }
        Ok(())
    }
}

impl Serialize for SignedCheckpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.note)
    }
}

impl<'de> Deserialize<'de> for SignedCheckpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SignedCheckpoint::parse_unverified(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::merkle::{empty_root, MemoryLog};
    use chrono::TimeZone;

    const ORIGIN: &str = "sealbid.example/log";

    fn log_key() -> NoteSigner {
        NoteSigner::from_seed(ORIGIN, [0x11; 32]).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).unwrap()
    }

    #[test]
    fn text_round_trip() {
        let root = MemoryLog::new().root();
        let cp = Checkpoint::with_time(ORIGIN, 0, root, t0());
        let text = cp.to_text();
        assert_eq!(
            text,
            "sealbid.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nsealbid-time 2026-11-29T10:00:00Z\n"
        );
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
        assert_eq!(cp.time(), Some(t0()));
        assert_eq!(cp.closing(), None);
        assert_eq!(cp.to_string(), text);

        let closing = cp
            .clone()
            .with_closing("T-2026-0042")
            .with_closing("T-2026-0043");
        assert_eq!(closing.closing(), Some("T-2026-0043"));
        assert_eq!(closing.extensions.len(), 2);
        let parsed = Checkpoint::parse(&closing.to_text()).unwrap();
        assert_eq!(parsed, closing);
        assert_eq!(parsed.closing(), Some("T-2026-0043"));
        assert_eq!(parsed.time(), Some(t0()));

        let plain = Checkpoint::new(ORIGIN, 12345678901, [7; 32]);
        assert_eq!(Checkpoint::parse(&plain.to_text()).unwrap(), plain);
        assert_eq!(plain.time(), None);
    }

    #[test]
    fn time_is_truncated_to_seconds() {
        let t = t0() + chrono::Duration::milliseconds(999);
        let cp = Checkpoint::with_time(ORIGIN, 1, [0; 32], t);
        assert_eq!(
            cp.extensions,
            vec!["sealbid-time 2026-11-29T10:00:00Z".to_owned()]
        );
        assert_eq!(cp.time(), Some(t0()));
    }

    #[test]
    fn strict_parsing_rejects_malformations() {
        let root = STANDARD.encode([9u8; 32]);
        let ok = format!("o\n5\n{root}\n");
        assert!(Checkpoint::parse(&ok).is_ok());
        assert!(Checkpoint::parse(&format!("o\n0\n{root}\n")).is_ok());
        assert!(Checkpoint::parse(&format!("o\n18446744073709551615\n{root}\next\n")).is_ok());
        let short_root = STANDARD.encode([9u8; 31]);
        let long_root = STANDARD.encode([9u8; 33]);
        let unpadded = root.trim_end_matches('=').to_owned();
        let mut noncanonical = root.clone();
        noncanonical.replace_range(42..43, "b"); // sets unused trailing bits
        let bad = [
            String::new(),
            "o\n5\n".to_owned(),
            format!("o\n5\n{root}"),
            format!("\n5\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n05\n{root}\n"),
            format!("o\n00\n{root}\n"),
            format!("o\n+5\n{root}\n"),
            format!("o\n-5\n{root}\n"),
            format!("o\n 5\n{root}\n"),
            format!("o\n5 \n{root}\n"),
            format!("o\n0x5\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n5\n\n".to_owned(),
            format!("o\n5\n{short_root}\n"),
            format!("o\n5\n{long_root}\n"),
            format!("o\n5\n{unpadded}\n"),
            format!("o\n5\n{noncanonical}\n"),
            format!("o\n5\n{}\n", hex::encode([9u8; 32])),
            format!("o\n5\n{root}\n\n"),
            format!("o\n5\n{root}\next\n\nmore\n"),
            format!("o\r\n5\n{root}\n"),
            format!("o\n5\n{root}\r\n"),
            format!("o\t\n5\n{root}\n"),
            format!("o\n5\n{root}\nsealbid-time\n"),
            format!("o\n5\n{root}\nsealbid-time 2026-11-29T10:00:00+01:00\n"),
            format!("o\n5\n{root}\nsealbid-time 2026-11-29T10:00:00.5Z\n"),
            format!("o\n5\n{root}\nsealbid-time 2026-11-29 10:00:00Z\n"),
            format!("o\n5\n{root}\nsealbid-time 2026-11-29T10:00:00Z\nsealbid-time 2026-11-29T10:00:00Z\n"),
            format!("o\n5\n{root}\nsealbid-closing\n"),
            format!("o\n5\n{root}\nsealbid-closing \n"),
            format!("o\n5\n{root}\nsealbid-closing a b\n"),
            format!("o\n5\n{root}\nsealbid-closing a\nsealbid-closing a\n"),
        ];
        for text in &bad {
            let err = Checkpoint::parse(text).unwrap_err();
            assert_eq!(err.code(), "bad_checkpoint", "{text:?}: {err}");
        }
        assert_ne!(noncanonical, root);
        // Unknown extensions, including ones that merely start like ours, are opaque.
        let cp = Checkpoint::parse(&format!("o\n5\n{root}\nsealbid-timex y\nother ext\n")).unwrap();
        assert_eq!(cp.extensions.len(), 2);
        assert_eq!(cp.time(), None);
    }

    #[test]
    fn check_catches_line_breaks() {
        let cp = Checkpoint::new("a\nb", 1, [0; 32]);
        assert_eq!(cp.check().unwrap_err().code(), "bad_checkpoint");
        let cp = Checkpoint::new(ORIGIN, 1, [0; 32]).with_closing("a\nb");
        assert!(cp.check().is_err());
        assert!(SignedCheckpoint::sign(cp, &log_key()).is_err());
        let cp = Checkpoint::new(ORIGIN, 1, [0; 32]).with_closing("a b");
        assert!(SignedCheckpoint::sign(cp, &log_key()).is_err());
    }

    #[test]
    fn sign_and_verify() {
        let key = log_key();
        let mut log = MemoryLog::new();
        for i in 0..10u32 {
            log.append(&i.to_be_bytes());
        }
        let cp = Checkpoint::with_time(ORIGIN, log.size(), log.root(), t0()).with_closing("T-1");
        let signed = SignedCheckpoint::sign(cp.clone(), &key).unwrap();
        assert!(signed.note.starts_with(&cp.to_text()));
        let verified = SignedCheckpoint::verify(&signed.note, &key.verifier()).unwrap();
        assert_eq!(verified, signed);
        signed.verify_with(&key.verifier()).unwrap();

        // Serde as the note string.
        let json = serde_json::to_string(&signed).unwrap();
        assert_eq!(json, serde_json::to_string(&signed.note).unwrap());
        let back: SignedCheckpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        assert!(serde_json::from_str::<SignedCheckpoint>("\"garbage\"").is_err());

        // Another key, even under the same name, is unknown.
        let other = NoteSigner::from_seed(ORIGIN, [0x22; 32]).unwrap();
        assert_eq!(
            SignedCheckpoint::verify(&signed.note, &other.verifier())
                .unwrap_err()
                .code(),
            "unknown_key"
        );
        assert!(signed.verify_with(&other.verifier()).is_err());

        // The signer must be the origin.
        let wrong = NoteSigner::from_seed("someone.else/log", [0x11; 32]).unwrap();
        assert_eq!(
            SignedCheckpoint::sign(cp.clone(), &wrong)
                .unwrap_err()
                .code(),
            "bad_checkpoint"
        );
        // A note signed by a key named differently from its origin does not verify as a checkpoint.
        let foreign = sign_note(&cp.to_text(), &[&wrong]).unwrap();
        assert_eq!(
            SignedCheckpoint::verify(&foreign, &wrong.verifier())
                .unwrap_err()
                .code(),
            "bad_checkpoint"
        );
        assert!(SignedCheckpoint::parse_unverified(&foreign).is_err());

        // Every single-byte change of the body fails.
        let body_len = cp.to_text().len();
        let bytes = signed.note.as_bytes();
        for i in 0..body_len {
            let mut changed = bytes.to_vec();
            changed[i] ^= 0x01;
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            assert!(
                SignedCheckpoint::verify(&changed, &key.verifier()).is_err(),
                "byte {i} changed"
            );
        }
        // And so does a changed signature byte.
        let mut sig_changed = signed.note.clone();
        let pos = sig_changed.len() - 10;
        let c = if &sig_changed[pos..pos + 1] == "A" {
            "B"
        } else {
            "A"
        };
        sig_changed.replace_range(pos..pos + 1, c);
        assert_eq!(
            SignedCheckpoint::verify(&sig_changed, &key.verifier())
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        // A tampered deserialized value is caught by verify_with.
        let mut tampered = signed.clone();
        tampered.checkpoint.size += 1;
        assert!(tampered.verify_with(&key.verifier()).is_err());
    }

    #[test]
    fn proofs_against_checkpoints() {
        let mut log = MemoryLog::new();
        for i in 0..20u32 {
            log.append(&i.to_be_bytes());
        }
        let old = Checkpoint::new(ORIGIN, 7, log.root_at(7).unwrap());
        let new = Checkpoint::new(ORIGIN, 20, log.root());
        let proof = log.consistency_proof(7, 20).unwrap();
        old.verify_consistency(&new, &proof).unwrap();
        assert!(new.verify_consistency(&old, &proof).is_err());
        let mut elsewhere = new.clone();
        elsewhere.origin = "other".into();
        assert_eq!(
            old.verify_consistency(&elsewhere, &proof)
                .unwrap_err()
                .code(),
            "bad_checkpoint"
        );
        let leaf = log.leaf(5).unwrap();
        new.verify_inclusion(&leaf, 5, &log.inclusion_proof(5, 20).unwrap())
            .unwrap();
        assert!(new
            .verify_inclusion(&leaf, 6, &log.inclusion_proof(5, 20).unwrap())
            .is_err());
        let empty = Checkpoint::new(ORIGIN, 0, empty_root());
        empty.verify_consistency(&new, &[]).unwrap();
    }
}
