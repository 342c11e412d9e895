//! The stored journey data: each journey's latest snapshot (ordered by `sequence`) and its event
//! history ([`journeys`]), the latest upstream answer about it and what it looks like now
//! ([`current`]), the journeys ordered by their last change ([`index`]), the ordered feed of every
//! verified event ([`feed`]), each partner user's journey updates ([`updates`]) and dead letters
//! ([`dead_letters`]), with their record types ([`records`]), plus the wake-up that tells every
//! instance the data grew ([`announce`]). The webhook receiver writes snapshots, the proxy and
//! sessions write answers; ops, sessions and the live updates read. None knows the others.

pub mod announce;
pub mod current;
pub mod dead_letters;
pub mod feed;
pub mod index;
pub mod journeys;
pub mod records;
pub mod updates;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::store::{Store, StreamTrim};

pub use announce::{Announcement, Announcer};
pub use current::{JourneyNow, Observation, Source};
pub use dead_letters::{DeadLetters, Kept};
pub use feed::Feed;
pub use index::JourneyIndex;
pub use journeys::{Applied, Journeys};
pub use records::{DeadLetter, FeedItem, JourneyRecord, JourneyUpdate};
pub use updates::Updates;

/// Handles on all of the stored webhook data; built once at start-up, cheap to clone.
#[derive(Clone)]
pub struct Events {
    pub journeys: Journeys,
    pub index: JourneyIndex,
    pub feed: Feed,
    pub dead_letters: DeadLetters,
    pub updates: Updates,
    pub announcer: Announcer,
}

impl Events {
    pub fn new(store: Arc<dyn Store>, settings: &Settings) -> Self {
        Events {
            journeys: Journeys::new(Arc::clone(&store)),
            index: JourneyIndex::new(Arc::clone(&store)),
            feed: Feed::new(Arc::clone(&store), feed_trim(settings)),
            dead_letters: DeadLetters::new(Arc::clone(&store)),
            updates: Updates::new(Arc::clone(&store), updates_trim(settings)),
            announcer: Announcer::new(store),
        }
    }
}

/// The feed's trimming, from the settings.
pub fn feed_trim(settings: &Settings) -> StreamTrim {
    StreamTrim {
        max_len: settings.webhook.feed_max_len,
        max_age: Duration::from_secs(settings.webhook.feed_max_age_secs),
    }
}

/// The trimming of each user's journey updates, from the settings.
pub fn updates_trim(settings: &Settings) -> StreamTrim {
    StreamTrim {
        max_len: settings.events.updates_max_len,
        max_age: Duration::from_secs(settings.events.updates_max_age_secs),
    }
}

/// Identifiers end up inside store keys: keep them to a safe alphabet and length.
pub fn is_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
