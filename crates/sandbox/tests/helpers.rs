//! Test helpers: start a sandbox on port 0, talk to it over HTTP with reqwest, receive its
//! webhooks with a tiny actix receiver, and wait for conditions with a bounded deadline.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aarthik_sandbox::{self as sandbox, SandboxConfig, SandboxHandle};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const API_KEY: &str = "sk_test_sandbox_suite";
pub const WEBHOOK_SECRET: &str = "whsec_sandbox_suite_secret";
/// Upper bound of every wait in the suite.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn config() -> SandboxConfig {
    SandboxConfig {
        port: 0,
        api_key: SecretString::from(API_KEY.to_owned()),
        webhook_secret: SecretString::from(WEBHOOK_SECRET.to_owned()),
        // Offers only arrive via `/__sandbox/timers/skip` unless a test shortens this.
        offer_delay_ms: 600_000,
        ..SandboxConfig::default()
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
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
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
                json!({ "type": "PERSONAL_LOAN" }),
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

/// One webhook request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1:0 that records every request and answers with the next
/// status from `script` (200 once the script is used up).
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    server: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

struct ReceiverState {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

async fn receive(st: web::Data<ReceiverState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    st.got.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let status = {
        let mut script = st.script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (g, s) = (got.clone(), script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(ReceiverState {
                    got: g.clone(),
                    script: s.clone(),
                }))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            got,
            server: handle,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Wait until at least `n` requests arrived; returns them all.
    pub async fn wait_count(&self, n: usize) -> Vec<Received> {
        wait_for(&format!("{n} webhook requests"), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Independent verifier: lowercase hex HMAC-SHA256(secret, timestamp + "." + raw body).
pub fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Drive a proceeded offer's steps to disbursal through the public API (pages for redirects).
pub async fn complete_all_steps(sb: &Sb, token: &str, offer_id: &str) {
    let steps_path = format!("/api/v1/headless/offers/{offer_id}/steps");
    loop {
        let r = sb.get(token, &steps_path).await;
        assert_eq!(r.status, 200, "steps: {}", r.body);
        let steps = r.data()["steps"].as_array().unwrap().clone();
        let Some(current) = steps
            .iter()
            .find(|s| s["status"] == "ACTION_REQUIRED")
            .cloned()
        else {
            return;
        };
        let step_id = current["stepID"].as_str().unwrap();
        match current["actionRequired"].as_str().unwrap() {
            "REDIRECT" => {
                let url = current["resource"]["url"].as_str().unwrap();
                let page = sb.http.get(url).send().await.unwrap();
                assert_eq!(page.status(), 200, "redirect page {url}");
                let returned = sb
                    .post(
                        token,
                        &format!("{steps_path}/{step_id}/complete"),
                        json!({}),
                    )
                    .await;
                assert_eq!(returned.status, 200, "return: {}", returned.body);
            }
            "INPUT" => {
                let body = match current["type"].as_str().unwrap() {
                    "KFS_REVIEW" => json!({ "accepted": true }),
                    "KYC" => json!({ "aadhaarLast4": "1234", "consent": true }),
                    _ => {
                        json!({ "accountNumber": "123456789012", "ifsc": "HDFC0001234", "accountHolderName": "Asha Verma" })
                    }
                };
                let r = sb
                    .post(token, &format!("{steps_path}/{step_id}/submit"), body)
                    .await;
                assert_eq!(r.status, 200, "submit step: {}", r.body);
            }
            other => panic!("unexpected actionRequired {other}"),
        }
    }
}
