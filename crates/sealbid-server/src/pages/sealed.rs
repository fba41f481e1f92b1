//! The sealing part of a tender's page: the opening committee (names, roles, t of n, whether each
//! key is registered), the sealing policy's hash and the log's key, how many bids are sealed
//! (never who), the closing checkpoint once the deadline has passed, and the signed opening
//! record as a table once the bids are opened.
//!
//! Everything here is what `GET /api/v1/tenders/{id}/committee`, `/bids/count` and
//! `/opening/record` already show to whoever may see the tender; the page only lays it out.
use axum::http::HeaderMap;
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_seal::opening::{BidOutcome, OpenedBid, SignedOpeningRecord};
use sealbid_seal::signed::Signed;
use sealbid_store::TenderSealing;

use super::view;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One seat of the opening committee.
pub struct SeatRow {
    pub index: u8,
    pub name: String,
    pub role: String,
    pub platform: bool,
    pub key_registered: bool,
    pub recipient: String,
}

/// The closing at the deadline: when, how many bids were sealed, and the signed checkpoint.
pub struct ClosingView {
    pub at: String,
    pub bids: u32,
    pub checkpoint: String,
}

/// One envelope of an opened bid: kind and ciphertext hash.
pub struct EnvelopeHash {
    pub kind: &'static str,
    pub sha256: String,
}

/// One bid of the opening record.
pub struct OpenedRow {
    pub bidder: String,
    /// The bidder's organisation id (its credit history's page).
    pub bidder_id: String,
    pub price: Option<String>,
    pub valid: bool,
    pub code: String,
    pub reason: String,
    pub deposit_paid: String,
    pub deposit_sufficient: bool,
    pub log_index: u64,
    pub envelopes: Vec<EnvelopeHash>,
}

/// The opening record, for people.
pub struct OpeningView {
    pub at: String,
    pub threshold: u8,
    pub revealed_by: String,
    pub deposit_required: String,
    pub valid: usize,
    pub invalid: usize,
    pub rows: Vec<OpenedRow>,
    /// Where the signed record is downloaded (the API, public once opened).
    pub record_url: String,
    /// Suggested file name of the download.
    pub record_file: String,
    /// The command that re-checks the record offline.
    pub verify_command: String,
}

/// Everything the sealing part of the page shows.
pub struct SealingView {
    pub threshold: u8,
    pub seats: Vec<SeatRow>,
    /// Seats still without a key (the tender cannot be published before every seat has one).
    pub keys_missing: usize,
    /// Hex SHA-256 of the signed sealing policy (what bidders seal to), once published.
    pub policy_hash: Option<String>,
    /// The log's verifier key (C2SP note key).
    pub log_key: String,
    /// Bids sealed now (while bidding) or at the deadline; `None` before publication.
    pub sealed_bids: Option<u64>,
    /// Whether the count is final (the deadline has passed and the closing is logged).
    pub sealed_final: bool,
    pub closing: Option<ClosingView>,
    pub opening: Option<OpeningView>,
}

/// The base URL people reach this server at, for command lines to copy (`https://host`), from
/// the request's `Host`; `None` when the request did not say.
pub fn server_base(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })?;
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

/// The server's URL in a command line: the real one when known, a placeholder otherwise.
pub fn server_arg(base: Option<&str>) -> String {
    base.unwrap_or("https://SEALBID-SERVER").to_string()
}

/// Quotes a value for a POSIX shell when it holds anything but plain characters.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

/// The sealing part of the page of `t`, or `None` when the tender has no committee yet.
pub async fn sealing_view(
    state: &AppState,
    t: &Tender,
    base: Option<&str>,
) -> AppResult<Option<SealingView>> {
    let Some(s) = state.store.get_sealing(t.id).await? else {
        return Ok(None);
    };
    let published = s.policy.is_some();
    let policy_hash = match &s.policy {
        Some(_) => Some(
            crate::sealing::policy_of(&s)?
                .body
                .hash_hex()
                .map_err(internal)?,
        ),
        None => None,
    };
    let log_key = state.sealing.log_verifier().to_string();
    let closing = s
        .closing
        .as_ref()
        .filter(|c| !c.checkpoint.is_empty())
        .map(|c| ClosingView {
            at: view::time(c.at),
            bids: c.bids,
            checkpoint: c.checkpoint.clone(),
        });
    let (sealed_bids, sealed_final) = match (&s.closing, published) {
        (Some(c), _) => (Some(u64::from(c.bids)), true),
        (None, true) if t.state != TenderState::Cancelled => {
            (Some(state.store.count_active_bids(t.id).await?), false)
        }
        _ => (None, false),
    };
    // The record is the platform's own signed document; should it not read, the rest of the
    // page still shows (the record stays downloadable from the API).
    let opening = opening_view(&s, t, &log_key, base).unwrap_or_else(|e| {
        tracing::error!(tender = %t.id, error = ?e, "the stored opening record does not read");
        None
    });
    Ok(Some(SealingView {
        threshold: s.threshold,
        keys_missing: s.seats.iter().filter(|x| x.recipient.is_none()).count(),
        seats: s
            .seats
            .iter()
            .map(|x| SeatRow {
                index: x.index,
                name: x.name.clone(),
                role: x.role.clone(),
                platform: x.platform,
                key_registered: x.recipient.is_some(),
                recipient: x.recipient.clone().unwrap_or_default(),
            })
            .collect(),
        policy_hash,
        log_key,
        sealed_bids,
        sealed_final,
        closing,
        opening,
    }))
}

fn opened_row(b: &OpenedBid) -> OpenedRow {
    let (valid, code, reason) = match &b.outcome {
        BidOutcome::Valid => (true, String::new(), String::new()),
        BidOutcome::Invalid { code, reason } => (false, code.clone(), reason.clone()),
    };
    OpenedRow {
        bidder_id: b.bidder.clone(),
        bidder: if b.bidder_name.trim().is_empty() {
            b.bidder.clone()
        } else {
            b.bidder_name.clone()
        },
        price: b.price.as_ref().map(|p| {
            if p.currency == "CNY" {
                view::yuan(p.total)
            } else {
                format!("{} {}", p.currency, p.total)
            }
        }),
        valid,
        code,
        reason,
        deposit_paid: b
            .deposit
            .paid
            .parse::<rust_decimal::Decimal>()
            .map(view::yuan)
            .unwrap_or_else(|_| b.deposit.paid.clone()),
        deposit_sufficient: b.deposit.sufficient,
        log_index: b.log_index,
        envelopes: b
            .envelopes
            .iter()
            .map(|e| EnvelopeHash {
                kind: e.kind.as_str(),
                sha256: e.sha256.clone(),
            })
            .collect(),
    }
}

fn opening_view(
    s: &TenderSealing,
    t: &Tender,
    log_key: &str,
    base: Option<&str>,
) -> AppResult<Option<OpeningView>> {
    let Some(o) = &s.opened else {
        return Ok(None);
    };
    let signed: SignedOpeningRecord =
        Signed::from_json_bytes(o.record.as_bytes()).map_err(internal)?;
    let r = &signed.body;
    let rows: Vec<OpenedRow> = r.bids.iter().map(opened_row).collect();
    let valid = rows.iter().filter(|x| x.valid).count();
    let record_file = format!("opening-record-{}.json", t.code);
    Ok(Some(OpeningView {
        at: view::time(r.opened_at),
        threshold: r.threshold,
        revealed_by: r
            .revealed_by
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        deposit_required: r
            .deposit_required
            .parse::<rust_decimal::Decimal>()
            .map(view::yuan)
            .unwrap_or_else(|_| r.deposit_required.clone()),
        valid,
        invalid: rows.len() - valid,
        rows,
        record_url: format!("/api/v1/tenders/{}/opening/record", t.id),
        verify_command: format!(
            "sealbid verify-opening {} --log-key {} --server {}",
            shell_quote(&record_file),
            shell_quote(log_key),
            shell_quote(&server_arg(base)),
        ),
        record_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("SB0123"), "SB0123");
        assert_eq!(
            shell_quote("sealbid.local/log+abcd+AAE="),
            "sealbid.local/log+abcd+AAE="
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
