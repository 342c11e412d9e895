//! The simulated lenders (all of this is sandbox choice): who offers what to a submitted
//! profile, which steps each needs after selection, who asks for Account Aggregator consent
//! before offering, and which post-disbursal actions each supports. Deterministic, so tests can
//! rely on them.

use serde_json::{Map, Value};

use aarthik_contract::{employment_type, post_disbursal as pd, step_type};

pub struct Lender {
    pub id: &'static str,
    pub name: &'static str,
    pub max_principal: u64,
    /// Offered principal = monthly income × this, capped at `max_principal`, floored to 1 000.
    pub income_multiple: u64,
    pub annual_rate_percent: f64,
    pub tenure_months: u32,
    /// Processing fee in basis points of the principal.
    pub fee_bps: u64,
    /// `Some(reason)`: this lender declines everyone.
    pub declines: Option<&'static str>,
    pub actions: &'static [&'static str],
    /// Step types that are `NOT_REQUIRED` from the start for this lender.
    pub not_required: &'static [&'static str],
    /// KYC is a form (`SUBMIT_FORM`) instead of a redirect.
    pub kyc_by_form: bool,
    /// Self-employed borrowers give Account Aggregator consent before this lender offers.
    pub aa_before_offer_for_self_employed: bool,
}

impl Lender {
    /// Whether this lender holds its offer back for Account Aggregator consent.
    pub fn gates_on_aa(&self, profile: &Map<String, Value>) -> bool {
        let employment = profile
            .get("workProfile")
            .and_then(|w| w.get("employmentType"))
            .and_then(Value::as_str);
        self.aa_before_offer_for_self_employed
            && self.declines.is_none()
            && employment == Some(employment_type::SELF_EMPLOYED)
    }
}

/// Smallest principal any lender offers.
pub const MIN_PRINCIPAL: u64 = 10_000;

/// Rupees lent per gram of gold jewellery (75 % of 6 000).
const GOLD_VALUE_PER_GRAM: f64 = 4_500.0;

/// A PAN starting with this makes every lender decline (every card `NO_OFFER_AVAILABLE`, the
/// journey `REJECTED`).
pub const NO_OFFER_PAN_PREFIX: &str = "ZZZZZ";

pub static LENDERS: [Lender; 4] = [
    Lender {
        id: "aarohan-finance",
        name: "Aarohan Finance",
        max_principal: 150_000,
        income_multiple: 5,
        annual_rate_percent: 16.5,
        tenure_months: 24,
        fee_bps: 100,
        declines: None,
        actions: &[
            pd::FORECLOSURE,
            pd::PRE_PART_PAYMENT,
            pd::MISSED_EMI_PAYMENT,
            pd::STATUS_REFRESH,
        ],
        not_required: &[],
        kyc_by_form: false,
        aa_before_offer_for_self_employed: false,
    },
    Lender {
        id: "bharat-credit-bank",
        name: "Bharat Credit Bank",
        max_principal: 300_000,
        income_multiple: 8,
        annual_rate_percent: 13.75,
        tenure_months: 36,
        fee_bps: 150,
        declines: None,
        actions: &[pd::FORECLOSURE, pd::STATUS_REFRESH],
        not_required: &[step_type::AA_CONSENT],
        kyc_by_form: false,
        aa_before_offer_for_self_employed: true,
    },
    Lender {
        id: "chandra-microcredit",
        name: "Chandra Microcredit",
        max_principal: 80_000,
        income_multiple: 3,
        annual_rate_percent: 21.0,
        tenure_months: 12,
        fee_bps: 200,
        declines: None,
        actions: &[
            pd::PRE_PART_PAYMENT,
            pd::MISSED_EMI_PAYMENT,
            pd::STATUS_REFRESH,
        ],
        not_required: &[step_type::AA_CONSENT, step_type::E_MANDATE],
        kyc_by_form: true,
        aa_before_offer_for_self_employed: false,
    },
    Lender {
        id: "dhruv-capital",
        name: "Dhruv Capital",
        max_principal: 500_000,
        income_multiple: 10,
        annual_rate_percent: 12.0,
        tenure_months: 48,
        fee_bps: 100,
        declines: Some("does not lend to this profile (credit policy)"),
        actions: &[pd::STATUS_REFRESH],
        not_required: &[],
        kyc_by_form: false,
        aa_before_offer_for_self_employed: false,
    },
];

/// Monthly income in rupees from a stored profile (`incomeType: annual` is divided by 12).
pub fn monthly_income(profile: &Map<String, Value>) -> u64 {
    let work = profile.get("workProfile");
    let income = work
        .and_then(|w| w.get("income"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let annual = work
        .and_then(|w| w.get("incomeType"))
        .and_then(Value::as_str)
        == Some("annual");
    if annual {
        income / 12
    } else {
        income
    }
}

/// The lender's answer: an offered principal or a decline reason.
pub fn evaluate(lender: &Lender, profile: &Map<String, Value>) -> Result<u64, String> {
    if let Some(reason) = lender.declines {
        return Err(reason.to_owned());
    }
    let pan = profile
        .get("profile")
        .and_then(|p| p.get("pan"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if pan.starts_with(NO_OFFER_PAN_PREFIX) {
        return Err("bureau check failed".to_owned());
    }
    let gold_grams = profile
        .get("goldLoan")
        .and_then(|g| g.get("jewelleryWeightGrams"))
        .and_then(Value::as_f64);
    let base = match gold_grams {
        // Gold: 75 % loan-to-value at a sandbox gold price of 6 000 INR per gram.
        Some(grams) => (grams * GOLD_VALUE_PER_GRAM) as u64,
        None => monthly_income(profile).saturating_mul(lender.income_multiple),
    };
    let principal = base.min(lender.max_principal) / 1_000 * 1_000;
    if principal < MIN_PRINCIPAL {
        return Err("income below the lender's minimum".to_owned());
    }
    Ok(principal)
}

/// Equated monthly instalment, rounded to whole rupees.
pub fn emi(principal: u64, annual_rate_percent: f64, months: u32) -> u64 {
    let p = principal as f64;
    let r = annual_rate_percent / 1200.0;
    let n = f64::from(months.max(1));
    let value = if r == 0.0 {
        p / n
    } else {
        p * r * (1.0 + r).powf(n) / ((1.0 + r).powf(n) - 1.0)
    };
    value.round() as u64
}

/// One month's interest on `outstanding`, rounded.
pub fn monthly_interest(outstanding: u64, annual_rate_percent: f64) -> u64 {
    (outstanding as f64 * annual_rate_percent / 1200.0).round() as u64
}
