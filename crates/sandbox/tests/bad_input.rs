//! Bad input is answered with the documented error envelope and changes nothing.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_invalid_pan_is_a_validation_error_and_the_profile_is_unchanged() {
    let sb = spawn().await;
    let s = sb.session("pan-1").await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sb.put(&s.token, "/api/v1/headless/profile", good_profile())
            .await
            .status,
        200
    );

    for (pan, why) in [
        ("ABCDE1234", "too short"),
        ("abcde1234f", "lower case"),
        ("ABCD11234F", "digit in the letters"),
        ("ABCDE12345", "digit at the end"),
    ] {
        let r = sb
            .put(
                &s.token,
                "/api/v1/headless/profile",
                json!({ "profile": { "pan": pan, "panName": "Someone Else" } }),
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"), "{why}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("profile.pan"),
            "{}",
            r.body
        );
        assert!(r.body["data"].is_null());
    }
    let profile = sb.get(&s.token, "/api/v1/headless/profile").await;
    assert_eq!(profile.data()["profile"]["pan"], "PQRSX6789K");
    assert_eq!(
        profile.data()["profile"]["panName"],
        "Asha Verma",
        "no partial update"
    );
    assert_eq!(sb.state(&s.token, &jid).await["status"], "PROFILE_PENDING");
}

#[tokio::test]
async fn other_profile_rules_are_enforced() {
    let sb = spawn().await;
    let s = sb.session("rules-1").await;
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    let cases = [
        json!({ "profile": { "contactNumber": "12345" } }),
        json!({ "profile": { "contactNumber": "5123456789" } }),
        json!({ "profile": { "personalemail": "no-at-sign" } }),
        json!({ "workProfile": { "income": -10 } }),
        json!({ "workProfile": { "income": "50,000" } }),
        json!({ "workProfile": { "officialemail": "me@gmail.com" } }),
        json!({ "journey": { "bureauConsent": "yes" } }),
        json!({ "profile": { "panName": "One Two Three Four" } }),
        json!({ "address": { "pincode": "0110" } }),
        json!({ "unknownSection": {} }),
        json!({ "profile": { "nickname": "x" } }),
    ];
    for body in cases {
        let r = sb
            .put(&s.token, "/api/v1/headless/profile", body.clone())
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"), "{body}");
    }
    let ok = sb.put(&s.token, "/api/v1/headless/profile", json!({ "profile": { "contactNumber": "+919123456780" }, "workProfile": { "income": "42000" } })).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.data()["workProfile"]["income"], 42000);
}

#[tokio::test]
async fn submitting_without_bureau_consent_is_refused_and_the_journey_stays_put() {
    let sb = spawn().await;
    let s = sb.session("consent-1").await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut profile = good_profile();
    profile["journey"]["bureauConsent"] = json!(false);
    sb.put(&s.token, "/api/v1/headless/profile", profile).await;
    let r = sb
        .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("journey.bureauConsent"));
    assert_eq!(sb.state(&s.token, &jid).await["status"], "PROFILE_PENDING");
}

#[tokio::test]
async fn submit_without_any_journey_is_no_active_journey() {
    let sb = spawn().await;
    let s = sb.session("nojourney-1").await;
    let r = sb
        .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (409, "NO_ACTIVE_JOURNEY"));
}

#[tokio::test]
async fn an_unknown_offer_is_not_found() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("unknown-offer-1").await;
    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/offers/{}/proceed", uuid::Uuid::new_v4()),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["status"], "OFFERS_AVAILABLE");
    assert!(state["selectedOfferID"].is_null());
}

#[tokio::test]
async fn another_borrowers_journey_and_offers_are_forbidden_and_untouched() {
    let sb = spawn().await;
    let (owner, jid) = sb.journey_with_offers("owner-1").await;
    let intruder = sb.session("intruder-1").await;
    let offer_id = sb.offers(&owner.token, &jid).await[0]["offerID"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = sb
        .get(
            &intruder.token,
            &format!("/api/v1/headless/journeys/{jid}/state"),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));
    let r = sb
        .get(
            &intruder.token,
            &format!("/api/v1/headless/journeys/{jid}/offers"),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));
    let r = sb
        .post(
            &intruder.token,
            &format!("/api/v1/headless/offers/{offer_id}/proceed"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));
    let r = sb
        .put(
            &intruder.token,
            &format!("/api/v1/headless/journeys/{jid}/profile"),
            good_profile(),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));

    let state = sb.state(&owner.token, &jid).await;
    assert_eq!(state["status"], "OFFERS_AVAILABLE");
    assert!(state["selectedOfferID"].is_null());
    assert!(sb
        .offers(&owner.token, &jid)
        .await
        .iter()
        .all(|o| o["locked"] == false));
    let list = sb.get(&intruder.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"], json!([]));
}

#[tokio::test]
async fn unknown_routes_bad_json_and_wrong_methods_are_enveloped() {
    let sb = spawn().await;
    let s = sb.session("edge-1").await;
    let r = sb.get(&s.token, "/api/v1/headless/nowhere").await;
    assert_eq!((r.status, r.code()), (404, "NOT_FOUND"));
    assert!(r.body["requestID"].is_string());

    let resp = sb
        .http
        .post(format!("{}/api/v1/headless/journeys", sb.base))
        .bearer_auth(&s.token)
        .header("Idempotency-Key", "bad-json")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.data()["journeys"],
        json!([])
    );

    let r = sb
        .call(
            "DELETE",
            "/api/v1/headless/profile/submit",
            Auth::Bearer(&s.token),
            Some("m"),
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(r.body["error"]["code"].is_string());
    let r = sb
        .call("GET", "/api/v1/headless/sessions", Auth::Key, None, None)
        .await;
    assert_eq!(r.status, 405);
    assert!(r.body["data"].is_null());
}

#[tokio::test]
async fn the_correlation_id_is_echoed_or_generated() {
    let sb = spawn().await;
    let resp = sb
        .http
        .get(format!("{}/api/v1/headless/journeys", sb.base))
        .header("X-Correlation-ID", "corr-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-correlation-id"], "corr-123");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["correlationID"], "corr-123");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");

    let r = sb
        .call("GET", "/api/v1/headless/journeys", Auth::None, None, None)
        .await;
    let generated = r.headers["x-correlation-id"].to_str().unwrap();
    assert_eq!(r.body["correlationID"], generated);
    uuid::Uuid::parse_str(generated).unwrap();
}

#[tokio::test]
async fn a_journey_body_that_is_not_an_object_is_a_validation_error_and_creates_nothing() {
    let sb = spawn().await;
    let s = sb.session("journey-body-1").await;
    for body in [json!([]), json!(5), json!("PERSONAL_LOAN")] {
        let r = sb.post(&s.token, "/api/v1/headless/journeys", body).await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"));
    }
    let list = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"], json!([]));
}
