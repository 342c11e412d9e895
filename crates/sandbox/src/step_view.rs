//! How a step looks to the client (CONTRACT §6.5): `actionRequired`, the `resource` (redirect
//! URL, input fields, key fact statement, wait hint), and validation of INPUT step bodies.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::control_paths as sandbox_controls;
use crate::reply::{SbError, SbResult};
use crate::state::{State, Step};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{paths, step};

/// How long a redirect URL is advertised as valid.
const REDIRECT_VALIDITY_MINUTES: i64 = 30;

pub fn action_of(kind: &str) -> &'static str {
    match kind {
        step::AA_CONSENT | step::E_MANDATE | step::LOAN_AGREEMENT => step::ACTION_REDIRECT,
        step::DISBURSAL => step::ACTION_WAIT,
        _ => step::ACTION_INPUT,
    }
}

fn input_fields(kind: &str) -> Value {
    match kind {
        step::KFS_REVIEW => json!([{ "name": "accepted", "type": "boolean", "required": true }]),
        step::KYC => json!([
            { "name": "aadhaarLast4", "type": "string", "required": true, "pattern": "^[0-9]{4}$" },
            { "name": "consent", "type": "boolean", "required": true }
        ]),
        _ => json!([
            { "name": "accountNumber", "type": "string", "required": true, "pattern": "^[0-9]{9,18}$" },
            { "name": "ifsc", "type": "string", "required": true, "pattern": "^[A-Z]{4}0[A-Z0-9]{6}$" },
            { "name": "accountHolderName", "type": "string", "required": true }
        ]),
    }
}

pub fn view(st: &State, s: &Step, base_url: &str) -> Value {
    let actionable = s.status == step::ACTION_REQUIRED || s.status == step::IN_PROGRESS;
    let action = if actionable {
        action_of(s.kind)
    } else {
        step::ACTION_NONE
    };
    let resource = match action {
        a if a == step::ACTION_REDIRECT => {
            let return_url = st
                .journeys
                .get(&s.journey_id)
                .and_then(|j| j.metadata.get("returnURL"))
                .and_then(Value::as_str);
            json!({
                "kind": "REDIRECT",
                "url": format!("{base_url}{}", paths::fill(sandbox_controls::PAGE_STEP, &[("stepID", &s.id)])),
                "returnURL": return_url,
                "expiresAt": format_timestamp(Utc::now() + Duration::minutes(REDIRECT_VALIDITY_MINUTES)),
            })
        }
        a if a == step::ACTION_INPUT => {
            let mut r = json!({
                "kind": "INPUT",
                "fields": input_fields(s.kind),
                "submitURL": paths::fill(paths::OFFER_STEP_SUBMIT, &[("offerID", &s.offer_id), ("stepID", &s.id)]),
            });
            if s.kind == step::KFS_REVIEW {
                r["keyFactStatement"] = kfs(st, &s.offer_id);
            }
            r
        }
        a if a == step::ACTION_WAIT => json!({ "kind": "WAIT", "pollAfterMs": 2000 }),
        _ => Value::Null,
    };
    json!({
        "stepID": s.id,
        "offerID": s.offer_id,
        "journeyID": s.journey_id,
        "type": s.kind,
        "status": s.status,
        "actionRequired": action,
        "resource": resource,
        "diagnostics": Value::Null,
        "completedAt": s.completed_at.map(format_timestamp),
        "result": s.summary,
    })
}

fn kfs(st: &State, offer_id: &str) -> Value {
    let Some(o) = st.offers.get(offer_id) else {
        return Value::Null;
    };
    let total = o.emi * u64::from(o.lender.tenure_months);
    json!({
        "lenderName": o.lender.name,
        "principal": o.principal,
        "annualInterestRatePercent": o.lender.annual_rate_percent,
        "tenureMonths": o.lender.tenure_months,
        "emi": o.emi,
        "processingFee": o.processing_fee,
        "totalRepayable": total,
        "netDisbursed": o.principal.saturating_sub(o.processing_fee),
    })
}

/// Validate an INPUT step's body; returns the non-sensitive summary kept on the step.
pub fn check_input(kind: &str, v: &Value) -> SbResult<Value> {
    let s = |f: &str| {
        v.get(f)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let yes = |f: &str| v.get(f).and_then(Value::as_bool) == Some(true);
    match kind {
        step::KFS_REVIEW if yes("accepted") => Ok(json!({ "accepted": true })),
        step::KFS_REVIEW => Err(SbError::validation(
            "accepted must be true to accept the key fact statement",
        )),
        step::KYC => {
            let last4 = s("aadhaarLast4");
            if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SbError::validation("aadhaarLast4 must be 4 digits"));
            }
            if !yes("consent") {
                return Err(SbError::validation("consent must be true"));
            }
            Ok(json!({ "verified": true }))
        }
        _ => {
            let account = s("accountNumber");
            let ifsc = s("ifsc");
            if !(9..=18).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SbError::validation("accountNumber must be 9 to 18 digits"));
            }
            let b = ifsc.as_bytes();
            let ifsc_ok = b.len() == 11
                && b[..4].iter().all(u8::is_ascii_uppercase)
                && b[4] == b'0'
                && b[5..]
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ifsc_ok {
                return Err(SbError::validation("ifsc must look like HDFC0001234"));
            }
            if s("accountHolderName").is_empty() {
                return Err(SbError::validation("accountHolderName is required"));
            }
            let masked = format!("XXXX{}", &account[account.len() - 4..]);
            Ok(json!({ "accountNumberMasked": masked, "ifsc": ifsc }))
        }
    }
}
