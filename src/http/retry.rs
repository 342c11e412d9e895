//! Retrying an outbound call: the attempt loop and the doubling backoff shared by the proxy's
//! upstream calls and webhook forwarding. Each caller decides which outcomes are worth another
//! attempt and how long to pause (a `Retry-After` may win over the backoff).

use std::future::Future;
use std::time::Duration;

use rand::Rng;

/// Doubling pauses: `first`, `2 × first`, `4 × first`, … capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    jitter: bool,
}

impl Backoff {
    pub const fn doubling(first: Duration, max: Duration) -> Self {
        Backoff {
            first,
            max,
            jitter: false,
        }
    }

    /// "Equal jitter": half of each pause fixed, half random, so the retries of many callers
    /// spread out instead of arriving together.
    pub const fn with_equal_jitter(self) -> Self {
        Backoff {
            jitter: true,
            ..self
        }
    }

    /// The pause after attempt `attempt` (0 = the first attempt) failed.
    pub fn pause(&self, attempt: u32) -> Duration {
        let exp = self
            .first
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max);
        if !self.jitter {
            return exp;
        }
        let half = exp / 2;
        let jitter = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

/// Make up to `max_attempts` attempts (at least one). After each, `pause` sees the outcome and
/// the attempt's index (0 = the first) and answers how long to wait before the next attempt, or
/// `None` when the outcome is final. Returns the last outcome.
pub async fn retry<T, A, F, P>(max_attempts: u32, mut attempt: A, mut pause: P) -> T
where
    A: FnMut(u32) -> F,
    F: Future<Output = T>,
    P: FnMut(&T, u32) -> Option<Duration>,
{
    let mut n = 0;
    loop {
        let out = attempt(n).await;
        if n.saturating_add(1) >= max_attempts {
            return out;
        }
        match pause(&out, n) {
            None => return out,
            Some(wait) => tokio::time::sleep(wait).await,
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap() {
        let b = Backoff::doubling(Duration::from_millis(500), Duration::from_secs(3));
        let pauses: Vec<u128> = (0..5).map(|a| b.pause(a).as_millis()).collect();
        assert_eq!(pauses, [500, 1000, 2000, 3000, 3000]);
    }

    #[test]
    fn equal_jitter_keeps_half_of_each_pause() {
        let b = Backoff::doubling(Duration::from_millis(100), Duration::from_secs(2))
            .with_equal_jitter();
        for attempt in 0..20 {
            let exp = Duration::from_millis(100)
                .saturating_mul(1u32 << attempt.min(16))
                .min(Duration::from_secs(2));
            let p = b.pause(attempt);
            assert!(p >= exp / 2 && p <= exp, "{attempt}: {p:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_stop_at_a_final_outcome_or_at_the_limit() {
        let start = tokio::time::Instant::now();
        let wait = |out: &u32, _| (*out < 2).then_some(Duration::from_secs(1));
        assert_eq!(retry(10, |n| async move { n }, wait).await, 2);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        assert_eq!(retry(2, |n| async move { n }, wait).await, 1);
        assert_eq!(retry(0, |n| async move { n }, wait).await, 0);
    }
}
