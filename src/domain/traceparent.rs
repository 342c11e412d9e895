//! W3C `traceparent` (version 00): accepted when valid, otherwise started afresh. Upstream calls
//! carry the same trace id with a new parent id (this service's span). With trace export on, the
//! request span takes the incoming header as its remote parent ([`TraceParent::remote_context`])
//! and upstream calls name the upstream call's own span ([`TraceParent::with_span`]).

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use rand::RngCore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
}

impl TraceParent {
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        if parts.len() != 4 || parts[0] != "00" {
            return None;
        }
        let lower_hex = |p: &str, n: usize| {
            p.len() == n
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !lower_hex(parts[1], 32) || !lower_hex(parts[2], 16) || !lower_hex(parts[3], 2) {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut parent_id = [0u8; 8];
        let mut flags = [0u8; 1];
        hex::decode_to_slice(parts[1], &mut trace_id).ok()?;
        hex::decode_to_slice(parts[2], &mut parent_id).ok()?;
        hex::decode_to_slice(parts[3], &mut flags).ok()?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags: flags[0],
        })
    }

    /// A new sampled trace.
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let mut trace_id = [0u8; 16];
        let mut parent_id = [0u8; 8];
        while trace_id == [0; 16] {
            rng.fill_bytes(&mut trace_id);
        }
        while parent_id == [0; 8] {
            rng.fill_bytes(&mut parent_id);
        }
        TraceParent {
            trace_id,
            parent_id,
            flags: 1,
        }
    }

    pub fn from_header(value: Option<&str>) -> Self {
        value.and_then(Self::parse).unwrap_or_else(Self::generate)
    }

    /// The same trace with a new parent id: what we send upstream.
    pub fn child(&self) -> Self {
        let mut parent_id = [0u8; 8];
        while parent_id == [0; 8] {
            rand::thread_rng().fill_bytes(&mut parent_id);
        }
        TraceParent {
            parent_id,
            ..self.clone()
        }
    }

    /// This trace with `span` as the parent: what an upstream call sends when its span is
    /// exported. `None` when `span` is not a valid span of this trace.
    pub fn with_span(&self, span: &SpanContext) -> Option<Self> {
        if !span.is_valid() || span.trace_id().to_bytes() != self.trace_id {
            return None;
        }
        Some(TraceParent {
            parent_id: span.span_id().to_bytes(),
            flags: span.trace_flags().to_u8(),
            ..self.clone()
        })
    }

    /// The trace of an exported span that started without a remote parent.
    pub fn of_span(span: &SpanContext) -> Option<Self> {
        span.is_valid().then(|| TraceParent {
            trace_id: span.trace_id().to_bytes(),
            parent_id: span.span_id().to_bytes(),
            flags: span.trace_flags().to_u8(),
        })
    }

    /// An OpenTelemetry context whose remote parent is this header's span.
    pub fn remote_context(&self) -> opentelemetry::Context {
        let span = SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.parent_id),
            TraceFlags::new(self.flags),
            true,
            TraceState::default(),
        );
        opentelemetry::Context::new().with_remote_span_context(span)
    }

    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }

    pub fn header_value(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            self.flags
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trips_a_valid_header() {
        assert_eq!(TraceParent::parse(SAMPLE).unwrap().header_value(), SAMPLE);
    }

    #[test]
    fn rejects_malformed_or_zero_ids() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_remote_context_carries_the_trace_and_the_parent() {
        let p = TraceParent::parse(SAMPLE).unwrap();
        let cx = p.remote_context();
        let span = cx.span().span_context().clone();
        assert!(span.is_remote() && span.is_sampled());
        assert_eq!(format!("{}", span.trace_id()), p.trace_id());
        assert_eq!(format!("{}", span.span_id()), "00f067aa0ba902b7");
        let ours = SpanContext::new(
            span.trace_id(),
            SpanId::from_bytes([1, 2, 3, 4, 5, 6, 7, 8]),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        assert_eq!(
            p.with_span(&ours).unwrap().header_value(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01"
        );
        let other = TraceParent::generate();
        assert!(other.with_span(&ours).is_none(), "another trace's span");
        assert_eq!(
            TraceParent::of_span(&ours).unwrap().trace_id(),
            p.trace_id()
        );
        assert!(TraceParent::of_span(&SpanContext::empty_context()).is_none());
    }

    #[test]
    fn a_child_keeps_the_trace_and_changes_the_parent() {
        let p = TraceParent::parse(SAMPLE).unwrap();
        let c = p.child();
        assert_eq!(c.trace_id(), p.trace_id());
        assert_ne!(c.header_value(), p.header_value());
        assert!(TraceParent::parse(&c.header_value()).is_some());
    }
}
