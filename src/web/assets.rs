//! The browser app's static files, compiled into the binary and served with an ETag
//! (the SHA-256 of their content) so that browsers and the field app's service worker
//! revalidate them cheaply and never load anything from another host.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: [Asset; 5] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/app.css"),
    },
    Asset {
        name: "overview.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/overview.js"),
    },
    Asset {
        name: "field.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/field.js"),
    },
    Asset {
        name: "field.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/field.css"),
    },
    Asset {
        name: "sw.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/sw.js"),
    },
];

struct Served {
    asset: &'static Asset,
    body: web::Bytes,
    etag: String,
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..20])
}

/// A hash of every asset, so the service worker's cache changes whenever one does.
pub fn version() -> &'static str {
    &VERSION
}

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for a in &FILES {
        h.update(a.name.as_bytes());
        h.update(a.body);
    }
    hex::encode(h.finalize())[..16].to_string()
});

static SERVED: LazyLock<Vec<Served>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|asset| {
            let body: Vec<u8> = if asset.name == "sw.js" {
                String::from_utf8_lossy(asset.body)
                    .replace("__ASSET_VERSION__", version())
                    .into_bytes()
            } else {
                asset.body.to_vec()
            };
            Served {
                asset,
                etag: etag_of(&body),
                body: web::Bytes::from(body),
            }
        })
        .collect()
});

/// Answers with asset `name`: 304 when the browser already has this version, 404 for a
/// name aidflow does not have.
pub fn respond(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some(served) = SERVED.iter().find(|s| s.asset.name == name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("aidflow has no file named {name}"));
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == served.etag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, served.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        res.finish()
    } else {
        res.content_type(served.asset.content_type)
            .body(served.body.clone())
    }
}

pub async fn file(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    respond(&req, &name)
}

/// The field app's service worker, at `/field/sw.js` so that its scope is `/field/`.
pub async fn service_worker(req: HttpRequest) -> HttpResponse {
    respond(&req, "sw.js")
}

/// Each static file's text, for the catalogue check of `i18n`.
pub fn scripts() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES
        .iter()
        .filter(|a| a.name.ends_with(".js"))
        .map(|a| (a.name, std::str::from_utf8(a.body).unwrap_or("")))
}
