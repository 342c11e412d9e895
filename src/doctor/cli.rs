//! `aarthik-bff doctor [--json] [--webhook URL] [--borrower-id ID]`: build the probe from the
//! configuration (starting the embedded sandbox when that is the upstream), run it, print it.

use std::process::ExitCode;
use std::time::Duration;

use secrecy::SecretString;

use super::{Probe, WebhookProbe};
use crate::config::{self, LoadOptions, UpstreamTarget};

pub fn run(json: bool, webhook: Option<String>, borrower_id: String) -> ExitCode {
    let settings = match config::load(LoadOptions::from_process_env()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("aarthik-bff: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aarthik-bff: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = rt.block_on(async move {
        // The embedded sandbox lives as long as this block.
        let (base_url, _embedded) = match &settings.upstream.base_url {
            UpstreamTarget::Embedded => match crate::embedded::start(&settings, 0).await {
                Ok(h) => (h.base_url(), Some(h)),
                Err(e) => return Err(format!("embedded sandbox: {e}")),
            },
            UpstreamTarget::Url(url) => (url.clone(), None),
        };
        let probe = Probe {
            base_url,
            api_key: settings.upstream.api_key.clone(),
            api_version: settings.api_version().map(str::to_owned),
            refresh_path: settings.upstream.refresh_path.clone(),
            refresh_mode: settings.upstream.refresh_mode,
            borrower_id,
            timeout: Duration::from_millis(settings.upstream.timeout_ms),
            webhook: webhook.map(|url| WebhookProbe {
                url,
                secret: settings
                    .webhook_secrets()
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| SecretString::from(String::new())),
                tenant_id: settings.webhook.tenant_id.clone(),
                application_id: settings.webhook.application_id.clone(),
            }),
        };
        Ok(super::run(probe).await)
    });
    match report {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("aarthik-bff: {e}");
            ExitCode::FAILURE
        }
    }
}
