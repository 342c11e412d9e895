//! Account Aggregator sessions. The sandbox creates one itself as soon as AA becomes required:
//! before offers, for a lender that holds its card back for consent, or after selection, for
//! the `AA_CONSENT` step. `POST …/aa/sessions` returns that session (creating it if need be).
//! States (the first four are vendor values): `REQUIRED` (URL being prepared) →
//! `REDIRECT_READY` → `IN_PROGRESS` (the borrower opened the AA page) → `APPROVED` once the
//! borrower is back (`…/complete`) or the client reconciles.

use std::time::{Duration as StdDuration, Instant};

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::control_paths as sandbox_controls;
use crate::journeys;
use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::{new_id, AaSession, State};
use crate::webhooks::emit;
use crate::{flow, Sandbox};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{
    aa_state, journey_status as js, offer_status as os, paths, step_status as ss, step_type,
    webhook_trigger,
};

/// How long an AA redirect URL is advertised as valid; an expired one is replaced on the next
/// read (sandbox choice).
const AA_URL_VALIDITY_MINUTES: i64 = 10;

/// States from which the borrower's return (or a reconcile) approves the consent.
const CONSENTED: &[&str] = &[
    aa_state::IN_PROGRESS,
    aa_state::USER_RETURNED,
    aa_state::APPROVAL_PENDING,
];

pub fn redirect_url(base_url: &str, session_id: &str) -> String {
    format!(
        "{base_url}{}",
        paths::fill(sandbox_controls::PAGE_AA, &[("aaSessionID", session_id)])
    )
}

fn view(s: &AaSession, base_url: &str) -> Value {
    let open = s.state == aa_state::REDIRECT_READY || s.state == aa_state::IN_PROGRESS;
    let url = open.then(|| redirect_url(base_url, &s.id));
    let expires =
        open.then(|| format_timestamp(Utc::now() + Duration::minutes(AA_URL_VALIDITY_MINUTES)));
    json!({
        "aaSessionID": s.id,
        "journeyID": s.journey_id,
        "offerID": s.offer_id,
        "state": s.state,
        "redirectURL": url,
        "expiresAt": expires,
        "createdAt": format_timestamp(s.created_at),
    })
}

/// The AA session of a card, created (`REQUIRED`, or at once `REDIRECT_READY` when there is no
/// preparation delay) if the card has none.
pub fn ensure_session(st: &mut State, journey_id: &str, offer_id: &str) -> String {
    if let Some(id) = st
        .offers
        .get(offer_id)
        .and_then(|o| o.aa_session_id.clone())
    {
        return id;
    }
    let delay = st.settings.aa_prepare_delay_ms;
    let id = new_id();
    st.aa_sessions.insert(
        id.clone(),
        AaSession {
            id: id.clone(),
            journey_id: journey_id.to_owned(),
            offer_id: offer_id.to_owned(),
            state: if delay == 0 {
                aa_state::REDIRECT_READY
            } else {
                aa_state::REQUIRED
            },
            ready_due: (delay > 0).then(|| Instant::now() + StdDuration::from_millis(delay)),
            created_at: Utc::now(),
        },
    );
    if let Some(o) = st.offers.get_mut(offer_id) {
        o.aa_session_id = Some(id.clone());
    }
    if delay > 0 {
        st.wake_timers.notify_one();
    }
    id
}

/// Timer: the redirect URL is ready. Returns the journey that moved.
pub fn prepare(st: &mut State, session_id: &str) -> Option<String> {
    let s = st.aa_sessions.get_mut(session_id)?;
    s.ready_due = None;
    if s.state != aa_state::REQUIRED {
        return None;
    }
    s.state = aa_state::REDIRECT_READY;
    let journey_id = s.journey_id.clone();
    flow::advance_steps(st, &journey_id);
    emit(st, &journey_id, webhook_trigger::AA_UPDATED);
    Some(journey_id)
}

/// The AA step of the journey's selected offer, if it is the open step.
fn open_aa_step(st: &State, journey_id: &str, offer_id: &str) -> Option<String> {
    let j = st.journeys.get(journey_id)?;
    if j.selected_offer_id.as_deref() != Some(offer_id) || j.status != js::AA_REQUIRED {
        return None;
    }
    st.offers.get(offer_id)?.step_ids.iter().find_map(|id| {
        let s = st.steps.get(id)?;
        (s.kind == step_type::AA_CONSENT && !ss::DONE.contains(&s.status)).then(|| id.clone())
    })
}

/// The borrower opened the AA page.
pub fn opened(st: &mut State, session_id: &str) -> SbResult<()> {
    let s = st
        .aa_sessions
        .get_mut(session_id)
        .ok_or_else(|| SbError::not_found("AA session not found"))?;
    match s.state {
        aa_state::REDIRECT_READY => s.state = aa_state::IN_PROGRESS,
        aa_state::REQUIRED => {
            return Err(SbError::invalid_state(
                "the AA redirect is still being prepared",
            ))
        }
        _ => return Ok(()),
    }
    let (journey_id, offer_id) = (s.journey_id.clone(), s.offer_id.clone());
    if let Some(step) = open_aa_step(st, &journey_id, &offer_id)
        .and_then(|id| st.steps.get_mut(&id))
        .filter(|s| s.status == ss::READY)
    {
        step.status = ss::IN_PROGRESS;
        step.awaiting_since = Some((Instant::now(), Utc::now()));
    }
    emit(st, &journey_id, webhook_trigger::AA_UPDATED);
    Ok(())
}

/// The consent is approved: a held-back card gets its lender answer time; an open AA step
/// succeeds and the journey moves on.
pub fn approve(st: &mut State, session_id: &str) {
    let Some(s) = st.aa_sessions.get_mut(session_id) else {
        return;
    };
    s.state = aa_state::APPROVED;
    s.ready_due = None;
    let (journey_id, offer_id) = (s.journey_id.clone(), s.offer_id.clone());
    let delay = StdDuration::from_millis(st.settings.offer_delay_ms);
    if let Some(o) = st
        .offers
        .get_mut(&offer_id)
        .filter(|o| o.status == os::OFFER_AWAITED && o.answer_due.is_none())
    {
        o.answer_due = Some(Instant::now() + delay);
        st.wake_timers.notify_one();
    }
    flow::settle_offers(st, &journey_id);
    if let Some(step) =
        open_aa_step(st, &journey_id, &offer_id).and_then(|id| st.steps.get_mut(&id))
    {
        step.status = ss::SUCCESS;
        step.awaiting_since = None;
        step.completed_at = Some(Utc::now());
        flow::advance_steps(st, &journey_id);
    }
    emit(st, &journey_id, webhook_trigger::AA_UPDATED);
}

/// `POST …/aa/sessions` with `{offerID?}`: the open AA step's session, else the named (or first)
/// card's that waits for consent.
fn create(st: &mut State, ctx: &Ctx, journey_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let v = body_object(body)?;
    let wanted = optional_str(&v, "offerID")?;
    let j = journeys::owned(st, borrower, journey_id)?;
    if let Some(id) = wanted.filter(|id| !j.offer_ids.iter().any(|o| o == id)) {
        return Err(SbError::not_found(format!(
            "offer {id} is not part of this journey"
        )));
    }
    let step_offer = j
        .selected_offer_id
        .clone()
        .filter(|o| open_aa_step(st, journey_id, o).is_some());
    let gated = j.offer_ids.iter().find(|id| {
        wanted.is_none_or(|w| w == id.as_str())
            && st.offers.get(*id).is_some_and(|o| {
                o.status == os::OFFER_AWAITED
                    && !o.rejected
                    && !o.locked
                    && o.aa_session_id.is_some()
            })
    });
    let offer_id = match (step_offer, gated) {
        (Some(o), _) if wanted.is_none_or(|w| w == o) => o,
        (_, Some(o)) => o.clone(),
        _ => {
            return Err(SbError::invalid_state(
                "no Account Aggregator consent is waiting for this journey",
            ))
        }
    };
    let id = ensure_session(st, journey_id, &offer_id);
    get(st, ctx, &id)
}

/// The session if it exists and its journey is the borrower's.
fn owned<'a>(st: &'a State, ctx: &Ctx, id: &str) -> SbResult<&'a AaSession> {
    let borrower = ctx.caller.require_borrower()?;
    let s = st
        .aa_sessions
        .get(id)
        .ok_or_else(|| SbError::not_found(format!("AA session {id} not found")))?;
    journeys::owned(st, borrower, &s.journey_id)?;
    Ok(s)
}

fn get(st: &State, ctx: &Ctx, id: &str) -> SbResult {
    owned(st, ctx, id).map(|s| view(s, &ctx.base_url))
}

/// The borrower is back from the AA: the consent is approved.
fn complete(st: &mut State, ctx: &Ctx, id: &str) -> SbResult {
    let state = owned(st, ctx, id)?.state;
    if CONSENTED.contains(&state) {
        approve(st, id);
    } else if state != aa_state::APPROVED {
        return Err(SbError::invalid_state(format!(
            "the AA session is {state}: the borrower has not been to the AA yet (open redirectURL)"
        )));
    }
    get(st, ctx, id)
}

/// Re-check the session: a consent given at the AA is approved; anything else is answered as is.
fn reconcile(st: &mut State, ctx: &Ctx, id: &str) -> SbResult {
    if CONSENTED.contains(&owned(st, ctx, id)?.state) {
        approve(st, id);
    }
    get(st, ctx, id)
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
    let result = get(&sb.lock(), &ctx, &path);
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
