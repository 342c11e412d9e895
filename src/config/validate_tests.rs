//! Unit tests of `validate`.
use super::super::{load, test_options as opts};
use super::*;

#[test]
fn an_api_key_without_the_sk_prefix_is_refused() {
    let e = load(opts().set("upstream.api_key", "pk_oops")).unwrap_err();
    assert_eq!(e.key, "upstream.api_key");
}

#[test]
fn the_api_version_is_empty_or_a_calendar_date() {
    for bad in ["latest", "2026-3-5", "2026-02-30"] {
        let e = load(opts().set("upstream.api_version", bad)).unwrap_err();
        assert_eq!(e.key, "upstream.api_version", "{bad}: {e}");
    }
    let s = load(opts().set("upstream.api_version", "2026-03-05")).unwrap();
    assert_eq!(s.api_version(), Some("2026-03-05"));
    assert_eq!(load(opts()).unwrap().api_version(), None);
}

#[test]
fn forwarding_needs_http_urls_and_a_secret() {
    let e = load(opts().set("webhook.forward_urls", "ftp://x.example")).unwrap_err();
    assert_eq!(e.key, "webhook.forward_urls");
    let e = load(opts().set("webhook.forward_urls", "http://127.0.0.1:9/h")).unwrap_err();
    assert_eq!(e.key, "webhook.forward_secret");
    let s = load(
        opts()
            .set(
                "webhook.forward_urls",
                "http://a.example/h, https://b.example/h",
            )
            .set("webhook.forward_secret", "whsec_partner"),
    )
    .unwrap();
    assert_eq!(s.webhook_forward_urls().len(), 2);
    assert!(!format!("{s:?}").contains("whsec_partner"));
}

#[test]
fn ops_tokens_may_name_their_operator() {
    let s = load(opts().set("ops.tokens", "alice:token-a, token-b,bob:b:c")).unwrap();
    let named: Vec<(String, String)> = s
        .ops_operators()
        .into_iter()
        .map(|(n, t)| (n, t.expose_secret().to_owned()))
        .collect();
    assert_eq!(
        named,
        [
            ("alice".to_owned(), "token-a".to_owned()),
            ("ops".to_owned(), "token-b".to_owned()),
            ("bob".to_owned(), "b:c".to_owned()),
        ]
    );
    for bad in [":token", "alice:", "a b:token", "al\u{7}ice:token"] {
        let e = load(opts().set("ops.tokens", bad)).unwrap_err();
        assert_eq!(e.key, "ops.tokens", "{bad}");
        assert!(!e.problem.contains("token-"), "{e}");
    }
}

#[test]
fn extra_ports_differ_from_the_main_one_and_each_other() {
    let e = load(opts().set("server.metrics_port", "8080")).unwrap_err();
    assert_eq!(e.key, "server.metrics_port");
    let e = load(
        opts()
            .set("server.metrics_port", "9100")
            .set("server.ops_port", "9100"),
    )
    .unwrap_err();
    assert_eq!(e.key, "server.ops_port");
    let s = load(
        opts()
            .set("server.port", "0")
            .set("server.metrics_port", "9100")
            .set("server.ops_port", "9101"),
    )
    .unwrap();
    assert_eq!((s.server.metrics_port, s.server.ops_port), (9100, 9101));
    assert_eq!(s.server.shutdown_delay_secs, 0);
}

#[test]
fn bad_encryption_keys_are_refused_naming_the_key() {
    for bad in ["", "k1:c2hvcnQ=", "nocolon", "a.b:MDEy", "k1:!!!"] {
        let e = load(opts().set("session.encryption_keys", bad)).unwrap_err();
        assert_eq!(e.key, "session.encryption_keys", "{bad}: {e}");
    }
    let rotated = "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=, k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
    assert!(check_encryption_keys(rotated).is_ok());
}

#[test]
fn the_otlp_endpoint_is_empty_or_a_plain_http_url() {
    assert!(!load(opts()).unwrap().telemetry.exports_traces());
    for bad in [
        "collector:4318",
        "grpc://collector:4317",
        "http://user:pw@collector:4318",
        "http://collector:4318/?x=1",
    ] {
        let e = load(opts().set("telemetry.otlp_endpoint", bad)).unwrap_err();
        assert_eq!(e.key, "telemetry.otlp_endpoint", "{bad}: {e}");
    }
    let s = load(opts().set("telemetry.otlp_endpoint", "http://127.0.0.1:4318")).unwrap();
    assert!(s.telemetry.exports_traces());
}
