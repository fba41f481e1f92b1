//! The opening record and its offline verifier.
//!
//! The record lists, for each bid in the tender's closing entry, its log entry and inclusion proof
//! under the closing checkpoint, its envelopes' hashes, the recovered file keys of the public
//! envelopes (price and deposit payer; the technical envelope's key is kept for the evaluators and
//! only committed to by hash), the price and the deposit check — or why the bid is invalid. The
//! platform signs it and logs it. [`verify_opening`] re-checks everything from the record, the
//! log's verifier key and the ciphertexts, and names the first thing that does not hold.
use std::io::Read;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::SignedCheckpoint;
use crate::entry::{ClosingEntry, LogEntryBody};
use crate::envelope::{open_envelope, HashingReader};
use crate::error::SealError;
use crate::merkle;
use crate::note::NoteVerifier;
use crate::payload::{DepositPayerPayload, PricePayload};
use crate::receipt::hashes_from_hex;
use crate::signed::{Signable, Signed};
use crate::threshold::EnvelopeKind;

/// One envelope as opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedEnvelope {
    pub kind: EnvelopeKind,
    /// Hex SHA-256 and size of the ciphertext, as in the manifest.
    pub sha256: String,
    pub size: u64,
    /// The recovered file key (hex) of a public envelope.
    pub file_key: Option<String>,
    /// Hex SHA-256 of the file key of an envelope whose key is not published (technical).
    pub file_key_sha256: Option<String>,
}

/// Whether the bid opened and stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum BidOutcome {
    Valid,
    /// Recorded as invalid: a stable code and the reason.
    Invalid {
        code: String,
        reason: String,
    },
}

/// What the record says of an opened price envelope: its total and a digest of the whole price
/// document, so the record stays small however long the bill of quantities is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedPrice {
    pub currency: String,
    pub total: Decimal,
    /// Bill-of-quantities lines in the price document.
    pub lines: u64,
    /// Hex SHA-256 of the decrypted price document.
    pub plaintext_sha256: String,
}

impl OpenedPrice {
    pub fn of(price: &PricePayload, plaintext: &[u8]) -> OpenedPrice {
        OpenedPrice {
            currency: price.currency.clone(),
            total: price.total,
            lines: price.lines.len() as u64,
            plaintext_sha256: hex::encode(Sha256::digest(plaintext)),
        }
    }
}

/// The deposit check of one bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositCheck {
    pub reference: String,
    /// Total paid to the reference (decimal string), from the opened payer envelopes.
    pub paid: String,
    pub sufficient: bool,
    /// The bank's payer envelopes for this reference, with their keys, and what they say.
    pub envelopes: Vec<OpenedEnvelope>,
    pub payers: Vec<DepositPayerPayload>,
}

/// One bid of the closing entry, as opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedBid {
    /// The bidder's id (organisation) and name.
    pub bidder: String,
    pub bidder_name: String,
    pub log_index: u64,
    /// The exact log entry (a `bid` entry holding the signed manifest).
    pub entry: String,
    /// Inclusion proof of the entry under the closing checkpoint.
    pub proof: Vec<String>,
    /// Hex digest of the signed manifest (as listed in the closing entry).
    pub manifest_digest: String,
    pub envelopes: Vec<OpenedEnvelope>,
    /// The opened price (valid bids): the total, not the bill of quantities, which anyone can
    /// read by decrypting the envelope with its published key.
    pub price: Option<OpenedPrice>,
    pub deposit: DepositCheck,
    pub outcome: BidOutcome,
}

/// The opening record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningRecord {
    pub version: u32,
    pub tender: String,
    pub tender_code: String,
    pub opening_time: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub threshold: u8,
    /// The committee seats whose reveals were used.
    pub revealed_by: Vec<u8>,
    /// The required deposit (decimal string).
    pub deposit_required: String,
    /// The closing entry, its index, its inclusion proof and the closing checkpoint.
    pub closing_index: u64,
    pub closing_entry: String,
    pub closing_proof: Vec<String>,
    pub closing_checkpoint: String,
    pub bids: Vec<OpenedBid>,
}

impl Signable for OpeningRecord {
    const CONTEXT: &'static str = "sealbid.org/opening-record/v1";
}

pub type SignedOpeningRecord = Signed<OpeningRecord>;

/// Where verification failed and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OpeningError {
    /// e.g. `bids[2].envelopes[price]`.
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

fn fail(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> OpeningError {
    OpeningError {
        path: path.into(),
        code,
        message: message.into(),
    }
}

fn from_seal(path: impl Into<String>) -> impl FnOnce(SealError) -> OpeningError {
    let path = path.into();
    move |e| OpeningError {
        path,
        code: e.code(),
        message: e.to_string(),
    }
}

/// What a successful verification checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpeningReport {
    pub bids: usize,
    pub valid: usize,
    pub invalid: usize,
    pub envelopes_decrypted: usize,
    /// Envelopes whose ciphertext the fetcher did not have (not checked).
    pub envelopes_missing: Vec<String>,
}

/// Supplies a ciphertext by its hex SHA-256 (`None`: not available).
pub type Fetch<'a> = dyn FnMut(&str) -> Result<Option<Box<dyn Read>>, SealError> + 'a;

/// Decrypts one envelope with its published key, checking the ciphertext's hash and size on the
/// way; returns the plaintext (envelopes with a published key are small: price and payer).
fn decrypt_checked(
    path: &str,
    env: &OpenedEnvelope,
    fetch: &mut Fetch<'_>,
    report: &mut OpeningReport,
) -> Result<Option<Vec<u8>>, OpeningError> {
    let Some(key_hex) = &env.file_key else {
        return Ok(None);
    };
    let mut key = [0u8; 16];
    hex::decode_to_slice(key_hex, &mut key)
        .map_err(|_| fail(path, "bad_record", "the file key is not 16 bytes of hex"))?;
    let Some(reader) = fetch(&env.sha256).map_err(from_seal(path))? else {
        report
            .envelopes_missing
            .push(format!("{path} ({})", env.sha256));
        return Ok(None);
    };
    let mut hashing = HashingReader::new(reader);
    let mut plain = Vec::new();
    let opened = open_envelope(&key, &mut hashing, &mut plain);
    let digest = hashing
        .finish()
        .map_err(|e| fail(path, "io", format!("cannot read the ciphertext: {e}")))?;
    let sha = digest.sha256_hex();
    if sha != env.sha256 || digest.size != env.size {
        return Err(fail(
            path,
            "ciphertext_mismatch",
            format!(
                "the ciphertext has SHA-256 {sha} and {} bytes; the record says {} and {} bytes",
                digest.size, env.sha256, env.size
            ),
        ));
    }
    opened.map_err(from_seal(path))?;
    report.envelopes_decrypted += 1;
    Ok(Some(plain))
}

/// Re-checks a signed opening record offline. `log_key` is the platform's pinned verifier key
/// (checkpoints and the record are signed with it); `fetch` supplies ciphertexts by hash.
pub fn verify_opening(
    record_json: &[u8],
    log_key: &NoteVerifier,
    fetch: &mut Fetch<'_>,
) -> Result<OpeningReport, OpeningError> {
    let signed: SignedOpeningRecord =
        Signed::from_json_bytes(record_json).map_err(from_seal("record"))?;
    signed.verify().map_err(from_seal("record.signature"))?;
    if signed.key.as_bytes() != &log_key.public_key() {
        return Err(fail(
            "record.key",
            "unknown_key",
            "the record is not signed by the platform key you gave",
        ));
    }
    let r = &signed.body;
    if r.version != 1 {
        return Err(fail("record.version", "bad_record", "unsupported version"));
    }
    // The closing checkpoint and entry.
    let cp = SignedCheckpoint::verify(&r.closing_checkpoint, log_key)
        .map_err(|e| fail("closing_checkpoint", e.code(), e.to_string()))?
        .checkpoint;
    if cp.closing() != Some(r.tender.as_str()) {
        return Err(fail(
            "closing_checkpoint",
            "bad_checkpoint",
            "the checkpoint is not this tender's closing checkpoint",
        ));
    }
    let closing_proof =
        hashes_from_hex(&r.closing_proof, "closing_proof").map_err(from_seal("closing_proof"))?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(r.closing_entry.as_bytes()),
        r.closing_index,
        cp.size,
        &closing_proof,
        &cp.root,
    )
    .map_err(|e| fail("closing_proof", e.code(), e.to_string()))?;
    let closing: ClosingEntry = match LogEntryBody::from_leaf(r.closing_entry.as_bytes())
        .map_err(from_seal("closing_entry"))?
    {
        LogEntryBody::Closing { closing } => closing,
        other => {
            return Err(fail(
                "closing_entry",
                "bad_record",
                format!("a {} entry, not a closing entry", other.kind()),
            ))
        }
    };
    if closing.tender != r.tender {
        return Err(fail(
            "closing_entry",
            "bad_record",
            "the closing entry is for another tender",
        ));
    }
    // No dropped or added bid: the record's bids are exactly the closing entry's.
    let listed: Vec<&str> = r.bids.iter().map(|b| b.manifest_digest.as_str()).collect();
    let closed: Vec<&str> = closing.bids.iter().map(String::as_str).collect();
    if listed != closed {
        return Err(fail(
            "bids",
            "bid_set_mismatch",
            format!(
                "the closing entry fixes {} bid(s) {:?}; the record lists {} {:?}",
                closed.len(),
                closed,
                listed.len(),
                listed
            ),
        ));
    }
    let required: Decimal = r
        .deposit_required
        .parse()
        .map_err(|_| fail("deposit_required", "bad_record", "not a decimal"))?;

    let mut report = OpeningReport::default();
    for (i, bid) in r.bids.iter().enumerate() {
        let p = format!("bids[{i}]");
        report.bids += 1;
        let proof =
            hashes_from_hex(&bid.proof, "proof").map_err(from_seal(format!("{p}.proof")))?;
        if bid.log_index >= cp.size {
            return Err(fail(
                format!("{p}.log_index"),
                "bad_proof",
                "the bid entry is not before the closing checkpoint",
            ));
        }
        merkle::verify_inclusion(
            &merkle::leaf_hash(bid.entry.as_bytes()),
            bid.log_index,
            cp.size,
            &proof,
            &cp.root,
        )
        .map_err(|e| fail(format!("{p}.proof"), e.code(), e.to_string()))?;
        let manifest = match LogEntryBody::from_leaf(bid.entry.as_bytes())
            .map_err(from_seal(format!("{p}.entry")))?
        {
            LogEntryBody::Bid { manifest } => manifest,
            other => {
                return Err(fail(
                    format!("{p}.entry"),
                    "bad_record",
                    format!("a {} entry, not a bid", other.kind()),
                ))
            }
        };
        manifest
            .verify()
            .map_err(from_seal(format!("{p}.entry.manifest")))?;
        let digest = manifest
            .digest()
            .map_err(from_seal(format!("{p}.entry.manifest")))?;
        if hex::encode(digest) != bid.manifest_digest {
            return Err(fail(
                format!("{p}.manifest_digest"),
                "bad_record",
                "does not match the logged manifest",
            ));
        }
        let m = &manifest.body;
        if m.tender != r.tender || m.bidder != bid.bidder {
            return Err(fail(
                format!("{p}.bidder"),
                "bad_record",
                "the manifest names another tender or bidder",
            ));
        }
        if m.deposit_reference != bid.deposit.reference {
            return Err(fail(
                format!("{p}.deposit.reference"),
                "bad_record",
                "does not match the manifest's deposit reference",
            ));
        }
        let in_manifest: Vec<(EnvelopeKind, &str, u64)> = m
            .envelopes
            .iter()
            .map(|e| (e.kind, e.sha256.as_str(), e.size))
            .collect();
        let in_record: Vec<(EnvelopeKind, &str, u64)> = bid
            .envelopes
            .iter()
            .map(|e| (e.kind, e.sha256.as_str(), e.size))
            .collect();
        if in_manifest != in_record {
            return Err(fail(
                format!("{p}.envelopes"),
                "bad_record",
                "the envelopes differ from the signed manifest's",
            ));
        }
        match &bid.outcome {
            BidOutcome::Invalid { .. } => {
                report.invalid += 1;
                if bid.price.is_some() {
                    return Err(fail(
                        format!("{p}.price"),
                        "bad_record",
                        "an invalid bid has no opened price",
                    ));
                }
            }
            BidOutcome::Valid => {
                report.valid += 1;
                let mut price_seen = false;
                for env in &bid.envelopes {
                    let ep = format!("{p}.envelopes[{}]", env.kind.as_str());
                    if env.kind == EnvelopeKind::Price && env.file_key.is_none() {
                        return Err(fail(
                            ep,
                            "bad_record",
                            "a valid bid publishes its price key",
                        ));
                    }
                    let Some(plain) = decrypt_checked(&ep, env, fetch, &mut report)? else {
                        continue;
                    };
                    if env.kind == EnvelopeKind::Price {
                        let price = PricePayload::from_json_bytes(&plain)
                            .map_err(from_seal(format!("{ep}.plaintext")))?;
                        let price = OpenedPrice::of(&price, &plain);
                        if bid.price.as_ref() != Some(&price) {
                            return Err(fail(
                                format!("{p}.price"),
                                "price_mismatch",
                                format!(
                                    "the price envelope says {} {}; the record says {:?}",
                                    price.total,
                                    price.currency,
                                    bid.price.as_ref().map(|p| p.total)
                                ),
                            ));
                        }
                        price_seen = true;
                    }
                }
                if !price_seen
                    && !report
                        .envelopes_missing
                        .iter()
                        .any(|m| m.starts_with(&format!("{p}.")))
                {
                    return Err(fail(
                        format!("{p}.price"),
                        "bad_record",
                        "no price envelope",
                    ));
                }
            }
        }
        // The deposit: every payer envelope listed must be in the closing entry and open to
        // what the record says; the sum decides sufficiency.
        let mut paid = Decimal::ZERO;
        if bid.deposit.envelopes.len() != bid.deposit.payers.len() {
            return Err(fail(
                format!("{p}.deposit"),
                "bad_record",
                "one payer per deposit envelope",
            ));
        }
        for (j, (env, payer)) in bid
            .deposit
            .envelopes
            .iter()
            .zip(&bid.deposit.payers)
            .enumerate()
        {
            let ep = format!("{p}.deposit.envelopes[{j}]");
            if !closing.deposits.contains(&env.sha256) {
                return Err(fail(
                    ep,
                    "bad_record",
                    "this deposit envelope is not in the closing entry",
                ));
            }
            if let Some(plain) = decrypt_checked(&ep, env, fetch, &mut report)? {
                let opened = DepositPayerPayload::from_json_bytes(&plain)
                    .map_err(from_seal(format!("{ep}.plaintext")))?;
                if &opened != payer {
                    return Err(fail(
                        format!("{p}.deposit.payers[{j}]"),
                        "deposit_mismatch",
                        "the payer envelope says something else",
                    ));
                }
            }
            paid += payer.amount;
        }
        let paid_recorded: Decimal = bid
            .deposit
            .paid
            .parse()
            .map_err(|_| fail(format!("{p}.deposit.paid"), "bad_record", "not a decimal"))?;
        if paid_recorded != paid || bid.deposit.sufficient != (paid >= required) {
            return Err(fail(
                format!("{p}.deposit"),
                "deposit_mismatch",
                format!("payers add up to {paid} against {required} required; the record says {paid_recorded} (sufficient: {})", bid.deposit.sufficient),
            ));
        }
    }
    Ok(report)
}

/// One share key a member reveals, for the envelope with this ciphertext hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealedKey {
    pub envelope_sha256: String,
    pub key: crate::threshold::ShareKey,
}

/// What a committee member reveals at the opening: for each envelope, the wrap key of its own
/// share stanza. It first commits to the document's SHA-256 ([`Reveal::commitment`]); the random
/// nonce keeps the commitment from being guessed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reveal {
    pub tender: String,
    pub seat: u8,
    pub keys: Vec<RevealedKey>,
    /// 32 random bytes, hex.
    pub nonce: String,
}

impl Reveal {
    /// Lower-case hex SHA-256 of the canonical encoding (`serde_json::to_vec`).
    pub fn commitment(&self) -> Result<String, SealError> {
        let bytes = serde_json::to_vec(self).map_err(|e| SealError::Invalid {
            code: "json",
            message: format!("cannot encode the reveal: {e}"),
        })?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }
}
