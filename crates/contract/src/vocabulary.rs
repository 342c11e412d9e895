//! The upstream's vocabulary: enum values, event names and token prefixes (error codes live in
//! `errors`). Values the vendor has not published are marked "sandbox choice"; a correction is a
//! change here. Every enum is open: the vendor may add values, so the BFF passes an unknown value
//! through untouched and never fails on it.

/// Journey types (vendor values).
pub mod journey_type {
    pub const PERSONAL_LOAN: &str = "PERSONAL_LOAN";
    pub const GOLD_LOAN: &str = "GOLD_LOAN";
    pub const ALL: &[&str] = &[PERSONAL_LOAN, GOLD_LOAN];
}

/// Journey `status` (`JourneyLifecycleStatus`): the sixteen vendor values, in the vendor's order.
/// Not every journey passes through every status. Which status follows which is a sandbox choice:
/// statuses only move forward in this order; `AA_REQUIRED` … `LOAN_AGREEMENT_PENDING` are the
/// statuses of the open post-selection step (see [`crate::step_type::journey_status`]).
pub mod journey_status {
    pub const STARTED: &str = "STARTED";
    pub const PROFILE_REQUIRED: &str = "PROFILE_REQUIRED";
    pub const PROFILE_SUBMITTED: &str = "PROFILE_SUBMITTED";
    pub const OFFERS_PENDING: &str = "OFFERS_PENDING";
    pub const OFFERS_AVAILABLE: &str = "OFFERS_AVAILABLE";
    pub const OFFER_SELECTED: &str = "OFFER_SELECTED";
    pub const AA_REQUIRED: &str = "AA_REQUIRED";
    pub const KYC_PENDING: &str = "KYC_PENDING";
    pub const BANK_MANDATE_PENDING: &str = "BANK_MANDATE_PENDING";
    pub const E_MANDATE_PENDING: &str = "E_MANDATE_PENDING";
    pub const LOAN_AGREEMENT_PENDING: &str = "LOAN_AGREEMENT_PENDING";
    pub const LENDER_PROCESSING: &str = "LENDER_PROCESSING";
    pub const DISBURSED: &str = "DISBURSED";
    pub const REJECTED: &str = "REJECTED";
    pub const EXPIRED: &str = "EXPIRED";
    pub const CLOSED: &str = "CLOSED";
    /// Every known value, in the vendor's order.
    pub const ALL: &[&str] = &[
        STARTED,
        PROFILE_REQUIRED,
        PROFILE_SUBMITTED,
        OFFERS_PENDING,
        OFFERS_AVAILABLE,
        OFFER_SELECTED,
        AA_REQUIRED,
        KYC_PENDING,
        BANK_MANDATE_PENDING,
        E_MANDATE_PENDING,
        LOAN_AGREEMENT_PENDING,
        LENDER_PROCESSING,
        DISBURSED,
        REJECTED,
        EXPIRED,
        CLOSED,
    ];
    /// Statuses after which a journey can no longer move (sandbox choice; `DISBURSED` still moves
    /// to `CLOSED`).
    pub const TERMINAL: &[&str] = &[REJECTED, EXPIRED, CLOSED];
    /// Statuses in which the borrower may still edit and submit the profile (sandbox choice).
    pub const PROFILE_EDITABLE: &[&str] = &[STARTED, PROFILE_REQUIRED];
}

/// Journey `nextAction`. Only `VIEW_OFFERS` is a vendor value; the others are sandbox choices.
/// `null` means "nothing for the borrower to do; keep polling".
pub mod next_action {
    /// Sandbox choice: the profile must be completed and submitted.
    pub const COMPLETE_PROFILE: &str = "COMPLETE_PROFILE";
    /// Vendor value.
    pub const VIEW_OFFERS: &str = "VIEW_OFFERS";
    /// Sandbox choice: an Account Aggregator consent is waiting (before offers or after selection).
    pub const COMPLETE_AA: &str = "COMPLETE_AA";
    /// Sandbox choice: a post-selection step is waiting.
    pub const COMPLETE_STEP: &str = "COMPLETE_STEP";
    /// Sandbox choice: the loan is disbursed; post-disbursal actions are available.
    pub const VIEW_LOAN: &str = "VIEW_LOAN";
}

/// Offer card `status` (`OfferCardStatus`, vendor values). "No offer" is per card. Selection,
/// locking and rejection are flags on the card, not statuses.
pub mod offer_status {
    pub const OFFER_RECEIVED: &str = "OFFER_RECEIVED";
    pub const OFFER_AWAITED: &str = "OFFER_AWAITED";
    pub const NO_OFFER_AVAILABLE: &str = "NO_OFFER_AVAILABLE";
    pub const ALL: &[&str] = &[OFFER_RECEIVED, OFFER_AWAITED, NO_OFFER_AVAILABLE];
}

/// Step `status` (`StepStatus`, vendor values).
pub mod step_status {
    pub const PENDING: &str = "PENDING";
    pub const READY: &str = "READY";
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    pub const SUCCESS: &str = "SUCCESS";
    pub const FAILURE: &str = "FAILURE";
    pub const NOT_REQUIRED: &str = "NOT_REQUIRED";
    pub const ALL: &[&str] = &[PENDING, READY, IN_PROGRESS, SUCCESS, FAILURE, NOT_REQUIRED];
    /// A step in one of these no longer blocks the steps after it.
    pub const DONE: &[&str] = &[SUCCESS, NOT_REQUIRED];
}

/// Step `actionRequired` (`ActionRequired`, vendor values).
pub mod action_required {
    pub const NONE: &str = "NONE";
    pub const REDIRECT: &str = "REDIRECT";
    pub const SUBMIT_FORM: &str = "SUBMIT_FORM";
    pub const AWAIT_CALLBACK: &str = "AWAIT_CALLBACK";
    pub const RECONCILE: &str = "RECONCILE";
    pub const WAIT: &str = "WAIT";
    pub const ALL: &[&str] = &[NONE, REDIRECT, SUBMIT_FORM, AWAIT_CALLBACK, RECONCILE, WAIT];
}

/// Step `type`. Sandbox choice: the vendor names the step areas (KYC, bank mandate, e-mandate,
/// loan agreement, disbursal readiness, AA consent) but not their identifiers.
pub mod step_type {
    use crate::journey_status as js;

    pub const KFS_REVIEW: &str = "KFS_REVIEW";
    pub const AA_CONSENT: &str = "AA_CONSENT";
    pub const KYC: &str = "KYC";
    pub const BANK_MANDATE: &str = "BANK_MANDATE";
    pub const E_MANDATE: &str = "E_MANDATE";
    pub const LOAN_AGREEMENT: &str = "LOAN_AGREEMENT";
    pub const DISBURSAL: &str = "DISBURSAL";
    /// The order of the steps of a proceeded offer (sandbox choice, following the documented
    /// order of the journey statuses).
    pub const ORDER: &[&str] = &[
        KFS_REVIEW,
        AA_CONSENT,
        KYC,
        BANK_MANDATE,
        E_MANDATE,
        LOAN_AGREEMENT,
        DISBURSAL,
    ];

    /// The journey status while a step of this type is the open one (sandbox choice).
    pub fn journey_status(step_type: &str) -> Option<&'static str> {
        Some(match step_type {
            KFS_REVIEW => js::OFFER_SELECTED,
            AA_CONSENT => js::AA_REQUIRED,
            KYC => js::KYC_PENDING,
            BANK_MANDATE => js::BANK_MANDATE_PENDING,
            E_MANDATE => js::E_MANDATE_PENDING,
            LOAN_AGREEMENT => js::LOAN_AGREEMENT_PENDING,
            DISBURSAL => js::LENDER_PROCESSING,
            _ => return None,
        })
    }
}

/// `resource.kind` of a step (sandbox choice; the vendor names `resource` but not its shape).
pub mod resource_kind {
    pub const REDIRECT: &str = "REDIRECT";
    pub const FORM: &str = "FORM";
    pub const WAIT: &str = "WAIT";
}

/// Account Aggregator session state (`AASessionState`) of an AA session and of an offer's `aa`
/// object. The vendor list is cut off after `USER_RETURNED` and one value starting `APPROVAL…`;
/// clients may rely only on the first four.
pub mod aa_state {
    /// Vendor value: AA is needed; the redirect URL is being prepared.
    pub const REQUIRED: &str = "REQUIRED";
    /// Vendor value: `redirectURL` and `expiresAt` are set.
    pub const REDIRECT_READY: &str = "REDIRECT_READY";
    /// Vendor value: the borrower is at the Account Aggregator.
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    /// Vendor value: the borrower has come back.
    pub const USER_RETURNED: &str = "USER_RETURNED";
    /// Sandbox choice standing in for the cut-off `APPROVAL…` value: waiting for the consent
    /// result.
    pub const APPROVAL_PENDING: &str = "APPROVAL_PENDING";
    /// Sandbox choice (terminal).
    pub const APPROVED: &str = "APPROVED";
    /// Sandbox choice (terminal).
    pub const REJECTED: &str = "REJECTED";
    /// Sandbox choice (terminal).
    pub const FAILED: &str = "FAILED";
    /// Sandbox choice (terminal).
    pub const EXPIRED: &str = "EXPIRED";
    /// The vendor's values.
    pub const DOCUMENTED: &[&str] = &[REQUIRED, REDIRECT_READY, IN_PROGRESS, USER_RETURNED];
    /// States in which the borrower still has to act (the journey's `nextAction` is `COMPLETE_AA`).
    pub const AWAITING_BORROWER: &[&str] = &[REQUIRED, REDIRECT_READY];
}

/// `pendingOperations[].type` in the journey state (sandbox choice: the vendor names
/// `pendingOperations` but not its shape, which is `[{type, offerID?, since}]`).
pub mod pending_operation {
    /// A lender has not answered yet.
    pub const LENDER_DISPATCH: &str = "LENDER_DISPATCH";
    /// An Account Aggregator consent is outstanding.
    pub const AA_CONSENT: &str = "AA_CONSENT";
    /// A redirect step waits for the provider's callback.
    pub const STEP_CALLBACK: &str = "STEP_CALLBACK";
    /// The lender is releasing the funds.
    pub const DISBURSAL: &str = "DISBURSAL";
}

/// `diagnostics.messages[].code` of a journey or step (sandbox choice: the vendor names
/// `diagnostics` but not its shape, which is `{messages: [{code, message}]}` or `null`).
pub mod diagnostic_code {
    /// A lender answered `NO_OFFER_AVAILABLE`; the message says why.
    pub const LENDER_DECLINED: &str = "LENDER_DECLINED";
    /// Every card ended `NO_OFFER_AVAILABLE`: the journey is `REJECTED`.
    pub const ALL_LENDERS_DECLINED: &str = "ALL_LENDERS_DECLINED";
    /// The borrower rejected every card that was left: the journey is `REJECTED`.
    pub const ALL_OFFERS_REJECTED: &str = "ALL_OFFERS_REJECTED";
    /// One attempt at a step failed; the step is `READY` again.
    pub const STEP_ATTEMPT_FAILED: &str = "STEP_ATTEMPT_FAILED";
    /// A step failed too often and ended `FAILURE`.
    pub const STEP_FAILED: &str = "STEP_FAILED";
    /// A redirect step's callback is overdue: call reconcile.
    pub const CALLBACK_OVERDUE: &str = "CALLBACK_OVERDUE";
}

/// Webhook event vocabulary (vendor values).
pub mod webhook {
    pub const EVENT_TYPE_SNAPSHOT: &str = "journey.snapshot";
    /// A test delivery sent by `aarthik-bff doctor --webhook`: acknowledged, never stored.
    pub const EVENT_TYPE_DOCTOR_PING: &str = "bff.doctor.ping";
    pub const SCHEMA_VERSION: &str = "1.0.0";
    pub const ISSUER_SOURCE: &str = "credit-api";
    pub const EVENT_ID_PREFIX: &str = "evt_";
}

/// `issuer.trigger` of `journey.snapshot`. Only `journey.offer.updated` is a vendor value; the
/// others are sandbox choices. Clients never branch on it.
pub mod webhook_trigger {
    pub const JOURNEY_CREATED: &str = "journey.created";
    pub const STATUS_UPDATED: &str = "journey.status.updated";
    pub const PROFILE_UPDATED: &str = "journey.profile.updated";
    pub const PROFILE_SUBMITTED: &str = "journey.profile.submitted";
    pub const OFFER_UPDATED: &str = "journey.offer.updated";
    pub const AA_UPDATED: &str = "journey.aa.updated";
    pub const STEP_UPDATED: &str = "journey.step.updated";
    pub const DISBURSED: &str = "journey.disbursed";
    pub const LOAN_UPDATED: &str = "journey.loan.updated";
}

/// Post-disbursal actions. The capabilities are vendor-documented; these names are sandbox
/// choices, and availability depends on the lender.
pub mod post_disbursal {
    pub const FORECLOSURE: &str = "FORECLOSURE";
    pub const PRE_PART_PAYMENT: &str = "PRE_PART_PAYMENT";
    pub const MISSED_EMI_PAYMENT: &str = "MISSED_EMI_PAYMENT";
    pub const STATUS_REFRESH: &str = "STATUS_REFRESH";
}

/// Loan `status` in the post-disbursal loan view (sandbox choice).
pub mod loan_status {
    pub const ACTIVE: &str = "ACTIVE";
    pub const CLOSED: &str = "CLOSED";
}

/// Credential prefixes (vendor values). `sk_*` is for session bootstrap (and the platform's
/// webhook subscription API) only; `st_*` and `rt_*` are borrower-runtime credentials.
pub mod token_prefix {
    pub const API_KEY: &str = "sk_";
    pub const SESSION: &str = "st_";
    pub const REFRESH: &str = "rt_";
}

/// Profile sections accepted by session bootstrap prefill and profile upsert. The session
/// `profile` fields are vendor-documented; the other section and field names are sandbox choices
/// borrowed from the vendor's hosted prefill model (`bankingInformation` is invented).
pub mod profile_section {
    pub const PROFILE: &str = "profile";
    pub const WORK_PROFILE: &str = "workProfile";
    pub const ADDRESS: &str = "address";
    pub const JOURNEY: &str = "journey";
    pub const GOLD_LOAN: &str = "goldLoan";
    pub const BANKING_INFORMATION: &str = "bankingInformation";
    pub const ALL: &[&str] = &[
        PROFILE,
        WORK_PROFILE,
        ADDRESS,
        JOURNEY,
        GOLD_LOAN,
        BANKING_INFORMATION,
    ];
}

/// Canonical `profile.gender` values. The vendor lists them "such as", so the list is open.
pub mod gender {
    pub const MALE: &str = "male";
    pub const FEMALE: &str = "female";
    pub const TRANSGENDER: &str = "transgender";
    pub const ALL: &[&str] = &[MALE, FEMALE, TRANSGENDER];
}

/// Canonical `workProfile.employmentType` values. The vendor lists them "such as", so the list is
/// open.
pub mod employment_type {
    pub const SALARIED: &str = "salaried";
    pub const SELF_EMPLOYED: &str = "selfEmployed";
    pub const ALL: &[&str] = &[SALARIED, SELF_EMPLOYED];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixteen_documented_journey_statuses_and_no_guessed_ones() {
        assert_eq!(journey_status::ALL.len(), 16);
        for gone in [
            "PROFILE_PENDING",
            "NO_OFFERS",
            "STEPS_IN_PROGRESS",
            "DISBURSAL_PENDING",
        ] {
            assert!(!journey_status::ALL.contains(&gone), "{gone}");
        }
    }

    #[test]
    fn every_step_but_the_last_opens_a_distinct_journey_status_in_forward_order() {
        let positions: Vec<usize> = step_type::ORDER
            .iter()
            .map(|t| {
                let s = step_type::journey_status(t).unwrap();
                journey_status::ALL.iter().position(|x| *x == s).unwrap()
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }

    #[test]
    fn token_prefixes_are_the_documented_ones() {
        assert_eq!(
            (token_prefix::SESSION, token_prefix::REFRESH),
            ("st_", "rt_")
        );
    }
}
