//! `journey.snapshot` events and the webhook subscription API (flat bodies, as documented).
//! Every journey change calls [`emit`], which stamps a strictly increasing per-journey
//! `sequence`, builds the body once, applies the webhook faults and puts it in the outbox.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::reply::{optional_str, parse_body, Ctx, SbError, SbResult};
use crate::state::{DeliveryRecord, OutboxItem, State};
use crate::Sandbox;
use aarthik_contract::envelope::{format_timestamp, now_timestamp};
use aarthik_contract::webhook;

/// Record a change of `journey_id`: bump `updatedAt`/`sequence` and queue a snapshot.
pub fn emit(st: &mut State, journey_id: &str, trigger: &str) {
    let now = chrono::Utc::now();
    let Some(journey) = st.journeys.get_mut(journey_id) else {
        return;
    };
    journey.updated_at = now;
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let sequence = now_ms.max(journey.last_sequence + 1);
    journey.last_sequence = sequence;
    let external_id = st
        .borrowers
        .get(&journey.borrower_id)
        .map(|b| b.external_id.clone())
        .unwrap_or_default();
    let event_id = format!("{}{}", webhook::EVENT_ID_PREFIX, ulid::Ulid::new());
    let at = format_timestamp(now);
    let body = json!({
        "schema_version": webhook::SCHEMA_VERSION,
        "event_type": webhook::EVENT_TYPE_SNAPSHOT,
        "event_id": event_id,
        "event_at": at,
        "snapshot_generated_at": at,
        "sequence": sequence,
        "issuer": { "source": webhook::ISSUER_SOURCE, "trigger": trigger },
        "tenant_id": st.settings.tenant_id,
        "application_id": st.settings.application_id,
        "origin_experience": "API",
        "current_experience_surface": "API",
        "borrower": {
            "borrowerExternalID": external_id,
            "journeys": [{
                "journeyID": journey.id,
                "type": journey.journey_type,
                "status": journey.status,
                "nextAction": journey.next_action,
            }]
        }
    });
    if !st.subscription.enabled {
        return;
    }
    let item = OutboxItem {
        event_id,
        journey_id: journey_id.to_owned(),
        sequence,
        body: body.to_string(),
        attempts: 0,
        due: Instant::now(),
        duplicate: false,
    };
    enqueue(st, item);
}

/// Apply the drop / duplicate / reorder faults, then queue.
fn enqueue(st: &mut State, mut item: OutboxItem) {
    let faults = &mut st.faults;
    if faults.webhook_drop_next > 0 {
        faults.webhook_drop_next -= 1;
        let url = st.subscription.url.clone().unwrap_or_default();
        st.push_delivery(DeliveryRecord {
            event_id: item.event_id,
            journey_id: item.journey_id,
            sequence: item.sequence,
            attempt: 1,
            url,
            status: None,
            error: Some("dropped by fault injection".into()),
            outcome: "dropped",
            at: now_timestamp(),
        });
        return;
    }
    if faults.webhook_duplicate_next > 0 {
        faults.webhook_duplicate_next -= 1;
        item.duplicate = true;
    }
    if faults.webhook_reorder_next > 0 {
        faults.webhook_reorder_next -= 1;
        st.held.push(item);
        return;
    }
    st.outbox.push_back(item);
    release_held(st);
}

/// Send events held by the reorder fault (after whatever is already queued).
pub fn release_held(st: &mut State) {
    let now = Instant::now();
    for mut held in st.held.drain(..) {
        held.due = now;
        st.outbox.push_back(held);
    }
    st.wake_delivery.notify_one();
}

fn subscription_view(st: &State) -> Value {
    json!({
        "tenant_id": st.settings.tenant_id,
        "application_id": st.settings.application_id,
        "webhook_enabled": st.subscription.enabled,
        "webhook_url": st.subscription.url,
    })
}

/// Key auth, and the path must name our tenant and application (403 otherwise).
fn check_scope(st: &State, ctx: &Ctx, tenant: &str, app: &str) -> SbResult<()> {
    ctx.caller.require_key()?;
    if tenant != st.settings.tenant_id || app != st.settings.application_id {
        return Err(SbError::forbidden(
            "the tenant or application does not belong to this API key",
        ));
    }
    Ok(())
}

type AppPath = web::Path<(String, String)>;

pub async fn configuration(sb: web::Data<Sandbox>, ctx: Ctx, path: AppPath) -> HttpResponse {
    let st = sb.lock();
    ctx.respond_flat(check_scope(&st, &ctx, &path.0, &path.1).map(|()| subscription_view(&st)))
}

pub async fn subscribe(
    sb: web::Data<Sandbox>,
    ctx: Ctx,
    path: AppPath,
    body: web::Bytes,
) -> HttpResponse {
    let mut st = sb.lock();
    let result = check_scope(&st, &ctx, &path.0, &path.1).and_then(|()| {
        let v: Value = parse_body(&body)?;
        let url = optional_str(&v, "url")?
            .ok_or_else(|| SbError::invalid_field("url", "url is required"))?;
        let parsed = url::Url::parse(url)
            .map_err(|e| SbError::invalid_field("url", format!("url is not a valid URI: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(SbError::invalid_field(
                "url",
                "url must be an https (or, in the sandbox, http) URI",
            ));
        }
        st.subscription.enabled = true;
        st.subscription.url = Some(url.to_owned());
        Ok(subscription_view(&st))
    });
    ctx.respond_flat(result)
}

pub async fn unsubscribe(sb: web::Data<Sandbox>, ctx: Ctx, path: AppPath) -> HttpResponse {
    let mut st = sb.lock();
    let result = check_scope(&st, &ctx, &path.0, &path.1).map(|()| {
        st.subscription.enabled = false;
        st.subscription.url = None;
        st.outbox.clear();
        st.held.clear();
        subscription_view(&st)
    });
    ctx.respond_flat(result)
}
