//! De-duplication of webhook deliveries: a repeated event is acknowledged and stored once, also
//! when copies race on two instances sharing Redis and when the store was down for the first try.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_and_stored_once() {
    let app = spawn_app().await;
    let event = new_event_id();
    let journey = uuid::Uuid::new_v4().to_string();
    let body = snapshot_body(&event, &journey, 7, "OFFERS_AVAILABLE", "u-dup");
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let (status, env) = status_and_body(app.post_webhook(&body).await).await;
        assert_eq!(status, 200, "{env}");
        outcomes.push(env["data"]["outcome"].as_str().unwrap().to_owned());
    }
    assert_eq!(outcomes, ["stored", "duplicate", "duplicate"]);
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == event.as_str())
            .count(),
        1
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["events"].as_array().unwrap().len(), 1);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"bff_webhook_events_total{outcome="stored"} 1"#)
            && metrics.contains(r#"bff_webhook_events_total{outcome="duplicate"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn concurrent_duplicates_on_two_instances_sharing_redis_are_stored_once() {
    let options = base_options();
    let a = spawn_app_with(options.clone()).await;
    let b = spawn_app_with(options).await;
    for _round in 0..3 {
        let event = new_event_id();
        let body = snapshot_body(&event, &uuid::Uuid::new_v4().to_string(), 9, "X", "u-race");
        let sends = (0..10).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            let body = body.clone();
            async move { status_and_body(app.post_webhook(&body).await).await }
        });
        let results = futures_util::future::join_all(sends).await;
        let mut stored = 0;
        for (status, env) in &results {
            assert_eq!(*status, 200, "{env}");
            if env["data"]["outcome"] == "stored" {
                stored += 1;
            }
        }
        assert_eq!(stored, 1, "{results:?}");
        for app in [&a, &b] {
            let feed = app.ops_feed().await;
            assert_eq!(
                feed.iter()
                    .filter(|e| e["eventID"] == event.as_str())
                    .count(),
                1
            );
        }
    }
}

// ---- Store outage -------------------------------------------------------------------------

struct RedisChild {
    child: std::process::Child,
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis(port: u16) -> RedisChild {
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts");
    RedisChild { child }
}

async fn redis_answers(port: u16) -> bool {
    eventually(10, || async move {
        let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            return false;
        };
        if s.write_all(b"PING\r\n").await.is_err() {
            return false;
        }
        let mut buf = [0u8; 16];
        matches!(s.read(&mut buf).await, Ok(n) if buf[..n].starts_with(b"+PONG"))
    })
    .await
}

#[tokio::test]
async fn while_redis_is_down_deliveries_get_503_and_the_retry_is_stored_exactly_once() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: redis-server is not on PATH; this test needs its own Redis to kill");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = start_redis(port);
    assert!(
        redis_answers(port).await,
        "private redis-server did not start"
    );
    let app =
        spawn_app_with(base_options().set("store.redis_url", format!("redis://127.0.0.1:{port}")))
            .await;
    let journey = uuid::Uuid::new_v4().to_string();
    let first = snapshot_body(&new_event_id(), &journey, 1, "PROFILE_REQUIRED", "u-out");
    assert_eq!(app.post_webhook(&first).await.status().as_u16(), 200);

    drop(redis);
    let event = new_event_id();
    let body = snapshot_body(&event, &journey, 2, "OFFERS_PENDING", "u-out");
    let res = app.post_webhook(&body).await;
    assert!(res.headers().contains_key("retry-after"));
    let env = assert_refused(res, 503, "STORE_UNAVAILABLE").await;
    assert!(
        !env.to_string().contains(&port.to_string()),
        "no internals in the body: {env}"
    );

    let _redis = start_redis(port);
    assert!(redis_answers(port).await, "redis-server did not restart");
    // The sender retries until it gets a 2xx.
    let stored = eventually(30, || {
        let (app, body) = (&app, &body);
        async move { app.post_webhook(body).await.status().as_u16() == 200 }
    })
    .await;
    assert!(stored, "the retried delivery was never accepted");
    let (status, env) = status_and_body(app.post_webhook(&body).await).await;
    assert_eq!(
        (status, env["data"]["outcome"].as_str()),
        (200, Some("duplicate"))
    );
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == event.as_str())
            .count(),
        1
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_PENDING");
}
