//! The Aarthik Labs headless API's vocabulary, shared by the BFF and the sandbox: paths, header
//! names, the response envelope, enum values and error codes, webhook signing, timings.
//!
//! Pure data and functions: no HTTP framework, no client, no runtime. A correction from the
//! vendor is a change in this crate, and both sides follow it.
#![forbid(unsafe_code)]

pub mod envelope;
pub mod errors;
pub mod headers;
pub mod paths;
pub mod signature;
pub mod timing;
pub mod vocabulary;

pub use envelope::{Envelope, ErrorBody};
pub use errors::error_code;
pub use vocabulary::*;
