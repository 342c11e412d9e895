//! Journey search (`GET /v1/ops/journeys`): journeys with a verified snapshot, filtered by latest
//! status, partner user, or "no change for N seconds", newest change first, paged by an opaque
//! cursor (`<change ms>:<journeyID>`, the position of the last row).
//!
//! A user's journeys come from the directory (a handful); everything else pages through the
//! journey index (overall, or the status's own). Each hit is checked against the journey's latest
//! record, since the index may lag it. One request reads at most [`SCAN_BUDGET`] index entries:
//! when filters leave little, it answers a short page whose `next` continues the scan.

use futures_util::future::join_all;
use serde::Serialize;

use crate::events::index::changed_at_ms;
use crate::events::JourneyRecord;
use crate::store::StoreError;

use super::views::OpsViews;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;
/// Index entries (or a user's journeys) read per request, at most.
const SCAN_BUDGET: usize = 2000;
/// Index entries read per round trip.
const BATCH: usize = 100;

/// A position in newest-change-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub changed_ms: i64,
    pub journey_id: String,
}

impl Position {
    /// A cursor this search issued; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        let (ms, id) = raw.split_once(':')?;
        let ok_ms = !ms.is_empty() && ms.len() <= 18 && ms.bytes().all(|b| b.is_ascii_digit());
        (ok_ms && crate::events::is_safe_id(id)).then(|| Position {
            changed_ms: ms.parse().unwrap_or(0),
            journey_id: id.to_owned(),
        })
    }

    pub fn cursor(&self) -> String {
        format!("{}:{}", self.changed_ms, self.journey_id)
    }

    /// Whether `(ms, id)` comes strictly after this position.
    fn precedes(&self, ms: i64, id: &str) -> bool {
        ms < self.changed_ms || (ms == self.changed_ms && id < self.journey_id.as_str())
    }
}

#[derive(Debug, Default)]
pub struct JourneyQuery {
    pub status: Option<String>,
    pub user_id: Option<String>,
    pub stuck_for_secs: Option<u64>,
    pub limit: usize,
    pub after: Option<Position>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JourneyRow {
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    pub sequence: u64,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JourneyPage {
    pub journeys: Vec<JourneyRow>,
    /// Where the next page starts; `null` when nothing is left.
    pub next: Option<String>,
}

fn row(rec: JourneyRecord, user_id: Option<String>) -> JourneyRow {
    JourneyRow {
        journey_id: rec.journey_id,
        user_id: rec.user_id.or(user_id),
        status: rec.status,
        next_action: rec.next_action,
        sequence: rec.sequence,
        updated_at: rec.updated_at,
    }
}

impl OpsViews {
    pub async fn search(&self, q: &JourneyQuery) -> Result<JourneyPage, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        // "No change for N seconds": changed at or before this instant.
        let ceiling = q.stuck_for_secs.map_or(i64::MAX, |s| {
            now.saturating_sub(i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000))
        });
        let limit = q.limit.clamp(1, MAX_LIMIT);
        match &q.user_id {
            Some(user) => self.search_user(user, q, ceiling, limit).await,
            None => self.search_index(q, ceiling, limit).await,
        }
    }

    /// The user's journeys (those with a snapshot), filtered and ordered here.
    async fn search_user(
        &self,
        user: &str,
        q: &JourneyQuery,
        ceiling: i64,
        limit: usize,
    ) -> Result<JourneyPage, StoreError> {
        let ids = self.directory.journeys_of(user).await?;
        // The most recently linked ones, when a user has an absurd number.
        let ids: Vec<String> = ids
            .into_iter()
            .rev()
            .take(SCAN_BUDGET)
            .filter(|id| crate::events::is_safe_id(id))
            .collect();
        let records = join_all(ids.iter().map(|id| self.events.journeys.latest(id))).await;
        let mut hits = Vec::new();
        for rec in records {
            let Some(rec) = rec? else { continue };
            let at = changed_at_ms(&rec);
            let keep = at <= ceiling
                && q.status
                    .as_deref()
                    .is_none_or(|s| rec.status.as_deref() == Some(s))
                && q.after
                    .as_ref()
                    .is_none_or(|a| a.precedes(at, &rec.journey_id));
            if keep {
                hits.push((at, rec));
            }
        }
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.journey_id.cmp(&a.1.journey_id)));
        let more = hits.len() > limit;
        hits.truncate(limit);
        let next = more
            .then(|| hits.last())
            .flatten()
            .map(|(at, rec)| Position {
                changed_ms: *at,
                journey_id: rec.journey_id.clone(),
            });
        Ok(JourneyPage {
            journeys: hits
                .into_iter()
                .map(|(_, rec)| row(rec, Some(user.to_owned())))
                .collect(),
            next: next.map(|p| p.cursor()),
        })
    }

    /// Pages through the journey index from the cursor (or the ceiling) down.
    async fn search_index(
        &self,
        q: &JourneyQuery,
        ceiling: i64,
        limit: usize,
    ) -> Result<JourneyPage, StoreError> {
        let status = q.status.as_deref();
        // The read window: entries at or below `max`, skipping the first `offset` of them.
        let mut max = q
            .after
            .as_ref()
            .map_or(ceiling, |a| a.changed_ms.min(ceiling));
        let mut offset = 0;
        let mut read = 0;
        let mut rows = Vec::new();
        let mut last: Option<Position> = None;
        loop {
            let batch = self.events.index.page(status, max, offset, BATCH).await?;
            let exhausted = batch.len() < BATCH;
            read += batch.len();
            if let Some((_, lowest)) = batch.last() {
                // Equal times come in a fixed order: skip the ones already read.
                let at_lowest = batch.iter().filter(|(_, ms)| ms == lowest).count();
                offset = if *lowest == max {
                    offset + at_lowest
                } else {
                    at_lowest
                };
                max = *lowest;
            }
            let hits: Vec<(String, i64)> = batch
                .into_iter()
                .filter(|(id, ms)| q.after.as_ref().is_none_or(|a| a.precedes(*ms, id)))
                .collect();
            let records =
                join_all(hits.iter().map(|(id, _)| self.events.journeys.latest(id))).await;
            for ((id, ms), rec) in hits.into_iter().zip(records) {
                last = Some(Position {
                    changed_ms: ms,
                    journey_id: id,
                });
                let Some(rec) = rec? else { continue };
                // The index may lag the record: a status left, or a change it has not seen.
                if status.is_some_and(|s| rec.status.as_deref() != Some(s))
                    || changed_at_ms(&rec) > ceiling
                {
                    continue;
                }
                let owner = match rec.user_id {
                    Some(_) => None,
                    None => self.directory.owner_of(&rec.journey_id).await?,
                };
                rows.push(row(rec, owner));
                if rows.len() == limit {
                    return Ok(JourneyPage {
                        journeys: rows,
                        next: last.map(|p| p.cursor()),
                    });
                }
            }
            if exhausted {
                return Ok(JourneyPage {
                    journeys: rows,
                    next: None,
                });
            }
            if read >= SCAN_BUDGET {
                return Ok(JourneyPage {
                    journeys: rows,
                    next: last.or_else(|| q.after.clone()).map(|p| p.cursor()),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let p = Position::parse("1775121370000:jrn-1.a_b").unwrap();
        assert_eq!(p.changed_ms, 1_775_121_370_000);
        assert_eq!(p.cursor(), "1775121370000:jrn-1.a_b");
        for bad in ["", ":j", "12:", "x:j", "-1:j", "1:j:k", "1:<b>", "1 :j"] {
            assert!(Position::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn positions_order_newest_first_then_by_id_descending() {
        let p = Position::parse("100:j-5").unwrap();
        assert!(p.precedes(99, "z"));
        assert!(p.precedes(100, "j-4"));
        assert!(!p.precedes(100, "j-5"));
        assert!(!p.precedes(100, "j-6"));
        assert!(!p.precedes(101, "a"));
    }
}
