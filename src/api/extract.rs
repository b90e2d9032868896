//! Request extractors that turn bad input into problem+json with the field path.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, Uri};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::app::auth::{authenticate, hash_secret, Principal, Role};
use crate::app::error::AppError;
use crate::app::sessions::{self, RequestOrigin};
use crate::app::state::AppState;
use crate::domain::text::{forbidden_char, forbidden_message};
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
        let req = req.clone();
        Box::pin(async move {
            let mut read = None;
            let parsed = if content_type_ok {
                match body.await {
                    Ok(bytes) => {
                        let parsed = parse_json(&bytes);
                        read = Some(bytes);
                        parsed
                    }
                    Err(e) => Err(body_error(e)),
                }
            } else {
                Err(AppError::UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json".into(),
                ))
            };
            match parsed {
                Ok(value) => Ok(ApiJson(value)),
                Err(e) => Err(authorize_before(&req, read.as_deref(), e).await),
            }
        })
    }
}

/// The paths under which an editor may write (for its own organization); every other
/// write needs an admin token.
const EDITOR_WRITES: [&str; 4] = [
    "/api/v1/convoys",
    "/api/v1/sync",
    "/api/v1/imports",
    "/api/v1/alerts",
];

/// The error to answer for a body that cannot be used: a token that may not make this
/// write learns that first (401 without a valid token, 403 for a viewer, for an editor on
/// an admin's path, or for an editor writing for another organization — the convoy or
/// alert in the path, or the `organization` a convoy body names), whatever else is wrong
/// with the body; everyone else gets the body's own error. Only failed bodies pay this
/// second look at the token (mostly cached) and at what the write is about.
pub async fn authorize_before(
    req: &HttpRequest,
    bytes: Option<&[u8]>,
    body_error: AppError,
) -> AppError {
    let who = match Principal::from_request(req, &mut Payload::None).await {
        Ok(who) => who,
        Err(e) => return e,
    };
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return body_error;
    }
    let editors_may = EDITOR_WRITES.iter().any(|p| req.path().starts_with(p));
    let allowed = if editors_may {
        who.require_writer()
    } else {
        who.require_admin()
    };
    if let Err(refused) = allowed {
        return refused;
    }
    if who.role != Role::Editor {
        return body_error;
    }
    match organization_check(req, bytes, who).await {
        Ok(()) => body_error,
        Err(refused @ AppError::Forbidden(_)) => refused,
        // Looking the target up failed: the body's own error is still the answer.
        Err(_) => body_error,
    }
}

/// Whether an editor may write what a request is about, as far as the path (a convoy or
/// an alert) or a convoy body's `organization` tells without parsing the body's types.
async fn organization_check(
    req: &HttpRequest,
    bytes: Option<&[u8]>,
    who: Principal,
) -> Result<(), AppError> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(());
    };
    let pattern = req.match_pattern().unwrap_or_default();
    let id = req.match_info().get("id").map(str::to_string);
    match (pattern.as_str(), id) {
        ("/api/v1/convoys/{id}/events", Some(id)) => {
            state
                .db(move |c| crate::app::convoys::check_may_write_convoy(c, &who, &id))
                .await
        }
        ("/api/v1/alerts/{id}/acknowledge" | "/api/v1/alerts/{id}/resolve", Some(id)) => {
            state
                .db(move |c| crate::app::alerts::check_may_act(c, &who, &id))
                .await
        }
        ("/api/v1/convoys", _) => {
            let slug = bytes
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                .and_then(|v| v.get("organization")?.as_str().map(str::to_string));
            match slug {
                Some(slug) => {
                    state
                        .db(move |c| crate::app::convoys::check_may_write_for(c, &who, &slug))
                        .await
                }
                None => Ok(()),
            }
        }
        _ => Ok(()),
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
    check_json_text(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

/// Refuses a body whose strings (values or keys) hold a control character other than
/// tab, line feed and carriage return, naming the first one's path (`manifest[1].commodity`).
/// JSON can carry such characters only as `\u` escapes, U+007F or C1 characters, so other
/// bodies are let through without a second parse.
fn check_json_text(bytes: &[u8]) -> Result<(), AppError> {
    let suspect = bytes.contains(&0x7f)
        || bytes
            .windows(2)
            .any(|w| w == b"\\u" || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])));
    if !suspect {
        return Ok(());
    }
    // Not valid JSON: the typed parse reports the syntax error.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    match forbidden_in_value(&value, String::new()) {
        Some((path, message)) => Err(AppError::invalid(vec![FieldError::new(
            display_path(&path),
            message,
        )])),
        None => Ok(()),
    }
}

/// The path and message of the first string in `value` with a forbidden character.
fn forbidden_in_value(value: &serde_json::Value, path: String) -> Option<(String, String)> {
    use serde_json::Value;
    match value {
        Value::String(s) => forbidden_message(s).map(|m| (path, m)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| forbidden_in_value(v, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let field = join_path(&path, k);
            match forbidden_message(k) {
                Some(m) => Some((field, format!("the field name {m}"))),
                None => forbidden_in_value(v, field),
            }
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
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
    if let Some(e) = form_urlencoded_parse(query).find_map(|(name, value)| {
        forbidden_message(&name)
            .map(|m| FieldError::new("query", format!("a parameter name {m}")))
            .or_else(|| forbidden_message(&value).map(|m| FieldError::new(name, m)))
    }) {
        return Err(AppError::invalid(vec![e]));
    }
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
        let session = if req.headers().contains_key(header::AUTHORIZATION) {
            None
        } else {
            req.cookie(sessions::COOKIE)
                .map(|c| (c.value().to_string(), browser_write_check(req)))
        };
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            if let Some((cookie, write_check)) = session {
                return session_principal(&state, cookie, write_check).await;
            }
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

/// What a browser write must show besides its session: that it came from aidflow's own
/// pages and carries the session's CSRF token (`None` for reads).
struct WriteCheck {
    same_origin: bool,
    csrf: Option<String>,
}

fn browser_write_check(req: &HttpRequest) -> Option<WriteCheck> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let info = req.connection_info();
    let header = |name: &'static str| req.headers().get(name).and_then(|v| v.to_str().ok());
    Some(WriteCheck {
        same_origin: sessions::same_origin(RequestOrigin::read(info.host(), header)),
        csrf: header(sessions::CSRF_HEADER).map(str::to_string),
    })
}

/// The principal of a browser session (the field app calls the API with its cookie); a
/// write must come from the same origin with the session's CSRF token in `X-CSRF-Token`.
async fn session_principal(
    state: &AppState,
    cookie: String,
    write_check: Option<WriteCheck>,
) -> Result<Principal, AppError> {
    let session = state
        .db(move |c| sessions::find(c, &cookie))
        .await?
        .ok_or_else(|| {
            AppError::Unauthorized(
                "your browser session has ended (signed out, expired, or its token was revoked); sign in again at /sign-in".into(),
            )
        })?;
    if let Some(check) = write_check {
        if !check.same_origin {
            return Err(AppError::Forbidden(
                "this request came from another site; aidflow accepts browser writes only from its own pages".into(),
            ));
        }
        if !sessions::csrf_matches(&session, check.csrf.as_deref()) {
            return Err(AppError::Forbidden(
                "the X-CSRF-Token header is missing or does not match this session; reload the page and try again".into(),
            ));
        }
    }
    Ok(session.principal)
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
    bearer_token(value).map(str::to_string).ok_or_else(|| {
        AppError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
    })
}

/// The token of `Bearer <token>`: the scheme in any case, then any run of spaces or tabs
/// (RFC 9110 §11.1 and §5.6.3).
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim_matches([' ', '\t']);
    let split = value.find([' ', '\t'])?;
    let (scheme, rest) = value.split_at(split);
    let token = rest.trim_start_matches([' ', '\t']);
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains([' ', '\t']))
        .then_some(token)
}

/// Path segments as every handler should see them, before routing: an id written as a
/// UUID in any case (some phones write uppercase) becomes the canonical lowercase form the
/// database keeps, and a segment holding a control character (`/alerts/%00`) is a 404 —
/// no such resource can exist, and PostgreSQL must never see it.
pub async fn normalize_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = req.uri().path();
    if path
        .split('/')
        .any(|s| forbidden_char(&percent_decode(s)).is_some())
    {
        let error = AppError::NotFound(
            "no resource has a path with control characters; check the id or key".into(),
        );
        let response = error.error_response().map_into_right_body();
        return Ok(req.into_response(response));
    }
    if let Some(lowered) = canonical_uuids(path) {
        let mut parts = req.uri().clone().into_parts();
        let query = parts
            .path_and_query
            .as_ref()
            .and_then(|pq| pq.query())
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        if let Ok(pq) = format!("{lowered}{query}").parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The path with every UUID segment in its canonical lowercase form, if any was not.
fn canonical_uuids(path: &str) -> Option<String> {
    let mut changed = false;
    let segments: Vec<String> = path
        .split('/')
        .map(|s| match uuid::Uuid::try_parse(s) {
            Ok(id) if s.len() == 36 && id.to_string() != s => {
                changed = true;
                id.to_string()
            }
            _ => s.to_string(),
        })
        .collect();
    changed.then(|| segments.join("/"))
}

/// `%XX` escapes decoded, for checking what a segment stands for.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes.get(i) == Some(&b'%'))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.extend(bytes.get(i));
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_with_any_run_of_blanks() {
        for value in [
            "Bearer afw_x",
            "bearer afw_x",
            "BEARER afw_x",
            "bEaReR afw_x",
            "Bearer\tafw_x",
            "Bearer   afw_x",
            "Bearer \t afw_x ",
        ] {
            assert_eq!(bearer_token(value), Some("afw_x"), "{value:?}");
        }
        for value in [
            "Bearer",
            "Bearer ",
            "Basic afw_x",
            "Bearerafw_x",
            "Bearer a b",
            "",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }

    #[test]
    fn uuid_segments_are_lowercased_and_nothing_else() {
        assert_eq!(
            canonical_uuids("/api/v1/convoys/23C77E4A-4E96-584C-949F-0EB0F4741FA3/events")
                .as_deref(),
            Some("/api/v1/convoys/23c77e4a-4e96-584c-949f-0eb0f4741fa3/events")
        );
        assert_eq!(
            canonical_uuids("/api/v1/convoys/23c77e4a-4e96-584c-949f-0eb0f4741fa3"),
            None
        );
        assert_eq!(canonical_uuids("/api/v1/checkpoints/HAKARI"), None);
        assert_eq!(canonical_uuids("/api/v1/reports/weekly/2023-W30"), None);
    }

    #[test]
    fn percent_escapes_are_decoded_for_the_check() {
        assert_eq!(percent_decode("%00"), "\u{0}");
        assert_eq!(percent_decode("a%41b%"), "aAb%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert!(forbidden_char(&percent_decode("x%1Fy")).is_some());
    }

    #[test]
    fn json_strings_with_control_characters_are_named_by_path() {
        let refused = |body: &str| match check_json_text(body.as_bytes()) {
            Err(AppError::Validation { errors, .. }) => {
                errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
            }
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(
            refused(r#"{"manifest": [{"commodity": "flour"}, {"commodity": "ri\u0000ce"}]}"#),
            ["manifest[1].commodity"]
        );
        assert_eq!(refused(r#"{"note": "\u001b[31m"}"#), ["note"]);
        assert_eq!(refused(r#""\u0007""#), ["body"]);
        assert_eq!(refused("{\"note\": \"\u{7f}\"}"), ["note"]);
        assert_eq!(refused("{\"note\": \"\u{85}\"}"), ["note"]);
        assert_eq!(refused(r#"{"a\u0000": 1}"#), ["a\u{0}"]);
        for fine in [
            r#"{"note": "line\nnext\r\n\ttabbed \u00e9 \u2192"}"#,
            r#"{"note": "a literal \\u0000 is text"}"#,
            r#"{"broken": "#,
        ] {
            assert!(check_json_text(fine.as_bytes()).is_ok(), "{fine}");
        }
    }
}
