//! Secrets never reach the logs: run the real binary (embedded sandbox, debug logging), drive the
//! session and proxy paths, and search everything it printed.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    bff_command, borrower_tokens_in, dev, load_settings, mint_jwt, repo_options, Running,
};

#[tokio::test]
async fn a_whole_session_run_logs_no_token_no_key_and_no_secret() {
    let mut cmd = bff_command();
    cmd.env("BFF__SERVER__PORT", "0")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .env("RUST_LOG", "debug");
    let child = Running::spawn(cmd);
    let port = child.bff_port().await;
    let base = format!("http://127.0.0.1:{port}");
    let settings = load_settings(repo_options(None));
    let jwt = mint_jwt(&settings, "log-user", 120);
    let http = reqwest::Client::new();
    let session: serde_json::Value = http
        .post(format!("{base}/v1/session"))
        .bearer_auth(&jwt)
        .json(&json!({"journeyType": "PERSONAL_LOAN"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["data"]["sessionToken"].as_str().unwrap().to_owned();
    let refreshed: serde_json::Value = http
        .post(format!("{base}/v1/session/refresh"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token2 = refreshed["data"]["sessionToken"]
        .as_str()
        .unwrap()
        .to_owned();
    http.get(format!("{base}/v1/session"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    http.get(format!("{base}/v1/headless/journeys"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    http.get(format!("{base}/v1/session"))
        .bearer_auth("not.a.valid-token")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = child.output();
    drop(child);
    assert!(
        logs.contains("request completed"),
        "the run logged requests: {logs}"
    );
    assert!(logs.contains("log-user") || logs.contains("/v1/session"));
    for secret in [
        token.as_str(),
        token2.as_str(),
        jwt.as_str(),
        dev::API_KEY,
        dev::WEBHOOK_SECRET,
        dev::HS256_SECRET,
        "Bearer ",
    ] {
        assert!(
            !logs.contains(secret),
            "the logs contain a secret ({})",
            &secret[..4.min(secret.len())]
        );
    }
    let tokens = borrower_tokens_in(&logs);
    assert!(
        tokens.is_empty(),
        "the logs contain {} borrower token(s)",
        tokens.len()
    );
}

#[tokio::test]
async fn text_logs_escape_control_characters_from_input() {
    let mut cmd = bff_command();
    cmd.env("BFF__SERVER__PORT", "0")
        .env("BFF__TELEMETRY__FORMAT", "pretty")
        .env("RUST_LOG", "info");
    let child = Running::spawn(cmd);
    let port = child
        .wait_for_line(20, |l| {
            let rest = strip_ansi(l.split("aarthik-bff listening").nth(1)?);
            let p = rest.split("port=").nth(1)?;
            p.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u16>()
                .ok()
        })
        .await;
    let settings = load_settings(repo_options(None));
    let jwt = mint_jwt(&settings, "log-user", 120);
    // The session body refuses unknown fields, and serde's message echoes the field name raw.
    let forged =
        "x\n2026-01-01T00:00:00.000000Z  INFO FORGED-LINE admin signed in \u{1b}]0;pwned\u{7}";
    let body = json!({ forged: 1 }).to_string();
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v1/session"))
        .bearer_auth(&jwt)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let seen =
        crate::helpers::eventually(5, || async { child.output().contains("FORGED-LINE") }).await;
    let logs = child.output();
    drop(child);
    assert!(seen, "the refusal was logged: {logs}");
    assert!(
        !logs.lines().any(|l| l.starts_with("2026-01-01T00:00:00")),
        "a forged line: {logs}"
    );
    assert!(!logs.contains("\u{1b}]0;pwned"), "a raw escape sequence");
    assert!(!logs.contains('\u{7}'), "a raw BEL");
}

/// `line` without the formatter's own colour codes (`ESC [ … m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
