//! One error type for the whole HTTP surface. Every error has a stable snake_case `code`, an HTTP
//! status and a message that tells the user what to do. 5xx details are logged, never sent.
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sealbid_domain::tender::{Problem, TenderError, TenderState};
use sealbid_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in first: this needs a session cookie or an `Authorization: Bearer` token")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    /// Sign-in refused without checking the password: too many recent failures for the username
    /// or from the client's address (`crate::throttle`). 429 with `Retry-After`.
    #[error(
        "too many failed sign-in attempts: try again in {}",
        wait_text(.retry_after_secs)
    )]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body has a field this endpoint does not accept: {0}")]
    UnknownField(String),
    #[error("the request body does not match what this endpoint expects: {0}")]
    InvalidBody(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("send the body as JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("this endpoint does not accept the method {0}")]
    MethodNotAllowed(String),
    /// A malformed query string or path segment: `invalid_query`, `invalid_path`.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// A value failed its own parse: the code names which (e.g. `invalid_credit_code`).
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Tender terms with one or more problems, all listed.
    #[error("the tender has problems: fix all of them and send it again")]
    Problems(Vec<Problem>),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        state: Option<TenderState>,
    },
    #[error(transparent)]
    Tender(TenderError),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `deadline_too_early`.
    pub code: String,
    /// What went wrong and what to do about it.
    pub message: String,
    /// The field at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The tender's current state, for state conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Every problem, when several were found at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<Problem>,
}

impl AppError {
    pub fn forbidden(msg: impl Into<String>) -> AppError {
        AppError::Forbidden(msg.into())
    }

    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::InvalidJson(_)
            | AppError::UnknownField(_)
            | AppError::InvalidBody(_)
            | AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Invalid { .. } | AppError::Problems(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Tender(e) => match e {
                TenderError::Invalid(_) | TenderError::ReasonRequired => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                TenderError::Calendar(_) => StatusCode::INTERNAL_SERVER_ERROR,
                TenderError::IllegalTransition { .. }
                | TenderError::DeadlinePassed { .. }
                | TenderError::DeadlineNotReached { .. }
                | TenderError::OpeningNotYet { .. } => StatusCode::CONFLICT,
            },
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "bad_credentials",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::InvalidJson(_) => "invalid_json",
            AppError::UnknownField(_) => "unknown_field",
            AppError::InvalidBody(_) => "invalid_body",
            AppError::BodyTooLarge { .. } => "body_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::BadRequest { code, .. } => code,
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Invalid { code, .. } => code,
            // One problem: its own code is the most useful; several: the umbrella code.
            AppError::Problems(p) if p.len() == 1 => &p[0].code,
            AppError::Problems(_) => "invalid_tender",
            AppError::Conflict { code, .. } => code,
            AppError::Tender(TenderError::Invalid(p)) if p.len() == 1 => &p[0].code,
            AppError::Tender(e) => e.code(),
            AppError::Internal(_) => "internal",
        }
    }

    fn body(&self) -> ErrorBody {
        let (problems, state) = match self {
            AppError::Problems(p) | AppError::Tender(TenderError::Invalid(p)) => (p.clone(), None),
            AppError::Tender(TenderError::IllegalTransition { from, .. }) => {
                (Vec::new(), Some(*from))
            }
            AppError::Conflict { state, .. } => (Vec::new(), *state),
            _ => (Vec::new(), None),
        };
        let field = match self {
            AppError::Invalid { field, .. } => field.clone(),
            AppError::Problems(p) | AppError::Tender(TenderError::Invalid(p)) if p.len() == 1 => {
                Some(p[0].field.clone())
            }
            _ => None,
        };
        let message = match self {
            AppError::Problems(p) | AppError::Tender(TenderError::Invalid(p)) if p.len() == 1 => {
                p[0].message.clone()
            }
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                field,
                state: state.map(|s| s.as_str().to_string()),
                problems,
            },
        }
    }
}

impl From<TenderError> for AppError {
    fn from(e: TenderError) -> Self {
        match e {
            TenderError::Calendar(c) => AppError::Internal(anyhow::anyhow!(
                "working-day calendar: {c} (add the year's holiday table)"
            )),
            other => AppError::Tender(other),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Conflict(what) => {
                let (code, message) = match what {
                    "tender_code" => (
                        "duplicate_tender_code",
                        "a tender with this code already exists: choose another code".to_string(),
                    ),
                    "credit_code" => (
                        "duplicate_credit_code",
                        "an organisation with this unified social credit code is already registered"
                            .to_string(),
                    ),
                    "username" => (
                        "duplicate_username",
                        "this username is taken: choose another".to_string(),
                    ),
                    "report_drawn_up" => (
                        "report_drawn_up",
                        "the evaluation report is drawn up and being signed: scores and \
                         qualification checklists can no longer change"
                            .to_string(),
                    ),
                    other => ("conflict", format!("{other} already exists")),
                };
                AppError::Conflict {
                    code,
                    message,
                    state: None,
                }
            }
            StoreError::VersionConflict { .. } => AppError::Conflict {
                code: "version_conflict",
                message: "someone else changed this record at the same time: reload and try again"
                    .into(),
                state: None,
            },
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => AppError::InvalidJson(e.body_text()),
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                if text.contains("unknown field") {
                    AppError::UnknownField(text)
                } else {
                    AppError::InvalidBody(text)
                }
            }
            JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::BodyTooLarge {
                        limit: crate::BODY_LIMIT,
                    }
                } else {
                    AppError::InvalidBody(e.body_text())
                }
            }
            other => AppError::InvalidBody(other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest {
            code: "invalid_query",
            message: format!("the query string is not valid: {}", r.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest {
            code: "invalid_path",
            message: format!("the URL path is not valid: {}", r.body_text()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause goes to the log only; the client gets the code.
            tracing::error!(error = ?self, "request failed");
        }
        let mut resp = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"sealbid\""),
            );
        }
        if let Some(secs) = self.retry_after_secs() {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl AppError {
    /// Seconds the client should wait before trying again (the `Retry-After` header), if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// A wait in words: "45 seconds", "1 minute", "15 minutes" (minutes rounded up).
fn wait_text(secs: &u64) -> String {
    let secs = *secs;
    if secs < 60 {
        let s = secs.max(1);
        format!("{s} second{}", if s == 1 { "" } else { "s" })
    } else {
        let m = secs.div_ceil(60);
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_error_maps_to_its_status_and_code() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let cases: Vec<(AppError, u16, &str)> = vec![
            (AppError::Unauthenticated, 401, "unauthenticated"),
            (AppError::BadCredentials, 401, "bad_credentials"),
            (
                AppError::TooManyAttempts {
                    retry_after_secs: 900,
                },
                429,
                "too_many_attempts",
            ),
            (AppError::forbidden("no"), 403, "forbidden"),
            (AppError::NotFound("tender"), 404, "not_found"),
            (AppError::InvalidJson("x".into()), 400, "invalid_json"),
            (AppError::UnknownField("x".into()), 400, "unknown_field"),
            (AppError::BodyTooLarge { limit: 1 }, 413, "body_too_large"),
            (
                AppError::BadRequest {
                    code: "invalid_query",
                    message: "limit".into(),
                },
                400,
                "invalid_query",
            ),
            (
                AppError::invalid("invalid_credit_code", "credit_code", "bad"),
                422,
                "invalid_credit_code",
            ),
            (
                AppError::Tender(TenderError::IllegalTransition {
                    from: TenderState::Draft,
                    action: "approved",
                }),
                409,
                "illegal_transition",
            ),
            (
                AppError::Tender(TenderError::DeadlinePassed { deadline: t }),
                409,
                "deadline_passed",
            ),
            (
                AppError::Tender(TenderError::OpeningNotYet { opening_time: t }),
                409,
                "opening_not_yet",
            ),
            (
                StoreError::Conflict("tender_code").into(),
                409,
                "duplicate_tender_code",
            ),
            (
                AppError::Internal(anyhow::anyhow!("secret detail")),
                500,
                "internal",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code, "{err:?}");
        }
    }

    #[test]
    fn too_many_attempts_says_when_to_try_again() {
        let resp = AppError::TooManyAttempts {
            retry_after_secs: 900,
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            resp.headers().get(axum::http::header::RETRY_AFTER).unwrap(),
            "900"
        );
        let text = |secs| {
            AppError::TooManyAttempts {
                retry_after_secs: secs,
            }
            .to_string()
        };
        assert_eq!(
            text(900),
            "too many failed sign-in attempts: try again in 15 minutes"
        );
        assert!(text(61).ends_with("in 2 minutes"), "{}", text(61));
        assert!(text(60).ends_with("in 1 minute"), "{}", text(60));
        assert!(text(1).ends_with("in 1 second"), "{}", text(1));
        assert!(text(45).ends_with("in 45 seconds"), "{}", text(45));
        // Other errors carry no Retry-After.
        let resp = AppError::BadCredentials.into_response();
        assert!(resp
            .headers()
            .get(axum::http::header::RETRY_AFTER)
            .is_none());
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let body = AppError::Internal(anyhow::anyhow!("password=hunter2")).body();
        let text = serde_json::to_string(&body).unwrap();
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn a_single_problem_lends_its_code_and_message() {
        let p = Problem::new(
            "bid_deadline",
            "deadline_too_early",
            "earliest is 2026-01-21",
        );
        let e = AppError::Tender(TenderError::Invalid(vec![p]));
        assert_eq!(e.code(), "deadline_too_early");
        let body = e.body();
        assert_eq!(body.error.field.as_deref(), Some("bid_deadline"));
        assert!(body.error.message.contains("2026-01-21"));
        assert_eq!(body.error.problems.len(), 1);
    }
}
