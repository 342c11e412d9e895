// aarthik-bff ops console: a dependency-free single page over the ops API.
//
// Why it is built this way:
// - Every value that comes from the API reaches the DOM through textContent / text nodes / setAttribute
//   (see `h`), never innerHTML, so a hostile journey id or webhook body cannot inject markup.
// - Auth is the HttpOnly ops cookie set by POST /v1/ops/login; the page never keeps the token. Every
//   fetch sends `X-CSRF: 1` (the server refuses cookie calls without it); the SSE stream cannot send
//   headers, so EventSource opens it with the cookie alone.
// - Every URL is relative to the page, so the console works wherever it is mounted (e.g. /ops/).
'use strict';

(() => {
  const API = new URL('../v1/ops/', document.baseURI);
  const FEED_CAP = 200;
  const PAGE_SIZE = 50;

  const state = {
    signedIn: false,
    tab: null,
    feed: { es: null, last: null, paused: false, held: [], retryMs: 2000, timer: null },
    journeys: { query: {}, next: null, loaded: false, openID: null },
    forwarding: false,
    redrives: new Map(), // dead-letter id -> the server's answer to its last re-drive
  };

  // ---- tiny DOM helpers -------------------------------------------------------------------------

  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

  /** Builds an element. Strings become text nodes; `text` sets textContent; `on*` adds listeners. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  const show = (el, on = true) => { el.hidden = !on; };
  const str = (v) => (v == null || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  function ago(iso) {
    const t = new Date(iso).getTime();
    if (!iso || Number.isNaN(t)) return '';
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  const time = (iso) => h('time', { datetime: iso || null, title: iso ? `${iso} · ${ago(iso)}` : null }, fmtTime(iso));

  /** A status badge; its colour comes from a fixed set of classes, never from the data itself. */
  function badge(status) {
    const s = String(status || '');
    let tone = 'neutral';
    if (/^(DISBURSED|CLOSED|COMPLETED)$/.test(s)) tone = 'good';
    else if (/REJECTED|EXPIRED|NO_OFFERS|FAILED/.test(s)) tone = 'bad';
    else if (/PENDING|IN_PROGRESS/.test(s)) tone = 'wait';
    else if (/AVAILABLE|SELECTED/.test(s)) tone = 'info';
    return h('span', { class: `badge ${tone}`, 'data-testid': 'status' }, s || 'unknown');
  }

  function showError(el, r) {
    el.replaceChildren();
    if (!r) { show(el, false); return; }
    const e = r.error || {};
    el.append(h('span', { class: 'msg' }, e.message || 'Something went wrong.'));
    if (e.code) el.append(' ', h('code', { class: 'code' }, e.code));
    show(el, true);
  }

  // ---- the API ------------------------------------------------------------------------------------

  /** One ops call. Never throws: `{ok, status, data}` or `{ok:false, status, error:{code,message}}`. */
  async function api(method, path, opts = {}) {
    const url = new URL(path, API);
    for (const [k, v] of Object.entries(opts.query || {})) {
      if (v !== '' && v != null) url.searchParams.set(k, v);
    }
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { 'X-CSRF': '1', Accept: 'application/json' } };
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (_) {
      return { ok: false, status: 0, error: { code: 'NETWORK', message: 'Could not reach the server. Check the connection and try again.' } };
    }
    let env = null;
    try { env = await res.json(); } catch (_) { /* not JSON: described below */ }
    if (res.ok && env && env.error == null) return { ok: true, status: res.status, data: env.data };
    const error = env && env.error && typeof env.error === 'object'
      ? env.error
      : { code: `HTTP_${res.status}`, message: `The server answered ${res.status} ${res.statusText || ''}`.trim() + '.' };
    if (res.status === 401 && state.signedIn && !opts.quiet) sessionEnded();
    return { ok: false, status: res.status, error };
  }

  const seg = encodeURIComponent;

  // ---- sign-in / sign-out -------------------------------------------------------------------------

  function showSignin(problem) {
    state.signedIn = false;
    stopFeed();
    show($('app'), false);
    for (const id of ['signed-in-as', 'signout', 'feed-state']) show($(id), false);
    resetPanels();
    show($('signin'), true);
    showError($('signin-error'), problem ? { error: problem } : null);
    $('signin-token').focus();
  }

  function enterApp(operator) {
    state.signedIn = true;
    show($('signin'), false);
    show($('app'), true);
    const who = $('signed-in-as');
    who.replaceChildren('Signed in as ', h('strong', {}, operator || 'ops'));
    show(who, true);
    show($('signout'), true);
    show($('feed-state'), true);
    startFeed();
    probeForwarding();
    route();
  }

  function sessionEnded() {
    sessionStorage.removeItem('ops.operator');
    showSignin({ message: 'Your session has ended. Sign in again.' });
  }

  async function signIn(ev) {
    ev.preventDefault();
    const input = $('signin-token');
    const token = input.value.trim();
    if (!token) return;
    const btn = $('signin-submit');
    btn.disabled = true;
    const r = await api('POST', 'login', { body: { token }, quiet: true });
    btn.disabled = false;
    if (!r.ok) {
      showError($('signin-error'), r);
      input.select();
      return;
    }
    input.value = '';
    const d = r.data || {};
    const operator = typeof d.operator === 'string' ? d.operator : '';
    sessionStorage.setItem('ops.operator', operator);
    enterApp(operator);
  }

  async function signOut() {
    await api('POST', 'logout', { quiet: true });
    sessionStorage.removeItem('ops.operator');
    showSignin(null);
  }

  /** Clears every panel so nothing from the last session stays in the page. */
  function resetPanels() {
    for (const id of ['feed-list', 'journeys-rows', 'journey-timeline', 'journey-facts', 'users-rows',
      'dead-letters-list', 'forwarding-rows', 'forwarding-head', 'audit-rows']) $(id).replaceChildren();
    $('journey-snapshot-json').textContent = '';
    for (const id of ['journey-detail', 'users-card', 'journeys-table', 'journeys-more', 'forwarding-table']) show($(id), false);
    $('journeys-split').classList.remove('has-detail');
    for (const el of document.querySelectorAll('.error, .notice')) if (el.dataset.testid !== 'signin-error') showError(el, null);
    state.journeys = { query: {}, next: null, loaded: false, openID: null };
    state.feed.last = null;
    state.feed.held = [];
    state.redrives.clear();
    show($('feed-empty'), true);
  }

  // ---- tabs ---------------------------------------------------------------------------------------

  const TABS = ['feed', 'journeys', 'users', 'dead-letters', 'forwarding', 'audit'];

  function route() {
    if (!state.signedIn) return;
    let tab = location.hash.replace(/^#/, '');
    if (!TABS.includes(tab) || (tab === 'forwarding' && !state.forwarding)) tab = 'feed';
    state.tab = tab;
    for (const a of document.querySelectorAll('[data-tab]')) a.setAttribute('aria-selected', String(a.dataset.tab === tab));
    for (const p of document.querySelectorAll('[data-panel]')) show(p, p.dataset.panel === tab);
    if (tab === 'journeys' && !state.journeys.loaded) searchJourneys(false);
    if (tab === 'dead-letters') loadDeadLetters();
    if (tab === 'audit') loadAudit();
    if (tab === 'forwarding') loadForwarding();
  }

  function goTo(tab) {
    if (location.hash === `#${tab}`) route();
    else location.hash = tab;
  }

  // ---- live feed ----------------------------------------------------------------------------------

  function setConn(s, label) {
    const el = $('feed-state');
    el.dataset.state = s;
    el.textContent = label || s;
  }

  function startFeed() {
    stopFeed();
    const f = state.feed;
    const url = new URL('events/stream', API);
    if (f.last) url.searchParams.set('after', f.last);
    const es = new EventSource(url, { withCredentials: true });
    f.es = es;
    setConn('connecting', 'connecting…');
    es.onopen = () => { f.retryMs = 2000; setConn('live', 'live'); };
    es.addEventListener('journey.snapshot', (ev) => {
      if (ev.lastEventId) f.last = ev.lastEventId;
      let item;
      try { item = JSON.parse(ev.data); } catch (_) { return; }
      if (!item || typeof item !== 'object') return;
      if (f.paused) { f.held.push(item); updatePause(); } else addFeedItem(item);
    });
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) { setConn('reconnecting', 'reconnecting…'); return; }
      // Closed for good (401, 503 too many streams, server gone): check the session, then retry.
      es.close();
      setConn('offline', 'offline');
      f.timer = setTimeout(async () => {
        f.timer = null;
        const r = await api('GET', 'events', { query: { limit: 1 } });
        if (!state.signedIn) return;
        if (!r.ok) showError($('feed-error'), r); else showError($('feed-error'), null);
        f.retryMs = Math.min(f.retryMs * 2, 30000);
        startFeed();
      }, f.retryMs);
    };
  }

  function stopFeed() {
    const f = state.feed;
    if (f.es) { f.es.close(); f.es = null; }
    if (f.timer) { clearTimeout(f.timer); f.timer = null; }
    setConn('idle', 'idle');
  }

  function addFeedItem(it) {
    const list = $('feed-list');
    // Highlight an arrival only while the feed is on screen (a hidden panel would replay it later).
    const fresh = state.tab === 'feed' && !document.hidden ? ' fresh' : '';
    const li = h('li', { class: `feed-item${it.stale ? ' stale' : ''}${fresh}`, onanimationend: (e) => e.currentTarget.classList.remove('fresh'), 'data-testid': 'feed-item', 'data-journey-id': it.journeyID },
      h('div', { class: 'when' }, time(it.receivedAt)),
      h('div', { class: 'what' },
        badge(it.status),
        h('button', { type: 'button', class: 'link mono', 'data-testid': 'feed-journey', title: 'Open this journey', onclick: () => openJourneyTab(it.journeyID) }, str(it.journeyID)),
        it.stale ? h('span', { class: 'badge stale-badge', 'data-testid': 'stale' }, 'stale') : null),
      h('div', { class: 'meta' },
        h('span', {}, 'user ', h('strong', {}, str(it.userID))),
        h('span', {}, 'next ', h('strong', {}, str(it.nextAction))),
        h('span', {}, 'seq ', h('span', { class: 'mono' }, str(it.sequence))),
        h('span', { class: 'mono muted', title: 'event id' }, str(it.eventID))));
    list.prepend(li);
    while (list.children.length > FEED_CAP) list.lastElementChild.remove();
    show($('feed-empty'), false);
  }

  function updatePause() {
    const f = state.feed;
    $('feed-pause').textContent = f.paused ? (f.held.length ? `Resume (${f.held.length} new)` : 'Resume') : 'Pause';
  }

  function togglePause() {
    const f = state.feed;
    f.paused = !f.paused;
    if (!f.paused) { for (const it of f.held.splice(0)) addFeedItem(it); }
    updatePause();
  }

  // ---- journeys -----------------------------------------------------------------------------------

  function readJourneyQuery() {
    const form = $('journeys-form');
    const q = { status: form.status.value.trim(), userID: form.userID.value.trim(), limit: PAGE_SIZE };
    const mins = form.stuck.value.trim();
    if (mins !== '') {
      const n = Number(mins);
      if (!Number.isFinite(n) || n < 0) return { bad: 'Stuck for must be a number of minutes (0 or more).' };
      q.stuckForSecs = Math.round(n * 60);
    }
    return { q };
  }

  async function searchJourneys(more) {
    const j = state.journeys;
    let q = j.query;
    if (!more) {
      const read = readJourneyQuery();
      if (read.bad) { showError($('journeys-error'), { error: { message: read.bad } }); return; }
      q = read.q;
    }
    j.loaded = true;
    const r = await api('GET', 'journeys', { query: more ? { ...q, after: j.next } : q });
    showError($('journeys-error'), r.ok ? null : r);
    if (!r.ok) return;
    j.query = q;
    const rows = $('journeys-rows');
    if (!more) rows.replaceChildren();
    for (const it of (r.data && r.data.journeys) || []) {
      rows.append(h('tr', { class: `clickable${it.journeyID === j.openID ? ' selected' : ''}`, 'data-testid': 'journey-row', 'data-journey-id': it.journeyID, tabindex: '0',
        onclick: () => openJourney(it.journeyID), onkeydown: (e) => { if (e.key === 'Enter') openJourney(it.journeyID); } },
      h('td', { class: 'mono' }, str(it.journeyID)), h('td', { class: 'opt' }, str(it.userID)), h('td', { class: 'nowrap' }, badge(it.status)),
      h('td', { class: 'opt' }, str(it.nextAction)), h('td', { class: 'num mono nowrap' }, str(it.sequence)),
      h('td', { class: 'nowrap' }, time(it.updatedAt), h('div', { class: 'muted small' }, ago(it.updatedAt)))));
    }
    j.next = (r.data && r.data.next) || null;
    show($('journeys-table'), rows.children.length > 0);
    show($('journeys-empty'), rows.children.length === 0);
    show($('journeys-more'), Boolean(j.next));
  }

  function openJourneyTab(id) {
    state.journeys.loaded = true; // a deep link: do not replace the detail with a fresh search
    goTo('journeys');
    openJourney(id);
  }

  async function openJourney(id) {
    const j = state.journeys;
    j.openID = id;
    for (const tr of $('journeys-rows').children) tr.classList.toggle('selected', tr.dataset.journeyId === id);
    const detail = $('journey-detail');
    $('journey-title').textContent = String(id);
    $('journey-facts').replaceChildren();
    $('journey-timeline').replaceChildren(h('li', { class: 'muted' }, 'Loading…'));
    $('journey-snapshot-json').textContent = '';
    showError($('journey-error'), null);
    show(detail, true);
    $('journeys-split').classList.add('has-detail');
    const r = await api('GET', `journeys/${seg(id)}`);
    if (j.openID !== id) return; // another journey was opened meanwhile
    $('journey-timeline').replaceChildren();
    if (!r.ok) { showError($('journey-error'), r); return; }
    const v = r.data || {};
    const user = v.userID
      ? h('button', { type: 'button', class: 'link', 'data-testid': 'journey-user', onclick: () => lookUpUser(v.userID) }, String(v.userID))
      : '—';
    const facts = [['User', user], ['Borrower external ID', str(v.borrowerExternalID)], ['Status', badge(v.status)],
      ['Next action', str(v.nextAction)], ['Sequence', h('span', { class: 'mono' }, str(v.sequence))], ['Updated', time(v.updatedAt)]];
    $('journey-facts').replaceChildren(...facts.flatMap(([k, val]) => [h('dt', {}, k), h('dd', {}, val)]));
    const events = Array.isArray(v.events) ? [...v.events] : [];
    events.sort((a, b) => (Number(b.sequence) - Number(a.sequence)) || String(b.receivedAt).localeCompare(String(a.receivedAt)));
    const tl = $('journey-timeline');
    for (const e of events) {
      tl.append(h('li', { class: `tl-item${e.stale ? ' stale' : ''}`, 'data-testid': 'timeline-item', 'data-stale': String(Boolean(e.stale)) },
        h('div', { class: 'tl-head' }, badge(e.status),
          e.stale ? h('span', { class: 'badge stale-badge', 'data-testid': 'stale', title: 'Arrived after a newer sequence; it did not change the journey.' }, 'stale') : null,
          h('span', { class: 'nowrap' }, h('span', { class: 'muted' }, 'next '), h('strong', {}, str(e.nextAction)))),
        h('div', { class: 'tl-meta' }, h('span', {}, 'seq ', h('span', { class: 'mono' }, str(e.sequence))),
          h('span', {}, 'received ', time(e.receivedAt)), h('span', { class: 'mono muted' }, str(e.eventID)))));
    }
    if (!events.length) tl.append(h('li', { class: 'muted' }, 'No verified snapshot recorded.'));
    $('journey-snapshot-json').textContent = JSON.stringify(v.snapshot ?? null, null, 2);
  }

  function closeJourney() {
    state.journeys.openID = null;
    show($('journey-detail'), false);
    $('journeys-split').classList.remove('has-detail');
    for (const tr of $('journeys-rows').children) tr.classList.remove('selected');
  }

  // ---- users --------------------------------------------------------------------------------------

  function lookUpUser(id) {
    $('users-form').userID.value = id;
    goTo('users');
    loadUser(id);
  }

  async function loadUser(id) {
    showError($('users-error'), null);
    showError($('users-result'), null);
    const r = await api('GET', `users/${seg(id)}/journeys`);
    if (!r.ok) { show($('users-card'), false); showError($('users-error'), r); return; }
    const d = r.data || {};
    const card = $('users-card');
    card.dataset.userId = String(d.userID ?? id);
    $('users-title').textContent = String(d.userID ?? id);
    const rows = $('users-rows');
    rows.replaceChildren();
    for (const it of Array.isArray(d.journeys) ? d.journeys : []) {
      rows.append(h('tr', { class: 'clickable', 'data-testid': 'user-journey-row', tabindex: '0', onclick: () => openJourneyTab(it.journeyID) },
        h('td', { class: 'mono' }, str(it.journeyID)), h('td', { class: 'nowrap' }, it.status ? badge(it.status) : '—'), h('td', {}, str(it.nextAction)),
        h('td', { class: 'num mono nowrap' }, str(it.sequence)), h('td', { class: 'nowrap' }, time(it.updatedAt))));
    }
    show($('users-journeys'), rows.children.length > 0);
    show($('users-empty'), rows.children.length === 0);
    show(card, true);
  }

  async function revokeUser() {
    const id = $('users-card').dataset.userId;
    if (!id) return;
    const yes = await confirmDialog(`Sign out ${id} everywhere?`,
      'This ends their web sessions, forgets their stored upstream tokens and refuses partner tokens issued before now, on every instance. It is recorded in the audit log.');
    if (!yes) return;
    const btn = $('users-revoke');
    btn.disabled = true;
    const r = await api('POST', `users/${seg(id)}/revoke`);
    btn.disabled = false;
    const out = $('users-result');
    if (!r.ok) { out.classList.replace('notice', 'error'); showError(out, r); return; }
    out.classList.replace('error', 'notice');
    out.replaceChildren(`${str(r.data && r.data.userID)} was signed out everywhere at `, time(r.data && r.data.revokedAt), '.');
    show(out, true);
  }

  // ---- confirm dialog -----------------------------------------------------------------------------

  function confirmDialog(title, text) {
    const dlg = $('confirm-dialog');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    dlg.returnValue = '';
    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
      dlg.showModal();
      $('confirm-cancel').focus();
    });
  }

  // ---- dead letters -------------------------------------------------------------------------------

  function parseBody(body) {
    try { return JSON.parse(body); } catch (_) { return undefined; }
  }

  async function loadDeadLetters() {
    const r = await api('GET', 'dead-letters');
    showError($('dead-letters-error'), r.ok ? null : r);
    if (!r.ok) return;
    const list = $('dead-letters-list');
    list.replaceChildren();
    for (const dl of (r.data && r.data.deadLetters) || []) list.append(deadLetterCard(dl));
    show($('dead-letters-empty'), list.children.length === 0);
  }

  function deadLetterCard(dl) {
    const result = h('p', { class: 'result', role: 'status', 'data-testid': 'dead-letter-result', hidden: true });
    const shown = (r) => {
      result.className = `result ${r.ok ? 'ok' : 'error'}`;
      if (r.ok) {
        const d = r.data || {};
        result.replaceChildren(h('strong', {}, 'Re-driven: '), `event ${str(d.eventID)} — ${str(d.outcome)}.`);
      } else {
        result.replaceChildren(h('strong', {}, 'Re-drive refused: '), showErrorText(r));
      }
      show(result, true);
    };
    const headers = dl.headers && typeof dl.headers === 'object' ? Object.entries(dl.headers) : [];
    const btn = h('button', { type: 'button', class: 'primary', 'data-testid': 'dead-letter-redrive' }, 'Re-drive');
    const parsed = parseBody(dl.body);
    const eventID = parsed && typeof parsed.event_id === 'string' ? parsed.event_id : null;
    const card = h('article', { class: 'card dead-letter', 'data-testid': 'dead-letter', 'data-id': dl.id, 'data-event-id': eventID },
      h('div', { class: 'detail-head' },
        h('div', {}, h('div', { class: 'reason', 'data-testid': 'dead-letter-reason' }, str(dl.reason)),
          h('div', { class: 'muted small' }, 'received ', time(dl.receivedAt), ' · id ', h('span', { class: 'mono' }, str(dl.id)),
            eventID ? [' · body event ', h('span', { class: 'mono' }, eventID)] : null)),
        btn),
      headers.length ? h('dl', { class: 'facts compact' }, headers.flatMap(([k, v]) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, str(v))])) : null,
      h('details', { class: 'raw' }, h('summary', {}, 'Body'),
        h('pre', {}, parsed === undefined ? String(dl.body ?? '') : JSON.stringify(parsed, null, 2))),
      result);
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      btn.textContent = 'Re-driving…';
      const r = await api('POST', `dead-letters/${seg(dl.id)}/redrive`);
      state.redrives.set(String(dl.id), r);
      shown(r);
      btn.disabled = r.ok;
      btn.textContent = r.ok ? 'Resolved' : 'Re-drive';
      card.classList.toggle('resolved', r.ok);
    });
    const earlier = state.redrives.get(String(dl.id));
    if (earlier) shown(earlier);
    return card;
  }

  function showErrorText(r) {
    const e = r.error || {};
    return h('span', {}, e.message || 'Something went wrong.', e.code ? h('code', { class: 'code' }, e.code) : null);
  }

  // ---- forwarding (hidden when the server has no such endpoint) -------------------------------------

  async function probeForwarding() {
    const r = await api('GET', 'forwarding', { quiet: true });
    state.forwarding = r.ok || (r.status !== 404 && r.status !== 405 && r.status !== 0);
    show($('tab-forwarding'), state.forwarding);
    if (state.tab === 'forwarding' && !state.forwarding) route();
  }

  async function loadForwarding() {
    const eventID = $('forwarding-form').eventID.value.trim();
    const r = await api('GET', 'forwarding', { query: { eventID } });
    const rows = $('forwarding-rows');
    rows.replaceChildren();
    if (!r.ok && r.status === 404 && eventID) {
      show($('forwarding-table'), false);
      showError($('forwarding-error'), null);
      show($('forwarding-empty'), true);
      return;
    }
    showError($('forwarding-error'), r.ok ? null : r);
    if (!r.ok) return;
    const d = r.data;
    const items = Array.isArray(d) ? d : (d && (d.deliveries || d.items)) || [];
    // The delivery shape is the server's: show known fields first, then whatever else it sends.
    const known = ['eventID', 'url', 'state', 'status', 'attempts', 'lastAttemptAt', 'nextAttemptAt', 'lastOutcome', 'lastStatus', 'lastError'];
    const keys = [...new Set([...known.filter((k) => items.some((i) => i && k in i)), ...items.flatMap((i) => Object.keys(i || {}))])];
    $('forwarding-head').replaceChildren(h('tr', {}, keys.map((k) => h('th', {}, k)), h('th', {}, '')));
    for (const it of items) {
      const cells = keys.map((k) => h('td', { class: /At$/.test(k) ? '' : 'mono' }, /At$/.test(k) ? time(it[k]) : (k === 'status' || k === 'state' ? badge(it[k]) : str(it[k]))));
      const resend = it.eventID ? h('button', { type: 'button', 'data-testid': 'forwarding-resend', onclick: () => resendForward(it.eventID) }, 'Re-send') : null;
      rows.append(h('tr', { 'data-testid': 'forwarding-row' }, cells, h('td', {}, resend)));
    }
    show($('forwarding-table'), items.length > 0);
    show($('forwarding-empty'), items.length === 0);
  }

  async function resendForward(eventID) {
    const r = await api('POST', `forwarding/${seg(eventID)}/resend`);
    const out = $('forwarding-result');
    if (!r.ok) { out.className = 'error'; showError(out, r); return; }
    out.className = 'notice';
    out.replaceChildren(`Re-send of ${eventID} queued.`);
    show(out, true);
    loadForwarding();
  }

  // ---- audit --------------------------------------------------------------------------------------

  async function loadAudit() {
    const r = await api('GET', 'audit');
    showError($('audit-error'), r.ok ? null : r);
    if (!r.ok) return;
    const rows = $('audit-rows');
    rows.replaceChildren();
    for (const e of (r.data && r.data.entries) || []) {
      rows.append(h('tr', { 'data-testid': 'audit-row' }, h('td', { class: 'nowrap' }, time(e.at)), h('td', { class: 'nowrap' }, str(e.operator)),
        h('td', { class: 'nowrap' }, h('span', { class: 'badge neutral' }, str(e.action))), h('td', { class: 'mono' }, str(e.target))));
    }
    show($('audit-table'), rows.children.length > 0);
    show($('audit-empty'), rows.children.length === 0);
  }

  // ---- wiring -------------------------------------------------------------------------------------

  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', route);
    $('feed-pause').addEventListener('click', togglePause);
    $('feed-clear').addEventListener('click', () => { $('feed-list').replaceChildren(); state.feed.held = []; updatePause(); show($('feed-empty'), true); });
    $('journeys-form').addEventListener('submit', (e) => { e.preventDefault(); searchJourneys(false); });
    $('journeys-more').addEventListener('click', () => searchJourneys(true));
    $('journey-close').addEventListener('click', closeJourney);
    $('users-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const id = e.target.userID.value.trim();
      if (id) loadUser(id);
    });
    $('users-revoke').addEventListener('click', revokeUser);
    $('dead-letters-refresh').addEventListener('click', loadDeadLetters);
    $('forwarding-form').addEventListener('submit', (e) => { e.preventDefault(); loadForwarding(); });
    $('audit-refresh').addEventListener('click', loadAudit);
  }

  async function boot() {
    wire();
    // No "who am I" call is needed: any cheap cookie call tells whether the session is alive.
    const r = await api('GET', 'events', { query: { limit: 1 }, quiet: true });
    if (r.ok) enterApp(sessionStorage.getItem('ops.operator') || '');
    else showSignin(r.status === 401 ? null : r.error);
    document.body.dataset.ready = 'true';
  }

  boot();
})();
