//! Forwarding stored events to the partner's own endpoints: re-signed with the partner secret,
//! retried after a failure, never forwarded twice.

use std::sync::{Arc, Mutex};

use crate::helpers::*;

/// What the tiny receiver got: headers and body of each request.
type Request = (actix_web::http::header::HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Request>>>);

async fn start_receiver(received: Received) -> u16 {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let received = received.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let received = received.clone();
            async move {
                let mut all = received.0.lock().unwrap();
                all.push((req.headers().clone(), body.to_vec()));
                // The first attempt fails, so the retry path is exercised.
                if all.len() == 1 {
                    HttpResponse::InternalServerError().finish()
                } else {
                    HttpResponse::Ok().finish()
                }
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

#[tokio::test]
async fn stored_events_are_forwarded_re_signed_with_the_partner_secret_and_retried() {
    let received = Received::default();
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(
        base_options()
            .set(
                "webhook.forward_urls",
                format!("http://127.0.0.1:{port}/hooks"),
            )
            .set("webhook.forward_secret", "whsec_partner_own")
            .set("webhook.forward_first_retry_ms", "50"),
    )
    .await;
    let (first, second) = (new_event_id(), new_event_id());
    let body = snapshot_body(&first, "j-fwd", 1, "X", "u-fwd");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    // A duplicate is not forwarded again.
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    let body2 = snapshot_body(&second, "j-fwd", 2, "Y", "u-fwd");
    assert_eq!(app.post_webhook(&body2).await.status().as_u16(), 200);

    let count = |id: &str| {
        received
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _)| h.get("x-al-event-id").and_then(|v| v.to_str().ok()) == Some(id))
            .count()
    };
    assert!(
        eventually(10, || async { count(&first) >= 2 && count(&second) >= 1 }).await,
        "forwards did not arrive"
    );
    assert_eq!(
        count(&first),
        2,
        "one failed attempt, one retry, no duplicate forward"
    );
    for (headers, got) in received.0.lock().unwrap().iter() {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        let ts = h("x-al-webhook-timestamp");
        assert_eq!(
            h("x-al-webhook-signature"),
            sign(b"whsec_partner_own", &ts, got)
        );
        assert_ne!(
            h("x-al-webhook-signature"),
            sign(DEV_WEBHOOK_SECRET.as_bytes(), &ts, got)
        );
        assert_eq!(h("x-al-tenant-id"), TENANT_ID);
        let id = h("x-al-event-id");
        let expected = if id == first { &body } else { &body2 };
        assert_eq!(
            got,
            expected.as_bytes(),
            "the body is forwarded byte for byte"
        );
    }
    // The failed attempt and the deliveries are counted.
    let metrics = || async {
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(
        eventually(5, || async {
            let m = metrics().await;
            m.contains(r#"bff_webhook_forward_attempts_total{outcome="http_error"} 1"#)
                && m.contains(r#"bff_webhook_forward_attempts_total{outcome="delivered"} 2"#)
                && m.contains(r#"bff_webhook_forward_events_total{outcome="delivered"} 2"#)
                && m.contains(r#"bff_webhook_forward_events_total{outcome="gave_up"} 0"#)
        })
        .await,
        "{}",
        metrics().await
    );
}
