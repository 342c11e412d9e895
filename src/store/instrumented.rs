//! [`Instrumented`]: any [`Store`] with every operation timed into
//! `bff_store_operation_duration_seconds{op}` and its failures counted in
//! `bff_store_errors_total{op,kind}` (fixed operation names). With trace export on, each operation
//! made while serving a request is also a child span of the request's span.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::Instrument;

use super::{Store, StoreError, StreamEntry, StreamTrim, Subscription, Versioned};
use crate::domain::spans;
use crate::metrics::{Metrics, StoreFailure, StoreOp};

pub struct Instrumented {
    inner: Arc<dyn Store>,
    metrics: Metrics,
    /// Trace export is on: open a child span per operation inside a request.
    spans: bool,
}

impl Instrumented {
    pub fn new(inner: Arc<dyn Store>, metrics: Metrics, spans: bool) -> Self {
        Instrumented {
            inner,
            metrics,
            spans,
        }
    }

    async fn timed<T>(
        &self,
        op: StoreOp,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let out = if self.spans && spans::in_request() {
            let span = tracing::info_span!(
                target: spans::TARGET,
                "store",
                otel.name = op.as_str(),
                otel.kind = "client",
                db.system = self.inner.kind(),
                db.operation = op.as_str(),
            );
            fut.instrument(span).await
        } else {
            fut.await
        };
        self.metrics
            .observe_store(op, started.elapsed(), out.as_ref().err().map(failure));
        out
    }
}

fn failure(e: &StoreError) -> StoreFailure {
    match e {
        StoreError::Unavailable(_) => StoreFailure::Unavailable,
        StoreError::InvalidCursor => StoreFailure::InvalidCursor,
        StoreError::Corrupt(_) => StoreFailure::Corrupt,
    }
}

#[async_trait]
impl Store for Instrumented {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.timed(StoreOp::Ping, self.inner.ping()).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.timed(StoreOp::Get, self.inner.get(key)).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.timed(StoreOp::Set, self.inner.set(key, value, ttl))
            .await
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        self.timed(StoreOp::SetNx, self.inner.set_nx(key, value, ttl))
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.timed(StoreOp::Delete, self.inner.delete(key)).await
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        self.timed(
            StoreOp::CompareAndDelete,
            self.inner.compare_and_delete(key, expected),
        )
        .await
    }

    async fn compare_and_expire(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.timed(
            StoreOp::CompareAndExpire,
            self.inner.compare_and_expire(key, expected, ttl),
        )
        .await
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.timed(StoreOp::GetVersioned, self.inner.get_versioned(key))
            .await
    }

    async fn put_versioned(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        self.timed(
            StoreOp::PutVersioned,
            self.inner.put_versioned(key, expected, value, ttl),
        )
        .await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        self.timed(StoreOp::Incr, self.inner.incr(key, ttl)).await
    }

    async fn hash_set(
        &self,
        key: &str,
        field: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.timed(
            StoreOp::HashSet,
            self.inner.hash_set(key, field, value, ttl),
        )
        .await
    }

    async fn hash_get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.timed(StoreOp::HashGet, self.inner.hash_get(key, field))
            .await
    }

    async fn hash_get_all(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.timed(StoreOp::HashGetAll, self.inner.hash_get_all(key))
            .await
    }

    async fn stream_append(
        &self,
        key: &str,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<String, StoreError> {
        self.timed(
            StoreOp::StreamAppend,
            self.inner.stream_append(key, value, trim),
        )
        .await
    }

    async fn stream_append_if_newer(
        &self,
        key: &str,
        guard_key: &str,
        guard_field: &str,
        sequence: u64,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<Option<String>, StoreError> {
        self.timed(
            StoreOp::StreamAppendIfNewer,
            self.inner
                .stream_append_if_newer(key, guard_key, guard_field, sequence, value, trim),
        )
        .await
    }

    async fn stream_read(
        &self,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        self.timed(
            StoreOp::StreamRead,
            self.inner.stream_read(key, after, limit),
        )
        .await
    }

    async fn index_put(
        &self,
        key: &str,
        member: &str,
        score: i64,
        max_len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.timed(
            StoreOp::IndexPut,
            self.inner.index_put(key, member, score, max_len, ttl),
        )
        .await
    }

    async fn index_remove(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.timed(StoreOp::IndexRemove, self.inner.index_remove(key, member))
            .await
    }

    async fn index_len(&self, key: &str) -> Result<u64, StoreError> {
        self.timed(StoreOp::IndexLen, self.inner.index_len(key))
            .await
    }

    async fn schedule_put(
        &self,
        key: &str,
        member: &str,
        due_ms: i64,
        only_if_absent: bool,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.timed(
            StoreOp::SchedulePut,
            self.inner
                .schedule_put(key, member, due_ms, only_if_absent, ttl),
        )
        .await
    }

    async fn schedule_take_due(
        &self,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.timed(
            StoreOp::ScheduleTakeDue,
            self.inner
                .schedule_take_due(key, now_ms, lease_until_ms, limit),
        )
        .await
    }

    async fn index_desc(
        &self,
        key: &str,
        max_score: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.timed(
            StoreOp::IndexDesc,
            self.inner.index_desc(key, max_score, offset, limit),
        )
        .await
    }

    async fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError> {
        self.timed(StoreOp::Publish, self.inner.publish(channel, message))
            .await
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        self.timed(StoreOp::Subscribe, self.inner.subscribe(channel))
            .await
    }
}
