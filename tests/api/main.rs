//! Black-box tests: one binary, one module per capability. They start the real `Application` on
//! port 0 against a real Redis (`REDIS_URL`, each test its own key prefix) and the real sandbox.
//! Shared set-up is in `helpers/`; `TEST_LOG=1` shows the service's logs.

mod cli;
mod cli_drain;
mod cli_healthcheck;
mod cli_secrets;
mod docs;
mod doctor;
mod hardening_edge;
mod hardening_proxy;
mod hardening_upstream;
mod health;
mod helpers;
mod http_surface;
mod live_poll;
mod live_stream;
mod logs;
mod openapi;
mod ops;
mod ops_audit;
mod ops_console;
mod ops_search;
mod proxy;
mod proxy_idempotency;
mod proxy_upstream_failures;
mod redis_modes;
mod revoke;
mod server_ports;
mod session;
mod session_active_journey;
mod session_auth;
mod session_failures;
mod session_refresh_modes;
mod store;
mod store_recovery;
mod telemetry;
mod upstream_vocabulary;
mod web_session;
mod webhook_dead_letters;
mod webhook_dedupe;
mod webhook_end_to_end;
mod webhook_forwarding;
mod webhook_hardening;
mod webhook_ordering;
mod webhook_user_mapping;
mod webhook_verify;
