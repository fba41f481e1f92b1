//! The bidder's signed manifest (what was sealed) and withdrawal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SealError};
use crate::signed::{Signable, Signed};
use crate::threshold::EnvelopeKind;

/// Current manifest and withdrawal format version.
pub const MANIFEST_VERSION: u32 = 1;

/// One sealed envelope: its kind and the SHA-256 and size of its ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeEntry {
    /// Which envelope.
    pub kind: EnvelopeKind,
    /// SHA-256 of the ciphertext, 64 lower-case hex digits.
    pub sha256: String,
    /// Ciphertext size in bytes.
    pub size: u64,
}

/// What a bidder sealed for a tender, signed with the bidder's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version, [`MANIFEST_VERSION`].
    pub version: u32,
    /// Tender identifier.
    pub tender: String,
    /// Bidder identifier.
    pub bidder: String,
    /// Hex SHA-256 of the sealing policy's signing bytes ([`crate::policy::SealingPolicy::hash_hex`]).
    pub policy_hash: String,
    /// The bid's random deposit reference (virtual sub-account).
    pub deposit_reference: String,
    /// The envelopes, one price envelope and at most one of each other kind.
    pub envelopes: Vec<EnvelopeEntry>,
    /// When the client sealed the bid (the bidder's claim; the receipt's checkpoint is the proof).
    pub sealed_at: DateTime<Utc>,
}

impl Signable for Manifest {
    const CONTEXT: &'static str = "sealbid.org/manifest/v1";
}

/// A manifest signed by the bidder.
pub type SignedManifest = Signed<Manifest>;

fn bad(message: String) -> SealError {
    SealError::BadManifest(message)
}

/// Checks a 64-digit lower-case hex SHA-256.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

fn check_id(value: &str, what: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(bad(format!("the {what} is empty")));
    }
    if value.trim() != value || value.chars().any(char::is_control) {
        return Err(bad(format!(
            "the {what} `{}` has surrounding spaces or control characters",
            value.escape_debug()
        )));
    }
    Ok(())
}

impl Manifest {
    /// Checks the version, non-empty identifiers, hex lengths, and the envelope set: exactly one
    /// price envelope, at most one technical and at most one deposit-payer envelope, none empty.
    pub fn validate(&self) -> Result<()> {
        if self.version != MANIFEST_VERSION {
            return Err(bad(format!(
                "manifest version {} is not supported (expected {MANIFEST_VERSION}); update the \
                 Sealbid client",
                self.version
            )));
        }
        check_id(&self.tender, "tender id")?;
        check_id(&self.bidder, "bidder id")?;
        check_id(&self.deposit_reference, "deposit reference")?;
        if !is_sha256_hex(&self.policy_hash) {
            return Err(bad(format!(
                "policy_hash `{}` is not 64 lower-case hex digits; fetch the tender's sealing \
                 policy again",
                self.policy_hash
            )));
        }
        for kind in EnvelopeKind::ALL {
            let count = self.envelopes.iter().filter(|e| e.kind == kind).count();
            match (kind, count) {
                (EnvelopeKind::Price, 0) => {
                    return Err(bad(
                        "the manifest lists no price envelope; every bid needs exactly one".into(),
                    ))
                }
                (_, 0 | 1) => {}
                (_, n) => {
                    return Err(bad(format!(
                        "the manifest lists {n} {kind} envelopes; at most one is allowed"
                    )))
                }
            }
        }
        for e in &self.envelopes {
            if !is_sha256_hex(&e.sha256) {
                return Err(bad(format!(
                    "the {} envelope's sha256 `{}` is not 64 lower-case hex digits",
                    e.kind, e.sha256
                )));
            }
            if e.size == 0 {
                return Err(bad(format!(
                    "the {} envelope has size 0; an age file is never empty — seal it again",
                    e.kind
                )));
            }
        }
        Ok(())
    }

    /// The envelope of `kind`, if listed.
    pub fn envelope(&self, kind: EnvelopeKind) -> Option<&EnvelopeEntry> {
        self.envelopes.iter().find(|e| e.kind == kind)
    }
}

/// A bidder's withdrawal of a previously logged manifest (before the deadline). Nothing is deleted:
/// the withdrawal is a new log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Format version, [`MANIFEST_VERSION`].
    pub version: u32,
    /// Tender identifier.
    pub tender: String,
    /// Bidder identifier.
    pub bidder: String,
    /// Hex digest of the withdrawn [`SignedManifest`] ([`Signed::digest_hex`]).
    pub withdrawn_manifest: String,
    /// When the bidder withdrew (the bidder's claim).
    pub at: DateTime<Utc>,
}

impl Signable for Withdrawal {
    const CONTEXT: &'static str = "sealbid.org/withdrawal/v1";
}

/// A withdrawal signed by the bidder.
pub type SignedWithdrawal = Signed<Withdrawal>;

impl Withdrawal {
    /// Checks the version, identifiers and digest format.
    pub fn validate(&self) -> Result<()> {
        if self.version != MANIFEST_VERSION {
            return Err(bad(format!(
                "withdrawal version {} is not supported (expected {MANIFEST_VERSION})",
                self.version
            )));
        }
        check_id(&self.tender, "tender id")?;
        check_id(&self.bidder, "bidder id")?;
        if !is_sha256_hex(&self.withdrawn_manifest) {
            return Err(bad(format!(
                "withdrawn_manifest `{}` is not 64 lower-case hex digits; give the digest of the \
                 signed manifest from its receipt",
                self.withdrawn_manifest
            )));
        }
        Ok(())
    }

    /// Whether this withdrawal names `manifest` (same tender and bidder, matching digest).
    pub fn withdraws(&self, manifest: &SignedManifest) -> Result<bool> {
        Ok(self.tender == manifest.body.tender
            && self.bidder == manifest.body.bidder
            && self.withdrawn_manifest == manifest.digest_hex()?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use chrono::TimeZone;

    fn entry(kind: EnvelopeKind) -> EnvelopeEntry {
        EnvelopeEntry {
            kind,
            sha256: "ab".repeat(32),
            size: 1234,
        }
    }

    fn manifest() -> Manifest {
        Manifest {
            version: 1,
            tender: "T-2025-001".into(),
            bidder: "91110000600037341L".into(),
            policy_hash: "0f".repeat(32),
            deposit_reference: "DR-8F3K2".into(),
            envelopes: vec![entry(EnvelopeKind::Price), entry(EnvelopeKind::Technical)],
            sealed_at: Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn valid_manifest_signs_and_verifies() {
        let m = manifest();
        m.validate().unwrap();
        assert_eq!(m.envelope(EnvelopeKind::Technical).unwrap().size, 1234);
        assert!(m.envelope(EnvelopeKind::DepositPayer).is_none());
        let key = SigningKey::from_seed([1; 32]);
        let signed = SignedManifest::sign(m.clone(), &key).unwrap();
        signed.verify().unwrap();
        let back = SignedManifest::from_json_bytes(&signed.to_json_bytes().unwrap()).unwrap();
        back.verify().unwrap();
        assert!(signed
            .signing_bytes()
            .unwrap()
            .starts_with(b"sealbid.org/manifest/v1\n{\"version\":1,"));

        // Any field change breaks the signature.
        let mut s = signed.clone();
        s.body.envelopes[0].size += 1;
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");
        let mut s = signed.clone();
        s.body.policy_hash = "1f".repeat(32);
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");
    }

    #[test]
    fn manifest_validation_errors() {
        let check = |f: &dyn Fn(&mut Manifest), needle: &str| {
            let mut m = manifest();
            f(&mut m);
            let err = m.validate().unwrap_err();
            assert_eq!(err.code(), "bad_manifest");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        };
        check(&|m| m.version = 2, "version 2");
        check(&|m| m.tender = String::new(), "tender id is empty");
        check(&|m| m.bidder = " B".into(), "surrounding spaces");
        check(
            &|m| m.deposit_reference = String::new(),
            "deposit reference",
        );
        check(&|m| m.policy_hash = "AB".repeat(32), "policy_hash");
        check(&|m| m.policy_hash = "ab".into(), "policy_hash");
        check(
            &|m| {
                m.envelopes.remove(0);
            },
            "no price envelope",
        );
        check(
            &|m| m.envelopes.push(entry(EnvelopeKind::Price)),
            "2 price envelopes",
        );
        check(
            &|m| m.envelopes.push(entry(EnvelopeKind::Technical)),
            "2 technical envelopes",
        );
        check(
            &|m| {
                m.envelopes.push(entry(EnvelopeKind::DepositPayer));
                m.envelopes.push(entry(EnvelopeKind::DepositPayer));
            },
            "2 deposit_payer envelopes",
        );
        check(
            &|m| m.envelopes[1].sha256.push('a'),
            "technical envelope's sha256",
        );
        check(&|m| m.envelopes[0].size = 0, "size 0");

        let mut m = manifest();
        m.envelopes.push(entry(EnvelopeKind::DepositPayer));
        m.validate().unwrap();
    }

    #[test]
    fn withdrawal_names_the_manifest() {
        let key = SigningKey::from_seed([2; 32]);
        let signed = SignedManifest::sign(manifest(), &key).unwrap();
        let w = Withdrawal {
            version: 1,
            tender: signed.body.tender.clone(),
            bidder: signed.body.bidder.clone(),
            withdrawn_manifest: signed.digest_hex().unwrap(),
            at: Utc.with_ymd_and_hms(2025, 3, 2, 8, 0, 0).unwrap(),
        };
        w.validate().unwrap();
        assert!(w.withdraws(&signed).unwrap());
        let sw = SignedWithdrawal::sign(w.clone(), &key).unwrap();
        sw.verify().unwrap();

        let mut other = manifest();
        other.deposit_reference = "DR-OTHER".into();
        let other = SignedManifest::sign(other, &key).unwrap();
        assert!(!w.withdraws(&other).unwrap());

        let mut bad = w.clone();
        bad.withdrawn_manifest = "xyz".into();
        assert_eq!(bad.validate().unwrap_err().code(), "bad_manifest");
    }
}
