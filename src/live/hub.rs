//! The one wake-up subscription of this instance, fanned out in process.
//!
//! Every open stream and waiting long poll holds a [`Listener`]: a `watch` receiver on its user's
//! slot (or on the ops feed). One task per instance subscribes to the store's wake channel and,
//! for each announcement, bumps the slots it names — so an idle stream costs a map entry and a
//! receiver, never a store read, and N streams cost one subscription, not N polling loops. When
//! the subscription is (re)established, every listener is woken: whatever was announced while it
//! was down is then read from the store.
//!
//! The hub also counts streams: per user (`events.max_streams_per_user`) and ops streams
//! (`ops.max_streams`), both per instance. Counts are released when the listener is dropped,
//! which actix does as soon as the client is gone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::events::{Announcement, Announcer};
use crate::store::{Delivery, Store};

/// Back-off between attempts to (re)subscribe.
const RESUBSCRIBE_MIN: Duration = Duration::from_millis(200);
const RESUBSCRIBE_MAX: Duration = Duration::from_secs(5);

/// The per-instance stream limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub streams_per_user: usize,
    pub ops_streams: usize,
}

/// A new stream would exceed a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    users: Mutex<HashMap<String, Slot>>,
    feed: watch::Sender<u64>,
    ops_streams: AtomicUsize,
    limits: Limits,
}

/// One user's wake-up channel, present while anyone on this instance listens for that user.
struct Slot {
    tx: watch::Sender<u64>,
    listeners: usize,
    streams: usize,
}

impl Slot {
    fn new() -> Self {
        Slot {
            tx: watch::Sender::new(0),
            listeners: 0,
            streams: 0,
        }
    }
}

/// Wakes when the data it listens for may have grown.
pub struct Listener {
    rx: watch::Receiver<u64>,
    _hold: Hold,
}

impl Listener {
    /// Forget earlier wake-ups: only announcements from now on wake [`Listener::changed`]. Call
    /// it before reading the store, so nothing announced during the read is missed.
    pub fn mark_seen(&mut self) {
        self.rx.borrow_and_update();
    }

    /// Resolves on the next announcement for this listener.
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            // The hub is gone (shutdown): never wake again.
            std::future::pending::<()>().await;
        }
    }
}

/// What a listener holds and gives back when dropped.
enum Hold {
    User {
        hub: Arc<Inner>,
        user: String,
        stream: bool,
    },
    Ops(Arc<Inner>),
}

impl Drop for Hold {
    fn drop(&mut self) {
        match self {
            Hold::User { hub, user, stream } => {
                let mut users = hub.lock_users();
                if let Some(slot) = users.get_mut(user.as_str()) {
                    slot.listeners = slot.listeners.saturating_sub(1);
                    if *stream {
                        slot.streams = slot.streams.saturating_sub(1);
                    }
                    if slot.listeners == 0 {
                        users.remove(user.as_str());
                    }
                }
            }
            Hold::Ops(hub) => {
                hub.ops_streams.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

impl Inner {
    fn lock_users(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // A panic while holding this lock leaves counts that are still consistent enough.
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_all(&self) {
        self.feed.send_modify(|n| *n = n.wrapping_add(1));
        for slot in self.lock_users().values() {
            slot.tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    fn dispatch(&self, message: &[u8]) {
        let Some(what) = Announcement::parse(message) else {
            self.wake_all();
            return;
        };
        if what.feed {
            self.feed.send_modify(|n| *n = n.wrapping_add(1));
        }
        if what.users.is_empty() {
            return;
        }
        let users = self.lock_users();
        for user in &what.users {
            if let Some(slot) = users.get(user.as_str()) {
                slot.tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
}

impl Hub {
    /// A hub without a subscription (nothing wakes it but [`Hub::deliver`]).
    pub fn new(limits: Limits) -> Self {
        Hub {
            inner: Arc::new(Inner {
                users: Mutex::new(HashMap::new()),
                feed: watch::Sender::new(0),
                ops_streams: AtomicUsize::new(0),
                limits,
            }),
        }
    }

    /// A hub fed by this instance's one subscription to the store's wake channel (a task that
    /// lives as long as the hub).
    pub fn start(store: Arc<dyn Store>, limits: Limits) -> Self {
        let hub = Hub::new(limits);
        tokio::spawn(subscribe_loop(store, Arc::downgrade(&hub.inner)));
        hub
    }

    /// Hand one message from the wake channel to the listeners it names.
    pub fn deliver(&self, delivery: &Delivery) {
        match delivery {
            Delivery::Message(m) => self.inner.dispatch(m),
            Delivery::Gap => self.inner.wake_all(),
        }
    }

    /// A listener for a user's stream, counted against the per-user limit.
    pub fn user_stream(&self, user: &str) -> Result<Listener, Full> {
        let mut users = self.inner.lock_users();
        let slot = users.entry(user.to_owned()).or_insert_with(Slot::new);
        if slot.streams >= self.inner.limits.streams_per_user {
            if slot.listeners == 0 {
                users.remove(user);
            }
            return Err(Full);
        }
        slot.streams += 1;
        Ok(self.attach(slot, user, true))
    }

    /// A listener for a user's long poll (not counted: a poll ends within its wait).
    pub fn user_poll(&self, user: &str) -> Listener {
        let mut users = self.inner.lock_users();
        let slot = users.entry(user.to_owned()).or_insert_with(Slot::new);
        self.attach(slot, user, false)
    }

    fn attach(&self, slot: &mut Slot, user: &str, stream: bool) -> Listener {
        slot.listeners += 1;
        Listener {
            rx: slot.tx.subscribe(),
            _hold: Hold::User {
                hub: Arc::clone(&self.inner),
                user: user.to_owned(),
                stream,
            },
        }
    }

    /// A listener for an ops stream, counted against the per-instance limit.
    pub fn ops_stream(&self) -> Result<Listener, Full> {
        let before = self.inner.ops_streams.fetch_add(1, Ordering::AcqRel);
        let hold = Hold::Ops(Arc::clone(&self.inner));
        if before >= self.inner.limits.ops_streams {
            drop(hold); // gives the count back
            return Err(Full);
        }
        Ok(Listener {
            rx: self.inner.feed.subscribe(),
            _hold: hold,
        })
    }

    /// Open streams on this instance: (users' streams, ops streams).
    pub fn open_streams(&self) -> (usize, usize) {
        let users = self.inner.lock_users().values().map(|s| s.streams).sum();
        (users, self.inner.ops_streams.load(Ordering::Acquire))
    }
}

/// Subscribe, fan out, and subscribe again whenever the subscription ends, until the hub is gone.
async fn subscribe_loop(store: Arc<dyn Store>, hub: Weak<Inner>) {
    let channel = Announcer::channel();
    let mut backoff = RESUBSCRIBE_MIN;
    loop {
        match store.subscribe(&channel).await {
            Ok(mut sub) => {
                backoff = RESUBSCRIBE_MIN;
                let Some(h) = hub.upgrade() else { return };
                // Whatever was announced while we were not subscribed is in the store.
                h.wake_all();
                drop(h);
                while let Some(delivery) = sub.next().await {
                    let Some(h) = hub.upgrade() else { return };
                    Hub { inner: h }.deliver(&delivery);
                }
                tracing::warn!("live updates: the wake-up subscription ended; subscribing again");
            }
            Err(e) => {
                tracing::warn!(error = %e, "live updates: cannot subscribe to wake-ups; retrying");
            }
        }
        if hub.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RESUBSCRIBE_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(per_user: usize, ops: usize) -> Hub {
        Hub::new(Limits {
            streams_per_user: per_user,
            ops_streams: ops,
        })
    }

    fn announce(users: &[&str], feed: bool) -> Delivery {
        Delivery::Message(
            Announcement {
                feed,
                users: users.iter().map(|u| u.to_string()).collect(),
            }
            .to_bytes(),
        )
    }

    fn woken(l: &Listener) -> bool {
        l.rx.has_changed().unwrap_or(false)
    }

    #[test]
    fn an_announcement_wakes_only_the_users_it_names() {
        let h = hub(5, 5);
        let mut alice = h.user_stream("alice").unwrap();
        let bob = h.user_poll("bob");
        let ops = h.ops_stream().unwrap();
        h.deliver(&announce(&["alice", "carol"], false));
        assert!(woken(&alice));
        assert!(!woken(&bob));
        assert!(!woken(&ops));
        alice.mark_seen();
        h.deliver(&announce(&[], true));
        assert!(woken(&ops));
        assert!(!woken(&alice));
        // A gap, or a message this release cannot read, wakes everyone.
        h.deliver(&Delivery::Message(b"{not json".to_vec()));
        assert!(woken(&alice) && woken(&bob));
    }

    #[test]
    fn streams_are_capped_per_user_and_released_when_dropped() {
        let h = hub(2, 5);
        let a = h.user_stream("alice").unwrap();
        let b = h.user_stream("alice").unwrap();
        assert_eq!(h.user_stream("alice").err(), Some(Full));
        let _poll = h.user_poll("alice"); // polls are not counted
        assert!(h.user_stream("bob").is_ok(), "another user is unaffected");
        drop(a);
        let _c = h.user_stream("alice").unwrap();
        assert_eq!(h.open_streams().0, 2);
        drop(b);
        drop(_c);
        drop(_poll);
        assert!(
            h.inner.lock_users().is_empty(),
            "no slot outlives its listeners"
        );
    }

    #[test]
    fn ops_streams_are_capped_per_instance() {
        let h = hub(5, 2);
        let a = h.ops_stream().unwrap();
        let _b = h.ops_stream().unwrap();
        assert!(h.ops_stream().is_err());
        assert_eq!(
            h.open_streams().1,
            2,
            "a refused stream gives its count back"
        );
        drop(a);
        assert!(h.ops_stream().is_ok());
    }
}
