//! Signing in and out with a session cookie.
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use sealbid_store::SessionKind;
use serde::Deserialize;

use super::{error_page, render, safe_next, Nav, Viewer};
use crate::auth::{check_login, session_cookie, start_session, token_hash, SESSION_COOKIE};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    username: String,
    next: String,
    error: Option<String>,
    signed_in_as: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
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
    };
    render(StatusCode::OK, &page, &nav)
}

pub async fn login_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let nav = Nav::new(None, "login");
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(AppError::InvalidBody(e.body_text()), &nav),
    };
    let next = next_or_default(&form.next);
    let user = match check_login(&state, &form.username, &form.password).await {
        Ok(u) => u,
        Err(AppError::BadCredentials) => {
            let page = LoginPage {
                nav: nav.clone(),
                username: form.username.trim().to_string(),
                next,
                error: Some(super::view::sentence(&AppError::BadCredentials.to_string())),
                signed_in_as: None,
            };
            return render(StatusCode::UNAUTHORIZED, &page, &nav);
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
