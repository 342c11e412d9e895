//! `activeJourney` as `/v1/session` reports it: the journey the upstream named last — in the
//! session answer, or later in a journey create-or-resume answer seen by the proxy — with the
//! status and next action that journey has now (the newer of its latest verified snapshot and
//! the latest upstream answer about it, see `events::current`), never the values cached when the
//! session was minted. A session answer is itself such an upstream answer, so it is recorded as
//! one when it arrives.

use super::record::Record;
use super::{Inner, SessionError, Sessions};
use crate::events::Observation;
use crate::upstream::types::ActiveJourney;

impl Inner {
    /// Record what a fresh session answer said about its active journey. Best effort: the
    /// session is already stored; a failure only means an older view may be shown.
    pub(crate) async fn observe_active_journey(&self, record: &Record) {
        let Some(j) = &record.active_journey else {
            return;
        };
        if !crate::events::is_safe_id(&j.journey_id) {
            return;
        }
        let obs = Observation {
            journey_id: j.journey_id.clone(),
            status: j.status.clone(),
            next_action: j.next_action.clone(),
            received_ms: record.obtained_ms,
        };
        if let Err(e) = self.journeys.observe(&obs).await {
            tracing::warn!(error = %e, "could not record the session's active journey");
        }
    }
}

impl Sessions {
    /// `user`'s active journey as it is now (`record` is the user's stored session).
    pub async fn active_journey(
        &self,
        user: &str,
        record: &Record,
    ) -> Result<Option<ActiveJourney>, SessionError> {
        let later = self
            .inner
            .directory
            .active_journey(user)
            .await?
            .filter(|(_, at)| *at > record.obtained_ms);
        // The journey the upstream named last: a later create-or-resume, else the session's.
        let named = match (later, &record.active_journey) {
            (Some((journey_id, _)), _) => ActiveJourney {
                journey_id,
                status: None,
                next_action: None,
            },
            (None, Some(cached)) => cached.clone(),
            (None, None) => return Ok(None),
        };
        if !crate::events::is_safe_id(&named.journey_id) {
            return Ok(Some(named));
        }
        Ok(Some(
            match self.inner.journeys.now(&named.journey_id).await? {
                Some(now) => ActiveJourney {
                    journey_id: named.journey_id,
                    status: now.status,
                    next_action: now.next_action,
                },
                // Nothing kept (the record predates this, or its write failed): what the upstream
                // said is the newest word there is.
                None => named,
            },
        ))
    }
}
