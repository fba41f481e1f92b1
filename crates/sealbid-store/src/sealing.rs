//! What the store keeps about sealed bids: each tender's committee and sealing lifecycle, the bids
//! (signed manifests and where their ciphertexts are), the append-only Merkle log, deposits and the
//! opening ceremony's commitments and reveals. No plaintext bid and no deposit payer's details are
//! ever among them: those exist only inside age envelopes in the blob store.
use chrono::{DateTime, Utc};
use sealbid_domain::tender::Tender;
use sealbid_domain::{BidId, OrgId, TenderId, UserId};
use sealbid_seal::note::NoteSigner;
use serde::{Deserialize, Serialize};

/// One seat of a tender's opening committee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteeSeat {
    /// 1-based; the share index of this seat in every envelope.
    pub index: u8,
    pub name: String,
    /// e.g. tenderee, supervisor, notary, platform.
    pub role: String,
    /// The account that holds this seat (none for the platform's own seat).
    pub user_id: Option<UserId>,
    /// The platform's seat: its identity is the server's. At most one per committee.
    pub platform: bool,
    /// The member's X25519 age recipient (`age1…`), once registered.
    pub recipient: Option<String>,
}

/// The closing of a tender: the log entry listing the bids that count, and its checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    pub at: DateTime<Utc>,
    pub log_index: u64,
    /// The signed checkpoint (C2SP signed note) of the log just after the closing entry.
    pub checkpoint: String,
    /// How many bids were sealed and active at the deadline.
    pub bids: u32,
}

/// The signed opening record and where it is in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opened {
    pub at: DateTime<Utc>,
    pub log_index: u64,
    pub checkpoint: String,
    /// The signed opening record, as logged.
    pub record: String,
}

/// A tender's sealing lifecycle, kept as one document with a version for optimistic updates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderSealing {
    pub tender_id: TenderId,
    /// Bumped by every write; `put` checks the stored one.
    pub version: i64,
    pub threshold: u8,
    pub seats: Vec<CommitteeSeat>,
    /// The signed sealing policy as logged at publication, and its log index.
    pub policy: Option<String>,
    pub policy_index: Option<u64>,
    pub closing: Option<Closing>,
    pub opened: Option<Opened>,
}

/// Where a bid stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidStatus {
    /// The bidder's current bid.
    Active,
    /// Superseded by a later bid of the same bidder before the deadline.
    Replaced,
    /// Withdrawn by the bidder before the deadline.
    Withdrawn,
}

impl BidStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            BidStatus::Active => "active",
            BidStatus::Replaced => "replaced",
            BidStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<BidStatus> {
        match s {
            "active" => Some(BidStatus::Active),
            "replaced" => Some(BidStatus::Replaced),
            "withdrawn" => Some(BidStatus::Withdrawn),
            _ => None,
        }
    }
}

/// A ciphertext in the blob store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredEnvelope {
    /// `price`, `technical` or `deposit_payer`.
    pub kind: String,
    /// Lower-case hex SHA-256 of the ciphertext.
    pub sha256: String,
    pub size: u64,
    pub blob_key: String,
}

/// A withdrawal, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidWithdrawal {
    pub at: DateTime<Utc>,
    /// The signed withdrawal as the bidder sent it.
    pub signed: String,
    pub log_index: u64,
    pub checkpoint: String,
}

/// One sealed bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bid {
    pub id: BidId,
    pub tender_id: TenderId,
    pub bidder_org: OrgId,
    pub submitted_by: UserId,
    pub status: BidStatus,
    pub submitted_at: DateTime<Utc>,
    /// The signed manifest exactly as the bidder sent it.
    pub manifest: String,
    /// Lower-case hex SHA-256 digest of the signed manifest (`Signed::digest`).
    pub manifest_digest: String,
    pub envelopes: Vec<StoredEnvelope>,
    /// Set by the store from the log append that records the bid.
    pub log_index: u64,
    /// The signed checkpoint that includes the bid (set by the store with `log_index`).
    pub checkpoint: String,
    pub withdrawal: Option<BidWithdrawal>,
    pub replaced_by: Option<BidId>,
    /// Where the bid was uploaded from, as the server saw it (the anomaly engine compares bidders'
    /// upload sources after the opening, 条例 40(2)). Absent on bids stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadSource>,
}

/// The network address and the bid-preparation client's device id a bid came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSource {
    /// The client's IP address, as the server's connection saw it.
    pub ip: Option<String>,
    /// The `X-Sealbid-Device` header the bid-preparation client sends (a digest of the machine's id).
    pub device: Option<String>,
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    pub tender_id: TenderId,
    /// `policy`, `bid`, `withdrawal`, `closing` or `opening`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub leaf_hash: [u8; 32],
    /// The exact leaf data.
    pub entry: String,
}

/// An entry to append to the log, with what the store needs to sign the new checkpoint.
pub struct LogAppend<'a> {
    pub tender_id: TenderId,
    pub kind: &'a str,
    /// The leaf data (UTF-8 JSON, kept byte for byte).
    pub entry: String,
    pub at: DateTime<Utc>,
    /// The log's signing key; its name is the checkpoint origin.
    pub signer: &'a NoteSigner,
    /// Marks the checkpoint as this tender's closing checkpoint.
    pub closing: bool,
}

/// What an append produced: the entry's index, the new size, the inclusion proof of the entry in
/// the new tree, and the signed checkpoint of that tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub index: u64,
    pub size: u64,
    pub proof: Vec<[u8; 32]>,
    pub checkpoint: String,
}

/// A change to a bid made together with a log append.
pub enum BidChange<'a> {
    /// A new bid; an active bid of the same bidder and tender becomes `replaced`. The store sets
    /// `log_index` and `checkpoint` from the append.
    Submit(&'a Bid),
    /// The bid is withdrawn; the store fills the withdrawal's `log_index` and `checkpoint`.
    Withdraw {
        bid: BidId,
        signed: String,
        at: DateTime<Utc>,
    },
}

/// One transactional write of the sealing flow: any of a tender update, a sealing document, a bid
/// change and a log append, with its audit record. Everything commits or nothing does.
///
/// When the write carries both a sealing document and a log append, the store records where the
/// entry landed in the document before writing it: a `policy` entry sets `policy_index`, a
/// `closing` entry sets `closing.log_index` and `closing.checkpoint`, an `opening` entry sets
/// `opened.log_index` and `opened.checkpoint` (the caller leaves them empty).
pub struct SealWrite<'a> {
    /// The tender and the version the caller read.
    pub tender: Option<(&'a Tender, i64)>,
    /// The sealing document and the version the caller read (0: create it).
    pub sealing: Option<(&'a TenderSealing, i64)>,
    pub bid: Option<BidChange<'a>>,
    pub log: Option<LogAppend<'a>>,
    pub audit: &'a sealbid_domain::audit::AuditEvent,
}

/// A bid's deposit reference (a virtual sub-account number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepositRef {
    pub reference: String,
    pub tender_id: TenderId,
    pub bidder_org: OrgId,
    pub created_at: DateTime<Utc>,
}

/// "Reference R paid amount A". The payer's details are only inside `envelope`, sealed to the
/// tender's committee on arrival.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositPayment {
    pub bank_txn_id: String,
    pub reference: String,
    pub tender_id: TenderId,
    /// Decimal string, e.g. `20000.00`.
    pub amount: String,
    pub received_at: DateTime<Utc>,
    pub envelope: StoredEnvelope,
}

/// A committee member's commitment or reveal at the opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningAction {
    pub tender_id: TenderId,
    pub member_index: u8,
    /// `commit` or `reveal`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The JSON document the member sent.
    pub doc: String,
}
