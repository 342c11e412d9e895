//! Offers (CONTRACT §3.4, §6.4, U18): lender dispatch after the offer delay, the offer list, and
//! proceed (locks every other offer of the journey) / reject.

use actix_web::{web, HttpResponse};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::journeys::{self, set_status};
use crate::lenders::{self, LENDERS};
use crate::reply::{body_object, Ctx, SbError, SbResult};
use crate::state::{new_id, Offer, State};
use crate::steps;
use crate::webhooks::emit;
use crate::Sandbox;
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{
    error_code as code, journey_status as js, next_action, offer_status as os, webhook_trigger,
};

/// How long an offer stays valid ([SANDBOX CHOICE]).
const OFFER_VALIDITY_DAYS: i64 = 3;

/// The simulated lenders answer: OFFERS_AVAILABLE or NO_OFFERS. No-op unless OFFERS_PENDING.
pub fn dispatch(st: &mut State, journey_id: &str) -> bool {
    let Some(j) = st.journeys.get_mut(journey_id) else {
        return false;
    };
    if j.status != js::OFFERS_PENDING {
        return false;
    }
    let profile = j.submitted_profile.clone().unwrap_or_default();
    let expires_at = Utc::now() + Duration::days(OFFER_VALIDITY_DAYS);
    let mut offers = Vec::new();
    j.messages.clear();
    for lender in &LENDERS {
        match lenders::evaluate(lender, &profile) {
            Ok(principal) => offers.push(Offer {
                id: new_id(),
                journey_id: journey_id.to_owned(),
                lender,
                status: os::OFFER_RECEIVED,
                locked: false,
                principal,
                processing_fee: principal * lender.fee_bps / 10_000,
                emi: lenders::emi(principal, lender.annual_rate_percent, lender.tenure_months),
                expires_at,
                step_ids: Vec::new(),
            }),
            Err(reason) => j
                .messages
                .push(format!("{} declined: {reason}", lender.name)),
        }
    }
    j.pending_lenders = 0;
    j.offers_due = None;
    j.offer_ids = offers.iter().map(|o| o.id.clone()).collect();
    if offers.is_empty() {
        set_status(j, js::NO_OFFERS, None);
    } else {
        set_status(j, js::OFFERS_AVAILABLE, Some(next_action::VIEW_OFFERS));
    }
    for offer in offers {
        st.offers.insert(offer.id.clone(), offer);
    }
    emit(st, journey_id, webhook_trigger::OFFER_UPDATED);
    true
}

pub fn view(o: &Offer) -> Value {
    json!({
        "offerID": o.id,
        "journeyID": o.journey_id,
        "lenderID": o.lender.id,
        "lenderName": o.lender.name,
        "status": o.status,
        "principal": o.principal,
        "currency": "INR",
        "annualInterestRatePercent": o.lender.annual_rate_percent,
        "tenureMonths": o.lender.tenure_months,
        "processingFee": o.processing_fee,
        "emi": o.emi,
        "locked": o.locked,
        "expiresAt": format_timestamp(o.expires_at),
        "postDisbursalActions": o.lender.actions,
    })
}

/// The offer if it exists (404) and its journey belongs to `borrower` (403).
pub fn owned<'a>(st: &'a State, borrower: &str, offer_id: &str) -> SbResult<&'a Offer> {
    let o = st
        .offers
        .get(offer_id)
        .ok_or_else(|| SbError::not_found(format!("offer {offer_id} not found")))?;
    journeys::owned(st, borrower, &o.journey_id)?;
    Ok(o)
}

fn list(st: &State, ctx: &Ctx, journey_id: &str) -> SbResult {
    let borrower = ctx.caller.require_borrower()?;
    let j = journeys::owned(st, borrower, journey_id)?;
    let offers: Vec<Value> = j
        .offer_ids
        .iter()
        .filter_map(|id| st.offers.get(id))
        .map(view)
        .collect();
    Ok(json!({ "journeyID": j.id, "status": j.status, "offers": offers }))
}

fn proceed(st: &mut State, ctx: &Ctx, offer_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    body_object(body)?;
    let offer = owned(st, &borrower, offer_id)?;
    let journey_id = offer.journey_id.clone();
    let j = journeys::owned(st, &borrower, &journey_id)?;
    if j.selected_offer_id.as_deref() == Some(offer_id) {
        return Ok(proceed_view(st, &journey_id, offer_id)); // already proceeded: same answer
    }
    if offer.locked {
        return Err(SbError::conflict(
            code::OFFER_LOCKED,
            "another offer has already been proceeded for this journey",
        ));
    }
    if j.status != js::OFFERS_AVAILABLE {
        return Err(SbError::invalid_state(format!(
            "cannot proceed: the journey is {}",
            j.status
        )));
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
            if o.status == os::OFFER_RECEIVED {
                o.status = os::LOCKED;
            }
        }
    }
    if let Some(o) = st.offers.get_mut(offer_id) {
        o.status = os::SELECTED;
    }
    steps::create_for_offer(st, &journey_id, offer_id);
    if let Some(j) = st.journeys.get_mut(&journey_id) {
        j.selected_offer_id = Some(offer_id.to_owned());
        set_status(j, js::OFFER_SELECTED, Some(next_action::COMPLETE_STEP));
    }
    emit(st, &journey_id, webhook_trigger::OFFER_UPDATED);
    Ok(proceed_view(st, &journey_id, offer_id))
}

fn proceed_view(st: &State, journey_id: &str, offer_id: &str) -> Value {
    let j = st.journeys.get(journey_id);
    json!({
        "journeyID": journey_id,
        "offerID": offer_id,
        "status": j.map(|j| j.status),
        "nextAction": j.and_then(|j| j.next_action),
        "offer": st.offers.get(offer_id).map(view),
    })
}

fn reject(st: &mut State, ctx: &Ctx, offer_id: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    body_object(body)?;
    let offer = owned(st, &borrower, offer_id)?;
    let journey_id = offer.journey_id.clone();
    if offer.locked {
        return Err(SbError::conflict(
            code::OFFER_LOCKED,
            "this offer is locked: another offer was proceeded",
        ));
    }
    if offer.status != os::OFFER_RECEIVED {
        return Err(SbError::invalid_state(format!(
            "cannot reject: the offer is {}",
            offer.status
        )));
    }
    if let Some(o) = st.offers.get_mut(offer_id) {
        o.status = os::REJECTED;
    }
    let all_rejected = st
        .journeys
        .get(&journey_id)
        .map(|j| {
            j.offer_ids
                .iter()
                .all(|id| st.offers.get(id).is_some_and(|o| o.status == os::REJECTED))
        })
        .unwrap_or(false);
    if let (true, Some(j)) = (all_rejected, st.journeys.get_mut(&journey_id)) {
        set_status(j, js::REJECTED, None);
        j.messages.push("the borrower rejected every offer".into());
    }
    emit(st, &journey_id, webhook_trigger::OFFER_UPDATED);
    Ok(proceed_view(st, &journey_id, offer_id))
}

pub async fn list_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
) -> HttpResponse {
    let result = list(&sb.lock(), &ctx, &path);
    ctx.respond(result)
}

pub async fn proceed_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = proceed(&mut sb.lock(), &ctx, &path, &body);
    ctx.respond(result)
}

pub async fn reject_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = reject(&mut sb.lock(), &ctx, &path, &body);
    ctx.respond(result)
}
