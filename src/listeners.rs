//! Which routes each listening port serves. With `server.metrics_port` set, `/metrics` is served
//! there and nowhere else; with `server.ops_port` set, the ops console (`/ops/…`) and the ops API
//! (`/v1/ops/…`) are served there and nowhere else. Everything else — the API, `/healthz`,
//! `/readyz` — only on the main port. One server listens on all ports; this middleware tells the
//! ports apart by the address the request came in on, and answers 404 for a route that belongs
//! elsewhere.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::ApiError;

/// The extra ports in use (`None`: that route group stays on the main port).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    pub metrics: Option<u16>,
    pub ops: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Metrics,
    Ops,
    Main,
}

fn group_of(path: &str) -> Group {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if path == "/metrics" {
        Group::Metrics
    } else if under("/ops") || under("/v1/ops") {
        Group::Ops
    } else {
        Group::Main
    }
}

impl Ports {
    /// The group a port serves.
    fn serves(&self, port: u16) -> Group {
        if self.metrics == Some(port) {
            Group::Metrics
        } else if self.ops == Some(port) {
            Group::Ops
        } else {
            Group::Main
        }
    }

    /// The group a route is served under: its own port's, or the main one's when it has none.
    fn home(&self, route: Group) -> Group {
        match route {
            Group::Metrics if self.metrics.is_some() => Group::Metrics,
            Group::Ops if self.ops.is_some() => Group::Ops,
            _ => Group::Main,
        }
    }

    /// Whether `path` is served on `port`.
    pub fn allows(&self, port: u16, path: &str) -> bool {
        self.home(group_of(path)) == self.serves(port)
    }
}

/// The middleware: 404 for a route requested on a port that does not serve it.
pub async fn gate(
    ports: Ports,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let port = req.app_config().local_addr().port();
    if ports.allows(port, req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let path: String = req.path().chars().take(200).collect();
    let e = ApiError::NotFound(format!("No route for {} {}.", req.method(), path));
    Ok(req.error_response(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_group_is_served_on_its_own_port_only() {
        let none = Ports::default();
        for p in [
            "/metrics",
            "/v1/ops/events",
            "/ops/",
            "/healthz",
            "/v1/session",
        ] {
            assert!(none.allows(8080, p), "{p}");
        }
        let split = Ports {
            metrics: Some(9100),
            ops: Some(9200),
        };
        let cases = [
            ("/metrics", [false, true, false]),
            ("/v1/ops/events", [false, false, true]),
            ("/v1/ops", [false, false, true]),
            ("/ops/", [false, false, true]),
            ("/ops/console.js", [false, false, true]),
            ("/healthz", [true, false, false]),
            ("/readyz", [true, false, false]),
            ("/v1/session", [true, false, false]),
            ("/v1/opsx", [true, false, false]),
            ("/metrics/x", [true, false, false]),
        ];
        for (path, expected) in cases {
            let got = [8080, 9100, 9200].map(|port| split.allows(port, path));
            assert_eq!(got, expected, "{path}");
        }
        let metrics_only = Ports {
            metrics: Some(9100),
            ops: None,
        };
        assert!(metrics_only.allows(8080, "/v1/ops/events"));
        assert!(!metrics_only.allows(8080, "/metrics"));
    }
}
