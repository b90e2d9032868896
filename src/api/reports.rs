//! `/api/v1/reports/weekly`: the weekly shortfall report, live or as a published
//! snapshot, in JSON, CSV, HXL-tagged CSV or printable HTML.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::ApiQuery;
use crate::api::rfc3339;
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::state::AppState;
use crate::domain::week::IsoWeek;
use crate::report::build::{build, ScopeFilter};
use crate::report::model::WeeklyReport;
use crate::report::{publish, render};
use crate::store::reports;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/reports/weekly", web::get().to(list))
        .route("/reports/weekly/{week}", web::get().to(get))
        .route(
            "/reports/weekly/{week}/publish",
            web::post().to(publish_now),
        );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Hxl,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "hxl" => Some(Format::Hxl),
            "html" => Some(Format::Html),
            _ => None,
        }
    }

    /// From `format=`, else from the Accept header, else JSON.
    fn negotiate(param: Option<&str>, req: &HttpRequest) -> Result<Format, AppError> {
        if let Some(p) = param {
            return Format::parse(p).ok_or_else(|| {
                AppError::field(
                    "format",
                    format!("{p:?} is not a format; use json, csv, hxl or html"),
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
}

/// Renders a report in a format: (content type, body).
pub fn render_as(report: &WeeklyReport, format: Format) -> (&'static str, String) {
    match format {
        Format::Json => ("application/json", render::to_json(report).to_string()),
        Format::Csv => ("text/csv; charset=utf-8", render::to_csv(report)),
        Format::Hxl => ("text/csv; charset=utf-8", render::to_hxl_csv(report)),
        Format::Html => ("text/html; charset=utf-8", render::to_html(report)),
    }
}

pub fn parse_week(s: &str) -> Result<IsoWeek, AppError> {
    IsoWeek::parse(s).map_err(|e| AppError::field("week", e.to_string()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// json (default), csv, hxl or html; or send an Accept header.
    pub format: Option<String>,
    /// A published revision (frozen); without it, the live figures.
    pub revision: Option<i32>,
    /// Only this route (code); live reports only.
    pub route: Option<String>,
    /// Only this organization (slug); live reports only.
    pub organization: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/weekly/{week}", operation_id = "reports_get", tag = "reports",
    params(("week" = String, Path, description = "ISO week, like 2023-W31"), ReportParams),
    responses((status = 200, description = "the report in the requested format; a snapshot carries X-Aidflow-Revision and X-Aidflow-Sha256"),
    (status = 404, description = "no such revision"), (status = 422, description = "bad week, format or filter")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(week = %week))]
pub async fn get(
    state: web::Data<AppState>,
    _who: Principal,
    req: HttpRequest,
    week: web::Path<String>,
    q: ApiQuery<ReportParams>,
) -> Result<HttpResponse, AppError> {
    let q = q.0;
    let w = parse_week(&week)?;
    let format = Format::negotiate(q.format.as_deref(), &req)?;
    let filename = format!(
        "aidflow-{}{}.{}",
        w.key(),
        q.revision.map(|r| format!("-r{r}")).unwrap_or_default(),
        match format {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Hxl => "hxl.csv",
            Format::Html => "html",
        }
    );
    if let Some(revision) = q.revision {
        if q.route.is_some() || q.organization.is_some() {
            return Err(AppError::field(
                "revision",
                "a published revision covers the whole corridor; drop route and organization",
            ));
        }
        let key = w.key();
        let snap = state
            .db(move |c| Ok(reports::snapshot(c, &key, revision)?))
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "week {} has no published revision {revision}; see GET /api/v1/reports/weekly",
                    w.key()
                ))
            })?;
        let (content_type, body) = if format == Format::Json {
            // The stored canonical bytes, so the published SHA-256 can be checked.
            ("application/json", snap.body.clone())
        } else {
            let report: WeeklyReport =
                serde_json::from_str(&snap.model).map_err(|e| AppError::Internal(e.into()))?;
            render_as(&report, format)
        };
        return Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("X-Aidflow-Revision", snap.revision.to_string()))
            .insert_header(("X-Aidflow-Sha256", snap.sha256))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ))
            .body(body));
    }
    let tz = state.tz;
    let filter = ScopeFilter {
        route: q.route,
        organization: q.organization,
    };
    let report = state.db(move |c| build(c, tz, w, &filter)).await?;
    let (content_type, body) = render_as(&report, format);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
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
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, _who: Principal) -> Result<HttpResponse, AppError> {
    let rows = state.db(|c| Ok(reports::list_snapshots(c)?)).await?;
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
    params(("week" = String, Path, description = "ISO week, like 2023-W31")),
    responses((status = 201, description = "a new revision", body = Revision), (status = 200, description = "unchanged: the latest revision", body = Revision)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(week = %week, token = %who.token_id))]
pub async fn publish_now(
    state: web::Data<AppState>,
    who: Principal,
    week: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let w = parse_week(&week)?;
    let tz = state.tz;
    let by = format!("token {}", who.name);
    let p = state.db(move |c| publish::publish(c, tz, w, &by)).await?;
    let s = p.snapshot;
    let body = Revision {
        url: format!("/api/v1/reports/weekly/{}?revision={}", s.week, s.revision),
        revision: s.revision,
        sha256: s.sha256,
        published_at: rfc3339(s.published_at),
        published_by: s.published_by,
    };
    Ok(if p.new_revision {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
