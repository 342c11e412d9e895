//! Live journey updates for partner apps: `GET /v1/events/stream` (SSE) and `GET /v1/events`
//! (long poll) hand each signed-in user their own journeys' changes, as verified webhooks store
//! them, so apps stop polling the journey state. Also home of what every event stream of this
//! instance shares: the one wake-up subscription and its in-process fan-out ([`hub`]), and the
//! SSE writer ([`sse`]) — the ops stream uses both.

pub mod hub;
mod routes;
pub mod sse;

use std::time::Duration;

use crate::config::Settings;
use crate::events::Updates;

pub use hub::{Hub, Limits, Listener};
pub use routes::{routes, Api};

/// The comment heartbeat of a user's stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// What the live routes need: the hub, the users' updates, and the stream lifetime.
#[derive(Clone)]
pub struct Live {
    pub hub: Hub,
    pub updates: Updates,
    pub stream_lifetime: Duration,
}

impl Live {
    pub fn new(hub: Hub, updates: Updates, settings: &Settings) -> Self {
        Live {
            hub,
            updates,
            stream_lifetime: Duration::from_secs(settings.ops.stream_max_secs),
        }
    }

    /// The stream limits in the settings.
    pub fn limits(settings: &Settings) -> Limits {
        Limits {
            streams_per_user: settings.events.max_streams_per_user,
            ops_streams: settings.ops.max_streams,
        }
    }
}
