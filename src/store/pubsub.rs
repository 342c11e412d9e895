//! Store pub/sub: fire-and-forget wake-ups between instances. A message reaches the subscribers
//! connected at that moment and nobody else, so it only ever says "look again": the data itself
//! is in the store. Redis uses one dedicated connection per subscription (checked with a `PING`
//! every [`PING_EVERY`], so a silently dead connection ends the subscription); the memory store
//! uses an in-process broadcast channel per channel name.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

use super::StoreError;

/// How often a Redis subscription checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_secs(15);
/// Messages a slow in-process subscriber may fall behind before it is told it missed some.
const LOCAL_BACKLOG: usize = 1024;

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Message(Vec<u8>),
    /// Some messages may have been missed: treat everything as changed.
    Gap,
}

/// A live subscription; it ends when the connection behind it is lost (subscribe again).
pub type Subscription = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// The memory store's channels: one broadcast sender per channel name.
#[derive(Default)]
pub(super) struct LocalBus {
    channels: Mutex<HashMap<String, broadcast::Sender<Vec<u8>>>>,
}

impl LocalBus {
    fn sender(&self, channel: &str) -> Result<broadcast::Sender<Vec<u8>>, StoreError> {
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| StoreError::Unavailable("memory bus poisoned".into()))?;
        Ok(channels
            .entry(channel.to_owned())
            .or_insert_with(|| broadcast::channel(LOCAL_BACKLOG).0)
            .clone())
    }

    pub(super) fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError> {
        // No subscriber is not an error: the message was for whoever listens now.
        let _ = self.sender(channel)?.send(message.to_vec());
        Ok(())
    }

    pub(super) fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        let rx = self.sender(channel)?.subscribe();
        Ok(Box::pin(stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(m) => Some((Delivery::Message(m), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((Delivery::Gap, rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })))
    }
}

/// Subscribe to `channel` on a dedicated Redis connection.
pub(super) async fn redis_subscribe(
    client: &redis::Client,
    channel: &str,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<Subscription, StoreError> {
    let unavailable = |what: &str| StoreError::Unavailable(format!("subscribe: {what}"));
    let pubsub = tokio::time::timeout(connect_timeout * 2, client.get_async_pubsub())
        .await
        .map_err(|_| unavailable("connect timed out"))?
        .map_err(|e| unavailable(&format!("{:?}", e.kind())))?;
    let (mut sink, messages) = pubsub.split();
    tokio::time::timeout(response_timeout, sink.subscribe(channel))
        .await
        .map_err(|_| unavailable("timed out"))?
        .map_err(|e| unavailable(&format!("{:?}", e.kind())))?;
    let start = tokio::time::Instant::now() + PING_EVERY;
    let state = (sink, messages, tokio::time::interval_at(start, PING_EVERY));
    Ok(Box::pin(stream::unfold(
        state,
        move |(mut sink, mut messages, mut ping)| async move {
            loop {
                tokio::select! {
                    m = messages.next() => {
                        let m = m?;
                        let delivery = Delivery::Message(m.get_payload_bytes().to_vec());
                        return Some((delivery, (sink, messages, ping)));
                    }
                    _ = ping.tick() => {
                        let answer = tokio::time::timeout(
                            response_timeout,
                            sink.ping::<redis::Value>(),
                        )
                        .await;
                        if !matches!(answer, Ok(Ok(_))) {
                            tracing::warn!("store subscription stopped answering; ending it");
                            return None;
                        }
                    }
                }
            }
        },
    )))
}
