//! The audit log over the API: one tender's trail, and the check of the whole hash chain.
use axum::extract::State;
use sealbid_domain::org::Role;
use sealbid_domain::TenderId;

use super::dto::{AuditRecordView, AuditVerification};
use super::tenders::load;
use super::{AppJson, AppPath};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::policy;
use crate::state::AppState;

/// A tender's audit trail, oldest first: who changed what and when, with before and after images
/// (its owner, the centre officers and supervisors covering its hall, admins).
#[utoipa::path(
    get,
    path = "/tenders/{id}/audit",
    tag = "audit",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "Tender id")),
    responses(
        (status = 200, description = "The trail", body = Vec<AuditRecordView>),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not allowed to read this trail", body = ErrorBody),
        (status = 404, description = "No such tender", body = ErrorBody),
    )
)]
pub async fn tender_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<TenderId>,
) -> AppResult<AppJson<Vec<AuditRecordView>>> {
    let t = load(&state, id).await?;
    policy::ensure_can_read_audit(&user.user, &t)?;
    let records = state
        .store
        .audit_for_entity("tender", &id.to_string())
        .await?;
    let views = records
        .iter()
        .map(AuditRecordView::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored audit event: {e}")))?;
    Ok(AppJson(views))
}

/// Re-checks the whole audit hash chain (admin).
#[utoipa::path(
    get,
    path = "/audit/verify",
    tag = "audit",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The result; `ok` is false at the first broken link", body = AuditVerification),
        (status = 401, description = "No session", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn verify_audit(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<AppJson<AuditVerification>> {
    if !user.has(Role::Admin) {
        return Err(AppError::forbidden("this needs the role admin"));
    }
    let result = match state.store.verify_audit().await? {
        Ok(records) => AuditVerification {
            ok: true,
            records,
            broken_at: None,
            reason: None,
        },
        Err(broken) => AuditVerification {
            ok: false,
            records: broken.seq - 1,
            broken_at: Some(broken.seq),
            reason: Some(broken.reason),
        },
    };
    Ok(AppJson(result))
}
