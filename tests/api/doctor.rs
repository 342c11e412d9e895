//! `aarthik-bff doctor` as a partner runs it before going live: against the embedded sandbox,
//! against a standalone sandbox (`aarthik-bff sandbox`) with its refresh endpoint switched off in
//! `auto` and `endpoint` modes, with a wrong key (a clear FAIL that never prints the key), and
//! with `--webhook` against a running BFF (which acknowledges the ping and keeps nothing).

use std::process::Output;

use serde_json::{json, Value};

use crate::helpers::*;

const WRONG_KEY: &str = "sk_test_not_the_key_9f3c2a";

/// Run `aarthik-bff doctor` off the test's runtime (a BFF under test may be serving on it).
async fn doctor(envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = bff_command();
    c.arg("doctor").args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    tokio::task::spawn_blocking(move || run_within(c, 60))
        .await
        .expect("the doctor run")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The line of check `name` (`PASS  name  detail`).
fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no {name} line in:\n{out}"))
}

/// A standalone `aarthik-bff sandbox` on a free port, and its origin.
async fn standalone_sandbox() -> (Running, String) {
    let port = free_port().to_string();
    let mut c = bff_command();
    c.args(["sandbox", "--port", &port]);
    let sb = Running::spawn(c);
    let origin = sb
        .wait_for_line(30, |l| {
            l.strip_prefix("aarthik sandbox listening on ")
                .map(str::to_owned)
        })
        .await;
    (sb, origin.trim().to_owned())
}

#[tokio::test]
async fn doctor_against_the_embedded_sandbox_passes_every_required_check() {
    let out = doctor(&[("BFF__UPSTREAM__API_VERSION", "2026-03-05")], &[]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for name in [
        "reachability",
        "api key",
        "envelope",
        "version pin",
        "session create-or-resume",
        "idempotent replay",
        "refresh mode",
    ] {
        assert!(line(&text, name).starts_with("PASS"), "{name}:\n{text}");
    }
    assert!(line(&text, "version pin").contains("2026-03-05"));
    assert!(
        text.ends_with("doctor: every required check passed\n"),
        "{text}"
    );

    let out = doctor(&[], &["--json"]).await;
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["ok"], true);
    let checks = report["checks"].as_array().unwrap();
    assert!(checks
        .iter()
        .all(|c| c["status"] == "PASS" || c["status"] == "WARN"));
    let pin = checks.iter().find(|c| c["name"] == "version pin").unwrap();
    assert_eq!(pin["status"], "WARN", "no pin configured: {pin}");
}

#[tokio::test]
async fn doctor_reports_the_auto_fallback_when_the_refresh_endpoint_is_off_and_fails_endpoint_mode()
{
    let (_sb, origin) = standalone_sandbox().await;
    let r = control_at(
        &origin,
        "/__sandbox/refresh-endpoint",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(r["data"]["enabled"], false, "{r}");

    let out = doctor(&[("BFF__UPSTREAM__BASE_URL", &origin)], &[]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let refresh = line(&text, "refresh mode");
    assert!(refresh.starts_with("PASS"), "{text}");
    assert!(
        refresh.contains("404") && refresh.contains("auto falls back to create-or-resume"),
        "{refresh}"
    );

    let out = doctor(
        &[
            ("BFF__UPSTREAM__BASE_URL", &origin),
            ("BFF__UPSTREAM__REFRESH_MODE", "endpoint"),
        ],
        &[],
    )
    .await;
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let refresh = line(&text, "refresh mode");
    assert!(refresh.starts_with("FAIL"), "{text}");
    assert!(refresh.contains("endpoint never falls back"), "{refresh}");
    assert!(
        text.ends_with("doctor: a required check FAILED\n"),
        "{text}"
    );
}

#[tokio::test]
async fn doctor_with_a_wrong_key_fails_clearly_and_never_prints_the_key() {
    let (_sb, origin) = standalone_sandbox().await;
    let out = doctor(
        &[
            ("BFF__UPSTREAM__BASE_URL", &origin),
            ("BFF__UPSTREAM__API_KEY", WRONG_KEY),
        ],
        &[],
    )
    .await;
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(line(&text, "reachability").starts_with("PASS"), "{text}");
    let key = line(&text, "api key");
    assert!(key.starts_with("FAIL"), "{text}");
    assert!(key.contains("AUTH_INVALID_API_KEY") && key.contains("refused the API key"));
    for printed in [text.as_str(), &err] {
        assert!(!printed.contains(WRONG_KEY), "the key was printed");
        assert!(!printed.contains(dev::API_KEY));
    }

    let out = doctor(
        &[
            ("BFF__UPSTREAM__BASE_URL", &origin),
            ("BFF__UPSTREAM__API_KEY", WRONG_KEY),
        ],
        &["--json"],
    )
    .await;
    assert!(!out.status.success());
    assert!(!stdout(&out).contains(WRONG_KEY));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
}

#[tokio::test]
async fn doctor_webhook_reaches_the_running_bff_which_keeps_nothing_and_a_wrong_secret_fails() {
    let app = spawn_app().await;
    let url = app.url("/v1/webhooks/aarthik");

    let out = doctor(&[], &["--webhook", &url]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let hook = line(&text, "webhook delivery");
    assert!(hook.starts_with("PASS") && hook.contains("200"), "{hook}");
    assert!(app.ops_feed().await.is_empty(), "the ping is not stored");
    let dead = app.ops_data("/v1/ops/dead-letters").await;
    assert_eq!(dead["deadLetters"], json!([]), "nor kept as a dead letter");

    let out = doctor(
        &[("BFF__WEBHOOK__SECRETS", "whsec_not_the_receivers_secret")],
        &["--webhook", &url],
    )
    .await;
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let hook = line(&text, "webhook delivery");
    assert!(hook.starts_with("FAIL") && hook.contains("401"), "{hook}");
    assert!(!text.contains("whsec_not_the_receivers_secret"));
}
