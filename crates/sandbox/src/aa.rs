//! Account Aggregator sessions (CONTRACT §3.6, U3): create (or resume the open one) while the AA
//! consent step is actionable, get (redirectURL, status), complete (borrower returned) and
//! reconcile. Opening the redirect page gives consent and completes the AA_CONSENT step.

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::control_paths as sandbox_controls;
use crate::journeys;
use crate::reply::{body_object, Ctx, SbError, SbResult};
use crate::state::{new_id, AaSession, State};
use crate::steps;
use crate::Sandbox;
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{aa_status, paths};

/// How long an AA redirect URL stays usable ([SANDBOX CHOICE]).
const AA_URL_VALIDITY_MINUTES: i64 = 10;

fn view(s: &AaSession, base_url: &str) -> Value {
    let url = (s.status == aa_status::READY).then(|| {
        format!(
            "{base_url}{}",
            paths::fill(sandbox_controls::PAGE_AA, &[("aaSessionID", &s.id)])
        )
    });
    json!({
        "aaSessionID": s.id,
        "journeyID": s.journey_id,
        "status": s.status,
        "redirectURL": url,
        "expiresAt": format_timestamp(s.expires_at),
        "createdAt": format_timestamp(s.created_at),
    })
}

/// READY sessions past their expiry become EXPIRED.
fn refresh_expiry(s: &mut AaSession) {
    if s.status == aa_status::READY && s.expires_at <= Utc::now() {
        s.status = aa_status::EXPIRED;
    }
}

/// Called when the AA_CONSENT step completes by any route.
pub fn mark_completed(st: &mut State, journey_id: &str) {
    for s in st
        .aa_sessions
        .values_mut()
        .filter(|s| s.journey_id == journey_id)
    {
        if s.status == aa_status::READY {
            s.status = aa_status::COMPLETED;
        }
    }
}

fn create(st: &mut State, ctx: &Ctx, journey_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    body_object(body)?;
    journeys::owned(st, borrower, journey_id)?;
    if steps::current_aa_step(st, journey_id).is_none() {
        return Err(SbError::invalid_state(
            "no Account Aggregator consent step is waiting for this journey",
        ));
    }
    for s in st.aa_sessions.values_mut() {
        refresh_expiry(s);
    }
    if let Some(open) = st
        .aa_sessions
        .values()
        .find(|s| s.journey_id == journey_id && s.status == aa_status::READY)
    {
        return Ok(view(open, &ctx.base_url));
    }
    let now = Utc::now();
    let session = AaSession {
        id: new_id(),
        journey_id: journey_id.to_owned(),
        status: aa_status::READY,
        created_at: now,
        expires_at: now + Duration::minutes(AA_URL_VALIDITY_MINUTES),
    };
    let out = view(&session, &ctx.base_url);
    st.aa_sessions.insert(session.id.clone(), session);
    Ok(out)
}

/// The session if it exists and its journey is the borrower's.
fn owned_id(st: &mut State, ctx: &Ctx, id: &str) -> SbResult<String> {
    let borrower = ctx.caller.require_borrower()?;
    let s = st
        .aa_sessions
        .get_mut(id)
        .ok_or_else(|| SbError::not_found(format!("AA session {id} not found")))?;
    refresh_expiry(s);
    let journey_id = s.journey_id.clone();
    journeys::owned(st, borrower, &journey_id)?;
    Ok(journey_id)
}

fn get(st: &mut State, ctx: &Ctx, id: &str) -> SbResult {
    owned_id(st, ctx, id)?;
    st.aa_sessions
        .get(id)
        .map(|s| view(s, &ctx.base_url))
        .ok_or_else(|| SbError::not_found("AA session vanished"))
}

fn complete(st: &mut State, ctx: &Ctx, id: &str) -> SbResult {
    owned_id(st, ctx, id)?;
    let status = st.aa_sessions.get(id).map(|s| s.status).unwrap_or_default();
    if status != aa_status::COMPLETED {
        return Err(SbError::invalid_state(format!(
            "the AA session is {status}: consent has not been given (open redirectURL)"
        )));
    }
    get(st, ctx, id)
}

/// Re-check the session and bring the AA step in line with it.
fn reconcile(st: &mut State, ctx: &Ctx, id: &str) -> SbResult {
    let journey_id = owned_id(st, ctx, id)?;
    let completed = st
        .aa_sessions
        .get(id)
        .is_some_and(|s| s.status == aa_status::COMPLETED);
    if let (true, Some(step_id)) = (completed, steps::current_aa_step(st, &journey_id)) {
        steps::complete(st, &step_id, Some(json!({ "completedBy": "aa-reconcile" })))?;
    }
    get(st, ctx, id)
}

/// For `pages`: the borrower gave consent on the AA page.
pub fn consent_given(st: &mut State, id: &str) -> SbResult<()> {
    let s = st
        .aa_sessions
        .get_mut(id)
        .ok_or_else(|| SbError::not_found("AA session not found"))?;
    refresh_expiry(s);
    if s.status == aa_status::EXPIRED {
        return Err(SbError::invalid_state(
            "this AA session has expired; create a new one",
        ));
    }
    s.status = aa_status::COMPLETED;
    let journey_id = s.journey_id.clone();
    if let Some(step_id) = steps::current_aa_step(st, &journey_id) {
        steps::complete(st, &step_id, Some(json!({ "completedBy": "aa-consent" })))?;
    }
    Ok(())
}

type IdPath = web::Path<String>;

pub async fn create_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    let result = create(&mut sb.lock(), &ctx, &path, &body);
    ctx.respond(result)
}

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let result = get(&mut sb.lock(), &ctx, &path);
    ctx.respond(result)
}

pub async fn complete_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let result = complete(&mut sb.lock(), &ctx, &path);
    ctx.respond(result)
}

pub async fn reconcile_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let result = reconcile(&mut sb.lock(), &ctx, &path);
    ctx.respond(result)
}
