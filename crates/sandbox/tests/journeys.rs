//! Journey list and read, and create-or-resume per journey type (with `metadata.returnURL`).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn journeys_are_listed_and_read_and_the_read_is_the_state() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("list-1").await;
    let list = sb.get(&s.token, "/api/v1/headless/journeys").await;
    let items = list.data()["journeys"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    for key in ["journeyID", "type", "status", "nextAction", "updatedAt"] {
        assert!(items[0].get(key).is_some(), "list item has {key}");
    }
    assert_eq!(items[0]["status"], "OFFERS_AVAILABLE");
    let read = sb
        .get(&s.token, &format!("/api/v1/headless/journeys/{jid}"))
        .await;
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(read.data(), &state);
    for key in [
        "pendingOperations",
        "diagnostics",
        "selectedOfferID",
        "updatedAt",
    ] {
        assert!(state.get(key).is_some(), "state has {key}");
    }
}

#[tokio::test]
async fn journeys_resume_per_type_and_session_create_reports_the_requested_type() {
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
    assert_eq!(first.active_journey["status"], "STARTED");
    let personal = first.active_journey["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let profile = sb.get(&first.token, "/api/v1/headless/profile").await;
    assert_eq!(profile.data()["profile"]["panName"], "Ravi K");

    let r = sb
        .post(
            &first.token,
            "/api/v1/headless/journeys",
            json!({ "type": "PERSONAL_LOAN" }),
        )
        .await;
    assert_eq!(
        r.data()["journeyID"],
        personal.as_str(),
        "same type resumes"
    );

    let r = sb
        .post(
            &first.token,
            "/api/v1/headless/journeys",
            json!({ "type": "GOLD_LOAN" }),
        )
        .await;
    assert_eq!(r.status, 200);
    let gold = r.data()["journeyID"].as_str().unwrap().to_owned();
    assert_ne!(gold, personal, "another type is never answered by a resume");
    assert_eq!(r.data()["type"], "GOLD_LOAN");
    assert_eq!(r.data()["status"], "STARTED");

    let list = sb.get(&first.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"].as_array().unwrap().len(), 2);
    for (kind, expected) in [("PERSONAL_LOAN", &personal), ("GOLD_LOAN", &gold)] {
        let key = uuid::Uuid::new_v4().to_string();
        let r = sb
            .call(
                "POST",
                "/api/v1/headless/sessions",
                Auth::Key,
                Some(&key),
                Some(json!({ "borrowerExternalID": "ravi-7", "journeyType": kind })),
            )
            .await;
        assert_eq!(r.data()["activeJourney"]["journeyID"], expected.as_str());
    }
    let any = sb.session("ravi-7").await;
    assert_eq!(
        any.active_journey["journeyID"],
        gold.as_str(),
        "without a type: the newest"
    );
}

#[tokio::test]
async fn resuming_a_journey_with_a_return_url_takes_the_new_url() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("return-1").await;
    let r = sb
        .post(
            &s.token,
            "/api/v1/headless/journeys",
            json!({ "metadata": { "returnURL": "https://partner.example/back" } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["journeyID"], jid.as_str());
    assert_eq!(
        r.data()["metadata"]["returnURL"],
        "https://partner.example/back"
    );
    assert_eq!(
        r.data()["metadata"]["source"],
        "sandbox-tests",
        "earlier metadata is kept"
    );
    let offer = offer_of(&sb, &s.token, &jid, "aarohan-finance").await;
    let offer_id = offer["offerID"].as_str().unwrap();
    proceed(&sb, &s.token, offer_id).await;
    let steps_path = format!("/api/v1/headless/offers/{offer_id}/steps");
    let kfs = sb.get(&s.token, &steps_path).await.data()["steps"][0]["stepID"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.post(
        &s.token,
        &format!("{steps_path}/{kfs}/submit"),
        form_for("KFS_REVIEW"),
    )
    .await;
    let aa = sb.get(&s.token, &steps_path).await.data()["steps"][1].clone();
    assert_eq!(aa["resource"]["returnURL"], "https://partner.example/back");
    let page = sb
        .http
        .get(aa["resource"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("https://partner.example/back"), "{page}");

    let r = sb
        .post(
            &s.token,
            "/api/v1/headless/journeys",
            json!({ "metadata": { "returnURL": "javascript:alert(1)" } }),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "metadata.returnURL");
}
