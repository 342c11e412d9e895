//! HTTP plumbing shared by the capabilities: the bounded request body reader ([`body`]) and the
//! retry loop with backoff for outbound calls ([`retry`]).

pub mod body;
pub mod registry;
pub mod retry;

pub use registry::resource;
