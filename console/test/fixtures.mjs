// Test fixtures: signed webhook deliveries to the BFF under test.
//
// Environment:
//   BFF_URL          the BFF origin, e.g. http://127.0.0.1:8080 (required)
//   WEBHOOK_SECRET   the current webhook signing secret (default: the development secret)
//   WEBHOOK_TENANT_ID / WEBHOOK_APPLICATION_ID   sent as X-AL-Tenant-ID / X-AL-Application-ID and in
//                    the body (defaults: the ids of the documented example delivery)
import { createHmac, randomUUID } from 'node:crypto';

const DEV_WEBHOOK_SECRET = 'whsec_dev_sandbox_secret';
const DEFAULT_TENANT = '2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9';
const DEFAULT_APPLICATION = '71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b';

let counter = 0;

function env() {
  const base = process.env.BFF_URL;
  if (!base) throw new Error('BFF_URL is not set');
  return {
    url: new URL('/v1/webhooks/aarthik', base).toString(),
    secret: process.env.WEBHOOK_SECRET || DEV_WEBHOOK_SECRET,
    tenant: process.env.WEBHOOK_TENANT_ID || DEFAULT_TENANT,
    application: process.env.WEBHOOK_APPLICATION_ID || DEFAULT_APPLICATION,
  };
}

/** A unique id for this run, usable as an event, journey or user id (`[A-Za-z0-9._-]`). */
export function uniqueId(prefix) {
  return `${prefix}${Date.now().toString(36)}${randomUUID().slice(0, 8)}`;
}

/** A `journey.snapshot` body in the documented delivery shape. */
export function snapshotBody({ eventID, journeyID, userID, status, nextAction, sequence }) {
  const now = new Date().toISOString();
  const { tenant, application } = env();
  return {
    schema_version: '1.0.0',
    event_type: 'journey.snapshot',
    event_id: eventID,
    event_at: now,
    snapshot_generated_at: now,
    sequence,
    issuer: { source: 'credit-api', trigger: 'journey.status.updated' },
    tenant_id: tenant,
    application_id: application,
    borrower: {
      borrowerExternalID: userID,
      journeys: [{ journeyID, status, nextAction }],
    },
  };
}

/** POSTs `body` signed: HMAC-SHA256 hex over `<unix seconds>.<raw body>`. */
export async function deliver(body, { eventIDHeader } = {}) {
  const { url, secret, tenant, application } = env();
  const raw = JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex');
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-AL-Event-ID': eventIDHeader ?? body.event_id,
      'X-AL-Tenant-ID': tenant,
      'X-AL-Application-ID': application,
      'X-AL-Webhook-Timestamp': ts,
      'X-AL-Webhook-Signature': signature,
    },
    body: raw,
  });
  let json = null;
  try { json = await res.json(); } catch (_) { /* not JSON */ }
  return { status: res.status, json };
}

/**
 * A valid delivery of a fresh journey for a fresh user. Resolves to the ids used and the answer;
 * throws unless the BFF accepted it (2xx).
 */
export async function sendWebhook(overrides = {}) {
  counter += 1;
  const facts = {
    eventID: uniqueId('evt_ui'),
    journeyID: uniqueId('jrn-ui-'),
    userID: uniqueId('ui-user-'),
    status: 'OFFERS_AVAILABLE',
    nextAction: 'VIEW_OFFERS',
    sequence: Date.now() * 1000 + counter,
    ...overrides,
  };
  const answer = await deliver(snapshotBody(facts));
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`webhook refused: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
  }
  return { ...facts, answer };
}

/**
 * A correctly signed delivery whose `X-AL-Event-ID` differs from the body's `event_id`: the BFF
 * answers 400 and keeps it as a dead letter. Throws when the answer is not a 400.
 */
export async function sendBadWebhook() {
  counter += 1;
  const facts = {
    eventID: uniqueId('evt_bad'),
    journeyID: uniqueId('jrn-bad-'),
    userID: uniqueId('ui-user-'),
    status: 'OFFERS_PENDING',
    nextAction: 'NONE',
    sequence: Date.now() * 1000 + counter,
  };
  const answer = await deliver(snapshotBody(facts), { eventIDHeader: `${facts.eventID}-other` });
  if (answer.status !== 400) {
    throw new Error(`expected 400 for a mismatched event id, got HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
  }
  return { ...facts, answer };
}
