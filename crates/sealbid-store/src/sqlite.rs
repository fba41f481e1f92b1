//! SQLite, the embedded default: one file (under `./data` by default) in WAL mode with
//! `synchronous=FULL`, so every committed write — and so every receipt and audit record — has
//! reached the disk before the call returns. Writers are serialised twice: by a mutex inside the
//! process and by `BEGIN IMMEDIATE` across processes, so two writers can never read the same
//! audit head and fork the chain.
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::sql::{Backend, Param, Query, Row, SqlStore, Ty, Value};
use crate::{Result, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// The SQLite store.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers share the file with the single writer (WAL lets them run concurrently).
const MAX_CONNECTIONS: u32 = 4;

/// SQLite's half of [`SqlStore`]: the pool and the in-process write lock.
pub struct SqliteBackend {
    pool: SqlitePool,
    write: Arc<Mutex<()>>,
}

/// A write transaction and the in-process write lock it holds (released after the transaction
/// ends: fields drop in declaration order).
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _write: OwnedMutexGuard<()>,
}

impl SqlStore<SqliteBackend> {
    /// Opens (creating it and its directory if missing) the database file at `path` and runs the
    /// migrations.
    pub async fn open(path: &str) -> Result<Self> {
        if path.trim().is_empty() {
            return Err(StoreError::Config(
                "the SQLite database path is empty".to_string(),
            ));
        }
        let file = Path::new(path);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await.map_err(|e| {
                StoreError::Config(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        Self::init(pool).await
    }

    /// A private in-memory database (one connection that lives as long as the store): for tests.
    pub async fn open_in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Self::init(pool).await
    }

    async fn init(pool: SqlitePool) -> Result<Self> {
        MIGRATOR.run(&pool).await?;
        Ok(SqlStore::new(SqliteBackend {
            pool,
            write: Arc::new(Mutex::new(())),
        }))
    }

    /// The connection pool, for health checks and backups.
    pub fn pool(&self) -> &SqlitePool {
        &self.b.pool
    }

    /// Overwrites one audit record's `event_json` behind the store's back, as someone with raw
    /// access to the file could: for tests that show `verify_audit` catches it.
    #[doc(hidden)]
    pub async fn tamper_audit_for_tests(&self, seq: i64, event_json: &str) -> Result<()> {
        let mut tx = self.b.begin().await?;
        let trigger: (String,) = sqlx::query_as(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'",
        )
        .fetch_one(&mut *tx.tx)
        .await?;
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query("UPDATE audit_log SET event_json = $1 WHERE seq = $2")
            .bind(event_json)
            .bind(seq)
            .execute(&mut *tx.tx)
            .await?;
        sqlx::query(&trigger.0).execute(&mut *tx.tx).await?;
        tx.tx.commit().await?;
        Ok(())
    }
}

/// Timestamps are stored as RFC 3339 UTC with exactly six fractional digits, so that text order
/// is time order (and precision matches PostgreSQL's microseconds).
pub(crate) fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(format!("stored timestamp {s:?}: {e}")))
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::corrupt(format!("stored id {s:?}: {e}")))
}

fn bind(q: &Query) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
    let mut out = sqlx::query(&q.sql);
    for p in &q.params {
        out = match p {
            Param::Text(s) => out.bind(s.as_str()),
            Param::Int(i) => out.bind(*i),
            Param::OptText(t) => out.bind(t.clone()),
            Param::OptInt(i) => out.bind(*i),
            Param::Bool(b) => out.bind(*b),
            Param::Id(u) => out.bind(u.hyphenated().to_string()),
            Param::OptId(u) => out.bind(u.map(|u| u.hyphenated().to_string())),
            Param::Time(t) => out.bind(format_time(t)),
            Param::OptTime(t) => out.bind(t.as_ref().map(format_time)),
        };
    }
    out
}

fn decode(row: &SqliteRow, cols: &[Ty]) -> Result<Row> {
    let mut out = Vec::with_capacity(cols.len());
    for (i, ty) in cols.iter().enumerate() {
        let bad = |e: sqlx::Error| StoreError::corrupt(format!("column {i}: {e}"));
        let v = match ty {
            Ty::Text => row
                .try_get::<Option<String>, _>(i)
                .map_err(bad)?
                .map(Value::Text),
            Ty::Int => row
                .try_get::<Option<i64>, _>(i)
                .map_err(bad)?
                .map(Value::Int),
            Ty::Bool => row
                .try_get::<Option<bool>, _>(i)
                .map_err(bad)?
                .map(Value::Bool),
            Ty::Id => match row.try_get::<Option<String>, _>(i).map_err(bad)? {
                Some(s) => Some(Value::Id(parse_uuid(&s)?)),
                None => None,
            },
            Ty::Time => match row.try_get::<Option<String>, _>(i).map_err(bad)? {
                Some(s) => Some(Value::Time(parse_time(&s)?)),
                None => None,
            },
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

#[async_trait]
impl Backend for SqliteBackend {
    const NAME: &'static str = "sqlite";
    type Tx = SqliteTx;

    async fn begin(&self) -> std::result::Result<SqliteTx, sqlx::Error> {
        let write = self.write.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqliteTx { tx, _write: write })
    }

    async fn commit(&self, tx: SqliteTx) -> std::result::Result<(), sqlx::Error> {
        tx.tx.commit().await
    }

    async fn rollback(&self, tx: SqliteTx) {
        if let Err(e) = tx.tx.rollback().await {
            tracing::warn!(error = %e, "sqlite rollback failed");
        }
    }

    async fn lock_audit(&self, _tx: &mut SqliteTx) -> std::result::Result<(), sqlx::Error> {
        // `begin` already holds the database's only write lock.
        Ok(())
    }

    async fn execute(&self, tx: &mut SqliteTx, q: &Query) -> std::result::Result<u64, sqlx::Error> {
        Ok(bind(q).execute(&mut *tx.tx).await?.rows_affected())
    }

    async fn fetch_tx(&self, tx: &mut SqliteTx, q: &Query) -> Result<Vec<Row>> {
        let rows = bind(q).fetch_all(&mut *tx.tx).await?;
        rows.iter().map(|r| decode(r, q.cols)).collect()
    }

    async fn fetch(&self, q: &Query) -> Result<Vec<Row>> {
        let rows = bind(q).fetch_all(&self.pool).await?;
        rows.iter().map(|r| decode(r, q.cols)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::Harness;
    use crate::Store;
    use chrono::TimeZone;

    struct SqliteHarness {
        store: Arc<SqliteStore>,
        _dir: tempfile::TempDir,
    }

    #[async_trait]
    impl Harness for SqliteHarness {
        fn store(&self) -> Arc<dyn Store> {
            self.store.clone()
        }
        async fn tamper_audit(&self, seq: i64, event_json: &str) {
            self.store
                .tamper_audit_for_tests(seq, event_json)
                .await
                .unwrap();
        }
    }

    async fn fresh() -> SqliteHarness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("sealbid.db");
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        SqliteHarness {
            store: Arc::new(store),
            _dir: dir,
        }
    }

    macro_rules! sqlite_cases {
        ($($case:ident),* $(,)?) => {
            mod conformance {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let h = super::fresh().await;
                        crate::conformance::$case(&h).await;
                    }
                )*
            }
        };
    }
    crate::for_each_conformance_case!(sqlite_cases);

    #[tokio::test]
    async fn the_suite_also_runs_in_memory() {
        struct Mem(Arc<SqliteStore>);
        #[async_trait]
        impl Harness for Mem {
            fn store(&self) -> Arc<dyn Store> {
                self.0.clone()
            }
            async fn tamper_audit(&self, seq: i64, event_json: &str) {
                self.0
                    .tamper_audit_for_tests(seq, event_json)
                    .await
                    .unwrap();
            }
        }
        crate::conformance::run_all(|| async {
            Mem(Arc::new(SqliteStore::open_in_memory().await.unwrap()))
        })
        .await;
    }

    #[tokio::test]
    async fn the_file_is_in_wal_mode_with_full_sync() {
        let h = fresh().await;
        let pool = h.store.pool();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sealbid.db");
        let path = path.to_str().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        {
            let s = SqliteStore::open(path).await.unwrap();
            let ev =
                sealbid_domain::audit::AuditEvent::new(None, at, "platform.start", "platform", "x");
            s.append_audit(&ev).await.unwrap();
            s.pool().close().await;
        }
        let s = SqliteStore::open(path).await.unwrap();
        assert_eq!(s.verify_audit().await.unwrap(), Ok(1));
    }

    #[test]
    fn timestamps_sort_as_text() {
        let a = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        let c = a + chrono::Duration::seconds(10);
        assert_eq!(format_time(&a), "2026-03-02T01:00:00.000000Z");
        assert!(format_time(&a) < format_time(&b));
        assert!(format_time(&b) < format_time(&c));
        assert_eq!(parse_time(&format_time(&b)).unwrap(), b);
    }

    #[tokio::test]
    async fn an_empty_path_is_a_config_error() {
        assert!(matches!(
            SqliteStore::open(" ").await,
            Err(StoreError::Config(_))
        ));
    }
}
