//! Keeping a lease alive while work runs: the one loop behind the lock's
//! [`Lease::hold_while`](super::Lease::hold_while) and the idempotency claim's renewal.
//!
//! Why it is built this way: the work and the renewals run side by side, so a slow store answer
//! to a renewal never stalls the work (nor a slow work step a renewal). A renewal that is still
//! in flight when the work finishes is seen through rather than dropped: the caller may need its
//! outcome (a renewal can bump a record version that the caller's next write must name).

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Run `work` to completion, calling `renew` every `period` meanwhile (counted from the end of
/// the previous renewal). `renew` answers `Ok(true)` when the lease was extended, `Ok(false)` when
/// it was lost (no renewal is tried after that) and `Err` when the store failed (logged; tried
/// again next period). Returns the work's output and whether the lease was held throughout.
/// `lease` names the lease in logs.
pub async fn renew_while<W, T, R, F, E>(
    lease: &'static str,
    period: Duration,
    mut renew: R,
    work: W,
) -> (T, bool)
where
    W: Future<Output = T>,
    R: FnMut() -> F,
    F: Future<Output = Result<bool, E>>,
    E: Display,
{
    tokio::pin!(work);
    let sleep = tokio::time::sleep(period);
    tokio::pin!(sleep);
    // A renewal in flight (boxed: it is replaced by the next one).
    let mut renewal: Option<std::pin::Pin<Box<F>>> = None;
    let mut held = true;
    let out = loop {
        tokio::select! {
            out = &mut work => break out,
            () = &mut sleep, if held && renewal.is_none() => renewal = Some(Box::pin(renew())),
            outcome = async {
                match renewal.as_mut() {
                    Some(r) => r.await,
                    None => std::future::pending().await,
                }
            }, if renewal.is_some() => {
                renewal = None;
                held = settle(lease, outcome);
                sleep.as_mut().reset(Instant::now() + period);
            }
        }
    };
    if let Some(r) = renewal {
        held = settle(lease, r.await);
    }
    (out, held)
}

/// Log a renewal's outcome; false when the lease is lost.
fn settle<E: Display>(lease: &'static str, outcome: Result<bool, E>) -> bool {
    match outcome {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!(lease, "lease lost while work was running");
            false
        }
        Err(e) => {
            tracing::warn!(lease, error = %e, "lease renewal failed");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const PERIOD: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn the_work_keeps_running_while_a_renewal_awaits_and_that_renewal_is_seen_through() {
        let start = Instant::now();
        let renewals = Cell::new(0);
        let work_done_at = Cell::new(None);
        let renew = || async {
            // A store that takes far longer to answer than the work needs.
            tokio::time::sleep(Duration::from_secs(1)).await;
            renewals.set(renewals.get() + 1);
            Ok::<_, String>(true)
        };
        let work = async {
            tokio::time::sleep(Duration::from_millis(250)).await;
            work_done_at.set(Some(start.elapsed()));
            7
        };
        let (out, held) = renew_while("test", PERIOD, renew, work).await;
        assert_eq!((out, held), (7, true));
        assert_eq!(work_done_at.get(), Some(Duration::from_millis(250)));
        assert_eq!(renewals.get(), 1, "the renewal in flight completed");
        assert_eq!(start.elapsed(), PERIOD + Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn renewals_repeat_each_period_and_stop_once_the_lease_is_lost() {
        let calls = Cell::new(0);
        let renew = || async {
            calls.set(calls.get() + 1);
            match calls.get() {
                1 => Err("store down".to_owned()),
                2 => Ok(true),
                _ => Ok(false),
            }
        };
        let work = tokio::time::sleep(PERIOD * 10 + Duration::from_millis(50));
        let ((), held) = renew_while("test", PERIOD, renew, work).await;
        assert!(!held);
        assert_eq!(
            calls.get(),
            3,
            "a failed renewal is retried; a lost lease is not"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn quick_work_needs_no_renewal() {
        let calls = Cell::new(0);
        let renew = || async {
            calls.set(calls.get() + 1);
            Ok::<_, String>(true)
        };
        let (out, held) = renew_while("test", PERIOD, renew, async { "done" }).await;
        assert_eq!((out, held, calls.get()), ("done", true, 0));
    }
}
