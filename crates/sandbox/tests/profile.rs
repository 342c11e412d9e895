//! Profile validation (`VALIDATION_FAILED` with `details.field`), wider prefill, and submit.

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
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{why}");
        assert_eq!(r.field(), "profile.pan", "{}", r.body);
        assert_eq!(r.body["error"]["retryable"], false);
        assert!(r.body["data"].is_null());
    }
    let profile = sb.get(&s.token, "/api/v1/headless/profile").await;
    assert_eq!(profile.data()["profile"]["pan"], "PQRSX6789K");
    assert_eq!(
        profile.data()["profile"]["panName"],
        "Asha Verma",
        "no partial update"
    );
    assert_eq!(sb.state(&s.token, &jid).await["status"], "PROFILE_REQUIRED");
}

#[tokio::test]
async fn other_profile_rules_are_enforced() {
    let sb = spawn().await;
    let s = sb.session("rules-1").await;
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    let cases = [
        (
            json!({ "profile": { "contactNumber": "12345" } }),
            "profile.contactNumber",
        ),
        (
            json!({ "profile": { "contactNumber": "5123456789" } }),
            "profile.contactNumber",
        ),
        (
            json!({ "profile": { "personalemail": "no-at-sign" } }),
            "profile.personalemail",
        ),
        (json!({ "profile": { "dob": "31-12-1990" } }), "profile.dob"),
        (json!({ "profile": { "gender": "M" } }), "profile.gender"),
        (
            json!({ "workProfile": { "employmentType": "salary" } }),
            "workProfile.employmentType",
        ),
        (
            json!({ "workProfile": { "income": -10 } }),
            "workProfile.income",
        ),
        (
            json!({ "workProfile": { "income": "50,000" } }),
            "workProfile.income",
        ),
        (
            json!({ "workProfile": { "officialemail": "me@gmail.com" } }),
            "workProfile.officialemail",
        ),
        (
            json!({ "journey": { "bureauConsent": "yes" } }),
            "journey.bureauConsent",
        ),
        (
            json!({ "profile": { "panName": "One Two Three Four" } }),
            "profile.panName",
        ),
        (
            json!({ "address": { "pincode": "0110" } }),
            "address.pincode",
        ),
        (
            json!({ "bankingInformation": { "ifsc": "HDFC1234" } }),
            "bankingInformation.ifsc",
        ),
        (
            json!({ "bankingInformation": { "accountNumber": "12ab" } }),
            "bankingInformation.accountNumber",
        ),
        (json!({ "workProfile": "salaried" }), "workProfile"),
    ];
    for (body, field) in cases {
        let r = sb
            .put(&s.token, "/api/v1/headless/profile", body.clone())
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{body}");
        assert_eq!(r.field(), field, "{body}");
    }
    let ok = sb.put(&s.token, "/api/v1/headless/profile", json!({ "profile": { "contactNumber": "+919123456780" }, "workProfile": { "income": "42000" } })).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.data()["workProfile"]["income"], 42000);
}

#[tokio::test]
async fn wider_prefill_is_accepted_and_stored_on_session_create_and_profile_upsert() {
    let sb = spawn().await;
    let key = uuid::Uuid::new_v4().to_string();
    let r = sb
        .call("POST", "/api/v1/headless/sessions", Auth::Key, Some(&key), Some(json!({
            "borrowerExternalID": "prefill-1",
            "profile": { "contactNumber": "9123456780", "dob": "1990-12-31", "gender": "female" },
            "workProfile": { "employmentType": "selfEmployed", "companyName": "Asha Textiles" },
            "address": { "addressL1": "12 MG Road", "city": "Pune", "pincode": "411001" },
            "bankingInformation": { "accountNumber": "001122334455", "ifsc": "ICIC0000001", "accountHolderName": "Asha Verma" }
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = Session::from(r.data());
    let r = sb
        .put(
            &s.token,
            "/api/v1/headless/profile",
            json!({ "profile": { "nickname": "Ash" }, "partnerSegment": "gold" }),
        )
        .await;
    assert_eq!(r.status, 200, "unknown keys are stored: {}", r.body);
    let p = sb.get(&s.token, "/api/v1/headless/profile").await;
    let p = p.data();
    assert_eq!(p["profile"]["dob"], "1990-12-31");
    assert_eq!(p["profile"]["gender"], "female");
    assert_eq!(p["profile"]["nickname"], "Ash");
    assert_eq!(p["partnerSegment"], "gold");
    assert_eq!(p["workProfile"]["employmentType"], "selfEmployed");
    assert_eq!(p["address"]["city"], "Pune");
    assert_eq!(p["bankingInformation"]["ifsc"], "ICIC0000001");

    for (body, field) in [
        (
            json!({ "borrowerExternalID": "prefill-2", "profile": { "gender": "F" } }),
            "profile.gender",
        ),
        (
            json!({ "borrowerExternalID": "prefill-2", "bankingInformation": { "ifsc": "bad" } }),
            "bankingInformation.ifsc",
        ),
        (
            json!({ "borrowerExternalID": "prefill-2", "journeyType": "CAR_LOAN" }),
            "journeyType",
        ),
        (
            json!({ "borrowerExternalID": "x".repeat(129) }),
            "borrowerExternalID",
        ),
    ] {
        let key = uuid::Uuid::new_v4().to_string();
        let r = sb
            .call(
                "POST",
                "/api/v1/headless/sessions",
                Auth::Key,
                Some(&key),
                Some(body.clone()),
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{body}");
        assert_eq!(r.field(), field);
    }
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
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "journey.bureauConsent");
    assert_eq!(sb.state(&s.token, &jid).await["status"], "PROFILE_REQUIRED");
}

#[tokio::test]
async fn a_submit_without_contact_number_is_refused_and_opens_the_profile_step() {
    let sb = spawn().await;
    let s = sb.session("contact-1").await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sb.state(&s.token, &jid).await["status"], "STARTED");
    let r = sb
        .post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "profile.contactNumber");
    assert!(r.body["error"]["details"]["missingFields"]
        .as_array()
        .unwrap()
        .contains(&json!("profile.pan")));
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(
        (&state["status"], &state["nextAction"]),
        (&json!("PROFILE_REQUIRED"), &json!("COMPLETE_PROFILE"))
    );
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
