//! Post-selection steps, created on proceed in `step_type::ORDER` (the lender's unneeded ones
//! `NOT_REQUIRED`), one open at a time. A form step succeeds on a valid `…/submit`. A redirect
//! step goes `READY` → `IN_PROGRESS` when the borrower opens its page (`AWAIT_CALLBACK`, or
//! `RECONCILE` once overdue) → `SUCCESS` on `…/complete` or `…/reconcile`. `DISBURSAL` waits for
//! the timer. The `/__sandbox/steps/{id}/complete` hook finishes the open step either way.

use std::time::{Duration as StdDuration, Instant};

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use crate::offer_view;
use crate::reply::{body_object, optional_str, parse_body, Ctx, SbError, SbResult};
use crate::state::{new_id, Diagnostic, State, Step};
use crate::step_view::{banking, check_form, ready_action, view};
use crate::webhooks::emit;
use crate::{aa, flow, journeys, loan, Sandbox};
use aarthik_contract::{
    aa_state, action_required as ar, diagnostic_code as dc, step_status as ss, step_type,
    webhook_trigger,
};

pub fn create_for_offer(st: &mut State, journey_id: &str, offer_id: &str) {
    let Some(offer) = st.offers.get(offer_id) else {
        return;
    };
    let lender = offer.lender;
    // A consent already given before the offer covers the AA step.
    let consented = offer
        .aa_session_id
        .as_deref()
        .and_then(|id| st.aa_sessions.get(id))
        .is_some_and(|s| s.state == aa_state::APPROVED);
    let mut ids = Vec::new();
    for kind in step_type::ORDER {
        let skipped =
            lender.not_required.contains(kind) || (*kind == step_type::AA_CONSENT && consented);
        let id = new_id();
        st.steps.insert(
            id.clone(),
            Step {
                id: id.clone(),
                offer_id: offer_id.to_owned(),
                journey_id: journey_id.to_owned(),
                kind,
                status: if skipped {
                    ss::NOT_REQUIRED
                } else {
                    ss::PENDING
                },
                attempts: 0,
                messages: Vec::new(),
                awaiting_since: None,
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

/// The step, if it is the open one of its journey's selected offer.
fn open_step<'a>(st: &'a State, step_id: &str) -> SbResult<&'a Step> {
    let s = st
        .steps
        .get(step_id)
        .ok_or_else(|| SbError::not_found(format!("step {step_id} not found")))?;
    let open = st
        .offers
        .get(&s.offer_id)
        .and_then(|o| {
            o.step_ids.iter().find(|id| {
                st.steps
                    .get(*id)
                    .is_some_and(|x| !ss::DONE.contains(&x.status))
            })
        })
        .is_some_and(|id| *id == s.id);
    let selected = st.journeys.get(&s.journey_id).is_some_and(|j| {
        j.selected_offer_id.as_deref() == Some(s.offer_id.as_str()) && !j.is_terminal()
    });
    if !open || !selected || s.status == ss::FAILURE {
        return Err(SbError::invalid_state(format!(
            "the {} step is {}, not the open step",
            s.kind, s.status
        )));
    }
    Ok(s)
}

/// The step succeeded: the next one opens (an AA step succeeds through its session's approval).
fn succeed(st: &mut State, step_id: &str, summary: Option<Value>) {
    let Some(s) = st.steps.get_mut(step_id) else {
        return;
    };
    if s.kind == step_type::AA_CONSENT {
        let (journey_id, offer_id) = (s.journey_id.clone(), s.offer_id.clone());
        let session = aa::ensure_session(st, &journey_id, &offer_id);
        aa::approve(st, &session);
        return;
    }
    s.status = ss::SUCCESS;
    s.awaiting_since = None;
    s.completed_at = Some(Utc::now());
    s.summary = summary;
    let journey_id = s.journey_id.clone();
    flow::advance_steps(st, &journey_id);
    emit(st, &journey_id, webhook_trigger::STEP_UPDATED);
}

/// One attempt failed: `READY` again with a diagnostic, or `FAILURE` (journey `REJECTED`) after
/// the configured number of attempts. Disbursal stays in progress and is retried.
fn fail(st: &mut State, step_id: &str) {
    let max = st.settings.max_step_attempts;
    let delay = StdDuration::from_millis(st.settings.offer_delay_ms);
    let Some(s) = st.steps.get_mut(step_id) else {
        return;
    };
    s.attempts += 1;
    s.awaiting_since = None;
    let journey_id = s.journey_id.clone();
    if s.attempts >= max {
        s.status = ss::FAILURE;
        s.messages.push(Diagnostic {
            code: dc::STEP_FAILED,
            message: format!(
                "attempt {} of {max} failed; the step has failed",
                s.attempts
            ),
        });
        flow::advance_steps(st, &journey_id);
    } else {
        s.messages.push(Diagnostic {
            code: dc::STEP_ATTEMPT_FAILED,
            message: format!("attempt {} of {max} failed; try again", s.attempts),
        });
        if s.kind == step_type::DISBURSAL {
            if let Some(j) = st.journeys.get_mut(&journey_id) {
                j.disbursal_due = Some(Instant::now() + delay);
            }
            st.wake_timers.notify_one();
        } else {
            s.status = ss::READY;
        }
    }
    emit(st, &journey_id, webhook_trigger::STEP_UPDATED);
}

fn list(st: &State, ctx: &Ctx, journey: Option<&str>, offer_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let o = offer_view::owned(st, borrower, offer_id)?;
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

/// `{ "fields": { … } }` (a flat body is accepted too).
fn submit(st: &mut State, ctx: &Ctx, offer_id: &str, step_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let s = owned(st, &borrower, Some(offer_id), step_id)?;
    let lender = st
        .offers
        .get(offer_id)
        .map(|o| o.lender)
        .ok_or_else(|| SbError::not_found("offer vanished"))?;
    if s.status != ss::READY || ready_action(s.kind, lender) != ar::SUBMIT_FORM {
        return Err(SbError::invalid_state(format!(
            "the {} step is {} and takes no form now",
            s.kind, s.status
        )));
    }
    open_step(st, step_id)?;
    let fields = match v.get("fields") {
        None | Some(Value::Null) => &v,
        Some(f @ Value::Object(_)) => f,
        Some(_) => return Err(SbError::invalid_field("fields", "fields must be an object")),
    };
    let summary = check_form(s.kind, fields, banking(st, &s.journey_id).as_ref())?;
    succeed(st, step_id, Some(summary));
    get(st, ctx, offer_id, step_id)
}

/// `…/complete` (the borrower is back) and `…/reconcile` (re-check an overdue callback): a
/// redirect step the borrower finished at the provider succeeds; before that, 409.
fn returned(st: &mut State, ctx: &Ctx, offer_id: &str, step_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let s = owned(st, &borrower, Some(offer_id), step_id)?;
    match s.status {
        ss::SUCCESS => {}
        ss::IN_PROGRESS if s.awaiting_since.is_some() => succeed(st, step_id, None),
        status => {
            return Err(SbError::invalid_state(format!(
                "the {} step is {status}: the borrower has not finished it at the provider yet",
                s.kind
            )))
        }
    }
    get(st, ctx, offer_id, step_id)
}

/// Test hook: finish the open step with `{"outcome": "SUCCESS" | "FAILURE"}` (default SUCCESS),
/// whatever its kind (DISBURSAL: disburse now).
pub fn force_complete(st: &mut State, step_id: &str, body: &[u8], base_url: &str) -> SbResult {
    let v: Value = parse_body(body)?;
    let outcome = optional_str(&v, "outcome")?.unwrap_or(ss::SUCCESS);
    if outcome != ss::SUCCESS && outcome != ss::FAILURE {
        return Err(SbError::invalid_field(
            "outcome",
            "outcome must be SUCCESS or FAILURE",
        ));
    }
    let s = open_step(st, step_id)?;
    let (kind, journey_id) = (s.kind, s.journey_id.clone());
    if outcome == ss::FAILURE {
        fail(st, step_id);
    } else if kind == step_type::DISBURSAL {
        loan::disburse(st, &journey_id);
    } else {
        succeed(
            st,
            step_id,
            Some(json!({ "completedBy": "sandbox-control" })),
        );
    }
    let s = st
        .steps
        .get(step_id)
        .ok_or_else(|| SbError::not_found("step vanished"))?;
    Ok(view(st, s, base_url))
}

/// For `pages`: the borrower finished a redirect step at the provider. Returns the step type.
pub fn opened(st: &mut State, step_id: &str) -> SbResult<&'static str> {
    let s = open_step(st, step_id)?;
    let lender = st.offers.get(&s.offer_id).map(|o| o.lender);
    let (kind, status) = (s.kind, s.status);
    if kind == step_type::AA_CONSENT {
        let (journey_id, offer_id) = (s.journey_id.clone(), s.offer_id.clone());
        let session = aa::ensure_session(st, &journey_id, &offer_id);
        aa::opened(st, &session)?;
        return Ok(kind);
    }
    if status == ss::IN_PROGRESS {
        return Ok(kind);
    }
    if status != ss::READY || lender.map(|l| ready_action(kind, l)) != Some(ar::REDIRECT) {
        return Err(SbError::invalid_state(
            "this step is not waiting for a redirect",
        ));
    }
    let journey_id = s.journey_id.clone();
    if let Some(s) = st.steps.get_mut(step_id) {
        s.status = ss::IN_PROGRESS;
        s.awaiting_since = Some((Instant::now(), Utc::now()));
    }
    emit(st, &journey_id, webhook_trigger::STEP_UPDATED);
    Ok(kind)
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
    let result = returned(&mut sb.lock(), &ctx, &path.0, &path.1);
    ctx.respond(result)
}

pub async fn reconcile_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: StepPath) -> HttpResponse {
    let result = returned(&mut sb.lock(), &ctx, &path.0, &path.1);
    ctx.respond(result)
}
