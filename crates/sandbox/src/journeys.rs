//! Journeys (CONTRACT §3.2, §4.3, §6.2/§6.3, U14): create-or-resume, list, get, state, the
//! ownership rule (404 unknown, 403 another borrower's) and the status/nextAction setter.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::{new_id, Journey, State};
use crate::webhooks::emit;
use crate::Sandbox;
use aarthik_contract::{journey_status as js, journey_type, next_action, webhook_trigger};

/// A valid journey type (absent = PERSONAL_LOAN).
pub fn parse_type(v: Option<&str>) -> SbResult<String> {
    match v {
        None => Ok(journey_type::PERSONAL_LOAN.to_owned()),
        Some(t) if t == journey_type::PERSONAL_LOAN || t == journey_type::GOLD_LOAN => {
            Ok(t.to_owned())
        }
        Some(t) => Err(SbError::validation(format!(
            "journey type {t} is not supported; use PERSONAL_LOAN or GOLD_LOAN"
        ))),
    }
}

/// The borrower's active journey, or a new one in PROFILE_PENDING (U14).
pub fn create_or_resume(st: &mut State, borrower_id: &str, kind: &str, metadata: Value) -> String {
    if let Some(j) = st.active_journey(borrower_id) {
        return j.id.clone();
    }
    let now = Utc::now();
    let id = new_id();
    let order = st.next_order;
    st.next_order += 1;
    st.journeys.insert(
        id.clone(),
        Journey {
            id: id.clone(),
            borrower_id: borrower_id.to_owned(),
            journey_type: kind.to_owned(),
            status: js::PROFILE_PENDING,
            next_action: Some(next_action::COMPLETE_PROFILE),
            metadata,
            offer_ids: Vec::new(),
            selected_offer_id: None,
            pending_lenders: 0,
            messages: Vec::new(),
            submitted_profile: None,
            offers_due: None,
            disbursal_due: None,
            loan: None,
            last_sequence: 0,
            order,
            created_at: now,
            updated_at: now,
        },
    );
    emit(st, &id, webhook_trigger::JOURNEY_CREATED);
    id
}

/// The journey if it exists (404) and belongs to `borrower_id` (403).
pub fn owned<'a>(st: &'a State, borrower_id: &str, journey_id: &str) -> SbResult<&'a Journey> {
    let j = st
        .journeys
        .get(journey_id)
        .ok_or_else(|| SbError::not_found(format!("journey {journey_id} not found")))?;
    if j.borrower_id != borrower_id {
        return Err(SbError::forbidden(
            "this journey belongs to another borrower",
        ));
    }
    Ok(j)
}

/// Mutable twin of [`owned`].
pub fn owned_mut<'a>(
    st: &'a mut State,
    borrower_id: &str,
    journey_id: &str,
) -> SbResult<&'a mut Journey> {
    owned(st, borrower_id, journey_id)?;
    st.journeys
        .get_mut(journey_id)
        .ok_or_else(|| SbError::not_found(format!("journey {journey_id} not found")))
}

pub fn set_status(j: &mut Journey, status: &'static str, next: Option<&'static str>) {
    j.status = status;
    j.next_action = next;
}

/// `{journeyID, status, nextAction}` (session `activeJourney`, journey create).
pub fn summary(j: &Journey) -> Value {
    json!({ "journeyID": j.id, "status": j.status, "nextAction": j.next_action })
}

/// The journey resource (GET journey, GET state, list items).
pub fn view(j: &Journey) -> Value {
    json!({
        "journeyID": j.id,
        "type": j.journey_type,
        "status": j.status,
        "nextAction": j.next_action,
        "selectedOfferID": j.selected_offer_id,
        "diagnostics": { "pendingLenders": j.pending_lenders, "messages": j.messages },
        "metadata": j.metadata,
        "createdAt": aarthik_contract::envelope::format_timestamp(j.created_at),
        "updatedAt": aarthik_contract::envelope::format_timestamp(j.updated_at),
    })
}

fn create(st: &mut State, ctx: &Ctx, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let kind = parse_type(optional_str(&v, "type")?)?;
    let metadata = match v.get("metadata") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(m @ Value::Object(_)) => m.clone(),
        Some(_) => return Err(SbError::validation("metadata must be an object")),
    };
    let id = create_or_resume(st, &borrower, &kind, metadata);
    let j = st
        .journeys
        .get(&id)
        .ok_or_else(|| SbError::not_found("journey vanished"))?;
    let mut out = view(j);
    out["borrowerID"] = json!(borrower);
    Ok(out)
}

pub async fn create_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = create(&mut sb.lock(), &ctx, &body);
    ctx.respond(result)
}

pub async fn list_handler(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let st = sb.lock();
    let result = ctx.caller.require_borrower().map(|borrower| {
        let mut list: Vec<&Journey> = st
            .journeys
            .values()
            .filter(|j| j.borrower_id == borrower)
            .collect();
        list.sort_by_key(|j| j.order);
        json!({ "journeys": list.into_iter().map(view).collect::<Vec<_>>() })
    });
    ctx.respond(result)
}

/// GET journey and GET journey state answer the same resource.
pub async fn get_handler(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: web::Path<String>,
) -> HttpResponse {
    let st = sb.lock();
    let result = ctx
        .caller
        .require_borrower()
        .and_then(|b| owned(&st, b, &path))
        .map(view);
    ctx.respond(result)
}
