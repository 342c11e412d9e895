// A stand-in for aarthik-bff's ops surface, in memory, so the console and its browser test run
// without the Rust server: serves the console under /ops/, fakes /v1/ops/* (cookie + X-CSRF: 1,
// SSE included) and the signed webhook receiver. Not a reference implementation.
//
//   node console/test/mock-server.mjs            # prints "mock BFF listening on http://127.0.0.1:PORT"
//   PORT=8099 OPS_TOKEN=t WEBHOOK_SECRET=s MOCK_NO_FORWARDING=1 node console/test/mock-server.mjs
import { createServer } from 'node:http';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATIC = { 'index.html': 'text/html; charset=utf-8', 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' };
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const COOKIE = 'bff_ops'; // plain http: no __Host- prefix, no Secure (the real server does the same on localhost)

export function startMockServer({ port = 0, opsToken = 'dev-ops-token', operator = 'ops', webhookSecret = 'whsec_dev_sandbox_secret', forwarding = true } = {}) {
  const sessions = new Set();
  const journeys = new Map(); // journeyID -> {journeyID, userID, borrowerExternalID, status, nextAction, sequence, updatedAt, snapshot, events: []}
  const userJourneys = new Map(); // userID -> [journeyID]
  const feed = []; // items with cursor
  const seen = new Set();
  const deadLetters = new Map();
  const deliveries = new Map(); // eventID -> delivery
  const audit = [];
  const streams = new Set();
  let cursorSeq = 0;

  const envelope = (data, error = null) => JSON.stringify({ requestID: randomUUID(), correlationID: randomUUID(), timestamp: new Date().toISOString(), data, error });
  function send(res, status, data, extraHeaders = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extraHeaders });
    res.end(envelope(data));
  }
  function fail(res, status, code, message, details = null) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(envelope(null, { code, message, retryable: status >= 500, details }));
  }
  const record = (action, target) => audit.unshift({ at: new Date().toISOString(), operator, action, target });

  function cookieSession(req) {
    for (const part of (req.headers.cookie || '').split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === COOKIE && sessions.has(v)) return v;
    }
    return null;
  }

  /** Bearer token, or the cookie (+ X-CSRF: 1 unless `noCsrf`). Answers 401 itself. */
  function authed(req, res, { noCsrf = false } = {}) {
    const auth = req.headers.authorization || '';
    if (auth.startsWith('Bearer ') && auth.slice(7) === opsToken) return true;
    if (cookieSession(req)) {
      if (noCsrf || req.headers['x-csrf'] === '1') return true;
      fail(res, 401, 'UNAUTHENTICATED', 'Cookie-authenticated calls must carry the header X-CSRF: 1.');
      return false;
    }
    fail(res, 401, 'UNAUTHENTICATED', 'A valid ops token or ops session is required.');
    return false;
  }

  async function readBody(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  }

  // ---- webhook ingestion ----

  function usable(headers, raw) {
    let body;
    try { body = JSON.parse(raw); } catch (_) { return { reason: 'the body is not JSON' }; }
    if (!body || typeof body.event_id !== 'string') return { reason: 'the body has no event_id' };
    if (!headers['x-al-event-id']) return { reason: 'X-AL-Event-ID is missing' };
    if (headers['x-al-event-id'] !== body.event_id) return { reason: "X-AL-Event-ID does not match the body's event_id" };
    return { body };
  }

  function ingest(body) {
    if (seen.has(body.event_id)) return 'duplicate';
    seen.add(body.event_id);
    const userID = body.borrower && body.borrower.borrowerExternalID;
    for (const j of (body.borrower && body.borrower.journeys) || []) {
      const prev = journeys.get(j.journeyID);
      const stale = Boolean(prev && prev.sequence > body.sequence);
      const item = { cursor: `${Date.now()}-${++cursorSeq}`, eventID: body.event_id, journeyID: j.journeyID, userID: userID ?? null, sequence: body.sequence, status: j.status ?? null, nextAction: j.nextAction ?? null, receivedAt: new Date().toISOString(), stale };
      if (!stale) {
        journeys.set(j.journeyID, { journeyID: j.journeyID, userID: userID ?? null, borrowerExternalID: userID ?? null, status: item.status, nextAction: item.nextAction, sequence: body.sequence, updatedAt: item.receivedAt, snapshot: body, events: prev ? prev.events : [] });
      }
      journeys.get(j.journeyID).events.push(item);
      if (userID) {
        const list = userJourneys.get(userID) || [];
        if (!list.includes(j.journeyID)) list.push(j.journeyID);
        userJourneys.set(userID, list);
      }
      feed.push(item);
      for (const s of streams) s.write(frame(item));
    }
    if (forwarding) deliveries.set(body.event_id, { eventID: body.event_id, url: 'https://partner.example/hooks/aarthik', status: 'DELIVERED', attempts: 1, lastAttemptAt: new Date().toISOString(), lastError: null });
    return 'stored';
  }

  const frame = (item) => `id: ${item.cursor}\nevent: journey.snapshot\ndata: ${JSON.stringify(item)}\n\n`;

  async function webhook(req, res) {
    const raw = await readBody(req);
    const ts = req.headers['x-al-webhook-timestamp'];
    const sig = req.headers['x-al-webhook-signature'] || '';
    if (!ts || !/^[0-9a-f]{64}$/.test(sig)) return fail(res, 401, 'WEBHOOK_SIGNATURE_INVALID', 'X-AL-Webhook-Signature is missing.');
    const want = createHmac('sha256', webhookSecret).update(`${ts}.${raw}`).digest();
    if (!timingSafeEqual(want, Buffer.from(sig, 'hex'))) return fail(res, 401, 'WEBHOOK_SIGNATURE_INVALID', 'X-AL-Webhook-Signature does not match the body.');
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return fail(res, 401, 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', 'The webhook timestamp is out of tolerance.');
    const headers = {};
    for (const k of ['x-al-event-id', 'x-al-tenant-id', 'x-al-application-id', 'x-al-webhook-timestamp', 'content-type']) if (req.headers[k]) headers[k] = req.headers[k];
    const u = usable(headers, raw);
    if (u.reason) {
      const id = randomUUID();
      deadLetters.set(id, { id, receivedAt: new Date().toISOString(), reason: u.reason, headers, body: raw });
      return fail(res, 400, 'VALIDATION_ERROR', `The webhook cannot be used: ${u.reason}.`);
    }
    send(res, 200, { eventID: u.body.event_id, outcome: ingest(u.body) });
  }

  // ---- ops API ----

  function stream(req, res, url) {
    if (!authed(req, res, { noCsrf: true })) return;
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n: connected\n\n');
    const after = req.headers['last-event-id'] || url.searchParams.get('after');
    const start = after ? feed.findIndex((i) => i.cursor === after) + 1 : 0;
    for (const item of feed.slice(start)) res.write(frame(item));
    streams.add(res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 5000);
    req.on('close', () => { clearInterval(keepAlive); streams.delete(res); });
  }

  async function ops(req, res, url) {
    const p = url.pathname.slice('/v1/ops/'.length).split('/').map(decodeURIComponent);
    const q = url.searchParams;
    const m = req.method;
    if (m === 'POST' && p[0] === 'login' && p.length === 1) {
      let token = '';
      try { token = String(JSON.parse(await readBody(req)).token || ''); } catch (_) { /* empty */ }
      if (token !== opsToken) return fail(res, 401, 'UNAUTHENTICATED', 'That ops token is not valid.');
      const sid = randomBytes(18).toString('base64url');
      sessions.add(sid);
      record('login', operator);
      return send(res, 200, { operator, expiresAt: new Date(Date.now() + 8 * 3600e3).toISOString() },
        { 'Set-Cookie': `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800` });
    }
    if (m === 'GET' && p[0] === 'events' && p[1] === 'stream' && p.length === 2) return stream(req, res, url);
    if (!authed(req, res)) return;
    if (m === 'POST' && p[0] === 'logout' && p.length === 1) {
      sessions.delete(cookieSession(req));
      record('logout', operator);
      return send(res, 200, { signedOut: true }, { 'Set-Cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
    }
    if (m === 'GET' && p[0] === 'journeys' && p.length === 1) {
      const now = Date.now();
      const stuck = q.get('stuckForSecs') ? Number(q.get('stuckForSecs')) : null;
      let list = [...journeys.values()]
        .filter((j) => !q.get('status') || j.status === q.get('status'))
        .filter((j) => !q.get('userID') || j.userID === q.get('userID'))
        .filter((j) => stuck == null || now - Date.parse(j.updatedAt) >= stuck * 1000)
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.journeyID.localeCompare(a.journeyID));
      const after = q.get('after');
      if (after) list = list.slice(list.findIndex((j) => j.journeyID === after) + 1);
      const limit = Math.min(Number(q.get('limit') || 50), 500);
      const page = list.slice(0, limit).map(({ journeyID, userID, status, nextAction, sequence, updatedAt }) => ({ journeyID, userID, status, nextAction, sequence, updatedAt }));
      return send(res, 200, { journeys: page, next: list.length > limit ? page[page.length - 1].journeyID : null });
    }
    if (m === 'GET' && p[0] === 'journeys' && p.length === 2) {
      const j = journeys.get(p[1]);
      if (!j) return fail(res, 404, 'JOURNEY_NOT_FOUND', 'No snapshot was received for that journey.');
      return send(res, 200, { ...j, events: [...j.events] });
    }
    if (m === 'GET' && p[0] === 'users' && p[2] === 'journeys' && p.length === 3) {
      const list = (userJourneys.get(p[1]) || []).map((id) => journeys.get(id)).map(({ journeyID, status, nextAction, sequence, updatedAt }) => ({ journeyID, status, nextAction, sequence, updatedAt }));
      return send(res, 200, { userID: p[1], journeys: list });
    }
    if (m === 'POST' && p[0] === 'users' && p[2] === 'revoke' && p.length === 3) {
      record('revoke', p[1]);
      return send(res, 200, { userID: p[1], revokedAt: new Date().toISOString() });
    }
    if (m === 'GET' && p[0] === 'events' && p.length === 1) {
      const after = q.get('after');
      const start = after ? feed.findIndex((i) => i.cursor === after) + 1 : 0;
      const events = feed.slice(start, start + Number(q.get('limit') || 100));
      return send(res, 200, { events, next: events.length ? events[events.length - 1].cursor : null });
    }
    if (m === 'GET' && p[0] === 'dead-letters' && p.length === 1) return send(res, 200, { deadLetters: [...deadLetters.values()].reverse() });
    if (m === 'POST' && p[0] === 'dead-letters' && p[2] === 'redrive' && p.length === 3) {
      const dl = deadLetters.get(p[1]);
      if (!dl) return fail(res, 404, 'NOT_FOUND', 'No such dead letter.');
      record('redrive', dl.id);
      const u = usable(dl.headers, dl.body);
      if (u.reason) return fail(res, 400, 'VALIDATION_ERROR', `The webhook cannot be used: ${u.reason}.`);
      const outcome = ingest(u.body);
      deadLetters.delete(dl.id);
      return send(res, 200, { id: dl.id, eventID: u.body.event_id, outcome });
    }
    if (forwarding && m === 'GET' && p[0] === 'forwarding' && p.length === 1) {
      const id = q.get('eventID');
      if (id && !deliveries.has(id)) return fail(res, 404, 'NOT_FOUND', 'No deliveries for that event.');
      return send(res, 200, { deliveries: id ? [deliveries.get(id)] : [...deliveries.values()].reverse() });
    }
    if (forwarding && m === 'POST' && p[0] === 'forwarding' && p[2] === 'resend' && p.length === 3) {
      const d = deliveries.get(p[1]);
      if (!d) return fail(res, 404, 'NOT_FOUND', 'No deliveries for that event.');
      d.attempts += 1;
      d.lastAttemptAt = new Date().toISOString();
      record('resend', p[1]);
      return send(res, 202, { eventID: p[1], queued: true });
    }
    if (m === 'GET' && p[0] === 'audit' && p.length === 1) return send(res, 200, { entries: audit });
    return fail(res, 404, 'NOT_FOUND', 'No such route.');
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://mock');
    if (url.pathname === '/ops') { res.writeHead(308, { Location: '/ops/' }); return res.end(); }
    if (req.method === 'GET' && url.pathname.startsWith('/ops/')) {
      const name = url.pathname.slice(5) || 'index.html';
      if (!STATIC[name]) return fail(res, 404, 'NOT_FOUND', 'No such file.');
      res.writeHead(200, { 'Content-Type': STATIC[name], 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
      return res.end(await readFile(path.join(CONSOLE_DIR, name)));
    }
    if (req.method === 'POST' && url.pathname === '/v1/webhooks/aarthik') return webhook(req, res);
    if (url.pathname.startsWith('/v1/ops/')) return ops(req, res, url);
    return fail(res, 404, 'NOT_FOUND', 'No such route.');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => { console.error(e); if (!res.headersSent) fail(res, 500, 'INTERNAL', 'mock failure'); else res.end(); });
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        close: () => new Promise((done) => { for (const s of streams) s.end(); server.closeAllConnections(); server.close(done); }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srv = await startMockServer({
    port: Number(process.env.PORT || 0),
    opsToken: process.env.OPS_TOKEN || 'dev-ops-token',
    webhookSecret: process.env.WEBHOOK_SECRET || 'whsec_dev_sandbox_secret',
    forwarding: process.env.MOCK_NO_FORWARDING !== '1',
  });
  console.log(`mock BFF listening on ${srv.url} (console at ${srv.url}/ops/)`);
  const stop = () => srv.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
