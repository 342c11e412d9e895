//! Recovery from a Redis outage while the service is serving: a restart of the server, and a
//! Sentinel failover. Meanwhile the answer is 503 `STORE_UNAVAILABLE` (never a hang or a 500);
//! within seconds of Redis being back the answers are normal again, with nothing acknowledged
//! lost and no idempotent call run twice upstream. Each test prints its timeline.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

fn journey_body() -> serde_json::Value {
    json!({"type": "PERSONAL_LOAN", "metadata": {"source": "recovery-test"}})
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

async fn status(app: &TestApp, path: &str) -> u16 {
    app.ops_get(path).await.status().as_u16()
}

#[tokio::test]
async fn a_redis_restart_is_503_store_unavailable_meanwhile_and_heals_by_itself() {
    // Durable: what was acknowledged before the crash is on disk and comes back.
    let mut redis = OwnRedis::start(true);
    let e = env_with(fast_sandbox(), |o| {
        o.set("store.redis_url", redis.url())
            .set("store.connect_timeout_ms", "300")
            .set("store.response_timeout_ms", "300")
    })
    .await;
    let app = &e.app;
    let journey = uuid::Uuid::new_v4().to_string();
    let acked = new_event_id();
    let body = snapshot_body(&acked, &journey, 1, "PROFILE_PENDING", "u-restart");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    let c = Client::bearer(app, &new_user());
    let first = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("restart-1"),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.raw);

    let t0 = Instant::now();
    redis.kill();
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_refused(r, 503, "STORE_UNAVAILABLE").await;
    let refused = new_event_id();
    let later = snapshot_body(&refused, &journey, 2, "OFFERS_PENDING", "u-restart");
    assert_refused(app.post_webhook(&later).await, 503, "STORE_UNAVAILABLE").await;
    assert_refused(
        app.ops_get("/v1/ops/events?limit=1").await,
        503,
        "STORE_UNAVAILABLE",
    )
    .await;
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("restart-2"),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (503, Some("STORE_UNAVAILABLE"))
    );
    let answered_503_for = t0.elapsed();

    redis.restart();
    let back = t0.elapsed();
    let healed = eventually(10, || async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
            && status(app, "/v1/ops/events?limit=1").await == 200
    })
    .await;
    let normal = t0.elapsed();
    eprintln!(
        "timeline: redis killed at 0 ms; 503 STORE_UNAVAILABLE answered until {} ms; restarted at {} ms; normal answers at {} ms ({} ms after the restart)",
        ms(answered_503_for),
        ms(back),
        ms(normal),
        ms(normal - back)
    );
    assert!(healed, "normal answers within 10 s of Redis being back");

    // Nothing acknowledged lost; the refused delivery is accepted when the sender retries.
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == acked.as_str())
            .count(),
        1
    );
    assert_eq!(app.post_webhook(&later).await.status().as_u16(), 200);
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == refused.as_str())
            .count(),
        1
    );
    // The idempotent call made before the crash is replayed, not run again upstream.
    let again = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("restart-1"),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.raw, first.raw);
    let posts = upstream_log(&e.sb, "/api/v1/headless/journeys").await;
    assert_eq!(
        posts.iter().filter(|r| r["method"] == "POST").count(),
        1,
        "{posts:?}"
    );
}

/// The replication state of a Redis server: (role, replica link up).
async fn role(port: u16) -> Option<String> {
    let info: String = redis_cmd(port, redis::cmd("INFO").arg("replication"))
        .await
        .ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("role:"))
        .map(|r| r.trim().to_owned())
}

#[tokio::test]
async fn a_sentinel_failover_is_followed_within_seconds() {
    // Its own master, replica and Sentinel: the shared Sentinel set-up serves the conformance
    // suite meanwhile.
    if mode_settings(Mode::Sentinel).is_none() {
        return;
    }
    const NAME: &str = "bfffailover";
    // A master that has lost its replica refuses writes (as the old master does once the replica
    // is promoted): what it acknowledges is never discarded by the failover.
    const SAFE: [&str; 4] = [
        "--min-replicas-to-write",
        "1",
        "--min-replicas-max-lag",
        "10",
    ];
    let master = OwnRedis::start_with(false, &SAFE);
    let mport = master.port.to_string();
    let mut replica_args = SAFE.to_vec();
    replica_args.extend(["--replicaof", "127.0.0.1", &mport]);
    let replica = OwnRedis::start_with(false, &replica_args);
    let linked = eventually(20, || async {
        let info: String = redis_cmd(replica.port, redis::cmd("INFO").arg("replication"))
            .await
            .unwrap_or_default();
        info.contains("master_link_status:up")
    })
    .await;
    assert!(linked, "the replica follows the master");
    let sentinel = OwnSentinel::start(NAME, master.port);
    // The Sentinel promotes only a replica it has talked to and that is in sync.
    let knows_replica = eventually(30, || async {
        let replicas: Vec<std::collections::HashMap<String, String>> = redis_cmd(
            sentinel.port,
            redis::cmd("SENTINEL").arg("REPLICAS").arg(NAME),
        )
        .await
        .unwrap_or_default();
        replicas.iter().any(|r| {
            r.get("flags").map(String::as_str) == Some("slave")
                && r.get("master-link-status").map(String::as_str) == Some("ok")
        })
    })
    .await;
    assert!(knows_replica, "the Sentinel knows a healthy replica");

    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "http://127.0.0.1:9")
            .set("store.redis_url", "")
            .set("store.sentinel_urls", sentinel.url())
            .set("store.sentinel_master", NAME)
            .set("store.connect_timeout_ms", "300")
            .set("store.response_timeout_ms", "300"),
    )
    .await;
    let journey = uuid::Uuid::new_v4().to_string();
    let mut seq = 0;
    let mut next_body = |status: &str| {
        seq += 1;
        let id = new_event_id();
        (
            id.clone(),
            snapshot_body(&id, &journey, seq, status, "u-failover"),
        )
    };
    let (before, body) = next_body("PROFILE_PENDING");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    assert_eq!(status(&app, "/v1/ops/events?limit=1").await, 200);

    let t0 = Instant::now();
    let _: String = redis_cmd(
        sentinel.port,
        redis::cmd("SENTINEL").arg("FAILOVER").arg(NAME),
    )
    .await
    .expect("SENTINEL FAILOVER");
    // Deliveries keep coming while the master changes: each answer is 200 or 503.
    let mut acked = vec![before];
    let (mut first_503, mut last_503, mut switched, mut normal_after_switch) =
        (None, None, None, None);
    while t0.elapsed() < Duration::from_secs(40) {
        let (id, body) = next_body("OFFERS_PENDING");
        let res = app.post_webhook(&body).await;
        let code = res.status().as_u16();
        let at = t0.elapsed();
        match code {
            200 => acked.push(id),
            503 => {
                assert_refused(res, 503, "STORE_UNAVAILABLE").await;
                first_503.get_or_insert(at);
                last_503 = Some(at);
            }
            other => panic!(
                "only 200 or 503 during a failover, got {other} at {} ms",
                ms(at)
            ),
        }
        if switched.is_none() && role(replica.port).await.as_deref() == Some("master") {
            switched = Some(at);
        }
        if switched.is_some_and(|s| at > s) && code == 200 && normal_after_switch.is_none() {
            normal_after_switch = Some(at);
        }
        if normal_after_switch.is_some_and(|n| at > n + Duration::from_secs(2)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fmt = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{} ms", ms(d)));
    eprintln!(
        "timeline: SENTINEL FAILOVER at 0 ms; replica promoted by {}; first 503 {}; last 503 {}; first 200 on the new master {}",
        fmt(switched),
        fmt(first_503),
        fmt(last_503),
        fmt(normal_after_switch)
    );
    let switched = switched.expect("the replica was promoted");
    let normal = normal_after_switch.expect("normal answers after the failover");
    // With one replica the new master accepts writes once the old master follows it.
    assert!(
        normal - switched < Duration::from_secs(30),
        "recovered by itself"
    );

    // The service writes to the new master: the old one is a replica now (or about to be).
    let written = eventually(15, || async {
        role(master.port).await.as_deref() == Some("slave")
    })
    .await;
    assert!(written, "the Sentinel turned the old master into a replica");
    let feed = app.ops_feed_of(&journey).await;
    let stored: std::collections::HashSet<&str> =
        feed.iter().filter_map(|e| e["eventID"].as_str()).collect();
    assert!(
        stored.contains(acked[0].as_str()),
        "acknowledged before the failover, kept"
    );
    let lost: Vec<&String> = acked
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    eprintln!(
        "acknowledged during the failover: {}, missing afterwards: {}",
        acked.len() - 1,
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged deliveries lost: {lost:?}");
}
