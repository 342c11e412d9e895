//! How journey statuses move (all sandbox choice, on the vendor's status list and order):
//! STARTED → PROFILE_REQUIRED → PROFILE_SUBMITTED → OFFERS_PENDING → OFFERS_AVAILABLE →
//! OFFER_SELECTED → AA_REQUIRED → KYC_PENDING → BANK_MANDATE_PENDING → E_MANDATE_PENDING →
//! LOAN_AGREEMENT_PENDING → LENDER_PROCESSING → DISBURSED → CLOSED, with REJECTED reachable from
//! PROFILE_SUBMITTED on. Statuses only move forward; a step that is NOT_REQUIRED is skipped and
//! its status never shown. Also the journey's `pendingOperations`.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};

use crate::aa;
use crate::journeys::set_status;
use crate::state::{Diagnostic, Journey, Offer, State};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{
    aa_state, diagnostic_code as dc, journey_status as js, next_action, offer_status as os,
    pending_operation as op, step_status as ss, step_type,
};

/// STARTED → PROFILE_REQUIRED: the profile was opened, written, or a submit was refused.
/// Returns whether the status changed; the caller emits the snapshot.
pub fn require_profile(st: &mut State, journey_id: &str) -> bool {
    match st.journeys.get_mut(journey_id) {
        Some(j) if j.status == js::STARTED => {
            set_status(j, js::PROFILE_REQUIRED, Some(next_action::COMPLETE_PROFILE));
            true
        }
        _ => false,
    }
}

/// End the journey `REJECTED` with a diagnostic.
pub fn reject(j: &mut Journey, code: &'static str, message: String) {
    set_status(j, js::REJECTED, None);
    j.messages.push(Diagnostic { code, message });
}

/// Bring an offer-stage journey in line with its cards: OFFERS_AVAILABLE once a card can be
/// proceeded; OFFERS_PENDING while cards are awaited (`COMPLETE_AA` when a card waits for the
/// borrower's AA consent); REJECTED when no card is left. Never moves backwards. The caller
/// emits the snapshot.
pub fn settle_offers(st: &mut State, journey_id: &str) {
    let Some(j) = st.journeys.get(journey_id) else {
        return;
    };
    if j.status != js::OFFERS_PENDING && j.status != js::OFFERS_AVAILABLE {
        return;
    }
    let cards: Vec<_> = j
        .offer_ids
        .iter()
        .filter_map(|id| st.offers.get(id))
        .collect();
    let live = |c: &Offer| !c.rejected && !c.locked;
    let selectable = cards
        .iter()
        .any(|c| live(c) && c.status == os::OFFER_RECEIVED);
    let awaited: Vec<&Offer> = cards
        .iter()
        .copied()
        .filter(|c| live(c) && c.status == os::OFFER_AWAITED)
        .collect();
    let aa_waiting = awaited.iter().any(|c| {
        c.aa_session_id
            .as_deref()
            .and_then(|id| st.aa_sessions.get(id))
            .is_some_and(|s| aa_state::AWAITING_BORROWER.contains(&s.state))
    });
    let borrower_rejected = cards.iter().any(|c| c.rejected);
    let was_available = j.status == js::OFFERS_AVAILABLE;
    let Some(j) = st.journeys.get_mut(journey_id) else {
        return;
    };
    if selectable || (was_available && !awaited.is_empty()) {
        set_status(j, js::OFFERS_AVAILABLE, Some(next_action::VIEW_OFFERS));
    } else if !awaited.is_empty() {
        let next = aa_waiting.then_some(next_action::COMPLETE_AA);
        set_status(j, js::OFFERS_PENDING, next);
    } else if borrower_rejected {
        reject(
            j,
            dc::ALL_OFFERS_REJECTED,
            "no offer is left: the borrower rejected the rest".into(),
        );
    } else {
        reject(
            j,
            dc::ALL_LENDERS_DECLINED,
            "no lender made an offer".into(),
        );
    }
}

/// After proceed and after every step change: open the first step that is not done (making it
/// READY, or starting disbursal) and set the journey status to that step's. A failed step
/// rejects the journey. The caller emits the snapshot.
pub fn advance_steps(st: &mut State, journey_id: &str) {
    let Some(offer_id) = st
        .journeys
        .get(journey_id)
        .and_then(|j| j.selected_offer_id.clone())
    else {
        return;
    };
    let step_ids = st
        .offers
        .get(&offer_id)
        .map(|o| o.step_ids.clone())
        .unwrap_or_default();
    let Some(current) = step_ids
        .iter()
        .find(|id| {
            st.steps
                .get(*id)
                .is_some_and(|s| !ss::DONE.contains(&s.status))
        })
        .cloned()
    else {
        return;
    };
    let Some((kind, status)) = st.steps.get(&current).map(|s| (s.kind, s.status)) else {
        return;
    };
    if status == ss::FAILURE {
        if let Some(j) = st.journeys.get_mut(journey_id) {
            reject(j, dc::STEP_FAILED, format!("the {kind} step failed"));
        }
        return;
    }
    if kind == step_type::AA_CONSENT {
        let session = aa::ensure_session(st, journey_id, &offer_id);
        let ready = st
            .aa_sessions
            .get(&session)
            .is_some_and(|s| s.state != aa_state::REQUIRED);
        if let Some(s) = st.steps.get_mut(&current) {
            if s.status == ss::PENDING && ready {
                s.status = ss::READY;
            }
        }
    } else if kind == step_type::DISBURSAL {
        if status == ss::PENDING {
            let delay = Duration::from_millis(st.settings.offer_delay_ms);
            if let Some(s) = st.steps.get_mut(&current) {
                s.status = ss::IN_PROGRESS;
            }
            if let Some(j) = st.journeys.get_mut(journey_id) {
                j.disbursal_due = Some(Instant::now() + delay);
                j.disbursal_since = Some(Utc::now());
            }
            st.wake_timers.notify_one();
        }
    } else if let Some(s) = st
        .steps
        .get_mut(&current)
        .filter(|s| s.status == ss::PENDING)
    {
        s.status = ss::READY;
    }
    let journey_status = step_type::journey_status(kind).unwrap_or(js::OFFER_SELECTED);
    let next = match kind {
        k if k == step_type::AA_CONSENT => Some(next_action::COMPLETE_AA),
        k if k == step_type::DISBURSAL => None,
        _ => Some(next_action::COMPLETE_STEP),
    };
    if let Some(j) = st.journeys.get_mut(journey_id) {
        set_status(j, journey_status, next);
    }
}

fn operation(kind: &str, offer_id: Option<&str>, since: chrono::DateTime<Utc>) -> Value {
    let mut v = json!({ "type": kind, "since": format_timestamp(since) });
    if let Some(id) = offer_id {
        v["offerID"] = json!(id);
    }
    v
}

/// `pendingOperations`: what the platform (or the borrower, for AA) still owes this journey.
pub fn pending_operations(st: &State, j: &Journey) -> Vec<Value> {
    let mut ops = Vec::new();
    if j.status == js::PROFILE_SUBMITTED {
        ops.push(operation(
            op::LENDER_DISPATCH,
            None,
            j.submitted_at.unwrap_or(j.updated_at),
        ));
    }
    let session = |id: Option<&str>| id.and_then(|id| st.aa_sessions.get(id));
    for o in j.offer_ids.iter().filter_map(|id| st.offers.get(id)) {
        if o.status != os::OFFER_AWAITED || o.rejected || o.locked {
            continue;
        }
        match session(o.aa_session_id.as_deref()).filter(|s| s.state != aa_state::APPROVED) {
            Some(s) => ops.push(operation(op::AA_CONSENT, Some(&o.id), s.created_at)),
            None => ops.push(operation(op::LENDER_DISPATCH, Some(&o.id), o.since)),
        }
    }
    let selected = j
        .selected_offer_id
        .as_deref()
        .and_then(|id| st.offers.get(id));
    if let Some(o) = selected {
        if j.status == js::AA_REQUIRED {
            if let Some(s) = session(o.aa_session_id.as_deref()) {
                ops.push(operation(op::AA_CONSENT, Some(&o.id), s.created_at));
            }
        }
        for s in o.step_ids.iter().filter_map(|id| st.steps.get(id)) {
            if let (Some((_, since)), false) = (s.awaiting_since, s.kind == step_type::AA_CONSENT) {
                if s.status == ss::IN_PROGRESS {
                    ops.push(operation(op::STEP_CALLBACK, Some(&o.id), since));
                }
            }
        }
        if j.status == js::LENDER_PROCESSING {
            let since = j.disbursal_since.unwrap_or(j.updated_at);
            ops.push(operation(op::DISBURSAL, Some(&o.id), since));
        }
    }
    ops
}
