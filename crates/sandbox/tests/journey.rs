//! The borrower journey end to end through the documented statuses, offers from several lenders,
//! journey list and read, and create-or-resume per journey type.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_borrower_goes_from_session_to_disbursal_through_the_documented_statuses() {
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
    assert_eq!(r.data()["status"], "STARTED");
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
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(
        (&state["status"], &state["nextAction"]),
        (&json!("PROFILE_REQUIRED"), &json!("COMPLETE_PROFILE"))
    );

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/profile/submit"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "PROFILE_SUBMITTED");
    assert!(r.data()["nextAction"].is_null());
    assert_eq!(r.data()["pendingOperations"][0]["type"], "LENDER_DISPATCH");
    assert!(
        sb.offers(&s.token, &jid).await.is_empty(),
        "no cards before dispatch"
    );

    let r = sb.control("POST", "/__sandbox/timers/skip", None).await;
    assert_eq!(r.data()["fired"], json!([jid]));
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "OFFERS_AVAILABLE");
    assert_eq!(state["nextAction"], "VIEW_OFFERS");
    assert_eq!(state["pendingOperations"], json!([]));
    assert!(state["diagnostics"].get("pendingLenders").is_none());
    let messages = state["diagnostics"]["messages"].as_array().unwrap();
    assert!(
        messages.iter().any(|m| m["code"] == "LENDER_DECLINED"
            && m["message"].as_str().unwrap().contains("declined")),
        "{state}"
    );

    let offers = sb.offers(&s.token, &jid).await;
    assert_eq!(offers.len(), 4, "one card per lender: {offers:?}");
    let received: Vec<_> = offers
        .iter()
        .filter(|o| o["status"] == "OFFER_RECEIVED")
        .collect();
    assert_eq!(received.len(), 3);
    let declined = offers
        .iter()
        .find(|o| o["status"] == "NO_OFFER_AVAILABLE")
        .expect("one lender declines");
    assert!(
        declined.get("principal").is_none(),
        "no terms without an offer"
    );
    for o in &offers {
        assert_eq!(
            (&o["locked"], &o["rejected"]),
            (&json!(false), &json!(false))
        );
        assert!(o["aa"].is_null(), "a salaried borrower needs no AA: {o}");
    }
    let pick = received
        .iter()
        .find(|o| {
            o["postDisbursalActions"]
                .as_array()
                .unwrap()
                .contains(&json!("FORECLOSURE"))
        })
        .copied()
        .expect("a lender that supports foreclosure")
        .clone();
    let offer_id = pick["offerID"].as_str().unwrap().to_owned();
    assert_eq!(pick["currency"], "INR");
    let detail = sb
        .get(&s.token, &format!("/api/v1/headless/offers/{offer_id}"))
        .await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.data(), &pick, "the offer detail is the card");

    let r = proceed(&sb, &s.token, &offer_id).await;
    assert_eq!(r.data()["status"], "OFFER_SELECTED");
    assert_eq!(r.data()["nextAction"], "COMPLETE_STEP");
    assert_eq!(r.data()["selectedOfferID"], offer_id.as_str());
    for card in sb.offers(&s.token, &jid).await {
        let mine = card["offerID"] == offer_id.as_str();
        assert_eq!(card["locked"], !mine, "others are locked: {card}");
        assert_eq!(card["selected"], mine);
    }

    let steps = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/offers/{offer_id}/steps"),
        )
        .await;
    let steps = steps.data()["steps"].as_array().unwrap().clone();
    let types: Vec<_> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
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
    assert_eq!(
        (&steps[0]["status"], &steps[0]["actionRequired"]),
        (&json!("READY"), &json!("SUBMIT_FORM"))
    );
    assert_eq!(steps[0]["resource"]["kind"], "FORM");
    assert!(steps[0]["resource"]["keyFactStatement"]["emi"].is_u64());
    for later in &steps[1..] {
        assert_eq!(
            (&later["status"], &later["actionRequired"]),
            (&json!("PENDING"), &json!("NONE"))
        );
    }

    let seen = complete_all_steps(&sb, &s.token, &offer_id).await;
    assert_eq!(
        seen,
        [
            "OFFER_SELECTED",
            "AA_REQUIRED",
            "KYC_PENDING",
            "BANK_MANDATE_PENDING",
            "E_MANDATE_PENDING",
            "LOAN_AGREEMENT_PENDING",
            "LENDER_PROCESSING"
        ]
    );
    let state = sb.state(&s.token, &jid).await;
    assert!(state["nextAction"].is_null());
    assert_eq!(state["pendingOperations"][0]["type"], "DISBURSAL");
    assert_eq!(state["pendingOperations"][0]["offerID"], offer_id.as_str());
    let disbursal = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/offers/{offer_id}/steps"),
        )
        .await
        .data()["steps"][6]
        .clone();
    assert_eq!(
        (&disbursal["status"], &disbursal["actionRequired"]),
        (&json!("IN_PROGRESS"), &json!("WAIT"))
    );
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
    assert_eq!(state["nextAction"], "VIEW_LOAN");

    let loan = sb
        .get(&s.token, &format!("/api/v1/headless/journeys/{jid}/loan"))
        .await;
    assert_eq!(loan.status, 200);
    assert_eq!(loan.data()["status"], "ACTIVE");
    assert_eq!(loan.data()["principal"], pick["principal"]);

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/post-disbursal/foreclosure"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], "CLOSED");
    assert_eq!(r.data()["loan"]["outstandingPrincipal"], 0);
    assert_eq!(sb.state(&s.token, &jid).await["status"], "CLOSED");

    let again = sb.session("asha-1").await;
    assert!(
        again.active_journey.is_null(),
        "a closed journey is not active"
    );
}

#[tokio::test]
async fn offers_arrive_by_themselves_after_the_configured_delays() {
    let sb = spawn_with(aarthik_sandbox::SandboxConfig {
        dispatch_start_delay_ms: 50,
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
    assert_eq!(r.data()["status"], "PROFILE_SUBMITTED");
    wait_for("offers", || async {
        (sb.state(&s.token, &jid).await["status"] == "OFFERS_AVAILABLE").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_profile_every_lender_declines_ends_rejected_with_every_card_no_offer_available() {
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
    let r = sb
        .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    assert_eq!(r.status, 200);
    sb.control("POST", "/__sandbox/timers/skip", None).await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "REJECTED");
    assert!(state["nextAction"].is_null());
    let codes: Vec<_> = state["diagnostics"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.iter().filter(|c| *c == "LENDER_DECLINED").count(), 4);
    assert_eq!(codes.last().unwrap(), "ALL_LENDERS_DECLINED");
    let offers = sb.offers(&s.token, &jid).await;
    assert_eq!(offers.len(), 4);
    assert!(offers.iter().all(|o| o["status"] == "NO_OFFER_AVAILABLE"));
    assert!(sb.session("declined-1").await.active_journey.is_null());
}

#[tokio::test]
async fn rejecting_every_offer_rejects_the_journey_and_cards_keep_their_status() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("reject-1").await;
    let received: Vec<_> = sb
        .offers(&s.token, &jid)
        .await
        .into_iter()
        .filter(|o| o["status"] == "OFFER_RECEIVED")
        .collect();
    for o in received {
        let id = o["offerID"].as_str().unwrap();
        let r = sb
            .post(
                &s.token,
                &format!("/api/v1/headless/offers/{id}/reject"),
                json!({ "reason": "too expensive" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.data()["offerID"], id, "reject answers the card");
        assert_eq!(r.data()["rejected"], true);
        assert_eq!(r.data()["status"], o["status"], "the card keeps its status");
    }
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "REJECTED");
    let last = state["diagnostics"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["code"], "ALL_OFFERS_REJECTED");
    let offers = sb.offers(&s.token, &jid).await;
    let received: Vec<_> = offers
        .iter()
        .filter(|o| o["status"] == "OFFER_RECEIVED")
        .collect();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|o| o["rejected"] == true));
    let declined = offers
        .iter()
        .find(|o| o["status"] == "NO_OFFER_AVAILABLE")
        .unwrap();
    let r = sb
        .post(
            &s.token,
            &format!(
                "/api/v1/headless/offers/{}/reject",
                declined["offerID"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "INVALID_STATE"),
        "the journey has ended"
    );
}
