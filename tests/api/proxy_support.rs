//! Shared by the proxy, idempotency and web-session tests: a BFF in front of its own sandbox,
//! callers in bearer or cookie mode, the sandbox's request log, and the borrower journey walk.

#![allow(dead_code)]

use std::time::Duration;

use aarthik_bff::config::LoadOptions;
use aarthik_bff::sandbox::{SandboxConfig, SandboxHandle};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_app_with, TestApp};
pub use crate::helpers::{jwt, options_for, start_sandbox, upstream_log};

pub const HEADLESS: &str = "/api/v1/headless";

/// A BFF and the sandbox it talks to (dropping it stops the sandbox).
pub struct Env {
    pub app: TestApp,
    pub sb: SandboxHandle,
}

/// A sandbox whose lenders (and disbursal) answer after 150 ms.
pub fn fast_sandbox() -> SandboxConfig {
    SandboxConfig {
        port: 0,
        offer_delay_ms: 150,
        ..Default::default()
    }
}

pub async fn env() -> Env {
    env_with(fast_sandbox(), |o| o).await
}

pub async fn env_with(cfg: SandboxConfig, tweak: impl FnOnce(LoadOptions) -> LoadOptions) -> Env {
    let sb = start_sandbox(cfg).await;
    let app = spawn_app_with(tweak(options_for(&sb))).await;
    Env { app, sb }
}

/// A fresh partner user id.
pub fn new_user() -> String {
    format!("user-{}", uuid::Uuid::new_v4().simple())
}

/// How a test caller authenticates.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    /// The web session cookie header (`name=value`), sent with `X-CSRF: 1`.
    Cookie(String),
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// A test caller of one BFF.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Auth,
}

impl Client {
    pub fn bearer(app: &TestApp, user: &str) -> Client {
        Client {
            base: app.address.clone(),
            http: app.client.clone(),
            auth: Auth::Bearer(jwt(app, user)),
        }
    }

    /// Log `user` in with `POST /v1/web/session` and use the cookie from then on.
    pub async fn cookie(app: &TestApp, user: &str) -> Client {
        let res = app
            .client
            .post(app.url("/v1/web/session"))
            .bearer_auth(jwt(app, user))
            .send()
            .await
            .expect("web login");
        assert_eq!(res.status().as_u16(), 200, "web login");
        let cookie = session_cookie(res.headers()).expect("a session cookie is set");
        Client {
            base: app.address.clone(),
            http: app.client.clone(),
            auth: Auth::Cookie(cookie),
        }
    }

    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let rb = self
            .http
            .request(m, format!("{}{}", self.base, path))
            .timeout(Duration::from_secs(30));
        match &self.auth {
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::Cookie(c) => rb.header("Cookie", c).header("X-CSRF", "1"),
        }
    }

    /// A proxied call with a fresh idempotency key on mutating methods.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let key = (method != "GET" && method != "HEAD").then(|| uuid::Uuid::new_v4().to_string());
        self.call_keyed(method, path, body, key.as_deref()).await
    }

    pub async fn call_keyed(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Reply {
        let mut rb = self.request(method, path);
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        reply(rb.send().await.expect("request")).await
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

/// `name=value` of the web session cookie in a `Set-Cookie` header, when it sets one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-bff_session=") && !v.starts_with("__Host-bff_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// POST a control to the sandbox.
pub async fn control(sb: &SandboxHandle, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}{}", sb.base_url(), path))
        .json(&body)
        .send()
        .await
        .expect("sandbox control")
        .json()
        .await
        .expect("sandbox control json")
}

/// A complete profile that the sandbox's lenders make offers to.
pub fn full_profile() -> Value {
    json!({
        "profile": {"contactNumber": "9123456780", "pan": "PQRSX6789K", "panName": "Asha Verma",
                    "personalemail": "asha@example.org"},
        "workProfile": {"employmentType": "salaried", "income": 50000, "incomeType": "monthly"},
        "address": {"city": "Pune", "pincode": "411001"},
        "journey": {"bureauConsent": true}
    })
}

/// Poll the journey state through the proxy until `status` (bounded).
pub async fn await_status(c: &Client, journey: &str, status: &str) {
    let path = format!("/v1/headless/journeys/{journey}/state");
    let reached = eventually(15, || async {
        let r = c.call("GET", &path, None).await;
        r.status == 200 && r.data()["status"] == status
    })
    .await;
    assert!(reached, "journey never reached {status}");
}

/// Open a redirect page as a browser would (not through the BFF) and check it says done.
async fn open_page(url: &str) {
    let res = reqwest::get(url).await.expect("redirect page");
    assert_eq!(res.status().as_u16(), 200, "{url}");
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("id=\"message\""), "{html}");
}

/// The whole borrower journey, driven only through the proxy. Returns the journey id.
pub async fn walk_journey(c: &Client) -> String {
    let ok = |r: &Reply, what: &str| assert_eq!(r.status, 200, "{what}: {}", r.raw);

    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN", "metadata": {"source": "web_app"}})),
        )
        .await;
    ok(&r, "journey");
    assert_eq!(r.data()["status"], "PROFILE_PENDING");
    let jid = r.data()["journeyID"]
        .as_str()
        .expect("journeyID")
        .to_owned();

    let r = c
        .call("PUT", "/v1/headless/profile", Some(full_profile()))
        .await;
    ok(&r, "profile");
    assert_eq!(r.data()["complete"], true, "{}", r.raw);

    let r = c
        .call("POST", "/v1/headless/profile/submit", Some(json!({})))
        .await;
    ok(&r, "submit");
    assert_eq!(r.data()["status"], "OFFERS_PENDING");
    await_status(c, &jid, "OFFERS_AVAILABLE").await;

    let r = c
        .call("GET", &format!("/v1/headless/journeys/{jid}/offers"), None)
        .await;
    ok(&r, "offers");
    let offers = r.data()["offers"].as_array().cloned().unwrap_or_default();
    let oid = offers
        .iter()
        .find(|o| o["lenderID"] == "aarohan-finance")
        .and_then(|o| o["offerID"].as_str())
        .expect("an Aarohan offer")
        .to_owned();

    let r = c
        .call(
            "POST",
            &format!("/v1/headless/offers/{oid}/proceed"),
            Some(json!({})),
        )
        .await;
    ok(&r, "proceed");
    assert_eq!(r.data()["status"], "OFFER_SELECTED");

    let r = c
        .call("GET", &format!("/v1/headless/offers/{oid}/steps"), None)
        .await;
    ok(&r, "steps");
    let steps = r.data()["steps"].as_array().cloned().unwrap_or_default();
    let step = |t: &str| {
        steps
            .iter()
            .find(|s| s["type"] == t)
            .and_then(|s| s["stepID"].as_str())
            .unwrap_or_else(|| panic!("step {t}"))
            .to_owned()
    };
    let submit = |t: &str, body: Value| {
        let path = format!("/v1/headless/offers/{oid}/steps/{}/submit", step(t));
        async move { c.call("POST", &path, Some(body)).await }
    };

    let r = submit("KFS_REVIEW", json!({"accepted": true})).await;
    ok(&r, "kfs");
    assert_eq!(r.data()["status"], "COMPLETED");
    let r = submit("KYC", json!({"aadhaarLast4": "1234", "consent": true})).await;
    ok(&r, "kyc");
    assert_eq!(r.data()["status"], "COMPLETED");

    // AA consent: an AA session, its redirect page, then the session is COMPLETED.
    let r = c
        .call(
            "POST",
            &format!("/v1/headless/journeys/{jid}/aa/sessions"),
            Some(json!({})),
        )
        .await;
    ok(&r, "aa session");
    let aa = r.data()["aaSessionID"]
        .as_str()
        .expect("aaSessionID")
        .to_owned();
    open_page(r.data()["redirectURL"].as_str().expect("redirectURL")).await;
    let r = c
        .call("GET", &format!("/v1/headless/aa/sessions/{aa}"), None)
        .await;
    ok(&r, "aa status");
    assert_eq!(r.data()["status"], "COMPLETED");

    let r = submit(
        "BANK_ACCOUNT",
        json!({"accountNumber": "123456789012", "ifsc": "HDFC0001234", "accountHolderName": "Asha Verma"}),
    )
    .await;
    ok(&r, "bank account");
    assert_eq!(r.data()["status"], "COMPLETED");

    for t in ["E_MANDATE", "LOAN_AGREEMENT"] {
        let sid = step(t);
        let r = c
            .call(
                "GET",
                &format!("/v1/headless/offers/{oid}/steps/{sid}"),
                None,
            )
            .await;
        ok(&r, t);
        open_page(r.data()["resource"]["url"].as_str().expect("redirect url")).await;
        let r = c
            .call(
                "POST",
                &format!("/v1/headless/offers/{oid}/steps/{sid}/complete"),
                Some(json!({})),
            )
            .await;
        ok(&r, t);
        assert_eq!(r.data()["status"], "COMPLETED");
    }

    await_status(c, &jid, "DISBURSED").await;
    let r = c
        .call("GET", &format!("/v1/headless/journeys/{jid}/loan"), None)
        .await;
    ok(&r, "loan");
    assert_eq!(r.data()["status"], "ACTIVE");

    let r = c
        .call(
            "POST",
            &format!("/v1/headless/journeys/{jid}/post-disbursal/pre-part-payment"),
            Some(json!({"amount": 5000})),
        )
        .await;
    ok(&r, "pre-part payment");
    assert_eq!(
        r.data()["loan"]["outstandingPrincipal"],
        145000,
        "{}",
        r.raw
    );
    jid
}
