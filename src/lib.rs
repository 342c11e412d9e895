//! aarthik-bff: the partner-side backend-for-frontend for the Aarthik Labs headless lending API,
//! run with the upstream simulator (the `aarthik-sandbox` crate) behind the default feature
//! `embedded-sandbox`. `docs/architecture.md` maps the modules and the direction of imports.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod directory;
pub mod doctor;
pub mod domain;
pub mod drain;
pub mod embedded;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod listeners;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod proxy;
pub mod revoke;
pub mod routes;
pub mod session;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod upstream;
pub mod web;
pub mod webhook;

/// The upstream simulator (present with the default feature `embedded-sandbox`).
#[cfg(feature = "embedded-sandbox")]
pub use aarthik_sandbox as sandbox;
