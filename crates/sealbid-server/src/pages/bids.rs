//! The bidder's page of a tender (`/tenders/{id}/bid`): the deposit reference (created by a form
//! post), the `sealbid seal` command line to run on the bidder's own machine with this tender's
//! id, the organisation's id and the reference filled in, a multipart form (no script) that takes
//! the files `sealbid seal` wrote, and the bidder's own bids with their receipts.
//!
//! An upload streams each envelope into the blob store while hashing it (a staging key, renamed
//! to `sealing::envelope_key` once the hash is known, as `api::sealing::upload_envelope` does),
//! then hands the manifest to `sealing::submit_bid`, the one submission path, which checks it
//! against the policy, the deadline and the stored ciphertexts and answers with the receipt only
//! once the bid is stored and logged. When anything fails, nothing is kept: the staged blobs and
//! every envelope this upload created are deleted, and the page shows the stable code and the
//! message.
//!
//! Who may see the page is what the API allows for a bidder's own bids: a tender the viewer may
//! see (404 otherwise), and a bidder acting for an organisation (403 otherwise).
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use futures::{StreamExt, TryStreamExt};
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_domain::{BidId, OrgId};
use sealbid_seal::manifest::SignedManifest;
use sealbid_seal::receipt::Receipt;
use sealbid_store::{Bid, BidStatus, BlobError};
use serde::Deserialize;

use super::sealed::{self, shell_quote, EnvelopeHash};
use super::tenders::load_visible;
use super::{error_page, login_redirect, message_of, problems_of, render, view};
use super::{Nav, ProblemView, Viewer};
use crate::api::documents::capped;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::sealing::{self, Submitted};
use crate::state::AppState;

/// Largest signed manifest the form takes (a manifest lists a few envelopes: a few KiB).
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024;

/// Room for the multipart framing around the files (boundaries, part headers).
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// Envelope files one upload may carry: price and technical (and one spare, so that a person who
/// picks the same file twice is told rather than cut off).
const MAX_ENVELOPE_FILES: usize = 3;

/// Whether `user` bids for an organisation (the only people the bid page is for).
pub fn is_bidder(user: Option<&User>) -> bool {
    user.is_some_and(|u| u.has(Role::Bidder) && u.org.is_some())
}

fn bidder_org(user: &User) -> AppResult<OrgId> {
    match (user.has(Role::Bidder), user.org) {
        (true, Some(org)) => Ok(org),
        _ => Err(AppError::forbidden(
            "only bidders' staff acting for their organisation may bid",
        )),
    }
}

/// The tender (404 if the viewer may not know it exists) and the bidder's organisation (403 for
/// anyone but a bidder of an organisation).
async fn bidder_tender(state: &AppState, user: &User, id: &str) -> AppResult<(Tender, OrgId)> {
    let t = load_visible(state, Some(user), id).await?;
    let org = bidder_org(user)?;
    Ok((t, org))
}

fn bid_path(id: &str) -> String {
    format!("/tenders/{}/bid", id.trim())
}

// ---------------------------------------------------------------------------------------------
// The page

/// A receipt as people read it.
#[derive(Clone)]
pub struct ReceiptView {
    pub index: u64,
    /// The signed checkpoint's time: the bid was logged no later than this.
    pub checkpoint_time: String,
    pub checkpoint_iso: String,
    /// Hex RFC 6962 leaf hash of the log entry.
    pub entry_digest: String,
    pub manifest_digest: String,
    pub download_url: String,
    pub file_name: String,
    pub verify_command: String,
}

pub struct BidRow {
    pub id: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub submitted_at: String,
    pub envelopes: Vec<EnvelopeHash>,
    pub receipt: ReceiptView,
    /// The bid just submitted.
    pub current: bool,
}

pub struct PaymentView {
    pub amount: String,
    pub at: String,
}

/// An error as the page shows it: the stable code, the message and any problems.
pub struct ErrorView {
    pub code: String,
    pub message: String,
    pub problems: Vec<ProblemView>,
}

impl ErrorView {
    fn new(e: &AppError) -> ErrorView {
        ErrorView {
            code: e.code().to_string(),
            message: message_of(e),
            problems: problems_of(e),
        }
    }
}

#[derive(Template)]
#[template(path = "bid.html")]
struct BidPage {
    nav: Nav,
    id: String,
    code: String,
    title: String,
    state: &'static str,
    state_label: &'static str,
    deadline: String,
    deadline_iso: String,
    countdown: Option<String>,
    bid_deposit: String,
    bidding_open: bool,
    /// Why bids are not taken now, when they are not.
    closed_note: Option<String>,
    org_id: String,
    reference: Option<String>,
    payments: Vec<PaymentView>,
    keygen_command: String,
    seal_command: String,
    max_bid: String,
    error: Option<ErrorView>,
    /// The receipt of the bid just submitted.
    receipt: Option<ReceiptView>,
    bids: Vec<BidRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BidQuery {
    /// A deposit reference just created (checked to be the viewer's for this tender).
    reference: String,
    /// The bid just submitted (its receipt is shown at the top).
    submitted: String,
}

/// What a page shows besides the stored state.
#[derive(Default)]
struct Extras {
    error: Option<AppError>,
    /// A deposit reference to show if it is the bidder's own for this tender.
    reference: Option<String>,
    submitted: Option<BidId>,
    base: Option<String>,
}

fn status_label(s: BidStatus) -> &'static str {
    match s {
        BidStatus::Active => "Active 有效",
        BidStatus::Replaced => "Replaced 已被替换",
        BidStatus::Withdrawn => "Withdrawn 已撤回",
    }
}

fn receipt_file(t: &Tender, bid: &Bid) -> String {
    format!("receipt-{}-{}.json", t.code, bid.log_index)
}

fn receipt_view(state: &AppState, t: &Tender, bid: &Bid, receipt: &Receipt) -> ReceiptView {
    let log_key = state.sealing.log_verifier();
    let (checkpoint_time, checkpoint_iso) = match receipt.verify(&log_key) {
        Ok(v) => (view::time(v.time), view::iso(v.time)),
        Err(e) => {
            tracing::error!(bid = %bid.id, error = %e, "a stored bid's receipt does not verify");
            (
                "(the checkpoint does not verify)".to_string(),
                String::new(),
            )
        }
    };
    let file_name = receipt_file(t, bid);
    ReceiptView {
        index: receipt.index,
        checkpoint_time,
        checkpoint_iso,
        entry_digest: hex::encode(sealbid_seal::merkle::leaf_hash(receipt.entry.as_bytes())),
        manifest_digest: bid.manifest_digest.clone(),
        download_url: format!("/tenders/{}/bid/receipts/{}.json", t.id, bid.id),
        verify_command: format!(
            "sealbid verify-receipt {} --log-key {} --deadline {} --manifest manifest.json",
            shell_quote(&file_name),
            shell_quote(&log_key.to_string()),
            view::iso(t.terms.bid_deadline),
        ),
        file_name,
    }
}

/// The deposit reference of the bidder's latest bid for the tender.
fn reference_of(bids: &[Bid]) -> Option<String> {
    bids.iter().rev().find_map(|b| {
        SignedManifest::from_json_bytes(b.manifest.as_bytes())
            .ok()
            .map(|m| m.body.deposit_reference)
    })
}

fn closed_note(t: &Tender, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    if sealing::ensure_bidding_open(t, now).is_ok() {
        return None;
    }
    Some(match t.state {
        TenderState::Published | TenderState::Closed => format!(
            "The bid deadline ({}) has passed: no bid can be submitted, replaced or withdrawn. \
             投标已截止",
            view::time(t.terms.bid_deadline)
        ),
        other => format!(
            "This tender is {}: bids are taken only while it is published. 当前不接受投标",
            view::state_label(other)
        ),
    })
}

async fn build_page(
    state: &AppState,
    t: &Tender,
    org: OrgId,
    extras: &Extras,
    nav: Nav,
) -> AppResult<BidPage> {
    let now = state.now();
    let mine: Vec<Bid> = state.store.list_bids_of(t.id, org).await?;
    // The reference: one just created or named by a failed upload's manifest (if it is this
    // bidder's for this tender), else the one of the latest bid.
    let mut reference = None;
    if let Some(r) = extras.reference.as_deref().map(str::trim) {
        if !r.is_empty() {
            if let Some(d) = state.store.find_deposit_reference(r).await? {
                if d.tender_id == t.id && d.bidder_org == org {
                    reference = Some(d.reference);
                }
            }
        }
    }
    let reference = reference.or_else(|| reference_of(&mine));
    let payments = match &reference {
        Some(r) => state
            .store
            .list_deposit_payments(t.id)
            .await?
            .into_iter()
            .filter(|p| &p.reference == r)
            .map(|p| PaymentView {
                amount: p
                    .amount
                    .parse::<rust_decimal::Decimal>()
                    .map(view::yuan)
                    .unwrap_or(p.amount),
                at: view::time(p.received_at),
            })
            .collect(),
        None => Vec::new(),
    };
    let mut bids = Vec::new();
    let mut receipt = None;
    // Newest first.
    for b in mine.iter().rev() {
        let r = receipt_view(state, t, b, &sealing::bid_receipt(state, b).await?);
        let current = extras.submitted == Some(b.id);
        if current {
            receipt = Some(r.clone());
        }
        bids.push(BidRow {
            id: b.id.to_string(),
            status: b.status.as_str(),
            status_label: status_label(b.status),
            submitted_at: view::time(b.submitted_at),
            envelopes: b
                .envelopes
                .iter()
                .map(|e| EnvelopeHash {
                    kind: match e.kind.as_str() {
                        "price" => "price",
                        "technical" => "technical",
                        _ => "envelope",
                    },
                    sha256: e.sha256.clone(),
                })
                .collect(),
            receipt: r,
            current,
        });
    }
    let server = sealed::server_arg(extras.base.as_deref());
    let seal_command = format!(
        "sealbid seal --server {} --log-key {} --tender {} --bidder {} --deposit-reference {} \
         --signing-key signing.key --price price.json --technical technical/ --out bid/",
        shell_quote(&server),
        shell_quote(&state.sealing.log_verifier().to_string()),
        t.id,
        org,
        reference
            .as_deref()
            .map(shell_quote)
            .unwrap_or_else(|| "REFERENCE".into()),
    );
    Ok(BidPage {
        nav,
        id: t.id.to_string(),
        code: t.code.to_string(),
        title: t.terms.title.clone(),
        state: t.state.as_str(),
        state_label: view::state_label(t.state),
        deadline: view::time(t.terms.bid_deadline),
        deadline_iso: view::iso(t.terms.bid_deadline),
        countdown: view::countdown(now, t.terms.bid_deadline),
        bid_deposit: view::yuan(t.terms.bid_deposit.amount()),
        bidding_open: sealing::ensure_bidding_open(t, now).is_ok(),
        closed_note: closed_note(t, now),
        org_id: org.to_string(),
        reference,
        payments,
        keygen_command: "sealbid keygen --signing --out signing.key".to_string(),
        seal_command,
        max_bid: view::size(state.settings.max_bid_bytes),
        error: extras.error.as_ref().map(ErrorView::new),
        receipt,
        bids,
    })
}

/// Renders the bid page; with an error, with the error's status.
async fn page_response(
    state: &AppState,
    user: &CurrentUser,
    t: &Tender,
    org: OrgId,
    extras: Extras,
) -> Response {
    let nav = Nav::new(Some(user), "tenders");
    match build_page(state, t, org, &extras, nav.clone()).await {
        Ok(page) => {
            let status = extras
                .error
                .as_ref()
                .map(AppError::status)
                .unwrap_or(StatusCode::OK);
            render(status, &page, &nav)
        }
        Err(e) => error_page(e, &nav),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<BidQuery>, QueryRejection>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&bid_path(&id));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let (t, org) = match bidder_tender(&state, &user.user, &id).await {
        Ok(x) => x,
        Err(e) => return error_page(e, &nav),
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let extras = Extras {
        error: None,
        reference: Some(q.reference),
        submitted: BidId::parse(q.submitted.trim()).ok(),
        base: sealed::server_base(&state, &headers),
    };
    page_response(&state, &user, &t, org, extras).await
}

// ---------------------------------------------------------------------------------------------
// The deposit reference

/// Creates (or finds again) the bidder's deposit reference and shows it.
pub async fn deposit_reference(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&bid_path(&id));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let (t, org) = match bidder_tender(&state, &user.user, &id).await {
        Ok(x) => x,
        Err(e) => return error_page(e, &nav),
    };
    match sealing::deposit_reference(&state, &user.user, &t).await {
        Ok(r) => Redirect::to(&format!(
            "/tenders/{}/bid?reference={}",
            t.id,
            view::url_encode(&r.reference)
        ))
        .into_response(),
        Err(e @ AppError::Internal(_)) => error_page(e, &nav),
        Err(e) => {
            let extras = Extras {
                error: Some(e),
                base: sealed::server_base(&state, &headers),
                ..Extras::default()
            };
            page_response(&state, &user, &t, org, extras).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The upload

/// Takes the files `sealbid seal` wrote and submits the bid; on success, the page with the
/// receipt (after a redirect, so that reloading does not send the files again).
pub async fn upload(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&bid_path(&id));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let base = sealed::server_base(&state, req.headers());
    let (t, org) = match bidder_tender(&state, &user.user, &id).await {
        Ok(x) => x,
        Err(e) => return error_page(e, &nav),
    };
    let mut named_reference = None;
    match receive_bid(&state, &user.user, &t, org, req, &mut named_reference).await {
        Ok(s) => {
            Redirect::to(&format!("/tenders/{}/bid?submitted={}", t.id, s.bid.id)).into_response()
        }
        Err(e @ AppError::Internal(_)) => error_page(e, &nav),
        // Refused: the page as it is now, with the code and the reason.
        Err(e) => match bidder_tender(&state, &user.user, &id).await {
            Ok((current, org)) => {
                let extras = Extras {
                    error: Some(e),
                    reference: named_reference,
                    submitted: None,
                    base,
                };
                page_response(&state, &user, &current, org, extras).await
            }
            Err(e) => error_page(e, &nav),
        },
    }
}

/// One envelope file of the form, staged and hashed.
struct StagedFile {
    /// The form field (`price`, `technical`).
    field: String,
    /// The file's name as the browser sent it.
    name: String,
    staging: String,
    sha256: String,
    size: u64,
}

/// Blob keys this upload wrote: the staging keys (always deleted) and the envelopes it created
/// (deleted unless the bid was stored).
#[derive(Default)]
struct Written {
    staged: Vec<String>,
    created: Vec<String>,
}

/// Reads the form, stages the envelopes, submits the bid; deletes what must not stay.
async fn receive_bid(
    state: &AppState,
    user: &User,
    t: &Tender,
    org: OrgId,
    req: Request,
    named_reference: &mut Option<String>,
) -> AppResult<Submitted> {
    // What can be refused before reading the upload is refused before reading it.
    sealing::ensure_bidding_open(t, state.now())?;
    let mut written = Written::default();
    let result = stage_and_submit(state, user, t, org, req, &mut written, named_reference).await;
    for key in &written.staged {
        if let Err(e) = state.blobs.delete(key).await {
            tracing::warn!(key = %key, error = %e, "could not delete a staged envelope");
        }
    }
    if result.is_err() && !written.created.is_empty() {
        delete_unreferenced(state, t, &written.created).await;
    }
    result
}

/// Deletes envelopes this upload created for a bid that was refused — but never one a stored
/// bid names (should the refusal have come after the bid was stored, or another upload of the
/// same bytes have been stored meanwhile). When the bids cannot be read, nothing is deleted:
/// an orphaned ciphertext is harmless, a bid without its envelope is not.
async fn delete_unreferenced(state: &AppState, t: &Tender, created: &[String]) {
    let referenced: std::collections::HashSet<String> = match state.store.list_bids(t.id).await {
        Ok(bids) => bids
            .into_iter()
            .flat_map(|b| b.envelopes.into_iter().map(|e| e.blob_key))
            .collect(),
        Err(e) => {
            tracing::warn!(tender = %t.id, error = %e, "could not list bids; refused envelopes kept");
            return;
        }
    };
    for key in created.iter().filter(|k| !referenced.contains(*k)) {
        if let Err(e) = state.blobs.delete(key).await {
            tracing::warn!(key = %key, error = %e, "could not delete a refused bid's envelope");
        }
    }
}

fn blob_error(e: BlobError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("blob store"))
}

fn too_large(limit: u64) -> AppError {
    AppError::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

async fn stage_and_submit(
    state: &AppState,
    user: &User,
    t: &Tender,
    org: OrgId,
    req: Request,
    written: &mut Written,
    named_reference: &mut Option<String>,
) -> AppResult<Submitted> {
    let limit = state.settings.max_bid_bytes;
    let body_limit = limit
        .saturating_mul(MAX_ENVELOPE_FILES as u64)
        .saturating_add(MAX_MANIFEST_BYTES as u64)
        .saturating_add(MULTIPART_OVERHEAD);
    let body_tripped = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    // Where the upload comes from (the browser sends no device id).
    let upload = sealing::upload_source(
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip()),
        &axum::http::HeaderMap::new(),
    )?;
    let body = capped(
        body.into_data_stream()
            .map_err(std::io::Error::other)
            .boxed(),
        body_limit,
        body_tripped.clone(),
    );
    let req = Request::from_parts(parts, Body::from_stream(body));
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| AppError::InvalidBody(e.body_text()))?;
    let mut manifest: Option<Vec<u8>> = None;
    let mut files: Vec<StagedFile> = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) if body_tripped.load(Ordering::Relaxed) => return Err(too_large(body_limit)),
            Err(e) => return Err(AppError::InvalidBody(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_string();
        // Old browsers send the whole path of the file: keep its last part.
        let file_name = field
            .file_name()
            .and_then(|n| n.rsplit(['/', '\\']).next())
            .unwrap_or_default()
            .to_string();
        match name.as_str() {
            "manifest" => {
                // An input left empty arrives as a part without a file name.
                if file_name.is_empty() {
                    continue;
                }
                if manifest.is_some() {
                    return Err(AppError::invalid(
                        "invalid_manifest",
                        "manifest",
                        "choose one manifest.json",
                    ));
                }
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if bytes.len() + chunk.len() > MAX_MANIFEST_BYTES {
                                return Err(AppError::invalid(
                                    "invalid_manifest",
                                    "manifest",
                                    format!(
                                        "{file_name} is larger than a manifest can be ({}): choose the manifest.json that `sealbid seal` wrote",
                                        view::size(MAX_MANIFEST_BYTES as u64)
                                    ),
                                ));
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(_) if body_tripped.load(Ordering::Relaxed) => {
                            return Err(too_large(body_limit))
                        }
                        Err(e) => return Err(AppError::InvalidBody(e.body_text())),
                    }
                }
                manifest = Some(bytes);
            }
            "price" | "technical" => {
                if file_name.is_empty() {
                    continue;
                }
                if files.len() >= MAX_ENVELOPE_FILES {
                    return Err(AppError::invalid(
                        "too_many_files",
                        &name,
                        "a bid has a price envelope and at most a technical one",
                    ));
                }
                let staging = format!(
                    "bids/{}/staging/{}",
                    t.id,
                    hex::encode(&state.tokens.secret()[..16])
                );
                written.staged.push(staging.clone());
                let tripped = Arc::new(AtomicBool::new(false));
                let stream = field.map_err(std::io::Error::other).boxed();
                let stored = state
                    .blobs
                    .put_stream(&staging, capped(stream, limit, tripped.clone()))
                    .await;
                let meta = match stored {
                    Ok(m) => m,
                    Err(_) if tripped.load(Ordering::Relaxed) => return Err(too_large(limit)),
                    Err(_) if body_tripped.load(Ordering::Relaxed) => {
                        return Err(too_large(body_limit))
                    }
                    Err(BlobError::Upload(e)) => {
                        return Err(AppError::BadRequest {
                            code: "upload_failed",
                            message: format!(
                                "the upload did not arrive whole ({e}): send it again"
                            ),
                        })
                    }
                    Err(e) => return Err(blob_error(e)),
                };
                if meta.size == 0 {
                    return Err(AppError::invalid(
                        "empty_envelope",
                        &name,
                        format!("{file_name} is empty: choose the .age file `sealbid seal` wrote"),
                    ));
                }
                files.push(StagedFile {
                    field: name,
                    name: file_name,
                    staging,
                    sha256: meta.sha256,
                    size: meta.size,
                });
            }
            // Anything else is skipped without keeping it.
            _ => continue,
        }
    }
    let Some(manifest) = manifest else {
        return Err(AppError::invalid(
            "no_manifest",
            "manifest",
            "choose the manifest.json that `sealbid seal` wrote",
        ));
    };
    if files.is_empty() {
        return Err(AppError::invalid(
            "no_envelope",
            "price",
            "choose the envelope files `sealbid seal` wrote: price.age, and technical.age if you sealed technical documents",
        ));
    }
    // Every file must be one the manifest lists (a file of another `sealbid seal` run would
    // otherwise only show as a missing envelope). A manifest that does not parse is left to
    // `submit_bid`, which says why.
    if let Ok(signed) = SignedManifest::from_json_bytes(&manifest) {
        *named_reference = Some(signed.body.deposit_reference.clone());
        for f in &files {
            let listed = signed
                .body
                .envelopes
                .iter()
                .any(|e| e.sha256 == f.sha256 && e.size == f.size);
            if !listed {
                return Err(AppError::invalid(
                    "manifest_mismatch",
                    &f.field,
                    format!(
                        "{} (SHA-256 {}) is not an envelope this manifest lists: choose the files of one `sealbid seal` run",
                        f.name, f.sha256
                    ),
                ));
            }
        }
    }
    // Give each envelope its content-addressed key. A blob already there holds these very bytes
    // (uploaded before, or part of an earlier bid) and is kept as it is — and never deleted here.
    for f in &files {
        let key = sealing::envelope_key(t.id, org, &f.sha256);
        if state.blobs.head(&key).await.map_err(blob_error)?.is_none() {
            state
                .blobs
                .rename(&f.staging, &key)
                .await
                .map_err(blob_error)?;
            written.created.push(key);
        }
    }
    // The tender again: it may have changed while the files were arriving.
    let current = load_visible(state, Some(user), &t.id.to_string()).await?;
    sealing::submit_bid(state, user, &current, &manifest, Some(upload)).await
}

// ---------------------------------------------------------------------------------------------
// Receipts

/// The receipt of one of the bidder's own bids as a JSON file (what `sealbid submit` keeps as
/// receipt.json), for `sealbid verify-receipt`.
pub async fn receipt(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let Some(user) = user else {
        return login_redirect(&bid_path(&id));
    };
    let nav = Nav::new(Some(&user), "tenders");
    let result: AppResult<Response> = async {
        let (t, org) = bidder_tender(&state, &user.user, &id).await?;
        let bid_id = file
            .strip_suffix(".json")
            .and_then(|s| BidId::parse(s).ok())
            .ok_or(AppError::NotFound("receipt"))?;
        // Another bidder's bid is as unknown as a missing one.
        let bid = state
            .store
            .get_bid(bid_id)
            .await?
            .filter(|b| b.tender_id == t.id && b.bidder_org == org)
            .ok_or(AppError::NotFound("receipt"))?;
        let r = sealing::bid_receipt(&state, &bid).await?;
        let json = serde_json::to_vec_pretty(&r)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("receipt json: {e}")))?;
        let disposition = HeaderValue::from_str(&format!(
            "attachment; filename=\"{}\"",
            receipt_file(&t, &bid)
                .chars()
                .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
                .collect::<String>()
        ))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("content-disposition: {e}")))?;
        Ok((
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            json,
        )
            .into_response())
    }
    .await;
    match result {
        Ok(r) => r,
        Err(e) => error_page(e, &nav),
    }
}
