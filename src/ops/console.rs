//! `GET /ops/`: the ops console, a single page compiled into the binary (the three files of
//! `console/`, no external assets). `GET /ops` redirects to `/ops/`, so the page's relative URLs
//! (`console.js`, `../v1/ops/…`) resolve. The page has no inline script or style, which allows a
//! strict Content-Security-Policy.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const INDEX_HTML: &str = include_str!("../../console/index.html");
const CONSOLE_CSS: &str = include_str!("../../console/console.css");
const CONSOLE_JS: &str = include_str!("../../console/console.js");

/// Only this origin's own files and API; no framing, no inline code.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(redirect, index, css, js))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource("/ops").get(redirect))
        .service(crate::http::resource("/ops/").get(index))
        .service(crate::http::resource("/ops/console.css").get(css))
        .service(crate::http::resource("/ops/console.js").get(js));
}

/// The ops console's address without the slash: a redirect to /ops/
#[utoipa::path(
    get, path = "/ops", operation_id = "opsConsoleRedirect", tag = "console", security(()),
    responses((status = 308, description = "To /ops/", headers(("Location" = String, description = "/ops/"))))
)]
async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/ops/"))
        .finish()
}

/// The ops console: a single page compiled into the binary, no external assets
#[utoipa::path(
    get, path = "/ops/", operation_id = "opsConsole", tag = "console", security(()),
    responses((status = 200, description = "The page (signed in with POST /v1/ops/login)", content_type = "text/html", body = String,
        headers(("Content-Security-Policy" = String, description = "Only this origin's own files and API"))))
)]
async fn index() -> HttpResponse {
    file("text/html; charset=utf-8", INDEX_HTML)
}

/// The console's style sheet
#[utoipa::path(
    get, path = "/ops/console.css", operation_id = "opsConsoleCss", tag = "console", security(()),
    responses((status = 200, description = "CSS", content_type = "text/css", body = String))
)]
async fn css() -> HttpResponse {
    file("text/css; charset=utf-8", CONSOLE_CSS)
}

/// The console's script
#[utoipa::path(
    get, path = "/ops/console.js", operation_id = "opsConsoleJs", tag = "console", security(()),
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String))
)]
async fn js() -> HttpResponse {
    file("text/javascript; charset=utf-8", CONSOLE_JS)
}

fn file(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        // Revalidate every load, so an upgraded binary serves its own page at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body)
}
