//! Post-selection steps (CONTRACT §3.5, §6.5, U19): created on proceed in `step::ORDER`, one
//! actionable at a time. INPUT steps complete via `.../submit`; REDIRECT steps via their sandbox
//! page (`pages`) or the `/__sandbox/steps/{id}/complete` hook; DISBURSAL waits for the timer.

use std::time::{Duration as StdDuration, Instant};

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use crate::journeys::{self, set_status};
use crate::offers;
use crate::reply::{body_object, Ctx, SbError, SbResult};
use crate::state::{new_id, State, Step};
use crate::step_view::{action_of, check_input, view};
use crate::webhooks::emit;
use crate::{aa, Sandbox};
use aarthik_contract::{journey_status as js, next_action, step, webhook_trigger};

pub fn create_for_offer(st: &mut State, journey_id: &str, offer_id: &str) {
    let mut ids = Vec::new();
    for (i, kind) in step::ORDER.iter().enumerate() {
        let id = new_id();
        st.steps.insert(
            id.clone(),
            Step {
                id: id.clone(),
                offer_id: offer_id.to_owned(),
                journey_id: journey_id.to_owned(),
                kind,
                status: if i == 0 {
                    step::ACTION_REQUIRED
                } else {
                    step::PENDING
                },
                completed_at: None,
                summary: None,
            },
        );
        ids.push(id);
    }
    if let Some(o) = st.offers.get_mut(offer_id) {
        o.step_ids = ids;
    }
}

/// The step if it exists, belongs to `offer_id` (when given) and to the borrower.
fn owned<'a>(
    st: &'a State,
    borrower: &str,
    offer_id: Option<&str>,
    step_id: &str,
) -> SbResult<&'a Step> {
    let s = st
        .steps
        .get(step_id)
        .filter(|s| offer_id.is_none_or(|o| o == s.offer_id))
        .ok_or_else(|| SbError::not_found(format!("step {step_id} not found")))?;
    journeys::owned(st, borrower, &s.journey_id)?;
    Ok(s)
}

/// Mark a step done and make the next one actionable (or start disbursal). Emits a snapshot.
pub fn complete(st: &mut State, step_id: &str, summary: Option<Value>) -> SbResult<()> {
    let s = st
        .steps
        .get_mut(step_id)
        .ok_or_else(|| SbError::not_found("step not found"))?;
    if s.status == step::COMPLETED {
        return Ok(());
    }
    if s.status != step::ACTION_REQUIRED {
        return Err(SbError::invalid_state(format!(
            "the {} step is {}, not actionable yet",
            s.kind, s.status
        )));
    }
    s.status = step::COMPLETED;
    s.completed_at = Some(Utc::now());
    s.summary = summary;
    let (kind, offer_id, journey_id) = (s.kind, s.offer_id.clone(), s.journey_id.clone());
    if kind == step::AA_CONSENT {
        aa::mark_completed(st, &journey_id);
    }
    let next = st.offers.get(&offer_id).and_then(|o| {
        o.step_ids
            .iter()
            .skip_while(|id| *id != step_id)
            .nth(1)
            .cloned()
    });
    let delay = StdDuration::from_millis(st.settings.offer_delay_ms);
    let mut disbursal = false;
    if let Some(n) = next.as_deref().and_then(|id| st.steps.get_mut(id)) {
        disbursal = n.kind == step::DISBURSAL;
        n.status = if disbursal {
            step::IN_PROGRESS
        } else {
            step::ACTION_REQUIRED
        };
    }
    if let Some(j) = st.journeys.get_mut(&journey_id) {
        if disbursal {
            set_status(j, js::DISBURSAL_PENDING, None);
            j.disbursal_due = Some(Instant::now() + delay);
        } else {
            set_status(j, js::STEPS_IN_PROGRESS, Some(next_action::COMPLETE_STEP));
        }
    }
    if disbursal {
        st.wake_timers.notify_one();
    }
    emit(st, &journey_id, webhook_trigger::STEP_UPDATED);
    Ok(())
}

fn list(st: &State, ctx: &Ctx, journey: Option<&str>, offer_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let o = offers::owned(st, borrower, offer_id)?;
    if journey.is_some_and(|j| j != o.journey_id) {
        return Err(SbError::not_found(format!(
            "offer {offer_id} is not part of this journey"
        )));
    }
    let steps: Vec<Value> = o
        .step_ids
        .iter()
        .filter_map(|id| st.steps.get(id))
        .map(|s| view(st, s, &ctx.base_url))
        .collect();
    Ok(json!({ "offerID": o.id, "journeyID": o.journey_id, "steps": steps }))
}

fn get(st: &State, ctx: &Ctx, offer_id: &str, step_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    Ok(view(
        st,
        owned(st, borrower, Some(offer_id), step_id)?,
        &ctx.base_url,
    ))
}

fn submit(st: &mut State, ctx: &Ctx, offer_id: &str, step_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let s = owned(st, &borrower, Some(offer_id), step_id)?;
    if action_of(s.kind) != step::ACTION_INPUT {
        return Err(SbError::invalid_state(format!(
            "the {} step is not an input step; it completes through its resource",
            s.kind
        )));
    }
    if s.status != step::ACTION_REQUIRED {
        return Err(SbError::invalid_state(format!(
            "the {} step is {}",
            s.kind, s.status
        )));
    }
    let summary = check_input(s.kind, &body_object(body)?)?;
    complete(st, step_id, Some(summary))?;
    get(st, ctx, offer_id, step_id)
}

/// The borrower came back from a redirect: succeeds once the provider finished (page opened).
fn returned(st: &State, ctx: &Ctx, offer_id: &str, step_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let s = owned(st, borrower, Some(offer_id), step_id)?;
    if s.status != step::COMPLETED {
        return Err(SbError::invalid_state(format!(
            "the {} step is {}: the borrower has not finished it yet",
            s.kind, s.status
        )));
    }
    Ok(view(st, s, &ctx.base_url))
}

/// Test hook: complete the current step whatever its kind (DISBURSAL: disburse now).
pub fn force_complete(st: &mut State, step_id: &str, base_url: &str) -> SbResult {
    let s = st
        .steps
        .get(step_id)
        .ok_or_else(|| SbError::not_found(format!("step {step_id} not found")))?;
    let journey_id = s.journey_id.clone();
    if s.kind == step::DISBURSAL && s.status == step::IN_PROGRESS {
        super::loan::disburse(st, &journey_id);
    } else {
        complete(
            st,
            step_id,
            Some(json!({ "completedBy": "sandbox-control" })),
        )?;
    }
    let s = st
        .steps
        .get(step_id)
        .ok_or_else(|| SbError::not_found("step vanished"))?;
    Ok(view(st, s, base_url))
}

type OfferPath = web::Path<String>;
type StepPath = web::Path<(String, String)>;

pub async fn list_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: OfferPath) -> HttpResponse {
    let result = list(&sb.lock(), &ctx, None, &path);
    ctx.respond(result)
}

pub async fn list_scoped(sb: web::Data<Sandbox>, ctx: Ctx, path: StepPath) -> HttpResponse {
    let result = list(&sb.lock(), &ctx, Some(&path.0), &path.1);
    ctx.respond(result)
}

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: StepPath) -> HttpResponse {
    let result = get(&sb.lock(), &ctx, &path.0, &path.1);
    ctx.respond(result)
}

pub async fn submit_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: StepPath,
    body: web::Bytes,
) -> HttpResponse {
    let result = submit(&mut sb.lock(), &ctx, &path.0, &path.1, &body);
    ctx.respond(result)
}

pub async fn complete_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: StepPath) -> HttpResponse {
    let result = returned(&sb.lock(), &ctx, &path.0, &path.1);
    ctx.respond(result)
}

/// For `pages`: complete a REDIRECT step whose page was opened.
pub fn complete_redirect(st: &mut State, step_id: &str) -> SbResult<&'static str> {
    let s = st
        .steps
        .get(step_id)
        .ok_or_else(|| SbError::not_found("step not found"))?;
    let kind = s.kind;
    if action_of(kind) != step::ACTION_REDIRECT {
        return Err(SbError::invalid_state("this step is not a redirect step"));
    }
    complete(st, step_id, Some(json!({ "completedBy": "redirect" })))?;
    Ok(kind)
}

/// Guard used by `aa`: the journey's current AA step, if it is actionable.
pub fn current_aa_step(st: &State, journey_id: &str) -> Option<String> {
    let j = st.journeys.get(journey_id)?;
    let offer = st.offers.get(j.selected_offer_id.as_deref()?)?;
    offer
        .step_ids
        .iter()
        .filter_map(|id| st.steps.get(id))
        .find(|s| s.kind == step::AA_CONSENT && s.status == step::ACTION_REQUIRED)
        .map(|s| s.id.clone())
}
