//! Signed JSON documents (manifests, withdrawals, sealing policies, …).
//!
//! A [`Signed<T>`] serializes as `{"body":…,"key":…,"signature":…}`. The signature is Ed25519 over the
//! *signing bytes*:
//!
//! ```text
//! T::CONTEXT ‖ "\n" ‖ serde_json::to_vec(&body)
//! ```
//!
//! The context string separates document types, so a signature on one kind of document can never be
//! passed off as a signature on another. The JSON is canonical because it is produced by serde from
//! a Rust struct: field order is the declaration order, strings are escaped the one way serde_json
//! escapes them, and numbers are integers or decimal strings. To keep that true, **bodies must not
//! contain maps with unordered keys (`HashMap`) or floating-point numbers**, and should use
//! `#[serde(deny_unknown_fields)]` so that what was verified is exactly what was parsed. Verification
//! re-serializes the parsed body, so a document whose JSON was re-formatted by hand (different
//! timestamp notation, key order, …) no longer verifies.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::keys::{Signature, SigningKey, VerifyingKey};

/// A document type that can be signed.
pub trait Signable: Serialize + DeserializeOwned {
    /// Domain-separation string, e.g. `sealbid.org/manifest/v1`. Must not contain a newline.
    const CONTEXT: &'static str;
}

/// A body together with the key that signed it and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned")
)]
pub struct Signed<T> {
    /// The signed document.
    pub body: T,
    /// The signer's public key.
    pub key: VerifyingKey,
    /// Ed25519 signature over the signing bytes.
    pub signature: Signature,
}

/// The bytes a signature covers for `body` (see the module documentation).
pub fn signing_bytes<T: Signable>(body: &T) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(T::CONTEXT.len() + 256);
    bytes.extend_from_slice(T::CONTEXT.as_bytes());
    bytes.push(b'\n');
    serde_json::to_writer(&mut bytes, body)?;
    Ok(bytes)
}

impl<T: Signable> Signed<T> {
    /// Signs `body` with `key`.
    pub fn sign(body: T, key: &SigningKey) -> Result<Self> {
        let bytes = signing_bytes(&body)?;
        let signature = key.sign(&bytes);
        Ok(Self {
            body,
            key: key.verifying_key(),
            signature,
        })
    }

    /// Checks the signature against the embedded key. Whether that key is *allowed* to sign this
    /// document (the bidder's registered key, the platform's key, …) is the caller's decision.
    pub fn verify(&self) -> Result<()> {
        let bytes = signing_bytes(&self.body)?;
        self.key.verify(&bytes, &self.signature)
    }

    /// The signing bytes of the body.
    pub fn signing_bytes(&self) -> Result<Vec<u8>> {
        signing_bytes(&self.body)
    }

    /// SHA-256 of the signing bytes: the document's identity (it does not cover the signature, so
    /// it is the same whoever verifies it; Ed25519 signatures are deterministic anyway).
    pub fn digest(&self) -> Result<[u8; 32]> {
        Ok(Sha256::digest(signing_bytes(&self.body)?).into())
    }

    /// [`Signed::digest`] as lower-case hex.
    pub fn digest_hex(&self) -> Result<String> {
        Ok(hex::encode(self.digest()?))
    }

    /// The document as JSON bytes (compact).
    pub fn to_json_bytes(&self) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Parses a document (unknown fields are rejected). Does **not** verify the signature; call
    /// [`Signed::verify`].
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Note {
        title: String,
        count: u32,
        at: DateTime<Utc>,
    }

    impl Signable for Note {
        const CONTEXT: &'static str = "sealbid.org/test-note/v1";
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OtherNote {
        title: String,
        count: u32,
        at: DateTime<Utc>,
    }

    impl Signable for OtherNote {
        const CONTEXT: &'static str = "sealbid.org/other-note/v1";
    }

    fn note() -> Note {
        Note {
            title: "标书 \"A\"".into(),
            count: 3,
            at: Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap(),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_seed([9; 32])
    }

    #[test]
    fn sign_verify_and_json_round_trip() {
        let signed = Signed::sign(note(), &key()).unwrap();
        signed.verify().unwrap();
        let json = signed.to_json_bytes().unwrap();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.starts_with("{\"body\":{\"title\":"), "{text}");
        let back = Signed::<Note>::from_json_bytes(&json).unwrap();
        back.verify().unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.digest().unwrap(), signed.digest().unwrap());
        let mut expected = b"sealbid.org/test-note/v1\n".to_vec();
        expected.extend(serde_json::to_vec(&note()).unwrap());
        assert_eq!(signed.signing_bytes().unwrap(), expected);
        assert_eq!(
            signed.digest().unwrap(),
            <[u8; 32]>::from(Sha256::digest(&expected))
        );
        assert_eq!(signed.digest_hex().unwrap().len(), 64);
    }

    #[test]
    fn any_change_breaks_verification() {
        let signed = Signed::sign(note(), &key()).unwrap();

        let mut s = signed.clone();
        s.body.title.push('!');
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");

        let mut s = signed.clone();
        s.body.count += 1;
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");

        let mut s = signed.clone();
        s.body.at += chrono::Duration::seconds(1);
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");

        let mut s = signed.clone();
        s.key = SigningKey::from_seed([10; 32]).verifying_key();
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");

        let mut s = signed.clone();
        let mut sig = *s.signature.as_bytes();
        sig[5] ^= 1;
        s.signature = Signature::from_bytes(sig);
        assert_eq!(s.verify().unwrap_err().code(), "bad_signature");

        // Same key, same JSON, different document type: the context separates them.
        let other = Signed {
            body: OtherNote {
                title: signed.body.title.clone(),
                count: signed.body.count,
                at: signed.body.at,
            },
            key: signed.key,
            signature: signed.signature,
        };
        assert_eq!(other.verify().unwrap_err().code(), "bad_signature");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let signed = Signed::sign(note(), &key()).unwrap();
        let mut value: serde_json::Value =
            serde_json::from_slice(&signed.to_json_bytes().unwrap()).unwrap();
        value["extra"] = serde_json::json!(1);
        let err =
            Signed::<Note>::from_json_bytes(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert_eq!(err.code(), "json");

        let mut value: serde_json::Value =
            serde_json::from_slice(&signed.to_json_bytes().unwrap()).unwrap();
        value["body"]["extra"] = serde_json::json!("x");
        let err =
            Signed::<Note>::from_json_bytes(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert_eq!(err.code(), "json");
    }
}
