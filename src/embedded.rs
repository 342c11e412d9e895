//! The embedded upstream (`upstream.base_url = "embedded"`): the simulator started in-process for
//! the demo and the tests. Present only with the default feature `embedded-sandbox`; a build
//! without it refuses `embedded` at start-up with one line saying so.

use crate::config::Settings;

/// A running embedded upstream; dropping it stops the simulator.
pub struct EmbeddedUpstream {
    #[cfg(feature = "embedded-sandbox")]
    handle: aarthik_sandbox::SandboxHandle,
}

impl EmbeddedUpstream {
    /// The simulator's origin, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        #[cfg(feature = "embedded-sandbox")]
        {
            self.handle.base_url()
        }
        #[cfg(not(feature = "embedded-sandbox"))]
        {
            String::new()
        }
    }
}

/// Whether this binary carries the simulator.
pub const AVAILABLE: bool = cfg!(feature = "embedded-sandbox");

/// Start the simulator with this deployment's key and webhook secret, delivering webhooks to the
/// BFF listening on `bff_port`.
#[cfg(feature = "embedded-sandbox")]
pub async fn start(settings: &Settings, bff_port: u16) -> Result<EmbeddedUpstream, String> {
    use secrecy::{ExposeSecret, SecretString};
    let webhook_secret = settings
        .webhook_secrets()
        .into_iter()
        .next()
        .unwrap_or_else(|| SecretString::from(String::new()));
    let config = aarthik_sandbox::SandboxConfig {
        host: "127.0.0.1".into(),
        port: 0,
        api_key: SecretString::from(settings.upstream.api_key.expose_secret().to_owned()),
        webhook_url: Some(format!("http://127.0.0.1:{bff_port}/v1/webhooks/aarthik")),
        webhook_secret,
        ..Default::default()
    };
    aarthik_sandbox::start(config)
        .await
        .map(|handle| EmbeddedUpstream { handle })
        .map_err(|e| e.to_string())
}

/// Without the simulator there is nothing to start (configuration validation refuses
/// `embedded` before this is reached).
#[cfg(not(feature = "embedded-sandbox"))]
pub async fn start(_settings: &Settings, _bff_port: u16) -> Result<EmbeddedUpstream, String> {
    Err(NOT_BUILT_IN.into())
}

/// What a build without the simulator says when asked for it.
pub const NOT_BUILT_IN: &str = "this binary was built without the embedded sandbox (feature `embedded-sandbox`); set upstream.base_url to the upstream's URL";
