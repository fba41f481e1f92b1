//! Sealbid's HTTP server: the JSON API under `/api/v1`, the server-rendered pages, sessions and
//! tokens, the one `AppError`, the scheduler that closes tenders at their deadline, and TLS.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Tests may unwrap: a failed unwrap there is a failed test.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod auth;
pub mod error;
pub mod ocds;
pub mod pages;
pub mod policy;
pub mod scheduler;
pub mod screening;
pub mod sealing;
pub mod state;
pub mod throttle;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;

pub use error::{AppError, AppResult};
pub use state::{AppState, ServerSettings};
pub use throttle::{LoginThrottle, ThrottleLimits};

/// Largest JSON body the API accepts. Bid uploads (later) stream through their own limit.
pub const BODY_LIMIT: usize = 256 * 1024;

/// The whole application: API, pages and health check.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::router())
        .merge(pages::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span every request is logged in: method and path only. Headers (cookies, `Authorization`)
/// and bodies (passwords) are never logged, and neither is the query string: no endpoint takes a
/// secret there today, and a future one (a signed link, say) must not leak through the log.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        version = ?req.version(),
    )
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> AppResult<String> {
    // Touch the database so the check means something.
    state.store.list_halls().await?;
    Ok("ok\n".to_string())
}

/// Certificate and key (PEM) for HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Serves until the process receives Ctrl-C / SIGTERM. Also starts the scheduler.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<TlsFiles>,
) -> anyhow::Result<()> {
    let scheduler = tokio::spawn(scheduler::run(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    listener.set_nonblocking(true)?;
    let result = match tls {
        Some(files) => {
            // One crypto provider for the whole process: ring (already built for the other
            // TLS clients in the tree). Installing twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot load TLS certificate {} / key {}: {e}",
                            files.cert.display(),
                            files.key.display()
                        )
                    })?;
            axum_server::from_tcp_rustls(listener, config)
                .handle(handle)
                .serve(app)
                .await
        }
        None => {
            axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app)
                .await
        }
    };
    scheduler.abort();
    result.map_err(Into::into)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
