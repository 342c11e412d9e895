//! Journeys: create-or-resume per journey type, list, read (the journey state), the ownership
//! rule (404 unknown, 403 another borrower's) and the status setter.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::flow;
use crate::reply::{body_object, optional_str, Ctx, SbError, SbResult};
use crate::state::{new_id, Journey, State};
use crate::webhooks::emit;
use crate::Sandbox;
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{journey_status as js, journey_type, next_action, webhook_trigger};

/// A valid journey type (absent = PERSONAL_LOAN); `field` names it in the error.
pub fn parse_type(v: Option<&str>, field: &str) -> SbResult<String> {
    match v {
        None => Ok(journey_type::PERSONAL_LOAN.to_owned()),
        Some(t) if journey_type::ALL.contains(&t) => Ok(t.to_owned()),
        Some(t) => Err(SbError::invalid_field(
            field,
            format!("journey type {t} is not supported; use PERSONAL_LOAN or GOLD_LOAN"),
        )),
    }
}

/// `metadata`: a free-form object; a `returnURL` in it must be an http(s) URL, because redirect
/// steps send the borrower back there.
fn parse_metadata(v: &Value) -> SbResult<Map<String, Value>> {
    let metadata = match v.get("metadata") {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(SbError::invalid_field(
                "metadata",
                "metadata must be an object",
            ))
        }
    };
    if let Some(url) = metadata.get("returnURL") {
        let ok = url
            .as_str()
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(SbError::invalid_field(
                "metadata.returnURL",
                "metadata.returnURL must be an http or https URL",
            ));
        }
    }
    Ok(metadata)
}

/// The borrower's active journey of `kind`, or a new one in STARTED. A journey of another type
/// never answers for this one. On resume the given `metadata` keys are merged into the
/// journey's, so a new `returnURL` takes effect for the redirects still to come.
pub fn create_or_resume(
    st: &mut State,
    borrower_id: &str,
    kind: &str,
    metadata: &Map<String, Value>,
) -> String {
    if let Some(id) = st
        .active_journey(borrower_id, Some(kind))
        .map(|j| j.id.clone())
    {
        if let (false, Some(j)) = (metadata.is_empty(), st.journeys.get_mut(&id)) {
            if !j.metadata.is_object() {
                j.metadata = Value::Object(Map::new());
            }
            if let Value::Object(stored) = &mut j.metadata {
                stored.extend(metadata.clone());
            }
            j.updated_at = Utc::now();
        }
        return id;
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
            status: js::STARTED,
            next_action: Some(next_action::COMPLETE_PROFILE),
            metadata: Value::Object(metadata.clone()),
            offer_ids: Vec::new(),
            selected_offer_id: None,
            messages: Vec::new(),
            submitted_profile: None,
            dispatch_due: None,
            submitted_at: None,
            disbursal_due: None,
            disbursal_since: None,
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

/// `{journeyID, status, nextAction}` (session `activeJourney`).
pub fn summary(j: &Journey) -> Value {
    json!({ "journeyID": j.id, "status": j.status, "nextAction": j.next_action })
}

/// One item of the journey list.
fn list_item(j: &Journey) -> Value {
    json!({
        "journeyID": j.id,
        "type": j.journey_type,
        "status": j.status,
        "nextAction": j.next_action,
        "createdAt": format_timestamp(j.created_at),
        "updatedAt": format_timestamp(j.updated_at),
    })
}

/// The journey state (GET journey, GET state, journey create, profile submit, proceed).
pub fn view(st: &State, j: &Journey) -> Value {
    json!({
        "journeyID": j.id,
        "type": j.journey_type,
        "status": j.status,
        "nextAction": j.next_action,
        "selectedOfferID": j.selected_offer_id,
        "pendingOperations": flow::pending_operations(st, j),
        "diagnostics": { "messages": j.messages },
        "metadata": j.metadata,
        "createdAt": format_timestamp(j.created_at),
        "updatedAt": format_timestamp(j.updated_at),
    })
}

/// [`view`] by id.
pub fn view_by_id(st: &State, journey_id: &str) -> SbResult {
    st.journeys
        .get(journey_id)
        .map(|j| view(st, j))
        .ok_or_else(|| SbError::not_found(format!("journey {journey_id} not found")))
}

fn create(st: &mut State, ctx: &Ctx, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let kind = parse_type(optional_str(&v, "type")?, "type")?;
    let metadata = parse_metadata(&v)?;
    let id = create_or_resume(st, &borrower, &kind, &metadata);
    let mut out = view_by_id(st, &id)?;
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
        json!({ "journeys": list.into_iter().map(list_item).collect::<Vec<_>>() })
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
        .map(|j| view(&st, j));
    ctx.respond(result)
}
