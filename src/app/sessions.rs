//! Browser sessions: a person signs in with an aidflow token and gets a cookie that
//! stands for it. The cookie's secret is random and stored only as its SHA-256; each
//! session has its own CSRF token; a session ends at sign-out, when it expires, or when
//! its token is revoked (every lookup checks the token).

use subtle::ConstantTimeEq;

use crate::app::auth::{authenticate, hash_secret, principal_of, Principal};
use crate::app::error::AppError;
use crate::db::{now_micros, DbConn};
use crate::store::sessions::{self, SessionRow};

/// The name of the session cookie.
pub const COOKIE: &str = "aidflow_session";

/// The header a script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A live session: who it stands for and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

/// A session just opened: the cookie's secret (given to the browser once) and the session.
pub struct Opened {
    pub cookie: String,
    pub session: Session,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    hex::encode(bytes)
}

/// Opens a session for the holder of token `secret`, lasting `hours`.
#[tracing::instrument(skip_all)]
pub fn sign_in(conn: &mut DbConn, secret: &str, hours: u64) -> Result<Opened, AppError> {
    let secret = secret.trim();
    let principal = authenticate(conn, secret)?.ok_or_else(|| {
        AppError::field(
            "token",
            "this token is unknown or revoked; check that you copied all of it, or ask an admin for a new one",
        )
    })?;
    let now = now_micros();
    sessions::delete_expired(conn, now)?;
    let cookie = random_hex();
    let hours = i64::try_from(hours.min(24 * 366)).unwrap_or(24);
    let row = SessionRow {
        id_hash: hash_secret(&cookie),
        token_id: principal.token_id.clone(),
        csrf: random_hex(),
        created_at: now,
        expires_at: now + hours * 3_600_000_000,
    };
    sessions::insert(conn, &row)?;
    tracing::info!(token = %principal.token_id, "signed in");
    Ok(Opened {
        cookie,
        session: Session {
            principal,
            csrf: row.csrf,
        },
    })
}

/// The live session a cookie stands for, if any.
pub fn find(conn: &mut DbConn, cookie: &str) -> Result<Option<Session>, AppError> {
    let found = sessions::find_live(conn, &hash_secret(cookie), now_micros())?;
    Ok(found.and_then(|(row, token)| {
        Some(Session {
            principal: principal_of(token)?,
            csrf: row.csrf,
        })
    }))
}

/// Ends the session a cookie stands for (nothing happens for an unknown cookie).
pub fn sign_out(conn: &mut DbConn, cookie: &str) -> Result<(), AppError> {
    sessions::delete(conn, &hash_secret(cookie))?;
    Ok(())
}

/// Whether `given` is this session's CSRF token (compared in constant time).
pub fn csrf_matches(session: &Session, given: Option<&str>) -> bool {
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(session.csrf.as_bytes())))
}

/// What the browser said about where a state-changing request came from.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestOrigin<'a> {
    /// The `Host` the request was sent to.
    pub host: &'a str,
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
}

impl<'a> RequestOrigin<'a> {
    /// Reads the headers through `header` (a request's header by lowercase name).
    pub fn read(host: &'a str, header: impl Fn(&'static str) -> Option<&'a str>) -> Self {
        RequestOrigin {
            host,
            origin: header("origin"),
            referer: header("referer"),
            sec_fetch_site: header("sec-fetch-site"),
        }
    }
}

/// Whether a state-changing request came from aidflow's own pages: the browser's
/// `Sec-Fetch-Site` says same-origin (or it was typed by the user), and the `Origin` (or,
/// without it, the `Referer`) names this host. A request carrying neither header is let
/// through to the CSRF token check, which it must pass anyway.
pub fn same_origin(r: RequestOrigin<'_>) -> bool {
    if let Some(site) = r.sec_fetch_site {
        if !matches!(site.to_ascii_lowercase().as_str(), "same-origin" | "none") {
            return false;
        }
    }
    let host_of = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        let authority = rest.split(['/', '?', '#']).next()?;
        Some(authority.to_ascii_lowercase())
    };
    let host = r.host.to_ascii_lowercase();
    match (r.origin, r.referer) {
        (Some(origin), _) => host_of(origin).is_some_and(|h| h == host),
        (None, Some(referer)) => host_of(referer).is_some_and(|h| h == host),
        (None, None) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(origin: Option<&str>, referer: Option<&str>, site: Option<&str>) -> bool {
        same_origin(RequestOrigin {
            host: "127.0.0.1:8080",
            origin,
            referer,
            sec_fetch_site: site,
        })
    }

    #[test]
    fn requests_from_the_same_origin_pass_and_others_are_refused() {
        let cases = [
            (
                Some("http://127.0.0.1:8080"),
                None,
                Some("same-origin"),
                true,
            ),
            (Some("https://127.0.0.1:8080"), None, None, true),
            (Some("http://evil.example"), None, None, false),
            (
                Some("http://127.0.0.1:8080.evil.example"),
                None,
                None,
                false,
            ),
            (Some("null"), None, None, false),
            (None, Some("http://127.0.0.1:8080/alerts"), None, true),
            (
                None,
                Some("http://evil.example/127.0.0.1:8080"),
                None,
                false,
            ),
            (
                Some("http://127.0.0.1:8080"),
                None,
                Some("cross-site"),
                false,
            ),
            (
                Some("http://127.0.0.1:8080"),
                None,
                Some("same-site"),
                false,
            ),
            (None, None, None, true),
        ];
        for (origin, referer, site, expected) in cases {
            assert_eq!(
                from(origin, referer, site),
                expected,
                "{origin:?} {referer:?} {site:?}"
            );
        }
    }
}
