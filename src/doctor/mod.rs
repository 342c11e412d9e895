//! `aarthik-bff doctor`: a go-live check of the configured upstream. It talks to the upstream with
//! raw HTTP (not the service's client) so that it sees exactly what comes back, uses a probe
//! borrower of its own so no real borrower is touched, and never prints a secret: details carry
//! statuses, error codes and timings only.
//!
//! Required checks (reachability, key accepted, envelope shape, session create-or-resume, a
//! working refresh mode) fail the run; the others (version pin echoed, idempotent replay) only
//! warn, because the real API is not documented to show them.

mod checks;
pub mod cli;
mod probe;
mod report;
mod side_checks;

pub use checks::run;
pub use probe::{Probe, RefreshMode, WebhookProbe};
pub use report::{Check, Report, Status};
