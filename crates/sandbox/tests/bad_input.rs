//! Bad input is answered with the documented error envelope and changes nothing; ownership;
//! the version pin, correlation and idempotency headers.

use serde_json::json;

use crate::helpers::*;

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
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
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
    assert_eq!(body["error"]["code"], "AUTH_INVALID_SESSION");

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
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    }
    let list = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"], json!([]));
}

#[tokio::test]
async fn the_api_version_pin_is_echoed_and_a_malformed_one_is_refused() {
    let sb = spawn().await;
    let s = sb.session("version-1").await;
    let r = sb
        .call_with(
            "GET",
            "/api/v1/headless/journeys",
            Auth::Bearer(&s.token),
            None,
            None,
            &[("X-AL-API-Version", "2026-03-05")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-al-api-version"], "2026-03-05");
    let plain = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert!(
        plain.headers.get("x-al-api-version").is_none(),
        "no pin, no echo"
    );
    for bad in ["latest", "2026-3-5", "2026-02-30"] {
        let r = sb
            .call_with(
                "POST",
                "/api/v1/headless/journeys",
                Auth::Bearer(&s.token),
                Some("version-key"),
                Some(json!({})),
                &[("X-AL-API-Version", bad)],
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{bad}");
        assert_eq!(r.field(), "X-AL-API-Version");
        assert!(r.headers.get("x-al-api-version").is_none());
    }
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.data()["journeys"],
        json!([]),
        "refused calls did nothing"
    );
}

#[tokio::test]
async fn idempotency_key_is_required_on_patch_too_and_correlation_id_is_optional() {
    let sb = spawn().await;
    let s = sb.session("patch-1").await;
    let r = sb
        .call(
            "PATCH",
            "/api/v1/headless/profile",
            Auth::Bearer(&s.token),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "IDEMPOTENCY_KEY_REQUIRED"));
    assert_eq!(r.field(), "Idempotency-Key");
    let r = sb
        .call(
            "PATCH",
            "/api/v1/headless/profile",
            Auth::Bearer(&s.token),
            Some("patch-key"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 405, "with a key it reaches the route");
    let r = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    assert_eq!(r.status, 200, "no X-Correlation-ID needed");
}
