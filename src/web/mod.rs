//! The web-app capability: `POST /v1/web/session` exchanges a partner JWT for the session cookie,
//! `DELETE` ends it. The cookie store itself is [`crate::auth::WebSessions`], because resolving a
//! cookie to a partner user is authentication, shared by every capability.

pub mod routes;
