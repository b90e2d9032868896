//! The field app's page (`/field/`): a shell that works offline once loaded; its script
//! keeps entries in IndexedDB and sends them through `POST /api/v1/sync`.

use actix_web::http::header;
use actix_web::HttpResponse;
use askama::Template;

use crate::web::i18n::Texts;
use crate::web::page::{ok, Base, Visitor, WebError};

#[derive(Template)]
#[template(path = "field.html")]
struct FieldPage {
    base: Base,
    t: &'static Texts,
    texts_json: String,
}

#[tracing::instrument(skip_all)]
pub async fn page(visitor: Visitor) -> Result<HttpResponse, WebError> {
    let t = visitor.t;
    ok(&FieldPage {
        base: visitor.base("field"),
        t,
        texts_json: t.field_json(),
    })
}

/// `/field` without its slash: the service worker's scope is `/field/`.
pub async fn to_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/field/"))
        .finish()
}
