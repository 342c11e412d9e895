//! Injected faults (`/__sandbox/faults`): latency, failing the next N requests, and dropping,
//! duplicating or reordering the next webhook deliveries.

use serde::{Deserialize, Serialize};

use crate::reply::{SbError, SbResult};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailNext {
    pub count: u32,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
}

/// The active faults; also the JSON shape of the control endpoint (camelCase).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub latency_path_prefix: Option<String>,
    #[serde(default)]
    pub fail_next: Option<FailNext>,
    #[serde(default)]
    pub webhook_drop_next: u32,
    #[serde(default)]
    pub webhook_duplicate_next: u32,
    #[serde(default)]
    pub webhook_reorder_next: u32,
}

/// A `POST /__sandbox/faults` body: only the fields present are changed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultsPatch {
    latency_ms: Option<u64>,
    latency_path_prefix: Option<String>,
    fail_next: Option<FailNext>,
    webhook_drop_next: Option<u32>,
    webhook_duplicate_next: Option<u32>,
    webhook_reorder_next: Option<u32>,
}

impl Faults {
    pub fn apply(&mut self, patch: FaultsPatch) -> SbResult<()> {
        if let Some(f) = &patch.fail_next {
            if !(400..=599).contains(&f.status) {
                return Err(SbError::invalid_field(
                    "failNext.status",
                    "failNext.status must be 400..=599",
                ));
            }
        }
        if let Some(v) = patch.latency_ms {
            if v > 60_000 {
                return Err(SbError::invalid_field(
                    "latencyMs",
                    "latencyMs must be at most 60000",
                ));
            }
            self.latency_ms = v;
        }
        if patch.latency_path_prefix.is_some() {
            self.latency_path_prefix = patch.latency_path_prefix;
        }
        if let Some(f) = patch.fail_next {
            self.fail_next = (f.count > 0).then_some(f);
        }
        if let Some(v) = patch.webhook_drop_next {
            self.webhook_drop_next = v;
        }
        if let Some(v) = patch.webhook_duplicate_next {
            self.webhook_duplicate_next = v;
        }
        if let Some(v) = patch.webhook_reorder_next {
            self.webhook_reorder_next = v;
        }
        Ok(())
    }

    /// Latency to add before handling `path`, if any.
    pub fn latency_for(&self, path: &str) -> Option<std::time::Duration> {
        let matches = self
            .latency_path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p));
        (self.latency_ms > 0 && matches).then(|| std::time::Duration::from_millis(self.latency_ms))
    }

    /// Consume one injected failure for `path`, if one is armed.
    pub fn take_failure(&mut self, path: &str) -> Option<u16> {
        let f = self.fail_next.as_mut()?;
        if !f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p)) {
            return None;
        }
        let status = f.status;
        f.count = f.count.saturating_sub(1);
        if f.count == 0 {
            self.fail_next = None;
        }
        Some(status)
    }
}
