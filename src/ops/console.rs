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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ops").get(redirect))
        .service(web::resource("/ops/").get(index))
        .service(web::resource("/ops/console.css").get(css))
        .service(web::resource("/ops/console.js").get(js));
}

async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/ops/"))
        .finish()
}

async fn index() -> HttpResponse {
    file("text/html; charset=utf-8", INDEX_HTML)
}

async fn css() -> HttpResponse {
    file("text/css; charset=utf-8", CONSOLE_CSS)
}

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
