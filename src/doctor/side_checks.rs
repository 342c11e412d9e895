//! The two checks that depend on configuration choices: which refresh mode works (and whether
//! the configured one is safe), and whether our webhook receiver accepts a signed delivery.

use aarthik_contract::{headers, signature};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;

use super::checks::Tokens;
use super::probe::{describe_transport, Client, Probe, RefreshMode, WebhookProbe};
use super::report::{Report, Status};

pub(super) async fn refresh_check(
    report: &mut Report,
    client: &Client,
    probe: &Probe,
    tokens: Option<&Tokens>,
) {
    const NAME: &str = "refresh mode";
    if probe.refresh_mode == RefreshMode::Resume {
        report.push(
            NAME,
            true,
            Status::Pass,
            "resume: sessions are renewed by create-or-resume (checked above); no refresh endpoint is called".into(),
        );
        return;
    }
    let Some(refresh) = tokens.and_then(|t| t.refresh.as_ref()) else {
        let status = if probe.refresh_mode == RefreshMode::Auto {
            Status::Pass
        } else {
            Status::Fail
        };
        report.push(
            NAME,
            true,
            status,
            "the session answer has no refreshToken; auto and resume renew by create-or-resume"
                .into(),
        );
        return;
    };
    let answer = client
        .call(
            Method::POST,
            &probe.refresh_path,
            Some(refresh.expose_secret()),
            Some(&uuid::Uuid::new_v4().to_string()),
            None,
        )
        .await;
    let mode = probe.refresh_mode.as_str();
    let (status, detail) = match answer {
        Ok(a) if a.status.is_success() && a.body["data"]["sessionToken"].is_string() => (
            Status::Pass,
            format!("POST {} rotated the tokens; {mode} uses it", probe.refresh_path),
        ),
        Ok(a) if matches!(a.status.as_u16(), 404 | 405 | 501) => match probe.refresh_mode {
            RefreshMode::Auto => (
                Status::Pass,
                format!(
                    "POST {} answered {}: absent; auto falls back to create-or-resume (works) and is safe",
                    probe.refresh_path,
                    a.describe()
                ),
            ),
            _ => (
                Status::Fail,
                format!(
                    "POST {} answered {}: absent, and refresh_mode=endpoint never falls back; use auto or resume",
                    probe.refresh_path,
                    a.describe()
                ),
            ),
        },
        Ok(a) if matches!(a.status.as_u16(), 401 | 403) => (
            Status::Warn,
            format!(
                "POST {} refused a fresh refresh token ({}); {mode} falls back to create-or-resume for each refresh",
                probe.refresh_path,
                a.describe()
            ),
        ),
        Ok(a) => (
            Status::Warn,
            format!("POST {} answered {}", probe.refresh_path, a.describe()),
        ),
        Err(e) => (Status::Warn, format!("POST {}: {e}", probe.refresh_path)),
    };
    report.push(NAME, true, status, detail);
}

pub(super) async fn webhook_check(report: &mut Report, http: &reqwest::Client, w: &WebhookProbe) {
    let event_id = format!("evt_doctor_{}", ulid::Ulid::new());
    let body = json!({
        "schema_version": "1.0.0",
        "event_type": aarthik_contract::webhook::EVENT_TYPE_DOCTOR_PING,
        "event_id": event_id,
        "event_at": aarthik_contract::envelope::now_timestamp(),
        "tenant_id": w.tenant_id,
        "application_id": w.application_id,
    });
    let raw = body.to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = signature::sign(w.secret.expose_secret().as_bytes(), &ts, raw.as_bytes());
    let res = http
        .post(&w.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(headers::WEBHOOK_EVENT_ID, &event_id)
        .header(headers::WEBHOOK_TENANT_ID, &w.tenant_id)
        .header(headers::WEBHOOK_APPLICATION_ID, &w.application_id)
        .header(headers::WEBHOOK_TIMESTAMP, &ts)
        .header(headers::WEBHOOK_SIGNATURE, sig)
        .body(raw)
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => report.push(
            "webhook delivery",
            true,
            Status::Pass,
            format!(
                "{} accepted a signed bff.doctor.ping ({})",
                w.url,
                r.status().as_u16()
            ),
        ),
        Ok(r) => report.push(
            "webhook delivery",
            true,
            Status::Fail,
            format!(
                "{} answered {} to a delivery signed with the configured secret",
                w.url,
                r.status().as_u16()
            ),
        ),
        Err(e) => report.push(
            "webhook delivery",
            true,
            Status::Fail,
            format!("{}: {}", w.url, describe_transport(e)),
        ),
    }
}
