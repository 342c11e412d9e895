//! Test controls under `/__sandbox/` (no auth, enveloped JSON): the request and delivery logs,
//! timers, step completion, faults, token expiry, the refresh route switch, the webhook secret
//! and "deliver now".

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::faults::FaultsPatch;
use crate::reply::{optional_str, parse_body, Ctx, SbError, SbResult};
use crate::{auth, delivery, loan, steps, timers, Sandbox};

pub async fn requests(sb: web::Data<Sandbox>, ctx: Ctx, req: HttpRequest) -> HttpResponse {
    let mut limit: Option<usize> = None;
    let mut prefix: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        match k.as_ref() {
            "limit" => match v.parse() {
                Ok(n) => limit = Some(n),
                Err(_) => {
                    return ctx.respond(Err(SbError::invalid_field(
                        "limit",
                        "limit must be a non-negative integer",
                    )))
                }
            },
            "path_prefix" => prefix = Some(v.into_owned()),
            _ => {}
        }
    }
    let st = sb.lock();
    let matching: Vec<_> = st
        .requests
        .iter()
        .filter(|r| prefix.as_deref().is_none_or(|p| r.path.starts_with(p)))
        .collect();
    // The most recent `limit` entries, oldest first.
    let skip = limit.map_or(0, |n| matching.len().saturating_sub(n));
    let body = json!({ "requests": matching.into_iter().skip(skip).collect::<Vec<_>>() });
    // Serialise under the lock, answer without it (the log can hold 10,000 entries).
    drop(st);
    ctx.respond(Ok(body))
}

pub async fn clear_requests(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    sb.lock().requests.clear();
    ctx.respond(Ok(json!({ "requests": [] })))
}

pub async fn deliveries(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let st = sb.lock();
    let body = json!({
        "deliveries": st.deliveries.iter().collect::<Vec<_>>(),
        "pending": st.outbox.len() + st.held.len(),
    });
    drop(st);
    ctx.respond(Ok(body))
}

fn skip(sb: &Sandbox, body: &[u8]) -> SbResult {
    let v: Value = parse_body(body)?;
    let only = optional_str(&v, "journeyID")?;
    let mut st = sb.lock();
    if let Some(id) = only {
        if !st.journeys.contains_key(id) {
            return Err(SbError::not_found(format!("journey {id} not found")));
        }
    }
    let moved = timers::fire(&mut st, only, true);
    Ok(json!({ "fired": moved }))
}

pub async fn timers_skip(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    ctx.respond(skip(&sb, &body))
}

pub async fn complete_step(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = steps::force_complete(&mut sb.lock(), &path, &body, &ctx.base_url);
    ctx.respond(result)
}

/// `{"enabled": bool}` switches the refresh route on or off (off: it answers 404 as if absent).
fn refresh_switch(sb: &Sandbox, body: &[u8]) -> SbResult {
    let v: Value = parse_body(body)?;
    let enabled = v
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| SbError::invalid_field("enabled", "enabled must be true or false"))?;
    sb.lock().refresh_enabled = enabled;
    Ok(json!({ "enabled": enabled }))
}

pub async fn set_refresh_endpoint(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    body: web::Bytes,
) -> HttpResponse {
    ctx.respond(refresh_switch(&sb, &body))
}

pub async fn get_refresh_endpoint(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let enabled = sb.lock().refresh_enabled;
    ctx.respond(Ok(json!({ "enabled": enabled })))
}

fn faults_view(sb: &Sandbox) -> Value {
    json!({ "faults": sb.lock().faults })
}

pub async fn get_faults(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    ctx.respond(Ok(faults_view(&sb)))
}

pub async fn set_faults(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = parse_body::<FaultsPatch>(&body)
        .and_then(|patch| sb.lock().faults.apply(patch))
        .map(|()| faults_view(&sb));
    ctx.respond(result)
}

pub async fn clear_faults(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    {
        let mut st = sb.lock();
        st.faults = Default::default();
        super::webhooks::release_held(&mut st);
    }
    ctx.respond(Ok(faults_view(&sb)))
}

fn expire(sb: &Sandbox, body: &[u8]) -> SbResult {
    let v: Value = parse_body(body)?;
    let refresh = match v.get("refresh") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(SbError::invalid_field(
                "refresh",
                "refresh must be true or false",
            ))
        }
    };
    let (sessions, refreshes) = auth::expire_all(&mut sb.lock(), refresh);
    Ok(json!({ "expiredSessionTokens": sessions, "expiredRefreshTokens": refreshes }))
}

pub async fn tokens_expire(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    ctx.respond(expire(&sb, &body))
}

pub async fn webhook_secret(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
) -> HttpResponse {
    let st = sb.lock();
    let result = if *path == st.settings.application_id {
        Ok(json!({
            "tenantID": st.settings.tenant_id,
            "applicationID": st.settings.application_id,
            "secret": sb.config.webhook_secret.expose_secret(),
            "enabled": st.subscription.enabled,
        }))
    } else {
        Err(SbError::not_found(format!(
            "application {} not found",
            path.as_str()
        )))
    };
    ctx.respond(result)
}

pub async fn deliver_now(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let pending = delivery::deliver_now(&sb);
    ctx.respond(Ok(json!({ "pending": pending })))
}

pub async fn loan_overdue(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
) -> HttpResponse {
    let result = loan::make_overdue(&mut sb.lock(), &path);
    ctx.respond(result)
}
