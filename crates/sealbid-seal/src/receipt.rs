//! Receipts: proof that a log entry (a bid's signed manifest, a withdrawal) was in the log at a
//! signed checkpoint's time. A receipt is the exact entry, its index, its inclusion proof and the
//! signed checkpoint; anyone holding the log's verifier key checks it offline.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::LogEntryBody;
use crate::error::SealError;
use crate::merkle;
use crate::note::NoteVerifier;

fn bad(code: &'static str, message: impl Into<String>) -> SealError {
    SealError::Invalid {
        code,
        message: message.into(),
    }
}

/// Parses a list of lower-case hex hashes.
pub fn hashes_from_hex(list: &[String], what: &str) -> Result<Vec<merkle::Hash>, SealError> {
    list.iter()
        .enumerate()
        .map(|(i, h)| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(h, &mut out).map_err(|_| {
                bad(
                    "bad_proof",
                    format!("{what}[{i}] is not a 32-byte hex hash"),
                )
            })?;
            Ok(out)
        })
        .collect()
}

pub fn hashes_to_hex(list: &[merkle::Hash]) -> Vec<String> {
    list.iter().map(hex::encode).collect()
}

/// A receipt as the server answers it and the bidder keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub version: u32,
    /// The exact leaf data (a JSON `LogEntryBody`).
    pub entry: String,
    pub index: u64,
    /// Hex hashes, RFC 6962 audit path from the leaf to the checkpoint's root.
    pub proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note) whose tree includes the entry.
    pub checkpoint: String,
}

/// What a valid receipt proves.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedReceipt {
    pub body: LogEntryBody,
    pub checkpoint: Checkpoint,
    /// The checkpoint's time: the entry was logged no later than this.
    pub time: DateTime<Utc>,
}

impl Receipt {
    pub fn new(entry: String, index: u64, proof: &[merkle::Hash], checkpoint: String) -> Receipt {
        Receipt {
            version: 1,
            entry,
            index,
            proof: hashes_to_hex(proof),
            checkpoint,
        }
    }

    /// Checks the checkpoint's signature by `log_key`, the entry's inclusion under its root, and
    /// the entry's own signatures (manifest, withdrawal, policy).
    pub fn verify(&self, log_key: &NoteVerifier) -> Result<VerifiedReceipt, SealError> {
        if self.version != 1 {
            return Err(bad(
                "bad_receipt",
                format!("receipt version {} is not supported", self.version),
            ));
        }
        let signed = SignedCheckpoint::verify(&self.checkpoint, log_key).map_err(|e| {
            bad(
                "bad_checkpoint",
                format!("the receipt's checkpoint does not verify with the log key: {e}"),
            )
        })?;
        let cp = signed.checkpoint;
        let time = cp
            .time()
            .ok_or_else(|| bad("bad_checkpoint", "the checkpoint carries no time"))?;
        let proof = hashes_from_hex(&self.proof, "proof")?;
        let leaf = merkle::leaf_hash(self.entry.as_bytes());
        merkle::verify_inclusion(&leaf, self.index, cp.size, &proof, &cp.root).map_err(|e| {
            bad(
                "bad_proof",
                format!(
                    "entry {} is not included in the checkpoint's tree of {}: {e}",
                    self.index, cp.size
                ),
            )
        })?;
        let body = LogEntryBody::from_leaf(self.entry.as_bytes())?;
        match &body {
            LogEntryBody::Bid { manifest } => manifest.verify()?,
            LogEntryBody::Withdrawal { withdrawal } => withdrawal.verify()?,
            LogEntryBody::Policy { policy } => policy.verify()?,
            LogEntryBody::Opening { record } => record.verify()?,
            LogEntryBody::Deposit { .. }
            | LogEntryBody::Closing { .. }
            | LogEntryBody::EvaluationReport { .. } => {}
        }
        Ok(VerifiedReceipt {
            body,
            checkpoint: cp,
            time,
        })
    }

    /// Verifies the receipt and that it is for a bid or withdrawal logged no later than
    /// `deadline`.
    pub fn verify_before(
        &self,
        log_key: &NoteVerifier,
        deadline: DateTime<Utc>,
    ) -> Result<VerifiedReceipt, SealError> {
        let v = self.verify(log_key)?;
        if v.time > deadline {
            return Err(bad(
                "late_receipt",
                format!(
                    "the checkpoint's time {} is after the deadline {}",
                    v.time, deadline
                ),
            ));
        }
        Ok(v)
    }
}
