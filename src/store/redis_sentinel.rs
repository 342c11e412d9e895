//! Redis behind Sentinels: the master they name, one multiplexed connection to it, and a watch
//! that follows a failover.
//!
//! The connection is dropped (and the Sentinels asked again on the next command) when it fails —
//! the socket is gone, or the server answers READONLY because it is a replica now — and when the
//! watch sees the Sentinels name another master or start a failover; while a failover is in
//! progress the store answers "unavailable" (503) instead of writing to the old master. The watch
//! is needed because during and after a failover the old master can stay up, still a master in
//! its own eyes, for several seconds until the Sentinels reconfigure it; writes it acknowledged
//! meanwhile would be lost when it becomes a replica. The watch asks every [`WATCH_PERIOD`], so
//! that window is short; with asynchronous replication only the server can close it
//! (`min-replicas-to-write` on the master: a master that lost its replica refuses writes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, ErrorKind, IntoConnectionInfo,
    RedisResult, TlsCertificates, TlsMode,
};

use super::redis_modes::unavailable;
use super::StoreError;

/// How often the watch asks the Sentinels which server is the master.
pub const WATCH_PERIOD: Duration = Duration::from_millis(250);

/// The master connection in use.
struct Current {
    /// Its number, so a failure of an older connection cannot drop a newer one.
    id: u64,
    conn: MultiplexedConnection,
    /// `host:port` of the master it goes to.
    addr: String,
}

pub(super) struct SentinelLink {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    /// The Sentinels themselves, for the watch.
    sentinels: Vec<redis::Client>,
    master: String,
    current: Mutex<Option<Current>>,
    next_id: AtomicU64,
    watching: AtomicBool,
    /// The Sentinels are failing the master over: refuse until they name the new one.
    failing_over: AtomicBool,
    config: AsyncConnectionConfig,
    discover_timeout: Duration,
}

/// Errors after which the master connection is not worth keeping: the socket is gone, or the
/// server is no longer the master.
pub(super) fn master_lost(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || e.kind() == ErrorKind::ReadOnly
}

fn addr_of(a: &ConnectionAddr) -> String {
    a.to_string()
}

impl SentinelLink {
    pub(super) fn new(
        urls: &[String],
        master: &str,
        certs: Option<TlsCertificates>,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Self, String> {
        let infos = urls
            .iter()
            .map(|u| u.as_str().into_connection_info())
            .collect::<RedisResult<Vec<ConnectionInfo>>>()
            .map_err(|e| format!("bad store.sentinel_urls: {:?}", e.kind()))?;
        let first = infos
            .first()
            .ok_or_else(|| "store.sentinel_urls is empty".to_owned())?;
        let tls = matches!(first.addr, ConnectionAddr::TcpTls { .. });
        if certs.is_some() && !tls {
            return Err("TLS files are set but store.sentinel_urls do not use rediss://".into());
        }
        // The master and replicas are reached with the Sentinel URLs' credentials and TLS.
        let auth = first.redis.clone();
        let mut b = SentinelClientBuilder::new(
            infos.iter().map(|i| i.addr.clone()),
            master.to_owned(),
            SentinelServerType::Master,
        )
        .map_err(|e| format!("{:?}", e.kind()))?
        .set_client_to_redis_db(auth.db);
        if let Some(user) = auth.username {
            b = b
                .set_client_to_redis_username(user.clone())
                .set_client_to_sentinel_username(user);
        }
        if let Some(password) = auth.password {
            b = b
                .set_client_to_redis_password(password.clone())
                .set_client_to_sentinel_password(password);
        }
        if tls {
            b = b.set_client_to_redis_tls_mode(TlsMode::Secure);
            if let Some(certs) = &certs {
                b = b
                    .set_client_to_redis_certificates(certs.clone())
                    .set_client_to_sentinel_certificates(certs.clone());
            }
        }
        let sentinel = b
            .build()
            .map_err(|e| format!("{:?} {}", e.kind(), e.detail().unwrap_or("")))?;
        let sentinels = infos
            .into_iter()
            .map(|info| match &certs {
                Some(c) => redis::Client::build_with_tls(info, c.clone()),
                None => redis::Client::open(info),
            })
            .collect::<RedisResult<Vec<_>>>()
            .map_err(|e| format!("bad store.sentinel_urls: {:?}", e.kind()))?;
        Ok(SentinelLink {
            sentinel: tokio::sync::Mutex::new(sentinel),
            sentinels,
            master: master.to_owned(),
            current: Mutex::new(None),
            next_id: AtomicU64::new(1),
            watching: AtomicBool::new(false),
            failing_over: AtomicBool::new(false),
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(connect_timeout)
                .set_response_timeout(response_timeout),
            discover_timeout: connect_timeout * 3,
        })
    }

    /// A client for the master Sentinel names now (for a dedicated pub/sub connection).
    pub(super) async fn master_client(&self) -> Result<redis::Client, StoreError> {
        let mut sentinel = self.sentinel.lock().await;
        tokio::time::timeout(self.discover_timeout, sentinel.async_get_client())
            .await
            .map_err(|_| StoreError::Unavailable("sentinel master discovery timed out".into()))?
            .map_err(unavailable)
    }

    fn cached(&self) -> Option<(MultiplexedConnection, u64)> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().map(|c| (c.conn.clone(), c.id))
    }

    /// The master connection and its number (connecting first when there is none).
    pub(super) async fn conn(self: &Arc<Self>) -> Result<(MultiplexedConnection, u64), StoreError> {
        if self.failing_over.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable(
                "sentinel failover in progress".into(),
            ));
        }
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        // One discovery at a time; whoever waited finds the connection made.
        let mut sentinel = self.sentinel.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let (addr, conn) = tokio::time::timeout(self.discover_timeout, async {
            let client = sentinel.async_get_client().await?;
            let addr = addr_of(&client.get_connection_info().addr);
            let conn = client
                .get_multiplexed_async_connection_with_config(&self.config)
                .await?;
            Ok::<_, redis::RedisError>((addr, conn))
        })
        .await
        .map_err(|_| StoreError::Unavailable("sentinel master discovery timed out".into()))?
        .map_err(unavailable)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        tracing::info!(master = %addr, "connected to the Redis master named by Sentinel");
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(Current {
            id,
            conn: conn.clone(),
            addr,
        });
        if !self.watching.swap(true, Ordering::Relaxed) {
            tokio::spawn(watch(Arc::downgrade(self)));
        }
        Ok((conn, id))
    }

    /// Drop connection `id` if it is still the one in use: the next command asks the Sentinels.
    pub(super) fn forget(&self, id: u64, why: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(&*current, Some(c) if c.id == id) {
            tracing::warn!(
                reason = why,
                "dropping the Redis master connection; asking Sentinel again"
            );
            *current = None;
        }
    }

    /// The master as a Sentinel sees it (the one asked last time, else the first that answers).
    async fn named_master(&self, asked: &mut Option<MultiplexedConnection>) -> Option<Named> {
        if let Some(c) = asked.as_mut() {
            if let Ok(named) = self.ask(c).await {
                return Some(named);
            }
            *asked = None;
        }
        for client in &self.sentinels {
            let connected = tokio::time::timeout(
                self.discover_timeout,
                client.get_multiplexed_async_connection_with_config(&self.config),
            )
            .await;
            let Ok(Ok(mut c)) = connected else {
                continue;
            };
            if let Ok(named) = self.ask(&mut c).await {
                *asked = Some(c);
                return Some(named);
            }
        }
        None
    }

    async fn ask(&self, c: &mut MultiplexedConnection) -> RedisResult<Named> {
        let fields: HashMap<String, String> = redis::cmd("SENTINEL")
            .arg("MASTER")
            .arg(&self.master)
            .query_async(c)
            .await?;
        let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
        Ok(Named {
            addr: format!("{}:{}", field("ip"), field("port")),
            failing_over: field("flags").contains("failover_in_progress"),
        })
    }
}

/// What a Sentinel says about the master.
struct Named {
    addr: String,
    failing_over: bool,
}

/// Every [`WATCH_PERIOD`] while the store exists: follow what the Sentinels say. During a
/// failover, and when they name another master, drop the connection.
async fn watch(link: Weak<SentinelLink>) {
    let mut asked = None;
    loop {
        tokio::time::sleep(WATCH_PERIOD).await;
        let Some(link) = link.upgrade() else {
            return;
        };
        let Some(named) = link.named_master(&mut asked).await else {
            continue;
        };
        let was = link
            .failing_over
            .swap(named.failing_over, Ordering::Relaxed);
        if named.failing_over != was {
            tracing::warn!(
                in_progress = named.failing_over,
                master = %named.addr,
                "Redis Sentinel failover"
            );
        }
        let connected = {
            let current = link.current.lock().unwrap_or_else(|p| p.into_inner());
            current.as_ref().map(|c| (c.id, c.addr.clone()))
        };
        if let Some((id, addr)) = connected {
            if named.failing_over {
                link.forget(id, "a Sentinel failover is in progress");
            } else if named.addr != addr {
                link.forget(id, "the Sentinels name another master");
            }
        }
    }
}
