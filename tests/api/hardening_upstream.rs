//! A hostile upstream (a stand-in that answers what the test says): answers over
//! `upstream.max_response_bytes`, bare 5xx bodies with internals, foreign `Location`s and public
//! caching never reach apps, and none of them is stored for idempotent replay.

use actix_web::HttpResponse;
use serde_json::json;

use crate::helpers::*;

const CAP: usize = 16 * 1024;

async fn hostile() -> (StandIn, TestApp) {
    let standin = StandIn::start(|req| {
        let big = "x".repeat(4 * CAP);
        match req.path() {
            "/api/v1/headless/big" => HttpResponse::Ok().body(big),
            "/api/v1/headless/big-chunked" => {
                let chunks = (0..8).map(|_| {
                    Ok::<_, std::io::Error>(actix_web::web::Bytes::from(vec![b'y'; CAP / 2]))
                });
                HttpResponse::Ok().streaming(futures_util::stream::iter(chunks))
            }
            "/api/v1/headless/small" => HttpResponse::Ok().json(json!({"data": {"ok": true}})),
            "/api/v1/headless/crash" => HttpResponse::InternalServerError()
                .content_type("text/html")
                .body("<pre>Traceback: db at 10.1.2.3:5432 refused</pre>"),
            "/api/v1/headless/enveloped-500" => HttpResponse::InternalServerError().json(json!({
                "requestID": "r-1", "timestamp": "2026-01-01T00:00:00.000Z", "data": null,
                "error": {"code": "INTERNAL_ERROR", "message": "try later", "retryable": true}
            })),
            "/api/v1/headless/moved" => HttpResponse::Created()
                .insert_header((
                    "Location",
                    format!(
                        "http://{}/api/v1/headless/journeys/j-9",
                        req.connection_info().host()
                    ),
                ))
                .insert_header(("Cache-Control", "public, max-age=3600"))
                .json(json!({"data": {"journeyID": "j-9"}})),
            "/api/v1/headless/elsewhere" => HttpResponse::Found()
                .insert_header(("Location", "http://10.0.0.7:8080/internal/admin"))
                .finish(),
            _ => HttpResponse::NotFound().finish(),
        }
    })
    .await;
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", standin.base_url.clone())
            .set("upstream.max_response_bytes", CAP.to_string()),
    )
    .await;
    (standin, app)
}

#[tokio::test]
async fn an_upstream_answer_over_the_cap_is_502_and_never_stored_for_replay() {
    let (standin, app) = hostile().await;
    let c = Client::bearer(&app, &new_user());
    for path in ["/v1/headless/big", "/v1/headless/big-chunked"] {
        let r = c.call("GET", path, None).await;
        assert_eq!(r.status, 502, "{path}: {}", &r.raw[..r.raw.len().min(200)]);
        assert_eq!(r.body["error"]["code"], "UPSTREAM_RESPONSE_TOO_LARGE");
    }
    assert_eq!(c.call("GET", "/v1/headless/small", None).await.status, 200);
    for _ in 0..2 {
        let r = c
            .call_keyed("POST", "/v1/headless/big", Some(json!({})), Some("big-1"))
            .await;
        assert_eq!(r.status, 502, "{}", &r.raw[..r.raw.len().min(200)]);
        assert_eq!(r.body["error"]["code"], "UPSTREAM_RESPONSE_TOO_LARGE");
        assert_eq!(r.header("idempotent-replayed"), None);
    }
    assert_eq!(
        standin.calls("POST", "/api/v1/headless/big"),
        2,
        "the claim was released: the retry ran"
    );
}

#[tokio::test]
async fn upstream_internals_never_reach_apps() {
    let (standin, app) = hostile().await;
    let c = Client::bearer(&app, &new_user());

    let r = c.call("GET", "/v1/headless/crash", None).await;
    assert_eq!(r.status, 502, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UPSTREAM_BAD_RESPONSE");
    assert!(!r.raw.contains("10.1.2.3") && !r.raw.contains("Traceback"));
    for _ in 0..2 {
        let r = c
            .call_keyed(
                "POST",
                "/v1/headless/crash",
                Some(json!({})),
                Some("crash-1"),
            )
            .await;
        assert_eq!(
            r.body["error"]["code"], "UPSTREAM_BAD_RESPONSE",
            "{}",
            r.raw
        );
    }
    assert_eq!(standin.calls("POST", "/api/v1/headless/crash"), 2);

    // The upstream's own error envelope passes through, but a 5xx is not stored for replay.
    for _ in 0..2 {
        let r = c
            .call_keyed(
                "POST",
                "/v1/headless/enveloped-500",
                Some(json!({})),
                Some("e-1"),
            )
            .await;
        assert_eq!(r.status, 500, "{}", r.raw);
        assert_eq!(r.body["error"]["code"], "INTERNAL_ERROR");
        assert_eq!(r.header("idempotent-replayed"), None);
    }
    assert_eq!(standin.calls("POST", "/api/v1/headless/enveloped-500"), 2);

    let r = c.call("GET", "/v1/headless/moved", None).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.header("location"), Some("/v1/headless/journeys/j-9"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    let r = c.call("GET", "/v1/headless/elsewhere", None).await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), None, "a foreign location is dropped");

    for path in ["/healthz", "/no/such/route", "/v1/session"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}
