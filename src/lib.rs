//! aarthik-bff: the partner-side backend-for-frontend for the Aarthik Labs headless lending API,
//! plus a faithful sandbox of that upstream. See README.md and ../shared/DESIGN.md.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod config;
pub mod directory;
pub mod domain;
pub mod error;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod proxy;
pub mod routes;
pub mod sandbox;
pub mod session;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod upstream;
pub mod web;
pub mod webhook;
