//! What the transparency log records: one JSON document per leaf. The leaf data is exactly
//! `serde_json::to_vec(&LogEntryBody)`; the bodies hold signed documents whose own signatures
//! cover their canonical encoding, so re-encoding a parsed entry gives the same bytes.
use serde::{Deserialize, Serialize};

use crate::error::SealError;
use crate::manifest::{Manifest, Withdrawal};
use crate::opening::OpeningRecord;
use crate::policy::SealingPolicy;
use crate::signed::Signed;

/// A deposit as logged when the bank reports it: the reference and the amount, and the hash of
/// the envelope that holds the payer's details sealed to the committee. Nothing identifies the
/// payer before the opening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositEntry {
    pub tender: String,
    pub reference: String,
    /// Decimal string.
    pub amount: String,
    /// Hex SHA-256 of the deposit-payer envelope.
    pub envelope_sha256: String,
    pub envelope_size: u64,
    /// Hex SHA-256 of the bank's transaction id (the id itself is not published).
    pub bank_txn_hash: String,
}

/// The closing of a tender at its deadline: the set of bids (signed-manifest digests) and deposit
/// envelopes that count. Its checkpoint is the tender's closing checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosingEntry {
    pub tender: String,
    pub deadline: chrono::DateTime<chrono::Utc>,
    /// Hex digests of the active signed manifests, in log order.
    pub bids: Vec<String>,
    /// Hex SHA-256 of the deposit-payer envelopes received, in order.
    pub deposits: Vec<String>,
}

/// One log leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LogEntryBody {
    /// A tender's sealing policy, logged at publication.
    Policy {
        policy: Signed<SealingPolicy>,
    },
    /// A sealed bid's signed manifest.
    Bid {
        manifest: Signed<Manifest>,
    },
    /// A bidder's signed withdrawal.
    Withdrawal {
        withdrawal: Signed<Withdrawal>,
    },
    Deposit {
        deposit: DepositEntry,
    },
    Closing {
        closing: ClosingEntry,
    },
    /// The signed opening record.
    Opening {
        record: Signed<OpeningRecord>,
    },
    /// The evaluation report's commitment: the hex SHA-256 of the platform-signed report with
    /// every member's signature (`Signed<SignedReport>::digest_hex`). The document itself, with
    /// the members' names and scores, is published with the result; anyone can then check it
    /// against this entry ([`crate::report::log_entry`]).
    EvaluationReport {
        tender: String,
        report_sha256: String,
        members: u32,
    },
}

impl LogEntryBody {
    /// The leaf data.
    pub fn to_leaf(&self) -> Result<Vec<u8>, SealError> {
        serde_json::to_vec(self).map_err(|e| SealError::Invalid {
            code: "json",
            message: format!("cannot encode the log entry: {e}"),
        })
    }

    /// Parses leaf data, requiring it to be exactly the canonical encoding.
    pub fn from_leaf(data: &[u8]) -> Result<LogEntryBody, SealError> {
        let body: LogEntryBody = serde_json::from_slice(data).map_err(|e| SealError::Invalid {
            code: "bad_entry",
            message: format!("the log entry is not a Sealbid entry: {e}"),
        })?;
        if body.to_leaf()? != data {
            return Err(SealError::Invalid {
                code: "bad_entry",
                message: "the log entry is not in canonical form".into(),
            });
        }
        Ok(body)
    }

    /// `policy`, `bid`, …
    pub fn kind(&self) -> &'static str {
        match self {
            LogEntryBody::Policy { .. } => "policy",
            LogEntryBody::Bid { .. } => "bid",
            LogEntryBody::Withdrawal { .. } => "withdrawal",
            LogEntryBody::Deposit { .. } => "deposit",
            LogEntryBody::Closing { .. } => "closing",
            LogEntryBody::Opening { .. } => "opening",
            LogEntryBody::EvaluationReport { .. } => "evaluation_report",
        }
    }
}
