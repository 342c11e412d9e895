//! Telemetry as an operator sees it: request traces exported over OTLP/HTTP to a collector (a
//! small receiver here, decoding the protobuf with the generated OTLP types), and the metric
//! families of `/metrics`, checked against `docs/metrics.md`, the Grafana dashboard and the alert
//! rules in `deploy/observability/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use serde_json::json;

use crate::helpers::*;

/// One exported span, flattened: ids in hex.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    kind: i32,
    attributes: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Exported>>>);

impl Collector {
    fn spans(&self) -> Vec<Exported> {
        self.0.lock().unwrap().clone()
    }
}

fn text_of(v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// An OTLP/HTTP receiver: `POST /v1/traces` with a protobuf body, answered 200.
async fn start_collector(collector: Collector) -> u16 {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let collector = collector.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let collector = collector.clone();
                async move {
                    let Ok(req) = ExportTraceServiceRequest::decode(body.as_ref()) else {
                        return HttpResponse::BadRequest().finish();
                    };
                    let mut all = collector.0.lock().unwrap();
                    for rs in req.resource_spans {
                        let service = rs
                            .resource
                            .iter()
                            .flat_map(|r| &r.attributes)
                            .find(|a| a.key == "service.name")
                            .map(|a| text_of(&a.value))
                            .unwrap_or_default();
                        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
                            all.push(Exported {
                                service: service.clone(),
                                trace_id: hex::encode(&span.trace_id),
                                span_id: hex::encode(&span.span_id),
                                parent_span_id: hex::encode(&span.parent_span_id),
                                name: span.name.clone(),
                                kind: span.kind,
                                attributes: span
                                    .attributes
                                    .iter()
                                    .map(|a| (a.key.clone(), text_of(&a.value)))
                                    .collect(),
                            });
                        }
                    }
                    HttpResponse::Ok()
                        .content_type("application/x-protobuf")
                        .finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn request_spans_reach_the_collector_in_the_callers_trace_with_store_and_upstream_children() {
    let collector = Collector::default();
    let port = start_collector(collector.clone()).await;
    let mut cmd = bff_command();
    cmd.env("BFF__SERVER__PORT", "0")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .env(
            "BFF__TELEMETRY__OTLP_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .env_remove("OTEL_SERVICE_NAME")
        // `upstream answered` is a debug event logged inside the upstream call's span.
        .env("RUST_LOG", "debug")
        // Longer than the test: the spans must come from the flush at shutdown.
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000");
    let mut child = Running::spawn(cmd);
    let bff = child.bff_port().await;
    let settings = load_settings(repo_options(None));
    let jwt = mint_jwt(&settings, "trace-user", 120);
    let res = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{bff}/v1/session"))
        .bearer_auth(&jwt)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .json(&json!({"journeyType": "PERSONAL_LOAN"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", child.output());
    // A request without a traceparent starts a trace of its own.
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{bff}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(
        collector.spans().is_empty(),
        "nothing is sent before the batch is due"
    );
    assert!(child.terminate(20).await, "the service stops on SIGTERM");
    assert!(
        eventually(10, || async { !collector.spans().is_empty() }).await,
        "no span was exported at shutdown: {}",
        child.output()
    );
    let spans = collector.spans();
    let ours: Vec<&Exported> = spans.iter().filter(|s| s.trace_id == TRACE_ID).collect();
    let server: Vec<&&Exported> = ours
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!(server.len(), 1, "one request span: {spans:#?}");
    let server = server[0];
    assert_eq!(
        server.parent_span_id, CALLER_SPAN,
        "the caller's span is the parent"
    );
    assert_eq!(server.service, "aarthik-bff");
    assert_eq!(server.name, "POST /v1/session");
    assert_eq!(
        server.attributes.get("status").map(String::as_str),
        Some("200")
    );
    let children: Vec<&&Exported> = ours
        .iter()
        .filter(|s| s.parent_span_id == server.span_id)
        .collect();
    assert!(
        children.iter().any(
            |s| s.attributes.contains_key("db.operation") && s.kind == SpanKind::Client as i32
        ),
        "store calls are child spans of the request: {ours:#?}"
    );
    let upstream = children
        .iter()
        .find(|s| {
            s.attributes.get("http.route").map(String::as_str) == Some("/api/v1/headless/sessions")
        })
        .unwrap_or_else(|| panic!("the upstream call is a child span: {ours:#?}"));
    assert_eq!(upstream.kind, SpanKind::Client as i32);
    assert_eq!(upstream.name, "POST /api/v1/headless/sessions");
    assert_eq!(
        upstream
            .attributes
            .get("http.response.status_code")
            .map(String::as_str),
        Some("200")
    );
    // The health check: its own trace, a root span.
    assert!(
        spans.iter().any(|s| s.name == "GET /healthz"
            && s.trace_id != TRACE_ID
            && s.parent_span_id.is_empty()),
        "{spans:#?}"
    );
    // The logs are unchanged by the child spans: a line logged inside the upstream call still
    // carries the request span's fields, with the caller's trace id.
    let output = child.output();
    let answered: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "upstream answered")
        .collect();
    assert!(!answered.is_empty(), "{output}");
    assert!(
        answered.iter().any(|v| v["span"]["name"] == "request"
            && v["span"]["trace_id"] == TRACE_ID
            && v["span"]["correlation_id"].is_string()),
        "{answered:#?}"
    );
    assert!(
        answered.iter().all(|v| v["span"]["name"] == "request"),
        "{answered:#?}"
    );
    // No background poll started a trace of its own.
    assert!(
        spans.iter().all(|s| s.kind == SpanKind::Server as i32
            || spans.iter().any(|p| p.span_id == s.parent_span_id)),
        "every child span has its request span: {spans:#?}"
    );
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The families of a Prometheus text exposition (`# TYPE name kind`).
fn exported_families(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect()
}

/// The families `docs/metrics.md` documents: the first cell of a table row, in backticks, with
/// the type in the second cell.
fn documented_families() -> BTreeMap<String, String> {
    read("docs/metrics.md")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let name = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(1)?.to_string()))
        })
        .collect()
}

/// Every metric name an expression file refers to (`bff_*`, `process_*`, and Prometheus's own
/// `up`), histogram series (`_bucket`, `_sum`, `_count`) named by their family.
fn referenced_metrics(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| is_name(c)) {
        let tail = &rest[start..];
        let end = tail.find(|c: char| !is_name(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        let boundary = start == 0 || !rest[..start].ends_with(|c: char| is_name(c));
        if boundary && (word.starts_with("bff_") || word.starts_with("process_")) {
            names.insert(word.to_owned());
        }
        if boundary && word == "up" && tail[end..].trim_start().starts_with(['{', '=']) {
            names.insert(word.to_owned());
        }
        rest = &tail[end..];
    }
    names
}

fn family_of(series: &str, families: &BTreeMap<String, String>) -> Option<String> {
    if families.contains_key(series) {
        return Some(series.to_owned());
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|s| series.strip_suffix(s))
        .find(|f| families.get(*f).is_some_and(|k| k == "histogram"))
        .map(str::to_owned)
}

/// The value of the series `needle` (name and labels as exposed) in an exposition.
fn value_in(text: &str, needle: &str) -> Option<f64> {
    text.lines()
        .find(|l| {
            l.strip_prefix(needle)
                .is_some_and(|rest| rest.starts_with(' '))
        })?
        .rsplit(' ')
        .next()?
        .parse()
        .ok()
}

/// Series that Prometheus itself adds to every scrape (documented, never exported).
const PROMETHEUS_OWN: &[&str] = &["up"];

#[tokio::test]
async fn every_family_is_exported_after_traffic_documented_and_what_dashboards_and_alerts_use() {
    let forwarded = Arc::new(Mutex::new(0usize));
    let receiver_port = {
        use actix_web::{web, App, HttpResponse, HttpServer};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let forwarded = Arc::clone(&forwarded);
        let server = HttpServer::new(move || {
            let forwarded = Arc::clone(&forwarded);
            App::new().default_service(web::to(move || {
                let forwarded = Arc::clone(&forwarded);
                async move {
                    *forwarded.lock().unwrap() += 1;
                    HttpResponse::Ok().finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        port
    };
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "embedded")
            // A refresh right after the mint reaches the upstream.
            .set("session.reuse_window_secs", "0")
            .set(
                "webhook.forward_urls",
                format!("http://127.0.0.1:{receiver_port}/hooks"),
            )
            .set("webhook.forward_secret", "whsec_partner_own"),
    )
    .await;
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
    // Sessions (mint and refresh), proxied calls with one key twice (run, replayed), webhooks
    // (one stored and forwarded, one refused).
    let user = new_user();
    let c = Client::bearer(&app, &user);
    let (status, body) = post_as(&app, "/v1/session", &jwt(&app, &user)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_as(&app, "/v1/session/refresh", &jwt(&app, &user)).await;
    assert_eq!(status, 200, "{body}");
    let create = json!({"journeyType": "PERSONAL_LOAN"});
    let first = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(create.clone()),
            Some("k-metrics-1"),
        )
        .await;
    let again = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(create),
            Some("k-metrics-1"),
        )
        .await;
    assert_eq!(first.status, again.status);
    let event = new_event_id();
    let snapshot = snapshot_body(&event, "j-metrics", 1, "X", &user);
    assert_eq!(app.post_webhook(&snapshot).await.status().as_u16(), 200);
    let refused = app.post_webhook_signed(&snapshot, "whsec_not_ours").await;
    assert_eq!(refused.status().as_u16(), 401);
    assert!(
        eventually(10, || async { *forwarded.lock().unwrap() >= 1 }).await,
        "the event was not forwarded"
    );

    let text = metrics().await;
    let families = exported_families(&text);
    let line = |needle: &str| {
        value_in(&text, needle).unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"))
    };
    assert!(line(r#"bff_session_upstream_calls_total{kind="mint"}"#) >= 1.0);
    assert!(line(r#"bff_session_upstream_calls_total{kind="refresh"}"#) >= 1.0);
    assert_eq!(
        line(r#"bff_idempotency_requests_total{outcome="run"}"#),
        1.0
    );
    assert_eq!(
        line(r#"bff_idempotency_requests_total{outcome="replayed"}"#),
        1.0
    );
    assert_eq!(
        line(r#"bff_webhook_rejections_total{reason="signature"}"#),
        1.0
    );
    // (The embedded sandbox also delivers webhooks of its own journeys.)
    assert!(line(r#"bff_webhook_events_total{outcome="stored"}"#) >= 1.0);
    assert!(line(r#"bff_webhook_forward_attempts_total{outcome="delivered"}"#) >= 1.0);
    assert!(
        eventually(5, || async {
            value_in(
                &metrics().await,
                r#"bff_webhook_forward_events_total{outcome="delivered"}"#,
            )
            .is_some_and(|v| v >= 1.0)
        })
        .await
    );
    assert!(line(r#"bff_store_operation_duration_seconds_count{op="put_versioned"}"#) >= 1.0);
    assert!(
        text.contains(r#"route="/api/v1/headless/journeys""#)
            && text.contains(r#"route="/api/v1/headless/sessions""#),
        "upstream calls are labelled by route template: {text}"
    );
    assert!(
        !text.contains("j-metrics") && !text.contains(&user),
        "no request input becomes a label"
    );
    if cfg!(target_os = "linux") {
        assert!(line("process_resident_memory_bytes") > 0.0);
    }

    // Exported ⇔ documented, with the documented type.
    let documented = documented_families();
    let mut problems = Vec::new();
    for (name, kind) in &families {
        match documented.get(name) {
            None => problems.push(format!("{name}: exported but not in docs/metrics.md")),
            Some(doc) if doc != kind => problems.push(format!(
                "{name}: docs/metrics.md says {doc}, exported as {kind}"
            )),
            Some(_) => {}
        }
    }
    for name in documented.keys() {
        if !families.contains_key(name) && !PROMETHEUS_OWN.contains(&name.as_str()) {
            problems.push(format!("{name}: in docs/metrics.md but not exported"));
        }
    }
    // Everything the dashboard and the alert rules query exists.
    let dashboard = read("deploy/observability/grafana-dashboard.json");
    let parsed: serde_json::Value =
        serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| !p.is_empty()));
    let alerts = read("deploy/observability/alerts.yml");
    for (file, text) in [
        ("grafana-dashboard.json", &dashboard),
        ("alerts.yml", &alerts),
    ] {
        let used = referenced_metrics(text);
        assert!(used.len() > 5, "{file}: no metric found");
        for series in used {
            if PROMETHEUS_OWN.contains(&series.as_str()) {
                if !documented.contains_key(&series) {
                    problems.push(format!("{file}: `{series}` is not in docs/metrics.md"));
                }
                continue;
            }
            match family_of(&series, &families) {
                Some(f) if documented.contains_key(&f) => {}
                Some(f) => problems.push(format!("{file}: `{f}` is not in docs/metrics.md")),
                None => problems.push(format!("{file}: `{series}` is not exported")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn metric_names_are_found_in_expressions() {
    let found = referenced_metrics(
        r#"sum(rate(bff_http_requests_total{status=~"5.."}[5m])) / histogram_quantile(0.99, bff_upstream_request_duration_seconds_bucket) and up{job="x"} == 0 and process_open_fds; setup_bff_x"#,
    );
    let want: BTreeSet<String> = [
        "bff_http_requests_total",
        "bff_upstream_request_duration_seconds_bucket",
        "up",
        "process_open_fds",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(found, want);
}
