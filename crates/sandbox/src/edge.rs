//! The edge middleware in front of every route: correlation ID echo, caller classification, the
//! switched-off refresh route, the `X-AL-API-Version` pin (checked and echoed), injected faults,
//! idempotency, the request log, and the guarantee that every error leaves as the JSON envelope —
//! including framework 404/405/413 answers.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::auth::{self, Caller};
use crate::idempotency::{self, Decision};
use crate::reply::{RequestInfo, SbError};
use crate::state::RequestRecord;
use crate::Sandbox;
use aarthik_contract::envelope::now_timestamp;
use aarthik_contract::{error_code as code, headers, paths};

/// Largest body the idempotency layer buffers.
const BODY_LIMIT: usize = 1024 * 1024;

pub async fn edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(sb) = req.app_data::<web::Data<Sandbox>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let correlation_id = correlation_id(&req);
    let path = req.path().to_owned();
    let control = path.starts_with(crate::control_paths::PREFIX);
    let caller = if control {
        Caller::None
    } else {
        let header = req
            .headers()
            .get(headers::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        auth::classify(&sb.lock(), &sb.config.api_key, header.as_deref())
    };
    req.extensions_mut().insert(RequestInfo {
        correlation_id: correlation_id.clone(),
        caller: caller.clone(),
    });
    let pending_record = (!control).then(|| start_record(&sb, &req, &caller));
    let version = (!control)
        .then(|| api_version(&req))
        .flatten()
        .and_then(Result::ok);

    let response = if control {
        next.call(req).await?.map_into_boxed_body()
    } else {
        guarded(&sb, req, next, &caller, &correlation_id).await?
    };
    // The request is cloned only after routing: actix needs it unshared until then.
    let (http_req, response) = response.into_parts();
    let mut response = ensure_envelope(response, &correlation_id).await;
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-correlation-id"), v);
    }
    // Echoed so a client can see its pin arrived (the real API may not echo).
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-al-api-version"), v);
    }
    if let Some(mut record) = pending_record {
        record.status = response.status().as_u16();
        record.replayed = response.headers().contains_key("idempotent-replayed");
        sb.lock().push_request(record);
    }
    Ok(ServiceResponse::new(http_req, response))
}

/// The caller's `X-Correlation-ID` when it is 1–128 visible ASCII characters, else a new UUID.
fn correlation_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(headers::CORRELATION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The `X-AL-API-Version` pin, if sent: `Ok` when it is a `YYYY-MM-DD` date. Every valid value
/// behaves the same.
fn api_version(req: &ServiceRequest) -> Option<Result<String, ()>> {
    let raw = req.headers().get(headers::API_VERSION)?;
    Some(
        raw.to_str()
            .ok()
            .map(str::trim)
            .filter(|v| headers::is_api_version(v))
            .map(str::to_owned)
            .ok_or(()),
    )
}

/// A request-log entry without its status; never includes `Authorization`.
fn start_record(sb: &Sandbox, req: &ServiceRequest, caller: &Caller) -> RequestRecord {
    let headers = req
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "authorization")
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut st = sb.lock();
    let seq = st.next_request_seq;
    st.next_request_seq += 1;
    RequestRecord {
        seq,
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers,
        auth: caller.label(),
        status: 0,
        replayed: false,
        received_at: now_timestamp(),
    }
}

type Answer = Result<ServiceResponse<BoxBody>, actix_web::Error>;

async fn forward(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Answer {
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Answer without running the handler.
fn early(req: ServiceRequest, e: &SbError, correlation_id: &str) -> Answer {
    Ok(req.into_response(e.to_response(correlation_id)))
}

/// A switched-off refresh route, a malformed version pin, faults, then idempotency, then the
/// handler.
async fn guarded(
    sb: &web::Data<Sandbox>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    caller: &Caller,
    correlation_id: &str,
) -> Answer {
    let path = req.path().to_owned();
    if path == paths::SESSIONS_REFRESH && !sb.lock().refresh_enabled {
        // Exactly what an unknown route answers: clients must treat the endpoint as absent.
        let e = SbError::not_found(format!("no route for {} {path}", req.method()));
        return early(req, &e, correlation_id);
    }
    if let Some(Err(())) = api_version(&req) {
        let e = SbError::invalid_field(
            headers::API_VERSION,
            "X-AL-API-Version must be a date YYYY-MM-DD, e.g. 2026-03-05",
        );
        return early(req, &e, correlation_id);
    }
    let latency = sb.lock().faults.latency_for(&path);
    if let Some(delay) = latency {
        tokio::time::sleep(delay).await;
    }
    let injected = sb.lock().faults.take_failure(&path);
    if let Some(status) = injected {
        let mut e = SbError::for_status(status, format!("injected fault: HTTP {status}"));
        if status == 401 && key_route(&path) {
            e.code = code::AUTH_INVALID_API_KEY;
        }
        return early(req, &e, correlation_id);
    }
    let mutating = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let headless = path.starts_with(&format!("{}/", paths::HEADLESS_PREFIX));
    let scope = match caller.scope(&path) {
        Some(s) if mutating && headless && req.match_pattern().is_some() => s,
        _ => return forward(req, next).await,
    };
    let key = req
        .headers()
        .get(headers::IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let Some(key) = key else {
        if sb.config.idempotency_strict {
            let e = SbError::new(
                400,
                code::IDEMPOTENCY_KEY_REQUIRED,
                "POST, PUT and PATCH calls need an Idempotency-Key header",
            )
            .detail("field", headers::IDEMPOTENCY_KEY);
            return early(req, &e, correlation_id);
        }
        return forward(req, next).await;
    };
    if key.len() > 255 {
        let e = SbError::invalid_field(
            headers::IDEMPOTENCY_KEY,
            "Idempotency-Key must be at most 255 characters",
        );
        return early(req, &e, correlation_id);
    }
    let body = match read_body(&mut req).await {
        Ok(b) => b,
        Err(e) => return early(req, &e, correlation_id),
    };
    req.set_payload(Payload::from(body.clone()));
    let fp = idempotency::fingerprint(req.method().as_str(), &path, req.query_string(), &body);
    let decision = idempotency::begin(&mut sb.lock(), &scope, &key, &fp);
    match decision {
        Decision::Refuse(e) => early(req, &e, correlation_id),
        Decision::Replay { status, body } => {
            let resp = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
                .content_type("application/json")
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body);
            Ok(req.into_response(resp))
        }
        Decision::Proceed => {
            let mut claim = Claim {
                sb: sb.clone(),
                scope,
                key,
                done: false,
            };
            let (http_req, response) = forward(req, next).await?.into_parts();
            let (head, body) = response.into_parts();
            let bytes = body::to_bytes(body).await.unwrap_or_default();
            idempotency::finish(
                &mut sb.lock(),
                &claim.scope,
                &claim.key,
                &fp,
                head.status().as_u16(),
                bytes.clone(),
            );
            claim.done = true;
            Ok(ServiceResponse::new(
                http_req,
                head.set_body(BoxBody::new(bytes)),
            ))
        }
    }
}

/// Routes authorised by the platform API key: session bootstrap and webhook subscription.
fn key_route(path: &str) -> bool {
    path == paths::SESSIONS || path.starts_with("/api/tenants/")
}

/// Releases an in-flight idempotency claim if the request is abandoned mid-way.
struct Claim {
    sb: web::Data<Sandbox>,
    scope: String,
    key: String,
    done: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.done {
            let id = (
                std::mem::take(&mut self.scope),
                std::mem::take(&mut self.key),
            );
            self.sb.lock().idempotency.remove(&id);
        }
    }
}

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, SbError> {
    let mut payload = req.take_payload();
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| SbError::validation(format!("could not read the request body: {e}")))?;
        if buf.len() + chunk.len() > BODY_LIMIT {
            return Err(SbError::for_status(413, "the request body is too large"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Framework answers (unmatched method, payload errors) are re-written as the envelope.
async fn ensure_envelope(response: HttpResponse, correlation_id: &str) -> HttpResponse {
    let status = response.status();
    let is_json_or_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if status.as_u16() < 400 || is_json_or_html {
        return response;
    }
    let text = body::to_bytes(response.into_body())
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&text);
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if detail.trim().is_empty() || detail.len() > 300 {
        reason.to_owned()
    } else {
        format!("{reason}: {}", detail.trim())
    };
    SbError::for_status(status.as_u16(), message).to_response(correlation_id)
}
