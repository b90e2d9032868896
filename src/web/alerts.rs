//! Alerts in the browser (`/alerts`): open, acknowledged and resolved, with their facts;
//! acknowledging and resolving with a note through the same use case as the API.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::alerts::{self, ListFilter};
use crate::app::auth::Role;
use crate::app::state::AppState;
use crate::store::alerts::Alert;
use crate::web::format::local_time_text;
use crate::web::i18n::Texts;
use crate::web::page::{check_form, ok, Base, Visitor, WebError};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    #[allow(dead_code)]
    lang: Option<String>,
}

pub struct Item {
    pub a: Alert,
    pub rule_label: String,
    pub state_label: String,
    pub opened: String,
    pub acknowledged: String,
    pub resolved: String,
    /// Whether this person may acknowledge or resolve it (the server checks again).
    pub may_act: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    base: Base,
    t: &'static Texts,
    state: String,
    items: Vec<Item>,
}

#[tracing::instrument(skip_all)]
pub async fn list(
    state: web::Data<AppState>,
    visitor: Visitor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    let tz = state.tz;
    let wanted = q.state.clone().unwrap_or_else(|| "open".into());
    let filter = ListFilter {
        state: Some(wanted.clone()),
        limit: Some(200),
        ..Default::default()
    };
    let page = state
        .db(move |c| alerts::list(c, &filter))
        .await
        .map_err(|e| WebError::new(e, t))?;
    let who = &visitor.session.principal;
    let org = visitor.organization.clone();
    let items = page
        .items
        .into_iter()
        .map(|a| Item {
            rule_label: t.get(&format!("rule.{}", a.rule)).to_string(),
            state_label: t.get(&format!("alert_state.{}", a.state)).to_string(),
            opened: local_time_text(&a.opened_at, tz),
            acknowledged: a
                .acknowledged_at
                .as_deref()
                .map(|s| local_time_text(s, tz))
                .unwrap_or_default(),
            resolved: a
                .resolved_at
                .as_deref()
                .map(|s| local_time_text(s, tz))
                .unwrap_or_default(),
            may_act: a.state != "resolved"
                && match who.role {
                    Role::Admin => true,
                    Role::Editor => a.organization.is_some() && a.organization == org,
                    Role::Viewer => false,
                },
            a,
        })
        .collect();
    ok(&AlertsPage {
        base: visitor.base("alerts"),
        t,
        state: wanted,
        items,
    })
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    csrf: Option<String>,
    note: Option<String>,
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: String,
    form: ActForm,
    resolve: bool,
) -> Result<HttpResponse, WebError> {
    check_form(&req, &visitor, form.csrf.as_deref())?;
    let t = visitor.t;
    let who = visitor.session.principal.clone();
    let alert = state
        .db(move |c| alerts::act(c, &who, &id, form.note, resolve))
        .await
        .map_err(|e| WebError::new(e, t))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/alerts?state={}#alert-{}", alert.state, alert.id),
        ))
        .finish())
}

#[tracing::instrument(skip_all, fields(alert = %id))]
pub async fn acknowledge(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, WebError> {
    act(
        req,
        state,
        visitor,
        id.into_inner(),
        form.into_inner(),
        false,
    )
    .await
}

#[tracing::instrument(skip_all, fields(alert = %id))]
pub async fn resolve(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, WebError> {
    act(
        req,
        state,
        visitor,
        id.into_inner(),
        form.into_inner(),
        true,
    )
    .await
}
