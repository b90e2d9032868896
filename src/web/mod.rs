//! The browser app, served by `aidflow serve` at `/`: the corridor overview, convoys,
//! weekly reports, alerts and the offline field app. Pages are askama templates
//! (`templates/`), rendered on the server from the same use cases and views as the API;
//! strings come from the catalogues in `locales/`; assets are embedded (`static/`).

pub mod alerts;
pub mod assets;
pub mod convoys;
pub mod field;
pub mod format;
pub mod i18n;
pub mod overview;
pub mod page;
pub mod reports;
pub mod signin;

use actix_web::web;

/// Registers the pages, before the API's catch-all.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(overview::page))
        .route("/overview/live", web::get().to(overview::live_part))
        .route("/sign-in", web::get().to(signin::form))
        .route("/sign-in", web::post().to(signin::sign_in))
        .route("/sign-out", web::post().to(signin::sign_out))
        .route("/convoys", web::get().to(convoys::list))
        .route("/convoys/{id}", web::get().to(convoys::page))
        .route("/reports", web::get().to(reports::index))
        .route("/reports/weekly/{week}", web::get().to(reports::week))
        .route("/alerts", web::get().to(alerts::list))
        .route(
            "/alerts/{id}/acknowledge",
            web::post().to(alerts::acknowledge),
        )
        .route("/alerts/{id}/resolve", web::post().to(alerts::resolve))
        .route("/field", web::get().to(field::to_slash))
        .route("/field/", web::get().to(field::page))
        .route("/field/sw.js", web::get().to(assets::service_worker))
        .route("/static/{name}", web::get().to(assets::file));
}

/// Every template and script, by name, for the catalogue checks in `i18n`.
#[cfg(test)]
pub fn templates_and_scripts() -> Vec<(&'static str, &'static str)> {
    let mut all = vec![
        ("base.html", include_str!("templates/base.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("error.html", include_str!("templates/error.html")),
        ("overview.html", include_str!("templates/overview.html")),
        (
            "overview_live.html",
            include_str!("templates/overview_live.html"),
        ),
        ("convoys.html", include_str!("templates/convoys.html")),
        ("convoy.html", include_str!("templates/convoy.html")),
        ("reports.html", include_str!("templates/reports.html")),
        ("week.html", include_str!("templates/week.html")),
        ("alerts.html", include_str!("templates/alerts.html")),
        ("field.html", include_str!("templates/field.html")),
    ];
    all.extend(assets::scripts());
    all
}
