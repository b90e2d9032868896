//! Signing in with an aidflow token (exchanged for a session cookie) and signing out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::error::AppError;
use crate::app::sessions::{self, RequestOrigin};
use crate::app::state::AppState;
use crate::config::SecureCookies;
use crate::web::i18n::Texts;
use crate::web::page::{anonymous_base, html, session_cookie, texts_for, Base, Visitor, WebError};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    base: Base,
    t: &'static Texts,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site may follow sign-in (never `//evil.example`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

#[tracing::instrument(skip_all)]
pub async fn form(req: HttpRequest, q: web::Query<NextQuery>) -> HttpResponse {
    let t = texts_for(&req);
    let page = SignInPage {
        base: anonymous_base(t),
        t,
        next: safe_next(q.next.as_deref()),
        error: None,
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    token: String,
    next: Option<String>,
}

fn secure(req: &HttpRequest, setting: SecureCookies) -> bool {
    match setting {
        SecureCookies::Always => true,
        SecureCookies::Never => false,
        SecureCookies::Auto => req.connection_info().scheme() == "https",
    }
}

#[tracing::instrument(skip_all)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, WebError> {
    let t = texts_for(&req);
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let info = req.connection_info().clone();
    let header = |name: &'static str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if !sessions::same_origin(RequestOrigin::read(info.host(), header)) {
        return Err(WebError::new(
            AppError::Forbidden(t.get("errors.cross_site").into()),
            t,
        ));
    }
    let hours = state.settings.web.session_hours;
    let secret = form.token;
    let opened = state
        .db(move |c| sessions::sign_in(c, &secret, hours))
        .await;
    let opened = match opened {
        Ok(opened) => opened,
        Err(AppError::Validation { .. }) => {
            let page = SignInPage {
                base: anonymous_base(t),
                t,
                next,
                error: Some(t.get("sign_in.refused").into()),
            };
            return Ok(html(StatusCode::UNAUTHORIZED, &page));
        }
        Err(e) => return Err(WebError::new(e, t)),
    };
    let cookie = Cookie::build(sessions::COOKIE, opened.cookie)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(&req, state.settings.web.secure_cookies))
        .max_age(actix_web::cookie::time::Duration::hours(
            i64::try_from(hours).unwrap_or(12),
        ))
        .finish();
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((header::LOCATION, next))
        .finish())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    crate::web::page::check_form(&req, &visitor, form.csrf.as_deref())?;
    if let Some(cookie) = session_cookie(&req) {
        state
            .db(move |c| sessions::sign_out(c, &cookie))
            .await
            .map_err(|e| WebError::new(e, visitor.t))?;
    }
    let mut gone = Cookie::build(sessions::COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .cookie(gone)
        .insert_header((header::LOCATION, "/sign-in"))
        .finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_paths_on_this_site_may_follow_sign_in() {
        assert_eq!(
            super::safe_next(Some("/convoys?status=held")),
            "/convoys?status=held"
        );
        assert_eq!(super::safe_next(Some("//evil.example")), "/");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/");
        assert_eq!(super::safe_next(Some("/\\evil.example")), "/");
        assert_eq!(super::safe_next(None), "/");
    }
}
