//! The borrower journey end to end, offers from several lenders, steps and post-disbursal.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_borrower_goes_from_session_to_disbursal_and_forecloses_the_loan() {
    let sb = spawn().await;
    let s = sb.session("asha-1").await;
    assert!(s.active_journey.is_null());

    let r = sb
        .post(
            &s.token,
            "/api/v1/headless/journeys",
            json!({ "type": "PERSONAL_LOAN", "metadata": { "source": "web_app" } }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["status"], "PROFILE_PENDING");
    assert_eq!(r.data()["nextAction"], "COMPLETE_PROFILE");
    let jid = r.data()["journeyID"].as_str().unwrap().to_owned();

    let r = sb
        .put(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/profile"),
            good_profile(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["complete"], true);
    assert_eq!(r.data()["profile"]["pan"], "PQRSX6789K");

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/profile/submit"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "OFFERS_PENDING");
    assert!(r.data()["nextAction"].is_null());
    assert_eq!(
        sb.offers(&s.token, &jid).await.len(),
        0,
        "no offers before the lenders answer"
    );

    let r = sb.control("POST", "/__sandbox/timers/skip", None).await;
    assert_eq!(r.data()["fired"], json!([jid]));
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "OFFERS_AVAILABLE");
    assert_eq!(state["nextAction"], "VIEW_OFFERS");
    let messages = state["diagnostics"]["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.as_str().unwrap().contains("declined")),
        "{state}"
    );

    let offers = sb.offers(&s.token, &jid).await;
    assert!(offers.len() >= 3, "several lenders offer: {offers:?}");
    let lenders: std::collections::HashSet<_> = offers
        .iter()
        .map(|o| o["lenderName"].as_str().unwrap())
        .collect();
    assert_eq!(lenders.len(), offers.len(), "one offer per lender");
    let pick = offers
        .iter()
        .find(|o| {
            o["postDisbursalActions"]
                .as_array()
                .unwrap()
                .contains(&json!("FORECLOSURE"))
        })
        .expect("a lender that supports foreclosure");
    let offer_id = pick["offerID"].as_str().unwrap().to_owned();
    assert_eq!(pick["status"], "OFFER_RECEIVED");
    assert_eq!(pick["currency"], "INR");

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/offers/{offer_id}/proceed"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "OFFER_SELECTED");
    assert_eq!(r.data()["nextAction"], "COMPLETE_STEP");
    for other in sb
        .offers(&s.token, &jid)
        .await
        .iter()
        .filter(|o| o["offerID"] != offer_id.as_str())
    {
        assert_eq!(other["locked"], true, "others are locked: {other}");
    }

    let steps = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/offers/{offer_id}/steps"),
        )
        .await;
    let types: Vec<_> = steps.data()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "KFS_REVIEW",
            "KYC",
            "AA_CONSENT",
            "BANK_ACCOUNT",
            "E_MANDATE",
            "LOAN_AGREEMENT",
            "DISBURSAL"
        ]
    );

    complete_all_steps(&sb, &s.token, &offer_id).await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "DISBURSAL_PENDING");
    let r = sb
        .get(&s.token, &format!("/api/v1/headless/journeys/{jid}/loan"))
        .await;
    assert_eq!(r.status, 409, "no loan before disbursal");

    sb.control(
        "POST",
        "/__sandbox/timers/skip",
        Some(json!({ "journeyID": jid })),
    )
    .await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "DISBURSED");

    let loan = sb
        .get(&s.token, &format!("/api/v1/headless/journeys/{jid}/loan"))
        .await;
    assert_eq!(loan.status, 200);
    assert_eq!(loan.data()["status"], "ACTIVE");
    assert_eq!(loan.data()["principal"], pick["principal"]);
    assert_eq!(loan.data()["outstandingPrincipal"], pick["principal"]);

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/post-disbursal/foreclosure"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "CLOSED");
    assert_eq!(r.data()["loan"]["status"], "CLOSED");
    assert_eq!(r.data()["loan"]["outstandingPrincipal"], 0);
    assert!(
        r.data()["result"]["foreclosureAmount"].as_u64().unwrap()
            > pick["principal"].as_u64().unwrap()
    );
    assert_eq!(sb.state(&s.token, &jid).await["status"], "CLOSED");

    let again = sb.session("asha-1").await;
    assert!(
        again.active_journey.is_null(),
        "a closed journey is not active"
    );
}

#[tokio::test]
async fn session_create_with_a_journey_type_starts_a_journey_and_resume_returns_it() {
    let sb = spawn().await;
    let key = uuid::Uuid::new_v4().to_string();
    let r = sb
        .call("POST", "/api/v1/headless/sessions", Auth::Key, Some(&key), Some(json!({
            "borrowerExternalID": "ravi-7", "journeyType": "PERSONAL_LOAN",
            "profile": { "contactNumber": "9123456780", "pan": "PQRSX6789K", "panName": "Ravi K", "personalemail": "ravi@example.org" }
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = Session::from(r.data());
    assert_eq!(first.active_journey["status"], "PROFILE_PENDING");
    let profile = sb.get(&first.token, "/api/v1/headless/profile").await;
    assert_eq!(profile.data()["profile"]["panName"], "Ravi K");
    assert!(profile.data()["missingFields"]
        .as_array()
        .unwrap()
        .contains(&json!("journey.bureauConsent")));

    let second = sb.session("ravi-7").await;
    assert_eq!(second.borrower_id, first.borrower_id);
    assert_eq!(
        second.active_journey["journeyID"],
        first.active_journey["journeyID"]
    );
    assert_ne!(second.token, first.token);
    let r = sb
        .post(&second.token, "/api/v1/headless/journeys", json!({}))
        .await;
    assert_eq!(
        r.data()["journeyID"],
        first.active_journey["journeyID"],
        "create-or-resume"
    );
    let list = sb.get(&first.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn offers_arrive_by_themselves_after_the_configured_delay() {
    let sb = spawn_with(aarthik_sandbox::SandboxConfig {
        offer_delay_ms: 50,
        ..config()
    })
    .await;
    let s = sb.session("delay-1").await;
    let r = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    let jid = r.data()["journeyID"].as_str().unwrap().to_owned();
    sb.put(&s.token, "/api/v1/headless/profile", good_profile())
        .await;
    let r = sb
        .post(
            &s.token,
            "/api/v1/headless/profile/submit",
            json!({ "journeyID": jid }),
        )
        .await;
    assert_eq!(r.status, 200);
    wait_for("offers", || async {
        (sb.state(&s.token, &jid).await["status"] == "OFFERS_AVAILABLE").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_profile_every_lender_declines_ends_in_no_offers() {
    let sb = spawn().await;
    let s = sb.session("declined-1").await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut profile = good_profile();
    profile["profile"]["pan"] = json!("ZZZZZ1234Z");
    assert_eq!(
        sb.put(&s.token, "/api/v1/headless/profile", profile)
            .await
            .status,
        200
    );
    assert_eq!(
        sb.post(&s.token, "/api/v1/headless/profile/submit", json!({}))
            .await
            .status,
        200
    );
    sb.control("POST", "/__sandbox/timers/skip", None).await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "NO_OFFERS");
    assert_eq!(
        state["diagnostics"]["messages"].as_array().unwrap().len(),
        4
    );
    assert!(sb.offers(&s.token, &jid).await.is_empty());
}

#[tokio::test]
async fn rejecting_every_offer_rejects_the_journey() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("reject-1").await;
    for o in sb.offers(&s.token, &jid).await {
        let r = sb
            .post(
                &s.token,
                &format!(
                    "/api/v1/headless/offers/{}/reject",
                    o["offerID"].as_str().unwrap()
                ),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(sb.state(&s.token, &jid).await["status"], "REJECTED");
    assert!(sb
        .offers(&s.token, &jid)
        .await
        .iter()
        .all(|o| o["status"] == "REJECTED"));
}
