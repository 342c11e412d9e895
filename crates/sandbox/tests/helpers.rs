//! Test helpers: start a sandbox on port 0, talk to it over HTTP with reqwest (every answer is
//! checked for the current vocabulary and the error envelope's shape), and wait for conditions
//! with a bounded deadline.

use std::future::Future;
use std::time::Duration;

use aarthik_sandbox::{self as sandbox, SandboxConfig, SandboxHandle};
use secrecy::SecretString;
use serde_json::{json, Value};

pub use crate::receiver::*;
pub use crate::walk::*;

pub const API_KEY: &str = "sk_test_sandbox_suite";
pub const WEBHOOK_SECRET: &str = "whsec_sandbox_suite_secret";
/// Upper bound of every wait in the suite.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn config() -> SandboxConfig {
    SandboxConfig {
        port: 0,
        api_key: SecretString::from(API_KEY.to_owned()),
        webhook_secret: SecretString::from(WEBHOOK_SECRET.to_owned()),
        // Dispatch and offers only happen via `/__sandbox/timers/skip` unless a test shortens
        // these.
        dispatch_start_delay_ms: 600_000,
        offer_delay_ms: 600_000,
        ..SandboxConfig::default()
    }
}

/// Values of the simulator's earlier, guessed vocabulary. None of them may come back.
const RETIRED_VALUES: &[&str] = &[
    "PROFILE_PENDING",
    "NO_OFFERS",
    "STEPS_IN_PROGRESS",
    "DISBURSAL_PENDING",
    "ACTION_REQUIRED",
    "COMPLETED",
    "SKIPPED",
    "INPUT",
    "SELECTED",
    "LOCKED",
    "BANK_ACCOUNT",
    "VALIDATION_ERROR",
    "OFFER_LOCKED",
    "UNAUTHORIZED",
    "SESSION_EXPIRED",
    "REFRESH_TOKEN_INVALID",
];

/// Fails when `v` carries a retired value, an `hst_`/`hrt_` token or `pendingLenders`.
pub fn assert_current_vocabulary(v: &Value) {
    match v {
        Value::String(s) => {
            assert!(!RETIRED_VALUES.contains(&s.as_str()), "retired value {s}");
            assert!(
                !s.starts_with("hst_") && !s.starts_with("hrt_"),
                "retired token prefix in {s}"
            );
        }
        Value::Array(items) => items.iter().for_each(assert_current_vocabulary),
        Value::Object(map) => {
            for (k, v) in map {
                assert_ne!(k, "pendingLenders", "retired diagnostics.pendingLenders");
                assert_current_vocabulary(v);
            }
        }
        _ => {}
    }
}

pub struct Sb {
    /// Keeps the sandbox running for the test's lifetime.
    _handle: SandboxHandle,
    pub base: String,
    pub http: reqwest::Client,
}

/// A parsed answer: status, headers and the JSON body.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    /// `error.details.field`.
    pub fn field(&self) -> &str {
        self.body["error"]["details"]["field"]
            .as_str()
            .unwrap_or("")
    }
}

pub async fn spawn() -> Sb {
    spawn_with(config()).await
}

pub async fn spawn_with(config: SandboxConfig) -> Sb {
    let handle = sandbox::start(config).await.expect("sandbox starts");
    let base = handle.base_url();
    Sb {
        _handle: handle,
        base,
        http: reqwest::Client::new(),
    }
}

pub enum Auth<'a> {
    None,
    Key,
    Bearer(&'a str),
}

impl Sb {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        idem: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.call_with(method, path, auth, idem, body, &[]).await
    }

    /// [`Sb::call`] with extra request headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        idem: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        match auth {
            Auth::None => {}
            Auth::Key => req = req.bearer_auth(API_KEY),
            Auth::Bearer(t) => req = req.bearer_auth(t),
        }
        if let Some(k) = idem {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("sandbox answers in time")
            .expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("JSON body expected, got {status}: {text}"));
        assert_current_vocabulary(&body);
        if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
            assert_error_shape(status, &body, error);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A mutating borrower call with a fresh Idempotency-Key.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.call("POST", path, Auth::Bearer(token), Some(&key), Some(body))
            .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Resp {
        let key = uuid::Uuid::new_v4().to_string();
        self.call("PUT", path, Auth::Bearer(token), Some(&key), Some(body))
            .await
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        self.call("GET", path, Auth::Bearer(token), None, None)
            .await
    }

    /// An unauthenticated `/__sandbox` control call.
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let r = self.call(method, path, Auth::None, None, body).await;
        assert_eq!(r.status, 200, "control {path} failed: {}", r.body);
        r
    }

    /// `POST /api/v1/headless/sessions` with the key; panics unless 200.
    pub async fn session(&self, external_id: &str) -> Session {
        let key = uuid::Uuid::new_v4().to_string();
        let r = self
            .call(
                "POST",
                "/api/v1/headless/sessions",
                Auth::Key,
                Some(&key),
                Some(json!({ "borrowerExternalID": external_id })),
            )
            .await;
        assert_eq!(r.status, 200, "session create: {}", r.body);
        Session::from(r.data())
    }

    pub async fn state(&self, token: &str, journey_id: &str) -> Value {
        let r = self
            .get(
                token,
                &format!("/api/v1/headless/journeys/{journey_id}/state"),
            )
            .await;
        assert_eq!(r.status, 200, "state: {}", r.body);
        r.data().clone()
    }

    /// Session → journey → complete profile → submit → skip timers: a journey with offers.
    pub async fn journey_with_offers(&self, external_id: &str) -> (Session, String) {
        let s = self.session(external_id).await;
        let r = self
            .post(
                &s.token,
                "/api/v1/headless/journeys",
                json!({ "type": "PERSONAL_LOAN", "metadata": { "source": "sandbox-tests" } }),
            )
            .await;
        assert_eq!(r.status, 200, "journey create: {}", r.body);
        let jid = r.data()["journeyID"].as_str().unwrap().to_owned();
        let r = self
            .put(&s.token, "/api/v1/headless/profile", good_profile())
            .await;
        assert_eq!(r.status, 200, "profile put: {}", r.body);
        let r = self
            .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
            .await;
        assert_eq!(r.status, 200, "submit: {}", r.body);
        self.control(
            "POST",
            "/__sandbox/timers/skip",
            Some(json!({ "journeyID": jid })),
        )
        .await;
        (s, jid)
    }

    pub async fn offers(&self, token: &str, journey_id: &str) -> Vec<Value> {
        let r = self
            .get(
                token,
                &format!("/api/v1/headless/journeys/{journey_id}/offers"),
            )
            .await;
        assert_eq!(r.status, 200, "offers: {}", r.body);
        r.data()["offers"].as_array().unwrap().clone()
    }
}

/// Every error envelope: `data: null` and all four `error` keys, `retryable` a boolean and
/// `details` an object.
fn assert_error_shape(status: u16, body: &Value, error: &Value) {
    assert!(
        body.get("data").is_some_and(Value::is_null),
        "data: null in {body}"
    );
    assert!(
        error["code"].is_string() && error["message"].is_string(),
        "{body}"
    );
    assert!(error["retryable"].is_boolean(), "retryable in {body}");
    assert!(error["details"].is_object(), "details in {body}");
    let id = body["requestID"].as_str().unwrap_or_default();
    assert!(id.starts_with("req_") && id.len() == 30, "requestID {id}");
    if status == 429 || status >= 500 {
        assert_eq!(error["retryable"], true, "{body}");
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub borrower_id: String,
    pub token: String,
    pub refresh: String,
    pub active_journey: Value,
}

impl From<&Value> for Session {
    fn from(d: &Value) -> Self {
        Session {
            borrower_id: d["borrowerID"].as_str().unwrap().to_owned(),
            token: d["sessionToken"].as_str().unwrap().to_owned(),
            refresh: d["refreshToken"].as_str().unwrap().to_owned(),
            active_journey: d["activeJourney"].clone(),
        }
    }
}

pub fn good_profile() -> Value {
    json!({
        "profile": {
            "contactNumber": "9123456780",
            "pan": "PQRSX6789K",
            "panName": "Asha Verma",
            "personalemail": "asha@example.org"
        },
        "workProfile": { "employmentType": "salaried", "income": 50000, "incomeType": "monthly" },
        "address": { "city": "Pune", "pincode": "411001" },
        "journey": { "bureauConsent": true }
    })
}

/// Poll `check` until it yields `Some`, failing after [`WAIT`].
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
