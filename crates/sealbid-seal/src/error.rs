//! The crate's error type.
//!
//! Every error carries a stable snake_case [`SealError::code`] for API bodies and logs, and a message
//! that says what is wrong and what to do about it. Modules that need a code not listed here use
//! [`SealError::Invalid`] (or [`SealError::invalid`]) instead of adding a variant.

use std::io;

/// Errors from sealing, opening, keys, signatures and the documents around them.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A key (age identity or recipient, signing or verifying key) could not be parsed or is unusable.
    #[error("invalid key: {0}")]
    BadKey(String),
    /// A signature is malformed or does not verify.
    #[error("signature check failed: {0}")]
    BadSignature(String),
    /// An age header could not be parsed.
    #[error("malformed age header: {0}")]
    BadHeader(String),
    /// An age header parsed but does not have the shape the sealing policy requires.
    #[error("envelope structure does not match the committee: {0}")]
    BadStructure(String),
    /// A revealed share key does not open the share stanza it claims to open.
    #[error("share key mismatch: {0}")]
    ShareMismatch(String),
    /// The same member index was supplied twice.
    #[error(
        "share key for member {index} was supplied twice; give each member's share key exactly once"
    )]
    DuplicateShare {
        /// The member index (1-based) seen twice.
        index: u8,
    },
    /// An identity opens none of the envelope's share stanzas.
    #[error("no share for this identity: {0}")]
    NoMatchingShare(String),
    /// Fewer valid share keys than the threshold.
    #[error(
        "not enough shares: {valid} valid share key(s) supplied, {needed} needed; collect share keys \
         from at least {needed} committee members"
    )]
    NotEnoughShares {
        /// How many valid share keys were supplied.
        valid: usize,
        /// The threshold.
        needed: u8,
    },
    /// Decryption failed: wrong file key, header MAC mismatch, or a tampered or truncated payload.
    #[error("decryption failed: {0}")]
    DecryptFailed(String),
    /// A decrypted (or to-be-sealed) payload is invalid.
    #[error("invalid payload: {0}")]
    BadPayload(String),
    /// A manifest or withdrawal is invalid.
    #[error("invalid manifest: {0}")]
    BadManifest(String),
    /// A sealing policy or committee is invalid.
    #[error("invalid sealing policy: {0}")]
    BadPolicy(String),
    /// Reading or writing a stream failed.
    #[error(
        "I/O error while {context}: {source}; check the file, its permissions and free disk space"
    )]
    Io {
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A JSON document is malformed or has unknown or missing fields.
    #[error(
        "invalid JSON document: {0}; the document is malformed, truncated or from an incompatible \
         Sealbid version"
    )]
    Json(#[from] serde_json::Error),
    /// Any other error, with its own stable code (for modules that add codes without editing this file).
    #[error("{message}")]
    Invalid {
        /// Stable snake_case code.
        code: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
}

impl SealError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadKey(_) => "bad_key",
            Self::BadSignature(_) => "bad_signature",
            Self::BadHeader(_) => "bad_header",
            Self::BadStructure(_) => "bad_structure",
            Self::ShareMismatch(_) => "share_mismatch",
            Self::DuplicateShare { .. } => "duplicate_share",
            Self::NoMatchingShare(_) => "no_matching_share",
            Self::NotEnoughShares { .. } => "not_enough_shares",
            Self::DecryptFailed(_) => "decrypt_failed",
            Self::BadPayload(_) => "bad_payload",
            Self::BadManifest(_) => "bad_manifest",
            Self::BadPolicy(_) => "bad_policy",
            Self::Io { .. } => "io",
            Self::Json(_) => "json",
            Self::Invalid { code, .. } => code,
        }
    }

    /// An error with a code of the caller's choosing.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: &'static str, source: io::Error) -> Self {
        Self::Io { context, source }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = SealError> = std::result::Result<T, E>;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let errors = [
            SealError::BadKey("x".into()),
            SealError::NotEnoughShares {
                valid: 2,
                needed: 3,
            },
            SealError::io("reading", io::Error::other("boom")),
            SealError::invalid("custom_code", "custom message"),
        ];
        let codes: Vec<_> = errors.iter().map(SealError::code).collect();
        assert_eq!(codes, ["bad_key", "not_enough_shares", "io", "custom_code"]);
        assert_eq!(
            errors[1].to_string(),
            "not enough shares: 2 valid share key(s) supplied, 3 needed; collect share keys from at \
             least 3 committee members"
        );
        assert_eq!(errors[3].to_string(), "custom message");
    }
}
