//! The timer task: fires due offer dispatches and disbursals. `fire` is also what the
//! `/__sandbox/timers/skip` control calls (with `force`), so skipping is synchronous.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::state::State;
use crate::{loan, offers, Sandbox};

/// Idle wait when nothing is scheduled (a notification ends it early).
const IDLE: Duration = Duration::from_secs(3600);

pub async fn run(sb: Arc<Sandbox>) {
    loop {
        let next_at = {
            let mut st = sb.lock();
            fire(&mut st, None, false);
            next_due(&st)
        };
        let wait = next_at
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IDLE);
        tokio::select! {
            _ = sb.timer_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

fn next_due(st: &State) -> Option<Instant> {
    st.journeys
        .values()
        .flat_map(|j| [j.offers_due, j.disbursal_due])
        .flatten()
        .min()
}

/// Fire due timers (all pending ones when `force`), optionally for one journey only.
/// Returns the journeys that moved.
pub fn fire(st: &mut State, only: Option<&str>, force: bool) -> Vec<String> {
    let now = Instant::now();
    let due = |t: Option<Instant>| t.is_some_and(|t| force || t <= now);
    let mut offer_ids: Vec<(u64, String)> = Vec::new();
    let mut disbursal_ids: Vec<(u64, String)> = Vec::new();
    for j in st.journeys.values() {
        if only.is_some_and(|o| o != j.id) {
            continue;
        }
        if due(j.offers_due) {
            offer_ids.push((j.order, j.id.clone()));
        }
        if due(j.disbursal_due) {
            disbursal_ids.push((j.order, j.id.clone()));
        }
    }
    offer_ids.sort();
    disbursal_ids.sort();
    let mut moved = Vec::new();
    for (_, id) in offer_ids {
        let fired = offers::dispatch(st, &id);
        if let Some(j) = st.journeys.get_mut(&id) {
            j.offers_due = None; // never fire twice, even when the journey moved on
        }
        if fired {
            moved.push(id);
        }
    }
    for (_, id) in disbursal_ids {
        let fired = loan::disburse(st, &id);
        if let Some(j) = st.journeys.get_mut(&id) {
            j.disbursal_due = None;
        }
        if fired {
            moved.push(id);
        }
    }
    moved
}
