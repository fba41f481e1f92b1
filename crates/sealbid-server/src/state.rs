//! What every handler shares: the store, the blob store, the clock, the calendar, the legal
//! figures and the server's settings. Time and randomness come from here, never ad hoc.
use std::sync::Arc;

use sealbid_domain::tender::TenderRules;
use sealbid_domain::{Clock, WorkingCalendar};
use sealbid_store::{BlobStore, Store};

use crate::throttle::{LoginThrottle, ThrottleLimits};

/// Settings the HTTP layer needs (the binary loads them from defaults, `sealbid.toml` and
/// `SEALBID_*` variables).
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// How long a login lasts.
    pub session_ttl: chrono::Duration,
    /// Mark cookies `Secure` (on when serving HTTPS).
    pub secure_cookies: bool,
    /// How often the scheduler looks for deadlines that have passed.
    pub scheduler_interval: std::time::Duration,
    /// Failed sign-ins allowed per username and per client address (see `crate::throttle`).
    pub login_throttle: ThrottleLimits,
    /// Largest tender document an upload may carry, in bytes; uploads are streamed to the blob
    /// store and refused (413 `body_too_large`, nothing kept) once they pass it.
    pub max_document_bytes: u64,
    /// Largest sealed envelope a bidder may upload, in bytes.
    pub max_bid_bytes: u64,
}

/// The default [`ServerSettings::max_bid_bytes`]: 1 GiB.
pub const DEFAULT_MAX_BID_BYTES: u64 = 1024 * 1024 * 1024;

/// The default [`ServerSettings::max_document_bytes`]: 200 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 200 * 1024 * 1024;

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            session_ttl: chrono::Duration::hours(12),
            secure_cookies: false,
            scheduler_interval: std::time::Duration::from_secs(5),
            login_throttle: ThrottleLimits::default(),
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            max_bid_bytes: DEFAULT_MAX_BID_BYTES,
        }
    }
}

/// Where secret tokens come from. The production source is the OS CSPRNG; it is a parameter so
/// that the server never reaches for randomness on its own.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// 32 bytes of secret randomness.
    fn secret(&self) -> [u8; 32];
}

#[derive(Debug, Default)]
pub struct OsTokens;

impl TokenSource for OsTokens {
    fn secret(&self) -> [u8; 32] {
        use rand::RngCore;
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        b
    }
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub calendar: Arc<WorkingCalendar>,
    pub rules: TenderRules,
    pub tokens: Arc<dyn TokenSource>,
    pub settings: ServerSettings,
    /// Counts failed sign-ins, in this process only (several app servers each keep their own).
    /// Starts with `settings.login_throttle`; tests may change the limits with
    /// [`LoginThrottle::set_limits`].
    pub login_throttle: LoginThrottle,
    /// The platform's signing key, log key, committee identity and bank secret.
    pub sealing: crate::sealing::SealingKeys,
}

/// Cheap to clone; handlers receive it through axum's `State`.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        calendar: Arc<WorkingCalendar>,
        settings: ServerSettings,
    ) -> anyhow::Result<AppState> {
        // Fresh keys for this process (tests, embedding); `sealbid serve` loads its own with
        // `with_keys`.
        let keys = crate::sealing::SealingKeys::generate(
            crate::sealing::DEFAULT_LOG_ORIGIN,
            &mut rand::rngs::OsRng,
        )?;
        Ok(AppState::with_keys(
            store, blobs, clock, calendar, settings, keys,
        ))
    }

    /// As [`AppState::new`], with the platform's keys.
    pub fn with_keys(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        calendar: Arc<WorkingCalendar>,
        settings: ServerSettings,
        sealing: crate::sealing::SealingKeys,
    ) -> AppState {
        AppState(Arc::new(Inner {
            sealing,
            login_throttle: LoginThrottle::new(settings.login_throttle.clone()),
            store,
            blobs,
            clock,
            calendar,
            rules: TenderRules::default(),
            tokens: Arc::new(OsTokens),
            settings,
        }))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
