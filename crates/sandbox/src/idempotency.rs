//! Idempotency records. Scope = (credential, key). The fingerprint covers method, path, query
//! and body, so the same key on another call is a conflict, not a silent replay. A record is
//! "in flight" while the first request runs, so a concurrent duplicate cannot run twice.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::reply::SbError;
use crate::state::State;
use aarthik_contract::{error_code as code, timing};

pub enum IdemRecord {
    InFlight {
        fingerprint: String,
        at: Instant,
    },
    Done {
        fingerprint: String,
        status: u16,
        body: bytes::Bytes,
        at: Instant,
    },
}

impl IdemRecord {
    fn at(&self) -> Instant {
        match self {
            IdemRecord::InFlight { at, .. } | IdemRecord::Done { at, .. } => *at,
        }
    }
}

/// What the edge should do with a keyed request.
pub enum Decision {
    /// Run the handler, then `finish` (or `abandon`) the record.
    Proceed,
    /// Answer the stored response.
    Replay {
        status: u16,
        body: bytes::Bytes,
    },
    Refuse(SbError),
}

pub fn fingerprint(method: &str, path: &str, query: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), query.as_bytes()] {
        h.update(part);
        h.update(b"\n");
    }
    h.update(body);
    hex::encode(h.finalize())
}

/// Look up (and claim) `key` in `scope`.
pub fn begin(state: &mut State, scope: &str, key: &str, fp: &str) -> Decision {
    let retention = Duration::from_secs(timing::IDEMPOTENCY_RETENTION_SECS);
    state
        .idempotency
        .retain(|_, r| r.at().elapsed() < retention);
    let id = (scope.to_owned(), key.to_owned());
    match state.idempotency.get(&id) {
        None => {
            state.idempotency.insert(
                id,
                IdemRecord::InFlight {
                    fingerprint: fp.to_owned(),
                    at: Instant::now(),
                },
            );
            Decision::Proceed
        }
        Some(IdemRecord::Done {
            fingerprint,
            status,
            body,
            ..
        }) if fingerprint == fp => Decision::Replay {
            status: *status,
            body: body.clone(),
        },
        Some(IdemRecord::InFlight { fingerprint, .. }) if fingerprint == fp => {
            // The first request may still succeed: repeating this one later will replay it.
            Decision::Refuse(
                SbError::conflict(
                    code::IDEMPOTENCY_KEY_CONFLICT,
                    "a request with this Idempotency-Key is still being processed",
                )
                .retryable(true),
            )
        }
        Some(_) => Decision::Refuse(SbError::conflict(
            code::IDEMPOTENCY_KEY_CONFLICT,
            "this Idempotency-Key was already used for a different request",
        )),
    }
}

/// Store the finished response. 5xx answers are not stored: a retry runs again.
pub fn finish(
    state: &mut State,
    scope: &str,
    key: &str,
    fp: &str,
    status: u16,
    body: bytes::Bytes,
) {
    let id = (scope.to_owned(), key.to_owned());
    if status >= 500 {
        state.idempotency.remove(&id);
        return;
    }
    state.idempotency.insert(
        id,
        IdemRecord::Done {
            fingerprint: fp.to_owned(),
            status,
            body,
            at: Instant::now(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let notify = std::sync::Arc::new(tokio::sync::Notify::new());
        State::new(&crate::SandboxConfig::default(), notify.clone(), notify)
    }

    #[test]
    fn a_duplicate_of_a_running_request_is_a_retryable_conflict_and_another_body_is_not() {
        let mut st = state();
        assert!(matches!(begin(&mut st, "s", "k", "fp"), Decision::Proceed));
        match begin(&mut st, "s", "k", "fp") {
            Decision::Refuse(e) => {
                assert_eq!(e.code, code::IDEMPOTENCY_KEY_CONFLICT);
                assert!(e.retryable, "the first call may still succeed");
            }
            _ => panic!("a running duplicate must be refused"),
        }
        finish(
            &mut st,
            "s",
            "k",
            "fp",
            200,
            bytes::Bytes::from_static(b"{}"),
        );
        match begin(&mut st, "s", "k", "other") {
            Decision::Refuse(e) => assert!(!e.retryable),
            _ => panic!("another body must be refused"),
        }
        assert!(matches!(
            begin(&mut st, "s", "k", "fp"),
            Decision::Replay { status: 200, .. }
        ));
    }
}
