//! The upstream simulator. Placeholder API until the sandbox lands (issue 3): `start` refuses.

use secrecy::SecretString;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub host: String,
    pub port: u16,
    pub api_key: SecretString,
    pub webhook_url: Option<String>,
    pub webhook_secret: SecretString,
    pub offer_delay_ms: u64,
    pub session_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: "127.0.0.1".into(),
            port: 0,
            api_key: SecretString::from(crate::config::dev::API_KEY.to_owned()),
            webhook_url: None,
            webhook_secret: SecretString::from(crate::config::dev::WEBHOOK_SECRET.to_owned()),
            offer_delay_ms: 3000,
            session_ttl_secs: 900,
            refresh_ttl_secs: 604800,
        }
    }
}

pub struct SandboxHandle {
    port: u16,
}

impl SandboxHandle {
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

pub async fn start(_config: SandboxConfig) -> std::io::Result<SandboxHandle> {
    Err(std::io::Error::other("the sandbox is not built yet"))
}

pub async fn run_standalone(config: SandboxConfig) -> std::io::Result<()> {
    start(config).await.map(|_| ())
}
