//! Offer cards: lender dispatch (one `OFFER_AWAITED` card per lender), each lender's answer
//! (`OFFER_RECEIVED` or `NO_OFFER_AVAILABLE`), the card list and detail, proceed (locks the
//! other cards) and reject. How the journey status follows the cards is `flow::settle_offers`.

use std::time::{Duration as StdDuration, Instant};

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::journeys::{self, set_status};
use crate::lenders::{self, LENDERS};
use crate::offer_view::{owned, view, view_by_id};
use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::{new_id, Diagnostic, Offer, State};
use crate::webhooks::emit;
use crate::{aa, flow, steps, Sandbox};
use aarthik_contract::{
    diagnostic_code as dc, error_code as code, journey_status as js, next_action,
    offer_status as os, webhook_trigger,
};

/// How long an offer stays valid (sandbox choice).
const OFFER_VALIDITY_DAYS: i64 = 3;

/// `PROFILE_SUBMITTED` → `OFFERS_PENDING`: ask every lender. A lender that wants Account
/// Aggregator consent first gets an AA session and no answer time. No-op in any other status.
pub fn start_dispatch(st: &mut State, journey_id: &str) -> bool {
    let Some(j) = st.journeys.get_mut(journey_id) else {
        return false;
    };
    j.dispatch_due = None;
    if j.status != js::PROFILE_SUBMITTED {
        return false;
    }
    set_status(j, js::OFFERS_PENDING, None);
    let profile = j.submitted_profile.clone().unwrap_or_default();
    let now = Utc::now();
    let due = Instant::now() + StdDuration::from_millis(st.settings.offer_delay_ms);
    let mut ids = Vec::new();
    for lender in &LENDERS {
        let id = new_id();
        let gated = lender.gates_on_aa(&profile);
        st.offers.insert(
            id.clone(),
            Offer {
                id: id.clone(),
                journey_id: journey_id.to_owned(),
                lender,
                status: os::OFFER_AWAITED,
                locked: false,
                rejected: false,
                principal: 0,
                processing_fee: 0,
                emi: 0,
                expires_at: now,
                answer_due: (!gated).then_some(due),
                since: now,
                aa_session_id: None,
                step_ids: Vec::new(),
            },
        );
        if gated {
            aa::ensure_session(st, journey_id, &id);
        }
        ids.push(id);
    }
    if let Some(j) = st.journeys.get_mut(journey_id) {
        j.offer_ids = ids;
    }
    flow::settle_offers(st, journey_id);
    st.wake_timers.notify_one();
    emit(st, journey_id, webhook_trigger::OFFER_UPDATED);
    true
}

/// The lender of an awaited card answers. No-op unless the card is still awaited.
pub fn answer(st: &mut State, offer_id: &str) -> bool {
    let Some(o) = st.offers.get_mut(offer_id) else {
        return false;
    };
    o.answer_due = None;
    if o.status != os::OFFER_AWAITED {
        return false;
    }
    let journey_id = o.journey_id.clone();
    let profile = st
        .journeys
        .get(&journey_id)
        .and_then(|j| j.submitted_profile.clone())
        .unwrap_or_default();
    let Some(o) = st.offers.get_mut(offer_id) else {
        return false;
    };
    let lender = o.lender;
    let declined = match lenders::evaluate(lender, &profile) {
        Ok(principal) => {
            o.status = os::OFFER_RECEIVED;
            o.principal = principal;
            o.processing_fee = principal * lender.fee_bps / 10_000;
            o.emi = lenders::emi(principal, lender.annual_rate_percent, lender.tenure_months);
            o.expires_at = Utc::now() + Duration::days(OFFER_VALIDITY_DAYS);
            None
        }
        Err(reason) => {
            o.status = os::NO_OFFER_AVAILABLE;
            Some(reason)
        }
    };
    if let (Some(reason), Some(j)) = (declined, st.journeys.get_mut(&journey_id)) {
        j.messages.push(Diagnostic {
            code: dc::LENDER_DECLINED,
            message: format!("{} declined: {reason}", lender.name),
        });
    }
    flow::settle_offers(st, &journey_id);
    emit(st, &journey_id, webhook_trigger::OFFER_UPDATED);
    true
}

fn list(st: &State, ctx: &Ctx, journey_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let j = journeys::owned(st, borrower, journey_id)?;
    let offers: Vec<Value> = j
        .offer_ids
        .iter()
        .filter_map(|id| st.offers.get(id))
        .map(|o| view(st, o))
        .collect();
    Ok(json!({ "journeyID": j.id, "status": j.status, "offers": offers }))
}

fn get(st: &State, ctx: &Ctx, offer_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    Ok(view(st, owned(st, borrower, offer_id)?))
}

/// Proceed answers the journey state, plus the offer.
fn proceed_view(st: &State, journey_id: &str, offer_id: &str) -> SbResult {
    let mut out = journeys::view_by_id(st, journey_id)?;
    out["offerID"] = json!(offer_id);
    out["offer"] = view_by_id(st, offer_id)?;
    Ok(out)
}

fn lock_conflict(offer_id: &str, selected: &str) -> SbError {
    SbError::conflict(
        code::OFFER_LOCK_CONFLICT,
        "another offer of this journey has already been proceeded",
    )
    .detail("offerID", offer_id)
    .detail("selectedOfferID", selected)
}

fn proceed(st: &mut State, ctx: &Ctx, offer_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    body_object(body)?;
    let offer = owned(st, &borrower, offer_id)?;
    let journey_id = offer.journey_id.clone();
    let j = journeys::owned(st, &borrower, &journey_id)?;
    match j.selected_offer_id.as_deref() {
        // Already proceeded: the same answer again.
        Some(selected) if selected == offer_id => return proceed_view(st, &journey_id, offer_id),
        Some(selected) => return Err(lock_conflict(offer_id, selected)),
        None => {}
    }
    if j.status != js::OFFERS_AVAILABLE {
        return Err(SbError::invalid_state(format!(
            "cannot proceed: the journey is {}",
            j.status
        )));
    }
    if offer.rejected {
        return Err(SbError::invalid_state(
            "cannot proceed: the offer was rejected",
        ));
    }
    if offer.status != os::OFFER_RECEIVED {
        return Err(SbError::invalid_state(format!(
            "cannot proceed: the offer is {}",
            offer.status
        )));
    }
    if offer.expires_at <= Utc::now() {
        return Err(SbError::invalid_state("the offer has expired"));
    }
    let others: Vec<String> = j
        .offer_ids
        .iter()
        .filter(|id| *id != offer_id)
        .cloned()
        .collect();
    for id in others {
        if let Some(o) = st.offers.get_mut(&id) {
            o.locked = true;
        }
    }
    steps::create_for_offer(st, &journey_id, offer_id);
    if let Some(j) = st.journeys.get_mut(&journey_id) {
        j.selected_offer_id = Some(offer_id.to_owned());
        set_status(j, js::OFFER_SELECTED, Some(next_action::COMPLETE_STEP));
    }
    flow::advance_steps(st, &journey_id);
    emit(st, &journey_id, webhook_trigger::OFFER_UPDATED);
    proceed_view(st, &journey_id, offer_id)
}

/// Reject answers the card.
fn reject(st: &mut State, ctx: &Ctx, offer_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    optional_str(&v, "reason")?;
    let offer = owned(st, &borrower, offer_id)?;
    let journey_id = offer.journey_id.clone();
    let j = journeys::owned(st, &borrower, &journey_id)?;
    match j.selected_offer_id.as_deref() {
        Some(selected) if selected == offer_id => {
            return Err(SbError::invalid_state(
                "cannot reject: this offer was proceeded",
            ))
        }
        Some(selected) => return Err(lock_conflict(offer_id, selected)),
        None => {}
    }
    if offer.rejected {
        return view_by_id(st, offer_id);
    }
    if j.status != js::OFFERS_PENDING && j.status != js::OFFERS_AVAILABLE {
        return Err(SbError::invalid_state(format!(
            "cannot reject: the journey is {}",
            j.status
        )));
    }
    if let Some(o) = st.offers.get_mut(offer_id) {
        o.rejected = true;
    }
    flow::settle_offers(st, &journey_id);
    emit(st, &journey_id, webhook_trigger::OFFER_UPDATED);
    view_by_id(st, offer_id)
}

type IdPath = web::Path<String>;

pub async fn list_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let result = list(&sb.lock(), &ctx, &path);
    ctx.respond(result)
}

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let result = get(&sb.lock(), &ctx, &path);
    ctx.respond(result)
}

pub async fn proceed_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    let result = proceed(&mut sb.lock(), &ctx, &path, &body);
    ctx.respond(result)
}

pub async fn reject_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    let result = reject(&mut sb.lock(), &ctx, &path, &body);
    ctx.respond(result)
}
