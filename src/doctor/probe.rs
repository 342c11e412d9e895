//! What the doctor probes (built from configuration by the CLI) and its raw HTTP client: every
//! answer is kept as status, version echo and JSON body, so checks see exactly what came back.

use std::time::{Duration, Instant};

use aarthik_contract::headers;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::Value;

pub use crate::config::RefreshMode;

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
pub(super) struct Answer {
    pub status: StatusCode,
    pub version_echo: Option<String>,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    pub fn code(&self) -> String {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("no error code")
            .to_owned()
    }
    pub fn describe(&self) -> String {
        if self.status.is_success() {
            format!("{}", self.status.as_u16())
        } else {
            format!("{} {}", self.status.as_u16(), self.code())
        }
    }
}

pub(super) struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub version: Option<String>,
}

impl Client {
    pub async fn call(
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
pub(super) fn describe_transport(e: reqwest::Error) -> String {
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
