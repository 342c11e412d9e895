//! Black-box tests: one binary, one module per capability. They start the real `Application` on
//! port 0 against a real Redis (`REDIS_URL`, each test its own key prefix) and the real sandbox.

mod cli;
mod health;
mod helpers;
mod http_surface;
mod logs;
mod ops;
mod proxy;
mod proxy_idempotency;
mod proxy_support;
mod session;
mod session_auth;
mod store;
mod web_session;
mod webhooks;
