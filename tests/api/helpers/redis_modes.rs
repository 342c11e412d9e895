//! The Redis deployments besides the plain one, as `scripts/test.sh` provides them through the
//! environment (`scripts/redis-modes.sh` starts them): TLS, Cluster and Sentinel. A mode whose
//! variable is unset is skipped (with a note on stderr); the test script always sets them all.
//! Also a `redis-server` of a test's own ([`OwnRedis`]), for tests that stop and restart it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aarthik_bff::store::Store;

use super::{base_options, free_port, load_settings, repo_options, unique_prefix, LoadOptions};

/// A Redis deployment other than the single plain server.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Tls,
    Cluster,
    Sentinel,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The store settings of `mode` from the environment, or `None` (and a note) when unset.
pub fn mode_settings(mode: Mode) -> Option<Vec<(&'static str, String)>> {
    let (needed, settings) = match mode {
        Mode::Tls => (
            "REDIS_TLS_URL",
            var("REDIS_TLS_URL").map(|url| {
                vec![
                    ("store.redis_url", url),
                    (
                        "store.tls_ca_file",
                        var("REDIS_TLS_CA_FILE").unwrap_or_default(),
                    ),
                    (
                        "store.tls_client_cert_file",
                        var("REDIS_TLS_CLIENT_CERT_FILE").unwrap_or_default(),
                    ),
                    (
                        "store.tls_client_key_file",
                        var("REDIS_TLS_CLIENT_KEY_FILE").unwrap_or_default(),
                    ),
                ]
            }),
        ),
        Mode::Cluster => (
            "REDIS_CLUSTER_URLS",
            var("REDIS_CLUSTER_URLS").map(|urls| vec![("store.redis_cluster_urls", urls)]),
        ),
        Mode::Sentinel => (
            "REDIS_SENTINEL_URLS",
            var("REDIS_SENTINEL_URLS").map(|urls| {
                vec![
                    ("store.sentinel_urls", urls),
                    (
                        "store.sentinel_master",
                        var("REDIS_SENTINEL_MASTER").unwrap_or_else(|| "bffmaster".into()),
                    ),
                ]
            }),
        ),
    };
    if settings.is_none() {
        eprintln!("skipped: {needed} is not set (scripts/test.sh sets it)");
    }
    settings
}

/// `options` with the plain Redis URL replaced by `mode`'s settings.
fn with_mode(mut options: LoadOptions, settings: Vec<(&'static str, String)>) -> LoadOptions {
    options = options.set("store.redis_url", "");
    for (k, v) in settings {
        options = options.set(k, v);
    }
    options
}

/// App options (`base_options`) on `mode`, or `None` when the mode is not available.
pub fn mode_app_options(mode: Mode) -> Option<LoadOptions> {
    mode_settings(mode).map(|s| with_mode(base_options(), s))
}

/// A store on `mode` under `prefix`, built from settings as the service builds it.
pub fn mode_store(mode: Mode, prefix: &str) -> Option<Arc<dyn Store>> {
    let settings = mode_settings(mode)?;
    let options = with_mode(repo_options(None), settings).set("store.key_prefix", prefix);
    let s = load_settings(options);
    Some(aarthik_bff::store::from_settings(&s.store).expect("store set-up"))
}

/// A store on `mode` with a fresh prefix (for the conformance suite).
pub fn mode_store_fresh(mode: Mode) -> Option<Arc<dyn Store>> {
    mode_store(mode, &unique_prefix())
}

/// A `redis-server` of the test's own, in a temporary directory, stopped when dropped. With
/// `durable`, every write is on disk before it is acknowledged (appendfsync always), so a
/// restart keeps what was acknowledged.
pub struct OwnRedis {
    pub port: u16,
    dir: PathBuf,
    durable: bool,
    extra: Vec<String>,
    child: Option<Child>,
}

impl OwnRedis {
    pub fn start(durable: bool) -> OwnRedis {
        Self::start_with(durable, &[])
    }

    /// With extra `redis-server` arguments (such as `--replicaof HOST PORT`).
    pub fn start_with(durable: bool, extra: &[&str]) -> OwnRedis {
        let dir = std::env::temp_dir().join(format!("bff-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut r = OwnRedis {
            port: free_port(),
            dir,
            durable,
            extra: extra.iter().map(|a| a.to_string()).collect(),
            child: None,
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Start (again) on the same port and directory; returns once it answers PING.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut c = Command::new("redis-server");
        c.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .arg("--dir")
        .arg(&self.dir)
        .args(["--daemonize", "no", "--loglevel", "warning"]);
        if self.durable {
            c.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            c.args(["--appendonly", "no"]);
        }
        c.args(&self.extra);
        let child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        self.child = Some(child);
        assert!(self.wait_for_ping(20), "redis-server did not start");
    }

    /// Stop it at once (SIGKILL: what a crash looks like; durable data is already on disk).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn wait_for_ping(&self, secs: u64) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if ping(self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// PING over a raw socket: true on `+PONG`.
pub fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// A `redis-sentinel` of the test's own watching `master` (quorum 1, down after 1 s), stopped
/// when dropped.
pub struct OwnSentinel {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl OwnSentinel {
    pub fn start(name: &str, master_port: u16) -> OwnSentinel {
        let dir =
            std::env::temp_dir().join(format!("bff-sentinel-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("sentinel dir");
        let port = free_port();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor {name} 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds {name} 1000\n\
                 sentinel failover-timeout {name} 10000\n",
                dir.display()
            ),
        )
        .expect("sentinel.conf");
        let child = Command::new("redis-sentinel")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-sentinel (scripts/test.sh installs it)");
        OwnSentinel { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnSentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One command to a Redis server or Sentinel on `port`.
pub async fn redis_cmd<T: redis::FromRedisValue>(
    port: u16,
    cmd: &redis::Cmd,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut c = client.get_multiplexed_async_connection().await?;
    cmd.query_async(&mut c).await
}
