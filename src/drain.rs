//! Graceful shutdown, in two phases after SIGTERM/SIGINT: first *draining* — everything is served
//! as usual but `/readyz` answers 503, so load balancers stop routing here — for
//! `server.shutdown_delay_secs`; then *stopping* — no new connections, open event streams end
//! (with a `retry:` hint so clients reconnect elsewhere), and in-flight requests get
//! `server.shutdown_timeout_secs` to finish. [`ShutdownSignals`] are the signals that start it.

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    Draining,
    Stopping,
}

/// The shutdown phase, shared by the signal handler, `/readyz` and long-lived responses.
#[derive(Clone)]
pub struct Drain {
    phase: watch::Sender<Phase>,
}

impl Default for Drain {
    fn default() -> Self {
        Drain {
            phase: watch::Sender::new(Phase::Serving),
        }
    }
}

impl Drain {
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Move on to `phase` (never back).
    pub fn enter(&self, phase: Phase) {
        self.phase.send_if_modified(|p| {
            let later = phase > *p;
            if later {
                *p = phase;
            }
            later
        });
    }

    /// Resolves once the service is stopping.
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.phase.subscribe();
        async move {
            let _ = rx.wait_for(|p| *p == Phase::Stopping).await;
        }
    }

    /// `body` until the service stops, then `farewell` and the end (for endless streams such as
    /// Server-Sent Events, which would otherwise hold the shutdown until its timeout).
    pub fn end_on_stop<S, E>(
        &self,
        body: S,
        farewell: &'static [u8],
    ) -> impl Stream<Item = Result<Bytes, E>>
    where
        S: Stream<Item = Result<Bytes, E>>,
    {
        body.take_until(self.stopping())
            .chain(stream::once(
                async move { Ok(Bytes::from_static(farewell)) },
            ))
    }
}

/// SIGTERM / SIGINT, listened for from the moment this is created (before the server is built, so
/// no signal after start-up is missed).
pub struct ShutdownSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignals {})
        }
    }

    /// Resolves on the first SIGTERM or SIGINT.
    pub async fn recv(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_only_move_forward_and_streams_end_on_stop() {
        let d = Drain::default();
        assert_eq!(d.phase(), Phase::Serving);
        d.enter(Phase::Draining);
        d.enter(Phase::Serving);
        assert_eq!(d.phase(), Phase::Draining);
        let endless = stream::repeat(Ok::<_, ()>(Bytes::from_static(b"x")));
        let mut s = Box::pin(d.end_on_stop(endless, b"bye"));
        assert_eq!(s.next().await, Some(Ok(Bytes::from_static(b"x"))));
        d.enter(Phase::Stopping);
        let rest: Vec<_> = s.collect().await;
        assert_eq!(rest.last(), Some(&Ok(Bytes::from_static(b"bye"))));
        assert!(rest.len() <= 2, "ends promptly: {}", rest.len());
    }
}
