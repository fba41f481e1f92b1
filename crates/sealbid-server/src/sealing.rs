//! The platform side of sealing: the platform's keys, the committee, publication of the signed
//! sealing policy, bid submission with receipts, withdrawal, the closing at the deadline, deposits
//! from the bank, and the opening ceremony. The cryptography is `sealbid_seal`'s; this module
//! decides who may do what and when, and writes every change with its log entry and audit record
//! in one store transaction.
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::User;
use sealbid_domain::tender::{china_time, Tender, TenderError, TenderState};
use sealbid_domain::{BidId, OrgId, TenderId};
use sealbid_seal::entry::{ClosingEntry, LogEntryBody};
use sealbid_seal::envelope::{open_envelope, seal_envelope, HashingReader};
use sealbid_seal::keys::{MemberIdentity, MemberRecipient, SigningKey};
use sealbid_seal::manifest::{SignedManifest, Withdrawal};
use sealbid_seal::note::{NoteSigner, NoteVerifier};
use sealbid_seal::opening::{
    BidOutcome, DepositCheck, OpenedBid, OpenedEnvelope, OpenedPrice, OpeningRecord, Reveal,
};
use sealbid_seal::payload::{DepositPayerPayload, PricePayload};
use sealbid_seal::policy::{PolicyMember, SealingPolicy};
use sealbid_seal::receipt::{hashes_to_hex, Receipt};
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::{
    check_structure, member_share_key_at, open_share, read_header, recover_file_key, EnvelopeKind,
    HeaderInfo, ShareContext, ShareKey,
};
use sealbid_store::{
    Bid, BidChange, BidStatus, Closing, DepositPayment, LogAppend, Opened, OpeningAction,
    SealWrite, StoredEnvelope, TenderSealing,
};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Largest age header the server reads (n share stanzas are a few hundred bytes each).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest price or deposit-payer plaintext the opening reads into memory.
pub const MAX_SMALL_PLAINTEXT: u64 = 4 * 1024 * 1024;

/// The platform's keys: one Ed25519 key that signs the log's checkpoints (as a C2SP note key
/// named after the log's origin) and the platform's documents (policies, opening records), the
/// platform's own committee identity (it holds at most one share), and the bank callback's HMAC
/// secret. Debug output never shows a secret.
pub struct SealingKeys {
    pub signing: SigningKey,
    pub log: NoteSigner,
    pub identity: MemberIdentity,
    bank_secret: Vec<u8>,
}

impl std::fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKeys")
            .field("log", &self.log.verifier().to_string())
            .field("identity", &self.identity.recipient().to_string())
            .finish_non_exhaustive()
    }
}

/// The default name of the log (the checkpoint origin).
pub const DEFAULT_LOG_ORIGIN: &str = "sealbid.local/log";

impl SealingKeys {
    pub fn from_parts(
        origin: &str,
        seed: [u8; 32],
        identity: MemberIdentity,
        bank_secret: Vec<u8>,
    ) -> anyhow::Result<SealingKeys> {
        Ok(SealingKeys {
            signing: SigningKey::from_seed(seed),
            log: NoteSigner::from_seed(origin, seed)
                .map_err(|e| anyhow::anyhow!("log origin {origin:?}: {e}"))?,
            identity,
            bank_secret,
        })
    }

    /// Fresh keys from `rng` (tests, and a first start).
    pub fn generate(
        origin: &str,
        rng: &mut (impl rand::RngCore + rand::CryptoRng),
    ) -> anyhow::Result<SealingKeys> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut bank = vec![0u8; 32];
        rng.fill_bytes(&mut bank);
        let identity = MemberIdentity::generate(rng);
        SealingKeys::from_parts(origin, seed, identity, bank)
    }

    /// Loads the keys from `dir`, creating any that is missing (files readable by the owner
    /// only): `platform-seed.key`, `platform-identity.age`, `bank-hmac.key`.
    pub fn load_or_create(dir: &Path, origin: &str) -> anyhow::Result<SealingKeys> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the key directory {}", dir.display()))?;
        let mut rng = rand::rngs::OsRng;
        let seed_hex = read_or_create(&dir.join("platform-seed.key"), || {
            let mut s = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rng, &mut s);
            hex::encode(s)
        })?;
        let mut seed = [0u8; 32];
        hex::decode_to_slice(seed_hex.trim(), &mut seed)
            .context("platform-seed.key must hold 64 hex digits")?;
        let id_text = read_or_create(&dir.join("platform-identity.age"), || {
            MemberIdentity::generate(&mut rand::rngs::OsRng)
                .to_secret_string()
                .to_string()
        })?;
        let identity = sealbid_seal::keys::parse_identity_file(&id_text)
            .map_err(|e| anyhow::anyhow!("platform-identity.age: {e}"))?;
        let bank_hex = read_or_create(&dir.join("bank-hmac.key"), || {
            let mut s = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut s);
            hex::encode(s)
        })?;
        let bank = hex::decode(bank_hex.trim()).context("bank-hmac.key must hold hex digits")?;
        SealingKeys::from_parts(origin, seed, identity, bank)
    }

    /// The log's verifier key (`name+hash+key`), which verifiers pin.
    pub fn log_verifier(&self) -> NoteVerifier {
        self.log.verifier()
    }

    /// The bank callback's HMAC-SHA256 of `body`.
    pub fn bank_mac(&self, body: &[u8]) -> Vec<u8> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.bank_secret);
        ring::hmac::sign(&key, body).as_ref().to_vec()
    }

    /// Checks a bank callback's HMAC in constant time.
    pub fn bank_mac_ok(&self, body: &[u8], mac: &[u8]) -> bool {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.bank_secret);
        ring::hmac::verify(&key, body, mac).is_ok()
    }

    /// The bank secret, hex, for `sealbid dev-bank` on the same machine.
    pub fn bank_secret_hex(&self) -> String {
        hex::encode(&self.bank_secret)
    }
}

fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = make();
            write_private(path, &text)?;
            Ok(text)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn seal_err(e: sealbid_seal::error::SealError) -> AppError {
    AppError::Invalid {
        code: e.code(),
        message: e.to_string(),
        field: None,
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::Conflict {
        code,
        message: message.into(),
        state: None,
    }
}

// ----- committee -----

/// A seat as the tenderee sets it.
#[derive(Clone, Debug)]
pub struct SeatSpec {
    pub name: String,
    pub role: String,
    pub user_id: Option<sealbid_domain::UserId>,
    pub recipient: Option<String>,
}

/// Largest committee.
pub const MAX_SEATS: usize = 15;

/// Sets (or replaces) a tender's committee: the owner, while the tender is a draft. The tender's
/// declared committee terms ("any t of n") are set to this committee's in the same write, so the
/// notice and the sealing policy can never disagree.
pub async fn set_committee(
    state: &AppState,
    user: &User,
    tender: &Tender,
    threshold: u8,
    seats: Vec<SeatSpec>,
    platform_seat: bool,
) -> AppResult<TenderSealing> {
    crate::policy::ensure_owner(user, tender)?;
    if tender.state != TenderState::Draft {
        return Err(conflict(
            "committee_fixed",
            "the committee is part of the tender's terms: it is set while the tender is a draft \
             (members may still register their keys until publication)",
        ));
    }
    let n = seats.len() + usize::from(platform_seat);
    if seats.is_empty() || n > MAX_SEATS {
        return Err(AppError::invalid(
            "invalid_committee",
            "seats",
            format!("a committee has 2 to {MAX_SEATS} seats (the platform's included); this one has {n}"),
        ));
    }
    if threshold < 2 || usize::from(threshold) > n {
        return Err(AppError::invalid(
            "invalid_threshold",
            "threshold",
            format!("the threshold must be at least 2 and at most the number of seats ({n})"),
        ));
    }
    let mut out = Vec::new();
    for (i, s) in seats.into_iter().enumerate() {
        let name = s.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "invalid_committee",
                &format!("seats[{i}].name"),
                "each seat needs a name of 1 to 100 characters",
            ));
        }
        if let Some(r) = &s.recipient {
            r.parse::<MemberRecipient>().map_err(|e| {
                AppError::invalid(
                    "invalid_recipient",
                    &format!("seats[{i}].recipient"),
                    format!("{e}: give the member's age1… public key (sealbid keygen prints it)"),
                )
            })?;
        }
        out.push(sealbid_store::CommitteeSeat {
            index: u8::try_from(i + 1).map_err(internal)?,
            name,
            role: s.role.trim().to_string(),
            user_id: s.user_id,
            platform: false,
            recipient: s.recipient,
        });
    }
    if platform_seat {
        out.push(sealbid_store::CommitteeSeat {
            index: u8::try_from(out.len() + 1).map_err(internal)?,
            name: "Sealbid platform".into(),
            role: "platform".into(),
            user_id: None,
            platform: true,
            recipient: Some(state.sealing.identity.recipient().to_string()),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for s in &out {
        if let Some(r) = &s.recipient {
            if !seen.insert(r.clone()) {
                return Err(AppError::invalid(
                    "invalid_committee",
                    "seats",
                    "two seats have the same key: each member needs their own",
                ));
            }
        }
    }
    let existing = state.store.get_sealing(tender.id).await?;
    let expected = existing.as_ref().map(|s| s.version).unwrap_or(0);
    let sealing = TenderSealing {
        tender_id: tender.id,
        version: expected + 1,
        threshold,
        seats: out,
        policy: None,
        policy_index: None,
        closing: None,
        opened: None,
    };
    let audit = AuditEvent::new(
        Some(user.id),
        state.now(),
        "tender.committee",
        "tender",
        tender.id,
    )
    .with_change(existing.as_ref(), Some(&sealing));
    let shape = sealbid_domain::tender::CommitteePolicy {
        threshold,
        members: u8::try_from(n).map_err(internal)?,
    };
    let mut updated = tender.clone();
    if tender.terms.committee != shape {
        let mut terms = tender.terms.clone();
        terms.committee = shape;
        updated.edit_draft(terms)?;
    }
    state
        .store
        .seal_write(SealWrite {
            tender: (updated.version != tender.version).then_some((&updated, tender.version)),
            sealing: Some((&sealing, expected)),
            bid: None,
            log: None,
            audit: &audit,
        })
        .await?;
    Ok(sealing)
}

/// A member registers (or replaces) the key of their own seat, before publication.
pub async fn register_key(
    state: &AppState,
    user: &User,
    tender: &Tender,
    seat: u8,
    recipient: &str,
) -> AppResult<TenderSealing> {
    // A seat holder may know the tender before it is public; anyone else sees what the
    // visibility rules allow.
    let before = state.store.get_sealing(tender.id).await?;
    let holds_a_seat = before
        .as_ref()
        .is_some_and(|s| s.seats.iter().any(|x| x.user_id == Some(user.id)));
    if !holds_a_seat {
        crate::policy::ensure_visible(Some(user), tender)?;
    }
    let before = before.ok_or(AppError::NotFound("committee"))?;
    let Some(s) = before.seats.iter().find(|s| s.index == seat) else {
        return Err(AppError::NotFound("committee seat"));
    };
    if s.user_id != Some(user.id) {
        return Err(AppError::forbidden(
            "only the member who holds this seat may register its key",
        ));
    }
    if before.policy.is_some() {
        return Err(conflict(
            "committee_fixed",
            "the committee is fixed once the tender is published",
        ));
    }
    let r: MemberRecipient = recipient.trim().parse().map_err(|e| {
        AppError::invalid(
            "invalid_recipient",
            "recipient",
            format!("{e}: give your age1… public key (sealbid keygen prints it)"),
        )
    })?;
    let r = r.to_string();
    if before
        .seats
        .iter()
        .any(|o| o.index != seat && o.recipient.as_deref() == Some(r.as_str()))
    {
        return Err(AppError::invalid(
            "invalid_committee",
            "recipient",
            "another seat already has this key: generate your own with sealbid keygen",
        ));
    }
    let mut after = before.clone();
    after.version += 1;
    for o in after.seats.iter_mut() {
        if o.index == seat {
            o.recipient = Some(r.clone());
        }
    }
    let audit = AuditEvent::new(
        Some(user.id),
        state.now(),
        "tender.committee_key",
        "tender",
        tender.id,
    )
    .with_change(Some(&before), Some(&after));
    state
        .store
        .seal_write(SealWrite {
            tender: None,
            sealing: Some((&after, before.version)),
            bid: None,
            log: None,
            audit: &audit,
        })
        .await?;
    Ok(after)
}

/// The signed policy of a published tender.
pub fn policy_of(s: &TenderSealing) -> AppResult<Signed<SealingPolicy>> {
    let text = s
        .policy
        .as_deref()
        .ok_or_else(|| conflict("not_published", "the tender has no sealing policy yet"))?;
    Signed::from_json_bytes(text.as_bytes()).map_err(internal)
}

/// Publishes a tender (`after` is `before` approved): builds and signs the sealing policy from the
/// complete committee and logs it, in the same transaction as the tender's change.
pub async fn publish(
    state: &AppState,
    before: &Tender,
    after: &Tender,
    audit: &AuditEvent,
) -> AppResult<()> {
    let Some(sealing) = state.store.get_sealing(before.id).await? else {
        return Err(AppError::invalid(
            "committee_incomplete",
            "committee",
            "the tender has no opening committee: the tenderee must set one (PUT /api/v1/tenders/{id}/committee) before it can be published",
        ));
    };
    let missing: Vec<String> = sealing
        .seats
        .iter()
        .filter(|s| s.recipient.is_none())
        .map(|s| format!("seat {} ({})", s.index, s.name))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "committee_incomplete",
            "committee",
            format!(
                "these committee members have not registered their keys: {}",
                missing.join(", ")
            ),
        ));
    }
    let mut members = Vec::new();
    for s in &sealing.seats {
        let recipient = s
            .recipient
            .as_deref()
            .unwrap_or_default()
            .parse::<MemberRecipient>()
            .map_err(internal)?;
        members.push(PolicyMember {
            name: s.name.clone(),
            role: s.role.clone(),
            recipient,
            platform: s.platform,
        });
    }
    let policy = SealingPolicy {
        version: 1,
        tender: after.id.to_string(),
        deadline: after.terms.bid_deadline,
        opening_time: after.terms.opening_time,
        threshold: sealing.threshold,
        members,
    };
    policy.validate().map_err(seal_err)?;
    let signed = Signed::sign(policy, &state.sealing.signing).map_err(internal)?;
    let entry = LogEntryBody::Policy {
        policy: signed.clone(),
    };
    let leaf = String::from_utf8(entry.to_leaf().map_err(internal)?).map_err(internal)?;
    let mut next = sealing.clone();
    next.version += 1;
    next.policy =
        Some(String::from_utf8(signed.to_json_bytes().map_err(internal)?).map_err(internal)?);
    // The store records the policy's log index in the sealing document in the same write.
    state
        .store
        .seal_write(SealWrite {
            tender: Some((after, before.version)),
            sealing: Some((&next, sealing.version)),
            bid: None,
            log: Some(LogAppend {
                tender_id: after.id,
                kind: "policy",
                entry: leaf,
                at: state.now(),
                signer: &state.sealing.log,
                closing: false,
            }),
            audit,
        })
        .await?;
    Ok(())
}

// ----- deposits -----

/// The bidder's deposit reference for a tender (created on first request): 16 random digits, so
/// it says nothing about who the bidder is.
/// Longest device id kept from `X-Sealbid-Device`.
pub const MAX_DEVICE_ID_CHARS: usize = 128;

/// The upload source of a request: the client's address and, when the bid-preparation client sends
/// one, its device id (`X-Sealbid-Device`: printable ASCII, at most 128 characters; anything else
/// is a 422 `invalid_device_id`).
pub fn upload_source(
    ip: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
) -> AppResult<sealbid_store::UploadSource> {
    let device = match headers.get("x-sealbid-device") {
        None => None,
        Some(v) => {
            let text = v.to_str().ok().map(str::trim).filter(|t| {
                !t.is_empty()
                    && t.len() <= MAX_DEVICE_ID_CHARS
                    && t.bytes().all(|b| b.is_ascii_graphic())
            });
            Some(
                text.ok_or_else(|| {
                    AppError::invalid(
                        "invalid_device_id",
                        "x-sealbid-device",
                        format!(
                            "the X-Sealbid-Device header is 1 to {MAX_DEVICE_ID_CHARS} printable ASCII characters without spaces; send what `sealbid submit` sends, or leave it out"
                        ),
                    )
                })?
                .to_string(),
            )
        }
    };
    Ok(sealbid_store::UploadSource {
        ip: ip.map(|i| i.to_string()),
        device,
    })
}

/// A bidder barred by a confirmed collusion finding (its credit record) may not bid until the bar
/// ends: 403 `bidder_barred` with the date.
async fn ensure_not_barred(state: &AppState, org: OrgId) -> AppResult<()> {
    if let Some(r) = crate::screening::active_bar(state, org, state.now()).await? {
        let until = r.barred_until.map(china_time).unwrap_or_default();
        return Err(AppError::Invalid {
            code: "bidder_barred",
            message: format!(
                "your organisation is barred from bidding until {until} ({}: {}); see its credit history",
                r.ground, r.kind
            ),
            field: None,
        });
    }
    Ok(())
}

pub async fn deposit_reference(
    state: &AppState,
    user: &User,
    tender: &Tender,
) -> AppResult<sealbid_store::DepositRef> {
    // Visibility first: a hidden tender is 404 to everyone, whatever their role.
    crate::policy::ensure_visible(Some(user), tender)?;
    let org = bidder_org(user)?;
    if tender.state != TenderState::Published {
        return Err(AppError::Tender(TenderError::IllegalTransition {
            from: tender.state,
            action: "bid on: bids are taken while the tender is published",
        }));
    }
    ensure_not_barred(state, org).await?;
    let secret = state.tokens.secret();
    let digits: String = secret
        .iter()
        .take(16)
        .map(|b| char::from(b'0' + (b % 10)))
        .collect();
    let candidate = format!("SB{digits}");
    let audit = AuditEvent::new(
        Some(user.id),
        state.now(),
        "deposit.reference",
        "tender",
        tender.id,
    );
    Ok(state
        .store
        .deposit_reference(tender.id, org, &candidate, state.now(), &audit)
        .await?)
}

fn bidder_org(user: &User) -> AppResult<OrgId> {
    match (user.has(sealbid_domain::org::Role::Bidder), user.org) {
        (true, Some(org)) => Ok(org),
        _ => Err(AppError::forbidden(
            "only bidders' staff acting for their organisation may bid",
        )),
    }
}

/// What the bank sends: "reference R paid amount A", with the payer's details (sealed at once).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankCallback {
    pub transaction_id: String,
    pub reference: String,
    /// Decimal string, yuan.
    pub amount: String,
    pub payer_name: String,
    pub account_number: String,
    pub bank: String,
    pub paid_at: DateTime<Utc>,
}

/// Records a bank payment: seals the payer's details to the tender's committee at once, stores the
/// ciphertext, and logs "reference R paid A". Idempotent on the bank's transaction id.
pub async fn bank_payment(state: &AppState, cb: BankCallback) -> AppResult<(DepositPayment, bool)> {
    let field = |f: &str, v: &str, max: usize| -> AppResult<()> {
        if v.trim().is_empty() || v.chars().count() > max {
            Err(AppError::invalid(
                "invalid_callback",
                f,
                format!("{f} must be 1 to {max} characters"),
            ))
        } else {
            Ok(())
        }
    };
    field("transaction_id", &cb.transaction_id, 100)?;
    field("reference", &cb.reference, 40)?;
    field("payer_name", &cb.payer_name, 200)?;
    field("account_number", &cb.account_number, 64)?;
    field("bank", &cb.bank, 200)?;
    let amount: Decimal = cb.amount.trim().parse().map_err(|_| {
        AppError::invalid(
            "invalid_callback",
            "amount",
            "amount must be a decimal number of yuan",
        )
    })?;
    if amount <= Decimal::ZERO || amount.scale() > 2 {
        return Err(AppError::invalid(
            "invalid_callback",
            "amount",
            "amount must be positive with at most two decimal places",
        ));
    }
    let Some(reference) = state
        .store
        .find_deposit_reference(cb.reference.trim())
        .await?
    else {
        return Err(AppError::NotFound("deposit reference"));
    };
    let tender = crate::api::load_tender(state, reference.tender_id).await?;
    let sealing = state
        .store
        .get_sealing(tender.id)
        .await?
        .ok_or(AppError::NotFound("sealing policy"))?;
    let policy = policy_of(&sealing)?;
    let payload = DepositPayerPayload {
        payer_name: cb.payer_name.trim().to_string(),
        account_number: cb.account_number.trim().to_string(),
        bank: cb.bank.trim().to_string(),
        amount,
        bank_transaction_id: cb.transaction_id.trim().to_string(),
        paid_at: cb.paid_at,
    };
    let plain = payload.to_json_bytes().map_err(internal)?;
    let committee = policy.body.committee();
    let ctx = ShareContext {
        tender: tender.id.to_string(),
        bidder: reference.reference.clone(),
        kind: EnvelopeKind::DepositPayer,
    };
    let secret = state.tokens.secret();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(secret);
    let mut cipher = Vec::new();
    let digest = seal_envelope(
        &committee,
        &ctx,
        None,
        &mut rng,
        plain.as_slice(),
        &mut cipher,
    )
    .map_err(internal)?;
    drop(plain);
    let sha = digest.sha256_hex();
    let key = format!("deposits/{}/{sha}.age", tender.id);
    state
        .blobs
        .put(&key, bytes::Bytes::from(cipher))
        .await
        .map_err(internal)?;
    let payment = DepositPayment {
        bank_txn_id: cb.transaction_id.trim().to_string(),
        reference: reference.reference.clone(),
        tender_id: tender.id,
        amount: amount.to_string(),
        received_at: state.now(),
        envelope: StoredEnvelope {
            kind: EnvelopeKind::DepositPayer.as_str().to_string(),
            sha256: sha,
            size: digest.size,
            blob_key: key,
        },
    };
    // The audit record says only what the platform may know before the opening.
    let audit = AuditEvent::new(None, state.now(), "deposit.paid", "tender", tender.id);
    Ok(state.store.record_deposit_payment(&payment, &audit).await?)
}

// ----- bids -----

/// Where a bidder's uploaded envelope waits for its manifest.
pub fn envelope_key(tender: TenderId, org: OrgId, sha256: &str) -> String {
    format!("bids/{tender}/{org}/{sha256}.age")
}

/// Checks that bids are taken now: published and before the deadline.
pub fn ensure_bidding_open(t: &Tender, now: DateTime<Utc>) -> AppResult<()> {
    if t.state == TenderState::Published && now < t.terms.bid_deadline {
        return Ok(());
    }
    if t.state == TenderState::Published || t.state == TenderState::Closed {
        return Err(AppError::Tender(TenderError::DeadlinePassed {
            deadline: t.terms.bid_deadline,
        }));
    }
    Err(AppError::Tender(TenderError::IllegalTransition {
        from: t.state,
        action: "bid on: bids are taken while the tender is published",
    }))
}

/// Reads the age header at the start of a stored envelope.
pub(crate) async fn stored_header(state: &AppState, key: &str) -> AppResult<Option<HeaderInfo>> {
    let mut stream = match state.blobs.get_stream(key).await {
        Ok(s) => s,
        Err(sealbid_store::BlobError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(internal(e)),
    };
    let mut head = Vec::new();
    while head.len() < MAX_HEADER_BYTES {
        match stream.try_next().await.map_err(internal)? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(Some(read_header(head.as_slice()).map_err(seal_err)?))
}

/// A bid submitted: the stored bid and its receipt.
pub struct Submitted {
    pub bid: Bid,
    pub receipt: Receipt,
}

/// Takes a signed manifest whose envelopes the bidder has uploaded: checks it against the policy,
/// the deadline and the stored ciphertexts, then stores the bid, logs it and signs a checkpoint
/// in one transaction, and only then answers with the receipt.
pub async fn submit_bid(
    state: &AppState,
    user: &User,
    tender: &Tender,
    manifest_json: &[u8],
    upload: Option<sealbid_store::UploadSource>,
) -> AppResult<Submitted> {
    // Visibility first: a hidden tender is 404 to everyone, whatever their role.
    crate::policy::ensure_visible(Some(user), tender)?;
    let org = bidder_org(user)?;
    ensure_bidding_open(tender, state.now())?;
    ensure_not_barred(state, org).await?;
    let signed: SignedManifest = Signed::from_json_bytes(manifest_json).map_err(|e| {
        AppError::invalid(
            "invalid_manifest",
            "manifest",
            format!("{e}: send the signed manifest `sealbid seal` wrote"),
        )
    })?;
    signed.verify().map_err(|e| {
        AppError::invalid(
            "bad_signature",
            "manifest",
            format!("the manifest's signature does not verify: {e}"),
        )
    })?;
    let m = &signed.body;
    m.validate()
        .map_err(|e| AppError::invalid("invalid_manifest", "manifest", e.to_string()))?;
    if m.tender != tender.id.to_string() {
        return Err(AppError::invalid(
            "manifest_mismatch",
            "manifest.tender",
            "the manifest is for another tender",
        ));
    }
    if m.bidder != org.to_string() {
        return Err(AppError::invalid(
            "manifest_mismatch",
            "manifest.bidder",
            "the manifest names another bidder: seal with your organisation's id",
        ));
    }
    let sealing = state
        .store
        .get_sealing(tender.id)
        .await?
        .ok_or(AppError::NotFound("sealing policy"))?;
    let policy = policy_of(&sealing)?;
    let policy_hash = policy.body.hash_hex().map_err(internal)?;
    if m.policy_hash != policy_hash {
        return Err(AppError::invalid("policy_mismatch", "manifest.policy_hash", "the bid was sealed to another sealing policy: fetch the tender's policy and seal again"));
    }
    let dref = state
        .store
        .find_deposit_reference(&m.deposit_reference)
        .await?;
    if dref.as_ref().map(|d| (d.tender_id, d.bidder_org)) != Some((tender.id, org)) {
        return Err(AppError::invalid(
            "manifest_mismatch",
            "manifest.deposit_reference",
            "this is not your deposit reference for this tender: request it first",
        ));
    }
    // One key per bidder and tender: a later bid must be signed by the key of the first.
    let earlier = state.store.list_bids_of(tender.id, org).await?;
    if let Some(first) = earlier.first() {
        let first: SignedManifest =
            Signed::from_json_bytes(first.manifest.as_bytes()).map_err(internal)?;
        if first.key != signed.key {
            return Err(AppError::invalid("bad_signature", "manifest.key", "this bid is signed by another key than your earlier bid for this tender: use the same signing key"));
        }
    }
    let committee = policy.body.committee();
    let mut envelopes = Vec::new();
    for e in &m.envelopes {
        let key = envelope_key(tender.id, org, &e.sha256);
        let size = state.blobs.head(&key).await.map_err(internal)?;
        if size != Some(e.size) {
            return Err(AppError::invalid(
                "envelope_missing",
                &format!("envelopes[{}]", e.kind.as_str()),
                format!(
                    "upload the {} envelope ({} bytes, SHA-256 {}) before the manifest",
                    e.kind.as_str(),
                    e.size,
                    e.sha256
                ),
            ));
        }
        let header = stored_header(state, &key)
            .await?
            .ok_or(AppError::NotFound("envelope"))?;
        check_structure(&header, &committee).map_err(|e2| {
            AppError::invalid(
                "bad_envelope",
                &format!("envelopes[{}]", e.kind.as_str()),
                e2.to_string(),
            )
        })?;
        envelopes.push(StoredEnvelope {
            kind: e.kind.as_str().to_string(),
            sha256: e.sha256.clone(),
            size: e.size,
            blob_key: key,
        });
    }
    let now = state.now();
    // The deadline again: the upload may have taken a while.
    ensure_bidding_open(tender, now)?;
    let digest = hex::encode(signed.digest().map_err(internal)?);
    let bid = Bid {
        id: BidId::new(),
        tender_id: tender.id,
        bidder_org: org,
        submitted_by: user.id,
        status: BidStatus::Active,
        submitted_at: now,
        manifest: String::from_utf8(manifest_json.to_vec()).map_err(internal)?,
        manifest_digest: digest,
        envelopes,
        log_index: 0,
        checkpoint: String::new(),
        withdrawal: None,
        replaced_by: None,
        upload,
    };
    let entry = LogEntryBody::Bid { manifest: signed };
    let leaf = String::from_utf8(entry.to_leaf().map_err(internal)?).map_err(internal)?;
    // The audit record names the bid, never its contents (there are none to name).
    let audit = AuditEvent::new(Some(user.id), now, "bid.submit", "tender", tender.id);
    let appended = state
        .store
        .seal_write(SealWrite {
            tender: None,
            sealing: None,
            bid: Some(BidChange::Submit(&bid)),
            log: Some(LogAppend {
                tender_id: tender.id,
                kind: "bid",
                entry: leaf.clone(),
                at: now,
                signer: &state.sealing.log,
                closing: false,
            }),
            audit: &audit,
        })
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict("manifest_digest") => conflict(
                "duplicate_bid",
                "this exact signed manifest was already submitted",
            ),
            other => other.into(),
        })?
        .ok_or_else(|| internal("the log append returned nothing"))?;
    let mut stored = bid;
    stored.log_index = appended.index;
    stored.checkpoint = appended.checkpoint.clone();
    let receipt = Receipt::new(leaf, appended.index, &appended.proof, appended.checkpoint);
    Ok(Submitted {
        bid: stored,
        receipt,
    })
}

/// Withdraws the bidder's active bid with its signed withdrawal (logged; nothing is deleted).
pub async fn withdraw_bid(
    state: &AppState,
    user: &User,
    tender: &Tender,
    withdrawal_json: &[u8],
) -> AppResult<(Bid, Receipt)> {
    // Visibility first: a hidden tender is 404 to everyone, whatever their role.
    crate::policy::ensure_visible(Some(user), tender)?;
    let org = bidder_org(user)?;
    ensure_bidding_open(tender, state.now())?;
    let signed: Signed<Withdrawal> = Signed::from_json_bytes(withdrawal_json).map_err(|e| {
        AppError::invalid(
            "invalid_withdrawal",
            "withdrawal",
            format!("{e}: send the signed withdrawal `sealbid withdraw` makes"),
        )
    })?;
    signed
        .verify()
        .map_err(|e| AppError::invalid("bad_signature", "withdrawal", e.to_string()))?;
    let w = &signed.body;
    if w.tender != tender.id.to_string() || w.bidder != org.to_string() {
        return Err(AppError::invalid(
            "manifest_mismatch",
            "withdrawal",
            "the withdrawal names another tender or bidder",
        ));
    }
    let bids = state.store.list_bids_of(tender.id, org).await?;
    let Some(bid) = bids
        .iter()
        .find(|b| b.manifest_digest == w.withdrawn_manifest)
    else {
        return Err(AppError::NotFound("bid"));
    };
    if bid.status != BidStatus::Active {
        return Err(conflict(
            "bid_not_active",
            format!("this bid is already {}", bid.status.as_str()),
        ));
    }
    let first: SignedManifest =
        Signed::from_json_bytes(bid.manifest.as_bytes()).map_err(internal)?;
    if first.key != signed.key {
        return Err(AppError::invalid(
            "bad_signature",
            "withdrawal.key",
            "sign the withdrawal with the key that signed the bid",
        ));
    }
    let now = state.now();
    let entry = LogEntryBody::Withdrawal { withdrawal: signed };
    let leaf = String::from_utf8(entry.to_leaf().map_err(internal)?).map_err(internal)?;
    let audit = AuditEvent::new(Some(user.id), now, "bid.withdraw", "tender", tender.id);
    let appended = state
        .store
        .seal_write(SealWrite {
            tender: None,
            sealing: None,
            bid: Some(BidChange::Withdraw {
                bid: bid.id,
                signed: String::from_utf8(withdrawal_json.to_vec()).map_err(internal)?,
                at: now,
            }),
            log: Some(LogAppend {
                tender_id: tender.id,
                kind: "withdrawal",
                entry: leaf.clone(),
                at: now,
                signer: &state.sealing.log,
                closing: false,
            }),
            audit: &audit,
        })
        .await?
        .ok_or_else(|| internal("the log append returned nothing"))?;
    let stored = state
        .store
        .get_bid(bid.id)
        .await?
        .ok_or(AppError::NotFound("bid"))?;
    let receipt = Receipt::new(leaf, appended.index, &appended.proof, appended.checkpoint);
    Ok((stored, receipt))
}

/// The receipt of a stored bid, rebuilt from the log (the bidder can fetch it again any time).
pub async fn bid_receipt(state: &AppState, bid: &Bid) -> AppResult<Receipt> {
    let entry = state
        .store
        .log_entry(bid.log_index)
        .await?
        .ok_or_else(|| internal("the bid's log entry is missing"))?;
    let proof = state
        .store
        .log_inclusion_proof(bid.log_index, bid.log_index + 1)
        .await?;
    Ok(Receipt::new(
        entry.entry,
        bid.log_index,
        &proof,
        bid.checkpoint.clone(),
    ))
}

// ----- closing -----

/// Closes a tender at its deadline: logs the closing entry (the active bids' manifest digests and
/// the deposit envelopes received), marks its checkpoint as the tender's closing checkpoint, and —
/// with fewer bids than the minimum — fails the tender without an opening.
pub async fn close_tender(state: &AppState, tender: Tender) -> AppResult<bool> {
    let now = state.now();
    let before = tender.clone();
    let mut t = tender;
    t.close(now)?;
    let sealing = state.store.get_sealing(t.id).await?;
    let bids: Vec<Bid> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .filter(|b| b.status == BidStatus::Active)
        .collect();
    let count = u32::try_from(bids.len()).unwrap_or(u32::MAX);
    if count < state.rules.min_bids {
        // No opening: the tender fails at once (法 28), even when the opening time is later.
        if t.open(now, count, &state.rules).is_err() {
            let mut probe = t.clone();
            probe.terms.opening_time = now;
            probe.open(now, count, &state.rules)?;
            t = probe;
        }
    }
    let audit = AuditEvent::new(None, now, "tender.close", "tender", t.id)
        .with_change(Some(&before), Some(&t));
    let Some(sealing) = sealing.filter(|s| s.policy.is_some()) else {
        // A tender published before sealing existed: close it plainly.
        state
            .store
            .update_tender(&t, before.version, &audit)
            .await?;
        return Ok(true);
    };
    let deposits = state.store.list_deposit_payments(t.id).await?;
    let closing = ClosingEntry {
        tender: t.id.to_string(),
        deadline: t.terms.bid_deadline,
        bids: bids.iter().map(|b| b.manifest_digest.clone()).collect(),
        deposits: deposits.iter().map(|d| d.envelope.sha256.clone()).collect(),
    };
    let leaf = String::from_utf8(
        LogEntryBody::Closing { closing }
            .to_leaf()
            .map_err(internal)?,
    )
    .map_err(internal)?;
    let mut next = sealing.clone();
    next.version += 1;
    // The store fills in the closing entry's index and checkpoint in the same write.
    next.closing = Some(Closing {
        at: now,
        log_index: 0,
        checkpoint: String::new(),
        bids: count,
    });
    state
        .store
        .seal_write(SealWrite {
            tender: Some((&t, before.version)),
            sealing: Some((&next, sealing.version)),
            bid: None,
            log: Some(LogAppend {
                tender_id: t.id,
                kind: "closing",
                entry: leaf,
                at: now,
                signer: &state.sealing.log,
                closing: true,
            }),
            audit: &audit,
        })
        .await?;
    Ok(true)
}

// ----- opening -----

/// Every opening action is refused before the opening time, whoever asks.
pub fn ensure_opening_time(t: &Tender, now: DateTime<Utc>) -> AppResult<()> {
    if now < t.terms.opening_time {
        return Err(AppError::Tender(TenderError::OpeningNotYet {
            opening_time: t.terms.opening_time,
        }));
    }
    Ok(())
}

/// One envelope the committee opens: its context and header.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EnvelopeToOpen {
    /// `bid` or `deposit`.
    pub source: String,
    pub tender: String,
    /// The bidder's id (bids) or the deposit reference (deposits): the share context's bidder.
    pub bidder: String,
    pub kind: String,
    pub sha256: String,
    /// The age header (base64), enough to unwrap the member's share stanza.
    pub header: String,
}

/// The envelopes of the closed tender that count: the active bids' and the deposits'.
pub async fn envelopes_to_open(state: &AppState, t: &Tender) -> AppResult<Vec<EnvelopeToOpen>> {
    use base64::Engine;
    let mut out = Vec::new();
    for b in state.store.list_bids(t.id).await? {
        if b.status != BidStatus::Active {
            continue;
        }
        for e in &b.envelopes {
            if let Some(h) = stored_header(state, &e.blob_key).await.ok().flatten() {
                out.push(EnvelopeToOpen {
                    source: "bid".into(),
                    tender: t.id.to_string(),
                    bidder: b.bidder_org.to_string(),
                    kind: e.kind.clone(),
                    sha256: e.sha256.clone(),
                    header: base64::engine::general_purpose::STANDARD.encode(h.raw_header()),
                });
            }
        }
    }
    for d in state.store.list_deposit_payments(t.id).await? {
        if let Some(h) = stored_header(state, &d.envelope.blob_key)
            .await
            .ok()
            .flatten()
        {
            out.push(EnvelopeToOpen {
                source: "deposit".into(),
                tender: t.id.to_string(),
                bidder: d.reference.clone(),
                kind: d.envelope.kind.clone(),
                sha256: d.envelope.sha256.clone(),
                header: base64::engine::general_purpose::STANDARD.encode(h.raw_header()),
            });
        }
    }
    Ok(out)
}

/// The seat `user` holds on the committee.
pub fn seat_of(s: &TenderSealing, user: &User) -> AppResult<u8> {
    s.seats
        .iter()
        .find(|seat| seat.user_id == Some(user.id))
        .map(|seat| seat.index)
        .ok_or_else(|| {
            AppError::forbidden("only members of this tender's opening committee may do this")
        })
}

/// The tender, its sealing document, checked for the opening: closed (or opened), at or after the
/// opening time.
async fn opening_state(state: &AppState, t: &Tender) -> AppResult<TenderSealing> {
    ensure_opening_time(t, state.now())?;
    let s = state
        .store
        .get_sealing(t.id)
        .await?
        .ok_or(AppError::NotFound("sealing policy"))?;
    if s.closing.as_ref().is_none_or(|c| c.checkpoint.is_empty()) {
        return Err(conflict("not_closed", "the tender has not been closed yet"));
    }
    if t.state == TenderState::Failed {
        return Err(conflict(
            "tender_failed",
            "the tender failed with too few bids: there is no opening",
        ));
    }
    Ok(s)
}

/// A member's commitment to its reveal.
pub async fn commit(state: &AppState, user: &User, t: &Tender, commitment: &str) -> AppResult<()> {
    let s = opening_state(state, t).await?;
    let seat = seat_of(&s, user)?;
    if s.opened.is_some() {
        return Err(conflict("already_opened", "the bids are already open"));
    }
    let c = commitment.trim().to_ascii_lowercase();
    if c.len() != 64 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid(
            "invalid_commitment",
            "commitment",
            "the commitment is the SHA-256 (64 hex digits) of your reveal document",
        ));
    }
    let action = OpeningAction {
        tender_id: t.id,
        member_index: seat,
        kind: "commit".into(),
        at: state.now(),
        doc: c,
    };
    let audit = AuditEvent::new(Some(user.id), state.now(), "opening.commit", "tender", t.id);
    state
        .store
        .add_opening_action(&action, &audit)
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict(_) => {
                conflict("already_committed", "you have already committed")
            }
            other => other.into(),
        })
}

/// A member's reveal: must match its commitment; accepted once at least t members have committed.
/// When t reveals (the platform's own included) are in, the bids are opened.
pub async fn reveal(
    state: &AppState,
    user: &User,
    t: &Tender,
    reveal_json: &[u8],
) -> AppResult<Option<Signed<OpeningRecord>>> {
    let s = opening_state(state, t).await?;
    let seat = seat_of(&s, user)?;
    if s.opened.is_some() {
        return Err(conflict("already_opened", "the bids are already open"));
    }
    let r: Reveal = serde_json::from_slice(reveal_json).map_err(|e| {
        AppError::invalid(
            "invalid_reveal",
            "reveal",
            format!("{e}: send the reveal document `sealbid committee open` wrote"),
        )
    })?;
    if r.tender != t.id.to_string() || r.seat != seat {
        return Err(AppError::invalid(
            "invalid_reveal",
            "reveal",
            "the reveal is for another tender or seat",
        ));
    }
    let actions = state.store.list_opening_actions(t.id).await?;
    let Some(mine) = actions
        .iter()
        .find(|a| a.member_index == seat && a.kind == "commit")
    else {
        return Err(conflict("not_committed", "commit to your reveal first"));
    };
    // Every revealed key must open this seat's share stanza of the envelope it names: a key
    // replayed from another envelope (or made up) is refused, and nothing is stored.
    let envelopes = envelopes_to_open(state, t).await?;
    for (i, k) in r.keys.iter().enumerate() {
        use base64::Engine;
        let Some(env) = envelopes.iter().find(|e| e.sha256 == k.envelope_sha256) else {
            return Err(AppError::invalid(
                "unknown_envelope",
                &format!("keys[{i}].envelope_sha256"),
                "no envelope of this tender has this hash",
            ));
        };
        let header = base64::engine::general_purpose::STANDARD
            .decode(&env.header)
            .map_err(internal)
            .and_then(|h| read_header(h.as_slice()).map_err(seal_err))?;
        if k.key.index != seat || open_share(&header, &k.key).is_err() {
            return Err(AppError::invalid(
                "share_mismatch",
                &format!("keys[{i}]"),
                format!(
                    "this key does not open seat {seat}'s share of envelope {}: it belongs to another envelope or seat",
                    k.envelope_sha256
                ),
            ));
        }
    }
    let commitment = r.commitment().map_err(internal)?;
    if commitment != mine.doc {
        return Err(AppError::invalid(
            "commitment_mismatch",
            "reveal",
            "the reveal does not match your commitment",
        ));
    }
    let platform_seat = s.seats.iter().find(|x| x.platform).map(|x| x.index);
    let committed = actions.iter().filter(|a| a.kind == "commit").count()
        + usize::from(platform_seat.is_some());
    if committed < usize::from(s.threshold) {
        return Err(conflict(
            "reveal_not_yet",
            format!(
                "reveals open once {} members have committed; {committed} have",
                s.threshold
            ),
        ));
    }
    let action = OpeningAction {
        tender_id: t.id,
        member_index: seat,
        kind: "reveal".into(),
        at: state.now(),
        doc: String::from_utf8(reveal_json.to_vec()).map_err(internal)?,
    };
    let audit = AuditEvent::new(Some(user.id), state.now(), "opening.reveal", "tender", t.id);
    state
        .store
        .add_opening_action(&action, &audit)
        .await
        .map_err(|e| match e {
            sealbid_store::StoreError::Conflict(_) => {
                conflict("already_revealed", "you have already revealed")
            }
            other => other.into(),
        })?;
    let reveals = actions.iter().filter(|a| a.kind == "reveal").count()
        + 1
        + usize::from(platform_seat.is_some());
    if reveals >= usize::from(s.threshold) {
        return finish_opening(state, t).await.map(Some);
    }
    Ok(None)
}

/// Reads a stored blob through a blocking reader, from a blocking-pool thread (the synchronous
/// decryptor streams it; nothing is held whole).
fn blob_reader_blocking(
    blobs: &Arc<dyn sealbid_store::BlobStore>,
    rt: &tokio::runtime::Handle,
    key: &str,
) -> Option<Box<dyn std::io::Read + Send>> {
    let stream = rt.block_on(blobs.get_stream(key)).ok()?;
    let reader = tokio_util::io::StreamReader::new(stream.map_err(std::io::Error::other));
    Some(Box::new(tokio_util::io::SyncIoBridge::new_with_handle(
        reader,
        rt.clone(),
    )))
}

/// The outcome of opening one envelope.
struct EnvelopeOpened {
    file_key: Option<[u8; 16]>,
    plaintext: Option<Vec<u8>>,
    error: Option<(String, String)>,
}

impl EnvelopeOpened {
    fn failed(code: &str, reason: impl Into<String>) -> EnvelopeOpened {
        EnvelopeOpened {
            file_key: None,
            plaintext: None,
            error: Some((code.to_string(), reason.into())),
        }
    }
}

/// The platform's own seat, if it has one: it adds its share key to every envelope it opens.
#[derive(Clone)]
struct PlatformSeat {
    identity: MemberIdentity,
    seat: u8,
}

/// Opens one envelope in a single pass over the ciphertext: parses the header, adds the
/// platform's share key, keeps the revealed keys that open their stanzas, recovers the file key,
/// decrypts (age checks the header MAC and every chunk) while hashing, and checks hash and size
/// against the manifest.
fn open_one(
    reader: Box<dyn std::io::Read + Send>,
    expected: (&str, u64),
    ctx: &ShareContext,
    revealed: &[ShareKey],
    platform: Option<&PlatformSeat>,
    keep_plaintext: bool,
) -> EnvelopeOpened {
    let (expected_sha, expected_size) = expected;
    let mut hashing = HashingReader::new(reader);
    // Buffered so that the header bytes read here are read again by the decryptor.
    let mut buf = std::io::BufReader::with_capacity(MAX_HEADER_BYTES, &mut hashing);
    let header = match std::io::BufRead::fill_buf(&mut buf) {
        Ok(b) => match read_header(b) {
            Ok(h) => h,
            Err(e) => return EnvelopeOpened::failed(e.code(), e.to_string()),
        },
        Err(e) => return EnvelopeOpened::failed("ciphertext_missing", e.to_string()),
    };
    let mut keys: Vec<ShareKey> = revealed
        .iter()
        .filter(|k| open_share(&header, k).is_ok())
        .cloned()
        .collect();
    if let Some(p) = platform {
        if let Ok(k) = member_share_key_at(&p.identity, &header, ctx, p.seat) {
            keys.push(k);
        }
    }
    let key = match recover_file_key(&header, &keys) {
        Ok(k) => k,
        Err(e) => return EnvelopeOpened::failed(e.code(), e.to_string()),
    };
    let mut plain = Vec::new();
    let opened = if keep_plaintext {
        open_envelope(&key, &mut buf, &mut plain)
    } else {
        open_envelope(&key, &mut buf, &mut std::io::sink())
    };
    let rest = std::io::copy(&mut buf, &mut std::io::sink());
    drop(buf);
    let digest = match (rest, hashing.finish()) {
        (Ok(_), Ok(d)) => d,
        (Err(e), _) | (_, Err(e)) => {
            return EnvelopeOpened::failed("ciphertext_missing", e.to_string());
        }
    };
    let sha = digest.sha256_hex();
    if sha != expected_sha || digest.size != expected_size {
        let mut out = EnvelopeOpened::failed(
            "ciphertext_altered",
            format!(
                "the stored ciphertext (SHA-256 {sha}, {} bytes) is not the one the bidder signed ({expected_sha}, {expected_size} bytes)",
                digest.size
            ),
        );
        out.file_key = Some(key);
        return out;
    }
    match opened {
        Ok(_) => EnvelopeOpened {
            file_key: Some(key),
            plaintext: keep_plaintext.then_some(plain),
            error: None,
        },
        Err(e) => {
            let mut out = EnvelopeOpened::failed(e.code(), e.to_string());
            out.file_key = Some(key);
            out
        }
    }
}

/// Opens every bid of the closing entry with the revealed share keys (and the platform's own),
/// builds the signed opening record, logs it, and moves the tender to `opened`.
pub async fn finish_opening(state: &AppState, t: &Tender) -> AppResult<Signed<OpeningRecord>> {
    let s = opening_state(state, t).await?;
    if s.opened.is_some() {
        return Err(conflict("already_opened", "the bids are already open"));
    }
    let closing = s
        .closing
        .clone()
        .ok_or_else(|| internal("closed without closing"))?;
    let actions = state.store.list_opening_actions(t.id).await?;
    // Share keys per envelope hash, from the reveals (each already checked at reveal time).
    let mut by_env: HashMap<String, Vec<ShareKey>> = HashMap::new();
    let mut revealed_by = Vec::new();
    for a in actions.iter().filter(|a| a.kind == "reveal") {
        let Ok(r) = serde_json::from_str::<Reveal>(&a.doc) else {
            continue;
        };
        revealed_by.push(a.member_index);
        for k in r.keys {
            // A member may only reveal its own seat's share.
            if k.key.index == a.member_index {
                by_env.entry(k.envelope_sha256).or_default().push(k.key);
            }
        }
    }
    let platform = s.seats.iter().find(|x| x.platform).map(|x| PlatformSeat {
        identity: state.sealing.identity.clone(),
        seat: x.index,
    });
    if let Some(p) = &platform {
        revealed_by.push(p.seat);
    }
    revealed_by.sort_unstable();
    if revealed_by.len() < usize::from(s.threshold) {
        return Err(conflict(
            "not_enough_reveals",
            format!(
                "{} of the {} reveals needed are in",
                revealed_by.len(),
                s.threshold
            ),
        ));
    }
    let closing_entry_row = state
        .store
        .log_entry(closing.log_index)
        .await?
        .ok_or_else(|| internal("closing entry missing"))?;
    let closing_body =
        match LogEntryBody::from_leaf(closing_entry_row.entry.as_bytes()).map_err(internal)? {
            LogEntryBody::Closing { closing } => closing,
            _ => return Err(internal("the closing index holds another entry")),
        };
    let closing_size = closing.log_index + 1;
    let mut bids: HashMap<String, Bid> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .map(|b| (b.manifest_digest.clone(), b))
        .collect();
    let mut payments: HashMap<String, Vec<DepositPayment>> = HashMap::new();
    for d in state.store.list_deposit_payments(t.id).await? {
        payments.entry(d.reference.clone()).or_default().push(d);
    }
    let required = t.terms.bid_deposit.amount();
    let tender_id = t.id.to_string();
    // Gather what each bid needs (log entry, proof, keys) first — entries and proofs in one batch
    // each — then open the bids in parallel on the blocking pool, at most one per core:
    // decryption is CPU-bound.
    let mut closed_bids = Vec::with_capacity(closing_body.bids.len());
    for digest in &closing_body.bids {
        closed_bids.push(
            bids.remove(digest)
                .ok_or_else(|| internal("a closed bid is missing"))?,
        );
    }
    let indices: Vec<u64> = closed_bids.iter().map(|b| b.log_index).collect();
    let mut entries: HashMap<u64, String> = state
        .store
        .log_entries_at(&indices)
        .await?
        .into_iter()
        .map(|e| (e.index, e.entry))
        .collect();
    let proofs = state
        .store
        .log_inclusion_proofs(&indices, closing_size)
        .await?;
    let mut org_names: HashMap<sealbid_domain::OrgId, String> = HashMap::new();
    let mut inputs = Vec::with_capacity(closed_bids.len());
    for (bid, proof) in closed_bids.into_iter().zip(proofs) {
        let reference =
            Signed::<sealbid_seal::manifest::Manifest>::from_json_bytes(bid.manifest.as_bytes())
                .map(|m| m.body.deposit_reference)
                .unwrap_or_default();
        let deposits = payments.get(&reference).cloned().unwrap_or_default();
        let mut keys = HashMap::new();
        for sha in bid
            .envelopes
            .iter()
            .map(|e| &e.sha256)
            .chain(deposits.iter().map(|d| &d.envelope.sha256))
        {
            if let Some(k) = by_env.get(sha) {
                keys.insert(sha.clone(), k.clone());
            }
        }
        let entry = entries
            .remove(&bid.log_index)
            .ok_or_else(|| internal("bid entry missing"))?;
        let org_name = match org_names.get(&bid.bidder_org) {
            Some(n) => n.clone(),
            None => {
                let n = state
                    .store
                    .get_org(bid.bidder_org)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                org_names.insert(bid.bidder_org, n.clone());
                n
            }
        };
        inputs.push(OpenBidInput {
            bid,
            reference,
            deposits,
            keys,
            proof: hashes_to_hex(&proof),
            entry,
            org_name,
        });
    }
    let shared = Arc::new(OpenShared {
        blobs: state.blobs.clone(),
        rt: tokio::runtime::Handle::current(),
        platform,
        tender_id: tender_id.clone(),
        required,
    });
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let permits = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for (pos, input) in inputs.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.map_err(internal)?;
        let shared = shared.clone();
        tasks.spawn_blocking(move || {
            let opened = open_bid(&shared, input);
            drop(permit);
            (pos, opened)
        });
    }
    let mut opened_bids = Vec::new();
    let mut documents = Vec::new();
    let mut kept: u64 = 0;
    while let Some(done) = tasks.join_next().await {
        let (pos, (bid, technical)) = done.map_err(internal)?;
        if let Some(bytes) = technical {
            // At most MAX_SCREEN_DOCS_TOTAL bytes of documents are kept for the screening.
            kept += bytes.len() as u64;
            if kept <= crate::screening::MAX_SCREEN_DOCS_TOTAL {
                documents.push(crate::screening::TechnicalDocument {
                    bidder: bid.bidder.clone(),
                    bytes,
                });
            }
        }
        opened_bids.push((pos, bid));
    }
    opened_bids.sort_by_key(|(p, _)| *p);
    let closing_proof = state
        .store
        .log_inclusion_proof(closing.log_index, closing_size)
        .await?;
    let now = state.now();
    let record = OpeningRecord {
        version: 1,
        tender: tender_id,
        tender_code: t.code.as_str().to_string(),
        opening_time: t.terms.opening_time,
        opened_at: now,
        threshold: s.threshold,
        revealed_by,
        deposit_required: required.to_string(),
        closing_index: closing.log_index,
        closing_entry: closing_entry_row.entry,
        closing_proof: hashes_to_hex(&closing_proof),
        closing_checkpoint: closing.checkpoint.clone(),
        bids: opened_bids.into_iter().map(|(_, b)| b).collect(),
    };
    let signed = Signed::sign(record, &state.sealing.signing).map_err(internal)?;
    let valid = signed
        .body
        .bids
        .iter()
        .filter(|b| b.outcome == BidOutcome::Valid)
        .count();
    let leaf = String::from_utf8(
        LogEntryBody::Opening {
            record: signed.clone(),
        }
        .to_leaf()
        .map_err(internal)?,
    )
    .map_err(internal)?;
    let before = t.clone();
    let mut after = t.clone();
    // The tender had enough bids at the closing; invalid bids are the evaluation's business.
    after.open(
        now,
        u32::try_from(valid)
            .unwrap_or(u32::MAX)
            .max(state.rules.min_bids),
        &state.rules,
    )?;
    let mut next = s.clone();
    next.version += 1;
    // The store fills in the record's log index and checkpoint in the same write.
    next.opened = Some(Opened {
        at: now,
        log_index: 0,
        checkpoint: String::new(),
        record: String::from_utf8(signed.to_json_bytes().map_err(internal)?).map_err(internal)?,
    });
    let audit = AuditEvent::new(None, now, "tender.open", "tender", t.id)
        .with_change(Some(&before), Some(&after));
    state
        .store
        .seal_write(SealWrite {
            tender: Some((&after, before.version)),
            sealing: Some((&next, s.version)),
            bid: None,
            log: Some(LogAppend {
                tender_id: t.id,
                kind: "opening",
                entry: leaf,
                at: now,
                signer: &state.sealing.log,
                closing: false,
            }),
            audit: &audit,
        })
        .await?;
    // The anomaly engine screens the opened prices at once; supervisors see its alerts.
    crate::screening::screen_after_opening(state, &after, documents).await;
    Ok(signed)
}

/// What every bid's opening shares.
struct OpenShared {
    blobs: Arc<dyn sealbid_store::BlobStore>,
    rt: tokio::runtime::Handle,
    platform: Option<PlatformSeat>,
    tender_id: String,
    required: Decimal,
}

/// One bid to open, with the share keys of its envelopes and its deposits.
struct OpenBidInput {
    bid: Bid,
    reference: String,
    deposits: Vec<DepositPayment>,
    keys: HashMap<String, Vec<ShareKey>>,
    proof: Vec<String>,
    entry: String,
    org_name: String,
}

/// Opens one bid (on a blocking-pool thread): its envelopes, then the deposits paid to its
/// reference. The first envelope that fails makes the bid invalid, with the reason; an invalid
/// bid publishes no file key and no price.
fn open_bid(sh: &OpenShared, input: OpenBidInput) -> (OpenedBid, Option<Vec<u8>>) {
    let OpenBidInput {
        bid,
        reference,
        deposits,
        keys,
        proof,
        entry,
        org_name,
    } = input;
    let open = |key: &str, sha: &str, size: u64, ctx: &ShareContext, keep: bool| {
        let revealed = keys.get(sha).map(Vec::as_slice).unwrap_or_default();
        match blob_reader_blocking(&sh.blobs, &sh.rt, key) {
            Some(r) => open_one(r, (sha, size), ctx, revealed, sh.platform.as_ref(), keep),
            None => {
                EnvelopeOpened::failed("ciphertext_missing", "the stored ciphertext is missing")
            }
        }
    };
    let mut outcome = BidOutcome::Valid;
    let mut price = None;
    let mut envelopes = Vec::new();
    let mut technical = None;
    for e in &bid.envelopes {
        let kind: EnvelopeKind = e.kind.parse().unwrap_or(EnvelopeKind::Technical);
        let ctx = ShareContext {
            tender: sh.tender_id.clone(),
            bidder: bid.bidder_org.to_string(),
            kind,
        };
        // Price (and any bidder-sealed payer details) are public at the opening; the technical
        // envelope's key is kept for the evaluators and only committed to.
        let public = kind != EnvelopeKind::Technical;
        // The technical document is kept in memory (never stored) for the anomaly engine's
        // document screening right after the opening, up to a size.
        let screen =
            kind == EnvelopeKind::Technical && e.size <= crate::screening::MAX_SCREEN_DOC_BYTES;
        let mut opened = open(&e.blob_key, &e.sha256, e.size, &ctx, public || screen);
        if screen && opened.error.is_none() && technical.is_none() {
            technical = opened.plaintext.take();
        }
        let ok = opened.error.is_none();
        envelopes.push(OpenedEnvelope {
            kind,
            sha256: e.sha256.clone(),
            size: e.size,
            file_key: opened.file_key.filter(|_| public && ok).map(hex::encode),
            file_key_sha256: opened
                .file_key
                .filter(|_| !public && ok)
                .map(|k| hex::encode(Sha256::digest(k))),
        });
        if let Some((code, reason)) = opened.error {
            if outcome == BidOutcome::Valid {
                outcome = BidOutcome::Invalid {
                    code,
                    reason: format!("{} envelope: {reason}", kind.as_str()),
                };
            }
        } else if kind == EnvelopeKind::Price {
            let plain = opened.plaintext.as_deref().unwrap_or_default();
            match opened
                .plaintext
                .as_deref()
                .map(PricePayload::from_json_bytes)
            {
                Some(Ok(p)) => match p.validate() {
                    Ok(()) => price = Some(OpenedPrice::of(&p, plain)),
                    Err(e) => {
                        outcome = BidOutcome::Invalid {
                            code: "bad_price".into(),
                            reason: format!("price envelope: {e}"),
                        }
                    }
                },
                _ => {
                    outcome = BidOutcome::Invalid {
                        code: "bad_price".into(),
                        reason: "the price envelope does not hold a Sealbid price document".into(),
                    }
                }
            }
        }
    }
    // Deposits paid to the bid's reference.
    let mut paid = Decimal::ZERO;
    let mut dep_envs = Vec::new();
    let mut payers = Vec::new();
    for d in &deposits {
        let ctx = ShareContext {
            tender: sh.tender_id.clone(),
            bidder: d.reference.clone(),
            kind: EnvelopeKind::DepositPayer,
        };
        let opened = open(
            &d.envelope.blob_key,
            &d.envelope.sha256,
            d.envelope.size,
            &ctx,
            true,
        );
        let payer = opened
            .plaintext
            .as_deref()
            .and_then(|p| DepositPayerPayload::from_json_bytes(p).ok());
        if let (None, Some(key), Some(payer)) = (&opened.error, opened.file_key, payer) {
            paid += payer.amount;
            dep_envs.push(OpenedEnvelope {
                kind: EnvelopeKind::DepositPayer,
                sha256: d.envelope.sha256.clone(),
                size: d.envelope.size,
                file_key: Some(hex::encode(key)),
                file_key_sha256: None,
            });
            payers.push(payer);
        }
    }
    let sufficient = paid >= sh.required;
    if outcome == BidOutcome::Valid && !sufficient {
        outcome = BidOutcome::Invalid {
            code: "deposit_insufficient".into(),
            reason: format!(
                "deposit of {paid} paid to {reference}; {} is required",
                sh.required
            ),
        };
    }
    if outcome != BidOutcome::Valid {
        price = None;
        for e in envelopes.iter_mut() {
            e.file_key = None;
        }
    }
    let opened = OpenedBid {
        bidder: bid.bidder_org.to_string(),
        bidder_name: org_name,
        log_index: bid.log_index,
        entry,
        proof,
        manifest_digest: bid.manifest_digest.clone(),
        envelopes,
        price,
        deposit: DepositCheck {
            reference,
            paid: paid.to_string(),
            sufficient,
            envelopes: dep_envs,
            payers,
        },
        outcome,
    };
    (opened, technical)
}
