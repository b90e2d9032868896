//! Which methods each path takes, so that a known path asked with another method answers
//! 405 with `Allow` (RFC 9110 §15.5.6) rather than 404.
//!
//! The table is read once from the OpenAPI document, which names every route with its
//! methods (a test checks every listed method is served and every other one is a 405), plus
//! the document's own path. actix answers a wrong method itself only where one resource
//! holds all of a path's routes; routes registered one by one fall through to the default
//! service, which asks this table.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use utoipa::OpenApi;

use crate::api::openapi::ApiDoc;
use crate::api::problem::problem_response;

/// The methods the API serves, in the order `Allow` lists them.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// A path pattern split at `/`; `None` stands for a `{parameter}` segment.
type Pattern = Vec<Option<String>>;

fn table() -> &'static [(Pattern, Vec<Method>)] {
    static TABLE: OnceLock<Vec<(Pattern, Vec<Method>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let doc = ApiDoc::openapi();
        let mut rows: Vec<(Pattern, Vec<Method>)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let served: Vec<Method> = METHODS
                    .iter()
                    .filter(|m| match **m {
                        Method::GET => item.get.is_some(),
                        Method::POST => item.post.is_some(),
                        Method::PUT => item.put.is_some(),
                        Method::PATCH => item.patch.is_some(),
                        _ => item.delete.is_some(),
                    })
                    .cloned()
                    .collect();
                (pattern(path), served)
            })
            .collect();
        rows.push((pattern("/api/v1/openapi.json"), vec![Method::GET]));
        rows
    })
}

fn pattern(path: &str) -> Pattern {
    path.split('/')
        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
        .collect()
}

/// The methods `path` is served with, or `None` when no route has that path.
pub fn allowed(path: &str) -> Option<Vec<Method>> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut found: Option<Vec<Method>> = None;
    for (pattern, methods) in table() {
        let matches = pattern.len() == segments.len()
            && pattern.iter().zip(&segments).all(|(p, s)| match p {
                Some(literal) => literal == s,
                None => !s.is_empty(),
            });
        if matches {
            let all = found.get_or_insert_with(Vec::new);
            for m in methods {
                if !all.contains(m) {
                    all.push(m.clone());
                }
            }
        }
    }
    found.map(|mut all| {
        all.sort_by_key(|m| METHODS.iter().position(|x| x == m));
        all
    })
}

/// The `Allow` value for a known path (`GET, POST`).
pub fn allow_header(path: &str) -> Option<HeaderValue> {
    let methods = allowed(path)?;
    let text = methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    HeaderValue::from_str(&text).ok()
}

/// A 405 problem for a known path asked with another method.
pub fn method_not_allowed(method: &Method, path: &str, allow: HeaderValue) -> HttpResponse {
    let detail = format!(
        "{method} is not allowed on {path}; it takes {}",
        allow.to_str().unwrap_or_default()
    );
    let mut response = problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        detail,
        Vec::new(),
    );
    response.headers_mut().insert(header::ALLOW, allow);
    response
}

/// The default service: no route took the request. A known path with a wrong method is
/// a 405 with `Allow`; anything else is a 404.
pub async fn unmatched(req: HttpRequest) -> HttpResponse {
    match allow_header(req.path()) {
        Some(allow) => method_not_allowed(req.method(), req.path(), allow),
        None => problem_response(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!(
                "there is no resource at {} {}; the API lives under /api/v1 (see /api/v1/openapi.json)",
                req.method(),
                req.path()
            ),
            Vec::new(),
        ),
    }
}
