//! Post-selection steps: form steps, redirect steps (`AWAIT_CALLBACK`, `RECONCILE`), failed
//! attempts and their `diagnostics`, lender-specific `NOT_REQUIRED` steps.

use aarthik_sandbox::SandboxConfig;
use serde_json::{json, Value};

use crate::helpers::*;

/// A journey whose offer from `lender` is proceeded; returns (session, journeyID, offerID).
async fn proceeded(sb: &Sb, who: &str, lender: &str) -> (Session, String, String) {
    let (s, jid) = sb.journey_with_offers(who).await;
    let offer = offer_of(sb, &s.token, &jid, lender).await;
    let offer_id = offer["offerID"].as_str().unwrap().to_owned();
    proceed(sb, &s.token, &offer_id).await;
    (s, jid, offer_id)
}

async fn steps(sb: &Sb, token: &str, offer_id: &str) -> Vec<Value> {
    sb.get(token, &format!("/api/v1/headless/offers/{offer_id}/steps"))
        .await
        .data()["steps"]
        .as_array()
        .unwrap()
        .clone()
}

async fn step(sb: &Sb, token: &str, offer_id: &str, step_id: &str) -> Value {
    sb.get(
        token,
        &format!("/api/v1/headless/offers/{offer_id}/steps/{step_id}"),
    )
    .await
    .data()
    .clone()
}

fn id(v: &Value) -> String {
    v["stepID"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_redirect_step_waits_for_the_callback_after_the_page_and_succeeds_on_return() {
    let sb = spawn().await;
    let (s, jid, offer_id) = proceeded(&sb, "redirect-1", "aarohan-finance").await;
    let path = format!("/api/v1/headless/offers/{offer_id}/steps");
    let list = steps(&sb, &s.token, &offer_id).await;
    let kfs = id(&list[0]);
    let r = sb
        .post(
            &s.token,
            &format!("{path}/{kfs}/submit"),
            json!({ "fields": { "accepted": false } }),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "fields.accepted");
    let r = sb
        .post(
            &s.token,
            &format!("{path}/{kfs}/submit"),
            form_for("KFS_REVIEW"),
        )
        .await;
    assert_eq!(r.data()["status"], "SUCCESS");
    for control in [id(&list[1]), id(&list[2])] {
        // AA consent and KYC (a redirect for this lender) through the test hook.
        sb.control(
            "POST",
            &format!("/__sandbox/steps/{control}/complete"),
            None,
        )
        .await;
    }
    let bank = id(&list[3]);
    let r = sb
        .post(
            &s.token,
            &format!("{path}/{bank}/submit"),
            form_for("BANK_MANDATE"),
        )
        .await;
    assert_eq!(r.data()["result"]["accountNumberMasked"], "XXXX9012");

    let mandate = step(&sb, &s.token, &offer_id, &id(&list[4])).await;
    assert_eq!(mandate["type"], "E_MANDATE");
    assert_eq!(
        (&mandate["status"], &mandate["actionRequired"]),
        (&json!("READY"), &json!("REDIRECT"))
    );
    assert_eq!(
        sb.state(&s.token, &jid).await["status"],
        "E_MANDATE_PENDING"
    );
    let resource = &mandate["resource"];
    assert_eq!(resource["kind"], "REDIRECT");
    for key in ["url", "returnURL", "expiresAt"] {
        assert!(resource.get(key).is_some(), "resource has {key}");
    }
    let url = resource["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&sb.base) && url.contains("/__sandbox/pages/"),
        "{url}"
    );
    let early = sb
        .post(
            &s.token,
            &format!("{path}/{}/complete", id(&mandate)),
            json!({}),
        )
        .await;
    assert_eq!(
        (early.status, early.code()),
        (409, "INVALID_STATE"),
        "returning before finishing"
    );

    let page = sb.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let waiting = step(&sb, &s.token, &offer_id, &id(&mandate)).await;
    assert_eq!(
        (&waiting["status"], &waiting["actionRequired"]),
        (&json!("IN_PROGRESS"), &json!("AWAIT_CALLBACK"))
    );
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["pendingOperations"][0]["type"], "STEP_CALLBACK");
    let back = sb
        .post(
            &s.token,
            &format!("{path}/{}/complete", id(&mandate)),
            json!({}),
        )
        .await;
    assert_eq!(back.data()["status"], "SUCCESS");
    assert_eq!(back.data()["actionRequired"], "NONE");
    assert_eq!(
        sb.state(&s.token, &jid).await["status"],
        "LOAN_AGREEMENT_PENDING"
    );
    let next = step(&sb, &s.token, &offer_id, &id(&list[5])).await;
    assert_eq!(next["status"], "READY");
}

#[tokio::test]
async fn an_overdue_callback_asks_for_reconcile_and_reconcile_finishes_the_step() {
    let sb = spawn_with(SandboxConfig {
        reconcile_after_ms: 0,
        ..config()
    })
    .await;
    let (s, _, offer_id) = proceeded(&sb, "reconcile-1", "aarohan-finance").await;
    let list = steps(&sb, &s.token, &offer_id).await;
    for control in [id(&list[0]), id(&list[1])] {
        sb.control(
            "POST",
            &format!("/__sandbox/steps/{control}/complete"),
            None,
        )
        .await;
    }
    let kyc = step(&sb, &s.token, &offer_id, &id(&list[2])).await;
    assert_eq!(kyc["actionRequired"], "REDIRECT");
    sb.http
        .get(kyc["resource"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let overdue = step(&sb, &s.token, &offer_id, &id(&kyc)).await;
    assert_eq!(
        (&overdue["status"], &overdue["actionRequired"]),
        (&json!("IN_PROGRESS"), &json!("RECONCILE"))
    );
    assert_eq!(
        overdue["diagnostics"]["messages"][0]["code"],
        "CALLBACK_OVERDUE"
    );
    let r = sb
        .post(
            &s.token,
            &format!(
                "/api/v1/headless/offers/{offer_id}/steps/{}/reconcile",
                id(&kyc)
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "SUCCESS");
    assert!(r.data()["diagnostics"].is_null());
}

#[tokio::test]
async fn failed_attempts_show_in_step_diagnostics_and_too_many_reject_the_journey() {
    let sb = spawn().await;
    let (s, jid, offer_id) = proceeded(&sb, "fail-steps-1", "aarohan-finance").await;
    let kfs = id(&steps(&sb, &s.token, &offer_id).await[0]);
    assert!(step(&sb, &s.token, &offer_id, &kfs).await["diagnostics"].is_null());
    let hook = format!("/__sandbox/steps/{kfs}/complete");
    let r = sb
        .control("POST", &hook, Some(json!({ "outcome": "FAILURE" })))
        .await;
    assert_eq!(
        (&r.data()["status"], &r.data()["actionRequired"]),
        (&json!("READY"), &json!("SUBMIT_FORM")),
        "one failure: try again"
    );
    assert_eq!(r.data()["attempts"], 1);
    let messages = r.data()["diagnostics"]["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["code"], "STEP_ATTEMPT_FAILED");
    assert!(messages[0]["message"].as_str().unwrap().contains("1 of 3"));
    assert_eq!(sb.state(&s.token, &jid).await["status"], "OFFER_SELECTED");

    for _ in 0..2 {
        sb.control("POST", &hook, Some(json!({ "outcome": "FAILURE" })))
            .await;
    }
    let failed = step(&sb, &s.token, &offer_id, &kfs).await;
    assert_eq!(
        (&failed["status"], &failed["actionRequired"]),
        (&json!("FAILURE"), &json!("NONE"))
    );
    assert_eq!(failed["diagnostics"]["messages"][2]["code"], "STEP_FAILED");
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "REJECTED");
    assert!(state["nextAction"].is_null());
    let r = sb
        .call(
            "POST",
            &hook,
            Auth::None,
            None,
            Some(json!({ "outcome": "SUCCESS" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "INVALID_STATE"));
    let r = sb
        .call(
            "POST",
            &hook,
            Auth::None,
            None,
            Some(json!({ "outcome": "MAYBE" })),
        )
        .await;
    assert_eq!((r.status, r.field()), (400, "outcome"));
}

#[tokio::test]
async fn lender_specific_steps_are_not_required_and_their_statuses_are_skipped() {
    let sb = spawn().await;
    let (s, jid, offer_id) = proceeded(&sb, "chandra-1", "chandra-microcredit").await;
    let list = steps(&sb, &s.token, &offer_id).await;
    let status_of = |t: &str| {
        list.iter()
            .find(|s| s["type"] == t)
            .map(|s| (s["status"].clone(), s["actionRequired"].clone()))
            .unwrap()
    };
    for skipped in ["AA_CONSENT", "E_MANDATE"] {
        assert_eq!(status_of(skipped), (json!("NOT_REQUIRED"), json!("NONE")));
    }
    let seen = complete_all_steps(&sb, &s.token, &offer_id).await;
    assert_eq!(
        seen,
        [
            "OFFER_SELECTED",
            "KYC_PENDING",
            "BANK_MANDATE_PENDING",
            "LOAN_AGREEMENT_PENDING",
            "LENDER_PROCESSING"
        ]
    );
    let kyc = steps(&sb, &s.token, &offer_id).await[2].clone();
    assert_eq!(
        kyc["result"]["verified"], true,
        "this lender's KYC is a form"
    );
    assert_eq!(
        sb.state(&s.token, &jid).await["status"],
        "LENDER_PROCESSING"
    );
}

#[tokio::test]
async fn the_bank_mandate_form_is_prefilled_from_banking_information() {
    let sb = spawn().await;
    let (s, _, _) = proceeded(&sb, "banking-1", "aarohan-finance").await;
    let r = sb
        .put(
            &s.token,
            "/api/v1/headless/profile",
            json!({ "bankingInformation": {
                "accountNumber": "001122334455", "ifsc": "ICIC0000001", "accountHolderName": "Asha Verma"
            } }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "INVALID_STATE"),
        "the profile is frozen after submit"
    );

    let sb = spawn().await;
    let s = sb.session("banking-2").await;
    let mut profile = good_profile();
    profile["bankingInformation"] = json!({
        "accountNumber": "001122334455", "ifsc": "ICIC0000001", "accountHolderName": "Asha Verma"
    });
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    assert_eq!(
        sb.put(&s.token, "/api/v1/headless/profile", profile)
            .await
            .status,
        200
    );
    let jid = sb.get(&s.token, "/api/v1/headless/journeys").await.data()["journeys"][0]
        ["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    sb.control("POST", "/__sandbox/timers/skip", None).await;
    let offer = offer_of(&sb, &s.token, &jid, "aarohan-finance").await;
    let offer_id = offer["offerID"].as_str().unwrap();
    proceed(&sb, &s.token, offer_id).await;
    let list = steps(&sb, &s.token, offer_id).await;
    for control in [id(&list[0]), id(&list[1]), id(&list[2])] {
        sb.control(
            "POST",
            &format!("/__sandbox/steps/{control}/complete"),
            None,
        )
        .await;
    }
    let bank = step(&sb, &s.token, offer_id, &id(&list[3])).await;
    assert_eq!(bank["actionRequired"], "SUBMIT_FORM");
    assert_eq!(bank["resource"]["fields"][1]["value"], "ICIC0000001");
    let r = sb
        .post(
            &s.token,
            &format!(
                "/api/v1/headless/offers/{offer_id}/steps/{}/submit",
                id(&bank)
            ),
            json!({ "fields": {} }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["result"]["accountNumberMasked"], "XXXX4455");
}
