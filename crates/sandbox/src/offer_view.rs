//! How an offer card looks to the client: its `status`, the `locked`/`rejected`/`selected`
//! flags, the offer-level `aa` object, and the terms once the lender has answered.

use serde_json::{json, Value};

use crate::journeys;
use crate::reply::{SbError, SbResult};
use crate::state::{Offer, State};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::offer_status as os;

/// `aa`: `{state, aaSessionID}` when an Account Aggregator consent concerns this card, else null.
pub fn aa_object(st: &State, o: &Offer) -> Value {
    o.aa_session_id
        .as_deref()
        .and_then(|id| st.aa_sessions.get(id))
        .map_or(
            Value::Null,
            |s| json!({ "state": s.state, "aaSessionID": s.id }),
        )
}

pub fn view(st: &State, o: &Offer) -> Value {
    let selected = st
        .journeys
        .get(&o.journey_id)
        .and_then(|j| j.selected_offer_id.as_deref())
        == Some(o.id.as_str());
    let mut v = json!({
        "offerID": o.id,
        "journeyID": o.journey_id,
        "lenderID": o.lender.id,
        "lenderName": o.lender.name,
        "status": o.status,
        "locked": o.locked,
        "rejected": o.rejected,
        "selected": selected,
        "aa": aa_object(st, o),
        "postDisbursalActions": o.lender.actions,
    });
    if o.status == os::OFFER_RECEIVED {
        let terms = json!({
            "principal": o.principal,
            "currency": "INR",
            "annualInterestRatePercent": o.lender.annual_rate_percent,
            "tenureMonths": o.lender.tenure_months,
            "processingFee": o.processing_fee,
            "emi": o.emi,
            "expiresAt": format_timestamp(o.expires_at),
        });
        if let (Some(v), Value::Object(terms)) = (v.as_object_mut(), terms) {
            v.extend(terms);
        }
    }
    v
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

/// [`view`] by id.
pub fn view_by_id(st: &State, offer_id: &str) -> SbResult {
    st.offers
        .get(offer_id)
        .map(|o| view(st, o))
        .ok_or_else(|| SbError::not_found(format!("offer {offer_id} not found")))
}
