//! Borrower profile (CONTRACT §3.3, U3, U4): GET / PUT / submit on the literal paths and the
//! journey-scoped aliases. The profile belongs to the borrower; it is editable while there is no
//! journey past PROFILE_PENDING, and submit freezes it into the journey and starts offer dispatch.

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::journeys::{self, set_status};
use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::State;
use crate::validate;
use crate::webhooks::emit;
use crate::Sandbox;
use aarthik_contract::{error_code as code, journey_status as js, webhook_trigger};

/// The journey a profile call is about: the path's (owned), else the body's, else the active one.
fn target_journey(st: &State, borrower: &str, explicit: Option<&str>) -> SbResult<Option<String>> {
    match explicit {
        Some(id) => journeys::owned(st, borrower, id).map(|j| Some(j.id.clone())),
        None => Ok(st.active_journey(borrower).map(|j| j.id.clone())),
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
    out.insert("borrowerID".into(), json!(borrower));
    out.insert("journeyID".into(), json!(journey_id));
    for section in validate::SECTIONS {
        let value = stored.get(*section).cloned().unwrap_or_else(|| json!({}));
        out.insert((*section).into(), value);
    }
    out.insert("complete".into(), json!(missing.is_empty()));
    out.insert("missingFields".into(), json!(missing));
    Value::Object(out)
}

fn get(st: &State, ctx: &Ctx, journey: Option<&str>) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let jid = target_journey(st, borrower, journey)?;
    Ok(view(st, borrower, jid.as_deref()))
}

fn put(st: &mut State, ctx: &Ctx, journey: Option<&str>, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let jid = target_journey(st, &borrower, journey)?;
    if let Some(j) = jid.as_deref().and_then(|id| st.journeys.get(id)) {
        if j.status != js::PROFILE_PENDING {
            return Err(SbError::invalid_state(format!(
                "the profile can no longer change: the journey is {}",
                j.status
            )));
        }
    }
    let patch = validate::profile_patch(&body_object(body)?)?;
    if let Some(b) = st.borrowers.get_mut(&borrower) {
        validate::merge(&mut b.profile, patch);
    }
    if let Some(id) = jid.as_deref() {
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
    let delay = Duration::from_millis(st.settings.offer_delay_ms);
    let j = journeys::owned_mut(st, &borrower, &jid)?;
    if j.status != js::PROFILE_PENDING {
        return Err(SbError::invalid_state(format!(
            "the profile was already submitted: the journey is {}",
            j.status
        )));
    }
    let missing = validate::missing_for_submit(&stored, &j.journey_type);
    if !missing.is_empty() {
        return Err(SbError::validation(format!(
            "the profile is incomplete; missing or not accepted: {}",
            missing.join(", ")
        )));
    }
    j.submitted_profile = Some(stored);
    set_status(j, js::OFFERS_PENDING, None);
    j.pending_lenders = u32::try_from(super::lenders::LENDERS.len()).unwrap_or(u32::MAX);
    j.offers_due = Some(Instant::now() + delay);
    st.wake_timers.notify_one();
    emit(st, &jid, webhook_trigger::PROFILE_SUBMITTED);
    let j = journeys::owned(st, &borrower, &jid)?;
    Ok(journeys::view(j))
}

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let result = get(&sb.lock(), &ctx, None);
    ctx.respond(result)
}

pub async fn get_scoped(sb: web::Data<Sandbox>, ctx: Ctx, path: web::Path<String>) -> HttpResponse {
    let result = get(&sb.lock(), &ctx, Some(&path));
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
