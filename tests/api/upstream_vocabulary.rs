//! The upstream's vocabulary as the service handles it: every enum is open (an upstream that
//! answers statuses, step types, actions and error codes nobody has seen yet is passed through
//! byte for byte), the vendor's error envelope (`retryable`, `details`) reaches apps unchanged,
//! and the configured `X-AL-API-Version` goes on every upstream call (the sandbox echoes it).

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;

use crate::helpers::*;

const SESSION: &str = r#"{"requestID":"req_01KFUTURE0000000000000000A","correlationID":null,"timestamp":"2031-01-01T00:00:00.000Z","data":{"borrowerID":"b-1","borrowerExternalID":"ext","sessionToken":"st_future0000000000000000000000000","refreshToken":"rt_future0000000000000000000000000","sessionExpiresAt":"2999-01-01T00:00:00.000Z","refreshExpiresAt":"2999-01-02T00:00:00.000Z","activeJourney":{"journeyID":"j-future","status":"FUTURE_STATUS_1","nextAction":"FUTURE_ACTION_1"},"newField":{"x":1}},"error":null}"#;
const STATE: &str = r#"{"requestID":"req_01KFUTURE0000000000000000B","correlationID":"c","timestamp":"2031-01-01T00:00:01.000Z","data":{"journeyID":"j-future","type":"FUTURE_LOAN","status":"FUTURE_STATUS_2","nextAction":"FUTURE_ACTION_2","pendingOperations":[{"type":"FUTURE_OPERATION","since":"2031-01-01T00:00:00.000Z"}],"diagnostics":{"messages":[{"code":"FUTURE_DIAGNOSTIC","message":"m"}]}},"error":null}"#;
const STEPS: &str = r#"{"requestID":"req_01KFUTURE0000000000000000C","correlationID":"c","timestamp":"2031-01-01T00:00:02.000Z","data":{"offerID":"o-future","steps":[{"stepID":"s1","type":"FUTURE_STEP","status":"FUTURE_STEP_STATUS","actionRequired":"FUTURE_ACTION_REQUIRED","resource":{"kind":"FUTURE_KIND"},"diagnostics":null}]},"error":null}"#;
const CONFLICT: &str = r#"{"requestID":"req_01KFUTURE0000000000000000D","correlationID":"c","timestamp":"2031-01-01T00:00:03.000Z","data":null,"error":{"code":"FUTURE_ERROR_CODE","message":"something new","retryable":false,"details":{"offerID":"o-future","future":{"nested":[1,2]}}}}"#;
const UNPROCESSABLE: &str = r#"{"requestID":"req_01KFUTURE0000000000000000E","correlationID":"c","timestamp":"2031-01-01T00:00:04.000Z","data":null,"error":{"code":"ANOTHER_FUTURE_CODE","message":"later","retryable":true,"details":{"field":"future.field"}}}"#;

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(body)
}

/// An upstream from the future: documented paths, answers full of values nobody knows yet.
async fn future_upstream() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/api/v1/headless/sessions",
                web::post().to(|| async { answer(200, SESSION) }),
            )
            .route(
                "/api/v1/headless/journeys/{id}/state",
                web::get().to(|| async { answer(200, STATE) }),
            )
            .route(
                "/api/v1/headless/offers/{id}/steps",
                web::get().to(|| async { answer(200, STEPS) }),
            )
            .route(
                "/api/v1/headless/offers/{id}/proceed",
                web::post().to(|| async { answer(409, CONFLICT) }),
            )
            .route(
                "/api/v1/headless/journeys/{id}/offers",
                web::get().to(|| async { answer(422, UNPROCESSABLE) }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn unknown_statuses_step_types_actions_and_error_codes_pass_through_untouched() {
    let upstream = future_upstream().await;
    let app = spawn_app_with(base_options().set("upstream.base_url", upstream)).await;
    let user = new_user();
    let token = jwt(&app, &user);
    let (s, b) = post_as(&app, "/v1/session", &token).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["data"]["activeJourney"],
        json!({"journeyID": "j-future", "status": "FUTURE_STATUS_1", "nextAction": "FUTURE_ACTION_1"})
    );

    let c = Client::bearer(&app, &user);
    for (method, path, status, expected) in [
        ("GET", "/v1/headless/journeys/j-future/state", 200, STATE),
        ("GET", "/v1/headless/offers/o-future/steps", 200, STEPS),
        (
            "POST",
            "/v1/headless/offers/o-future/proceed",
            409,
            CONFLICT,
        ),
        (
            "GET",
            "/v1/headless/journeys/j-future/offers",
            422,
            UNPROCESSABLE,
        ),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let r = c.call(method, path, body).await;
        assert_eq!(r.status, status, "{path}: {}", r.raw);
        assert_eq!(r.raw, expected, "{path}: passed through byte for byte");
    }

    // The unknown status of the state answer is the journey now.
    let r = app
        .client
        .get(app.url("/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, b) = status_and_body(r).await;
    assert_eq!(b["data"]["activeJourney"]["status"], "FUTURE_STATUS_2");
    assert_eq!(b["data"]["activeJourney"]["nextAction"], "FUTURE_ACTION_2");
}

#[tokio::test]
async fn the_vendors_validation_error_on_session_create_reaches_the_app_unchanged() {
    let e = env().await;
    let r = e
        .app
        .client
        .post(e.app.url("/v1/session"))
        .bearer_auth(jwt(&e.app, &new_user()))
        .json(&json!({"profile": {"pan": "not-a-pan"}}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED");
    assert_eq!(body["error"]["retryable"], false);
    assert_eq!(body["error"]["details"]["field"], "profile.pan");
    assert!(body["requestID"].as_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn the_configured_api_version_goes_on_every_upstream_call_and_its_echo_reaches_the_app() {
    let e = env_with(fast_sandbox(), |o| {
        o.set("upstream.api_version", "2026-03-05")
            .set("session.reuse_window_secs", "0")
    })
    .await;
    let user = new_user();
    let c = Client::bearer(&e.app, &user);
    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.header("x-al-api-version"),
        Some("2026-03-05"),
        "the sandbox's echo"
    );
    let (s, b) = post_as(&e.app, "/v1/session/refresh", &jwt(&e.app, &user)).await;
    assert_eq!(s, 200, "{b}");
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.header("x-al-api-version"), Some("2026-03-05"));

    let log = upstream_log(&e.sb, HEADLESS).await;
    for path in [
        UPSTREAM_SESSIONS,
        UPSTREAM_REFRESH,
        "/api/v1/headless/journeys",
    ] {
        assert!(log.iter().any(|r| r["path"] == path), "{path} was called");
    }
    assert!(
        log.iter()
            .all(|r| r["headers"]["x-al-api-version"] == "2026-03-05"),
        "{log:?}"
    );

    // Not configured: not sent, and nothing to echo.
    let e = env().await;
    let r = Client::bearer(&e.app, &new_user())
        .call("GET", "/v1/headless/journeys", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-al-api-version"), None);
    let log = upstream_log(&e.sb, HEADLESS).await;
    assert!(!log.is_empty());
    assert!(log
        .iter()
        .all(|r| r["headers"].get("x-al-api-version").is_none()));
}
