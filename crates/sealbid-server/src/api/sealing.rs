//! Sealed bids over HTTP: the opening committee and its keys, deposit references, envelope
//! uploads, signed manifests answered with receipts, withdrawal, the public transparency log, the
//! bank's deposit callback, and the opening ceremony (commit, reveal, record).
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use sealbid_domain::org::Role;
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_domain::{BidId, TenderId, UserId};
use sealbid_store::{Bid, BlobError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::documents::capped;
use super::tenders::load;
use super::{AppJson, AppPath, AppQuery};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::sealing::{self, BankCallback, EnvelopeToOpen, SeatSpec};
use crate::state::AppState;

/// Largest reveal document: room for about 180,000 envelopes' keys.
pub const MAX_REVEAL_BYTES: usize = 32 * 1024 * 1024;

/// The header carrying the bank callback's HMAC-SHA256 (hex) of the raw body.
pub const BANK_SIGNATURE_HEADER: &str = "x-sealbid-signature";

fn to_value<T: Serialize>(v: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ----- committee -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatRequest {
    pub name: String,
    /// e.g. tenderee, supervisor, notary.
    #[serde(default)]
    pub role: String,
    /// The account that holds the seat (it may then register its own key).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    /// The member's `age1…` key, if already known.
    pub recipient: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteeRequest {
    /// Shares needed to open (≥ 2).
    pub threshold: u8,
    pub seats: Vec<SeatRequest>,
    /// Add a seat held by the platform itself (it holds at most one share).
    #[serde(default)]
    pub platform_seat: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeatView {
    pub index: u8,
    pub name: String,
    pub role: String,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<UserId>,
    pub platform: bool,
    pub recipient: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeView {
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    pub threshold: u8,
    pub seats: Vec<SeatView>,
    /// The signed sealing policy, once the tender is published.
    #[schema(value_type = Option<Object>)]
    pub policy: Option<serde_json::Value>,
    /// Hex SHA-256 of the policy's signing bytes: what bidders seal to.
    pub policy_hash: Option<String>,
    /// The log's verifier key (C2SP note key).
    pub log_key: String,
    /// The closing checkpoint, once closed.
    pub closing_checkpoint: Option<String>,
    /// Bids sealed at the deadline.
    pub closing_bids: Option<u32>,
}

fn committee_view(state: &AppState, s: &sealbid_store::TenderSealing) -> AppResult<CommitteeView> {
    let (policy, policy_hash) = match &s.policy {
        Some(_) => {
            let p = sealing::policy_of(s)?;
            (
                Some(to_value(&p)?),
                Some(
                    p.body
                        .hash_hex()
                        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
                ),
            )
        }
        None => (None, None),
    };
    Ok(CommitteeView {
        tender_id: s.tender_id,
        threshold: s.threshold,
        seats: s
            .seats
            .iter()
            .map(|x| SeatView {
                index: x.index,
                name: x.name.clone(),
                role: x.role.clone(),
                user_id: x.user_id,
                platform: x.platform,
                recipient: x.recipient.clone(),
            })
            .collect(),
        policy,
        policy_hash,
        log_key: state.sealing.log_verifier().to_string(),
        closing_checkpoint: s
            .closing
            .as_ref()
            .filter(|c| !c.checkpoint.is_empty())
            .map(|c| c.checkpoint.clone()),
        closing_bids: s.closing.as_ref().map(|c| c.bids),
    })
}

/// The tender's opening committee, its sealing policy and (once closed) its closing checkpoint.
#[utoipa::path(
    get,
    path = "/tenders/{id}/committee",
    tag = "sealing",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The committee", body = CommitteeView),
        (status = 404, description = "No such tender, or no committee yet", body = ErrorBody),
    )
)]
pub async fn get_committee(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<CommitteeView>> {
    let t = load(&state, id).await?;
    let s = state.store.get_sealing(id).await?;
    // A seat holder may read the committee of a tender not yet public (it registers its key
    // there); anyone else sees what the visibility rules allow.
    let holds_a_seat = match (&s, &user) {
        (Some(s), Some(u)) => s.seats.iter().any(|x| x.user_id == Some(u.user.id)),
        _ => false,
    };
    if !holds_a_seat {
        policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    }
    let s = s.ok_or(AppError::NotFound("committee"))?;
    Ok(AppJson(committee_view(&state, &s)?))
}

/// Sets the tender's opening committee (the owning tenderee, while it is a draft); the tender's
/// committee terms become this committee's "any t of n".
#[utoipa::path(
    put,
    path = "/tenders/{id}/committee",
    tag = "sealing",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = CommitteeRequest,
    responses(
        (status = 200, description = "The committee", body = CommitteeView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not a draft (`committee_fixed`)", body = ErrorBody),
        (status = 422, description = "Bad threshold, seat or key", body = ErrorBody),
    )
)]
pub async fn set_committee(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<CommitteeRequest>,
) -> AppResult<AppJson<CommitteeView>> {
    let t = load(&state, id).await?;
    let seats = req
        .seats
        .into_iter()
        .map(|s| SeatSpec {
            name: s.name,
            role: s.role,
            user_id: s.user_id,
            recipient: s.recipient,
        })
        .collect();
    let s = sealing::set_committee(
        &state,
        &user.user,
        &t,
        req.threshold,
        seats,
        req.platform_seat,
    )
    .await?;
    Ok(AppJson(committee_view(&state, &s)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// The member's `age1…` public key.
    pub recipient: String,
}

/// Registers the caller's key for their seat (the seat's member, before publication).
#[utoipa::path(
    put,
    path = "/tenders/{id}/committee/seats/{seat}/key",
    tag = "sealing",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("seat" = u8, Path, description = "Seat index (1-based)"),
    ),
    request_body = KeyRequest,
    responses(
        (status = 200, description = "The committee", body = CommitteeView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not this seat's member", body = ErrorBody),
        (status = 404, description = "No such tender or seat", body = ErrorBody),
        (status = 409, description = "Already published", body = ErrorBody),
        (status = 422, description = "Not an age1… key", body = ErrorBody),
    )
)]
pub async fn register_key(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, seat)): AppPath<(TenderId, u8)>,
    AppJson(req): AppJson<KeyRequest>,
) -> AppResult<AppJson<CommitteeView>> {
    let t = load(&state, id).await?;
    let s = sealing::register_key(&state, &user.user, &t, seat, &req.recipient).await?;
    Ok(AppJson(committee_view(&state, &s)?))
}

// ----- bids -----

#[derive(Debug, Serialize, ToSchema)]
pub struct DepositReferenceView {
    /// Pay the bid deposit to this reference; it says nothing about who you are.
    pub reference: String,
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    /// The deposit the tender requires (yuan).
    pub required: String,
}

/// The caller's deposit reference for the tender (a bidder; created on first request).
#[utoipa::path(
    post,
    path = "/tenders/{id}/deposit-reference",
    tag = "sealing",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The reference", body = DepositReferenceView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Not taking bids", body = ErrorBody),
    )
)]
pub async fn deposit_reference(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<DepositReferenceView>> {
    let t = load(&state, id).await?;
    let r = sealing::deposit_reference(&state, &user.user, &t).await?;
    Ok(AppJson(DepositReferenceView {
        reference: r.reference,
        tender_id: id,
        required: t.terms.bid_deposit.amount().to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnvelopeStored {
    pub sha256: String,
    pub size: u64,
}

/// Uploads one sealed envelope (an age file) before its manifest; the body's SHA-256 must equal
/// the path's. Refused after the deadline, with nothing stored.
#[utoipa::path(
    put,
    path = "/tenders/{id}/envelopes/{sha256}",
    tag = "sealing",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("sha256" = String, Path, description = "Lower-case hex SHA-256 of the ciphertext"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The age file"),
    responses(
        (status = 201, description = "Stored", body = EnvelopeStored),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Deadline passed (`deadline_passed`) or not taking bids", body = ErrorBody),
        (status = 413, description = "Larger than the limit", body = ErrorBody),
        (status = 422, description = "The body's hash is not the path's, or it is not an age file", body = ErrorBody),
    )
)]
pub async fn upload_envelope(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, sha256)): AppPath<(TenderId, String)>,
    body: Body,
) -> AppResult<(StatusCode, AppJson<EnvelopeStored>)> {
    let t = load(&state, id).await?;
    policy::ensure_visible(Some(&user.user), &t)?;
    let org = match (user.has(Role::Bidder), user.user.org) {
        (true, Some(o)) => o,
        _ => return Err(AppError::forbidden("only bidders' staff may upload bids")),
    };
    sealing::ensure_bidding_open(&t, state.now())?;
    if !is_sha256(&sha256) {
        return Err(AppError::invalid(
            "invalid_sha256",
            "sha256",
            "the path names the envelope by its lower-case hex SHA-256",
        ));
    }
    let staging = format!(
        "bids/{id}/staging/{}",
        hex::encode(&state.tokens.secret()[..16])
    );
    let limit = state.settings.max_bid_bytes;
    let tripped = Arc::new(AtomicBool::new(false));
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .boxed();
    let stored = state
        .blobs
        .put_stream(&staging, capped(stream, limit, tripped.clone()))
        .await;
    let result = async {
        let meta = match stored {
            Ok(m) => m,
            Err(_) if tripped.load(std::sync::atomic::Ordering::Relaxed) => {
                return Err(AppError::BodyTooLarge {
                    limit: usize::try_from(limit).unwrap_or(usize::MAX),
                })
            }
            Err(BlobError::Upload(e)) => {
                return Err(AppError::BadRequest {
                    code: "upload_failed",
                    message: format!("the upload did not arrive whole ({e}): send it again"),
                })
            }
            Err(e) => return Err(AppError::Internal(anyhow::Error::new(e))),
        };
        if meta.sha256 != sha256 {
            return Err(AppError::invalid(
                "hash_mismatch",
                "body",
                format!(
                    "the body's SHA-256 is {}, not the {sha256} the path names: upload the file again",
                    meta.sha256
                ),
            ));
        }
        // It must be an age file with a readable header (only the header is read back).
        let header = sealing::stored_header(&state, &staging)
            .await
            .map_err(|e| match e {
                AppError::Invalid { message, .. } => AppError::invalid(
                    "bad_envelope",
                    "body",
                    format!("not a sealed envelope ({message}): upload the .age file `sealbid seal` wrote"),
                ),
                other => other,
            })?;
        if header.is_none() {
            return Err(AppError::invalid(
                "bad_envelope",
                "body",
                "the upload vanished: send it again",
            ));
        }
        // The deadline again, now that the bytes are in.
        sealing::ensure_bidding_open(&t, state.now())?;
        let key = sealing::envelope_key(id, org, &sha256);
        state
            .blobs
            .rename(&staging, &key)
            .await
            .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
        Ok(EnvelopeStored {
            sha256: meta.sha256,
            size: meta.size,
        })
    }
    .await;
    let _ = state.blobs.delete(&staging).await;
    Ok((StatusCode::CREATED, AppJson(result?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidView {
    #[schema(value_type = String, format = Uuid)]
    pub id: BidId,
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    /// active, replaced or withdrawn.
    pub status: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub manifest_digest: String,
    pub log_index: u64,
    /// The envelopes' kinds, hashes and sizes.
    #[schema(value_type = Object)]
    pub envelopes: serde_json::Value,
}

impl BidView {
    fn from(b: &Bid) -> AppResult<BidView> {
        Ok(BidView {
            id: b.id,
            tender_id: b.tender_id,
            status: b.status.as_str().to_string(),
            submitted_at: b.submitted_at,
            manifest_digest: b.manifest_digest.clone(),
            log_index: b.log_index,
            envelopes: to_value(
                &b.envelopes
                    .iter()
                    .map(
                        |e| serde_json::json!({"kind": e.kind, "sha256": e.sha256, "size": e.size}),
                    )
                    .collect::<Vec<_>>(),
            )?,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidReceipt {
    pub bid: BidView,
    /// The receipt: the log entry, its index, inclusion proof and signed checkpoint.
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
}

/// Submits a bid: the signed manifest of envelopes already uploaded. Answers with the receipt
/// only once the bid is stored and logged. A later bid of the same bidder replaces the earlier.
#[utoipa::path(
    post,
    path = "/tenders/{id}/bids",
    tag = "sealing",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body(content = Object, description = "The signed manifest `sealbid seal` wrote"),
    responses(
        (status = 201, description = "Stored and logged", body = BidReceipt),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Deadline passed or the same manifest again", body = ErrorBody),
        (status = 422, description = "Bad signature, policy, deposit reference or envelope", body = ErrorBody),
    )
)]
pub async fn submit_bid(
    State(state): State<AppState>,
    user: CurrentUser,
    client: crate::auth::ClientIp,
    AppPath(id): AppPath<TenderId>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, AppJson<BidReceipt>)> {
    let t = load(&state, id).await?;
    let upload = sealing::upload_source(client.0, &headers)?;
    let s = sealing::submit_bid(&state, &user.user, &t, &body, Some(upload)).await?;
    Ok((
        StatusCode::CREATED,
        AppJson(BidReceipt {
            bid: BidView::from(&s.bid)?,
            receipt: to_value(&s.receipt)?,
        }),
    ))
}

/// Withdraws the caller's active bid with a signed withdrawal (logged; nothing is deleted).
#[utoipa::path(
    post,
    path = "/tenders/{id}/bids/withdraw",
    tag = "sealing",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body(content = Object, description = "The signed withdrawal `sealbid withdraw` wrote"),
    responses(
        (status = 200, description = "Withdrawn and logged", body = BidReceipt),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender or bid", body = ErrorBody),
        (status = 409, description = "Deadline passed, or the bid is not active", body = ErrorBody),
        (status = 422, description = "Bad signature", body = ErrorBody),
    )
)]
pub async fn withdraw_bid(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    body: Bytes,
) -> AppResult<AppJson<BidReceipt>> {
    let t = load(&state, id).await?;
    let (bid, receipt) = sealing::withdraw_bid(&state, &user.user, &t, &body).await?;
    Ok(AppJson(BidReceipt {
        bid: BidView::from(&bid)?,
        receipt: to_value(&receipt)?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidCount {
    /// Bids sealed and active now (never who).
    pub sealed: u64,
}

/// How many bids are sealed (never who): public once the tender is published.
#[utoipa::path(
    get,
    path = "/tenders/{id}/bids/count",
    tag = "sealing",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The count", body = BidCount),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn count_bids(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<BidCount>> {
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    Ok(AppJson(BidCount {
        sealed: state.store.count_active_bids(id).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyBids {
    pub bids: Vec<BidReceipt>,
    pub deposit_reference: Option<String>,
}

/// The caller's own bids for the tender with their receipts (a bidder).
#[utoipa::path(
    get,
    path = "/tenders/{id}/bids/mine",
    tag = "sealing",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Your bids, oldest first", body = MyBids),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not a bidder", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn my_bids(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<MyBids>> {
    let t = load(&state, id).await?;
    policy::ensure_visible(Some(&user.user), &t)?;
    let org = match (user.has(Role::Bidder), user.user.org) {
        (true, Some(o)) => o,
        _ => return Err(AppError::forbidden("only bidders have bids")),
    };
    let mut out = Vec::new();
    let mut deposit_reference = None;
    for b in state.store.list_bids_of(id, org).await? {
        if deposit_reference.is_none() {
            deposit_reference =
                sealbid_seal::signed::Signed::<sealbid_seal::manifest::Manifest>::from_json_bytes(
                    b.manifest.as_bytes(),
                )
                .ok()
                .map(|m| m.body.deposit_reference);
        }
        let receipt = sealing::bid_receipt(&state, &b).await?;
        out.push(BidReceipt {
            bid: BidView::from(&b)?,
            receipt: to_value(&receipt)?,
        });
    }
    Ok(AppJson(MyBids {
        bids: out,
        deposit_reference,
    }))
}

/// A stored ciphertext: the bidder's own any time; anyone's once the tender is opened (so the
/// opening record can be verified).
#[utoipa::path(
    get,
    path = "/tenders/{id}/envelopes/{sha256}",
    tag = "sealing",
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("sha256" = String, Path, description = "Lower-case hex SHA-256 of the ciphertext"),
    ),
    responses(
        (status = 200, description = "The age file", content_type = "application/octet-stream"),
        (status = 404, description = "No such envelope, or not yours before the opening", body = ErrorBody),
    )
)]
pub async fn download_envelope(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath((id, sha256)): AppPath<(TenderId, String)>,
) -> AppResult<Response> {
    let t = load(&state, id).await?;
    let user = user.map(|u| u.user);
    policy::ensure_visible(user.as_ref(), &t)?;
    if !is_sha256(&sha256) {
        return Err(AppError::NotFound("envelope"));
    }
    let opened = state
        .store
        .get_sealing(id)
        .await?
        .is_some_and(|s| s.opened.is_some());
    let mut key = None;
    for b in state.store.list_bids(id).await? {
        let mine = user
            .as_ref()
            .is_some_and(|u| u.org == Some(b.bidder_org) && u.has(Role::Bidder));
        if opened || mine {
            if let Some(e) = b.envelopes.iter().find(|e| e.sha256 == sha256) {
                key = Some(e.blob_key.clone());
            }
        }
    }
    if opened && key.is_none() {
        key = state
            .store
            .list_deposit_payments(id)
            .await?
            .into_iter()
            .find(|d| d.envelope.sha256 == sha256)
            .map(|d| d.envelope.blob_key);
    }
    let key = key.ok_or(AppError::NotFound("envelope"))?;
    let stream = state.blobs.get_stream(&key).await.map_err(|e| match e {
        BlobError::NotFound(_) => AppError::NotFound("envelope"),
        other => AppError::Internal(anyhow::Error::new(other)),
    })?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from_stream(stream),
    )
        .into_response())
}

// ----- the log -----

#[derive(Debug, Serialize, ToSchema)]
pub struct LogKey {
    /// The log's verifier key, `name+hash+base64` (C2SP signed note): pin it.
    pub key: String,
    pub origin: String,
}

/// The log's verifier key.
#[utoipa::path(
    get,
    path = "/log/key",
    tag = "log",
    responses((status = 200, description = "The key", body = LogKey))
)]
pub async fn log_key(State(state): State<AppState>) -> AppJson<LogKey> {
    let v = state.sealing.log_verifier();
    AppJson(LogKey {
        key: v.to_string(),
        origin: v.name().to_string(),
    })
}

/// The latest signed checkpoint (C2SP tlog-checkpoint, signed note text).
#[utoipa::path(
    get,
    path = "/log/checkpoint",
    tag = "log",
    responses((status = 200, description = "The checkpoint note", content_type = "text/plain"))
)]
pub async fn log_checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let size = state.store.log_size().await?;
    let root = state.store.log_root(size).await?;
    let cp = sealbid_seal::checkpoint::Checkpoint::with_time(
        state.sealing.log_verifier().name().to_string(),
        size,
        root,
        state.now(),
    );
    let signed = sealbid_seal::checkpoint::SignedCheckpoint::sign(cp, &state.sealing.log)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        signed.note,
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntryView {
    pub index: u64,
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    pub kind: String,
    /// Hex RFC 6962 leaf hash.
    pub leaf_hash: String,
    /// The exact leaf data; withheld (null) for a tender's bids, withdrawals and deposits until
    /// that tender is opened, so the log never says who bid before the opening.
    pub entry: Option<String>,
}

/// Log entries `[start, end)` (at most 1000). A tender's bid, withdrawal and deposit entries show
/// only their leaf hashes until the tender is opened.
#[utoipa::path(
    get,
    path = "/log/entries",
    tag = "log",
    params(RangeQuery),
    responses(
        (status = 200, description = "The entries", body = Vec<LogEntryView>),
        (status = 400, description = "Bad range", body = ErrorBody),
    )
)]
pub async fn log_entries(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<RangeQuery>,
) -> AppResult<AppJson<Vec<LogEntryView>>> {
    if q.end < q.start || q.end - q.start > 1000 {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            message: "ask for at most 1000 entries, start ≤ end".into(),
        });
    }
    let rows = state.store.log_entries(q.start, q.end).await?;
    let mut opened: std::collections::HashMap<TenderId, bool> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for e in rows {
        let public = match e.kind.as_str() {
            "bid" | "withdrawal" | "deposit" => {
                if let Some(o) = opened.get(&e.tender_id) {
                    *o
                } else {
                    let o = state
                        .store
                        .get_sealing(e.tender_id)
                        .await?
                        .is_some_and(|s| s.opened.is_some());
                    opened.insert(e.tender_id, o);
                    o
                }
            }
            _ => true,
        };
        out.push(LogEntryView {
            index: e.index,
            tender_id: e.tender_id,
            kind: e.kind,
            leaf_hash: hex::encode(e.leaf_hash),
            entry: public.then_some(e.entry),
        });
    }
    Ok(AppJson(out))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProofQuery {
    /// Inclusion: the entry's index; consistency: the older tree size.
    pub index: Option<u64>,
    pub from: Option<u64>,
    /// The tree size the proof is for.
    pub size: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProofView {
    pub size: u64,
    /// Hex hashes.
    pub proof: Vec<String>,
    /// Hex root of the tree of `size`.
    pub root: String,
}

/// An inclusion proof (`index`, `size`) or a consistency proof (`from`, `size`).
#[utoipa::path(
    get,
    path = "/log/proof",
    tag = "log",
    params(ProofQuery),
    responses(
        (status = 200, description = "The proof", body = ProofView),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 422, description = "Size beyond the log", body = ErrorBody),
    )
)]
pub async fn log_proof(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ProofQuery>,
) -> AppResult<AppJson<ProofView>> {
    let invalid = |e: sealbid_store::StoreError| match e {
        sealbid_store::StoreError::Invalid(m) => {
            AppError::invalid("invalid_proof_request", "size", m)
        }
        other => other.into(),
    };
    let proof = match (q.index, q.from) {
        (Some(i), None) => state
            .store
            .log_inclusion_proof(i, q.size)
            .await
            .map_err(invalid)?,
        (None, Some(f)) => state
            .store
            .log_consistency_proof(f, q.size)
            .await
            .map_err(invalid)?,
        _ => {
            return Err(AppError::BadRequest {
                code: "invalid_query",
                message: "give either index (inclusion) or from (consistency), with size".into(),
            })
        }
    };
    let root = state.store.log_root(q.size).await.map_err(invalid)?;
    Ok(AppJson(ProofView {
        size: q.size,
        proof: proof.iter().map(hex::encode).collect(),
        root: hex::encode(root),
    }))
}

// ----- the bank -----

#[derive(Debug, Serialize, ToSchema)]
pub struct DepositReceived {
    pub reference: String,
    pub amount: String,
    /// False when the bank repeated a transaction already recorded.
    pub new: bool,
}

/// The bank's deposit callback: "reference R paid amount A" with the payer's details, which are
/// sealed to the committee at once. HMAC-SHA256 of the raw body in `X-Sealbid-Signature` (hex);
/// idempotent on the bank's transaction id.
#[utoipa::path(
    post,
    path = "/bank/deposits",
    tag = "sealing",
    request_body = BankCallback,
    responses(
        (status = 200, description = "Recorded (or already recorded)", body = DepositReceived),
        (status = 401, description = "Missing or wrong signature", body = ErrorBody),
        (status = 404, description = "Unknown reference", body = ErrorBody),
        (status = 422, description = "Bad field", body = ErrorBody),
    )
)]
pub async fn bank_deposit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<AppJson<DepositReceived>> {
    let mac = headers
        .get(BANK_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| hex::decode(v.trim()).ok());
    if !mac.is_some_and(|m| state.sealing.bank_mac_ok(&body, &m)) {
        // 401: the caller is not authenticated as the bank.
        return Err(AppError::Unauthenticated);
    }
    let cb: BankCallback =
        serde_json::from_slice(&body).map_err(|e| AppError::InvalidBody(e.to_string()))?;
    let (p, new) = sealing::bank_payment(&state, cb).await?;
    Ok(AppJson(DepositReceived {
        reference: p.reference,
        amount: p.amount,
        new,
    }))
}

// ----- the opening -----

/// The envelopes to open, with their headers (a committee member, at or after the opening time).
#[utoipa::path(
    get,
    path = "/tenders/{id}/opening/envelopes",
    tag = "opening",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The envelopes", body = Vec<EnvelopeToOpen>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not on the committee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Before the opening time (`opening_not_yet`), not closed, or failed", body = ErrorBody),
    )
)]
pub async fn opening_envelopes(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<EnvelopeToOpen>>> {
    let t = opening_tender(&state, &user, id).await?;
    let s = state
        .store
        .get_sealing(id)
        .await?
        .ok_or(AppError::NotFound("committee"))?;
    sealing::seat_of(&s, &user.user)?;
    Ok(AppJson(sealing::envelopes_to_open(&state, &t).await?))
}

/// Loads the tender and refuses before the opening time, whoever asks.
async fn opening_tender(state: &AppState, user: &CurrentUser, id: TenderId) -> AppResult<Tender> {
    let t = load(state, id).await?;
    policy::ensure_visible(Some(&user.user), &t)?;
    sealing::ensure_opening_time(&t, state.now())?;
    if t.state == TenderState::Failed {
        return Err(AppError::Conflict {
            code: "tender_failed",
            message: "the tender failed with too few bids: there is no opening".into(),
            state: Some(t.state),
        });
    }
    if matches!(t.state, TenderState::Published) {
        return Err(AppError::Conflict {
            code: "not_closed",
            message: "the tender has not been closed yet".into(),
            state: Some(t.state),
        });
    }
    Ok(t)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// SHA-256 (hex) of the reveal document you will send.
    pub commitment: String,
}

/// A member commits to its reveal (at or after the opening time).
#[utoipa::path(
    post,
    path = "/tenders/{id}/opening/commit",
    tag = "opening",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body = CommitRequest,
    responses(
        (status = 204, description = "Committed"),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not on the committee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Before the opening time, already committed or opened", body = ErrorBody),
        (status = 422, description = "Not a SHA-256", body = ErrorBody),
    )
)]
pub async fn opening_commit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppJson(req): AppJson<CommitRequest>,
) -> AppResult<super::NoContent> {
    let t = opening_tender(&state, &user, id).await?;
    sealing::commit(&state, &user.user, &t, &req.commitment).await?;
    Ok(super::NoContent)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealOutcome {
    /// True when this reveal completed the threshold and the bids were opened.
    pub opened: bool,
    /// The signed opening record, when opened.
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
}

/// A member reveals its share keys (matching its commitment). The reveal that completes the
/// threshold opens the bids.
#[utoipa::path(
    post,
    path = "/tenders/{id}/opening/reveal",
    tag = "opening",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    request_body(content = Object, description = "The reveal document `sealbid committee open` wrote"),
    responses(
        (status = 200, description = "Accepted", body = RevealOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not on the committee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Before the opening time, not committed, too few commitments, or already opened", body = ErrorBody),
        (status = 422, description = "Does not match the commitment", body = ErrorBody),
    )
)]
pub async fn opening_reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    body: Bytes,
) -> AppResult<AppJson<RevealOutcome>> {
    let t = opening_tender(&state, &user, id).await?;
    let record = sealing::reveal(&state, &user.user, &t, &body).await?;
    Ok(AppJson(RevealOutcome {
        opened: record.is_some(),
        record: record.as_ref().map(to_value).transpose()?,
    }))
}

/// Opens the bids once enough reveals are in (a member, the tenderee or a centre officer), e.g.
/// after a failed attempt.
#[utoipa::path(
    post,
    path = "/tenders/{id}/opening/finish",
    tag = "opening",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "Opened", body = RevealOutcome),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Before the opening time, too few reveals, or already opened", body = ErrorBody),
    )
)]
pub async fn opening_finish(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<RevealOutcome>> {
    let t = opening_tender(&state, &user, id).await?;
    let s = state
        .store
        .get_sealing(id)
        .await?
        .ok_or(AppError::NotFound("committee"))?;
    let member = sealing::seat_of(&s, &user.user).is_ok();
    if !member
        && policy::ensure_owner(&user.user, &t).is_err()
        && policy::ensure_reviewer(&user.user, &t).is_err()
    {
        return Err(AppError::forbidden(
            "only the committee, the tenderee or a centre officer may finish the opening",
        ));
    }
    let record = sealing::finish_opening(&state, &t).await?;
    Ok(AppJson(RevealOutcome {
        opened: true,
        record: Some(to_value(&record)?),
    }))
}

/// The signed opening record (public once opened).
#[utoipa::path(
    get,
    path = "/tenders/{id}/opening/record",
    tag = "opening",
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The signed record", content_type = "application/json"),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Before the opening time (`opening_not_yet`) or not opened yet", body = ErrorBody),
    )
)]
pub async fn opening_record(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<Response> {
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref().map(|u| &u.user), &t)?;
    sealing::ensure_opening_time(&t, state.now())?;
    let s = state
        .store
        .get_sealing(id)
        .await?
        .ok_or(AppError::NotFound("committee"))?;
    let Some(o) = s.opened else {
        return Err(AppError::Conflict {
            code: "not_opened",
            message: "the bids have not been opened yet".into(),
            state: Some(t.state),
        });
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        o.record,
    )
        .into_response())
}
