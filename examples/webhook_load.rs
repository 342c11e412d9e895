//! Webhook load generator: how many verified `journey.snapshot` deliveries per second the receiver
//! accepts (and stores) against a real Redis, and where the time goes.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6390 cargo run --release --example webhook_load -- \
//!     --secs 10 --concurrency 32 --workers 2
//! ```
//!
//! Phases (each bounded in time):
//! 1. `verify`: the pure signature check (`Verifier::verify`) on a typical body, N iterations.
//! 2. `parse`: the snapshot parser on the same body.
//! 3. `store`: the storage pipeline alone (`Ingestor::ingest`: dedupe claim, mapping, ordered
//!    journey update, feed append, history, done marker) — sequential, so it is the latency of
//!    one event's Redis round trips; then the same with `--concurrency` tasks.
//! 4. `http`: the whole receiver over HTTP (fresh event id, fresh signature per request) with
//!    `--concurrency` clients for `--secs` seconds, in the same process as the server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aarthik_bff::config::{self, LoadOptions};
use aarthik_bff::directory::Directory;
use aarthik_bff::events::Events;
use aarthik_bff::startup::Application;
use aarthik_bff::store::{RedisStore, Store};
use aarthik_bff::webhook::ingest::Ingestor;
use aarthik_bff::webhook::verify::{sign, Verifier};
use aarthik_bff::webhook::{payload, Forwarder};
use secrecy::SecretString;

const SECRET: &str = "whsec_bench_secret";

struct Args {
    secs: u64,
    concurrency: usize,
    workers: usize,
    redis_url: String,
}

fn args() -> Args {
    let mut a = Args {
        secs: 10,
        concurrency: 32,
        workers: 2,
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--secs" => a.secs = v.parse().unwrap_or(a.secs).clamp(1, 300),
            "--concurrency" => a.concurrency = v.parse().unwrap_or(a.concurrency).clamp(1, 1024),
            "--workers" => a.workers = v.parse().unwrap_or(a.workers).clamp(1, 64),
            "--redis-url" => a.redis_url = v,
            other => {
                eprintln!(
                    "unknown flag {other}; flags: --secs --concurrency --workers --redis-url"
                );
                std::process::exit(2);
            }
        }
    }
    a
}

fn body(event_id: &str, journey: u64, sequence: u64) -> String {
    serde_json::json!({
        "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": event_id,
        "event_at": "2026-04-02T09:16:10.000Z", "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
        "sequence": sequence,
        "issuer": { "source": "credit-api", "trigger": "journey.offer.updated" },
        "tenant_id": "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9",
        "application_id": "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b",
        "origin_experience": "API", "current_experience_surface": "API",
        "borrower": { "borrowerExternalID": format!("bench-user-{}", journey % 500),
            "journeys": [{ "journeyID": format!("bench-journey-{journey}"), "type": "PERSONAL_LOAN",
                           "status": "OFFERS_AVAILABLE", "nextAction": "VIEW_OFFERS" }] }
    })
    .to_string()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Run `f` repeatedly for about `budget`; returns (iterations, mean ns).
fn time_loop(budget: Duration, mut f: impl FnMut()) -> (u64, f64) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    (n, start.elapsed().as_nanos() as f64 / n as f64)
}

#[tokio::main]
async fn main() {
    let a = args();
    let prefix = format!("bench:{}:", uuid::Uuid::new_v4().simple());
    let settings = config::load(
        LoadOptions {
            env: Some("bench".into()),
            config_dir: Some("config".into()),
            read_env_vars: false,
            overrides: Vec::new(),
        }
        .set("server.port", "0")
        .set("server.workers", a.workers.to_string())
        .set("store.redis_url", a.redis_url.clone())
        .set("store.key_prefix", prefix.clone())
        .set("webhook.secrets", SECRET)
        // No sandbox: only this load generator sends webhooks.
        .set("upstream.base_url", "http://127.0.0.1:9"),
    )
    .expect("configuration");
    println!(
        "webhook_load: {} s, concurrency {}, {} server worker(s), {} CPU(s), Redis {}",
        a.secs,
        a.concurrency,
        a.workers,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        a.redis_url
    );

    // 1-2. Pure CPU: verify and parse.
    let sample = body("evt_01KBSAMPLE0000000000000000", 1, 1_775_121_370_123);
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = sign(SECRET.as_bytes(), &ts, sample.as_bytes());
    let one = Verifier::new(&[SecretString::from(SECRET.to_owned())]);
    let two = Verifier::new(&[
        SecretString::from("whsec_previous".to_owned()),
        SecretString::from(SECRET.to_owned()),
    ]);
    let (n, ns) = time_loop(Duration::from_secs(1), || {
        assert!(one.verify(&ts, sample.as_bytes(), &sig));
    });
    println!(
        "verify   1 secret : {:>8.2} µs/op ({n} ops, body {} bytes)",
        ns / 1000.0,
        sample.len()
    );
    let (n, ns2) = time_loop(Duration::from_secs(1), || {
        assert!(two.verify(&ts, sample.as_bytes(), &sig));
    });
    println!("verify   2 secrets: {:>8.2} µs/op ({n} ops)", ns2 / 1000.0);
    let (n, nsp) = time_loop(Duration::from_secs(1), || {
        assert!(payload::parse(sample.as_bytes()).is_ok());
    });
    println!("parse             : {:>8.2} µs/op ({n} ops)", nsp / 1000.0);

    // 3. Storage alone.
    let store: Arc<dyn Store> = Arc::new(
        RedisStore::new(
            &a.redis_url,
            &prefix,
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .expect("redis"),
    );
    store.ping().await.expect("redis reachable");
    let ping_start = Instant::now();
    for _ in 0..1000 {
        store.ping().await.expect("ping");
    }
    let ping_us = ping_start.elapsed().as_secs_f64() * 1e6 / 1000.0;
    println!("redis PING        : {ping_us:>8.2} µs round trip");
    let ingestor = Ingestor::new(
        Arc::clone(&store),
        Events::new(Arc::clone(&store), &settings),
        Directory::new(Arc::clone(&store)),
        &settings,
        Forwarder::off(Arc::clone(&store)).expect("forwarding (off)"),
    );
    let seq = Arc::new(AtomicU64::new(1_775_121_370_000));
    let mut lat = Vec::new();
    let until = Instant::now() + Duration::from_secs(a.secs.min(5));
    while Instant::now() < until {
        let s = seq.fetch_add(1, Ordering::Relaxed);
        let snap =
            payload::parse(body(&format!("evt_s{s}"), s % 1000, s).as_bytes()).expect("parse");
        let t = Instant::now();
        ingestor.ingest(&snap, b"{}").await.expect("ingest");
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "store    sequential: {:>8.0} events/s, p50 {:.3} ms, p99 {:.3} ms ({} events)",
        lat.len() as f64 / a.secs.min(5) as f64,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.len()
    );
    let stored = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(a.secs.min(5));
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|_| {
            let (ingestor, seq, stored) = (ingestor.clone(), Arc::clone(&seq), Arc::clone(&stored));
            tokio::spawn(async move {
                while Instant::now() < until {
                    let s = seq.fetch_add(1, Ordering::Relaxed);
                    let snap = payload::parse(body(&format!("evt_c{s}"), s % 1000, s).as_bytes())
                        .expect("parse");
                    if ingestor.ingest(&snap, b"{}").await.is_ok() {
                        stored.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "store    concurrent: {:>8.0} events/s ({} tasks)",
        stored.load(Ordering::Relaxed) as f64 / a.secs.min(5) as f64,
        a.concurrency
    );

    // 4. Over HTTP.
    let app = Application::build(settings).await.expect("app builds");
    let url = format!("http://127.0.0.1:{}/v1/webhooks/aarthik", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .expect("client");
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(a.secs);
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|_| {
            let (client, url, seq) = (client.clone(), url.clone(), Arc::clone(&seq));
            let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < until {
                    let s = seq.fetch_add(1, Ordering::Relaxed);
                    let event = format!("evt_h{s}");
                    let b = body(&event, s % 1000, s);
                    let ts = chrono::Utc::now().timestamp().to_string();
                    let sig = sign(SECRET.as_bytes(), &ts, b.as_bytes());
                    let t = Instant::now();
                    let res = client
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .header("X-AL-Event-ID", &event)
                        .header("X-AL-Webhook-Timestamp", &ts)
                        .header("X-AL-Webhook-Signature", sig)
                        .timeout(Duration::from_secs(10))
                        .body(b)
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            lat.push(t.elapsed());
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            lat.extend(l);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "http     accepted  : {:>8.0} webhooks/s ({} ok, {} failed in {:.1} s), p50 {:.2} ms, p99 {:.2} ms",
        ok.load(Ordering::Relaxed) as f64 / elapsed,
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        elapsed,
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    println!(
        "(keys under prefix {prefix} are left in Redis; they expire with the feed/dedupe TTLs)"
    );
}
