//! CORS for partner web apps: only origins listed in `web.allowed_origins` get CORS headers.
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) from a listed origin is answered
//! here (204, methods, request headers, credentials, max-age) and never reaches a handler; from an
//! unlisted origin it is 403 without CORS headers. Actual responses to a listed origin allow
//! credentials (the web session cookie) and expose the headers apps need. `Vary: Origin` is
//! always set, so no cache serves one origin's answer to another.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::error::{error_envelope, ErrorCode};

pub const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/// Every header the proxy forwards (`proxy::headers::FORWARDED_REQUEST`; a test in `startup`,
/// where the two meet, keeps them in step) plus the BFF's own request headers (`Last-Event-ID`:
/// a reconnecting cross-origin `EventSource` sends it).
pub const ALLOW_HEADERS: &str = "Content-Type, Idempotency-Key, X-CSRF, X-Correlation-ID, traceparent, Authorization, If-None-Match, If-Match, If-Modified-Since, If-Unmodified-Since, Prefer, Last-Event-ID";
pub const EXPOSE_HEADERS: &str = "X-Correlation-ID, Idempotent-Replayed, Idempotency-Retention, Idempotency-Key, Retry-After, ETag, Location";
/// How long browsers may cache a preflight answer.
pub const MAX_AGE_SECS: &str = "600";

/// The origins of `web.allowed_origins`, parsed once at start-up and handed to the middleware as
/// app data.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        AllowedOrigins(settings.allowed_origins())
    }
}

fn listed(req: &ServiceRequest, origin: &str) -> bool {
    req.app_data::<web::Data<AllowedOrigins>>()
        .is_some_and(|list| list.0.iter().any(|o| o == origin))
}

fn add_vary(h: &mut header::HeaderMap, value: &'static str) {
    h.append(header::VARY, HeaderValue::from_static(value));
}

pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(origin) = origin else {
        let mut res = next.call(req).await?.map_into_boxed_body();
        add_vary(res.headers_mut(), "Origin");
        return Ok(res);
    };
    let allowed = listed(&req, &origin);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut res = if allowed {
            let mut res = HttpResponse::NoContent().finish();
            let h = res.headers_mut();
            allow_origin(h, &origin);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECS),
            );
            res
        } else {
            error_envelope(
                ErrorCode::Forbidden,
                "This origin is not allowed to call this service from a browser.",
            )
        };
        let h = res.headers_mut();
        add_vary(h, "Origin");
        add_vary(h, "Access-Control-Request-Method");
        add_vary(h, "Access-Control-Request-Headers");
        return Ok(req.into_response(res));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    let h = res.headers_mut();
    add_vary(h, "Origin");
    if allowed {
        allow_origin(h, &origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    Ok(res)
}

fn allow_origin(h: &mut header::HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}
