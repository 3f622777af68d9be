//! What the API answers: JSON errors naming the field (and what is allowed), JSON bodies read with
//! unknown fields refused and their size bounded, downloads.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::Problem;

/// Largest request body: a scenario upload is a few KB; 256 KiB leaves room, nothing more.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Requests a session may make in a burst, and per second after it.
pub const SESSION_BURST: f64 = 60.0;
pub const SESSION_RATE: f64 = 30.0;

#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) field: String,
    pub(super) message: String,
    pub(super) problems: Vec<Problem>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, field: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, field: field.to_string(), message: message.into(), problems: Vec::new() }
    }
    pub(super) fn problems(problems: Vec<Problem>) -> ApiError {
        let first = problems.first().map(|p| p.key.clone()).unwrap_or_default();
        let message = problems.iter().map(|p| format!("`{}` {}", p.key, p.message)).collect::<Vec<_>>().join("; ");
        ApiError { status: StatusCode::BAD_REQUEST, field: first, message, problems }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problems: Vec<Value> =
            self.problems.iter().map(|p| json!({ "key": p.key, "message": p.message })).collect();
        let body = json!({ "error": self.message, "field": self.field, "problems": problems });
        (self.status, axum::Json(body)).into_response()
    }
}

pub(super) fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "x-session",
        format!("too many requests: at most {SESSION_RATE} a second per user (bursts of {SESSION_BURST}); slow down"),
    )
}

/// A JSON body: too large, malformed, a wrong type or an unknown field each named.
/// A request body as axum hands it over (or why it could not).
pub(super) type Body = std::result::Result<Bytes, BytesRejection>;

pub(super) fn body<T: DeserializeOwned>(bytes: Body) -> Result<T, ApiError> {
    let bytes = bytes.map_err(|e| {
        let status = if e.status() == StatusCode::PAYLOAD_TOO_LARGE { e.status() } else { StatusCode::BAD_REQUEST };
        ApiError::new(
            status,
            "body",
            format!("the request body could not be read ({e}); at most {MAX_BODY_BYTES} bytes"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_string() } else { path };
        ApiError::new(StatusCode::BAD_REQUEST, &field, format!("malformed request: {}", e.into_inner()))
    })
}

pub(super) type ApiResult = std::result::Result<Response, ApiError>;

/// JSON text already serialised (a run's stored years spliced in), answered as JSON.
pub(super) fn json_text(text: String) -> ApiResult {
    let mut response = text.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

pub(super) fn json_response(value: Value) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

pub(super) fn download(name: &str, content_type: &'static str, text: String) -> ApiResult {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"{name}\"");
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII file names"));
    Ok(response)
}
