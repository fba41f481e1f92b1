//! Sign-in with bearer tokens, and who takes part: halls, users and organisations.
use axum::extract::State;
use axum::http::StatusCode;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::{parse_username, Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::{CreditCode, DivisionCode, OrgId, UserId};
use sealbid_store::{OrgFilter, SessionKind};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{
    CreateHallRequest, CreateOrgRequest, CreateUserRequest, HallView, LoginRequest, LoginResponse,
    MeResponse, OrgView, UserView,
};
use super::{page, AppJson, AppPath, AppQuery, NoContent};
use crate::auth::{self, CurrentUser};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// Parses an administrative division code from a request field.
pub(crate) fn parse_division(s: &str, field: &str) -> AppResult<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| AppError::invalid(e.code(), field, e.to_string()))
}

/// A person-readable name: trimmed, 1 to `max` characters.
pub(crate) fn parse_name(s: &str, field: &str, max: usize) -> AppResult<String> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(AppError::invalid(
            "invalid_name",
            field,
            format!("{field} must have 1 to {max} characters"),
        ));
    }
    Ok(s.to_string())
}

/// 422 `unknown_hall` unless the hall is registered.
async fn ensure_hall_exists(state: &AppState, hall: &DivisionCode, field: &str) -> AppResult<()> {
    let halls = state.store.list_halls().await?;
    if halls.iter().any(|h| &h.division == hall) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "unknown_hall",
            field,
            format!("there is no hall {hall}: an admin registers halls with POST /halls"),
        ))
    }
}

/// Signs in with a username and password and returns a bearer token. After 5 failures for a
/// username, or 20 from one client address, within 15 minutes (the server's defaults), further
/// sign-ins for it are refused with 429 until the oldest failure is 15 minutes old.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this username or from this address (`too_many_attempts`); the password was not checked", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until a sign-in may be tried again"))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    client: auth::ClientIp,
    AppJson(req): AppJson<LoginRequest>,
) -> AppResult<AppJson<LoginResponse>> {
    let user = auth::check_login(&state, &req.username, &req.password, client).await?;
    let (token, session) = auth::start_session(&state, &user, SessionKind::Bearer).await?;
    Ok(AppJson(LoginResponse {
        token,
        expires_at: session.expires_at,
        user: user.into(),
    }))
}

/// Ends the session whose token (or cookie) the request carries.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "No session", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, user: CurrentUser) -> AppResult<NoContent> {
    state.store.delete_session(&user.token_hash).await?;
    Ok(NoContent)
}

/// The signed-in user and their organisation.
#[utoipa::path(
    get,
    path = "/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeResponse),
        (status = 401, description = "No session", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<AppJson<MeResponse>> {
    let org = match user.user.org {
        Some(id) => state.store.get_org(id).await?.map(Into::into),
        None => None,
    };
    Ok(AppJson(MeResponse {
        user: user.user.into(),
        org,
    }))
}

/// Every trading hall (public).
#[utoipa::path(
    get,
    path = "/halls",
    tag = "accounts",
    responses((status = 200, description = "The halls", body = Vec<HallView>))
)]
pub async fn list_halls(State(state): State<AppState>) -> AppResult<AppJson<Vec<HallView>>> {
    let halls = state.store.list_halls().await?;
    Ok(AppJson(halls.into_iter().map(Into::into).collect()))
}

/// Registers a hall, or renames an existing one (admin).
#[utoipa::path(
    post,
    path = "/halls",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateHallRequest,
    responses(
        (status = 201, description = "Registered", body = HallView),
        (status = 200, description = "Renamed", body = HallView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid division code or name", body = ErrorBody),
    )
)]
pub async fn create_hall(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<CreateHallRequest>,
) -> AppResult<(StatusCode, AppJson<HallView>)> {
    if !user.has(Role::Admin) {
        return Err(AppError::forbidden("this needs the role admin"));
    }
    let hall = Hall {
        division: parse_division(&req.division, "division")?,
        name: parse_name(&req.name, "name", 200)?,
    };
    let before = state
        .store
        .list_halls()
        .await?
        .into_iter()
        .find(|h| h.division == hall.division);
    let audit = AuditEvent::new(
        Some(user.user.id),
        state.now(),
        "hall.upsert",
        "hall",
        &hall.division,
    )
    .with_change(before.as_ref(), Some(&hall));
    state.store.upsert_hall(&hall, &audit).await?;
    let status = if before.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, AppJson(hall.into())))
}

/// Creates an account. Admins may create any; a centre officer only tenderee, bidder and
/// applicant accounts in a hall it covers. Bidders and tenderees act for an organisation.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed to create this account", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<CreateUserRequest>,
) -> AppResult<(StatusCode, AppJson<UserView>)> {
    user.require_any(&[Role::CentreOfficer])?;
    let hall = parse_division(&req.hall, "hall")?;
    let mut roles = req.roles;
    roles.sort();
    roles.dedup();
    policy::ensure_can_create_account(&user.user, &hall, &roles)?;
    let username = parse_username(&req.username)
        .map_err(|e| AppError::invalid(e.code(), "username", e.to_string()))?;
    let display_name = parse_name(&req.display_name, "display_name", 100)?;
    if roles.is_empty() {
        return Err(AppError::invalid(
            "roles_required",
            "roles",
            "an account needs at least one role",
        ));
    }
    ensure_hall_exists(&state, &hall, "hall").await?;
    let org = match req.org_id {
        Some(id) => Some(check_account_org(&state, &user.user, id, &roles).await?),
        None => None,
    };
    if org.is_none() && (roles.contains(&Role::Bidder) || roles.contains(&Role::Tenderee)) {
        return Err(AppError::invalid(
            "org_required",
            "org_id",
            "bidders and tenderees act for an organisation: set org_id",
        ));
    }
    let password_hash = auth::hash_password(&state, &req.password)?;
    let now = state.now();
    let account = User {
        id: UserId::new(),
        username,
        display_name,
        roles,
        org: org.map(|o| o.id),
        hall,
        active: true,
        created_at: now,
    };
    let audit = AuditEvent::new(Some(user.user.id), now, "user.create", "user", account.id)
        .with_change::<User, _>(None, Some(&account));
    state
        .store
        .create_user(&account, &password_hash, &audit)
        .await?;
    Ok((StatusCode::CREATED, AppJson(account.into())))
}

/// The organisation a new account acts for: it must exist, fit the roles, and (for a centre
/// officer) be registered in a hall the officer covers.
async fn check_account_org(
    state: &AppState,
    actor: &User,
    id: OrgId,
    roles: &[Role],
) -> AppResult<Organisation> {
    let org = state.store.get_org(id).await?.ok_or_else(|| {
        AppError::invalid(
            "unknown_org",
            "org_id",
            "there is no organisation with this id",
        )
    })?;
    if !actor.has(Role::Admin) && !actor.covers_hall(&org.hall) {
        return Err(AppError::forbidden(format!(
            "the organisation is registered in hall {}, which your hall {} does not cover",
            org.hall, actor.hall
        )));
    }
    if roles.contains(&Role::Bidder) && org.kind != OrgKind::Bidder {
        return Err(AppError::invalid(
            "org_kind_mismatch",
            "org_id",
            "a bidder account must belong to a bidder organisation",
        ));
    }
    if roles.contains(&Role::Tenderee) && !matches!(org.kind, OrgKind::Tenderee | OrgKind::Agency) {
        return Err(AppError::invalid(
            "org_kind_mismatch",
            "org_id",
            "a tenderee account must belong to a tenderee or agency organisation",
        ));
    }
    Ok(org)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most 100 (default 50).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Accounts: every hall for admins, the covered halls for centre officers.
#[utoipa::path(
    get,
    path = "/users",
    tag = "accounts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The accounts", body = Vec<UserView>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not an admin or centre officer", body = ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<PageQuery>,
) -> AppResult<AppJson<Vec<UserView>>> {
    let scope = policy::account_scope(&user.user)?;
    let (limit, offset) = page(q.limit, q.offset)?;
    let users = state.store.list_users(&scope, limit, offset).await?;
    Ok(AppJson(users.into_iter().map(Into::into).collect()))
}

/// Registers an organisation (admin, or a centre officer covering its hall). The unified social
/// credit code must pass its GB 32100 check.
#[utoipa::path(
    post,
    path = "/orgs",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = CreateOrgRequest,
    responses(
        (status = 201, description = "Registered", body = OrgView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed to register in this hall", body = ErrorBody),
        (status = 409, description = "Credit code already registered", body = ErrorBody),
        (status = 422, description = "Invalid credit code (`invalid_credit_code`, naming the expected check character), name or hall", body = ErrorBody),
    )
)]
pub async fn create_org(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(req): AppJson<CreateOrgRequest>,
) -> AppResult<(StatusCode, AppJson<OrgView>)> {
    user.require_any(&[Role::CentreOfficer])?;
    let hall = parse_division(&req.hall, "hall")?;
    policy::ensure_can_register_org(&user.user, &hall)?;
    let credit_code = CreditCode::parse(&req.credit_code).map_err(|e| {
        AppError::invalid(
            "invalid_credit_code",
            "credit_code",
            format!(
                "\"{}\" is not a valid unified social credit code: {e}",
                req.credit_code.trim().chars().take(40).collect::<String>()
            ),
        )
    })?;
    let name = parse_name(&req.name, "name", 200)?;
    ensure_hall_exists(&state, &hall, "hall").await?;
    let now = state.now();
    let org = Organisation {
        id: OrgId::new(),
        credit_code,
        name,
        kind: req.kind,
        hall,
        created_at: now,
    };
    let audit = AuditEvent::new(Some(user.user.id), now, "org.create", "org", org.id)
        .with_change::<Organisation, _>(None, Some(&org));
    state.store.create_org(&org, &audit).await?;
    Ok((StatusCode::CREATED, AppJson(org.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Only organisations of this kind: bidder, tenderee, agency, authority.
    pub kind: Option<String>,
    /// Case-insensitive part of the name or credit code.
    pub q: Option<String>,
    /// At most 100 (default 50).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Registered organisations (signed-in users).
#[utoipa::path(
    get,
    path = "/orgs",
    tag = "accounts",
    security(("bearer" = [])),
    params(OrgQuery),
    responses(
        (status = 200, description = "The organisations", body = Vec<OrgView>),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, description = "No session", body = ErrorBody),
    )
)]
pub async fn list_orgs(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppQuery(q): AppQuery<OrgQuery>,
) -> AppResult<AppJson<Vec<OrgView>>> {
    let (limit, offset) = page(q.limit, q.offset)?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(OrgKind::parse(k).ok_or_else(|| AppError::BadRequest {
            code: "invalid_query",
            message: format!("kind must be bidder, tenderee, agency or authority, not \"{k}\""),
        })?),
    };
    let filter = OrgFilter {
        kind,
        text: q.q.filter(|t| !t.trim().is_empty()),
        limit,
        offset,
        ..OrgFilter::default()
    };
    let orgs = state.store.list_orgs(&filter).await?;
    Ok(AppJson(orgs.into_iter().map(Into::into).collect()))
}

/// One organisation (signed-in users).
#[utoipa::path(
    get,
    path = "/orgs/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrgView),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 404, description = "No such organisation", body = ErrorBody),
    )
)]
pub async fn get_org(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppPath(id): AppPath<OrgId>,
) -> AppResult<AppJson<OrgView>> {
    let org = state
        .store
        .get_org(id)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    Ok(AppJson(org.into()))
}
