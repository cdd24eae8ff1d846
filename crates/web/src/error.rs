//! The one place errors become responses: a Chinese page for browsers, and for the API the
//! shape `{"code": "...", "message": "<中文>", "field": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("请先登录")]
    Unauthenticated,
    #[error("接口令牌无效、已过期或已吊销")]
    TokenRejected,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}不存在或无权查看")]
    NotFound(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// The request itself cannot be read (malformed JSON, wrong content type).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// Something the server needs is missing (e.g. no CJK font for PDF copies): 503 with what
    /// the administrator must do.
    #[error("{0}")]
    Unavailable(String),
    #[error("系统内部错误，请稍后重试")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated | AppError::TokenRejected => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::TokenRejected => "invalid_token",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict { .. } => "conflict",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge(_) => "too_large",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    fn log(&self) {
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            AppError::Unavailable(detail) => tracing::warn!(error = %detail, "unavailable"),
            _ => {}
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict { field, message } => AppError::Conflict { field, message },
            StoreError::Invalid { field, message } => AppError::Invalid { field, message },
            StoreError::Forbidden(m) => AppError::Forbidden(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::from(StoreError::from(e))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    /// Stable machine-readable code: unauthenticated, invalid_token, forbidden, not_found, invalid,
    /// conflict, bad_request, too_large, unsupported_media_type, method_not_allowed, too_many_requests, unavailable, internal.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    /// The input field at fault, when there is one.
    pub field: Option<String>,
}

/// An error answered as JSON (API routes).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let body = ApiErrorBody {
            code: self.0.code().to_string(),
            message: self.0.to_string(),
            field: self.0.field().map(str::to_string),
        };
        (self.0.status(), Json(body)).into_response()
    }
}

/// An error answered as a page (browser routes).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let title = match &self.0 {
            AppError::Unauthenticated | AppError::TokenRejected => "请先登录",
            AppError::Forbidden(_) => "无权访问",
            AppError::NotFound(_) => "未找到",
            AppError::Invalid { .. } | AppError::Conflict { .. } | AppError::BadRequest(_) => "无法处理",
            AppError::PayloadTooLarge(_) => "内容过大",
            AppError::TooManyRequests(_) => "请稍后再试",
            AppError::Unavailable(_) => "暂不可用",
            AppError::Internal(_) => "系统错误",
        };
        (status, Html(crate::layout::plain_page(title, &self.0.to_string()))).into_response()
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// Keeps the API's promise that every error is `{"code","message","field"}` in Chinese: the
/// framework's own refusals (malformed JSON 400, 413, 415, 405, a path parameter that does not
/// parse) arrive as plain text, and are rewritten here for `/api/` paths.
pub async fn api_envelope(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "请求格式不正确，请检查 JSON 内容和参数"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "请求内容超过上限"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "请求须为 JSON（Content-Type: application/json）")
        }
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "该接口不支持此请求方法"),
        StatusCode::NOT_FOUND => ("not_found", "接口不存在"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "请求内容无法按接口说明解析"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "请求过于频繁，请稍后再试"),
        s if s.is_server_error() => ("internal", "系统内部错误，请稍后重试"),
        _ => ("bad_request", "请求无法处理"),
    };
    // The framework's text says what was wrong (in English); keep it in the log, not the answer.
    let body = ApiErrorBody { code: code.into(), message: message.into(), field: None };
    let mut out = (status, Json(body)).into_response();
    if let Some(allow) = resp.headers().get(axum::http::header::ALLOW) {
        out.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    out
}
