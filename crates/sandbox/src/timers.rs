//! The timer task: fires due lender dispatches (`PROFILE_SUBMITTED` → `OFFERS_PENDING`), lender
//! answers (per card), AA redirect preparation and disbursals. `fire` is also what the
//! `/__sandbox/timers/skip` control calls (with `force`), so skipping is synchronous.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::state::State;
use crate::{aa, loan, offers, Sandbox};

/// Idle wait when nothing is scheduled (a notification ends it early).
const IDLE: Duration = Duration::from_secs(3600);

/// A forced skip repeats this often at most: dispatch schedules answers, which `force` fires in
/// the next round.
const FORCE_ROUNDS: usize = 4;

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
    let journeys = st
        .journeys
        .values()
        .flat_map(|j| [j.dispatch_due, j.disbursal_due]);
    let offers = st.offers.values().map(|o| o.answer_due);
    let aa = st.aa_sessions.values().map(|s| s.ready_due);
    journeys.chain(offers).chain(aa).flatten().min()
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Dispatch(String),
    Answer(String),
    AaReady(String),
    Disburse(String),
}

/// Due jobs in a stable order: by journey creation, then by kind.
fn due_jobs(st: &State, only: Option<&str>, force: bool) -> Vec<(u64, Job)> {
    let now = Instant::now();
    let due = |t: Option<Instant>| t.is_some_and(|t| force || t <= now);
    let order = |journey_id: &str| st.journeys.get(journey_id).map_or(0, |j| j.order);
    let wanted = |journey_id: &str| only.is_none_or(|o| o == journey_id);
    let mut jobs = Vec::new();
    for j in st.journeys.values().filter(|j| wanted(&j.id)) {
        if due(j.dispatch_due) {
            jobs.push((j.order, Job::Dispatch(j.id.clone())));
        }
        if due(j.disbursal_due) {
            jobs.push((j.order, Job::Disburse(j.id.clone())));
        }
    }
    for o in st.offers.values().filter(|o| wanted(&o.journey_id)) {
        if due(o.answer_due) {
            jobs.push((order(&o.journey_id), Job::Answer(o.id.clone())));
        }
    }
    for s in st.aa_sessions.values().filter(|s| wanted(&s.journey_id)) {
        if due(s.ready_due) {
            jobs.push((order(&s.journey_id), Job::AaReady(s.id.clone())));
        }
    }
    jobs.sort();
    jobs
}

/// Fire due timers (all pending ones when `force`, until nothing is left), optionally for one
/// journey only. Returns the journeys that moved, each once, in the order they first moved.
pub fn fire(st: &mut State, only: Option<&str>, force: bool) -> Vec<String> {
    let mut moved: Vec<String> = Vec::new();
    let rounds = if force { FORCE_ROUNDS } else { 1 };
    for _ in 0..rounds {
        let jobs = due_jobs(st, only, force);
        if jobs.is_empty() {
            break;
        }
        for (_, job) in jobs {
            let journey = match job {
                Job::Dispatch(id) => offers::start_dispatch(st, &id).then_some(id),
                Job::Answer(id) => {
                    let journey = st.offers.get(&id).map(|o| o.journey_id.clone());
                    offers::answer(st, &id).then_some(journey).flatten()
                }
                Job::AaReady(id) => aa::prepare(st, &id),
                Job::Disburse(id) => {
                    let fired = loan::disburse(st, &id);
                    if let Some(j) = st.journeys.get_mut(&id) {
                        j.disbursal_due = None; // never fire twice, even when the journey moved on
                    }
                    fired.then_some(id)
                }
            };
            if let Some(id) = journey.filter(|id| !moved.contains(id)) {
                moved.push(id);
            }
        }
    }
    moved
}
