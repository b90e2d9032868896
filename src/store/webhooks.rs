//! The notification outbox and webhook deliveries. A notification is written in the same
//! transaction as the change it announces, together with one delivery row per matching
//! webhook; the sender job delivers those rows until they succeed or give up.

use diesel::prelude::*;

use crate::db::schema::{outbox, webhook_attempts, webhook_deliveries, webhooks};
use crate::db::{insert_many, now_micros, DbConn};
use crate::store::StoreError;
use crate::store::{create_once, Created};

/// The event types a webhook can subscribe to.
pub const EVENT_TYPES: [&str; 5] = [
    "alert.opened",
    "alert.resolved",
    "report.published",
    EVENT_RECORDED,
    EVENT_VOIDED,
];

/// An event was stored in a convoy's ledger (by any path in: POST, sync, CSV, forms, demo).
pub const EVENT_RECORDED: &str = "convoy.event_recorded";

/// An event was voided by a later event that corrects it.
pub const EVENT_VOIDED: &str = "convoy.event_voided";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub organization_id: Option<String>,
    pub body_sha256: String,
    pub created_by: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

impl WebhookRow {
    pub fn event_list(&self) -> Vec<String> {
        self.events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub outbox_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i32,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

/// One notification to write: its type, what it is about, and the fields of its envelope
/// besides `id`, `type` and `created_at` (the data, and a Slack-compatible `text`).
#[derive(Debug, Clone)]
pub struct Notice {
    pub event_type: &'static str,
    pub subject: String,
    pub organization_id: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
struct OutboxRow {
    id: String,
    event_type: String,
    subject: String,
    organization_id: Option<String>,
    payload: String,
    created_at: i64,
}

/// The live webhooks: one small query, so that a writer can tell whether anyone listens.
pub fn live_webhooks(conn: &mut DbConn) -> Result<Vec<WebhookRow>, StoreError> {
    Ok(webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .load(conn)?)
}

impl WebhookRow {
    /// Whether this webhook is to receive a notification of `event_type` about
    /// `organization_id` (a filtered webhook gets only its organization's).
    pub fn wants(&self, event_type: &str, organization_id: Option<&str>) -> bool {
        let subscribed = self.events.split(',').any(|e| e == event_type);
        let org_ok = match (&self.organization_id, organization_id) {
            (None, _) => true,
            (Some(want), Some(got)) => want == got,
            (Some(_), None) => false,
        };
        subscribed && org_ok
    }
}

/// Writes a notification: the envelope every receiver gets (`id`, `type`, `created_at`,
/// the `data_key` object and a Slack-compatible `text`), plus a pending delivery for each
/// live webhook subscribed to it. Runs inside the caller's transaction.
pub fn enqueue(
    conn: &mut DbConn,
    event_type: &'static str,
    subject: &str,
    organization_id: Option<&str>,
    data_key: &str,
    data: serde_json::Value,
    text: &str,
) -> Result<String, StoreError> {
    let mut fields = serde_json::Map::new();
    fields.insert(data_key.into(), data);
    fields.insert("text".into(), text.into());
    let notice = Notice {
        event_type,
        subject: subject.to_string(),
        organization_id: organization_id.map(str::to_string),
        fields,
    };
    let hooks = live_webhooks(conn)?;
    let mut ids = write_notices(conn, &hooks, vec![notice], true)?;
    ids.pop()
        .ok_or_else(|| StoreError::Internal(anyhow::anyhow!("a notification was not written")))
}

/// Writes many notifications at once, each frozen as it is now, with a delivery for each
/// of `hooks` that wants it, in two or three multi-row statements (the caller's
/// transaction). With `keep_unsent` false, a notification no webhook wants is not written
/// at all: events are many, and an outbox row nobody receives is only weight. Returns the
/// ids of the notifications written.
pub fn write_notices(
    conn: &mut DbConn,
    hooks: &[WebhookRow],
    notices: Vec<Notice>,
    keep_unsent: bool,
) -> Result<Vec<String>, StoreError> {
    let now = now_micros();
    let created_at = crate::domain::time::rfc3339(now);
    let (mut rows, mut deliveries) = (Vec::new(), Vec::new());
    for notice in notices {
        let id = uuid::Uuid::new_v4().to_string();
        let before = deliveries.len();
        for hook in hooks
            .iter()
            .filter(|h| h.wants(notice.event_type, notice.organization_id.as_deref()))
        {
            deliveries.push(DeliveryRow {
                id: uuid::Uuid::new_v4().to_string(),
                webhook_id: hook.id.clone(),
                outbox_id: id.clone(),
                event_type: notice.event_type.to_string(),
                state: "pending".into(),
                attempts: 0,
                // due at once, whatever clock the sender runs on
                next_attempt_at: 0,
                lease_until: None,
                last_status: None,
                last_error: None,
                created_at: now,
                delivered_at: None,
            });
        }
        if !keep_unsent && deliveries.len() == before {
            continue;
        }
        let mut envelope = notice.fields;
        envelope.insert("id".into(), id.clone().into());
        envelope.insert("type".into(), notice.event_type.into());
        envelope.insert("created_at".into(), created_at.clone().into());
        rows.push(OutboxRow {
            id,
            event_type: notice.event_type.to_string(),
            subject: notice.subject,
            organization_id: notice.organization_id,
            payload: serde_json::Value::Object(envelope).to_string(),
            created_at: now,
        });
    }
    insert_many!(conn, outbox::table, rows);
    insert_many!(conn, webhook_deliveries::table, deliveries);
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Outbox records of one type, oldest first: (id, subject, payload).
pub fn outbox_of_type(
    conn: &mut DbConn,
    event_type: &str,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(outbox::table
        .filter(outbox::event_type.eq(event_type))
        .order(outbox::created_at.asc())
        .select((outbox::id, outbox::subject, outbox::payload))
        .load(conn)?)
}

pub fn find_webhook(conn: &mut DbConn, id: &str) -> Result<Option<WebhookRow>, StoreError> {
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_webhook(conn: &mut DbConn, id: &str) -> Result<WebhookRow, StoreError> {
    find_webhook(conn, id)?
        .filter(|w| w.deleted_at.is_none())
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id} does not exist")))
}

pub fn create_webhook(
    conn: &mut DbConn,
    row: WebhookRow,
) -> Result<Created<WebhookRow>, StoreError> {
    let (id, hash) = (row.id.clone(), row.body_sha256.clone());
    create_once(
        conn,
        "webhook",
        &id,
        &hash,
        |c| {
            Ok(find_webhook(c, &id)?.map(|w| {
                let h = w.body_sha256.clone();
                (w, h)
            }))
        },
        |c| {
            diesel::insert_into(webhooks::table)
                .values(&row)
                .execute(c)?;
            Ok(row)
        },
    )
}

pub fn list_webhooks(conn: &mut DbConn) -> Result<Vec<WebhookRow>, StoreError> {
    Ok(webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .order((webhooks::created_at.asc(), webhooks::id.asc()))
        .select(WebhookRow::as_select())
        .load(conn)?)
}

/// Deletes a webhook; its pending deliveries stop, its delivery log stays.
pub fn delete_webhook(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    crate::db::write_tx(conn, |c| {
        get_webhook(c, id)?;
        diesel::update(webhooks::table.find(id))
            .set(webhooks::deleted_at.eq(Some(now_micros())))
            .execute(c)?;
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(id))
                .filter(webhook_deliveries::state.eq("pending")),
        )
        .set((
            webhook_deliveries::state.eq("failed"),
            webhook_deliveries::last_error.eq(Some("webhook deleted")),
        ))
        .execute(c)?;
        Ok(())
    })
}

/// A webhook's deliveries, newest first, each with its attempts.
pub fn deliveries_of(
    conn: &mut DbConn,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<(DeliveryRow, Vec<AttemptRow>)>, StoreError> {
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order((
            webhook_attempts::delivery_id.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(AttemptRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let mine = attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .cloned()
                .collect();
            (d, mine)
        })
        .collect())
}

/// Makes a delivery due again now (after a fix on the receiver's side).
pub fn redeliver(
    conn: &mut DbConn,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<DeliveryRow, StoreError> {
    crate::db::write_tx(conn, |c| {
        get_webhook(c, webhook_id)?;
        let n = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery_id))
                .filter(webhook_deliveries::webhook_id.eq(webhook_id)),
        )
        .set((
            webhook_deliveries::state.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(now_micros()),
            webhook_deliveries::lease_until.eq(None::<i64>),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "webhook {webhook_id} has no delivery {delivery_id}"
            )));
        }
        Ok(webhook_deliveries::table
            .find(delivery_id)
            .select(DeliveryRow::as_select())
            .first(c)?)
    })
}

/// A claimed delivery with what is needed to send it.
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
    pub payload: String,
}

/// Claims up to `limit` due deliveries for `lease_micros`: a claim is a conditional
/// update, so two instances never hold the same delivery at once.
pub fn claim_due(
    conn: &mut DbConn,
    now: i64,
    lease_micros: i64,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let due: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::lease_until
                .is_null()
                .or(webhook_deliveries::lease_until.lt(now)),
        )
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    let mut claimed = Vec::new();
    for d in due {
        let won = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(&d.id))
                .filter(webhook_deliveries::state.eq("pending"))
                .filter(
                    webhook_deliveries::lease_until
                        .is_null()
                        .or(webhook_deliveries::lease_until.lt(now)),
                ),
        )
        .set(webhook_deliveries::lease_until.eq(Some(now + lease_micros)))
        .execute(conn)?;
        if won == 0 {
            continue;
        }
        let hook = webhooks::table
            .find(&d.webhook_id)
            .select(WebhookRow::as_select())
            .first(conn)?;
        let payload: String = outbox::table
            .find(&d.outbox_id)
            .select(outbox::payload)
            .first(conn)?;
        claimed.push(Claimed {
            delivery: d,
            url: hook.url,
            secret: hook.secret,
            payload,
        });
    }
    Ok(claimed)
}

/// What one attempt came to.
pub struct Outcome {
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt: delivered, or retried after `backoff` (or failed for good once
/// `max_attempts` is reached). Returns the new state.
pub fn record_attempt(
    conn: &mut DbConn,
    d: &DeliveryRow,
    outcome: &Outcome,
    now: i64,
    backoff_micros: i64,
    max_attempts: i32,
) -> Result<String, StoreError> {
    crate::db::write_tx(conn, |c| {
        let attempt = d.attempts + 1;
        diesel::insert_into(webhook_attempts::table)
            .values(AttemptRow {
                delivery_id: d.id.clone(),
                attempt,
                started_at: outcome.started_at,
                duration_ms: outcome.duration_ms,
                status_code: outcome.status_code,
                error: outcome.error.clone(),
            })
            .execute(c)?;
        let state = if outcome.succeeded() {
            "delivered"
        } else if attempt >= max_attempts {
            "failed"
        } else {
            "pending"
        };
        diesel::update(webhook_deliveries::table.find(&d.id))
            .set((
                webhook_deliveries::state.eq(state),
                webhook_deliveries::attempts.eq(attempt),
                webhook_deliveries::next_attempt_at.eq(now + backoff_micros),
                webhook_deliveries::lease_until.eq(None::<i64>),
                webhook_deliveries::last_status.eq(outcome.status_code),
                webhook_deliveries::last_error.eq(outcome.error.clone()),
                webhook_deliveries::delivered_at.eq(outcome.succeeded().then_some(now)),
            ))
            .execute(c)?;
        Ok(state.to_string())
    })
}

/// Deliveries by state, and how many are pending (the backlog), for /metrics.
pub fn delivery_counts(conn: &mut DbConn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(webhook_deliveries::table
        .group_by(webhook_deliveries::state)
        .select((webhook_deliveries::state, diesel::dsl::count_star()))
        .load(conn)?)
}
