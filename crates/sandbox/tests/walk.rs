//! Walking a journey through the public API: proceed, form bodies, every step to disbursal.

use serde_json::{json, Value};

use crate::helpers::{Resp, Sb};

/// The body a form step accepts.
pub fn form_for(step_type: &str) -> Value {
    match step_type {
        "KFS_REVIEW" => json!({ "fields": { "accepted": true } }),
        "KYC" => json!({ "fields": { "aadhaarLast4": "1234", "consent": true } }),
        _ => json!({ "fields": {
            "accountNumber": "123456789012", "ifsc": "HDFC0001234", "accountHolderName": "Asha Verma"
        } }),
    }
}

/// Drive a proceeded offer's steps to `LENDER_PROCESSING` through the public API (pages for
/// redirects). Returns the journey statuses seen while a step was open, in order, each once.
pub async fn complete_all_steps(sb: &Sb, token: &str, offer_id: &str) -> Vec<String> {
    let steps_path = format!("/api/v1/headless/offers/{offer_id}/steps");
    let mut seen: Vec<String> = Vec::new();
    loop {
        let r = sb.get(token, &steps_path).await;
        assert_eq!(r.status, 200, "steps: {}", r.body);
        let journey_id = r.data()["journeyID"].as_str().unwrap().to_owned();
        let status = sb.state(token, &journey_id).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if !seen.contains(&status) {
            seen.push(status);
        }
        let steps = r.data()["steps"].as_array().unwrap().clone();
        let Some(current) = steps.iter().find(|s| s["status"] == "READY").cloned() else {
            return seen;
        };
        let step_id = current["stepID"].as_str().unwrap();
        match current["actionRequired"].as_str().unwrap() {
            "REDIRECT" => {
                assert_eq!(current["resource"]["kind"], "REDIRECT");
                let url = current["resource"]["url"].as_str().unwrap();
                let page = sb.http.get(url).send().await.unwrap();
                assert_eq!(page.status(), 200, "redirect page {url}");
                let returned = sb
                    .post(
                        token,
                        &format!("{steps_path}/{step_id}/complete"),
                        json!({}),
                    )
                    .await;
                assert_eq!(returned.status, 200, "return: {}", returned.body);
                assert_eq!(returned.data()["status"], "SUCCESS");
            }
            "SUBMIT_FORM" => {
                assert_eq!(current["resource"]["kind"], "FORM");
                let body = form_for(current["type"].as_str().unwrap());
                let r = sb
                    .post(token, &format!("{steps_path}/{step_id}/submit"), body)
                    .await;
                assert_eq!(r.status, 200, "submit step: {}", r.body);
                assert_eq!(r.data()["status"], "SUCCESS");
            }
            other => panic!("unexpected actionRequired {other}"),
        }
    }
}

/// Proceed with an offer; panics unless 200.
pub async fn proceed(sb: &Sb, token: &str, offer_id: &str) -> Resp {
    let r = sb
        .post(
            token,
            &format!("/api/v1/headless/offers/{offer_id}/proceed"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "proceed: {}", r.body);
    r
}

/// The offer card of a lender.
pub async fn offer_of(sb: &Sb, token: &str, journey_id: &str, lender_id: &str) -> Value {
    sb.offers(token, journey_id)
        .await
        .into_iter()
        .find(|o| o["lenderID"] == lender_id)
        .expect("the lender has a card")
}
