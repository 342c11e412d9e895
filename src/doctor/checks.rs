//! The checks, in the order a partner would debug them: can we reach it, does it take our key,
//! does it answer in the published envelope, does it keep our version pin, does it create and
//! resume a borrower session, does a refresh path work, does it replay an Idempotency-Key, and
//! does our webhook receiver accept a delivery signed with our secret.

use std::time::{Duration, Instant};

use aarthik_contract::{headers, paths, signature};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::report::{Report, Status};

/// How the service refreshes borrower sessions (`upstream.refresh_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    Auto,
    Endpoint,
    Resume,
}

/// What to probe, and with which credentials. Built from the configuration by the CLI.
pub struct Probe {
    pub base_url: String,
    pub api_key: SecretString,
    pub api_version: Option<String>,
    pub refresh_path: String,
    pub refresh_mode: RefreshMode,
    /// `borrowerExternalID` of the probe borrower (never a real one).
    pub borrower_id: String,
    pub timeout: Duration,
    /// `--webhook URL`: where to send a signed `bff.doctor.ping`.
    pub webhook: Option<WebhookProbe>,
}

pub struct WebhookProbe {
    pub url: String,
    pub secret: SecretString,
    pub tenant_id: String,
    pub application_id: String,
}

/// An answer as the doctor sees it.
struct Answer {
    status: StatusCode,
    version_echo: Option<String>,
    body: Value,
    elapsed: Duration,
}

impl Answer {
    fn code(&self) -> String {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("no error code")
            .to_owned()
    }
    fn describe(&self) -> String {
        if self.status.is_success() {
            format!("{}", self.status.as_u16())
        } else {
            format!("{} {}", self.status.as_u16(), self.code())
        }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    version: Option<String>,
}

impl Client {
    async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, String> {
        let started = Instant::now();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header(headers::CORRELATION_ID, "aarthik-bff-doctor");
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(key) = idempotency_key {
            req = req.header(headers::IDEMPOTENCY_KEY, key);
        }
        if let Some(v) = &self.version {
            req = req.header(headers::API_VERSION, v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.map_err(describe_transport)?;
        let status = res.status();
        let version_echo = res
            .headers()
            .get(headers::API_VERSION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = res.bytes().await.map_err(describe_transport)?;
        Ok(Answer {
            status,
            version_echo,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            elapsed: started.elapsed(),
        })
    }
}

/// A transport failure in words, without the URL's query or any header.
fn describe_transport(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() || e.is_body() {
        "unreadable answer"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

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

struct Tokens {
    session: SecretString,
    refresh: Option<SecretString>,
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

async fn refresh_check(
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
    let mode = match probe.refresh_mode {
        RefreshMode::Auto => "auto",
        RefreshMode::Endpoint => "endpoint",
        RefreshMode::Resume => "resume",
    };
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

async fn webhook_check(report: &mut Report, http: &reqwest::Client, w: &WebhookProbe) {
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
