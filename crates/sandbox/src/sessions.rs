//! Borrower sessions: create-or-resume by `borrowerExternalID` (with profile prefill), and the
//! sandbox's refresh route (`Bearer rt_*`, no body), which rotates both tokens and treats a
//! rotated-away refresh token as theft.

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::auth::{self, IssuedTokens};
use crate::journeys::{self, summary};
use crate::reply::{optional_str, parse_body, required_str, Ctx, SbError, SbResult};
use crate::state::{new_id, Borrower, State};
use crate::validate;
use crate::Sandbox;
use aarthik_contract::journey_status;

fn session_data(st: &State, borrower_id: &str, kind: Option<&str>, tokens: IssuedTokens) -> Value {
    let borrower = st.borrowers.get(borrower_id);
    json!({
        "borrowerID": borrower_id,
        "borrowerExternalID": borrower.map(|b| b.external_id.as_str()),
        "sessionToken": tokens.session_token,
        "refreshToken": tokens.refresh_token,
        "sessionExpiresAt": tokens.session_expires_at,
        "refreshExpiresAt": tokens.refresh_expires_at,
        "activeJourney": st.active_journey(borrower_id, kind).map(summary),
    })
}

/// 1–128 printable characters.
fn external_id(v: &Value) -> SbResult<String> {
    let id = required_str(v, "borrowerExternalID")?;
    let printable = id.chars().all(|c| !c.is_control());
    if id.chars().count() > 128 || !printable {
        return Err(SbError::invalid_field(
            "borrowerExternalID",
            "borrowerExternalID must be 1 to 128 printable characters",
        ));
    }
    Ok(id.to_owned())
}

fn create(st: &mut State, ctx: &Ctx, body: &[u8]) -> SbResult {
    ctx.caller.require_key()?;
    let v: Value = parse_body(body)?;
    if !v.is_object() {
        return Err(SbError::validation(
            "the request body must be a JSON object",
        ));
    }
    let external_id = external_id(&v)?;
    let kind = optional_str(&v, "journeyType")?
        .map(|t| journeys::parse_type(Some(t), "journeyType"))
        .transpose()?;
    let prefill = validate::prefill(&v)?;
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
    if !prefill.is_empty() {
        // Prefill never rewrites a profile a journey has already submitted.
        let editable = st
            .active_journey(&borrower_id, kind.as_deref())
            .is_none_or(|j| journey_status::PROFILE_EDITABLE.contains(&j.status));
        if let (true, Some(b)) = (editable, st.borrowers.get_mut(&borrower_id)) {
            validate::merge(&mut b.profile, prefill);
        }
    }
    if let Some(kind) = kind.as_deref() {
        journeys::create_or_resume(st, &borrower_id, kind, &Map::new());
    }
    let tokens = auth::issue(st, &borrower_id, &auth::new_family());
    Ok(session_data(st, &borrower_id, kind.as_deref(), tokens))
}

/// The body is ignored: the refresh token is the bearer credential.
fn refresh(st: &mut State, ctx: &Ctx) -> SbResult {
    let digest = ctx.caller.require_refresh()?;
    let (borrower_id, tokens) = auth::rotate(st, digest)?;
    Ok(session_data(st, &borrower_id, None, tokens))
}

pub async fn create_handler(sb: web::Data<Sandbox>, ctx: Ctx, body: web::Bytes) -> HttpResponse {
    let result = create(&mut sb.lock(), &ctx, &body);
    ctx.respond(result)
}

pub async fn refresh_handler(sb: web::Data<Sandbox>, ctx: Ctx) -> HttpResponse {
    let result = refresh(&mut sb.lock(), &ctx);
    ctx.respond(result)
}
