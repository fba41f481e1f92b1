//! Authentication: argon2id password hashes, session cookies for pages, bearer tokens for the
//! CLI and API. Tokens are 32 random bytes; only their SHA-256 is stored. Sign-ins go through the
//! login throttle (`crate::throttle`).
//!
//! Secrets never reach the log: passwords and tokens live only in request bodies and headers,
//! which the request span does not record (see `crate::request_span`); request types holding
//! them print `***` for them in `Debug`; `CurrentUser` and `Session` hold only the token's hash.
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use sealbid_domain::org::{Role, User};
use sealbid_store::{Session, SessionKind};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "sealbid_session";

/// Hashes a password with argon2id and a fresh salt from the token source.
pub fn hash_password(state: &AppState, password: &str) -> Result<String, AppError> {
    check_password_strength(password)?;
    let salt_bytes = state.tokens.secret();
    let salt = SaltString::encode_b64(&salt_bytes[..16])
        .map_err(|e| AppError::Internal(anyhow::anyhow!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2: {e}")))
}

/// Hashes a password without a server state (CLI account creation).
pub fn hash_password_with_salt(password: &str, salt16: &[u8; 16]) -> Result<String, AppError> {
    check_password_strength(password)?;
    let salt = SaltString::encode_b64(salt16)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2: {e}")))
}

pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if !(10..=256).contains(&n) {
        return Err(AppError::invalid(
            "weak_password",
            "password",
            "a password needs 10 to 256 characters",
        ));
    }
    Ok(())
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash that no password matches, verified against when the user does not exist so that a
/// login takes as long for unknown users as for known ones.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2VhbGJpZGR1bW15c2FsdA$0QKt8M2m9Kf2x0C3Y7m0g4V8xq0b3T8m3pQ4z8u1l9E";

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a session for `user`; returns the secret token (shown to the client once).
pub async fn start_session(
    state: &AppState,
    user: &User,
    kind: SessionKind,
) -> Result<(String, Session), AppError> {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(state.tokens.secret());
    let now = state.now();
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        kind,
        created_at: now,
        expires_at: now + state.settings.session_ttl,
    };
    state.store.create_session(&session).await?;
    Ok((token, session))
}

/// The address a request came from, when the server knows it: `serve` runs the router with
/// connect info; router tests through `oneshot` do not, and then it is `None` (only the
/// per-username limit applies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        // Through the extractor rather than the extension, so that tests' `MockConnectInfo`
        // works too.
        Ok(ClientIp(
            ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
                .await
                .ok()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// Checks a username and password, through the login throttle: a username or client address
/// with too many recent failures gets 429 `too_many_attempts` without the password being
/// checked. Otherwise the same error whether the user is unknown, inactive or the password is
/// wrong — and each of those counts as a failure; a success clears the username's failures.
pub async fn check_login(
    state: &AppState,
    username: &str,
    password: &str,
    client: ClientIp,
) -> Result<User, AppError> {
    let attempt = state
        .login_throttle
        .begin(username, client.0, state.now())
        .map_err(|r| AppError::TooManyAttempts {
            retry_after_secs: r.retry_after_secs,
        })?;
    // A store error drops `attempt` unsettled: it counts as nothing.
    let user = verify_login(state, username, password).await?;
    match user {
        Some(user) => {
            attempt.succeeded();
            Ok(user)
        }
        None => {
            attempt.failed(state.now());
            Err(AppError::BadCredentials)
        }
    }
}

/// The active user with this username and password, if there is one.
async fn verify_login(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<User>, AppError> {
    let username = crate::throttle::normalize_username(username);
    // Unknown users are checked against a dummy hash, so every attempt costs one argon2 run and
    // takes as long whether or not the account exists or is active.
    let (user, hash) = match state.store.find_login(&username).await? {
        Some((user, hash)) => (Some(user), hash),
        None => (None, DUMMY_HASH.to_string()),
    };
    let password = password.to_string();
    // argon2 is deliberately slow: keep it off the async worker threads.
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("password check failed to run: {e}")))?;
    Ok(user.filter(|u| matches && u.active))
}

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    // axum-extra does not re-export the `time` crate that `set_max_age` takes, so the lifetime
    // is set through the cookie's own syntax (tokens are URL-safe base64: nothing to escape).
    let max_age = state.settings.session_ttl.num_seconds().max(0);
    let mut c = Cookie::parse(format!("{SESSION_COOKIE}={token}; Max-Age={max_age}"))
        .map(Cookie::into_owned)
        .unwrap_or_else(|_| Cookie::new(SESSION_COOKIE, token));
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(state.settings.secure_cookies);
    c
}

/// The signed-in user, from a bearer token or the session cookie. Rejects with 401.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.user.has(role)
    }

    /// 403 unless the user holds one of `roles` (admins hold every role's rights).
    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if self.user.has(Role::Admin) || roles.iter().any(|r| self.user.has(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::forbidden(format!(
                "this needs the role {}",
                names.join(" or ")
            )))
        }
    }
}

fn presented_token(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let v = v.to_str().ok()?;
        let t = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?;
        return Some(t.trim().to_string());
    }
    CookieJar::from_headers(&parts.headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<CurrentUser>, AppError> {
    let Some(token) = presented_token(parts) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let Some(session) = state.store.get_session(&hash, state.now()).await? else {
        return Ok(None);
    };
    match state.store.get_user(session.user_id).await? {
        Some(user) if user.active => Ok(Some(CurrentUser {
            user,
            token_hash: hash,
        })),
        _ => Ok(None),
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        resolve(parts, &state)
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

impl<S> OptionalFromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let state = AppState::from_ref(state);
        resolve(parts, &state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let h = hash_password_with_salt("correct horse battery", &[7u8; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert!(!verify_password(DUMMY_HASH, "anything at all"));
        // The dummy must be a well-formed hash, or unknown users would be answered faster.
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(
            hash_password_with_salt("short", &[0u8; 16])
                .unwrap_err()
                .code(),
            "weak_password"
        );
    }

    #[test]
    fn token_hashes_are_hex_sha256() {
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(token_hash("abc"), token_hash("abd"));
    }
}
