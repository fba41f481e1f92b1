//! Configuration: built-in defaults, then `sealbid.toml` (or the file `--config` names), then
//! `SEALBID_*` environment variables, then command-line flags.
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://PATH` (the embedded default) or `postgres://…`.
    pub database_url: String,
    /// A local directory, or an `s3://bucket/prefix` URL (credentials from the AWS_* variables).
    pub blob_store: String,
    /// PEM certificate and key: when both are set, the server speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub session_ttl_hours: i64,
    pub scheduler_interval_secs: u64,
    /// Largest tender document an upload may carry, in bytes (default 200 MiB).
    pub max_document_bytes: u64,
    /// Largest sealed envelope a bidder may upload, in bytes (default 1 GiB).
    pub max_bid_bytes: u64,
    /// Where the platform's keys live (created on first start, owner-only files).
    pub keys_dir: PathBuf,
    /// The transparency log's name (checkpoint origin and note key name).
    pub log_origin: String,
    /// `tracing` filter, e.g. `info` or `sealbid_server=debug,info`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://./data/sealbid.db".into(),
            blob_store: "./data/blobs".into(),
            tls_cert: None,
            tls_key: None,
            session_ttl_hours: 12,
            scheduler_interval_secs: 5,
            max_document_bytes: sealbid_server::state::DEFAULT_MAX_DOCUMENT_BYTES,
            max_bid_bytes: sealbid_server::state::DEFAULT_MAX_BID_BYTES,
            keys_dir: PathBuf::from("./data/keys"),
            log_origin: sealbid_server::sealing::DEFAULT_LOG_ORIGIN.into(),
            log: "info".into(),
        }
    }
}

/// Secrets (a password inside the database URL) never reach logs.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("blob_store", &self.blob_store)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("session_ttl_hours", &self.session_ttl_hours)
            .field("scheduler_interval_secs", &self.scheduler_interval_secs)
            .field("max_document_bytes", &self.max_document_bytes)
            .field("max_bid_bytes", &self.max_bid_bytes)
            .field("keys_dir", &self.keys_dir)
            .field("log_origin", &self.log_origin)
            .field("log", &self.log)
            .finish()
    }
}

/// Replaces the password of `scheme://user:password@host…` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl Config {
    /// Loads the layers. `file` is `sealbid.toml` in the working directory unless given; a
    /// missing default file is fine, a missing named file is an error.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    anyhow::bail!("configuration file {} does not exist", path.display());
                }
                fig = fig.merge(Toml::file(path));
            }
            None => fig = fig.merge(Toml::file("sealbid.toml")),
        }
        // Only the configuration keys: other SEALBID_* variables (e.g. SEALBID_TEST_PG_URL) are
        // not configuration.
        fig = fig.merge(Env::prefixed("SEALBID_").only(&[
            "listen",
            "database_url",
            "blob_store",
            "tls_cert",
            "tls_key",
            "session_ttl_hours",
            "scheduler_interval_secs",
            "max_document_bytes",
            "max_bid_bytes",
            "keys_dir",
            "log_origin",
            "log",
        ]));
        fig.extract()
            .map_err(|e| anyhow::anyhow!("configuration error: {e}"))
    }
}

#[cfg(test)]
// figment::Jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sealbid.toml", "listen = \"0.0.0.0:9000\"\nlog = \"debug\"")?;
            jail.set_env("SEALBID_LOG", "warn");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.log, "warn");
            assert_eq!(c.database_url, Config::default().database_url);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sealbid.toml", "lisen = \"0.0.0.0:9000\"")?;
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn passwords_are_redacted() {
        let c = Config {
            database_url: "postgres://app:s3cret@db:5432/sealbid".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("app:***@db"));
    }
}
