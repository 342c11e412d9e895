//! The Aarthik Labs upstream: the shared contract table, envelope types and the HTTP client.

pub mod contract;
pub mod envelope;
