//! How the Redis store reaches Redis: one server (`redis://`, `rediss://`, `unix://`), a Redis
//! Cluster (seed nodes; the client follows the slot map), or the master a set of Sentinels names.
//! TLS (rustls) is used for every `rediss://` URL, with optional CA and client-certificate files.
//!
//! Every mode hands out a [`Conn`] that runs commands, scripts and pipelines. Connections are made
//! on first use, so the service starts (and reports not-ready) while Redis is down, and each mode
//! recovers by itself: the single-server connection manager and the Cluster client reconnect on
//! their own; the Sentinel link (`redis_sentinel`) follows the master the Sentinels name.
//!
//! One server and Cluster keep a connection per calling thread (each actix worker, each runtime
//! thread): a multiplexed connection is driven by a task on the runtime that opened it, so a
//! connection shared by every worker made each command wake another thread twice. Profiling
//! showed those wake-ups as the largest cost of webhook ingestion (docs/benchmarks.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{ClientTlsConfig, Cmd, Pipeline, RedisFuture, TlsCertificates, Value};
use thread_local::ThreadLocal;
use tokio::sync::OnceCell;

use super::redis_sentinel::{master_lost, SentinelLink};
use super::StoreError;

/// Which Redis deployment to use.
#[derive(Debug, Clone)]
pub enum RedisMode {
    Single(String),
    Cluster(Vec<String>),
    Sentinel { urls: Vec<String>, master: String },
}

impl RedisMode {
    /// The mode's name in start-up errors and logs.
    pub fn label(&self) -> &'static str {
        match self {
            RedisMode::Single(_) => "redis",
            RedisMode::Cluster(_) => "redis cluster",
            RedisMode::Sentinel { .. } => "redis sentinel",
        }
    }
}

/// PEM files for TLS connections (each optional; the system's roots when no CA is given).
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub ca_file: Option<PathBuf>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

/// Everything needed to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub mode: RedisMode,
    pub tls: TlsFiles,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
}

impl RedisOptions {
    /// The Redis mode the settings name (`None`: no Redis, the in-memory store). Configuration
    /// validation has already refused more than one mode.
    pub fn from_settings(s: &crate::config::StoreSettings) -> Option<Self> {
        use secrecy::ExposeSecret;
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let file = |v: &str| Some(PathBuf::from(v.trim())).filter(|p| !p.as_os_str().is_empty());
        let single = s.redis_url.expose_secret().trim();
        let cluster = list(s.redis_cluster_urls.expose_secret());
        let sentinels = list(s.sentinel_urls.expose_secret());
        let mode = if !single.is_empty() {
            RedisMode::Single(single.to_owned())
        } else if !cluster.is_empty() {
            RedisMode::Cluster(cluster)
        } else if !sentinels.is_empty() {
            RedisMode::Sentinel {
                urls: sentinels,
                master: s.sentinel_master.trim().to_owned(),
            }
        } else {
            return None;
        };
        Some(RedisOptions {
            mode,
            tls: TlsFiles {
                ca_file: file(&s.tls_ca_file),
                client_cert_file: file(&s.tls_client_cert_file),
                client_key_file: file(&s.tls_client_key_file),
            },
            connect_timeout: Duration::from_millis(s.connect_timeout_ms),
            response_timeout: Duration::from_millis(s.response_timeout_ms),
        })
    }
}

/// The Redis set-up cannot work: the mode and the cause, shown as one line at start-up.
#[derive(Debug, thiserror::Error)]
#[error("{mode}: {cause}")]
pub struct SetupError {
    pub mode: &'static str,
    pub cause: String,
}

/// A Redis error as a store error. Redis errors can carry the URL; keep only the category and
/// the server's message.
pub(super) fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("{:?}: {}", e.kind(), e.detail().unwrap_or("")))
}

/// Makes connections for one mode.
pub(super) enum Connector {
    Single {
        client: redis::Client,
        conn: ThreadLocal<OnceCell<ConnectionManager>>,
    },
    Cluster {
        client: ClusterClient,
        conn: ThreadLocal<OnceCell<ClusterConnection>>,
        /// Pub/sub in a Cluster is broadcast to every node, so one seed node serves subscribers.
        pubsub: Box<redis::Client>,
    },
    Sentinel(Arc<SentinelLink>),
}

impl Connector {
    pub(super) fn new(o: &RedisOptions) -> Result<Self, SetupError> {
        let mode = o.mode.label();
        let fail = |cause: String| SetupError { mode, cause };
        let certs = read_certificates(&o.tls).map_err(fail)?;
        let bad = |what: &str, e: redis::RedisError| {
            fail(format!(
                "{what}: {:?} {}",
                e.kind(),
                e.detail().unwrap_or("")
            ))
        };
        match &o.mode {
            RedisMode::Single(url) => {
                let client = match certs {
                    Some(certs) => redis::Client::build_with_tls(url.as_str(), certs),
                    None => redis::Client::open(url.as_str()),
                }
                .map_err(|e| bad("bad store.redis_url", e))?;
                Ok(Connector::Single {
                    client,
                    conn: ThreadLocal::new(),
                })
            }
            RedisMode::Cluster(urls) => {
                let mut b = ClusterClient::builder(urls.iter().map(String::as_str))
                    .connection_timeout(o.connect_timeout)
                    .response_timeout(o.response_timeout)
                    // A command waits for a moved slot or a restarted node for a short while
                    // only: the caller gets 503 STORE_UNAVAILABLE and retries.
                    .retries(3)
                    .min_retry_wait(20)
                    .max_retry_wait(500);
                let seed = urls
                    .first()
                    .ok_or_else(|| fail("store.redis_cluster_urls is empty".into()))?;
                let pubsub = match &certs {
                    Some(certs) => redis::Client::build_with_tls(seed.as_str(), certs.clone()),
                    None => redis::Client::open(seed.as_str()),
                }
                .map_err(|e| bad("bad store.redis_cluster_urls", e))?;
                if let Some(certs) = certs {
                    b = b.certs(certs);
                }
                let client = b
                    .build()
                    .map_err(|e| bad("bad store.redis_cluster_urls", e))?;
                Ok(Connector::Cluster {
                    client,
                    conn: ThreadLocal::new(),
                    pubsub: Box::new(pubsub),
                })
            }
            RedisMode::Sentinel { urls, master } => {
                let link =
                    SentinelLink::new(urls, master, certs, o.connect_timeout, o.response_timeout)
                        .map_err(fail)?;
                Ok(Connector::Sentinel(Arc::new(link)))
            }
        }
    }

    /// A client for a dedicated pub/sub connection: the server itself, a Cluster seed node (pub/sub
    /// is broadcast to every node), or the master Sentinel names now.
    pub(super) async fn pubsub_client(&self) -> Result<redis::Client, StoreError> {
        match self {
            Connector::Single { client, .. } => Ok(client.clone()),
            Connector::Cluster { pubsub, .. } => Ok((**pubsub).clone()),
            Connector::Sentinel(link) => link.master_client().await,
        }
    }

    /// A connection (this thread's; made now if it has none yet).
    pub(super) async fn conn(&self, o: &Timeouts) -> Result<Conn, StoreError> {
        match self {
            Connector::Single { client, conn } => {
                let c = conn
                    .get_or_default()
                    .get_or_try_init(|| async {
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(o.connect)
                            .set_response_timeout(o.response)
                            .set_number_of_retries(1);
                        tokio::time::timeout(
                            o.connect * 2,
                            ConnectionManager::new_with_config(client.clone(), config),
                        )
                        .await
                        .map_err(|_| StoreError::Unavailable("connect timed out".into()))?
                        .map_err(unavailable)
                    })
                    .await?;
                Ok(Conn::Single(c.clone()))
            }
            Connector::Cluster { client, conn, .. } => {
                let c = conn
                    .get_or_default()
                    .get_or_try_init(|| async {
                        tokio::time::timeout(o.connect * 3, client.get_async_connection())
                            .await
                            .map_err(|_| StoreError::Unavailable("connect timed out".into()))?
                            .map_err(unavailable)
                    })
                    .await?;
                Ok(Conn::Cluster(c.clone()))
            }
            Connector::Sentinel(link) => {
                let (conn, id) = link.conn().await?;
                Ok(Conn::Sentinel {
                    conn,
                    id,
                    link: Arc::clone(link),
                })
            }
        }
    }
}

/// Connect and response timeouts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    pub connect: Duration,
    pub response: Duration,
}

/// The CA and client certificate files, read once at start-up.
fn read_certificates(tls: &TlsFiles) -> Result<Option<TlsCertificates>, String> {
    let read = |key: &str, path: &Option<PathBuf>| -> Result<Option<Vec<u8>>, String> {
        path.as_ref()
            .map(|p| {
                std::fs::read(p).map_err(|e| format!("{key}: cannot read {}: {e}", p.display()))
            })
            .transpose()
    };
    let root_cert = read("store.tls_ca_file", &tls.ca_file)?;
    let client_cert = read("store.tls_client_cert_file", &tls.client_cert_file)?;
    let client_key = read("store.tls_client_key_file", &tls.client_key_file)?;
    let client_tls = match (client_cert, client_key) {
        (Some(client_cert), Some(client_key)) => Some(ClientTlsConfig {
            client_cert,
            client_key,
        }),
        (None, None) => None,
        _ => return Err("the client certificate and key go together".into()),
    };
    if root_cert.is_none() && client_tls.is_none() {
        return Ok(None);
    }
    Ok(Some(TlsCertificates {
        client_tls,
        root_cert,
    }))
}

/// One connection of whichever mode, usable with every command, script and pipeline.
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel {
        conn: MultiplexedConnection,
        id: u64,
        link: Arc<SentinelLink>,
    },
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
            Conn::Sentinel { conn, id, link } => {
                let (id, link) = (*id, Arc::clone(link));
                Box::pin(async move {
                    let r = conn.req_packed_command(cmd).await;
                    if let Err(e) = &r {
                        if master_lost(e) {
                            link.forget(id, "the connection failed");
                        }
                    }
                    r
                })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Sentinel { conn, id, link } => {
                let (id, link) = (*id, Arc::clone(link));
                Box::pin(async move {
                    let r = conn.req_packed_commands(cmd, offset, count).await;
                    if let Err(e) = &r {
                        if master_lost(e) {
                            link.forget(id, "the connection failed");
                        }
                    }
                    r
                })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
            Conn::Sentinel { conn, .. } => conn.get_db(),
        }
    }
}
