//! PostgreSQL, the production backend: stateless app servers share one database. Audit appends
//! are serialised by a transaction-scoped advisory lock taken before the chain's head is read,
//! so concurrent writers on any number of servers extend one chain and never fork it.
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Executor, Postgres, Row as _, Transaction};
use uuid::Uuid;

use crate::sql::{Backend, Param, Query, Row, SqlStore, Ty, Value};
use crate::{Result, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The PostgreSQL store.
pub type PgStore = SqlStore<PgBackend>;

const MAX_CONNECTIONS: u32 = 10;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// PostgreSQL's half of [`SqlStore`]: the pool and the audit lock's key.
pub struct PgBackend {
    pool: PgPool,
    /// Advisory-lock key for audit appends, derived from the schema so that stores in different
    /// schemas of one database do not wait for each other.
    audit_lock: i64,
}

impl SqlStore<PgBackend> {
    /// Connects to `url` (`postgres://…`) and runs the migrations in the connection's default
    /// schema. Fails if the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Self::init(pool).await
    }

    /// Connects with every pooled connection's `search_path` set to `schema` (created if
    /// missing), and runs the migrations there. Tests use a fresh schema each; a deployment may
    /// use it to share one database between environments.
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<Self> {
        check_schema_name(schema)?;
        let options: PgConnectOptions = url.parse()?;
        let mut conn = options.connect().await?;
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
            .await?;
        conn.close().await?;
        let set_path = Arc::new(format!("SET search_path TO \"{schema}\""));
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    conn.execute(set_path.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Self::init(pool).await
    }

    /// Drops a schema and everything in it: for tests that made one with `connect_with_schema`.
    #[doc(hidden)]
    pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
        check_schema_name(schema)?;
        let options: PgConnectOptions = url.parse()?;
        let mut conn = options.connect().await?;
        conn.execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
            .await?;
        conn.close().await?;
        Ok(())
    }

    async fn init(pool: PgPool) -> Result<Self> {
        MIGRATOR.run(&pool).await?;
        let (schema,): (Option<String>,) = sqlx::query_as("SELECT current_schema()::text")
            .fetch_one(&pool)
            .await?;
        let schema = schema.ok_or_else(|| {
            StoreError::Config("the PostgreSQL search_path names no existing schema".into())
        })?;
        Ok(SqlStore::new(PgBackend {
            pool,
            audit_lock: audit_lock_key(&schema),
        }))
    }

    /// The connection pool, for health checks.
    pub fn pool(&self) -> &PgPool {
        &self.b.pool
    }

    /// Overwrites one audit record's `event_json` behind the store's back, as someone with raw
    /// access to the database could: for tests that show `verify_audit` catches it.
    #[doc(hidden)]
    pub async fn tamper_audit_for_tests(&self, seq: i64, event_json: &str) -> Result<()> {
        let mut tx = self.b.pool.begin().await?;
        tx.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            .await?;
        sqlx::query("UPDATE audit_log SET event_json = $1 WHERE seq = $2")
            .bind(event_json)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        tx.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Schema names are spliced into SQL, so only plain lower-case identifiers are accepted.
fn check_schema_name(schema: &str) -> Result<()> {
    let ok = (1..=63).contains(&schema.len())
        && schema
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "invalid PostgreSQL schema name {schema:?}: use 1 to 63 characters of a-z, 0-9 and _"
        )))
    }
}

/// FNV-1a: stable across builds and platforms (unlike std's hasher), so every server computes
/// the same key for the same schema.
fn audit_lock_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "sealbid-audit-log:".bytes().chain(schema.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

fn bind(q: &Query) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    let mut out = sqlx::query(&q.sql);
    for p in &q.params {
        out = match p {
            Param::Text(s) => out.bind(s.as_str()),
            Param::Int(i) => out.bind(*i),
            Param::OptText(t) => out.bind(t.clone()),
            Param::OptInt(i) => out.bind(*i),
            Param::Bool(b) => out.bind(*b),
            Param::Id(u) => out.bind(*u),
            Param::OptId(u) => out.bind(*u),
            Param::Time(t) => out.bind(*t),
            Param::OptTime(t) => out.bind(*t),
        };
    }
    out
}

fn decode(row: &PgRow, cols: &[Ty]) -> Result<Row> {
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
            Ty::Id => row
                .try_get::<Option<Uuid>, _>(i)
                .map_err(bad)?
                .map(Value::Id),
            Ty::Time => row
                .try_get::<Option<DateTime<Utc>>, _>(i)
                .map_err(bad)?
                .map(Value::Time),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

#[async_trait]
impl Backend for PgBackend {
    const NAME: &'static str = "postgres";
    type Tx = Transaction<'static, Postgres>;

    async fn begin(&self) -> std::result::Result<Self::Tx, sqlx::Error> {
        self.pool.begin().await
    }

    async fn commit(&self, tx: Self::Tx) -> std::result::Result<(), sqlx::Error> {
        tx.commit().await
    }

    async fn rollback(&self, tx: Self::Tx) {
        if let Err(e) = tx.rollback().await {
            tracing::warn!(error = %e, "postgres rollback failed");
        }
    }

    async fn lock_audit(&self, tx: &mut Self::Tx) -> std::result::Result<(), sqlx::Error> {
        // Held until commit or rollback. Under READ COMMITTED the head is read by a later
        // statement, so it sees every append committed before the lock was granted.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(self.audit_lock)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn execute(&self, tx: &mut Self::Tx, q: &Query) -> std::result::Result<u64, sqlx::Error> {
        Ok(bind(q).execute(&mut **tx).await?.rows_affected())
    }

    async fn fetch_tx(&self, tx: &mut Self::Tx, q: &Query) -> Result<Vec<Row>> {
        let rows = bind(q).fetch_all(&mut **tx).await?;
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

    const URL_VAR: &str = "SEALBID_TEST_PG_URL";

    struct PgHarness {
        store: Arc<PgStore>,
    }

    #[async_trait]
    impl Harness for PgHarness {
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

    fn test_url() -> Option<String> {
        match std::env::var(URL_VAR) {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ => {
                eprintln!("{URL_VAR} is not set: skipping the PostgreSQL conformance tests");
                None
            }
        }
    }

    /// Runs `case` against a store in a fresh schema, dropped afterwards whatever the outcome.
    /// An unreachable server fails the test: it never passes silently.
    async fn with_fresh_schema<F, Fut>(case: F)
    where
        F: FnOnce(PgHarness) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        use futures::FutureExt;
        let Some(url) = test_url() else { return };
        let schema = format!("sealbid_test_{}", Uuid::new_v4().simple());
        let store = PgStore::connect_with_schema(&url, &schema)
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but PostgreSQL is unusable: {e}"));
        let store = Arc::new(store);
        let outcome = std::panic::AssertUnwindSafe(case(PgHarness {
            store: store.clone(),
        }))
        .catch_unwind()
        .await;
        store.pool().close().await;
        if let Err(e) = PgStore::drop_schema(&url, &schema).await {
            eprintln!("could not drop test schema {schema}: {e}");
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    macro_rules! pg_cases {
        ($($case:ident),* $(,)?) => {
            mod conformance {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::with_fresh_schema(|h| async move {
                            crate::conformance::$case(&h).await;
                        })
                        .await;
                    }
                )*
            }
        };
    }
    crate::for_each_conformance_case!(pg_cases);

    #[test]
    fn schema_names_are_checked() {
        assert!(check_schema_name("sealbid_test_0af3").is_ok());
        assert!(check_schema_name("_x").is_ok());
        assert!(check_schema_name("").is_err());
        assert!(check_schema_name("1abc").is_err());
        assert!(check_schema_name("a\"; DROP TABLE x; --").is_err());
        assert!(check_schema_name("Upper").is_err());
        assert!(check_schema_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn audit_lock_keys_are_stable_and_per_schema() {
        assert_eq!(audit_lock_key("public"), audit_lock_key("public"));
        assert_ne!(audit_lock_key("public"), audit_lock_key("tenant_a"));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_an_error() {
        // Port 1 on loopback: nothing listens there. (`connect` itself retries for
        // ACQUIRE_TIMEOUT before failing, which is what a server starting alongside its
        // database wants; `connect_with_schema` fails at once.)
        let r = PgStore::connect_with_schema("postgres://postgres@127.0.0.1:1/none", "s").await;
        assert!(matches!(r, Err(StoreError::Database(_))));
    }

    #[tokio::test]
    async fn the_schema_is_the_search_path() {
        with_fresh_schema(|h| async move {
            let (path,): (String,) = sqlx::query_as("SHOW search_path")
                .fetch_one(h.store.pool())
                .await
                .unwrap();
            assert!(path.contains("sealbid_test_"), "{path}");
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'audit_log'",
            )
            .fetch_one(h.store.pool())
            .await
            .unwrap();
            assert_eq!(n, 1);
        })
        .await;
    }
}
