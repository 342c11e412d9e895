//! The per-instance revocation cache: partner user → when they were last signed out everywhere
//! (unix ms), or "never" as far as the store knew when the entry was filled. Bounded; read on every
//! authenticated request, so a lookup is one shared read lock and one hash-map probe.
//!
//! Why entries stay correct without a TTL: an entry changes only when that user is revoked, and
//! every revocation reaches every instance through the revocation log (see `watch`), which
//! [`Cache::apply`]s it here. A fill from the store that raced with such an apply could write back
//! what the store said *before* the revocation, so every apply bumps an epoch and a fill is kept
//! only when the epoch has not moved since the store was read. If the log has not been followed for
//! [`STALE_AFTER`], lookups stop trusting the cache (they ask the store) until it is followed again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long the cache is trusted after the last successful read of the revocation log.
pub const STALE_AFTER: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// `None`: the store had no revocation for this user.
    map: HashMap<String, Option<i64>>,
    epoch: u64,
}

pub(super) struct Cache {
    state: RwLock<State>,
    max_entries: usize,
    started: Instant,
    /// Milliseconds after `started` of the last successful read of the log.
    followed_ms: AtomicU64,
}

impl Cache {
    pub(super) fn new(max_entries: usize) -> Self {
        Cache {
            state: RwLock::new(State::default()),
            max_entries: max_entries.max(1),
            started: Instant::now(),
            followed_ms: AtomicU64::new(0),
        }
    }

    /// `Some(revoked)` when this instance knows the answer; `None`: ask the store.
    pub(super) fn get(&self, user: &str) -> Option<Option<i64>> {
        if !self.trusted() {
            return None;
        }
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state.map.get(user).copied()
    }

    /// Read before asking the store; hand it to [`Cache::fill`] with the answer.
    pub(super) fn epoch(&self) -> u64 {
        self.state.read().unwrap_or_else(|p| p.into_inner()).epoch
    }

    /// Remember what the store said, unless a revocation was applied since `epoch` was read (the
    /// answer may predate it). When full, one arbitrary entry makes room.
    pub(super) fn fill(&self, user: &str, revoked: Option<i64>, epoch: u64) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.epoch != epoch {
            return;
        }
        if state.map.len() >= self.max_entries && !state.map.contains_key(user) {
            if let Some(victim) = state.map.keys().next().cloned() {
                state.map.remove(&victim);
            }
        }
        state.map.insert(user.to_owned(), revoked);
    }

    /// A revocation of `user` at `revoked_ms` (this instance's or one read from the log). An entry
    /// only ever moves later; a user not cached stays uncached (the store already has it).
    pub(super) fn apply(&self, user: &str, revoked_ms: i64) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.epoch += 1;
        if let Some(entry) = state.map.get_mut(user) {
            *entry = Some(entry.map_or(revoked_ms, |r| r.max(revoked_ms)));
        }
    }

    /// Forget everything (after the log could not be followed for a while).
    pub(super) fn clear(&self) {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.epoch += 1;
        state.map.clear();
    }

    /// The log was read just now.
    pub(super) fn mark_followed(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.followed_ms.store(ms.max(1), Ordering::Relaxed);
    }

    fn trusted(&self) -> bool {
        let last = self.followed_ms.load(Ordering::Relaxed);
        last > 0
            && (self.started.elapsed().as_millis() as u64).saturating_sub(last)
                < STALE_AFTER.as_millis() as u64
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn followed(max: usize) -> Cache {
        let c = Cache::new(max);
        c.mark_followed();
        c
    }

    #[test]
    fn nothing_is_trusted_before_the_log_was_followed() {
        let c = Cache::new(10);
        c.fill("u", None, c.epoch());
        assert_eq!(c.get("u"), None);
        c.mark_followed();
        assert_eq!(c.get("u"), Some(None));
    }

    #[test]
    fn a_fill_that_raced_a_revocation_is_dropped() {
        let c = followed(10);
        let epoch = c.epoch();
        c.apply("u", 5);
        c.fill("u", None, epoch);
        assert_eq!(c.get("u"), None, "ask the store again");
        c.fill("u", Some(5), c.epoch());
        assert_eq!(c.get("u"), Some(Some(5)));
    }

    #[test]
    fn applies_move_cached_entries_later_only() {
        let c = followed(10);
        c.fill("u", None, c.epoch());
        c.apply("u", 7);
        assert_eq!(c.get("u"), Some(Some(7)));
        c.apply("u", 3);
        assert_eq!(c.get("u"), Some(Some(7)));
        c.apply("other", 9);
        assert_eq!(c.get("other"), None);
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = followed(3);
        for i in 0..10 {
            c.fill(&format!("u{i}"), None, c.epoch());
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("u9"), Some(None));
        c.clear();
        assert_eq!(c.len(), 0);
    }
}
