//! Telling every instance that stored webhook data changed: one small pub/sub message per webhook
//! run, naming whether the ops feed grew and which users got updates. It only wakes readers; they
//! read the data itself from the store, after their own cursor, so a lost or repeated message
//! costs nothing but a read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::store::keys::LiveWakeChannel;
use crate::store::{Store, StoreError};

/// The message on the wake channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The ops feed has new items.
    #[serde(rename = "f", default)]
    pub feed: bool,
    /// Users whose journey updates may have grown.
    #[serde(rename = "u", default)]
    pub users: Vec<String>,
}

impl Announcement {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` for a message this release does not understand (readers then wake everyone).
    pub fn parse(bytes: &[u8]) -> Option<Announcement> {
        serde_json::from_slice(bytes).ok()
    }
}

#[derive(Clone)]
pub struct Announcer {
    store: Arc<dyn Store>,
}

impl Announcer {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Announcer { store }
    }

    pub async fn announce(&self, what: &Announcement) -> Result<(), StoreError> {
        if !what.feed && what.users.is_empty() {
            return Ok(());
        }
        self.store
            .publish(&LiveWakeChannel::new(), &what.to_bytes())
            .await
    }

    /// The channel the announcements travel on (for the subscriber).
    pub fn channel() -> LiveWakeChannel {
        LiveWakeChannel::new()
    }
}
