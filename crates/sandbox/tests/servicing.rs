//! Post-disbursal servicing: lender-dependent actions and their validation.

use serde_json::json;

use crate::helpers::*;

/// Disburse a loan with the lender whose id is given; returns (session, journeyID, offer).
async fn disbursed_with(
    sb: &Sb,
    who: &str,
    lender_id: &str,
) -> (Session, String, serde_json::Value) {
    let (s, jid) = sb.journey_with_offers(who).await;
    let offer = sb
        .offers(&s.token, &jid)
        .await
        .into_iter()
        .find(|o| o["lenderID"] == lender_id)
        .expect("lender offers");
    let offer_id = offer["offerID"].as_str().unwrap();
    proceed(sb, &s.token, offer_id).await;
    let seen = complete_all_steps(sb, &s.token, offer_id).await;
    assert_eq!(seen.last().map(String::as_str), Some("LENDER_PROCESSING"));
    sb.control("POST", "/__sandbox/timers/skip", None).await;
    assert_eq!(sb.state(&s.token, &jid).await["status"], "DISBURSED");
    (s, jid, offer)
}

#[tokio::test]
async fn post_disbursal_actions_depend_on_the_lender() {
    let sb = spawn().await;
    let (s, jid, offer) = disbursed_with(&sb, "servicing-1", "chandra-microcredit").await;
    let base = format!("/api/v1/headless/journeys/{jid}/post-disbursal");
    assert_eq!(
        offer["postDisbursalActions"],
        json!(["PRE_PART_PAYMENT", "MISSED_EMI_PAYMENT", "STATUS_REFRESH"])
    );
    let r = sb
        .post(&s.token, &format!("{base}/foreclosure"), json!({}))
        .await;
    assert_eq!((r.status, r.code()), (409, "ACTION_NOT_SUPPORTED"));
    assert_eq!(
        sb.state(&s.token, &jid).await["status"],
        "DISBURSED",
        "nothing changed"
    );

    let principal = offer["principal"].as_u64().unwrap();
    for bad in [
        json!({}),
        json!({ "amount": 0 }),
        json!({ "amount": -5 }),
        json!({ "amount": "100" }),
        json!({ "amount": principal + 1 }),
    ] {
        let r = sb
            .post(&s.token, &format!("{base}/pre-part-payment"), bad.clone())
            .await;
        assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"), "{bad}");
        assert_eq!(r.field(), "amount");
    }
    let r = sb
        .post(
            &s.token,
            &format!("{base}/pre-part-payment"),
            json!({ "amount": 5000 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["loan"]["outstandingPrincipal"], principal - 5000);

    let r = sb
        .post(&s.token, &format!("{base}/missed-emi"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "INVALID_STATE"),
        "nothing overdue yet"
    );
    sb.control("POST", &format!("/__sandbox/loans/{jid}/overdue"), None)
        .await;
    let r = sb
        .post(&s.token, &format!("{base}/missed-emi"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["loan"]["overdueEmis"], 0);
    assert_eq!(r.data()["loan"]["emisPaid"], 1);
    let r = sb
        .post(&s.token, &format!("{base}/status-refresh"), json!({}))
        .await;
    assert_eq!(r.status, 200);

    let r = sb
        .post(
            &s.token,
            &format!("{base}/pre-part-payment"),
            json!({ "amount": r.data()["loan"]["outstandingPrincipal"] }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.data()["status"],
        "CLOSED",
        "paying everything closes the loan"
    );
}

#[tokio::test]
async fn a_lender_without_missed_emi_support_refuses_it() {
    let sb = spawn().await;
    let (s, jid, _) = disbursed_with(&sb, "servicing-2", "bharat-credit-bank").await;
    sb.control("POST", &format!("/__sandbox/loans/{jid}/overdue"), None)
        .await;
    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/post-disbursal/missed-emi"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "ACTION_NOT_SUPPORTED"));
    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/journeys/{jid}/post-disbursal/pre-part-payment"),
            json!({ "amount": 1000 }),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "ACTION_NOT_SUPPORTED"));
    let loan = sb
        .get(&s.token, &format!("/api/v1/headless/journeys/{jid}/loan"))
        .await;
    assert_eq!(loan.data()["overdueEmis"], 1);
    assert_eq!(
        loan.data()["outstandingPrincipal"],
        loan.data()["principal"]
    );
}
