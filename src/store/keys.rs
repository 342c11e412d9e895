//! Every store key the service builds, in one place: one type per stored thing, its prefix written
//! once. A key is `prefix` + its parts joined by `:` + an optional suffix; the store
//! implementation then puts the deployment's `store.key_prefix` in front of all of them.
//!
//! The strings are a storage format: instances of different releases share the data, so a key
//! must never change shape (the tests below pin them).

use std::fmt::{self, Display, Write as _};

/// Defines a key type: `Name = "prefix" (part, ...) "suffix";` (parts and suffix optional).
macro_rules! key_def {
    ($($(#[$doc:meta])* $name:ident = $prefix:literal $(($($part:ident),+))? $($suffix:literal)?;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// What every key of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            #[allow(clippy::new_without_default)]
            pub fn new($($($part: impl Display),+)?) -> Self {
                #[allow(unused_mut)]
                let mut key = String::from(Self::PREFIX);
                $(join(&mut key, &[$(&$part),+]);)?
                $(key.push_str($suffix);)?
                $name(key)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

/// Append `parts` to `key`, separated by `:`.
fn join(key: &mut String, parts: &[&dyn Display]) {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(':');
        }
        // Writing to a String cannot fail.
        let _ = write!(key, "{part}");
    }
}

key_def! {
    /// A partner user's upstream session (a versioned record), by user hash.
    SessionRecordKey = "session:" (user_hash);
    /// The lock held while one instance mints or refreshes a user's session.
    SessionLockKey = "lock:session:" (user_hash);
    /// A user's count of upstream session calls in one fixed minute window.
    SessionRateLimitKey = "ratelimit:session:" (user_hash, window);
    /// A user's count of mutating proxied calls in one fixed minute window.
    ProxyRateLimitKey = "ratelimit:proxy:" (user_hash, window);
    /// The fence counter of a lock: bumped on every acquisition of the lock key.
    LockFenceKey = "" (lock_key) ":fence";
    /// A browser (cookie) session, by the hex SHA-256 of its id.
    WebSessionKey = "web:" (id_digest);
    /// One idempotency scope's record, by the hex digest of the scope.
    IdempotencyRecordKey = "idem:" (scope_digest);
    /// The partner user owning a journey.
    JourneyOwnerKey = "dir:journey:" (journey_id);
    /// The journeys linked to a partner user (a hash: journey id → link time).
    UserJourneysKey = "dir:user:" (user_id) ":journeys";
    /// The journey a partner user last created or resumed through the proxy, and when.
    UserActiveJourneyKey = "dir:user:" (user_id) ":active";
    /// The partner user a borrowerExternalID (possibly a pseudonym) stands for.
    BorrowerUserKey = "dir:borrower:" (borrower_external_id);
    /// The journey an upstream resource belongs to (`kind` `o`: offer, `a`: AA session).
    ResourceJourneyKey = "proxy:" (kind, id);
    /// Webhook dedupe marker of one event: `processing:<owner>` (a lease), then `done`.
    EventMarkerKey = "wh:evt:" (event_id);
    /// The "about to append to the feed" note of one event (its time floor in ms).
    FeedIntentKey = "wh:evt:" (event_id) ":feed";
    /// The latest snapshot of a journey (a versioned record).
    JourneyLatestKey = "wh:journey:" (journey_id);
    /// Every event of a journey (a hash keyed by zero-padded sequence + event id).
    JourneyHistoryKey = "wh:journey:" (journey_id) ":events";
    /// The latest upstream answer about a journey this service saw (proxied journey reads and
    /// session answers), with when it arrived.
    JourneyObservedKey = "journey:observed:" (journey_id);
    /// The ordered feed of verified events (a stream).
    FeedKey = "wh:feed";
    /// Dead letters (a hash: id → letter).
    DeadLettersKey = "wh:dead";
    /// When a partner user was signed out everywhere (unix ms), by user hash.
    RevokedUserKey = "revoked:user:" (user_hash);
    /// Every revocation, in order (a stream), for the instances' caches to follow.
    RevocationLogKey = "revoked:log";
    /// The ops audit log (a stream).
    AuditLogKey = "audit:log";
    /// Every journey with a snapshot, scored by its last change (a sorted index).
    JourneysByChangeKey = "wh:journeys:changed";
    /// The journeys whose latest status is `status`, scored by their last change.
    JourneysByStatusKey = "wh:journeys:status:" (status);
    /// An ops console session, by the hex SHA-256 of its id.
    OpsSessionKey = "ops:session:" (id_digest);
    /// A partner user's live journey updates (a stream). The user id is the cluster hash tag, so
    /// the stream and its guard sit in one slot (they are written in one atomic step).
    UserUpdatesKey = "live:{" (user_id) "}:updates";
    /// The last sequence pushed per journey into a user's live updates (a hash: journey id →
    /// sequence).
    UserUpdatesGuardKey = "live:{" (user_id) "}:pushed";
    /// The pub/sub channel that wakes the live streams of every instance.
    LiveWakeChannel = "live:wake";
    /// Forwarding deliveries waiting for their next attempt (a schedule: member
    /// `<target>|<event id>`, scored by the due time in unix ms). Every operation on it touches
    /// this one key only.
    ForwardScheduleKey = "fwd:schedule";
    /// One event's forwarding: the job, each target's delivery state and every attempt (a hash).
    /// Every operation on it touches this one key only.
    ForwardRecordKey = "fwd:evt:" (event_id);
    /// The events with a forwarding record, scored by when they were received (a sorted index,
    /// for the ops listing).
    ForwardEventsKey = "fwd:events";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Existing data and other instances depend on these exact strings.
    #[test]
    fn keys_keep_their_exact_shape() {
        let pinned = [
            (SessionRecordKey::new("ab12").to_string(), "session:ab12"),
            (SessionLockKey::new("ab12").to_string(), "lock:session:ab12"),
            (
                SessionRateLimitKey::new("ab12", 29_585_000).to_string(),
                "ratelimit:session:ab12:29585000",
            ),
            (
                ProxyRateLimitKey::new("ab12", 29_585_000).to_string(),
                "ratelimit:proxy:ab12:29585000",
            ),
            (
                LockFenceKey::new("lock:session:ab12").to_string(),
                "lock:session:ab12:fence",
            ),
            (WebSessionKey::new("ff00").to_string(), "web:ff00"),
            (IdempotencyRecordKey::new("9a").to_string(), "idem:9a"),
            (JourneyOwnerKey::new("j-1").to_string(), "dir:journey:j-1"),
            (
                UserJourneysKey::new("u-1").to_string(),
                "dir:user:u-1:journeys",
            ),
            (
                UserActiveJourneyKey::new("u-1").to_string(),
                "dir:user:u-1:active",
            ),
            (BorrowerUserKey::new("b-1").to_string(), "dir:borrower:b-1"),
            (
                ResourceJourneyKey::new("o", "off_1").to_string(),
                "proxy:o:off_1",
            ),
            (EventMarkerKey::new("evt_1").to_string(), "wh:evt:evt_1"),
            (FeedIntentKey::new("evt_1").to_string(), "wh:evt:evt_1:feed"),
            (JourneyLatestKey::new("j-1").to_string(), "wh:journey:j-1"),
            (
                JourneyHistoryKey::new("j-1").to_string(),
                "wh:journey:j-1:events",
            ),
            (
                JourneyObservedKey::new("j-1").to_string(),
                "journey:observed:j-1",
            ),
            (FeedKey::new().to_string(), "wh:feed"),
            (DeadLettersKey::new().to_string(), "wh:dead"),
            (RevokedUserKey::new("ab12").to_string(), "revoked:user:ab12"),
            (RevocationLogKey::new().to_string(), "revoked:log"),
            (AuditLogKey::new().to_string(), "audit:log"),
            (
                JourneysByChangeKey::new().to_string(),
                "wh:journeys:changed",
            ),
            (
                JourneysByStatusKey::new("OFFERS_PENDING").to_string(),
                "wh:journeys:status:OFFERS_PENDING",
            ),
            (OpsSessionKey::new("ff00").to_string(), "ops:session:ff00"),
            (UserUpdatesKey::new("u-1").to_string(), "live:{u-1}:updates"),
            (
                UserUpdatesGuardKey::new("u-1").to_string(),
                "live:{u-1}:pushed",
            ),
            (LiveWakeChannel::new().to_string(), "live:wake"),
            (ForwardScheduleKey::new().to_string(), "fwd:schedule"),
            (ForwardRecordKey::new("evt_1").to_string(), "fwd:evt:evt_1"),
            (ForwardEventsKey::new().to_string(), "fwd:events"),
        ];
        for (built, expected) in pinned {
            assert_eq!(built, expected);
        }
    }
}
