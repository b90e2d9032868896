//! What every page shares: the layout's fields, the caller's session and language, and
//! how failures are shown to a person (an HTML page, or the sign-in form).

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::future::LocalBoxFuture;

use crate::app::auth::Role;
use crate::app::error::AppError;
use crate::app::sessions::{self, RequestOrigin, Session};
use crate::app::state::AppState;
use crate::web::i18n::{self, Texts};

/// The layout's fields (`base.html`).
pub struct Base {
    /// Which entry of the navigation is this page's.
    pub nav: &'static str,
    pub signed_in: bool,
    pub user: String,
    pub role: &'static str,
    pub role_label: String,
    pub organization: Option<String>,
    pub csrf: String,
    pub lang: &'static str,
    /// Whether the signed-in person may make any write (editors and admins).
    pub can_write: bool,
}

/// A signed-in person, their language and their session (an extractor: a page that needs
/// it sends anyone without a live session to the sign-in form, and back afterwards).
pub struct Visitor {
    pub session: Session,
    pub t: &'static Texts,
    pub organization: Option<String>,
}

impl Visitor {
    pub fn base(&self, nav: &'static str) -> Base {
        let p = &self.session.principal;
        Base {
            nav,
            signed_in: true,
            user: p.name.clone(),
            role: p.role.as_str(),
            role_label: self.t.get(&format!("role.{}", p.role.as_str())).to_string(),
            organization: self.organization.clone(),
            csrf: self.session.csrf.clone(),
            lang: self.t.lang,
            can_write: p.role != Role::Viewer,
        }
    }
}

/// The layout for a page seen without a session (the sign-in form).
pub fn anonymous_base(t: &'static Texts) -> Base {
    Base {
        nav: "",
        signed_in: false,
        user: String::new(),
        role: "",
        role_label: String::new(),
        organization: None,
        csrf: String::new(),
        lang: t.lang,
        can_write: false,
    }
}

/// The language of a request: `?lang=`, then `Accept-Language`, then the deployment's.
pub fn texts_for(req: &HttpRequest) -> &'static Texts {
    let explicit =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.get("lang").cloned());
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let default = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.web.default_locale.clone())
        .unwrap_or_default();
    i18n::negotiate(explicit.as_deref(), accept, &default)
}

/// The session cookie's value, if the browser sent one.
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    req.cookie(sessions::COOKIE).map(|c| c.value().to_string())
}

impl FromRequest for Visitor {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let cookie = session_cookie(req);
        let t = texts_for(req);
        let next = match req.uri().path_and_query() {
            Some(pq) => pq.as_str().to_string(),
            None => "/".into(),
        };
        Box::pin(async move {
            let fail = |e: AppError| WebError::new(e, t);
            let state =
                state.ok_or_else(|| fail(AppError::Internal(anyhow::anyhow!("no app state"))))?;
            let Some(cookie) = cookie else {
                return Err(WebError::sign_in(next, t));
            };
            let found = state
                .db(move |c| {
                    let Some(session) = sessions::find(c, &cookie)? else {
                        return Ok(None);
                    };
                    let organization = match &session.principal.organization_id {
                        Some(id) => Some(crate::store::reference::get_organization(c, id)?.slug),
                        None => None,
                    };
                    Ok(Some((session, organization)))
                })
                .await
                .map_err(fail)?;
            match found {
                Some((session, organization)) => Ok(Visitor {
                    session,
                    t,
                    organization,
                }),
                None => Err(WebError::sign_in(next, t)),
            }
        })
    }
}

/// Refuses a form post that did not come from aidflow's own pages with this session's
/// CSRF token (403, whatever the form asked for).
pub fn check_form(
    req: &HttpRequest,
    visitor: &Visitor,
    csrf: Option<&str>,
) -> Result<(), WebError> {
    let info = req.connection_info();
    let header = |name: &'static str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if !sessions::same_origin(RequestOrigin::read(info.host(), header)) {
        return Err(WebError::new(
            AppError::Forbidden(visitor.t.get("errors.cross_site").into()),
            visitor.t,
        ));
    }
    if !sessions::csrf_matches(&visitor.session, csrf) {
        return Err(WebError::new(
            AppError::Forbidden(visitor.t.get("errors.csrf").into()),
            visitor.t,
        ));
    }
    Ok(())
}

/// A page that could not be shown: an HTML page saying what went wrong and what to do,
/// or, without a session, the way to the sign-in form.
#[derive(Debug)]
pub struct WebError {
    kind: WebErrorKind,
    t: &'static Texts,
}

#[derive(Debug)]
enum WebErrorKind {
    SignIn { next: String },
    App(AppError),
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            WebErrorKind::SignIn { .. } => write!(f, "sign in first"),
            WebErrorKind::App(e) => write!(f, "{e}"),
        }
    }
}

impl WebError {
    pub fn new(error: AppError, t: &'static Texts) -> WebError {
        WebError {
            kind: WebErrorKind::App(error),
            t,
        }
    }

    pub fn sign_in(next: String, t: &'static Texts) -> WebError {
        WebError {
            kind: WebErrorKind::SignIn { next },
            t,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: Base,
    t: &'static Texts,
    status: u16,
    title: String,
    detail: String,
    fields: Vec<(String, String)>,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match &self.kind {
            WebErrorKind::SignIn { .. } => StatusCode::SEE_OTHER,
            WebErrorKind::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let e = match &self.kind {
            WebErrorKind::SignIn { next } => {
                let to = format!(
                    "/sign-in?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, to))
                    .finish();
            }
            WebErrorKind::App(e) => e,
        };
        let status = e.status_code();
        if let AppError::Internal(cause) = e {
            tracing::error!(error = %format!("{cause:#}"), "a page failed");
        }
        let t = self.t;
        let (detail, fields) = match e {
            AppError::Internal(_) => (t.get("errors.internal").to_string(), Vec::new()),
            AppError::Validation { detail, errors } => (
                detail.clone(),
                errors
                    .iter()
                    .map(|f| (f.field.clone(), f.message.clone()))
                    .collect(),
            ),
            other => (other.to_string(), Vec::new()),
        };
        let page = ErrorPage {
            base: anonymous_base(t),
            t,
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            detail,
            fields,
        };
        html(status, &page)
    }
}

/// A rendered template as an HTML answer.
pub fn html<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("aidflow could not show this page; the error is in the server's log")
        }
    }
}

/// 200 with a rendered page.
pub fn ok<T: Template>(page: &T) -> Result<HttpResponse, WebError> {
    Ok(html(StatusCode::OK, page))
}
