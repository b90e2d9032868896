//! Webhooks (admin): receivers of notifications, checked when they are registered.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::validate::Checker;
use crate::db::{now_micros, DbConn};
use crate::domain::time::rfc3339;
use crate::store::webhooks::{self as store, WebhookRow, EVENT_TYPES};
use crate::store::{body_hash, reference, resolve_id, Created};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[serde(default, skip_serializing)]
    pub id: Option<uuid::Uuid>,
    /// http:// or https:// URL that receives a JSON POST.
    #[schema(
        example = "https://hooks.example.org/aidflow",
        min_length = 10,
        pattern = "^\\s*https?://"
    )]
    pub url: String,
    /// Shared secret for the `X-Aidflow-Signature` HMAC; at least 16 characters.
    #[schema(min_length = 16)]
    pub secret: String,
    /// Any of alert.opened, alert.resolved, report.published, convoy.event_recorded,
    /// convoy.event_voided.
    #[schema(min_items = 1, value_type = Vec<WebhookEventType>)]
    pub events: Vec<String>,
    /// Only notifications about this organization's convoys (slug); reports and route
    /// alerts concern everyone and are not sent to a filtered webhook.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub organization: Option<String>,
}

/// What a webhook can subscribe to (`store::webhooks::EVENT_TYPES`; a test keeps the two
/// lists equal).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum WebhookEventType {
    #[serde(rename = "alert.opened")]
    AlertOpened,
    #[serde(rename = "alert.resolved")]
    AlertResolved,
    #[serde(rename = "report.published")]
    ReportPublished,
    /// An event was stored in a convoy's ledger, by any path in.
    #[serde(rename = "convoy.event_recorded")]
    EventRecorded,
    /// An event was voided by a later event that corrects it.
    #[serde(rename = "convoy.event_voided")]
    EventVoided,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    #[schema(value_type = Vec<WebhookEventType>)]
    pub events: Vec<String>,
    pub organization: Option<String>,
    pub created_at: String,
}

pub fn to_api(c: &mut DbConn, w: WebhookRow) -> Result<Webhook, AppError> {
    let organization = match &w.organization_id {
        Some(id) => Some(reference::get_organization(c, id)?.slug),
        None => None,
    };
    Ok(Webhook {
        events: w.event_list(),
        id: w.id,
        url: w.url,
        organization,
        created_at: rfc3339(w.created_at),
    })
}

/// Checks a new webhook's fields before any query; the URL it will be called at.
pub fn check(body: &NewWebhook) -> Result<String, AppError> {
    let mut check = Checker::new();
    let url = body.url.trim().to_string();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() < 10
        || reqwest::Url::parse(&url).is_err()
    {
        check.push("url", "give an http:// or https:// URL");
    }
    if body.secret.chars().count() < 16 {
        check.push(
            "secret",
            "must be at least 16 characters: it signs every delivery",
        );
    }
    if body.events.is_empty() {
        check.push(
            "events",
            format!("give at least one of {}", EVENT_TYPES.join(", ")),
        );
    }
    for (i, e) in body.events.iter().enumerate() {
        if !EVENT_TYPES.contains(&e.as_str()) {
            check.push(
                format!("events[{i}]"),
                format!("{e:?} is not an event type; use {}", EVENT_TYPES.join(", ")),
            );
        }
    }
    check.finish()?;
    Ok(url)
}

/// Registers a webhook under its client id; a replay answers the stored one.
#[tracing::instrument(skip_all, fields(webhook = ?body.id, token = %who.token_id))]
pub fn create(
    c: &mut DbConn,
    who: &Principal,
    body: &NewWebhook,
) -> Result<Created<Webhook>, AppError> {
    let url = check(body)?;
    let (id, hash, by) = (resolve_id(body.id), body_hash(body), who.token_id.clone());
    let organization_id = match &body.organization {
        Some(slug) => Some(crate::app::reference::organization_id(c, slug)?),
        None => None,
    };
    let mut events = body.events.clone();
    events.sort();
    events.dedup();
    let row = WebhookRow {
        id,
        url,
        secret: body.secret.clone(),
        events: events.join(","),
        organization_id,
        body_sha256: hash,
        created_by: by,
        created_at: now_micros(),
        deleted_at: None,
    };
    let created = store::create_webhook(c, row)?;
    let is_new = created.is_new();
    let out = to_api(c, created.into_inner())?;
    Ok(if is_new {
        Created::New(out)
    } else {
        Created::Replayed(out)
    })
}

/// Live webhooks, secrets never shown.
pub fn list(c: &mut DbConn) -> Result<Vec<Webhook>, AppError> {
    store::list_webhooks(c)?
        .into_iter()
        .map(|w| to_api(c, w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_event_types_are_the_ones_accepted() {
        let all = [
            WebhookEventType::AlertOpened,
            WebhookEventType::AlertResolved,
            WebhookEventType::ReportPublished,
            WebhookEventType::EventRecorded,
            WebhookEventType::EventVoided,
        ];
        let names: Vec<String> = all
            .iter()
            .map(|t| {
                serde_json::to_value(t)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
            })
            .map(Option::unwrap_or_default)
            .collect();
        assert_eq!(names, EVENT_TYPES.map(str::to_string).to_vec());
    }
}
