//! Path templates of the upstream. `{name}` marks a segment; [`fill`] substitutes them.
//! Every path is built from [`HEADLESS_PREFIX`] or written out in full once, here.
//!
//! Vendor-documented: the prefix, `sessions`, `journeys`, `journeys/{journeyID}/state`, and the
//! short forms `journeys/{journeyID}`, `profile`, `profile/submit`, `offers/{offerID}/steps`
//! (expanded under the prefix). Every other path, and the journey-scoped aliases, is a sandbox
//! choice for a documented capability; clients keep them configurable.

/// Prefix of every headless path.
pub const HEADLESS_PREFIX: &str = "/api/v1/headless";
/// Create or resume a borrower session (`Bearer sk_*`).
pub const SESSIONS: &str = "/api/v1/headless/sessions";
/// Rotate the borrower's tokens. Sandbox choice: the vendor's refresh endpoint is undocumented;
/// the sandbox's takes `Bearer rt_*` and no body, and can be switched off (then it is 404).
pub const SESSIONS_REFRESH: &str = "/api/v1/headless/sessions/refresh";
/// List (GET) and create-or-resume (POST) journeys.
pub const JOURNEYS: &str = "/api/v1/headless/journeys";
/// Read one journey (the same body as its state).
pub const JOURNEY: &str = "/api/v1/headless/journeys/{journeyID}";
pub const JOURNEY_STATE: &str = "/api/v1/headless/journeys/{journeyID}/state";
pub const PROFILE: &str = "/api/v1/headless/profile";
pub const PROFILE_SUBMIT: &str = "/api/v1/headless/profile/submit";
pub const JOURNEY_PROFILE: &str = "/api/v1/headless/journeys/{journeyID}/profile";
pub const JOURNEY_PROFILE_SUBMIT: &str = "/api/v1/headless/journeys/{journeyID}/profile/submit";
pub const JOURNEY_OFFERS: &str = "/api/v1/headless/journeys/{journeyID}/offers";
/// Read one offer card (clients reload it after `OFFER_LOCK_CONFLICT`).
pub const OFFER: &str = "/api/v1/headless/offers/{offerID}";
pub const OFFER_PROCEED: &str = "/api/v1/headless/offers/{offerID}/proceed";
pub const OFFER_REJECT: &str = "/api/v1/headless/offers/{offerID}/reject";
pub const OFFER_STEPS: &str = "/api/v1/headless/offers/{offerID}/steps";
pub const JOURNEY_OFFER_STEPS: &str =
    "/api/v1/headless/journeys/{journeyID}/offers/{offerID}/steps";
pub const OFFER_STEP: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}";
pub const OFFER_STEP_SUBMIT: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}/submit";
/// The borrower is back from a redirect step's provider.
pub const OFFER_STEP_COMPLETE: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}/complete";
/// Ask the platform to re-check a step whose callback is overdue (`actionRequired: RECONCILE`).
pub const OFFER_STEP_RECONCILE: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}/reconcile";
pub const AA_SESSIONS: &str = "/api/v1/headless/journeys/{journeyID}/aa/sessions";
pub const AA_SESSION: &str = "/api/v1/headless/aa/sessions/{aaSessionID}";
pub const AA_SESSION_COMPLETE: &str = "/api/v1/headless/aa/sessions/{aaSessionID}/complete";
pub const AA_SESSION_RECONCILE: &str = "/api/v1/headless/aa/sessions/{aaSessionID}/reconcile";
pub const LOAN: &str = "/api/v1/headless/journeys/{journeyID}/loan";
pub const FORECLOSURE: &str = "/api/v1/headless/journeys/{journeyID}/post-disbursal/foreclosure";
pub const PRE_PART_PAYMENT: &str =
    "/api/v1/headless/journeys/{journeyID}/post-disbursal/pre-part-payment";
pub const MISSED_EMI: &str = "/api/v1/headless/journeys/{journeyID}/post-disbursal/missed-emi";
pub const STATUS_REFRESH: &str =
    "/api/v1/headless/journeys/{journeyID}/post-disbursal/status-refresh";
pub const WEBHOOK_CONFIGURATION: &str =
    "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/configuration";
pub const WEBHOOK_SUBSCRIBE: &str =
    "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/subscribe";
pub const WEBHOOK_UNSUBSCRIBE: &str =
    "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/unsubscribe";

/// Every template above: the route label of upstream calls in metrics and traces.
pub const TEMPLATES: &[&str] = &[
    SESSIONS,
    SESSIONS_REFRESH,
    JOURNEYS,
    JOURNEY,
    JOURNEY_STATE,
    PROFILE,
    PROFILE_SUBMIT,
    JOURNEY_PROFILE,
    JOURNEY_PROFILE_SUBMIT,
    JOURNEY_OFFERS,
    OFFER,
    OFFER_PROCEED,
    OFFER_REJECT,
    OFFER_STEPS,
    JOURNEY_OFFER_STEPS,
    OFFER_STEP,
    OFFER_STEP_SUBMIT,
    OFFER_STEP_COMPLETE,
    OFFER_STEP_RECONCILE,
    AA_SESSIONS,
    AA_SESSION,
    AA_SESSION_COMPLETE,
    AA_SESSION_RECONCILE,
    LOAN,
    FORECLOSURE,
    PRE_PART_PAYMENT,
    MISSED_EMI,
    STATUS_REFRESH,
    WEBHOOK_CONFIGURATION,
    WEBHOOK_SUBSCRIBE,
    WEBHOOK_UNSUBSCRIBE,
];

/// The label of a path no template matches.
pub const OTHER_ROUTE: &str = "other";

/// The template `path` (query ignored) was filled from, or [`OTHER_ROUTE`]: a literal segment
/// must be equal, a `{name}` segment matches any non-empty one. Allocates nothing.
pub fn template_of(path: &str) -> &'static str {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    TEMPLATES
        .iter()
        .copied()
        .find(|t| {
            let mut want = t.split('/');
            let mut got = path.split('/');
            loop {
                match (want.next(), got.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w.starts_with('{') => {
                        if g.is_empty() {
                            return false;
                        }
                    }
                    (Some(w), Some(g)) if w == g => {}
                    _ => return false,
                }
            }
        })
        .unwrap_or(OTHER_ROUTE)
}

/// Substitute `{name}` segments of a template. Values are percent-encoded as path segments.
pub fn fill(template: &str, params: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in params {
        let encoded: String =
            url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        out = out.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_labelled_by_its_template_and_anything_else_is_other() {
        for t in TEMPLATES {
            let filled = t
                .split('/')
                .map(|s| if s.starts_with('{') { "x-1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            assert_eq!(template_of(&filled), *t, "{filled}");
        }
        assert_eq!(
            template_of("/api/v1/headless/journeys/j-9/state?x=1"),
            JOURNEY_STATE
        );
        assert_eq!(template_of("/api/v1/headless/journeys"), JOURNEYS);
        for other in [
            "/api/v1/headless/journeys//state",
            "/api/v1/headless/nope",
            "/api/v1/headless/journeys/j/state/extra",
            "",
        ] {
            assert_eq!(template_of(other), OTHER_ROUTE, "{other}");
        }
    }

    #[test]
    fn fill_substitutes_and_encodes_segments() {
        assert_eq!(
            fill(JOURNEY_STATE, &[("journeyID", "abc")]),
            "/api/v1/headless/journeys/abc/state"
        );
        assert_eq!(
            fill(OFFER_STEP, &[("offerID", "o/1"), ("stepID", "s 2")]),
            "/api/v1/headless/offers/o%2F1/steps/s%202"
        );
    }
}
