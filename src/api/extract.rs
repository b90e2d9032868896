//! Request extractors that turn bad input into problem+json with the field path.

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::app::auth::{authenticate, hash_secret, Principal};
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::FieldError;

/// A JSON body. Unlike `web::Json`, a type or unknown-field error names the exact field
/// (`manifest[1].tonnes`), and syntax errors give the line and column.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json_or_absent(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json".into(),
                ));
            }
            let bytes = body.await.map_err(body_error)?;
            parse_json(&bytes).map(ApiJson)
        })
    }
}

fn is_json_or_absent(req: &HttpRequest) -> bool {
    match req.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v
            .to_str()
            .map(|s| {
                let s = s.to_ascii_lowercase();
                s.starts_with("application/json") || s.contains("+json")
            })
            .unwrap_or(false),
    }
}

/// Maps a failure to read the body; the only expected one is a body over the limit.
pub fn body_error(e: actix_web::Error) -> AppError {
    if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(
            "the request body is larger than the server accepts (setting server.body_limit_bytes); split it into smaller requests".into(),
        )
    } else {
        AppError::Malformed(format!("the request body could not be read: {e}"))
    }
}

/// Parses JSON, reporting the path of the field that failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(AppError::Malformed(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

fn json_error(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::Malformed(format!("the body is not valid JSON: {e}"))
        }
        Category::Data => {
            let message = e.to_string();
            // serde reports a missing field at the enclosing object; name the field itself
            // so the client sees exactly which key to add.
            let field = match backticked(&message) {
                Some(name) if message.starts_with("missing field") => join_path(path, name),
                _ => display_path(path),
            };
            let message = strip_position(&message);
            AppError::invalid(vec![FieldError::new(field, message)])
        }
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn join_path(parent: &str, name: &str) -> String {
    if parent == "." || parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn display_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "body".to_string()
    } else {
        path.to_string()
    }
}

/// serde_json appends " at line 1 column 42", which means nothing once the field is named.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string. Errors name the parameter (`limit: invalid digit found in string`).
pub struct ApiQuery<T>(pub T);

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = match backticked(&message) {
            Some(name)
                if message.starts_with("unknown field") || message.starts_with("missing field") =>
            {
                name.to_string()
            }
            _ if path == "." || path.is_empty() => "query".to_string(),
            _ => path,
        };
        AppError::invalid(vec![FieldError::new(field, message)])
    })
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The caller, from `Authorization: Bearer <token>`.
impl FromRequest for Principal {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = bearer(req);
        // The cache serves reads, and event writes, which check revocation again in their
        // own transaction; every other write looks the token up.
        let cacheable = matches!(*req.method(), Method::GET | Method::HEAD)
            || (req.method() == Method::POST
                && req.match_pattern().as_deref() == Some("/api/v1/convoys/{id}/events"));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            let secret = secret?;
            let hash = hash_secret(&secret);
            if let Some(known) = cacheable.then(|| state.tokens.get(&hash)).flatten() {
                return Ok(known);
            }
            let found = state.db(move |conn| authenticate(conn, &secret)).await?;
            if let Some(p) = &found {
                state.tokens.put(hash, p.clone());
            }
            found.ok_or_else(|| {
                AppError::Unauthorized(
                    "the bearer token is unknown or revoked; ask an admin for a valid token".into(),
                )
            })
        })
    }
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "send a token in the Authorization header: 'Authorization: Bearer <token>'".into(),
            )
        })?
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not valid text".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
    Ok(token.to_string())
}
