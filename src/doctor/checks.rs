//! The checks, in the order a partner would debug them: can we reach it, does it take our key,
//! does it answer in the published envelope, does it keep our version pin, does it create and
//! resume a borrower session, does a refresh path work, does it replay an Idempotency-Key, and
//! does our webhook receiver accept a delivery signed with our secret.

use aarthik_contract::paths;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::probe::{describe_transport, Answer, Client, Probe};
use super::report::{Report, Status};
use super::side_checks::{refresh_check, webhook_check};

/// Run every check against the upstream and return the report.
pub async fn run(probe: Probe) -> Report {
    let mut report = Report::default();
    let http = match reqwest::Client::builder()
        .timeout(probe.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            report.push("reachability", true, Status::Fail, describe_transport(e));
            return report;
        }
    };
    let client = Client {
        http,
        base: probe.base_url.trim_end_matches('/').to_owned(),
        version: probe.api_version.clone(),
    };
    let tls = if client.base.starts_with("https://") {
        "TLS verified"
    } else {
        "plain HTTP (no TLS)"
    };

    // 1. Reachability: an unauthenticated read must be answered (a 401 is the expected answer).
    let unauth = match client
        .call(Method::GET, paths::JOURNEYS, None, None, None)
        .await
    {
        Ok(a) => {
            report.push(
                "reachability",
                true,
                Status::Pass,
                format!(
                    "GET {} answered {} in {} ms; {tls}",
                    paths::JOURNEYS,
                    a.describe(),
                    a.elapsed.as_millis()
                ),
            );
            a
        }
        Err(e) => {
            report.push(
                "reachability",
                true,
                Status::Fail,
                format!("{}: {e}", client.base),
            );
            return report;
        }
    };

    // 2. The key: create-or-resume the probe borrower.
    let create_body = json!({ "borrowerExternalID": probe.borrower_id });
    let first_key = uuid::Uuid::new_v4().to_string();
    let first = match client
        .call(
            Method::POST,
            paths::SESSIONS,
            Some(probe.api_key.expose_secret()),
            Some(&first_key),
            Some(&create_body),
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            report.push(
                "api key",
                true,
                Status::Fail,
                format!("session create: {e}"),
            );
            return report;
        }
    };
    if first.status.is_success() {
        report.push(
            "api key",
            true,
            Status::Pass,
            format!(
                "POST {} with the key answered {}",
                paths::SESSIONS,
                first.describe()
            ),
        );
    } else {
        let hint = match first.status.as_u16() {
            401 | 403 => "the upstream refused the API key (wrong key, or another environment's)",
            _ => "session create did not succeed",
        };
        report.push(
            "api key",
            true,
            Status::Fail,
            format!(
                "POST {} answered {}: {hint}",
                paths::SESSIONS,
                first.describe()
            ),
        );
        envelope_check(&mut report, &unauth, Some(&first));
        return report;
    }

    // 3. Envelope shape, on a success and on an error.
    envelope_check(&mut report, &unauth, Some(&first));

    // 4. Version pin.
    match (&probe.api_version, &first.version_echo) {
        (None, _) => report.push(
            "version pin",
            false,
            Status::Warn,
            "upstream.api_version is not set: calls are not pinned to a contract version".into(),
        ),
        (Some(sent), Some(echo)) if echo == sent => report.push(
            "version pin",
            false,
            Status::Pass,
            format!("X-AL-API-Version {sent} sent and echoed"),
        ),
        (Some(sent), echo) => report.push(
            "version pin",
            false,
            Status::Warn,
            format!(
                "X-AL-API-Version {sent} sent; echoed {} (the real API may not echo it)",
                echo.as_deref().unwrap_or("nothing")
            ),
        ),
    }

    // 5. Create-or-resume: a second create for the same borrower resumes it.
    let tokens = session_tokens(&first.body);
    let second = client
        .call(
            Method::POST,
            paths::SESSIONS,
            Some(probe.api_key.expose_secret()),
            Some(&uuid::Uuid::new_v4().to_string()),
            Some(&create_body),
        )
        .await;
    let session_detail = match (&tokens, &second) {
        (None, _) => Err("the session answer has no sessionToken".to_owned()),
        (_, Err(e)) => Err(format!("second create: {e}")),
        (_, Ok(b)) if !b.status.is_success() => {
            Err(format!("second create answered {}", b.describe()))
        }
        (Some(t), Ok(b)) => {
            let resumed = first.body["data"]["borrowerID"] == b.body["data"]["borrowerID"];
            let runtime = client
                .call(
                    Method::GET,
                    paths::JOURNEYS,
                    Some(t.session.expose_secret()),
                    None,
                    None,
                )
                .await;
            match runtime {
                Ok(r) if r.status.is_success() && resumed => Ok(format!(
                    "borrower {} resumed with the same borrowerID; its session token reads {} ({})",
                    probe.borrower_id,
                    paths::JOURNEYS,
                    r.describe()
                )),
                Ok(_) if !resumed => {
                    Err("a second create returned another borrowerID: resume does not work".into())
                }
                Ok(r) => Err(format!(
                    "the new session token was refused: {}",
                    r.describe()
                )),
                Err(e) => Err(format!("runtime call: {e}")),
            }
        }
    };
    match session_detail {
        Ok(d) => report.push("session create-or-resume", true, Status::Pass, d),
        Err(d) => report.push("session create-or-resume", true, Status::Fail, d),
    }

    // 6. Idempotent replay of the first (harmless) create.
    let replay = client
        .call(
            Method::POST,
            paths::SESSIONS,
            Some(probe.api_key.expose_secret()),
            Some(&first_key),
            Some(&create_body),
        )
        .await;
    match replay {
        Ok(r) if r.status.is_success()
            && r.body["data"]["sessionToken"] == first.body["data"]["sessionToken"] =>
        {
            report.push(
                "idempotent replay",
                false,
                Status::Pass,
                "the same Idempotency-Key and body replayed the first answer".into(),
            )
        }
        Ok(r) => report.push(
            "idempotent replay",
            false,
            Status::Warn,
            format!(
                "the same Idempotency-Key answered {} with a different session (replay not observed)",
                r.describe()
            ),
        ),
        Err(e) => report.push("idempotent replay", false, Status::Warn, e),
    }

    // 7. Refresh: which mode works, and whether the configured one is safe.
    refresh_check(&mut report, &client, &probe, tokens.as_ref()).await;

    // 8. The webhook receiver.
    if let Some(w) = &probe.webhook {
        webhook_check(&mut report, &client.http, w).await;
    }
    report
}

pub(super) struct Tokens {
    pub session: SecretString,
    pub refresh: Option<SecretString>,
}

fn session_tokens(body: &Value) -> Option<Tokens> {
    let data = &body["data"];
    Some(Tokens {
        session: SecretString::from(data["sessionToken"].as_str()?.to_owned()),
        refresh: data["refreshToken"]
            .as_str()
            .map(|s| SecretString::from(s.to_owned())),
    })
}

fn envelope_check(report: &mut Report, error: &Answer, success: Option<&Answer>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for (what, a) in [("error", Some(error)), ("success", success)] {
        let Some(a) = a else { continue };
        let b = &a.body;
        if !b.is_object() {
            problems.push(format!("{what} answer is not a JSON object"));
            continue;
        }
        for key in ["requestID", "timestamp"] {
            if !b[key].is_string() {
                problems.push(format!("{what} answer lacks {key}"));
            }
        }
        if a.status.is_success() {
            if !b["data"].is_object() {
                problems.push("success answer lacks data".into());
            }
            if !b["error"].is_null() {
                problems.push("success answer carries an error".into());
            }
        } else {
            let e = &b["error"];
            if !(e["code"].is_string() && e["message"].is_string()) {
                problems.push("error answer lacks error.code/message".into());
            }
            if !e["retryable"].is_boolean() {
                notes.push("no error.retryable");
            }
            if !(e["details"].is_object() || e["details"].is_null()) || e.get("details").is_none() {
                notes.push("no error.details");
            }
        }
    }
    if problems.is_empty() {
        let detail = if notes.is_empty() {
            "requestID, timestamp, data/error; error.code, message, retryable, details".to_owned()
        } else {
            format!(
                "requestID, timestamp, data/error, error.code/message ({})",
                notes.join(", ")
            )
        };
        report.push("envelope", true, Status::Pass, detail);
    } else {
        report.push("envelope", true, Status::Fail, problems.join("; "));
    }
}
