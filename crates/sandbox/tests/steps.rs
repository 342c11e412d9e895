//! Post-selection steps: input steps, redirect pages, Account Aggregator sessions.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_redirect_step_returns_a_sandbox_page_that_completes_it_and_return_fails_before() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("redirect-1").await;
    let offer_id = sb.offers(&s.token, &jid).await[0]["offerID"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.post(
        &s.token,
        &format!("/api/v1/headless/offers/{offer_id}/proceed"),
        json!({}),
    )
    .await;
    let steps_path = format!("/api/v1/headless/offers/{offer_id}/steps");
    let steps = sb.get(&s.token, &steps_path).await.data()["steps"]
        .as_array()
        .unwrap()
        .clone();
    let kfs = steps[0]["stepID"].as_str().unwrap();
    assert_eq!(steps[0]["actionRequired"], "INPUT");
    let r = sb
        .post(
            &s.token,
            &format!("{steps_path}/{kfs}/submit"),
            json!({ "accepted": false }),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"));
    assert_eq!(
        sb.post(
            &s.token,
            &format!("{steps_path}/{kfs}/submit"),
            json!({ "accepted": true })
        )
        .await
        .status,
        200
    );
    let kyc = steps[1]["stepID"].as_str().unwrap();
    assert_eq!(
        sb.post(
            &s.token,
            &format!("{steps_path}/{kyc}/submit"),
            json!({ "aadhaarLast4": "9876", "consent": true })
        )
        .await
        .status,
        200
    );

    let aa = sb
        .get(
            &s.token,
            &format!("{steps_path}/{}", steps[2]["stepID"].as_str().unwrap()),
        )
        .await;
    assert_eq!(aa.data()["type"], "AA_CONSENT");
    assert_eq!(aa.data()["status"], "ACTION_REQUIRED");
    assert_eq!(aa.data()["actionRequired"], "REDIRECT");
    let url = aa.data()["resource"]["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&sb.base) && url.contains("/__sandbox/pages/"),
        "{url}"
    );

    let early = sb
        .post(
            &s.token,
            &format!(
                "{steps_path}/{}/complete",
                steps[2]["stepID"].as_str().unwrap()
            ),
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
    let after = sb
        .get(
            &s.token,
            &format!("{steps_path}/{}", steps[2]["stepID"].as_str().unwrap()),
        )
        .await;
    assert_eq!(after.data()["status"], "COMPLETED");
    assert_eq!(
        sb.state(&s.token, &jid).await["status"],
        "STEPS_IN_PROGRESS"
    );
    let next = sb
        .get(
            &s.token,
            &format!("{steps_path}/{}", steps[3]["stepID"].as_str().unwrap()),
        )
        .await;
    assert_eq!(next.data()["status"], "ACTION_REQUIRED");
}

#[tokio::test]
async fn account_aggregator_sessions_give_a_redirect_url_and_complete_the_consent_step() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("aa-1").await;
    let offer_id = sb.offers(&s.token, &jid).await[0]["offerID"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.post(
        &s.token,
        &format!("/api/v1/headless/offers/{offer_id}/proceed"),
        json!({}),
    )
    .await;
    let aa_path = format!("/api/v1/headless/journeys/{jid}/aa/sessions");
    let early = sb.post(&s.token, &aa_path, json!({})).await;
    assert_eq!(
        (early.status, early.code()),
        (409, "INVALID_STATE"),
        "AA before its step is current"
    );

    let steps = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/offers/{offer_id}/steps"),
        )
        .await
        .data()["steps"]
        .clone();
    for i in 0..2 {
        let id = steps[i]["stepID"].as_str().unwrap();
        sb.control("POST", &format!("/__sandbox/steps/{id}/complete"), None)
            .await;
    }
    let created = sb.post(&s.token, &aa_path, json!({})).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.data()["status"], "READY");
    let aa_id = created.data()["aaSessionID"].as_str().unwrap().to_owned();
    let url = created.data()["redirectURL"].as_str().unwrap().to_owned();

    let not_yet = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/aa/sessions/{aa_id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(not_yet.code(), "INVALID_STATE");
    assert_eq!(sb.http.get(&url).send().await.unwrap().status(), 200);
    let got = sb
        .get(&s.token, &format!("/api/v1/headless/aa/sessions/{aa_id}"))
        .await;
    assert_eq!(got.data()["status"], "COMPLETED");
    assert!(got.data()["redirectURL"].is_null());
    let done = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/aa/sessions/{aa_id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(done.status, 200);
    let rec = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/aa/sessions/{aa_id}/reconcile"),
            json!({}),
        )
        .await;
    assert_eq!(rec.data()["status"], "COMPLETED");
    let aa_step = sb
        .get(
            &s.token,
            &format!(
                "/api/v1/headless/offers/{offer_id}/steps/{}",
                steps[2]["stepID"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(aa_step.data()["status"], "COMPLETED");
}
