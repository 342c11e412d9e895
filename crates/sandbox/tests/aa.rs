//! Account Aggregator: a lender holding its offer back for consent (offer-level `aa`, journey
//! `OFFERS_PENDING` with `COMPLETE_AA`), and the `AA_REQUIRED` step after selection.

use aarthik_sandbox::SandboxConfig;
use serde_json::{json, Value};

use crate::helpers::*;

const GATED: &str = "bharat-credit-bank";

/// A self-employed borrower's journey, submitted; dispatch starts by itself at once.
async fn self_employed(sb: &Sb, who: &str) -> (Session, String) {
    let s = sb.session(who).await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut profile = good_profile();
    profile["workProfile"]["employmentType"] = json!("selfEmployed");
    assert_eq!(
        sb.put(&s.token, "/api/v1/headless/profile", profile)
            .await
            .status,
        200
    );
    let r = sb
        .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    wait_for("lender dispatch", || async {
        (sb.state(&s.token, &jid).await["status"] == "OFFERS_PENDING").then_some(())
    })
    .await;
    (s, jid)
}

fn op_types(state: &Value) -> Vec<(String, String)> {
    state["pendingOperations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["type"].as_str().unwrap().to_owned(),
                o["offerID"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_lender_can_hold_its_offer_back_until_aa_consent_is_approved() {
    let sb = spawn_with(SandboxConfig {
        dispatch_start_delay_ms: 0,
        aa_prepare_delay_ms: 600_000,
        ..config()
    })
    .await;
    let (s, jid) = self_employed(&sb, "aa-gate-1").await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["nextAction"], "COMPLETE_AA");
    let card = offer_of(&sb, &s.token, &jid, GATED).await;
    let offer_id = card["offerID"].as_str().unwrap().to_owned();
    assert_eq!(card["status"], "OFFER_AWAITED");
    assert_eq!(card["aa"]["state"], "REQUIRED");
    let aa_id = card["aa"]["aaSessionID"].as_str().unwrap().to_owned();
    let ops = op_types(&state);
    assert!(
        ops.contains(&("AA_CONSENT".into(), offer_id.clone())),
        "{ops:?}"
    );
    assert_eq!(
        ops.iter().filter(|(t, _)| t == "LENDER_DISPATCH").count(),
        3
    );
    for other in sb.offers(&s.token, &jid).await {
        assert_eq!(other["status"], "OFFER_AWAITED");
    }

    let aa_path = format!("/api/v1/headless/journeys/{jid}/aa/sessions");
    let r = sb.post(&s.token, &aa_path, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["aaSessionID"],
        aa_id.as_str(),
        "the session the sandbox made"
    );
    assert_eq!(r.data()["state"], "REQUIRED");
    assert!(
        r.data()["redirectURL"].is_null(),
        "the URL is being prepared"
    );

    // The URL gets ready and the other lenders answer.
    sb.control("POST", "/__sandbox/timers/skip", None).await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "OFFERS_AVAILABLE");
    assert_eq!(state["nextAction"], "VIEW_OFFERS");
    let session_path = format!("/api/v1/headless/aa/sessions/{aa_id}");
    let session = sb.get(&s.token, &session_path).await;
    assert_eq!(session.data()["state"], "REDIRECT_READY");
    assert_eq!(
        offer_of(&sb, &s.token, &jid, GATED).await["status"],
        "OFFER_AWAITED",
        "still held back"
    );
    let r = sb
        .post(&s.token, &format!("{session_path}/complete"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "INVALID_STATE"),
        "not at the AA yet"
    );

    let url = session.data()["redirectURL"].as_str().unwrap();
    assert_eq!(sb.http.get(url).send().await.unwrap().status(), 200);
    assert_eq!(
        sb.get(&s.token, &session_path).await.data()["state"],
        "IN_PROGRESS"
    );
    let r = sb
        .post(&s.token, &format!("{session_path}/complete"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["state"], "APPROVED");
    let card = offer_of(&sb, &s.token, &jid, GATED).await;
    assert_eq!(card["aa"]["state"], "APPROVED");
    assert_eq!(
        card["status"], "OFFER_AWAITED",
        "the lender answers after its delay"
    );
    assert_eq!(
        op_types(&sb.state(&s.token, &jid).await),
        [("LENDER_DISPATCH".to_owned(), offer_id.clone())]
    );

    sb.control("POST", "/__sandbox/timers/skip", None).await;
    let card = offer_of(&sb, &s.token, &jid, GATED).await;
    assert_eq!(card["status"], "OFFER_RECEIVED");
    proceed(&sb, &s.token, &offer_id).await;
    let steps = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/offers/{offer_id}/steps"),
        )
        .await;
    assert_eq!(steps.data()["steps"][1]["type"], "AA_CONSENT");
    assert_eq!(
        steps.data()["steps"][1]["status"],
        "NOT_REQUIRED",
        "consent was already given"
    );
}

#[tokio::test]
async fn aa_after_selection_is_the_aa_required_status_with_a_redirect_step() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("aa-step-1").await;
    let offer_id = offer_of(&sb, &s.token, &jid, "aarohan-finance").await["offerID"]
        .as_str()
        .unwrap()
        .to_owned();
    proceed(&sb, &s.token, &offer_id).await;
    let aa_path = format!("/api/v1/headless/journeys/{jid}/aa/sessions");
    let early = sb.post(&s.token, &aa_path, json!({})).await;
    assert_eq!(
        (early.status, early.code()),
        (409, "INVALID_STATE"),
        "no AA while the key facts are open"
    );
    let steps_path = format!("/api/v1/headless/offers/{offer_id}/steps");
    let list = sb.get(&s.token, &steps_path).await.data()["steps"].clone();
    let kfs = list[0]["stepID"].as_str().unwrap();
    sb.post(
        &s.token,
        &format!("{steps_path}/{kfs}/submit"),
        form_for("KFS_REVIEW"),
    )
    .await;

    let state = sb.state(&s.token, &jid).await;
    assert_eq!(
        (&state["status"], &state["nextAction"]),
        (&json!("AA_REQUIRED"), &json!("COMPLETE_AA"))
    );
    assert_eq!(
        op_types(&state),
        [("AA_CONSENT".to_owned(), offer_id.clone())]
    );
    let aa_step_id = list[1]["stepID"].as_str().unwrap();
    let aa_step = sb
        .get(&s.token, &format!("{steps_path}/{aa_step_id}"))
        .await
        .data()
        .clone();
    assert_eq!(
        (
            &aa_step["type"],
            &aa_step["status"],
            &aa_step["actionRequired"]
        ),
        (&json!("AA_CONSENT"), &json!("READY"), &json!("REDIRECT"))
    );
    let aa_id = aa_step["resource"]["aaSessionID"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = offer_of(&sb, &s.token, &jid, "aarohan-finance").await;
    assert_eq!(
        card["aa"],
        json!({ "state": "REDIRECT_READY", "aaSessionID": aa_id })
    );
    let created = sb
        .post(&s.token, &aa_path, json!({ "offerID": offer_id }))
        .await;
    assert_eq!(created.data()["aaSessionID"], aa_id.as_str());
    assert_eq!(created.data()["redirectURL"], aa_step["resource"]["url"]);

    let early = sb
        .post(
            &s.token,
            &format!("{steps_path}/{aa_step_id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(early.code(), "INVALID_STATE");
    let url = aa_step["resource"]["url"].as_str().unwrap();
    assert_eq!(sb.http.get(url).send().await.unwrap().status(), 200);
    let waiting = sb
        .get(&s.token, &format!("{steps_path}/{aa_step_id}"))
        .await;
    assert_eq!(
        (&waiting.data()["status"], &waiting.data()["actionRequired"]),
        (&json!("IN_PROGRESS"), &json!("AWAIT_CALLBACK"))
    );
    let done = sb
        .post(
            &s.token,
            &format!("{steps_path}/{aa_step_id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.data()["status"], "SUCCESS");
    let session = sb
        .get(&s.token, &format!("/api/v1/headless/aa/sessions/{aa_id}"))
        .await;
    assert_eq!(session.data()["state"], "APPROVED");
    assert!(session.data()["redirectURL"].is_null());
    let rec = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/aa/sessions/{aa_id}/reconcile"),
            json!({}),
        )
        .await;
    assert_eq!(rec.data()["state"], "APPROVED");
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "KYC_PENDING");
    assert_eq!(state["nextAction"], "COMPLETE_STEP");
}
