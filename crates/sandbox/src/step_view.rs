//! How a step looks to the client: `actionRequired` (from its status, its type and, for redirect
//! steps, how long the callback has been due), the `resource` (redirect URL, form fields, key
//! fact statement, wait hint), `diagnostics`, and validation of form submissions.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};

use crate::aa;
use crate::control_paths as sandbox_controls;
use crate::lenders::Lender;
use crate::reply::{SbError, SbResult};
use crate::state::{Diagnostic, State, Step};
use crate::validate::ifsc_ok;
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{
    action_required as ar, diagnostic_code as dc, paths, resource_kind, step_status as ss,
    step_type as st_,
};

/// How long a redirect URL is advertised as valid.
const REDIRECT_VALIDITY_MINUTES: i64 = 30;

/// What a `READY` step of this type asks of the borrower.
pub fn ready_action(kind: &str, lender: &Lender) -> &'static str {
    match kind {
        st_::AA_CONSENT | st_::E_MANDATE | st_::LOAN_AGREEMENT => ar::REDIRECT,
        st_::KYC if !lender.kyc_by_form => ar::REDIRECT,
        st_::DISBURSAL => ar::WAIT,
        _ => ar::SUBMIT_FORM,
    }
}

/// Whether the borrower's return from the provider is overdue (the client should reconcile).
fn overdue(st: &State, s: &Step) -> bool {
    let after = StdDuration::from_millis(st.settings.reconcile_after_ms);
    s.awaiting_since
        .is_some_and(|(at, _)| at.elapsed() >= after)
}

pub fn action(st: &State, s: &Step, lender: &Lender) -> &'static str {
    match s.status {
        ss::READY => ready_action(s.kind, lender),
        ss::IN_PROGRESS if s.kind == st_::DISBURSAL => ar::WAIT,
        ss::IN_PROGRESS if overdue(st, s) => ar::RECONCILE,
        ss::IN_PROGRESS => ar::AWAIT_CALLBACK,
        _ => ar::NONE,
    }
}

fn form_fields(kind: &str, banking: Option<&Map<String, Value>>) -> Value {
    match kind {
        st_::KFS_REVIEW => json!([{ "name": "accepted", "type": "boolean", "required": true }]),
        st_::KYC => json!([
            { "name": "aadhaarLast4", "type": "string", "required": true, "pattern": "^[0-9]{4}$" },
            { "name": "consent", "type": "boolean", "required": true }
        ]),
        _ => {
            // Banking information from the profile prefills the bank mandate form.
            let mut fields = json!([
                { "name": "accountNumber", "type": "string", "required": true, "pattern": "^[0-9]{9,18}$" },
                { "name": "ifsc", "type": "string", "required": true, "pattern": "^[A-Z]{4}0[A-Z0-9]{6}$" },
                { "name": "accountHolderName", "type": "string", "required": true }
            ]);
            if let (Some(banking), Some(list)) = (banking, fields.as_array_mut()) {
                for f in list {
                    if let Some(v) = f["name"].as_str().and_then(|n| banking.get(n)).cloned() {
                        f["value"] = v;
                    }
                }
            }
            fields
        }
    }
}

/// The borrower's stored `bankingInformation`, if any.
pub fn banking(st: &State, journey_id: &str) -> Option<Map<String, Value>> {
    let j = st.journeys.get(journey_id)?;
    st.borrowers
        .get(&j.borrower_id)?
        .profile
        .get("bankingInformation")?
        .as_object()
        .cloned()
}

pub fn view(st: &State, s: &Step, base_url: &str) -> Value {
    let offer = st.offers.get(&s.offer_id);
    let action = offer.map_or(ar::NONE, |o| action(st, s, o.lender));
    let return_url = st
        .journeys
        .get(&s.journey_id)
        .and_then(|j| j.metadata.get("returnURL"))
        .cloned()
        .unwrap_or(Value::Null);
    let expires = || format_timestamp(Utc::now() + Duration::minutes(REDIRECT_VALIDITY_MINUTES));
    let resource = match action {
        ar::REDIRECT if s.kind == st_::AA_CONSENT => {
            let session = offer
                .and_then(|o| o.aa_session_id.clone())
                .unwrap_or_default();
            json!({
                "kind": resource_kind::REDIRECT,
                "url": aa::redirect_url(base_url, &session),
                "returnURL": return_url,
                "expiresAt": expires(),
                "aaSessionID": session,
            })
        }
        ar::REDIRECT => json!({
            "kind": resource_kind::REDIRECT,
            "url": format!("{base_url}{}", paths::fill(sandbox_controls::PAGE_STEP, &[("stepID", &s.id)])),
            "returnURL": return_url,
            "expiresAt": expires(),
        }),
        ar::SUBMIT_FORM => {
            let mut r = json!({
                "kind": resource_kind::FORM,
                "fields": form_fields(s.kind, banking(st, &s.journey_id).as_ref()),
                "submitURL": paths::fill(paths::OFFER_STEP_SUBMIT, &[("offerID", &s.offer_id), ("stepID", &s.id)]),
            });
            if s.kind == st_::KFS_REVIEW {
                r["keyFactStatement"] = kfs(st, &s.offer_id);
            }
            r
        }
        ar::WAIT => json!({ "kind": resource_kind::WAIT, "pollAfterMs": 2000 }),
        _ => Value::Null,
    };
    let mut messages = s.messages.clone();
    if action == ar::RECONCILE {
        messages.push(Diagnostic {
            code: dc::CALLBACK_OVERDUE,
            message: "the provider's callback is overdue; call reconcile".into(),
        });
    }
    let diagnostics = if messages.is_empty() {
        Value::Null
    } else {
        json!({ "messages": messages })
    };
    json!({
        "stepID": s.id,
        "offerID": s.offer_id,
        "journeyID": s.journey_id,
        "type": s.kind,
        "status": s.status,
        "actionRequired": action,
        "resource": resource,
        "diagnostics": diagnostics,
        "attempts": s.attempts,
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

/// Validate a form step's `fields` (bank mandate fields missing from them come from the stored
/// banking information); returns the non-sensitive summary kept on the step.
pub fn check_form(kind: &str, v: &Value, banking: Option<&Map<String, Value>>) -> SbResult<Value> {
    let s = |f: &str| {
        v.get(f)
            .or_else(|| banking.and_then(|b| b.get(f)))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let yes = |f: &str| v.get(f).and_then(Value::as_bool) == Some(true);
    let bad = |f: &str, m: &str| SbError::invalid_field(&format!("fields.{f}"), m);
    match kind {
        st_::KFS_REVIEW if yes("accepted") => Ok(json!({ "accepted": true })),
        st_::KFS_REVIEW => Err(bad(
            "accepted",
            "accepted must be true to accept the key fact statement",
        )),
        st_::KYC => {
            let last4 = s("aadhaarLast4");
            if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("aadhaarLast4", "aadhaarLast4 must be 4 digits"));
            }
            if !yes("consent") {
                return Err(bad("consent", "consent must be true"));
            }
            Ok(json!({ "verified": true }))
        }
        _ => {
            let account = s("accountNumber");
            let ifsc = s("ifsc");
            if !(9..=18).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("accountNumber", "accountNumber must be 9 to 18 digits"));
            }
            if !ifsc_ok(&ifsc) {
                return Err(bad("ifsc", "ifsc must look like HDFC0001234"));
            }
            if s("accountHolderName").is_empty() {
                return Err(bad("accountHolderName", "accountHolderName is required"));
            }
            let masked = format!("XXXX{}", &account[account.len() - 4..]);
            Ok(json!({ "accountNumberMasked": masked, "ifsc": ifsc }))
        }
    }
}
