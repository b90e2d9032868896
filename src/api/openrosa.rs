//! ODK Collect's way in: the OpenRosa form list, form download and submission API at
//! `/intake/odk/{intake}/`, so that phones on the field office's network submit
//! straight to aidflow. Authentication is HTTP Basic (the intake's name and its secret);
//! Collect sends Basic credentials only over HTTPS, so aidflow goes behind TLS for it
//! (docs/src/field-forms.md says why not Digest). Answers are OpenRosa XML.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use md5::{Digest, Md5};

use crate::api::intakes::{credentials, payload_text, status_of, unauthorized};
use crate::app::error::AppError;
use crate::app::intake::mapping::flatten_instance;
use crate::app::intake::receive::{self, Answer, Channel, Received};
use crate::app::intake::{XFORM, XFORM_ID, XFORM_TITLE, XFORM_VERSION};
use crate::app::state::AppState;
use crate::store::intakes::IntakeRow;

const OPENROSA: (&str, &str) = ("X-OpenRosa-Version", "1.0");
const XML: &str = "text/xml; charset=utf-8";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/intake/odk/{intake}")
            .route("/formList", web::get().to(form_list))
            .route("/forms/{file}", web::get().to(form))
            .route("/submission", web::head().to(submission_head))
            .route("/submission", web::post().to(submission)),
    );
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An OpenRosa response: `<OpenRosaResponse>` with one message.
fn openrosa(status: StatusCode, nature: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(OPENROSA)
        .content_type(XML)
        .body(format!(
            "<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\"><message nature=\"{nature}\">{}</message></OpenRosaResponse>",
            escape(message)
        ))
}

/// The intake the request's Basic credentials open, or the answer that refuses it (401
/// with a Basic challenge, in OpenRosa's XML).
async fn intake_of(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
) -> Result<IntakeRow, HttpResponse> {
    let realm = format!("aidflow intake {name}");
    let refuse = |e: AppError| {
        let mut res = match unauthorized(&realm, e) {
            Ok(res) => res,
            Err(e) => actix_web::ResponseError::error_response(&e),
        };
        res.headers_mut().insert(
            header::HeaderName::from_static("x-openrosa-version"),
            header::HeaderValue::from_static("1.0"),
        );
        res
    };
    let Some((user, secret)) = credentials(req) else {
        return Err(refuse(AppError::Unauthorized(format!(
            "give ODK Collect the username {name} and the intake's secret as the password"
        ))));
    };
    let key = name.to_string();
    state
        .db(move |c| receive::authenticate(c, &key, user.as_deref(), &secret))
        .await
        .map_err(refuse)
}

fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// `GET formList`: the shipped checkpoint form.
#[tracing::instrument(skip_all, fields(intake = %name))]
pub async fn form_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> HttpResponse {
    let intake = match intake_of(&req, &state, &name).await {
        Ok(intake) => intake,
        Err(res) => return res,
    };
    let hash = hex::encode(Md5::digest(XFORM.as_bytes()));
    let url = format!(
        "{}/intake/odk/{}/forms/{XFORM_ID}.xml",
        base_url(&req),
        escape(&intake.name)
    );
    HttpResponse::Ok()
        .insert_header(OPENROSA)
        .content_type(XML)
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\"><xform><formID>{XFORM_ID}</formID><name>{XFORM_TITLE}</name><version>{XFORM_VERSION}</version><hash>md5:{hash}</hash><downloadUrl>{url}</downloadUrl></xform></xforms>"
        ))
}

/// `GET forms/aidflow_checkpoint.xml`: the XForm.
#[tracing::instrument(skip_all)]
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (name, file) = path.into_inner();
    if let Err(res) = intake_of(&req, &state, &name).await {
        return res;
    }
    if file != format!("{XFORM_ID}.xml") {
        return openrosa(
            StatusCode::NOT_FOUND,
            "error",
            &format!("this intake serves one form, {XFORM_ID}.xml"),
        );
    }
    HttpResponse::Ok()
        .insert_header(OPENROSA)
        .content_type(XML)
        .body(XFORM)
}

/// `HEAD submission`: Collect asks first, to learn the credentials needed and how large
/// a submission may be.
#[tracing::instrument(skip_all, fields(intake = %name))]
pub async fn submission_head(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> HttpResponse {
    if let Err(res) = intake_of(&req, &state, &name).await {
        return res;
    }
    HttpResponse::NoContent()
        .insert_header(OPENROSA)
        .insert_header((
            "X-OpenRosa-Accept-Content-Length",
            state.settings.server.body_limit_bytes.to_string(),
        ))
        .finish()
}

/// Reads the multipart body's `xml_submission_file` (attachments are not kept: the
/// checkpoint form has none).
async fn instance_xml(
    mut parts: actix_multipart::Multipart,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut xml = None;
    let mut total = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| format!("the multipart body does not parse: {e}"))?;
        let is_instance = part.name() == Some("xml_submission_file");
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| format!("the multipart body does not parse: {e}"))?;
            total += chunk.len();
            if total > limit {
                return Err(format!(
                    "the submission is larger than the {limit} bytes this server accepts"
                ));
            }
            if is_instance {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_instance {
            xml = Some(bytes);
        }
    }
    xml.ok_or_else(|| "the submission has no xml_submission_file part".into())
}

/// `POST submission`: one filled-in form. 201 when it became an event (or had before), 202
/// when it is kept in the intake log because it cannot become one.
#[tracing::instrument(skip_all, fields(intake = %name))]
pub async fn submission(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    parts: actix_multipart::Multipart,
) -> HttpResponse {
    let intake = match intake_of(&req, &state, &name).await {
        Ok(intake) => intake,
        Err(res) => return res,
    };
    let bytes = match instance_xml(parts, state.settings.server.body_limit_bytes).await {
        Ok(bytes) => bytes,
        Err(message) => return openrosa(StatusCode::BAD_REQUEST, "error", &message),
    };
    let payload = match payload_text(&bytes) {
        Ok(text) => text,
        Err(e) => return openrosa(StatusCode::BAD_REQUEST, "error", &e.to_string()),
    };
    let flat = match flatten_instance(&payload, &["cargo"]) {
        Ok((_, flat)) => flat,
        Err(message) => return openrosa(StatusCode::BAD_REQUEST, "error", &message),
    };
    let cache = state.writer.cache.clone();
    let answer = state
        .db(move |c| {
            receive::receive(
                c,
                &cache,
                &intake,
                Received {
                    channel: Channel::Odk,
                    content_type: "text/xml",
                    payload: &payload,
                    flat,
                },
            )
        })
        .await;
    match answer {
        Ok(a @ Answer::Stored { .. }) => openrosa(
            // Collect counts 201 as sent; a resent form is answered the same way.
            if status_of(&a) == StatusCode::OK { StatusCode::CREATED } else { status_of(&a) },
            "submit_success",
            "aidflow stored this checkpoint log.",
        ),
        Ok(Answer::Kept { reason, .. }) => openrosa(
            StatusCode::ACCEPTED,
            "submit_success",
            &format!("aidflow received this form but could not record it yet: {reason}. It is kept; a coordinator will fix and replay it."),
        ),
        Err(e) => {
            let status = actix_web::ResponseError::status_code(&e);
            let message = match e {
                AppError::Internal(_) => "aidflow could not store this form because of a server error; send it again later".to_string(),
                other => other.to_string(),
            };
            openrosa(status, "error", &message)
        }
    }
}
