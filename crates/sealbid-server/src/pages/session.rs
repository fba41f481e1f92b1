//! Signing in and out with a session cookie.
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::{DateTime, Duration, DurationRound, Utc};
use sealbid_store::SessionKind;
use serde::Deserialize;

use super::{error_page, render, safe_next, Nav, Viewer};
use crate::auth::{
    check_login, session_cookie, start_session, token_hash, ClientIp, SESSION_COOKIE,
};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    username: String,
    next: String,
    error: Option<String>,
    /// The error in Chinese, shown after it.
    error_zh: &'static str,
    signed_in_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

/// Never prints the password.
impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("username", &self.username)
            .field("password", &"***")
            .field("next", &self.next)
            .finish()
    }
}

fn next_or_default(next: &str) -> String {
    safe_next(next).unwrap_or("/tenders").to_string()
}

pub async fn login_form(
    Viewer(user): Viewer,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let nav = Nav::new(user.as_ref(), "login");
    let next = query.map(|Query(q)| q.next).unwrap_or_default();
    let page = LoginPage {
        signed_in_as: user.as_ref().map(|u| u.user.display_name.clone()),
        nav: nav.clone(),
        username: String::new(),
        next: next_or_default(&next),
        error: None,
        error_zh: "",
    };
    render(StatusCode::OK, &page, &nav)
}

pub async fn login_submit(
    State(state): State<AppState>,
    client: ClientIp,
    jar: CookieJar,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let nav = Nav::new(None, "login");
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(AppError::InvalidBody(e.body_text()), &nav),
    };
    let next = next_or_default(&form.next);
    let user = match check_login(&state, &form.username, &form.password, client).await {
        Ok(u) => u,
        // Wrong credentials or too many failures: the form again, with the message (and, for
        // 429, when to try again) and the username kept.
        Err(e @ (AppError::BadCredentials | AppError::TooManyAttempts { .. })) => {
            let (message, zh) = match e.retry_after_secs() {
                Some(secs) => (
                    format!(
                        "{}, at {}",
                        super::view::sentence(&e.to_string()),
                        super::view::time(retry_time(state.now(), secs))
                    ),
                    "登录失败次数过多，请稍后再试",
                ),
                None => (super::view::sentence(&e.to_string()), "用户名或密码错误"),
            };
            let page = LoginPage {
                nav: nav.clone(),
                username: form.username.trim().to_string(),
                next,
                error: Some(message),
                error_zh: zh,
                signed_in_as: None,
            };
            let mut resp = render(e.status(), &page, &nav);
            if let Some(secs) = e.retry_after_secs() {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            return resp;
        }
        Err(e) => return error_page(e, &nav),
    };
    // Signing in again (e.g. as someone else) ends the session this browser had.
    if let Some(old) = jar.get(SESSION_COOKIE) {
        if let Err(e) = state.store.delete_session(&token_hash(old.value())).await {
            return error_page(e.into(), &nav);
        }
    }
    match start_session(&state, &user, SessionKind::Cookie).await {
        Ok((token, _)) => {
            (jar.add(session_cookie(&state, token)), Redirect::to(&next)).into_response()
        }
        Err(e) => error_page(e, &nav),
    }
}

/// When a sign-in may be tried again, rounded up to the minute (the page shows minutes).
fn retry_time(now: DateTime<Utc>, retry_after_secs: u64) -> DateTime<Utc> {
    let secs = i64::try_from(retry_after_secs)
        .unwrap_or(i64::MAX)
        .min(1 << 40);
    let at = now
        .checked_add_signed(Duration::seconds(secs))
        .unwrap_or(now);
    at.duration_round_up(Duration::minutes(1)).unwrap_or(at)
}

pub async fn logout(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    jar: CookieJar,
) -> Response {
    if let Some(u) = &user {
        if let Err(e) = state.store.delete_session(&u.token_hash).await {
            return error_page(e.into(), &Nav::new(user.as_ref(), ""));
        }
    }
    let gone = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    (jar.remove(gone), Redirect::to("/tenders")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_form_never_prints_the_password() {
        let form: LoginForm = serde_json::from_str(
            r#"{"username": "admin", "password": "hunter2 hunter2", "next": "/tenders"}"#,
        )
        .unwrap();
        let shown = format!("{form:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("admin"), "{shown}");
    }

    #[test]
    fn the_retry_time_is_rounded_up_to_the_minute() {
        use chrono::TimeZone;
        let t = |h, m, s| Utc.with_ymd_and_hms(2025, 3, 3, h, m, s).unwrap();
        assert_eq!(retry_time(t(1, 0, 0), 900), t(1, 15, 0));
        assert_eq!(retry_time(t(1, 0, 10), 900), t(1, 16, 0));
        assert_eq!(retry_time(t(1, 0, 0), 1), t(1, 1, 0));
    }
}
