//! Sandbox tests over HTTP: each test starts its own sandbox on port 0 and talks to it
//! with reqwest only; webhooks go to a tiny receiver started by the test.

mod aa;
mod bad_input;
mod controls;
mod helpers;
mod idempotency;
mod journey;
mod journeys;
mod profile;
mod receiver;
mod servicing;
mod sessions;
mod steps;
mod walk;
mod webhooks;
