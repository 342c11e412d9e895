//! The in-memory model of the simulated upstream. One `State` behind one `Mutex` (see `Sandbox`);
//! every capability module is a set of functions over `&mut State`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::faults::Faults;
use crate::idempotency::IdemRecord;
use crate::lenders::Lender;
use crate::SandboxConfig;
use aarthik_contract::journey_status;

/// Most records the request and delivery logs keep by default (oldest dropped first).
pub const DEFAULT_LOG_CAP: usize = 10_000;

/// Non-secret settings copied from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tenant_id: String,
    pub application_id: String,
    pub dispatch_start_delay_ms: u64,
    pub offer_delay_ms: u64,
    pub aa_prepare_delay_ms: u64,
    pub reconcile_after_ms: u64,
    pub max_step_attempts: u32,
    pub session_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub webhook_max_attempts: u32,
    pub webhook_first_retry_ms: u64,
    pub log_cap: usize,
}

pub struct Borrower {
    pub external_id: String,
    /// Sections `profile`, `workProfile`, `address`, `journey`, `goldLoan`,
    /// `bankingInformation`, plus whatever unknown keys the partner sent.
    pub profile: Map<String, Value>,
}

/// A session or refresh token, keyed by the SHA-256 of its value (tokens are never stored).
pub struct TokenRecord {
    pub borrower_id: String,
    /// All tokens descended from one login share a family; theft detection revokes it whole.
    pub family: String,
    pub expires_at: DateTime<Utc>,
    /// Refresh tokens only: already exchanged once.
    pub used: bool,
}

/// One `diagnostics.messages` entry of a journey or step.
#[derive(Clone, serde::Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
}

pub struct Journey {
    pub id: String,
    pub borrower_id: String,
    pub journey_type: String,
    pub status: &'static str,
    pub next_action: Option<&'static str>,
    pub metadata: Value,
    /// Offer cards, in lender order (created at dispatch start).
    pub offer_ids: Vec<String>,
    pub selected_offer_id: Option<String>,
    pub messages: Vec<Diagnostic>,
    /// Profile as submitted (offers are computed from it).
    pub submitted_profile: Option<Map<String, Value>>,
    /// `PROFILE_SUBMITTED` → `OFFERS_PENDING`.
    pub dispatch_due: Option<Instant>,
    /// When the profile was submitted (`pendingOperations[].since` before dispatch).
    pub submitted_at: Option<DateTime<Utc>>,
    /// `LENDER_PROCESSING` → `DISBURSED`.
    pub disbursal_due: Option<Instant>,
    pub disbursal_since: Option<DateTime<Utc>>,
    pub loan: Option<Loan>,
    pub last_sequence: u64,
    pub order: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Journey {
    pub fn is_terminal(&self) -> bool {
        journey_status::TERMINAL.contains(&self.status)
    }
}

/// One lender's card in a journey. Terms are meaningful only once `OFFER_RECEIVED`.
pub struct Offer {
    pub id: String,
    pub journey_id: String,
    pub lender: &'static Lender,
    pub status: &'static str,
    pub locked: bool,
    pub rejected: bool,
    pub principal: u64,
    pub processing_fee: u64,
    pub emi: u64,
    pub expires_at: DateTime<Utc>,
    /// When the lender answers (`None` while an Account Aggregator consent holds it back).
    pub answer_due: Option<Instant>,
    /// When the lender was asked.
    pub since: DateTime<Utc>,
    /// The Account Aggregator session that gates this card or its AA step, if any.
    pub aa_session_id: Option<String>,
    pub step_ids: Vec<String>,
}

pub struct Step {
    pub id: String,
    pub offer_id: String,
    pub journey_id: String,
    pub kind: &'static str,
    pub status: &'static str,
    /// Failed attempts so far.
    pub attempts: u32,
    pub messages: Vec<Diagnostic>,
    /// When the borrower finished at the provider and the callback became due (redirect steps).
    pub awaiting_since: Option<(Instant, DateTime<Utc>)>,
    pub completed_at: Option<DateTime<Utc>>,
    /// A non-sensitive summary of what was submitted (e.g. masked account number).
    pub summary: Option<Value>,
}

pub struct AaSession {
    pub id: String,
    pub journey_id: String,
    /// The card whose offer (before selection) or AA step (after selection) needs the consent.
    pub offer_id: String,
    pub state: &'static str,
    /// `REQUIRED` → `REDIRECT_READY` at this instant.
    pub ready_due: Option<Instant>,
    pub created_at: DateTime<Utc>,
}

pub struct Loan {
    pub loan_id: String,
    pub principal: u64,
    pub outstanding: u64,
    pub emi: u64,
    pub emis_paid: u32,
    pub overdue_emis: u32,
    pub status: &'static str,
    pub disbursed_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub transactions: Vec<Value>,
}

/// One record of `GET /__sandbox/requests`.
#[derive(Clone, serde::Serialize)]
pub struct RequestRecord {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub auth: &'static str,
    pub status: u16,
    /// The answer was an idempotent replay (`Idempotent-Replayed: true`): nothing ran again.
    pub replayed: bool,
    #[serde(rename = "receivedAt")]
    pub received_at: String,
}

/// One record of `GET /__sandbox/deliveries`.
#[derive(Clone, serde::Serialize)]
pub struct DeliveryRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    pub sequence: u64,
    pub attempt: u32,
    pub url: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub outcome: &'static str,
    pub at: String,
}

/// An event waiting for (re)delivery.
#[derive(Clone)]
pub struct OutboxItem {
    pub event_id: String,
    pub journey_id: String,
    pub sequence: u64,
    pub body: String,
    /// Attempts already made.
    pub attempts: u32,
    pub due: Instant,
    /// Fault: send twice on success.
    pub duplicate: bool,
}

pub struct Subscription {
    pub enabled: bool,
    pub url: Option<String>,
}

pub struct State {
    pub settings: Settings,
    pub borrowers: HashMap<String, Borrower>,
    pub borrower_by_external: HashMap<String, String>,
    pub session_tokens: HashMap<String, TokenRecord>,
    pub refresh_tokens: HashMap<String, TokenRecord>,
    pub revoked_families: HashSet<String>,
    pub journeys: HashMap<String, Journey>,
    pub offers: HashMap<String, Offer>,
    pub steps: HashMap<String, Step>,
    pub aa_sessions: HashMap<String, AaSession>,
    pub idempotency: HashMap<(String, String), IdemRecord>,
    pub requests: VecDeque<RequestRecord>,
    pub next_request_seq: u64,
    pub deliveries: VecDeque<DeliveryRecord>,
    pub outbox: VecDeque<OutboxItem>,
    /// Events held back by the reorder fault.
    pub held: Vec<OutboxItem>,
    pub faults: Faults,
    pub subscription: Subscription,
    /// `false`: the refresh route answers 404 as if it did not exist.
    pub refresh_enabled: bool,
    pub next_order: u64,
    /// Wakes the delivery task (an event entered the outbox).
    pub wake_delivery: Arc<Notify>,
    /// Wakes the timer task (an offer dispatch or disbursal was scheduled).
    pub wake_timers: Arc<Notify>,
}

impl State {
    pub fn new(
        config: &SandboxConfig,
        wake_delivery: Arc<Notify>,
        wake_timers: Arc<Notify>,
    ) -> Self {
        let url = config.webhook_url.clone().filter(|u| !u.is_empty());
        State {
            settings: Settings {
                tenant_id: config.tenant_id.clone(),
                application_id: config.application_id.clone(),
                dispatch_start_delay_ms: config.dispatch_start_delay_ms,
                offer_delay_ms: config.offer_delay_ms,
                aa_prepare_delay_ms: config.aa_prepare_delay_ms,
                reconcile_after_ms: config.reconcile_after_ms,
                max_step_attempts: config.max_step_attempts.max(1),
                session_ttl_secs: config.session_ttl_secs,
                refresh_ttl_secs: config.refresh_ttl_secs,
                webhook_max_attempts: config.webhook_max_attempts.max(1),
                webhook_first_retry_ms: config.webhook_first_retry_ms,
                log_cap: config.log_cap.max(1),
            },
            borrowers: HashMap::new(),
            borrower_by_external: HashMap::new(),
            session_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            revoked_families: HashSet::new(),
            journeys: HashMap::new(),
            offers: HashMap::new(),
            steps: HashMap::new(),
            aa_sessions: HashMap::new(),
            idempotency: HashMap::new(),
            requests: VecDeque::new(),
            next_request_seq: 1,
            deliveries: VecDeque::new(),
            outbox: VecDeque::new(),
            held: Vec::new(),
            faults: Faults::default(),
            subscription: Subscription {
                enabled: url.is_some(),
                url,
            },
            refresh_enabled: config.refresh_endpoint_enabled,
            next_order: 1,
            wake_delivery,
            wake_timers,
        }
    }

    /// The borrower's newest journey that is not terminal, of `kind` when given.
    pub fn active_journey(&self, borrower_id: &str, kind: Option<&str>) -> Option<&Journey> {
        self.journeys
            .values()
            .filter(|j| j.borrower_id == borrower_id && !j.is_terminal())
            .filter(|j| kind.is_none_or(|k| j.journey_type == k))
            .max_by_key(|j| j.order)
    }

    pub fn push_request(&mut self, record: RequestRecord) {
        if self.requests.len() >= self.settings.log_cap {
            self.requests.pop_front();
        }
        self.requests.push_back(record);
    }

    pub fn push_delivery(&mut self, record: DeliveryRecord) {
        if self.deliveries.len() >= self.settings.log_cap {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(record);
    }
}

/// A fresh UUID v4 as a string (borrower, journey, offer, step and AA session ids).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
