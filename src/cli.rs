//! Command line: `serve` (default), `sandbox`, `token`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, LoadOptions};
use crate::{auth, startup, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "aarthik-bff",
    version,
    about = "Partner-side BFF for the Aarthik Labs headless lending API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the BFF (the default).
    Serve,
    /// Run the upstream simulator on its own.
    #[cfg(feature = "embedded-sandbox")]
    Sandbox {
        #[arg(long, env = "SANDBOX_PORT", default_value_t = 9090)]
        port: u16,
        #[arg(long, env = "SANDBOX_HOST", default_value = "127.0.0.1")]
        host: String,
        /// The sk_* key the sandbox accepts.
        #[arg(long, env = "SANDBOX_API_KEY", default_value = aarthik_sandbox::dev::API_KEY, hide_default_value = true)]
        api_key: String,
        /// Where journey.snapshot webhooks are delivered (none when unset).
        #[arg(long, env = "SANDBOX_WEBHOOK_URL")]
        webhook_url: Option<String>,
        /// Webhook signing secret.
        #[arg(long, env = "SANDBOX_WEBHOOK_SECRET", default_value = aarthik_sandbox::dev::WEBHOOK_SECRET, hide_default_value = true)]
        webhook_secret: String,
        /// Delay before simulated lenders answer, in milliseconds.
        #[arg(long, env = "SANDBOX_OFFER_DELAY_MS")]
        offer_delay_ms: Option<u64>,
        /// Session token lifetime in seconds.
        #[arg(long, env = "SANDBOX_SESSION_TTL_SECS")]
        session_ttl_secs: Option<u64>,
        /// Refresh token lifetime in seconds.
        #[arg(long, env = "SANDBOX_REFRESH_TTL_SECS")]
        refresh_ttl_secs: Option<u64>,
    },
    /// Print the OpenAPI document (what `GET /openapi.json` serves; `docs/openapi.json` is this
    /// output).
    Openapi,
    /// Print a partner JWT signed with the configured HS256 secret (development).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Check the configured upstream before going live: one line per check, non-zero exit when a
    /// required check fails. Never prints a secret.
    Doctor {
        /// Print one JSON document instead of lines.
        #[arg(long)]
        json: bool,
        /// Also send a signed `bff.doctor.ping` delivery to this webhook receiver URL.
        #[arg(long)]
        webhook: Option<String>,
        /// `borrowerExternalID` of the probe borrower (so no real borrower is touched).
        #[arg(long, default_value = "aarthik-bff-doctor")]
        borrower_id: String,
    },
}

/// Parse arguments and run. Start-up failures print one line and exit non-zero.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Openapi => {
            print!("{}", crate::openapi::document_json());
            ExitCode::SUCCESS
        }
        Command::Doctor {
            json,
            webhook,
            borrower_id,
        } => crate::doctor::cli::run(json, webhook, borrower_id),
        Command::Token { sub, ttl } => {
            let settings = match config::load(LoadOptions::from_process_env()) {
                Ok(s) => s,
                Err(e) => return fail(&e.to_string()),
            };
            match auth::token::mint(&settings, &sub, ttl) {
                Ok(t) => {
                    println!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        #[cfg(feature = "embedded-sandbox")]
        Command::Sandbox {
            port,
            host,
            api_key,
            webhook_url,
            webhook_secret,
            offer_delay_ms,
            session_ttl_secs,
            refresh_ttl_secs,
        } => {
            telemetry::init(config::LogFormat::Auto, false);
            let mut cfg = aarthik_sandbox::SandboxConfig {
                host,
                port,
                api_key: secrecy::SecretString::from(api_key),
                webhook_url: webhook_url.filter(|u| !u.is_empty()),
                webhook_secret: secrecy::SecretString::from(webhook_secret),
                ..Default::default()
            };
            if let Some(v) = offer_delay_ms {
                cfg.offer_delay_ms = v;
            }
            if let Some(v) = session_ttl_secs {
                cfg.session_ttl_secs = v;
            }
            if let Some(v) = refresh_ttl_secs {
                cfg.refresh_ttl_secs = v;
            }
            runtime_block_on(async move {
                aarthik_sandbox::run_standalone(cfg)
                    .await
                    .map_err(|e| e.to_string())
            })
        }
    }
}

fn serve() -> ExitCode {
    let settings = match config::load(LoadOptions::from_process_env()) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    telemetry::init(settings.telemetry.format, settings.is_production());
    runtime_block_on(async move {
        let signals = startup::ShutdownSignals::install().map_err(|e| e.to_string())?;
        let app = startup::Application::build(settings)
            .await
            .map_err(|e| e.to_string())?;
        app.run_until(signals.recv())
            .await
            .map_err(|e| e.to_string())
    })
}

fn runtime_block_on<F>(fut: F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match rt.block_on(fut) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("aarthik-bff: {message}");
    ExitCode::FAILURE
}
