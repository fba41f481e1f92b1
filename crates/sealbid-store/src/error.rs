//! `StoreError`: what a store call can fail with, each with a stable code. Database constraint
//! violations are turned into `Conflict` with a stable name here, in one table, so the server can
//! answer "this credit code is already registered" instead of a 500 (launchbadge's `on_constraint`).
use sqlx::error::ErrorKind;

use crate::blob::BlobError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the call needs (to update, or to answer) does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a reference would be broken. The name is stable:
    /// `credit_code`, `username`, `tender_code`, `session`, `org_id`, `user_id`, `tender_id`,
    /// `amendment_id`, `question_id`, `hall` (a value already taken), or `unknown_org`,
    /// `unknown_user`, `unknown_tender` (the referenced row does not exist).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Someone else changed the row since it was read; nothing was written.
    #[error("the record was changed by someone else (expected version {expected}, found {found}); reload it and try again")]
    VersionConflict { expected: i64, found: i64 },
    /// The request asks for something the stored data cannot answer (e.g. a log proof for a size
    /// the log has not reached).
    #[error("{0}")]
    Invalid(String),
    /// The store is misconfigured (bad URL, schema name, path…).
    #[error("store configuration: {0}")]
    Config(String),
    /// A stored row no longer parses as the domain type it holds.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl StoreError {
    /// A stable snake_case code for logs and API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound => "not_found",
            StoreError::Invalid(_) => "invalid",
            StoreError::Conflict(_) => "conflict",
            StoreError::VersionConflict { .. } => "version_conflict",
            StoreError::Config(_) => "store_config",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Database(_) => "database",
            StoreError::Migrate(_) => "migration",
            StoreError::Blob(e) => e.code(),
        }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

/// Unique constraints: (name in both schemas, SQLite's "table.column" in its error message,
/// stable conflict name). SQLite does not report constraint names, only the columns.
const UNIQUE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    ("halls_pkey", "halls.division", "hall"),
    ("orgs_pkey", "orgs.id", "org_id"),
    ("orgs_credit_code_key", "orgs.credit_code", "credit_code"),
    ("users_pkey", "users.id", "user_id"),
    ("users_username_key", "users.username", "username"),
    ("sessions_pkey", "sessions.token_hash", "session"),
    ("tenders_pkey", "tenders.id", "tender_id"),
    ("tenders_code_key", "tenders.code", "tender_code"),
    ("amendments_pkey", "amendments.id", "amendment_id"),
    ("questions_pkey", "questions.id", "question_id"),
    ("audit_log_pkey", "audit_log.seq", "audit_seq"),
    (
        "tender_sealing_pkey",
        "tender_sealing.tender_id",
        "tender_sealing",
    ),
    ("log_entries_pkey", "log_entries.idx", "log_index"),
    (
        "log_nodes_pkey",
        "log_nodes.level, log_nodes.idx",
        "log_node",
    ),
    ("bids_pkey", "bids.id", "bid_id"),
    (
        "bids_manifest_digest_key",
        "bids.manifest_digest",
        "manifest_digest",
    ),
    (
        "deposit_refs_pkey",
        "deposit_refs.reference",
        "deposit_reference",
    ),
    (
        "deposit_refs_tender_bidder_key",
        "deposit_refs.tender_id, deposit_refs.bidder_org",
        "deposit_reference_bidder",
    ),
    (
        "deposit_payments_pkey",
        "deposit_payments.bank_txn_id",
        "bank_transaction",
    ),
    (
        "opening_actions_pkey",
        "opening_actions.tender_id, opening_actions.member_index, opening_actions.kind",
        "opening_action",
    ),
    ("alerts_pkey", "alerts.id", "alert_id"),
    (
        "alerts_fingerprint_key",
        "alerts.fingerprint",
        "alert_fingerprint",
    ),
    (
        "alert_bidders_pkey",
        "alert_bidders.alert_id, alert_bidders.bidder",
        "alert_bidder",
    ),
    (
        "alert_reviews_pkey",
        "alert_reviews.alert_id, alert_reviews.seq",
        "alert_review",
    ),
    ("credit_records_pkey", "credit_records.id", "credit_record"),
    ("experts_pkey", "experts.id", "expert_id"),
    (
        "evaluation_declarations_pkey",
        "evaluation_declarations.tender_id, evaluation_declarations.user_id",
        "declaration",
    ),
    (
        "committee_draws_pkey",
        "committee_draws.tender_id",
        "committee_draw",
    ),
];

fn unique_name(db: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    if let Some(constraint) = db.constraint() {
        return UNIQUE_CONSTRAINTS
            .iter()
            .find(|(name, _, _)| *name == constraint)
            .map(|(_, _, stable)| *stable);
    }
    // SQLite: "UNIQUE constraint failed: orgs.credit_code"
    let columns = db.message().rsplit(": ").next().unwrap_or("");
    UNIQUE_CONSTRAINTS
        .iter()
        .find(|(_, cols, _)| *cols == columns)
        .map(|(_, _, stable)| *stable)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &e {
            if db.kind() == ErrorKind::UniqueViolation {
                if let Some(name) = unique_name(db.as_ref()) {
                    return StoreError::Conflict(name);
                }
            }
        }
        StoreError::Database(e)
    }
}

/// Maps a foreign-key violation to `Conflict(name)`: the caller knows which reference its
/// statement carries (SQLite does not say), e.g. `unknown_org` when inserting a user.
pub(crate) fn on_fk(name: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
            StoreError::Conflict(name)
        }
        _ => StoreError::from(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(StoreError::NotFound.code(), "not_found");
        assert_eq!(StoreError::Conflict("username").code(), "conflict");
        assert_eq!(
            StoreError::VersionConflict {
                expected: 1,
                found: 2
            }
            .code(),
            "version_conflict"
        );
        assert_eq!(StoreError::Config(String::new()).code(), "store_config");
        assert_eq!(StoreError::Corrupt(String::new()).code(), "store_corrupt");
        assert_eq!(
            StoreError::Database(sqlx::Error::PoolTimedOut).code(),
            "database"
        );
        assert_eq!(
            StoreError::Blob(BlobError::InvalidKey("..".into())).code(),
            "invalid_blob_key"
        );
    }

    #[test]
    fn every_unique_constraint_has_a_distinct_stable_name() {
        let mut names: Vec<_> = UNIQUE_CONSTRAINTS.iter().map(|c| c.2).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), UNIQUE_CONSTRAINTS.len());
    }
}
