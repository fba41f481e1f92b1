//! The hash-chained audit log: every state change (who, when, what, before/after) is one record
//! whose hash covers the previous record's hash, so removing, reordering or editing any record
//! breaks the chain at that point. Stores append; `verify_chain` re-checks.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::UserId;

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One state change, as the caller describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Who did it; `None` for the platform itself (scheduler, start-up).
    pub actor: Option<UserId>,
    pub at: DateTime<Utc>,
    /// What happened, as `entity.verb`, e.g. `tender.publish`.
    pub action: String,
    /// The kind of thing changed, e.g. `tender`.
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEvent {
    pub fn new(
        actor: Option<UserId>,
        at: DateTime<Utc>,
        action: &str,
        entity_kind: &str,
        entity_id: impl ToString,
    ) -> AuditEvent {
        AuditEvent {
            actor,
            at,
            action: action.to_string(),
            entity_kind: entity_kind.to_string(),
            entity_id: entity_id.to_string(),
            before: None,
            after: None,
        }
    }

    /// Records the before and after images of the changed entity.
    pub fn with_change<B: Serialize, A: Serialize>(
        mut self,
        before: Option<&B>,
        after: Option<&A>,
    ) -> AuditEvent {
        self.before = before.and_then(|b| serde_json::to_value(b).ok());
        self.after = after.and_then(|a| serde_json::to_value(a).ok());
        self
    }

    /// The exact text that is stored and hashed. `serde_json` writes struct fields in declaration
    /// order and maps with sorted keys, so the text is deterministic.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A stored audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    /// The event exactly as hashed.
    pub event_json: String,
}

impl AuditRecord {
    pub fn event(&self) -> Result<AuditEvent, serde_json::Error> {
        serde_json::from_str(&self.event_json)
    }
}

/// The hash of a record: SHA-256 over a domain tag, the sequence number, the previous hash and
/// the event text.
pub fn chain_hash(seq: i64, prev_hash: &str, event_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sealbid-audit-v1\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(event_json.as_bytes());
    hex::encode(h.finalize())
}

/// Builds the record that follows `prev` (or starts the chain).
pub fn next_record(prev: Option<(i64, &str)>, event: &AuditEvent) -> AuditRecord {
    let (seq, prev_hash) = match prev {
        Some((s, h)) => (s + 1, h.to_string()),
        None => (1, GENESIS_HASH.to_string()),
    };
    let event_json = event.canonical_json();
    let hash = chain_hash(seq, &prev_hash, &event_json);
    AuditRecord {
        seq,
        prev_hash,
        hash,
        event_json,
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at record {seq}: {reason}")]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// Incremental verifier, so a store can stream millions of records through it.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), BrokenLink> {
        let broken = |reason: String| BrokenLink { seq: r.seq, reason };
        if r.seq != self.expected_seq {
            return Err(BrokenLink {
                seq: self.expected_seq,
                reason: format!(
                    "expected record {} but found record {} (a record is missing or out of order)",
                    self.expected_seq, r.seq
                ),
            });
        }
        if r.prev_hash != self.prev_hash {
            return Err(broken(
                "its previous-hash does not match the hash of the record before it".into(),
            ));
        }
        if chain_hash(r.seq, &r.prev_hash, &r.event_json) != r.hash {
            return Err(broken(
                "its content does not match its hash (the record was altered)".into(),
            ));
        }
        if let Err(e) = r.event() {
            return Err(broken(format!("its event is not valid: {e}")));
        }
        self.expected_seq += 1;
        self.prev_hash = r.hash.clone();
        Ok(())
    }

    /// Records verified so far.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

/// Verifies a whole chain held in memory; returns the number of records.
pub fn verify_chain<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<i64, BrokenLink> {
    let mut v = ChainVerifier::default();
    for r in records {
        v.push(r)?;
    }
    Ok(v.count())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let ev = AuditEvent::new(
                None,
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, i as u32).unwrap(),
                "tender.create",
                "tender",
                i,
            )
            .with_change::<(), _>(None, Some(&serde_json::json!({"n": i})));
            let prev = out.last().map(|r| (r.seq, r.hash.as_str()));
            out.push(next_record(prev, &ev));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(5)), Ok(5));
        assert_eq!(verify_chain(&[]), Ok(0));
    }

    #[test]
    fn an_edited_record_is_the_first_broken_link() {
        let mut c = chain(5);
        c[2].event_json = c[2].event_json.replace("\"n\":2", "\"n\":7");
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("altered"));
    }

    #[test]
    fn a_removed_record_is_reported() {
        let mut c = chain(5);
        c.remove(1);
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.reason.contains("missing"));
    }

    #[test]
    fn a_rehashed_record_still_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].event_json = c[1].event_json.replace("\"n\":1", "\"n\":9");
        c[1].hash = chain_hash(c[1].seq, &c[1].prev_hash, &c[1].event_json);
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("previous-hash"));
    }

    #[test]
    fn canonical_json_round_trips_to_the_same_text() {
        let c = chain(1);
        let ev = c[0].event().unwrap();
        assert_eq!(ev.canonical_json(), c[0].event_json);
    }
}
