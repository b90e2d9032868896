//! Form intakes over HTTP: setting them up and reading their logs (admin), and the
//! KoboToolbox REST-service push `POST /api/v1/intake/kobo/{intake}`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::created;
use crate::api::extract::{ApiJson, ApiQuery};
use crate::app::auth::Principal;
use crate::app::error::AppError;
use crate::app::intake::admin::{self, Intake, LogEntry, NewIntake};
use crate::app::intake::receive::{self, Answer, Channel, Received};
use crate::app::state::AppState;
use crate::domain::text::forbidden_message;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/intakes")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/intakes/{intake}").route(web::get().to(get)))
    .service(web::resource("/intakes/{intake}/log").route(web::get().to(log)))
    .service(web::resource("/intakes/{intake}/log/{entry}/replay").route(web::post().to(replay)))
    .service(web::resource("/intake/kobo/{intake}").route(web::post().to(kobo)));
}

#[utoipa::path(post, operation_id = "intakes_create", path = "/api/v1/intakes", tag = "form intakes", request_body = NewIntake,
    responses((status = 201, body = Intake, description = "the intake, with its secret (shown once)"), (status = 200, description = "replayed create", body = Intake),
    (status = 409, description = "same id with another body, or the name is taken"), (status = 422, description = "invalid fields")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(token = %who.token_id))]
pub async fn create(
    state: web::Data<AppState>,
    who: Principal,
    body: ApiJson<NewIntake>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let body = body.0;
    let result = state.db(move |c| admin::create(c, &who, &body)).await?;
    let location = format!("/api/v1/intakes/{}", result.get().name);
    Ok(created(result, location))
}

#[utoipa::path(get, operation_id = "intakes_list", path = "/api/v1/intakes", tag = "form intakes",
    responses((status = 200, body = Vec<Intake>)), security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    Ok(HttpResponse::Ok().json(state.db(admin::list).await?))
}

#[utoipa::path(get, operation_id = "intakes_get", path = "/api/v1/intakes/{intake}", tag = "form intakes", params(("intake" = String, Path, description = "the intake's name or id")),
    responses((status = 200, body = Intake), (status = 404, description = "no such intake")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(intake = %key))]
pub async fn get(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let key = key.into_inner();
    Ok(HttpResponse::Ok().json(state.db(move |c| admin::get(c, &key)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// stored or failed.
    #[param(pattern = "^(stored|failed)$")]
    pub state: Option<String>,
    /// Items per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]{1,19}_[0-9a-f-]{1,36}$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogEntry>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, operation_id = "intakes_log", path = "/api/v1/intakes/{intake}/log", tag = "form intakes", params(("intake" = String, Path), LogParams),
    responses((status = 200, body = LogPage), (status = 404, description = "no such intake")), security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(intake = %key))]
pub async fn log(
    state: web::Data<AppState>,
    who: Principal,
    key: web::Path<String>,
    q: ApiQuery<LogParams>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let (key, q) = (key.into_inner(), q.0);
    let page = state
        .db(move |c| admin::log(c, &key, q.state.as_deref(), q.limit, q.cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(LogPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// How a submission was answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeAnswer {
    /// stored (it is the event `event`), or kept (it is in the intake log as `entry`,
    /// with the `reason` it could not become an event).
    pub status: String,
    pub entry: String,
    pub convoy: Option<String>,
    pub event: Option<String>,
    /// Whether it had been received and stored before.
    pub replayed: bool,
    pub reason: Option<String>,
}

impl From<Answer> for IntakeAnswer {
    fn from(a: Answer) -> Self {
        match a {
            Answer::Stored {
                entry,
                convoy,
                event,
                replayed,
            } => IntakeAnswer {
                status: "stored".into(),
                entry,
                convoy: Some(convoy),
                event: Some(event),
                replayed,
                reason: None,
            },
            Answer::Kept { entry, reason } => IntakeAnswer {
                status: "kept".into(),
                entry,
                convoy: None,
                event: None,
                replayed: false,
                reason: Some(reason),
            },
        }
    }
}

/// 201 for a new event, 200 for one stored before, 202 for a submission kept in the log:
/// every one a success for the sender, which must not send it again.
pub fn status_of(a: &Answer) -> actix_web::http::StatusCode {
    use actix_web::http::StatusCode;
    match a {
        Answer::Stored {
            replayed: false, ..
        } => StatusCode::CREATED,
        Answer::Stored { replayed: true, .. } => StatusCode::OK,
        Answer::Kept { .. } => StatusCode::ACCEPTED,
    }
}

#[utoipa::path(post, operation_id = "intakes_replay", path = "/api/v1/intakes/{intake}/log/{entry}/replay", tag = "form intakes",
    params(("intake" = String, Path), ("entry" = String, Path)),
    responses((status = 201, body = IntakeAnswer, description = "it became an event"), (status = 200, body = IntakeAnswer, description = "it was already stored"),
    (status = 202, body = IntakeAnswer, description = "it still cannot become an event: the reason"), (status = 404, description = "no such intake or entry")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(intake = %path.0, entry = %path.1))]
pub async fn replay(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    who.require_admin()?;
    let (key, entry) = path.into_inner();
    let cache = state.writer.cache.clone();
    let answer = state
        .db(move |c| {
            let intake = crate::store::intakes::get_intake(c, &key)?;
            receive::replay(c, &cache, &intake, &entry)
        })
        .await?;
    Ok(HttpResponse::build(status_of(&answer)).json(IntakeAnswer::from(answer)))
}

/// The secret a peer sent: HTTP Basic (the intake's name and its secret) or the header
/// `X-Aidflow-Intake-Secret`.
pub fn credentials(req: &HttpRequest) -> Option<(Option<String>, String)> {
    if let Some(secret) = req
        .headers()
        .get("x-aidflow-intake-secret")
        .and_then(|v| v.to_str().ok())
    {
        return Some((None, secret.to_string()));
    }
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((Some(user.to_string()), password.to_string()))
}

/// 401 asking for the intake's credentials, with nothing written.
pub fn unauthorized(realm: &str, e: AppError) -> Result<HttpResponse, AppError> {
    match e {
        AppError::Unauthorized(_) => {
            let mut res = actix_web::ResponseError::error_response(&e);
            if let Ok(v) = header::HeaderValue::from_str(&format!(
                "Basic realm=\"{realm}\", charset=\"UTF-8\""
            )) {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            Ok(res)
        }
        other => Err(other),
    }
}

/// The body as text a database may keep: UTF-8, without control characters other than
/// tab and line breaks (PostgreSQL refuses NUL).
pub fn payload_text(bytes: &[u8]) -> Result<String, AppError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| AppError::Malformed("the submission is not UTF-8 text".into()))?;
    if let Some(m) = forbidden_message(text) {
        return Err(AppError::Malformed(format!("the submission {m}")));
    }
    Ok(text.to_string())
}

#[utoipa::path(post, operation_id = "intake_kobo", path = "/api/v1/intake/kobo/{intake}", tag = "form intakes", params(("intake" = String, Path, description = "the intake's name")),
    request_body(content = Object, description = "a KoboToolbox REST-service submission: a flat JSON object keyed by question path"),
    responses((status = 201, body = IntakeAnswer, description = "it became an event"), (status = 200, body = IntakeAnswer, description = "received before: stored once"),
    (status = 202, body = IntakeAnswer, description = "it cannot become an event: kept in the intake log with its reason"),
    (status = 401, description = "unknown intake or wrong secret; nothing is written")),
    security(("intake_basic" = []), ("intake_secret" = [])))]
#[tracing::instrument(skip_all, fields(intake = %name))]
pub async fn kobo(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let realm = format!("aidflow intake {name}");
    let Some((user, secret)) = credentials(&req) else {
        return unauthorized(&realm, AppError::Unauthorized(format!(
            "send the intake's credentials: basic auth with username {name} and the intake's secret, or the header X-Aidflow-Intake-Secret"
        )));
    };
    let key = name.clone();
    let intake = match state
        .db(move |c| receive::authenticate(c, &key, user.as_deref(), &secret))
        .await
    {
        Ok(intake) => intake,
        Err(e) => return unauthorized(&realm, e),
    };
    let payload = payload_text(&body)?;
    let flat = match serde_json::from_str::<serde_json::Value>(&payload) {
        Ok(serde_json::Value::Object(flat)) => flat,
        _ => {
            return Err(AppError::Malformed(
                "send the submission as a JSON object, as KoboToolbox's REST services do".into(),
            ))
        }
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let cache = state.writer.cache.clone();
    let answer = state
        .db(move |c| {
            receive::receive(
                c,
                &cache,
                &intake,
                Received {
                    channel: Channel::Kobo,
                    content_type: &content_type,
                    payload: &payload,
                    flat,
                },
            )
        })
        .await?;
    Ok(HttpResponse::build(status_of(&answer)).json(IntakeAnswer::from(answer)))
}
