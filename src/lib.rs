//! aarthik-bff: the partner-side backend-for-frontend for the Aarthik Labs headless lending API.
#![forbid(unsafe_code)]

pub mod sandbox;
pub mod upstream;
