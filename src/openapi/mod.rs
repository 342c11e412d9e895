//! The OpenAPI 3.1 document of the public surface, generated from the code: every handler carries
//! a `#[utoipa::path]` annotation next to it, each routes file lists its handlers in an `Api`, and
//! [`document`] merges them with the shared schemas (the envelope, the error catalogue), the
//! security schemes, the upstream's operations under `/v1/headless` ([`upstream`]) and the headers
//! every answer carries. `GET /openapi.json` serves it; `aarthik-bff openapi` prints it, and
//! `docs/openapi.json` is that output (checked by `tests/api/openapi.rs`).

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::error::openapi::{AnyErrorEnvelope, ErrorEnvelope, UpstreamErrorCode};
use crate::error::ErrorCode;
use crate::events::{FeedItem, JourneyUpdate};

pub mod upstream;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource("/openapi.json").get(serve));
}

/// This document
#[utoipa::path(
    get, path = "/openapi.json", operation_id = "getOpenApi", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1 (this document)", content_type = "application/json", body = Object,
        headers(("Cache-Control" = String, description = "public, max-age=300"))))
)]
async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(document_json())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "aarthik-bff",
        description = "Partner-side backend-for-frontend for the Aarthik Labs headless lending API. Every response this service writes itself uses the envelope {requestID, correlationID, timestamp, data, error}; every response carries X-Correlation-ID and X-Content-Type-Options: nosniff. A method this service never serves (anything but GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS) is 405 METHOD_NOT_ALLOWED on every path. The operations tagged proxy under /v1/headless/ other than /v1/headless/{path} describe the upstream's known operations as they pass through the proxy."
    ),
    servers((url = "http://127.0.0.1:8080")),
    paths(serve),
    components(schemas(
        ErrorCode,
        UpstreamErrorCode,
        ErrorEnvelope,
        AnyErrorEnvelope,
        JourneyUpdate,
        FeedItem
    )),
    tags(
        (name = "sessions", description = "The user's upstream borrower session (partner JWT)"),
        (name = "web", description = "Web apps: a partner JWT exchanged for an HttpOnly cookie"),
        (name = "proxy", description = "/v1/headless/*: the upstream's headless API with the user's session token"),
        (name = "live", description = "The user's journey updates: Server-Sent Events and a long poll"),
        (name = "webhooks", description = "The upstream's signed journey.snapshot deliveries"),
        (name = "ops", description = "Ops staff: journeys, the event feed, dead letters, revocation, audit (ops token or console cookie)"),
        (name = "console", description = "The ops console, a single page compiled into the binary"),
        (name = "health", description = "Liveness, readiness, Prometheus metrics"),
        (name = "meta", description = "This document")
    )
)]
struct Meta;

/// The capabilities' annotated paths.
fn capability_apis() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        crate::session::routes::Api::openapi(),
        crate::web::routes::Api::openapi(),
        crate::proxy::routes::Api::openapi(),
        crate::live::Api::openapi(),
        crate::webhook::Api::openapi(),
        crate::ops::Api::openapi(),
        crate::ops::LoginApi::openapi(),
        crate::ops::ConsoleApi::openapi(),
        crate::audit::Api::openapi(),
        crate::revoke::Api::openapi(),
        crate::health::Api::openapi(),
        upstream::Schemas::openapi(),
    ]
}

/// The whole document.
pub fn document() -> Value {
    let mut doc = Meta::openapi();
    for api in capability_apis() {
        doc.merge(api);
    }
    let mut doc = serde_json::to_value(&doc).unwrap_or_default();
    add_upstream_operations(&mut doc);
    unique_operation_ids(&mut doc);
    add_common_headers(&mut doc);
    doc["security"] = json!([]);
    doc["components"]["securitySchemes"] = security_schemes();
    doc
}

/// [`document`] as pretty JSON with a final newline (the content of `docs/openapi.json`).
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
        s.push('\n');
        s
    })
}

/// `(method, path, operationId)` of every operation, in document order.
pub fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                out.push((method.to_uppercase(), path.clone(), id.to_owned()));
            }
        }
    }
    out
}

fn add_upstream_operations(doc: &mut Value) {
    let generic = doc["paths"]["/v1/headless/{path}"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, method, op) in upstream::paths(&generic) {
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[method.as_str()] = op;
    }
}

/// One handler serving several methods (the proxy) gets one id per method: `proxy` → `proxyGet`.
fn unique_operation_ids(doc: &mut Value) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (_, _, id) in operations(doc) {
        *seen.entry(id).or_default() += 1;
    }
    for item in doc["paths"].as_object_mut().into_iter().flatten() {
        for (method, op) in item.1.as_object_mut().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            if seen.get(id).copied().unwrap_or(0) > 1 {
                let mut m = method.chars();
                let suffix: String = m
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + m.as_str())
                    .unwrap_or_default();
                op["operationId"] = json!(format!("{id}{suffix}"));
            }
        }
    }
}

/// Headers the middleware and the error type add to answers: `X-Correlation-ID` on every one,
/// `Retry-After` on every 429 and 503 and on a 409 that says so, `WWW-Authenticate` on a 401.
fn add_common_headers(doc: &mut Value) {
    for item in doc["paths"].as_object_mut().into_iter().flatten() {
        for (_, op) in item.1.as_object_mut().into_iter().flatten() {
            for (status, response) in op["responses"].as_object_mut().into_iter().flatten() {
                let description = response["description"].as_str().unwrap_or("").to_owned();
                let headers = response
                    .as_object_mut()
                    .map(|r| r.entry("headers").or_insert_with(|| json!({})));
                let Some(headers) = headers else { continue };
                headers["X-Correlation-ID"] = json!({
                    "description": "The caller's X-Correlation-ID when it is 1-128 characters of [A-Za-z0-9._:-], else a new UUID",
                    "schema": {"type": "string"}
                });
                let retry = matches!(status.as_str(), "429" | "503")
                    || (status == "409" && description.contains("Retry-After"));
                if retry {
                    headers["Retry-After"] = json!({
                        "description": "Seconds to wait before retrying",
                        "schema": {"type": "integer", "minimum": 0}
                    });
                }
                if status == "401" {
                    headers["WWW-Authenticate"] = json!({
                        "description": "Bearer (on this service's own 401)",
                        "schema": {"type": "string"}
                    });
                }
            }
        }
    }
}

fn security_schemes() -> Value {
    json!({
        "partnerJwt": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "The partner's JWT for its user (sub = the user id), verified with auth.* (HS256/RS256/ES256 or a JWKS)"
        },
        "webCookie": {
            "type": "apiKey", "in": "cookie", "name": "__Host-bff_session",
            "description": "The web session cookie set by POST /v1/web/session (HttpOnly, Secure, SameSite=Strict). Cookie calls also send X-CSRF: 1, except GET /v1/events/stream."
        },
        "csrf": {
            "type": "apiKey", "in": "header", "name": "X-CSRF",
            "description": "Must be 1 on cookie-authenticated calls (web session and ops console cookies)"
        },
        "opsToken": {
            "type": "http", "scheme": "bearer",
            "description": "One of ops.tokens (a bare token, or the token of a name:token item)"
        },
        "opsCookie": {
            "type": "apiKey", "in": "cookie", "name": "__Host-bff_ops",
            "description": "The ops console's session cookie, set by POST /v1/ops/login (HttpOnly, Secure, SameSite=Strict, Path=/, 8 h). Cookie calls also send X-CSRF: 1, except GET /v1/ops/events/stream. Development only: a login over plain HTTP gets the cookie bff_ops without Secure."
        },
        "webhookSignature": {
            "type": "apiKey", "in": "header", "name": "X-AL-Webhook-Signature",
            "description": "Lower-case hex HMAC-SHA256 with the webhook secret over `X-AL-Webhook-Timestamp + \".\" + raw body`, compared in constant time"
        },
        "webhookTimestamp": {
            "type": "apiKey", "in": "header", "name": "X-AL-Webhook-Timestamp",
            "description": "Unix seconds of signing; refused outside webhook.tolerance_secs"
        }
    })
}
