//! HTTP plumbing shared by the capabilities: the bounded request body reader ([`body`]).

pub mod body;
