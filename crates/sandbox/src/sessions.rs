//! Borrower sessions (CONTRACT §3.1, §6.1, U1, U2): create-or-resume by `borrowerExternalID`,
//! and refresh-token rotation with reuse detection.

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::auth::{self, IssuedTokens};
use crate::journeys::{self, summary};
use crate::reply::{optional_str, parse_body, required_str, Ctx, SbError, SbResult};
use crate::state::{new_id, Borrower, State};
use crate::validate;
use crate::Sandbox;
use aarthik_contract::journey_status;

fn session_data(st: &State, borrower_id: &str, tokens: IssuedTokens) -> Value {
    let borrower = st.borrowers.get(borrower_id);
    json!({
        "borrowerID": borrower_id,
        "borrowerExternalID": borrower.map(|b| b.external_id.as_str()),
        "sessionToken": tokens.session_token,
        "refreshToken": tokens.refresh_token,
        "sessionExpiresAt": tokens.session_expires_at,
        "refreshExpiresAt": tokens.refresh_expires_at,
        "activeJourney": st.active_journey(borrower_id).map(summary),
    })
}

fn create(st: &mut State, ctx: &Ctx, body: &[u8]) -> SbResult {
    ctx.caller.require_key()?;
    let v: Value = parse_body(body)?;
    let external_id = required_str(&v, "borrowerExternalID")?.to_owned();
    if external_id.len() > 128 {
        return Err(SbError::validation(
            "borrowerExternalID must be 1 to 128 characters",
        ));
    }
    let kind = optional_str(&v, "journeyType")?
        .map(|t| journeys::parse_type(Some(t)))
        .transpose()?;
    let prefill = match v.get("profile") {
        None | Some(Value::Null) => None,
        Some(p) => Some(validate::session_prefill(p)?),
    };
    // Everything is valid: only now change state.
    let borrower_id = match st.borrower_by_external.get(&external_id) {
        Some(id) => id.clone(),
        None => {
            let id = new_id();
            st.borrower_by_external
                .insert(external_id.clone(), id.clone());
            st.borrowers.insert(
                id.clone(),
                Borrower {
                    external_id,
                    profile: Map::new(),
                },
            );
            id
        }
    };
    if let Some(patch) = prefill {
        let editable = st
            .active_journey(&borrower_id)
            .is_none_or(|j| j.status == journey_status::PROFILE_PENDING);
        if let (true, Some(b)) = (editable, st.borrowers.get_mut(&borrower_id)) {
            validate::merge(&mut b.profile, patch);
        }
    }
    if let Some(kind) = kind {
        journeys::create_or_resume(st, &borrower_id, &kind, Value::Object(Map::new()));
    }
    let tokens = auth::issue(st, &borrower_id, &auth::new_family());
    Ok(session_data(st, &borrower_id, tokens))
}

fn refresh(st: &mut State, ctx: &Ctx, body: &[u8]) -> SbResult {
    ctx.caller.require_key()?;
    let v: Value = parse_body(body)?;
    let token = required_str(&v, "refreshToken")?;
    let (borrower_id, tokens) = auth::rotate(st, token)?;
    Ok(session_data(st, &borrower_id, tokens))
}

pub async fn create_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = create(&mut sb.lock(), &ctx, &body);
    ctx.respond(result)
}

pub async fn refresh_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = refresh(&mut sb.lock(), &ctx, &body);
    ctx.respond(result)
}
