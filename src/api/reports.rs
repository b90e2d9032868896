//! `/api/v1/reports/weekly`: the weekly shortfall report, live or as a published
//! snapshot, in JSON, CSV, HXL-tagged CSV or printable HTML.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::api::rfc3339;
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::report::build::ScopeFilter;
use crate::report::fetch::{fetch, parse_week, Source};
use crate::report::format::Format;
use crate::report::publish;
use crate::store::chain::Head;
use crate::store::reports;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports/weekly", web::get().to(list))
        .route("/reports/weekly/{week}", web::get().to(get))
        .route(
            "/reports/weekly/{week}/publish",
            web::post().to(publish_now),
        );
}

/// The format of a request: from `format=`, else from the Accept header, else JSON.
fn negotiate(param: Option<&str>, req: &HttpRequest) -> Result<Format, AppError> {
    if let Some(p) = param {
        return Format::parse(p).ok_or_else(|| {
            AppError::field(
                "format",
                format!("{p:?} is not a format; use {}", Format::NAMES),
            )
        });
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(if accept.contains("text/html") {
        Format::Html
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// json (default), csv, hxl (wide HXL-tagged CSV), hxl-long (the tidy long form: one
    /// row per route × organization × commodity) or html; or send an Accept header.
    #[param(pattern = "^(json|csv|hxl|hxl-long|html)$")]
    pub format: Option<String>,
    /// A published revision (frozen); without it, the live figures.
    #[param(minimum = 1)]
    pub revision: Option<i32>,
    /// Only this route (code); live reports only.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub route: Option<String>,
    /// Only this organization (slug); live reports only.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/weekly/{week}", operation_id = "reports_get", tag = "reports",
    params(("week" = String, Path, description = "ISO week, like 2023-W31", pattern = "^(199[0-9]|20[0-9]{2})-W(0[1-9]|[1-4][0-9]|5[0-2])$"), ReportParams),
    responses((status = 200, description = "the report in the requested format; a snapshot carries X-Aidflow-Revision and X-Aidflow-Sha256"),
    (status = 404, description = "no such revision, or no long form of a revision published before reports kept one"), (status = 422, description = "bad week, format or filter")),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    req: HttpRequest,
    week: web::Path<String>,
    q: ApiQuery<ReportParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let w = parse_week(&week)?;
    let format = negotiate(q.format.as_deref(), &req)?;
    let filename = format!(
        "aidflow-{}{}.{}",
        w.key(),
        q.revision.map(|r| format!("-r{r}")).unwrap_or_default(),
        format.extension()
    );
    let source = match q.revision {
        Some(revision) => {
            if q.route.is_some() || q.organization.is_some() {
                return Err(AppError::field(
                    "revision",
                    "a published revision covers the whole corridor; drop route and organization",
                ));
            }
            Source::Published(revision)
        }
        None => Source::Live(ScopeFilter {
            route: q.route,
            organization: q.organization,
        }),
    };
    let (tz, share) = (state.tz, state.dispute);
    let fetched = state
        .db(move |c| fetch(c, tz, share, w, &source))
        .await?
        // Only a published revision can be missing.
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "week {} has no published revision {}; see GET /api/v1/reports/weekly",
                w.key(),
                q.revision.unwrap_or_default()
            ))
        })?;
    let (content_type, body) = fetched.render(format)?;
    let mut response = HttpResponse::Ok();
    response.content_type(content_type);
    if let Some((revision, sha256)) = fetched.revision() {
        response
            .insert_header(("X-Aidflow-Revision", revision.to_string()))
            .insert_header(("X-Aidflow-Sha256", sha256.to_string()));
    }
    Ok(response
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        ))
        .body(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revision {
    pub revision: i32,
    /// SHA-256 of the revision's canonical JSON (the exact bytes served as JSON).
    pub sha256: String,
    pub published_at: String,
    pub published_by: String,
    pub url: String,
    /// The root digest over `chain_heads` (`null` for revisions published before chains).
    pub chain_root: Option<String>,
    /// The chain head of each convoy the week's figures count, by convoy id, as they
    /// were when this revision was published: `GET /api/v1/ledger/verify` checks them.
    pub chain_heads: Option<BTreeMap<String, Head>>,
}

/// The recorded heads of a revision, as stored.
fn heads_of(stored: Option<&str>) -> Option<BTreeMap<String, Head>> {
    stored.and_then(|s| serde_json::from_str(s).ok())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedWeek {
    pub week: String,
    pub timezone: String,
    pub revisions: Vec<Revision>,
}

#[utoipa::path(get, path = "/api/v1/reports/weekly", operation_id = "reports_list", tag = "reports",
    responses((status = 200, description = "published weeks, newest first, with every revision and its hash", body = Vec<PublishedWeek>)),
    security(("bearer" = [])))]
pub async fn list(state: web::Data<AppState>, _who: Principal) -> Result<HttpResponse, AppError> {
    let rows = state.db(|c| Ok(reports::list_snapshots(c, None)?)).await?;
    let mut weeks: Vec<PublishedWeek> = Vec::new();
    for h in rows {
        let (week, revision, timezone, sha256, published_at, published_by) = (
            h.week,
            h.revision,
            h.timezone,
            h.sha256,
            h.published_at,
            h.published_by,
        );
        let url = format!("/api/v1/reports/weekly/{week}?revision={revision}");
        let entry = Revision {
            revision,
            sha256,
            published_at: rfc3339(published_at),
            published_by,
            url,
            chain_heads: heads_of(h.chain_heads.as_deref()),
            chain_root: h.chain_root,
        };
        match weeks.last_mut().filter(|w| w.week == week) {
            Some(w) => w.revisions.push(entry),
            None => weeks.push(PublishedWeek {
                week,
                timezone,
                revisions: vec![entry],
            }),
        }
    }
    Ok(HttpResponse::Ok().json(weeks))
}

#[utoipa::path(post, path = "/api/v1/reports/weekly/{week}/publish", operation_id = "reports_publish", tag = "reports",
    params(("week" = String, Path, description = "ISO week, like 2023-W31", pattern = "^(199[0-9]|20[0-9]{2})-W(0[1-9]|[1-4][0-9]|5[0-2])$")),
    responses((status = 201, description = "a new revision", body = Revision), (status = 200, description = "unchanged: the latest revision", body = Revision)),
    security(("bearer" = [])))]
pub async fn publish_now(
    state: web::Data<AppState>,
    who: Principal,
    week: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let w = parse_week(&week)?;
    let (tz, share) = (state.tz, state.dispute);
    let by = format!("token {}", who.name);
    let p = state
        .db(move |c| publish::publish(c, tz, share, w, &by))
        .await?;
    let s = p.snapshot;
    let body = Revision {
        url: format!("/api/v1/reports/weekly/{}?revision={}", s.week, s.revision),
        revision: s.revision,
        sha256: s.sha256,
        published_at: rfc3339(s.published_at),
        published_by: s.published_by,
        chain_heads: heads_of(s.chain_heads.as_deref()),
        chain_root: s.chain_root,
    };
    Ok(if p.new_revision {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
