//! Driving a borrower journey: the one complete profile, waiting for a journey status, the whole
//! walk through the proxy (profile, offers, steps, disbursal), and `Borrower`, which drives the
//! first steps straight against the sandbox so that its webhooks reach the BFF.

use serde_json::{json, Value};

use super::{eventually, Client, Reply, TestApp};

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

/// Poll the journey state through the proxy until it is `status` (at most 15 s).
pub async fn await_journey_status(c: &Client, journey: &str, status: &str) {
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

/// The whole borrower journey, driven only through the proxy, in the published vocabulary: the
/// journey starts `STARTED`, the submit answers `PROFILE_SUBMITTED`, and every step ends
/// `SUCCESS` (KFS by form, AA consent through an AA session, KYC and the mandates and agreement
/// by redirect, the bank mandate by form). Returns the journey id.
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
    assert_eq!(r.data()["status"], "STARTED");
    assert_eq!(r.data()["nextAction"], "COMPLETE_PROFILE");
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
    assert_eq!(r.data()["status"], "PROFILE_SUBMITTED");
    await_journey_status(c, &jid, "OFFERS_AVAILABLE").await;

    let r = c
        .call("GET", &format!("/v1/headless/journeys/{jid}/offers"), None)
        .await;
    ok(&r, "offers");
    let offers = r.data()["offers"].as_array().cloned().unwrap_or_default();
    let oid = offers
        .iter()
        .find(|o| o["lenderID"] == "aarohan-finance" && o["status"] == "OFFER_RECEIVED")
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
    let types: Vec<&str> = steps.iter().filter_map(|s| s["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "KFS_REVIEW",
            "AA_CONSENT",
            "KYC",
            "BANK_MANDATE",
            "E_MANDATE",
            "LOAN_AGREEMENT",
            "DISBURSAL"
        ]
    );
    let step = |t: &str| {
        steps
            .iter()
            .find(|s| s["type"] == t)
            .and_then(|s| s["stepID"].as_str())
            .unwrap_or_else(|| panic!("step {t}"))
            .to_owned()
    };
    let submit = |t: &str, fields: Value| {
        let path = format!("/v1/headless/offers/{oid}/steps/{}/submit", step(t));
        async move {
            c.call("POST", &path, Some(json!({ "fields": fields })))
                .await
        }
    };

    let r = submit("KFS_REVIEW", json!({"accepted": true})).await;
    ok(&r, "kfs");
    assert_eq!(r.data()["status"], "SUCCESS");
    await_journey_status(c, &jid, "AA_REQUIRED").await;

    // AA consent: the AA session, its page (the borrower is at the AA: IN_PROGRESS), then the
    // borrower is back and `complete` approves it; the AA_CONSENT step succeeds with it.
    let r = c
        .call(
            "POST",
            &format!("/v1/headless/journeys/{jid}/aa/sessions"),
            Some(json!({})),
        )
        .await;
    ok(&r, "aa session");
    assert_eq!(r.data()["state"], "REDIRECT_READY");
    let aa = r.data()["aaSessionID"]
        .as_str()
        .expect("aaSessionID")
        .to_owned();
    open_page(r.data()["redirectURL"].as_str().expect("redirectURL")).await;
    let r = c
        .call("GET", &format!("/v1/headless/aa/sessions/{aa}"), None)
        .await;
    ok(&r, "aa state");
    assert_eq!(r.data()["state"], "IN_PROGRESS");
    let r = c
        .call(
            "POST",
            &format!("/v1/headless/aa/sessions/{aa}/complete"),
            Some(json!({})),
        )
        .await;
    ok(&r, "aa complete");
    assert_eq!(r.data()["state"], "APPROVED");
    await_journey_status(c, &jid, "KYC_PENDING").await;

    // KYC is a redirect for this lender.
    redirect_step(c, &oid, &step("KYC")).await;

    let r = submit(
        "BANK_MANDATE",
        json!({"accountNumber": "123456789012", "ifsc": "HDFC0001234", "accountHolderName": "Asha Verma"}),
    )
    .await;
    ok(&r, "bank mandate");
    assert_eq!(r.data()["status"], "SUCCESS");

    for t in ["E_MANDATE", "LOAN_AGREEMENT"] {
        redirect_step(c, &oid, &step(t)).await;
    }

    await_journey_status(c, &jid, "DISBURSED").await;
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

/// A redirect step: it is `READY` with `REDIRECT`; opening its page leaves it `IN_PROGRESS`
/// awaiting the callback; `…/complete` (the borrower is back) makes it `SUCCESS`.
async fn redirect_step(c: &Client, offer: &str, step: &str) {
    let path = format!("/v1/headless/offers/{offer}/steps/{step}");
    let r = c.call("GET", &path, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        (&r.data()["status"], &r.data()["actionRequired"]),
        (&json!("READY"), &json!("REDIRECT")),
        "{}",
        r.raw
    );
    open_page(r.data()["resource"]["url"].as_str().expect("redirect url")).await;
    let r = c.call("GET", &path, None).await;
    assert_eq!(
        (&r.data()["status"], &r.data()["actionRequired"]),
        (&json!("IN_PROGRESS"), &json!("AWAIT_CALLBACK")),
        "{}",
        r.raw
    );
    let r = c
        .call("POST", &format!("{path}/complete"), Some(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["status"], "SUCCESS");
}

/// A borrower talking to an app's sandbox directly with the sandbox's API key (not through the
/// BFF), so the sandbox's webhooks are the only way the BFF hears about the journey.
pub struct Borrower {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Borrower {
    /// Open a sandbox session for `external_id`, the profile's identity already given.
    pub async fn start(app: &TestApp, external_id: &str) -> Borrower {
        let base = app.upstream_base_url.clone();
        let res: Value = app
            .client
            .post(format!("{base}/api/v1/headless/sessions"))
            .bearer_auth("sk_test_sandbox_key")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "borrowerExternalID": external_id,
                "profile": full_profile()["profile"],
            }))
            .send()
            .await
            .expect("sandbox session")
            .json()
            .await
            .expect("sandbox session json");
        let token = res["data"]["sessionToken"]
            .as_str()
            .expect("session token")
            .to_owned();
        Borrower {
            base,
            token,
            client: app.client.clone(),
        }
    }

    /// Call the sandbox as this borrower and return `data` (asserting no error).
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res: Value = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
            .await
            .expect("sandbox call")
            .json()
            .await
            .expect("sandbox call json");
        assert_eq!(res["error"], Value::Null, "{path}: {res}");
        res["data"].clone()
    }

    pub async fn create_journey(&self) -> String {
        let d = self
            .call(
                reqwest::Method::POST,
                "/api/v1/headless/journeys",
                json!({"type": "PERSONAL_LOAN"}),
            )
            .await;
        d["journeyID"].as_str().expect("journeyID").to_owned()
    }

    /// Complete the rest of the profile (work, address, bureau consent).
    pub async fn complete_profile(&self) {
        let mut rest = full_profile();
        if let Some(fields) = rest.as_object_mut() {
            fields.remove("profile");
        }
        self.call(reqwest::Method::PUT, "/api/v1/headless/profile", rest)
            .await;
    }

    pub async fn submit(&self) {
        self.call(
            reqwest::Method::POST,
            "/api/v1/headless/profile/submit",
            json!({}),
        )
        .await;
    }
}
