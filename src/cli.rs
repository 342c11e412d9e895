//! Command line: `serve` (default), `sandbox`, `token`, `doctor`, `healthcheck`.

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
        /// Attempts per webhook event before the sandbox gives up (retries after 1, 2, 4, … s).
        #[arg(long, env = "SANDBOX_WEBHOOK_MAX_ATTEMPTS")]
        webhook_max_attempts: Option<u32>,
        /// Most records the request and delivery logs each keep (oldest dropped first).
        #[arg(long, env = "SANDBOX_LOG_CAP")]
        log_cap: Option<usize>,
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
    /// GET /healthz of the instance this configuration describes, on loopback: exit 0 when it
    /// answers 200, 1 otherwise (the container health check; no curl needed in the image).
    Healthcheck {
        /// The path to ask for (`/readyz` also checks the store and draining).
        #[arg(long, default_value = "/healthz")]
        path: String,
        /// Give up after this long, in milliseconds.
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
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
        Command::Healthcheck { path, timeout_ms } => healthcheck(&path, timeout_ms),
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
            webhook_max_attempts,
            log_cap,
        } => {
            // The simulator exports no traces.
            let _ = telemetry::init(config::LogFormat::Auto, false, "");
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
            if let Some(v) = webhook_max_attempts {
                cfg.webhook_max_attempts = v;
            }
            if let Some(v) = log_cap {
                cfg.log_cap = v;
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
    let export = match telemetry::init(
        settings.telemetry.format,
        settings.is_production(),
        &settings.telemetry.otlp_endpoint,
    ) {
        Ok(export) => export,
        Err(e) => return fail(&e),
    };
    let code = runtime_block_on(async move {
        let signals = startup::ShutdownSignals::install().map_err(|e| e.to_string())?;
        let app = startup::Application::build(settings)
            .await
            .map_err(|e| e.to_string())?;
        app.run_until(signals.recv())
            .await
            .map_err(|e| e.to_string())
    });
    // After the runtime is gone: the exporter's thread sends what is still queued.
    export.shutdown();
    code
}

/// Where `serve` listens with this configuration (`server.host`, `server.port`), as a loopback
/// address when it listens on every interface; then one plain HTTP/1.1 GET.
fn healthcheck(path: &str, timeout_ms: u64) -> ExitCode {
    let settings = match config::load(LoadOptions::from_process_env()) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return fail("healthcheck: --path must be a path such as /healthz");
    }
    let port = settings.server.port;
    if port == 0 {
        return fail(
            "healthcheck: server.port is 0 (a random port): set the port serve listens on",
        );
    }
    let ip = match settings.server.host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_unspecified() && ip.is_ipv4() => {
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        Ok(ip) if ip.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        Ok(ip) => ip,
        // A host name (such as `localhost`): the loopback address.
        Err(_) => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
    };
    let addr = std::net::SocketAddr::new(ip, port);
    match http_status(
        addr,
        path,
        std::time::Duration::from_millis(timeout_ms.max(1)),
    ) {
        Ok(200) => {
            println!("healthy: GET http://{addr}{path} answered 200");
            ExitCode::SUCCESS
        }
        Ok(code) => fail(&format!(
            "unhealthy: GET http://{addr}{path} answered {code}"
        )),
        Err(e) => fail(&format!("unhealthy: GET http://{addr}{path}: {e}")),
    }
}

/// The status code of one `GET path` on `addr`, all of it within `timeout`.
fn http_status(
    addr: std::net::SocketAddr,
    path: &str,
    timeout: std::time::Duration,
) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + timeout;
    let left = || {
        deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(std::time::Duration::from_millis(1))
    };
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(left()))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: aarthik-bff-healthcheck\r\nConnection: close\r\n\r\n"
    )?;
    // The status line is all we need: read until its end (or 1 KiB), never the whole body.
    let mut head = Vec::with_capacity(128);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 1024 {
        stream.set_read_timeout(Some(left()))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => Ok(code),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not an HTTP answer",
        )),
    }
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
    let result = rt.block_on(fut);
    telemetry::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("aarthik-bff: {message}");
    ExitCode::FAILURE
}
