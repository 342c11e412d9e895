//! The upstream's headless operations as seen through `/v1/headless/*`: one row per known
//! operation (the upstream's path under the prefix, method, id, summary, request and answer
//! schemas) and the upstream's journey, profile, offer, step, AA and loan schemas. Every enum is
//! open (a string with the known values as examples, from `aarthik_contract`): the upstream may
//! add values, and this service passes unknown ones through. Everything but the documented
//! fields is the sandbox's choice (see docs/sandbox.md); unknown fields may appear.

use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use aarthik_contract::{
    aa_state, action_required, journey_status, journey_type, next_action, offer_status,
    step_status, step_type,
};

/// An open enum: a string, with the known values as examples.
fn open_enum(description: &str, known: &[&str]) -> RefOr<Schema> {
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "{description} An open set: handle unknown values (known: {}).",
                known.join(", ")
            )))
            .examples(known.iter().map(|v| Value::from(*v)))
            .build(),
    ))
}

macro_rules! open_enums {
    ($($name:ident: $description:literal => $known:expr;)*) => {$(
        #[doc = $description]
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                open_enum($description, $known)
            }
        }
        impl ToSchema for $name {}
    )*};
}

open_enums! {
    JourneyType: "The journey's product." => journey_type::ALL;
    JourneyStatus: "The journey's lifecycle status (`JourneyLifecycleStatus`)." => journey_status::ALL;
    NextAction: "What the borrower does next; `null`: nothing, keep polling." => &[
        next_action::COMPLETE_PROFILE,
        next_action::VIEW_OFFERS,
        next_action::COMPLETE_AA,
        next_action::COMPLETE_STEP,
        next_action::VIEW_LOAN,
    ];
    OfferStatus: "An offer card's status (`OfferCardStatus`)." => offer_status::ALL;
    StepStatus: "A step's status (`StepStatus`)." => step_status::ALL;
    ActionRequired: "What a step needs from the app (`ActionRequired`)." => action_required::ALL;
    StepType: "A post-selection step." => step_type::ORDER;
    AaState: "An Account Aggregator session's state (`AASessionState`)." => &[
        aa_state::REQUIRED,
        aa_state::REDIRECT_READY,
        aa_state::IN_PROGRESS,
        aa_state::USER_RETURNED,
        aa_state::APPROVAL_PENDING,
        aa_state::APPROVED,
        aa_state::REJECTED,
        aa_state::FAILED,
        aa_state::EXPIRED,
    ];
}

/// `{code, message}` notes of a journey or step.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Diagnostics {
    messages: Vec<DiagnosticMessage>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DiagnosticMessage {
    #[schema(examples("LENDER_DECLINED", "STEP_ATTEMPT_FAILED", "CALLBACK_OVERDUE"))]
    code: String,
    message: String,
}

/// Something the platform is still waiting for.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PendingOperation {
    #[schema(examples("LENDER_DISPATCH", "AA_CONSENT", "STEP_CALLBACK", "DISBURSAL"))]
    r#type: String,
    #[schema(rename = "offerID")]
    offer_id: Option<String>,
    since: Option<String>,
}

/// A journey (its state): the answer of create, read, state, profile submit and proceed.
#[derive(ToSchema)]
#[schema(as = UpstreamJourney)]
#[allow(dead_code)]
pub struct Journey {
    #[schema(rename = "journeyID")]
    journey_id: String,
    r#type: Option<JourneyType>,
    status: JourneyStatus,
    #[schema(rename = "nextAction")]
    next_action: Option<NextAction>,
    #[schema(rename = "selectedOfferID")]
    selected_offer_id: Option<String>,
    #[schema(rename = "pendingOperations")]
    pending_operations: Option<Vec<PendingOperation>>,
    diagnostics: Option<Diagnostics>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    #[schema(rename = "createdAt")]
    created_at: Option<String>,
    #[schema(rename = "updatedAt")]
    updated_at: Option<String>,
}

/// `GET /journeys`: the borrower's journeys.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JourneyList {
    journeys: Vec<Journey>,
}

/// `POST /journeys` body.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CreateJourney {
    r#type: JourneyType,
    /// Free-form, e.g. `{"source": "web_app", "returnURL": "…"}`.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
}

/// The borrower's profile: the sections (`profile`, `workProfile`, `address`, `journey`,
/// `goldLoan`, `bankingInformation`) as stored, and whether it may be submitted. `profile`
/// carries `contactNumber` (required to submit), `pan`, `panName`, `personalemail`, `dob`,
/// `gender` (open: `male`, `female`, `transgender`); `workProfile.employmentType` is open
/// (`salaried`, `selfEmployed`).
#[derive(ToSchema)]
#[schema(as = UpstreamProfile)]
#[allow(dead_code)]
pub struct Profile {
    #[schema(value_type = Option<Object>)]
    profile: Option<Value>,
    #[schema(rename = "workProfile", value_type = Option<Object>)]
    work_profile: Option<Value>,
    #[schema(value_type = Option<Object>)]
    address: Option<Value>,
    #[schema(rename = "borrowerID")]
    borrower_id: Option<String>,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    complete: Option<bool>,
    #[schema(rename = "missingFields")]
    missing_fields: Option<Vec<String>>,
}

/// `PUT /profile` body: the sections to upsert (400 `VALIDATION_FAILED` with `details.field`,
/// e.g. `profile.contactNumber`, on a bad value).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProfileUpsert {
    #[schema(value_type = Option<Object>)]
    profile: Option<Value>,
    #[schema(rename = "workProfile", value_type = Option<Object>)]
    work_profile: Option<Value>,
    #[schema(value_type = Option<Object>)]
    address: Option<Value>,
    #[schema(value_type = Option<Object>)]
    journey: Option<Value>,
    #[schema(rename = "goldLoan", value_type = Option<Object>)]
    gold_loan: Option<Value>,
    #[schema(rename = "bankingInformation", value_type = Option<Object>)]
    banking_information: Option<Value>,
}

/// An offer's Account Aggregator consent.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OfferAa {
    state: AaState,
    #[schema(rename = "aaSessionID")]
    aa_session_id: Option<String>,
}

/// One lender's offer card. Terms are present when `status` is `OFFER_RECEIVED`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Offer {
    #[schema(rename = "offerID")]
    offer_id: String,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    #[schema(rename = "lenderID")]
    lender_id: Option<String>,
    #[schema(rename = "lenderName")]
    lender_name: Option<String>,
    status: OfferStatus,
    locked: Option<bool>,
    rejected: Option<bool>,
    selected: Option<bool>,
    aa: Option<OfferAa>,
    #[schema(rename = "postDisbursalActions")]
    post_disbursal_actions: Option<Vec<String>>,
    principal: Option<f64>,
    currency: Option<String>,
    #[schema(rename = "annualInterestRatePercent")]
    annual_interest_rate_percent: Option<f64>,
    #[schema(rename = "tenureMonths")]
    tenure_months: Option<u32>,
    #[schema(rename = "processingFee")]
    processing_fee: Option<f64>,
    emi: Option<f64>,
    #[schema(rename = "expiresAt")]
    expires_at: Option<String>,
}

/// A journey's offers.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OfferList {
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    status: Option<JourneyStatus>,
    offers: Vec<Offer>,
}

/// What a step needs: `kind` `REDIRECT` (`url`, `returnURL`, `expiresAt`), `FORM` (`fields`,
/// `submitURL`) or `WAIT` (`pollAfterMs`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StepResource {
    #[schema(examples("REDIRECT", "FORM", "WAIT"))]
    kind: String,
    url: Option<String>,
    #[schema(rename = "returnURL")]
    return_url: Option<String>,
    #[schema(rename = "expiresAt")]
    expires_at: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    fields: Option<Value>,
    #[schema(rename = "submitURL")]
    submit_url: Option<String>,
    #[schema(rename = "pollAfterMs")]
    poll_after_ms: Option<u64>,
}

/// One step of a proceeded offer (KYC, bank mandate, e-mandate, loan agreement, disbursal, …).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Step {
    #[schema(rename = "stepID")]
    step_id: String,
    #[schema(rename = "offerID")]
    offer_id: Option<String>,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    r#type: StepType,
    status: StepStatus,
    #[schema(rename = "actionRequired")]
    action_required: ActionRequired,
    resource: Option<StepResource>,
    diagnostics: Option<Diagnostics>,
    attempts: Option<u32>,
    #[schema(rename = "completedAt")]
    completed_at: Option<String>,
    #[schema(value_type = Option<Object>)]
    result: Option<Value>,
}

/// An offer's steps, in order.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StepList {
    #[schema(rename = "offerID")]
    offer_id: Option<String>,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    steps: Vec<Step>,
}

/// An Account Aggregator consent session.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AaSession {
    #[schema(rename = "aaSessionID")]
    aa_session_id: String,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    #[schema(rename = "offerID")]
    offer_id: Option<String>,
    state: AaState,
    /// Set while the borrower can be sent to the Account Aggregator.
    #[schema(rename = "redirectURL")]
    redirect_url: Option<String>,
    #[schema(rename = "expiresAt")]
    expires_at: Option<String>,
    #[schema(rename = "createdAt")]
    created_at: Option<String>,
}

/// The disbursed loan (post-disbursal view).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Loan {
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    #[schema(rename = "loanID")]
    loan_id: Option<String>,
    #[schema(examples("ACTIVE", "CLOSED"))]
    status: Option<String>,
    principal: Option<f64>,
    #[schema(rename = "outstandingPrincipal")]
    outstanding_principal: Option<f64>,
    currency: Option<String>,
    emi: Option<f64>,
    #[schema(rename = "nextDueDate")]
    next_due_date: Option<String>,
    #[schema(rename = "supportedActions")]
    supported_actions: Option<Vec<String>>,
}

/// A post-disbursal action's answer.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LoanAction {
    #[schema(examples(
        "FORECLOSURE",
        "PRE_PART_PAYMENT",
        "MISSED_EMI_PAYMENT",
        "STATUS_REFRESH"
    ))]
    action: Option<String>,
    #[schema(rename = "journeyID")]
    journey_id: Option<String>,
    status: Option<JourneyStatus>,
    loan: Option<Loan>,
}

/// The schemas above, for the document's components.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    JourneyType,
    JourneyStatus,
    NextAction,
    OfferStatus,
    StepStatus,
    ActionRequired,
    StepType,
    AaState,
    Diagnostics,
    DiagnosticMessage,
    PendingOperation,
    Journey,
    JourneyList,
    CreateJourney,
    Profile,
    ProfileUpsert,
    OfferAa,
    Offer,
    OfferList,
    StepResource,
    Step,
    StepList,
    AaSession,
    Loan,
    LoanAction
)))]
pub struct Schemas;

/// One known upstream operation: method, path under `/v1/headless`, operationId, summary,
/// request body schema, answer `data` schema.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
);

/// The upstream's operations (paths from `aarthik_contract::paths`, under the prefix).
pub const OPERATIONS: &[Row] = &[
    (
        "get",
        "/journeys",
        "listJourneys",
        "The borrower's journeys",
        None,
        "JourneyList",
    ),
    (
        "post",
        "/journeys",
        "createJourney",
        "Create (or resume) a journey",
        Some("CreateJourney"),
        "UpstreamJourney",
    ),
    (
        "get",
        "/journeys/{journeyID}",
        "getJourney",
        "One journey",
        None,
        "UpstreamJourney",
    ),
    (
        "get",
        "/journeys/{journeyID}/state",
        "getJourneyState",
        "A journey's state: status, nextAction, pendingOperations",
        None,
        "UpstreamJourney",
    ),
    (
        "get",
        "/profile",
        "getProfile",
        "The borrower's profile (of the active journey)",
        None,
        "UpstreamProfile",
    ),
    (
        "put",
        "/profile",
        "upsertProfile",
        "Upsert profile sections",
        Some("ProfileUpsert"),
        "UpstreamProfile",
    ),
    (
        "post",
        "/profile/submit",
        "submitProfile",
        "Submit the profile: lenders are asked for offers",
        None,
        "UpstreamJourney",
    ),
    (
        "get",
        "/journeys/{journeyID}/profile",
        "getJourneyProfile",
        "The profile of one journey",
        None,
        "UpstreamProfile",
    ),
    (
        "put",
        "/journeys/{journeyID}/profile",
        "upsertJourneyProfile",
        "Upsert the profile of one journey",
        Some("ProfileUpsert"),
        "UpstreamProfile",
    ),
    (
        "post",
        "/journeys/{journeyID}/profile/submit",
        "submitJourneyProfile",
        "Submit the profile of one journey",
        None,
        "UpstreamJourney",
    ),
    (
        "get",
        "/journeys/{journeyID}/offers",
        "listOffers",
        "A journey's offer cards",
        None,
        "OfferList",
    ),
    (
        "get",
        "/offers/{offerID}",
        "getOffer",
        "One offer card (reload it after OFFER_LOCK_CONFLICT)",
        None,
        "Offer",
    ),
    (
        "post",
        "/offers/{offerID}/proceed",
        "proceedOffer",
        "Proceed with an offer (409 OFFER_LOCK_CONFLICT when another was proceeded)",
        None,
        "UpstreamJourney",
    ),
    (
        "post",
        "/offers/{offerID}/reject",
        "rejectOffer",
        "Reject an offer",
        None,
        "Offer",
    ),
    (
        "get",
        "/offers/{offerID}/steps",
        "listSteps",
        "An offer's steps",
        None,
        "StepList",
    ),
    (
        "get",
        "/journeys/{journeyID}/offers/{offerID}/steps",
        "listJourneyOfferSteps",
        "An offer's steps, journey-scoped",
        None,
        "StepList",
    ),
    (
        "get",
        "/offers/{offerID}/steps/{stepID}",
        "getStep",
        "One step",
        None,
        "Step",
    ),
    (
        "post",
        "/offers/{offerID}/steps/{stepID}/submit",
        "submitStep",
        "Submit a FORM step",
        None,
        "Step",
    ),
    (
        "post",
        "/offers/{offerID}/steps/{stepID}/complete",
        "completeStep",
        "The borrower is back from a REDIRECT step",
        None,
        "Step",
    ),
    (
        "post",
        "/offers/{offerID}/steps/{stepID}/reconcile",
        "reconcileStep",
        "Re-check a step whose callback is overdue",
        None,
        "Step",
    ),
    (
        "post",
        "/journeys/{journeyID}/aa/sessions",
        "createAaSession",
        "Start (or resume) an Account Aggregator consent",
        None,
        "AaSession",
    ),
    (
        "get",
        "/aa/sessions/{aaSessionID}",
        "getAaSession",
        "One AA session",
        None,
        "AaSession",
    ),
    (
        "post",
        "/aa/sessions/{aaSessionID}/complete",
        "completeAaSession",
        "The borrower is back from the Account Aggregator",
        None,
        "AaSession",
    ),
    (
        "post",
        "/aa/sessions/{aaSessionID}/reconcile",
        "reconcileAaSession",
        "Re-check an AA session",
        None,
        "AaSession",
    ),
    (
        "get",
        "/journeys/{journeyID}/loan",
        "getLoan",
        "The disbursed loan",
        None,
        "Loan",
    ),
    (
        "post",
        "/journeys/{journeyID}/post-disbursal/foreclosure",
        "forecloseLoan",
        "Foreclose the loan",
        None,
        "LoanAction",
    ),
    (
        "post",
        "/journeys/{journeyID}/post-disbursal/pre-part-payment",
        "prePayLoan",
        "Pre-part payment",
        None,
        "LoanAction",
    ),
    (
        "post",
        "/journeys/{journeyID}/post-disbursal/missed-emi",
        "payMissedEmi",
        "Pay a missed EMI",
        None,
        "LoanAction",
    ),
    (
        "post",
        "/journeys/{journeyID}/post-disbursal/status-refresh",
        "refreshLoanStatus",
        "Refresh the loan's status",
        None,
        "LoanAction",
    ),
];

/// The operations of [`OPERATIONS`] as OpenAPI path items, each with the generic proxy
/// operation's parameters, security and error answers (`generic`, the document's
/// `/v1/headless/{path}` item) and a typed 200.
pub fn paths(generic: &Value) -> Vec<(String, String, Value)> {
    OPERATIONS
        .iter()
        .map(|(method, path, id, summary, body, answer)| {
            let template = generic
                .get(*method)
                .or_else(|| generic.get("get"))
                .cloned()
                .unwrap_or_default();
            let mut op = json!({
                "tags": ["proxy"],
                "summary": summary,
                "description": format!("The upstream's `{method} /api/v1/headless{path}` through the proxy (see proxy): the answer's status and body are the upstream's."),
                "operationId": id,
                "parameters": [],
                "responses": template["responses"].clone(),
                "security": template["security"].clone(),
            });
            let mut params: Vec<Value> = path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
                .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            if *method != "get" {
                params.push(json!({
                    "name": "Idempotency-Key", "in": "header", "required": true,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Required on every mutating call (IETF Idempotency-Key semantics; see docs/proxy.md)."
                }));
            }
            op["parameters"] = Value::Array(params);
            if let Some(body) = body {
                op["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}
                });
            }
            let mut ok = template["responses"]["default"].clone();
            ok["description"] = json!("The upstream's answer");
            ok["content"] = json!({"application/json": {"schema": {
                "type": "object",
                "required": ["requestID", "data"],
                "properties": {
                    "requestID": {"type": "string"},
                    "correlationID": {"type": ["string", "null"]},
                    "timestamp": {"type": "string"},
                    "data": {"$ref": format!("#/components/schemas/{answer}")},
                    "error": {"type": "null"}
                }
            }}});
            op["responses"]["200"] = ok;
            (format!("/v1/headless{path}"), method.to_string(), op)
        })
        .collect()
}
