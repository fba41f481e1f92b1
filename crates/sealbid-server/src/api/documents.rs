//! Tender documents as files: upload (streamed into the blob store while hashed), download and
//! withdrawal. The bytes live in the blob store under `tenders/{tender_id}/documents/{sha256}`;
//! the tender's terms list each file by name, SHA-256 and size.
//!
//! - An upload streams to a staging key (`tenders/{id}/staging/{random}`) within
//!   `ServerSettings::max_document_bytes`; once its hash is known it is renamed to its
//!   content-addressed key. On any failure the staging blob is deleted, so nothing is left behind.
//! - In a draft, adding or withdrawing a document edits the draft. Once published (before the
//!   deadline), it is an amendment (法 23): a change less than 15 days before the deadline moves
//!   the deadline. In any other state the documents are fixed.
//! - A withdrawn document's blob is kept: the audit trail and earlier amendments name it, and
//!   bidders may still fetch what was published.
//! - Downloads serve only files the tender lists now or listed before (never an arbitrary blob),
//!   to whoever may see the tender.
//!
//! [`add_document`] is the one upload path: the API's raw-body endpoint and the tender page's
//! multipart form both call it.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::User;
use sealbid_domain::tender::{
    Amendment, Tender, TenderDocument, TenderError, TenderState, TermsPatch,
};
use sealbid_domain::{AmendmentId, TenderId};
use sealbid_store::blob::{BlobError, BlobMeta, ByteStream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{AmendmentView, DocumentDto};
use super::tenders::load;
use super::{AppJson, AppPath, AppQuery};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// Longest document name, in bytes (UTF-8).
pub const MAX_NAME_BYTES: usize = 255;

/// The blob key of a tender's document.
pub fn document_key(tender: TenderId, sha256: &str) -> String {
    format!("tenders/{tender}/documents/{sha256}")
}

/// Where the API serves a tender's document.
pub fn download_path(tender: TenderId, sha256: &str) -> String {
    format!("/api/v1/tenders/{tender}/documents/{sha256}")
}

/// Unicode's bidirectional formatting characters: a name like `report\u{202E}fdp.exe` would
/// show as `reportexe.pdf`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a document's name: 1 to 255 bytes once trimmed, no path separator, no control or
/// bidirectional formatting character, not `.` or `..`. Returns the trimmed name.
pub fn document_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || is_bidi_control(c));
    if ok {
        Ok(name.to_string())
    } else {
        Err(AppError::invalid(
            "invalid_document_name",
            "name",
            format!(
                "a document name needs 1 to {MAX_NAME_BYTES} bytes, with no '/' or '\\', \
                 control characters or direction overrides, e.g. name=招标文件.pdf"
            ),
        ))
    }
}

/// Whether `s` is a lower-case hex SHA-256, as documents are listed.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `Content-Disposition` for a download: `attachment`, an ASCII `filename` for old clients and
/// the exact name as `filename*` in RFC 5987 encoding (UTF-8, percent-encoded), which every
/// current browser prefers.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
        // "_" / "`" / "|" / "~"
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The rule for when a tender's documents may change: a draft, or a published tender before its
/// deadline (by amendment). The domain's errors, so the answer is the same 409 as any other
/// transition the state does not allow.
fn ensure_documents_changeable(t: &Tender, now: chrono::DateTime<chrono::Utc>) -> AppResult<()> {
    match t.state {
        TenderState::Draft => Ok(()),
        TenderState::Published if now < t.terms.bid_deadline => Ok(()),
        TenderState::Published => Err(TenderError::DeadlinePassed {
            deadline: t.terms.bid_deadline,
        }
        .into()),
        from => Err(TenderError::IllegalTransition {
            from,
            action: "changed: documents are added or withdrawn in a draft, or by amendment \
                     while the tender is published",
        }
        .into()),
    }
}

/// A 413 for a document over the limit.
fn too_large(limit: u64) -> AppError {
    AppError::BodyTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

fn blob_error(e: BlobError) -> AppError {
    match e {
        BlobError::NotFound(_) => AppError::NotFound("document"),
        other => AppError::Internal(anyhow::Error::new(other).context("blob store")),
    }
}

/// `stream`, failing once more than `limit` bytes have passed; `tripped` records that it did.
pub(crate) fn capped<'a>(
    stream: ByteStream<'a>,
    limit: u64,
    tripped: Arc<AtomicBool>,
) -> ByteStream<'a> {
    let mut seen: u64 = 0;
    stream
        .map(move |chunk| {
            let chunk = chunk?;
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > limit {
                tripped.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other(format!(
                    "the upload is larger than the limit of {limit} bytes"
                )));
            }
            Ok(chunk)
        })
        .boxed()
}

/// A document added, and the amendment that published it if the tender was published.
#[derive(Debug)]
pub(crate) struct DocumentAdded {
    pub document: TenderDocument,
    pub amendment: Option<Amendment>,
}

/// Adds a document to a tender: checks who and when, streams `body` into the blob store within
/// the size limit while hashing it, and lists it in the tender — as an edit of a draft, or an
/// amendment of a published tender. `declared_len` (a `Content-Length`) refuses an upload that
/// announces itself too large before a byte is read. Nothing is kept if any step fails.
pub(crate) async fn add_document(
    state: &AppState,
    user: &User,
    tender_id: TenderId,
    name: &str,
    declared_len: Option<u64>,
    body: ByteStream<'_>,
) -> AppResult<DocumentAdded> {
    // Everything that can be refused without the bytes is refused before reading them.
    let before = load(state, tender_id).await?;
    policy::ensure_owner(user, &before)?;
    let name = document_name(name)?;
    ensure_documents_changeable(&before, state.now())?;
    let limit = state.settings.max_document_bytes;
    match declared_len {
        Some(n) if n > limit => return Err(too_large(limit)),
        Some(0) => return Err(empty_document()),
        _ => {}
    }

    let staging = format!(
        "tenders/{tender_id}/staging/{}",
        hex::encode(&state.tokens.secret()[..16])
    );
    let tripped = Arc::new(AtomicBool::new(false));
    let stored = state
        .blobs
        .put_stream(&staging, capped(body, limit, tripped.clone()))
        .await;
    let result = match stored {
        Ok(meta) => list_document(state, user, tender_id, name, &meta, &staging).await,
        Err(_) if tripped.load(Ordering::Relaxed) => Err(too_large(limit)),
        Err(BlobError::Upload(e)) => Err(AppError::BadRequest {
            code: "upload_failed",
            message: format!("the upload did not arrive whole ({e}): send it again"),
        }),
        Err(e) => Err(blob_error(e)),
    };
    // On success the staged blob has been renamed (or was a copy of a blob already kept); on
    // failure it is garbage. Either way nothing may stay at the staging key.
    if let Err(e) = state.blobs.delete(&staging).await {
        tracing::warn!(key = %staging, error = %e, "could not delete a staged upload");
    }
    result
}

fn empty_document() -> AppError {
    AppError::invalid(
        "empty_document",
        "body",
        "the document is empty: send the file's bytes as the request body",
    )
}

/// The second half of an upload: the bytes are staged and hashed; check the tender again (it may
/// have changed while the file was arriving), give the blob its content-addressed key and list
/// the document.
async fn list_document(
    state: &AppState,
    user: &User,
    tender_id: TenderId,
    name: String,
    meta: &BlobMeta,
    staging: &str,
) -> AppResult<DocumentAdded> {
    if meta.size == 0 {
        return Err(empty_document());
    }
    let before = load(state, tender_id).await?;
    policy::ensure_owner(user, &before)?;
    ensure_documents_changeable(&before, state.now())?;
    if let Some(d) = before
        .terms
        .documents
        .iter()
        .find(|d| d.sha256 == meta.sha256)
    {
        return Err(AppError::Conflict {
            code: "duplicate_document",
            message: format!(
                "this file is already listed as \"{}\" (SHA-256 {})",
                d.name, d.sha256
            ),
            state: None,
        });
    }
    let document = TenderDocument {
        name,
        sha256: meta.sha256.clone(),
        size: meta.size,
    };
    let key = document_key(tender_id, &meta.sha256);
    // The key is content-addressed: a blob already there (a withdrawn document uploaded again)
    // holds these very bytes and is kept as it is.
    let created = match state.blobs.head(&key).await.map_err(blob_error)? {
        Some(_) => false,
        None => {
            state
                .blobs
                .rename(staging, &key)
                .await
                .map_err(blob_error)?;
            true
        }
    };
    let mut documents = before.terms.documents.clone();
    documents.push(document.clone());
    let saved = save_documents(
        state,
        user,
        &before,
        documents,
        "tender.document.add",
        format!("Document added: {}", document.name),
    )
    .await;
    match saved {
        Ok(amendment) => Ok(DocumentAdded {
            document,
            amendment,
        }),
        Err(e) => {
            if created {
                forget_unlisted_blob(state, tender_id, &key, &document.sha256).await;
            }
            Err(e)
        }
    }
}

/// Deletes a blob this upload created when listing it failed — unless the tender lists it after
/// all (a concurrent upload of the same file won the race).
async fn forget_unlisted_blob(state: &AppState, tender_id: TenderId, key: &str, sha256: &str) {
    let listed = match state.store.get_tender(tender_id).await {
        Ok(Some(t)) => t.terms.documents.iter().any(|d| d.sha256 == sha256),
        Ok(None) => false,
        // Unknown: keep the blob rather than risk removing a listed file.
        Err(_) => true,
    };
    if !listed {
        if let Err(e) = state.blobs.delete(key).await {
            tracing::warn!(key, error = %e, "could not delete the blob of a failed upload");
        }
    }
}

/// Writes a tender's new list of documents: an edit of a draft (audited as `action`), or an
/// amendment of a published tender with `summary`, which may move the deadline (法 23).
async fn save_documents(
    state: &AppState,
    user: &User,
    before: &Tender,
    documents: Vec<TenderDocument>,
    action: &str,
    summary: String,
) -> AppResult<Option<Amendment>> {
    let now = state.now();
    let mut t = before.clone();
    let amendment = if before.state == TenderState::Draft {
        let mut terms = before.terms.clone();
        terms.documents = documents;
        t.edit_draft(terms)?;
        None
    } else {
        let changes = TermsPatch {
            documents: Some(documents),
            ..TermsPatch::default()
        };
        Some(t.amend(
            AmendmentId::new(),
            now,
            user.id,
            summary,
            changes,
            &state.rules,
        )?)
    };
    let audit = AuditEvent::new(Some(user.id), now, action, "tender", t.id)
        .with_change(Some(before), Some(&t));
    match &amendment {
        None => {
            state
                .store
                .update_tender(&t, before.version, &audit)
                .await?
        }
        Some(a) => {
            state
                .store
                .add_amendment(&t, before.version, a, &audit)
                .await?
        }
    }
    Ok(amendment)
}

/// The name under which a tender lists (or listed) the file with this hash, if the viewer may
/// fetch it: the current documents for anyone who sees the tender; earlier lists from the audit
/// trail's images of the tender — those of its public states for everyone, every image for
/// those who may read the trail (so a file withdrawn from a draft is not published by accident).
async fn listed_name(
    state: &AppState,
    user: Option<&User>,
    t: &Tender,
    sha256: &str,
) -> AppResult<Option<String>> {
    if let Some(d) = t.terms.documents.iter().find(|d| d.sha256 == sha256) {
        return Ok(Some(d.name.clone()));
    }
    let whole_trail = user.is_some_and(|u| policy::ensure_can_read_audit(u, t).is_ok());
    let records = state
        .store
        .audit_for_entity("tender", &t.id.to_string())
        .await?;
    let mut found = None;
    for record in records {
        let Ok(event) = record.event() else { continue };
        for image in [event.before, event.after].into_iter().flatten() {
            let public = image["state"]
                .as_str()
                .and_then(TenderState::parse)
                .is_some_and(|s| s.is_public());
            if !(public || whole_trail) {
                continue;
            }
            let listed = image["terms"]["documents"].as_array().into_iter().flatten();
            for d in listed {
                if d["sha256"].as_str() == Some(sha256) {
                    found = d["name"].as_str().map(str::to_string).or(found);
                }
            }
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// What an upload or a withdrawal did: the document, and the amendment that published the change
/// if the tender was already published.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentChange {
    pub document: DocumentDto,
    /// Where the file is downloaded.
    pub download_url: String,
    /// Set when the tender was published: the change is an amendment (法 23), which moved the
    /// deadline if it came less than 15 days before it.
    pub amendment: Option<AmendmentView>,
}

impl DocumentChange {
    fn new(tender: TenderId, document: TenderDocument, amendment: Option<Amendment>) -> Self {
        DocumentChange {
            download_url: download_path(tender, &document.sha256),
            document: document.into(),
            amendment: amendment.map(Into::into),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as bidders will see it: 1–255 bytes, no `/`, `\` or control characters
    /// (percent-encode it: `name=%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6.pdf`).
    pub name: Option<String>,
}

/// The raw bytes of a file, for the OpenAPI document.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// Uploads a tender document (the owning tenderee): the request body is the file itself, streamed
/// and hashed; `name` says what bidders will see. In a draft the document is added to the terms;
/// in a published tender it is an amendment, which moves the deadline if it comes less than 15
/// days before it (法 23). The file is refused whole (and nothing is kept) if it is larger than
/// the server's limit (`body_too_large`), empty (`empty_document`) or already listed
/// (`duplicate_document`).
#[utoipa::path(
    post,
    path = "/tenders/{id}/documents",
    tag = "documents",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        UploadQuery,
    ),
    request_body(
        content = FileBytes,
        content_type = "application/octet-stream",
        description = "The file's bytes (any content type is accepted)"
    ),
    responses(
        (status = 201, description = "Listed; `amendment` is set for a published tender", body = DocumentChange),
        (status = 400, description = "The upload broke off", body = ErrorBody),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
        (status = 409, description = "Already listed (`duplicate_document`), or the documents cannot change in this state", body = ErrorBody),
        (status = 413, description = "Larger than the limit", body = ErrorBody),
        (status = 422, description = "Invalid name or empty file", body = ErrorBody),
    )
)]
pub async fn upload_document(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
    AppQuery(q): AppQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(
    StatusCode,
    [(header::HeaderName, String); 1],
    AppJson<DocumentChange>,
)> {
    let declared_len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let stream = body
        .into_data_stream()
        .map_err(std::io::Error::other)
        .boxed();
    let name = q.name.unwrap_or_default();
    let added = add_document(&state, &user.user, id, &name, declared_len, stream).await?;
    let change = DocumentChange::new(id, added.document, added.amendment);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, change.download_url.clone())],
        AppJson(change),
    ))
}

/// Withdraws a document (the owning tenderee): from a draft it is simply removed; from a
/// published tender the withdrawal is an amendment (法 23). The file itself is kept, since the
/// audit trail and earlier amendments name it.
#[utoipa::path(
    delete,
    path = "/tenders/{id}/documents/{sha256}",
    tag = "documents",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("sha256" = String, Path, description = "The document's lower-case hex SHA-256"),
    ),
    responses(
        (status = 200, description = "Withdrawn; `amendment` is set for a published tender", body = DocumentChange),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not the owning tenderee", body = ErrorBody),
        (status = 404, description = "No such tender, or the tender lists no such document", body = ErrorBody),
        (status = 409, description = "The documents cannot change in this state", body = ErrorBody),
    )
)]
pub async fn withdraw_document(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, sha256)): AppPath<(TenderId, String)>,
) -> AppResult<AppJson<DocumentChange>> {
    let before = load(&state, id).await?;
    policy::ensure_owner(&user.user, &before)?;
    ensure_documents_changeable(&before, state.now())?;
    let document = before
        .terms
        .documents
        .iter()
        .find(|d| d.sha256 == sha256)
        .cloned()
        .ok_or(AppError::NotFound("document"))?;
    let documents = before
        .terms
        .documents
        .iter()
        .filter(|d| d.sha256 != sha256)
        .cloned()
        .collect();
    let amendment = save_documents(
        &state,
        &user.user,
        &before,
        documents,
        "tender.document.withdraw",
        format!("Document withdrawn: {}", document.name),
    )
    .await?;
    Ok(AppJson(DocumentChange::new(id, document, amendment)))
}

/// Downloads a tender document (whoever may see the tender; a hidden draft is a 404 like a
/// missing id). Only files the tender lists, or listed before, are served. The `ETag` is the
/// file's SHA-256, so `If-None-Match` answers 304 when the copy is current.
#[utoipa::path(
    get,
    path = "/tenders/{id}/documents/{sha256}",
    tag = "documents",
    params(
        ("id" = String, Path, format = Uuid, description = "Tender id"),
        ("sha256" = String, Path, description = "The document's lower-case hex SHA-256"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment named as listed", content_type = "application/octet-stream", body = FileBytes,
            headers(
                ("Content-Disposition" = String, description = "attachment; filename*=UTF-8''… (RFC 5987)"),
                ("ETag" = String, description = "The quoted SHA-256"),
            )),
        (status = 304, description = "Not modified (`If-None-Match` names this file)"),
        (status = 404, description = "No such tender (or not visible to you), or no such document", body = ErrorBody),
    )
)]
pub async fn download_document(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    AppPath((id, sha256)): AppPath<(TenderId, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let user = user.map(|u| u.user);
    let t = load(&state, id).await?;
    policy::ensure_visible(user.as_ref(), &t)?;
    if !is_sha256(&sha256) {
        return Err(AppError::NotFound("document"));
    }
    let name = listed_name(&state, user.as_ref(), &t, &sha256)
        .await?
        .ok_or(AppError::NotFound("document"))?;
    let key = document_key(id, &sha256);
    let size = state
        .blobs
        .head(&key)
        .await
        .map_err(blob_error)?
        .ok_or(AppError::NotFound("document"))?;
    let etag = format!("\"{sha256}\"");
    let cache = HeaderValue::from_static("private, no-cache");
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let etag_value = HeaderValue::from_str(&etag)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("ETag header: {e}")))?;
    if not_modified {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    let disposition = HeaderValue::from_str(&content_disposition(&name))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("Content-Disposition header: {e}")))?;
    let stream = state.blobs.get_stream(&key).await.map_err(blob_error)?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes RFC 5987's percent-encoding.
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn content_disposition_encodes_any_name_per_rfc_5987() {
        assert_eq!(
            content_disposition("招标文件.pdf"),
            "attachment; filename=\"____.pdf\"; \
             filename*=UTF-8''%E6%8B%9B%E6%A0%87%E6%96%87%E4%BB%B6.pdf"
        );
        assert_eq!(
            content_disposition("spec-v1.2_final.pdf"),
            "attachment; filename=\"spec-v1.2_final.pdf\"; filename*=UTF-8''spec-v1.2_final.pdf"
        );
        // Quotes, backslashes-free specials, spaces and '%' never break out of the header.
        assert_eq!(
            content_disposition("a \"b\" 100%;x=y.pdf"),
            "attachment; filename=\"a _b_ 100_;x=y.pdf\"; \
             filename*=UTF-8''a%20%22b%22%20100%25%3Bx%3Dy.pdf"
        );
        for name in [
            "招标文件（第二版）.docx",
            "a\"b",
            "x;y,z",
            "résumé 2025 ~ü.pdf",
            "%41",
        ] {
            let v = content_disposition(name);
            HeaderValue::from_str(&v).expect("a valid header value");
            let encoded = v.split("filename*=UTF-8''").nth(1).unwrap();
            assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)));
            assert_eq!(decode(encoded), name, "round trip of {name}");
        }
    }

    #[test]
    fn document_names_are_checked() {
        for ok in [
            "招标文件.pdf",
            "a",
            " spaced name.pdf ",
            "x..y",
            &"n".repeat(255),
        ] {
            assert_eq!(document_name(ok).unwrap(), ok.trim(), "{ok:?}");
        }
        let long_chinese = "文".repeat(86); // 258 bytes
        for bad in [
            "",
            "   ",
            ".",
            "..",
            "a/b.pdf",
            "..\\x.pdf",
            "a\nb",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "invoice\u{202E}fdp.exe",
            &"n".repeat(256),
            &long_chinese,
        ] {
            let e = document_name(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_document_name", "{bad:?}");
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    }

    #[test]
    fn only_lower_case_hex_digests_are_document_ids() {
        assert!(is_sha256(&"a1".repeat(32)));
        assert!(!is_sha256(&"A1".repeat(32)));
        assert!(!is_sha256(&"a1".repeat(31)));
        assert!(!is_sha256(&format!("{}/..", "a".repeat(60))));
    }

    /// Uploads far past the 256 KiB JSON body limit go through both routes with the default
    /// settings (the end-to-end tests run with a small document limit, which cannot show this).
    #[tokio::test]
    async fn both_routes_take_files_beyond_the_json_body_limit() {
        use axum::http::Request;
        use chrono::TimeZone;
        use http_body_util::BodyExt;
        use sealbid_domain::org::{Hall, OrgKind, Organisation, Role};
        use sealbid_domain::tender::{
            Category, CommitteePolicy, EvaluationMethod, TenderCode, TenderTerms,
        };
        use sealbid_domain::{DivisionCode, ManualClock, Money, OrgId, UserId, WorkingCalendar};
        use sealbid_store::SessionKind;
        use tower::ServiceExt;

        let now = chrono::Utc.with_ymd_and_hms(2025, 3, 3, 1, 0, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            Arc::new(sealbid_store::SqliteStore::open_in_memory().await.unwrap()),
            Arc::new(sealbid_store::ObjectBlobStore::local(dir.path()).unwrap()),
            Arc::new(ManualClock::new(now)),
            Arc::new(WorkingCalendar::try_builtin().unwrap()),
            crate::state::ServerSettings::default(),
        )
        .expect("fresh platform keys");
        let hall = DivisionCode::parse("370202").unwrap();
        let audit = |kind: &str| AuditEvent::new(None, now, "seed", kind, "x");
        state
            .store
            .upsert_hall(
                &Hall {
                    division: hall.clone(),
                    name: "Shinan".into(),
                },
                &audit("hall"),
            )
            .await
            .unwrap();
        let org = Organisation {
            id: OrgId::new(),
            credit_code: sealbid_domain::credit_code::complete_credit_code("91370200MA0000001")
                .unwrap(),
            name: "Shinan Roads Bureau".into(),
            kind: OrgKind::Tenderee,
            hall: hall.clone(),
            created_at: now,
        };
        state.store.create_org(&org, &audit("org")).await.unwrap();
        let user = User {
            id: UserId::new(),
            username: "wang".into(),
            display_name: "Wang".into(),
            roles: vec![Role::Tenderee],
            org: Some(org.id),
            hall: hall.clone(),
            active: true,
            created_at: now,
        };
        state
            .store
            .create_user(&user, "x", &audit("user"))
            .await
            .unwrap();
        let terms = TenderTerms {
            title: "Roads".into(),
            description: String::new(),
            category: Category::Works,
            mandatory: true,
            estimated_price: Money::parse("100000").unwrap(),
            ceiling_price: None,
            bid_deposit: Money::ZERO,
            documents: Vec::new(),
            bid_deadline: now + chrono::Duration::days(30),
            opening_time: now + chrono::Duration::days(30),
            evaluation_method: EvaluationMethod::LowestEvaluatedPrice,
            qualification_criteria: Vec::new(),
            committee: CommitteePolicy::default(),
        };
        let t = Tender::new_draft(
            TenderId::new(),
            TenderCode::parse("T-BIG").unwrap(),
            hall,
            org.id,
            user.id,
            terms,
            now,
        );
        state
            .store
            .create_tender(&t, &audit("tender"))
            .await
            .unwrap();
        let (token, _) = crate::auth::start_session(&state, &user, SessionKind::Bearer)
            .await
            .unwrap();
        let app = crate::router(state.clone());
        let big = |seed: u8| -> Vec<u8> {
            (0..3 * 1024 * 1024)
                .map(|i: u32| (i % 251) as u8 ^ seed)
                .collect()
        };

        let api = big(1);
        let resp = app
            .clone()
            .oneshot(
                Request::post(format!("/api/v1/tenders/{}/documents?name=big.pdf", t.id))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::from(api.clone()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);

        let page = big(2);
        let boundary = "b0undary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big2.pdf\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&page);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = app
            .clone()
            .oneshot(
                Request::post(format!("/tenders/{}/documents", t.id))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);

        let listed = state
            .store
            .get_tender(t.id)
            .await
            .unwrap()
            .unwrap()
            .terms
            .documents;
        assert_eq!(listed.len(), 2);
        for (d, bytes) in listed.iter().zip([&api, &page]) {
            assert_eq!(d.size, bytes.len() as u64);
            let resp = app
                .clone()
                .oneshot(
                    Request::get(download_path(t.id, &d.sha256))
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let got = resp.into_body().collect().await.unwrap().to_bytes();
            assert!(got == bytes.as_slice(), "{} came back whole", d.name);
        }
    }

    #[tokio::test]
    async fn capped_streams_fail_past_the_limit() {
        use bytes::Bytes;
        let chunks = |n: usize| -> ByteStream<'static> {
            futures::stream::iter((0..n).map(|_| Ok(Bytes::from_static(b"0123456789")))).boxed()
        };
        let tripped = Arc::new(AtomicBool::new(false));
        let all: Vec<_> = capped(chunks(3), 30, tripped.clone()).collect().await;
        assert!(all.iter().all(Result::is_ok));
        assert!(!tripped.load(Ordering::Relaxed));
        let all: Vec<_> = capped(chunks(4), 30, tripped.clone()).collect().await;
        assert!(all[3].is_err());
        assert!(tripped.load(Ordering::Relaxed));
    }
}
