//! Disbursal and post-disbursal servicing: the loan view, foreclosure (→ CLOSED), pre-part
//! payment, missed-EMI payment and status refresh — each available only when the journey's
//! lender supports it (409 ACTION_NOT_SUPPORTED otherwise).

use actix_web::{web, HttpResponse};
use chrono::{Months, Utc};
use serde_json::{json, Value};

use crate::journeys::{self, set_status};
use crate::lenders;
use crate::reply::{body_object, Ctx, SbError, SbResult};
use crate::state::{new_id, Journey, Loan, State};
use crate::validate::positive_int;
use crate::webhooks::emit;
use crate::Sandbox;
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{
    error_code as code, journey_status as js, loan_status, next_action, post_disbursal as pd,
    step_status, step_type, webhook_trigger,
};

/// LENDER_PROCESSING → DISBURSED: the DISBURSAL step succeeds and the loan starts. No-op in any
/// other status.
pub fn disburse(st: &mut State, journey_id: &str) -> bool {
    let Some(j) = st.journeys.get(journey_id) else {
        return false;
    };
    if j.status != js::LENDER_PROCESSING {
        return false;
    }
    let Some(offer) = j
        .selected_offer_id
        .as_deref()
        .and_then(|id| st.offers.get(id))
    else {
        return false;
    };
    let (principal, emi, step_ids) = (offer.principal, offer.emi, offer.step_ids.clone());
    let now = Utc::now();
    for id in step_ids {
        if let Some(s) = st
            .steps
            .get_mut(&id)
            .filter(|s| s.kind == step_type::DISBURSAL)
        {
            s.status = step_status::SUCCESS;
            s.completed_at = Some(now);
        }
    }
    if let Some(j) = st.journeys.get_mut(journey_id) {
        j.disbursal_due = None;
        j.disbursal_since = None;
        j.loan = Some(Loan {
            loan_id: new_id(),
            principal,
            outstanding: principal,
            emi,
            emis_paid: 0,
            overdue_emis: 0,
            status: loan_status::ACTIVE,
            disbursed_at: now,
            last_refreshed_at: now,
            transactions: vec![
                json!({ "type": "DISBURSAL", "amount": principal, "at": format_timestamp(now) }),
            ],
        });
        set_status(j, js::DISBURSED, Some(next_action::VIEW_LOAN));
    }
    emit(st, journey_id, webhook_trigger::DISBURSED);
    true
}

fn view(st: &State, j: &Journey) -> SbResult {
    let loan = j.loan.as_ref().ok_or_else(|| {
        SbError::invalid_state(format!("no loan yet: the journey is {}", j.status))
    })?;
    let offer = j
        .selected_offer_id
        .as_deref()
        .and_then(|id| st.offers.get(id));
    let rate = offer.map_or(0.0, |o| o.lender.annual_rate_percent);
    let next_due = (loan.status == loan_status::ACTIVE).then(|| {
        let months = loan.emis_paid + loan.overdue_emis + 1;
        format_timestamp(loan.disbursed_at + Months::new(months))
    });
    Ok(json!({
        "journeyID": j.id,
        "loanID": loan.loan_id,
        "offerID": j.selected_offer_id,
        "lenderID": offer.map(|o| o.lender.id),
        "lenderName": offer.map(|o| o.lender.name),
        "status": loan.status,
        "journeyStatus": j.status,
        "principal": loan.principal,
        "outstandingPrincipal": loan.outstanding,
        "currency": "INR",
        "annualInterestRatePercent": rate,
        "tenureMonths": offer.map(|o| o.lender.tenure_months),
        "emi": loan.emi,
        "emisPaid": loan.emis_paid,
        "overdueEmis": loan.overdue_emis,
        "overdueAmount": loan.emi * u64::from(loan.overdue_emis),
        "nextDueDate": next_due,
        "disbursedAt": format_timestamp(loan.disbursed_at),
        "lastRefreshedAt": format_timestamp(loan.last_refreshed_at),
        "supportedActions": offer.map(|o| o.lender.actions),
        "transactions": loan.transactions,
    }))
}

/// Checks for a servicing action: owned journey, an active loan, a lender that supports it.
/// Returns (annual rate, outstanding).
fn precheck(st: &State, borrower: &str, journey_id: &str, action: &str) -> SbResult<(f64, u64)> {
    let j = journeys::owned(st, borrower, journey_id)?;
    let loan = j
        .loan
        .as_ref()
        .filter(|l| l.status == loan_status::ACTIVE)
        .ok_or_else(|| {
            SbError::invalid_state(format!("no active loan: the journey is {}", j.status))
        })?;
    let lender = j
        .selected_offer_id
        .as_deref()
        .and_then(|id| st.offers.get(id))
        .map(|o| o.lender)
        .ok_or_else(|| SbError::invalid_state("the loan has no lender"))?;
    if !lender.actions.contains(&action) {
        return Err(SbError::conflict(
            code::ACTION_NOT_SUPPORTED,
            format!("{} does not support {action}", lender.name),
        ));
    }
    Ok((lender.annual_rate_percent, loan.outstanding))
}

/// Apply a payment to the loan; closes loan and journey when nothing is left.
fn pay(st: &mut State, journey_id: &str, kind: &str, amount: u64, principal_part: u64) {
    let now = Utc::now();
    if let Some(j) = st.journeys.get_mut(journey_id) {
        let mut closed = false;
        if let Some(loan) = j.loan.as_mut() {
            loan.outstanding = loan.outstanding.saturating_sub(principal_part);
            loan.transactions
                .push(json!({ "type": kind, "amount": amount, "at": format_timestamp(now) }));
            if loan.outstanding == 0 {
                loan.status = loan_status::CLOSED;
                loan.overdue_emis = 0;
                closed = true;
            }
        }
        if closed {
            set_status(j, js::CLOSED, None);
        }
    }
    emit(st, journey_id, webhook_trigger::LOAN_UPDATED);
}

fn action(st: &mut State, ctx: &Ctx, journey_id: &str, name: &str, body: &[u8]) -> SbResult {
    let borrower = ctx.caller.require_borrower()?.to_owned();
    let v = body_object(body)?;
    let (rate, outstanding) = precheck(st, &borrower, journey_id, name)?;
    let mut extra = Value::Null;
    match name {
        n if n == pd::FORECLOSURE => {
            let interest = lenders::monthly_interest(outstanding, rate);
            let charge = outstanding * 2 / 100;
            let amount = outstanding + interest + charge;
            extra = json!({ "foreclosureAmount": amount, "accruedInterest": interest, "foreclosureCharge": charge });
            pay(st, journey_id, pd::FORECLOSURE, amount, outstanding);
        }
        n if n == pd::PRE_PART_PAYMENT => {
            let amount = match v.get("amount") {
                None | Some(Value::Null) => {
                    return Err(SbError::invalid_field("amount", "amount is required"))
                }
                Some(a) => positive_int(a).filter(|_| a.is_number()).ok_or_else(|| {
                    SbError::invalid_field(
                        "amount",
                        "amount must be a positive whole number of rupees",
                    )
                })?,
            };
            if amount > outstanding {
                return Err(SbError::invalid_field(
                    "amount",
                    format!("amount must not exceed the outstanding principal ({outstanding})"),
                ));
            }
            pay(st, journey_id, pd::PRE_PART_PAYMENT, amount, amount);
        }
        n if n == pd::MISSED_EMI_PAYMENT => {
            let j = journeys::owned(st, &borrower, journey_id)?;
            let (overdue, emi) = j.loan.as_ref().map_or((0, 0), |l| (l.overdue_emis, l.emi));
            if overdue == 0 {
                return Err(SbError::invalid_state(
                    "there is no overdue instalment to pay",
                ));
            }
            let principal_part = emi.saturating_sub(lenders::monthly_interest(outstanding, rate));
            if let Some(loan) = st
                .journeys
                .get_mut(journey_id)
                .and_then(|j| j.loan.as_mut())
            {
                loan.overdue_emis -= 1;
                loan.emis_paid += 1;
            }
            pay(st, journey_id, pd::MISSED_EMI_PAYMENT, emi, principal_part);
        }
        _ => {
            if let Some(loan) = st
                .journeys
                .get_mut(journey_id)
                .and_then(|j| j.loan.as_mut())
            {
                loan.last_refreshed_at = Utc::now();
            }
        }
    }
    let j = journeys::owned(st, &borrower, journey_id)?;
    let mut out = json!({ "action": name, "journeyID": journey_id, "status": j.status, "loan": view(st, j)? });
    if !extra.is_null() {
        out["result"] = extra;
    }
    Ok(out)
}

/// Test control: the next instalment becomes overdue.
pub fn make_overdue(st: &mut State, journey_id: &str) -> SbResult {
    let j = st
        .journeys
        .get_mut(journey_id)
        .ok_or_else(|| SbError::not_found(format!("journey {journey_id} not found")))?;
    let loan = j
        .loan
        .as_mut()
        .filter(|l| l.status == loan_status::ACTIVE)
        .ok_or_else(|| SbError::invalid_state("the journey has no active loan"))?;
    loan.overdue_emis += 1;
    emit(st, journey_id, webhook_trigger::LOAN_UPDATED);
    let j = st
        .journeys
        .get(journey_id)
        .ok_or_else(|| SbError::not_found("journey vanished"))?;
    view(st, j)
}

type IdPath = web::Path<String>;

pub async fn get_handler(sb: web::Data<Sandbox>, ctx: Ctx, path: IdPath) -> HttpResponse {
    let st = sb.lock();
    let result = ctx
        .caller
        .require_borrower()
        .and_then(|b| journeys::owned(&st, b, &path))
        .and_then(|j| view(&st, j));
    ctx.respond(result)
}

async fn run(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
    name: &str,
) -> HttpResponse {
    let result = action(&mut sb.lock(), &ctx, &path, name, &body);
    ctx.respond(result)
}

pub async fn foreclosure(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    run(sb, ctx, path, body, pd::FORECLOSURE).await
}

pub async fn pre_part_payment(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    run(sb, ctx, path, body, pd::PRE_PART_PAYMENT).await
}

pub async fn missed_emi(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    run(sb, ctx, path, body, pd::MISSED_EMI_PAYMENT).await
}

pub async fn status_refresh(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: IdPath,
    body: web::Bytes,
) -> HttpResponse {
    run(sb, ctx, path, body, pd::STATUS_REFRESH).await
}
