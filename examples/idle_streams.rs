//! Idle live-update streams: what 1,000 open, idle `GET /v1/events/stream` connections cost a
//! running BFF in memory (RSS) and CPU, and how fast one update still reaches one of them.
//!
//! Run by `scripts/bench-streams.sh`, which builds in release mode and starts a private Redis and
//! the BFF on loopback; by hand:
//!
//! ```text
//! cargo run --release --example idle_streams -- --url http://127.0.0.1:8080 --pid <BFF pid> \
//!     --streams 1000 --idle-secs 30
//! ```
//!
//! Steps (each bounded in time): sample the BFF's RSS and CPU time (`/proc/<pid>`); open
//! `--streams` streams, one partner user each, and wait for each preamble; sample; stay idle for
//! `--idle-secs` (the streams only get heartbeats); sample; deliver one signed webhook for the
//! first user and time its arrival on that stream; close every stream; sample again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aarthik_bff::config::{self, LoadOptions};
use aarthik_contract::signature::sign;
use tokio::sync::Semaphore;

/// The development webhook secret (the BFF under test runs with the development defaults).
const WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";

struct Args {
    url: String,
    pid: u32,
    streams: usize,
    idle_secs: u64,
    clk_tck: f64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        pid: 0,
        streams: 1000,
        idle_secs: 30,
        clk_tck: 100.0,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--url" => a.url = v,
            "--pid" => a.pid = v.parse().unwrap_or(0),
            "--streams" => a.streams = v.parse().unwrap_or(a.streams).clamp(1, 10_000),
            "--idle-secs" => a.idle_secs = v.parse().unwrap_or(a.idle_secs).clamp(1, 300),
            "--clk-tck" => a.clk_tck = v.parse().unwrap_or(a.clk_tck),
            other => {
                eprintln!(
                    "unknown flag {other}; flags: --url --pid --streams --idle-secs --clk-tck"
                );
                std::process::exit(2);
            }
        }
    }
    if a.pid == 0 {
        eprintln!("--pid (the BFF's process id) is required");
        std::process::exit(2);
    }
    a
}

/// (resident set in KiB, CPU clock ticks used so far) of a process.
fn sample(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields
        .get(11)
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    (rss, ticks)
}

fn snapshot(event_id: &str, user: &str) -> String {
    serde_json::json!({
        "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": event_id,
        "event_at": "2026-04-02T09:16:10.000Z", "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
        "sequence": 1,
        "tenant_id": "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9",
        "application_id": "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b",
        "borrower": { "borrowerExternalID": user,
            "journeys": [{ "journeyID": format!("idle-journey-{event_id}"),
                           "status": "OFFERS_AVAILABLE", "nextAction": "VIEW_OFFERS" }] }
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    let a = args();
    let settings = config::load(LoadOptions {
        config_dir: Some("config".into()),
        ..Default::default()
    })
    .expect("development settings");
    let run = format!("{:x}", rand::random::<u32>());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("http client");

    let (rss0, cpu0) = sample(a.pid);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(64));
    let mut opening = Vec::with_capacity(a.streams);
    for i in 0..a.streams {
        let user = format!("idle-{run}-{i}");
        let jwt = aarthik_bff::auth::token::mint(&settings, &user, 3600).expect("jwt");
        let (client, gate, url) = (client.clone(), Arc::clone(&gate), a.url.clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.ok()?;
            let mut res = client
                .get(format!("{url}/v1/events/stream"))
                .bearer_auth(jwt)
                .send()
                .await
                .ok()?;
            if res.status() != 200 {
                return None;
            }
            res.chunk().await.ok()??; // the preamble: the stream is open
            Some(res)
        }));
    }
    let mut streams = Vec::with_capacity(a.streams);
    for o in opening {
        if let Ok(Some(res)) = o.await {
            streams.push(res);
        }
    }
    let open_secs = started.elapsed().as_secs_f64();
    let (rss1, cpu1) = sample(a.pid);
    println!(
        "opened {} of {} streams in {open_secs:.1} s",
        streams.len(),
        a.streams
    );

    tokio::time::sleep(Duration::from_secs(a.idle_secs)).await;
    let (rss2, cpu2) = sample(a.pid);

    // One update for the first user, timed from sending its webhook to the frame on the stream.
    let user = format!("idle-{run}-0");
    let body = snapshot(&format!("evt_idle_{run}"), &user);
    let ts = chrono::Utc::now().timestamp().to_string();
    let sent = Instant::now();
    let ack = client
        .post(format!("{}/v1/webhooks/aarthik", a.url))
        .header("Content-Type", "application/json")
        .header("X-AL-Event-ID", format!("evt_idle_{run}"))
        .header("X-AL-Webhook-Timestamp", &ts)
        .header(
            "X-AL-Webhook-Signature",
            sign(WEBHOOK_SECRET.as_bytes(), &ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    let mut latency = None;
    if let Some(first) = streams.first_mut() {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, first.chunk()).await {
            if String::from_utf8_lossy(&chunk).contains("event: journey.update") {
                latency = Some(sent.elapsed());
                break;
            }
        }
    }

    let open = streams.len();
    drop(streams);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss3, _) = sample(a.pid);

    let per_stream = |after: u64| (after.saturating_sub(rss0) as f64) * 1024.0 / open.max(1) as f64;
    let cpu_pct = (cpu2.saturating_sub(cpu1) as f64 / a.clk_tck) / a.idle_secs as f64 * 100.0;
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| streams open (idle) | {open} |");
    println!("| BFF RSS before | {:.1} MiB |", rss0 as f64 / 1024.0);
    println!(
        "| BFF RSS with the streams open | {:.1} MiB (+{:.1} KiB per stream) |",
        rss1 as f64 / 1024.0,
        per_stream(rss1) / 1024.0
    );
    println!(
        "| BFF RSS after {} s idle | {:.1} MiB (+{:.1} KiB per stream) |",
        a.idle_secs,
        rss2 as f64 / 1024.0,
        per_stream(rss2) / 1024.0
    );
    println!(
        "| BFF RSS 2 s after closing them | {:.1} MiB |",
        rss3 as f64 / 1024.0
    );
    println!(
        "| BFF CPU to open them | {:.2} s ({:.0} µs per stream) |",
        cpu1.saturating_sub(cpu0) as f64 / a.clk_tck,
        cpu1.saturating_sub(cpu0) as f64 / a.clk_tck * 1e6 / open.max(1) as f64
    );
    println!(
        "| BFF CPU while idle ({} s) | {:.2} s = {cpu_pct:.2} % of one core |",
        a.idle_secs,
        cpu2.saturating_sub(cpu1) as f64 / a.clk_tck
    );
    match latency {
        Some(l) => println!(
            "| one update, webhook sent → frame on its stream | {:.1} ms (webhook answered {ack}) |",
            l.as_secs_f64() * 1000.0
        ),
        None => println!("| one update | NOT received (webhook answered {ack}) |"),
    }
}
