//! Borrower profile: GET / PUT / submit on the literal paths and the journey-scoped aliases. The
//! profile belongs to the borrower. Opening or writing it moves a STARTED journey to
//! PROFILE_REQUIRED; it is editable while the journey is STARTED or PROFILE_REQUIRED; a valid
//! submit freezes it into the journey (PROFILE_SUBMITTED) and schedules lender dispatch, a refused
//! one leaves the journey PROFILE_REQUIRED.

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::journeys::{self, set_status};
use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::State;
use crate::validate;
use crate::webhooks::emit;
use crate::{flow, Sandbox};
use aarthik_contract::{error_code as code, journey_status as js, webhook_trigger};

/// The journey a profile call is about: the path's or the body's (owned), else the borrower's
/// newest active one.
fn target_journey(st: &State, borrower: &str, explicit: Option<&str>) -> SbResult<Option<String>> {
    match explicit {
        Some(id) => journeys::owned(st, borrower, id).map(|j| Some(j.id.clone())),
        None => Ok(st.active_journey(borrower, None).map(|j| j.id.clone())),
    }
}

fn view(st: &State, borrower: &str, journey_id: Option<&str>) -> Value {
    let stored = st
        .borrowers
        .get(borrower)
        .map(|b| b.profile.clone())
        .unwrap_or_default();
    let kind = journey_id
        .and_then(|id| st.journeys.get(id))
        .map(|j| j.journey_type.as_str())
        .unwrap_or(aarthik_contract::journey_type::PERSONAL_LOAN);
    let missing = validate::missing_for_submit(&stored, kind);
    let mut out = Map::new();
    for section in validate::SECTIONS {
        out.insert((*section).into(), json!({}));
    }
    out.extend(stored);
    out.insert("borrowerID".into(), json!(borrower));
    out.insert("journeyID".into(), json!(journey_id));
    out.insert("complete".into(), json!(missing.is_empty()));
    out.insert("missingFields".into(), json!(missing));
    Value::Object(out)
}

fn get(st: &mut State, ctx: &Ctx, journey: Option<&str>) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let jid = target_journey(st, &borrower, journey)?;
    if let Some(id) = jid.as_deref().filter(|id| flow::require_profile(st, id)) {
        emit(st, id, webhook_trigger::STATUS_UPDATED);
    }
    Ok(view(st, &borrower, jid.as_deref()))
}

fn editable(st: &State, journey_id: Option<&str>) -> SbResult<()> {
    match journey_id.and_then(|id| st.journeys.get(id)) {
        Some(j) if !js::PROFILE_EDITABLE.contains(&j.status) => {
            Err(SbError::invalid_state(format!(
                "the profile can no longer change: the journey is {}",
                j.status
            )))
        }
        _ => Ok(()),
    }
}

fn put(st: &mut State, ctx: &Ctx, journey: Option<&str>, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let explicit = journey.or(optional_str(&v, "journeyID")?);
    let jid = target_journey(st, &borrower, explicit)?;
    editable(st, jid.as_deref())?;
    let patch = validate::profile_patch(&v)?;
    if let Some(b) = st.borrowers.get_mut(&borrower) {
        validate::merge(&mut b.profile, patch);
    }
    if let Some(id) = jid.as_deref() {
        flow::require_profile(st, id);
        emit(st, id, webhook_trigger::PROFILE_UPDATED);
    }
    Ok(view(st, &borrower, jid.as_deref()))
}

fn submit(st: &mut State, ctx: &Ctx, journey: Option<&str>, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let explicit = journey.or(optional_str(&v, "journeyID")?);
    let jid = target_journey(st, &borrower, explicit)?.ok_or_else(|| {
        SbError::conflict(
            code::NO_ACTIVE_JOURNEY,
            "the borrower has no active journey; create one first",
        )
    })?;
    let stored = st
        .borrowers
        .get(&borrower)
        .map(|b| b.profile.clone())
        .unwrap_or_default();
    let j = journeys::owned(st, &borrower, &jid)?;
    if !js::PROFILE_EDITABLE.contains(&j.status) {
        return Err(SbError::invalid_state(format!(
            "the profile was already submitted: the journey is {}",
            j.status
        )));
    }
    let missing = validate::missing_for_submit(&stored, &j.journey_type);
    if let Some(first) = missing.first() {
        // A refused submit still opens the profile step.
        if flow::require_profile(st, &jid) {
            emit(st, &jid, webhook_trigger::STATUS_UPDATED);
        }
        return Err(SbError::invalid_field(
            first,
            format!(
                "the profile is incomplete; missing or not accepted: {}",
                missing.join(", ")
            ),
        )
        .detail("missingFields", missing.clone()));
    }
    let delay = Duration::from_millis(st.settings.dispatch_start_delay_ms);
    let j = journeys::owned_mut(st, &borrower, &jid)?;
    j.submitted_profile = Some(stored);
    j.submitted_at = Some(Utc::now());
    set_status(j, js::PROFILE_SUBMITTED, None);
    j.dispatch_due = Some(Instant::now() + delay);
    st.wake_timers.notify_one();
    emit(st, &jid, webhook_trigger::PROFILE_SUBMITTED);
    journeys::view_by_id(st, &jid)
}

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let result = get(&mut sb.lock(), &ctx, None);
    ctx.respond(result)
}

pub async fn get_scoped(sb: web::Data<Sandbox>, ctx: Ctx, path: web::Path<String>) -> HttpResponse {
    let result = get(&mut sb.lock(), &ctx, Some(&path));
    ctx.respond(result)
}

pub async fn put_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = put(&mut sb.lock(), &ctx, None, &body);
    ctx.respond(result)
}

pub async fn put_scoped(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = put(&mut sb.lock(), &ctx, Some(&path), &body);
    ctx.respond(result)
}

pub async fn submit_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = submit(&mut sb.lock(), &ctx, None, &body);
    ctx.respond(result)
}

pub async fn submit_scoped(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = submit(&mut sb.lock(), &ctx, Some(&path), &body);
    ctx.respond(result)
}
