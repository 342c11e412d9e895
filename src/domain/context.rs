//! What identifies the request being served: its correlation id and `traceparent`
//! ([`RequestContext`], handed to every upstream call), the correlation id as a task-local for
//! code that renders envelopes without a request at hand, and the [`PassThrough`] marker for
//! responses that carry an upstream body untouched. Free of actix: the middleware fills these in.

use std::future::Future;

use tokio::task::futures::TaskLocalFuture;

use super::{CorrelationId, TraceParent};

tokio::task_local! {
    static CORRELATION: String;
}

/// The correlation id of the request being served, if any.
pub fn current_correlation_id() -> Option<String> {
    CORRELATION.try_with(|c| c.clone()).ok()
}

/// Run `fut` with `correlation_id` as the current one (see [`current_correlation_id`]).
pub fn with_correlation_id<F: Future>(
    correlation_id: String,
    fut: F,
) -> TaskLocalFuture<String, F> {
    CORRELATION.scope(correlation_id, fut)
}

/// Marks a response whose body is an upstream body passed through untouched (the error safety
/// net leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct PassThrough;

/// What handlers need to call upstream on behalf of this request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub correlation_id: CorrelationId,
    pub traceparent: TraceParent,
}

impl RequestContext {
    /// A context for work that is not tied to an inbound request.
    pub fn background() -> Self {
        RequestContext {
            correlation_id: CorrelationId::generate(),
            traceparent: TraceParent::generate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_correlation_id_is_visible_inside_its_scope_only() {
        assert_eq!(current_correlation_id(), None);
        let inside = with_correlation_id("c-1".into(), async { current_correlation_id() }).await;
        assert_eq!(inside.as_deref(), Some("c-1"));
        assert_eq!(current_correlation_id(), None);
    }
}
