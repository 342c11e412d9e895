#!/usr/bin/env python3
"""Chaos soak (started by scripts/soak.sh; see docs/operations.md, "Chaos soak").

Starts, on free loopback ports: a Redis (append-only, fsync always, in a temp dir), the sandbox
(`aarthik-bff sandbox`) behind a TCP relay that can drop connections, three BFF instances sharing
that Redis, and nginx balancing round-robin over them (the sandbox's webhooks go through nginx too).
For SOAK_SECS seconds concurrent users mint sessions, run journeys with idempotent calls (some sent
again with the same Idempotency-Key), storm the refresh endpoint, and a sender delivers signed
webhooks with duplicates and out of order, while a chaos timeline injects upstream 5xx, latency,
dropped connections and webhook duplicates/reordering, and kills Redis (SIGKILL) once, restarting
it on the same port. Then it checks what the service promised and prints `N passed, M failed`.

Python standard library only. Every loop is bounded by the run's deadline; loopback only.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SOAK_SECS = max(60, int(os.environ.get("SOAK_SECS", "60")))  # the fault cycle needs a minute
USERS = int(os.environ.get("SOAK_USERS", "6"))          # concurrent journey workers
STORM_SIZE = int(os.environ.get("SOAK_STORM_SIZE", "12"))  # concurrent refreshes per storm
BIN = os.environ.get("SOAK_BIN", "target/debug/aarthik-bff")
NGINX = os.environ.get("SOAK_NGINX", "nginx")
KEEP = os.environ.get("SOAK_KEEP") == "1"                 # keep the temp dir (logs) afterwards
# After the load stops: time for the sandbox to deliver what it still holds (it lags under load).
SETTLE_SECS = int(os.environ.get("SOAK_SETTLE_SECS", str(max(180, SOAK_SECS // 2))))
# The sandbox keeps every request and delivery of the run (its default keeps 10 000).
SANDBOX_LOG_CAP = 1_000_000
# The BFFs' ops feed keeps every event of the run (`webhook.feed_max_len`, 100 000 by default).
FEED_MAX_LEN = 5_000_000
# Attempts per sandbox webhook: retries after 1, 2, 4, ... 64 s outlast the Redis restart.
SANDBOX_WEBHOOK_ATTEMPTS = 8

API_KEY = "sk_test_soak_" + uuid.uuid4().hex
WEBHOOK_SECRET = "whsec_soak_" + uuid.uuid4().hex
HS256_SECRET = "soak-hs256-" + uuid.uuid4().hex
OPS_TOKEN = "soak-ops-" + uuid.uuid4().hex
TENANT = "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9"
APPLICATION = "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b"
RUN = uuid.uuid4().hex[:8]
# After a fault window ends, a 502/503/504 is still attributed to it for this long (retry
# back-offs, the sandbox's own webhook retries, single-flight waiters).
GRACE = 6.0
# session.reuse_window_secs: a refresh this soon after the last token answers that token.
REUSE_WINDOW = 5.0

T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def log(msg):
    print(f"[{now():6.1f}s] {msg}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(sub, ttl=3600):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    iat = int(time.time())
    claims = b64url(json.dumps({"sub": sub, "iat": iat, "exp": iat + ttl}).encode())
    mac = hmac.new(HS256_SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64url(mac)}"


class Resp:
    def __init__(self, status, headers, body, started, ended, error=None):
        self.status, self.headers, self.body = status, headers, body
        self.started, self.ended, self.error = started, ended, error

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def code(self):
        j = self.json()
        return ((j or {}).get("error") or {}).get("code") if isinstance(j, dict) else None


def request(port, method, path, body=None, headers=None, timeout=30):
    """One HTTP call on a fresh connection; transport errors come back as status 0."""
    started = now()
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    h = dict(headers or {})
    if data is not None:
        h.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, payload, started, now())
    except (OSError, http.client.HTTPException) as e:
        return Resp(0, {}, b"", started, now(), error=f"{type(e).__name__}: {e}")
    finally:
        conn.close()


# ------------------------------------------------------------------ bookkeeping


class Book:
    """Everything the workers saw, for the checks at the end (one lock; cheap appends)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.responses = []      # (kind, status, code, started, ended, error)
        self.windows = []        # [label, start, end]
        self.ops = []            # idempotent operations
        self.storms = []
        self.webhooks = {}       # event id -> {journey, sequence, acked, sends}
        self.restart = {}
        self.users = 0

    def saw(self, kind, r):
        with self.lock:
            self.responses.append((kind, r.status, r.code() if r.status >= 400 else None,
                                   r.started, r.ended, r.error))

    def window(self, label, passthrough=None):
        """A fault window; `passthrough`: the upstream status it injects on proxied calls, which
        the proxy hands back as the platform's own enveloped error (docs/proxy.md)."""
        w = [label, now(), None, passthrough]
        with self.lock:
            self.windows.append(w)
        return w

    def close(self, w):
        w[2] = now()

    def in_window(self, started, ended):
        """The fault windows the interval [started, ended] overlaps (with GRACE after each)."""
        return [w for w in self.windows
                if started <= (w[2] if w[2] is not None else now()) + GRACE and ended >= w[1]]


BOOK = Book()
STOP = threading.Event()


# ------------------------------------------------------------------ processes


class Procs:
    def __init__(self, tmp):
        self.tmp = tmp
        self.children = []

    def spawn(self, name, argv, env=None):
        out = open(os.path.join(self.tmp, f"{name}.log"), "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env={**os.environ, **(env or {})})
        self.children.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.children):
            if p.poll() is None:
                p.terminate()
        for name, p in reversed(self.children):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


def wait_until(what, fn, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {secs} s")


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    def __init__(self, procs, port):
        self.procs, self.port = procs, port
        self.dir = os.path.join(procs.tmp, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def start(self):
        self.proc = self.procs.spawn("redis", [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--daemonize", "no", "--loglevel", "warning"])
        wait_until("redis", lambda: redis_ping(self.port), 20)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


class Relay:
    """TCP relay BFF → sandbox. While `drop_until` is in the future, new connections are reset at
    once and a request arriving on an open connection resets it before a byte reaches the sandbox
    (so a dropped call never ran upstream)."""

    def __init__(self, listen_port, target_port):
        self.target = target_port
        self.drop_until = 0.0
        self.dropped = 0
        self.srv = socket.create_server(("127.0.0.1", listen_port))
        self.srv.settimeout(0.5)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def dropping(self):
        return time.monotonic() < self.drop_until

    @staticmethod
    def reset(*socks):
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    def accept_loop(self):
        while not STOP.is_set():
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.dropping():
                self.dropped += 1
                self.reset(c)
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                u.settimeout(None)
            except OSError:
                self.reset(c)
                continue
            threading.Thread(target=self.pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, False), daemon=True).start()

    def pump(self, src, dst, from_client):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.dropping():
                    self.dropped += 1
                    self.reset(src, dst)
                    return
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass


NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body; proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fcgi; uwsgi_temp_path {tmp}/nginx-uwsgi; scgi_temp_path {tmp}/nginx-scgi;
  upstream bff {{ {servers} keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://bff;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_read_timeout 60s;
      proxy_buffering off;
    }}
  }}
}}
"""


# ------------------------------------------------------------------ workload


class Env:
    def __init__(self):
        self.proxy = 0       # nginx
        self.sandbox = 0     # sandbox, direct (controls)
        self.bffs = []


ENV = Env()

PROFILE = {
    "profile": {"contactNumber": "9123456780", "pan": "PQRSX6789K", "panName": "Asha Verma",
                "personalemail": "asha@example.org"},
    "workProfile": {"employmentType": "salaried", "income": 50000, "incomeType": "monthly"},
    "address": {"city": "Pune", "pincode": "411001"},
    "journey": {"bureauConsent": True},
}


def retryable(r):
    return r.status == 0 or r.status >= 500 or r.status == 429 or (
        r.status == 409 and r.code() == "IDEMPOTENCY_KEY_IN_USE")


def send_until_final(method, path, body, hdr, cid_base, deadline, tries):
    """Attempts with one Idempotency-Key until an answer that is final (not 5xx, 429 or 409
    in-use, not a transport error), with back-off. Returns (last answer, [(cid, status)])."""
    seen = []
    r = None
    for n in range(10):
        cid = f"{cid_base}-a{n}"
        r = request(ENV.proxy, method, path, body, {**hdr, "X-Correlation-ID": cid})
        BOOK.saw("proxy", r)
        seen.append((cid, r.status))
        if not retryable(r) or time.monotonic() > deadline:
            break
        time.sleep(min(4.0, 0.2 * 2 ** n) * random.uniform(0.5, 1.0))
    return r, seen


def idem_call(user, token, method, path, body, deadline):
    """One idempotent operation: attempts with the same key until a final answer; sometimes the
    same key again afterwards (it must answer the same, and not run again upstream)."""
    key = str(uuid.uuid4())
    op = {"user": user, "method": method, "path": path, "key": key, "attempts": [], "dup": None,
          "final": None}
    with BOOK.lock:
        op_id = len(BOOK.ops)
        BOOK.ops.append(op)
    hdr = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    r, op["attempts"] = send_until_final(method, path, body, hdr, f"soak-{RUN}-op{op_id}", deadline, 10)
    if not retryable(r):
        op["final"] = r.status
        if random.random() < 0.35:
            # A claim left by an answer that could not be stored (Redis gone) is in use for up to
            # 10 s (the lease): keep trying a little past the run's end.
            d, seen = send_until_final(method, path, body, hdr, f"soak-{RUN}-op{op_id}-dup",
                                       max(deadline, time.monotonic() + 20), 10)
            op["dup"] = {"attempts": seen, "final": None if retryable(d) else d.status,
                         "bff_replayed": d.headers.get("idempotent-replayed") == "true",
                         "same_body": d.body == r.body}
    return r


def journey_worker(wid, deadline):
    n = 0
    while time.monotonic() < deadline:
        n += 1
        user = f"soak-{RUN}-w{wid}-u{n}"
        token = jwt(user)
        with BOOK.lock:
            BOOK.users += 1
        r = request(ENV.proxy, "POST", "/v1/session", {}, {
            "Authorization": f"Bearer {token}", "X-Correlation-ID": f"soak-{RUN}-mint-{wid}-{n}"})
        BOOK.saw("session", r)
        if r.status != 200:
            time.sleep(0.5)
            continue
        j = idem_call(user, token, "POST", "/v1/headless/journeys", {"type": "PERSONAL_LOAN"},
                      deadline)
        jid = ((j.json() or {}).get("data") or {}).get("journeyID") if j.status == 200 else None
        if time.monotonic() >= deadline:
            break
        idem_call(user, token, "PUT", "/v1/headless/profile", PROFILE, deadline)
        if time.monotonic() >= deadline:
            break
        idem_call(user, token, "POST", "/v1/headless/profile/submit", {}, deadline)
        if jid:
            r = request(ENV.proxy, "GET", f"/v1/headless/journeys/{jid}/state", None,
                        {"Authorization": f"Bearer {token}"})
            BOOK.saw("proxy", r)
        time.sleep(random.uniform(0.1, 0.5))


def storm_worker(deadline):
    users = []
    for i in range(4):
        u = f"soak-{RUN}-storm-u{i}"
        tok = jwt(u)
        for _ in range(20):
            r = request(ENV.proxy, "POST", "/v1/session", {}, {"Authorization": f"Bearer {tok}"})
            BOOK.saw("session", r)
            if r.status == 200:
                break
            time.sleep(0.5)
        users.append({"user": u, "token": tok, "last_token_at": now()})
    n = 0
    while time.monotonic() < deadline - 3:
        time.sleep(3)
        u = users[n % len(users)]
        n += 1
        storm = {"n": n, "user": u["user"], "at": now(),
                 "fresh": now() - u["last_token_at"] > REUSE_WINDOW + 1, "answers": []}
        barrier = threading.Barrier(STORM_SIZE)

        def one(i):
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
            r = request(ENV.proxy, "POST", "/v1/session/refresh", None, {
                "Authorization": f"Bearer {u['token']}",
                "X-Correlation-ID": f"soak-{RUN}-storm{n}-{i}"})
            BOOK.saw("refresh", r)
            tok = ((r.json() or {}).get("data") or {}).get("sessionToken") if r.status == 200 else None
            with BOOK.lock:
                storm["answers"].append((r.status, tok))

        ts = [threading.Thread(target=one, args=(i,)) for i in range(STORM_SIZE)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=60)
        if any(s == 200 for s, _ in storm["answers"]):
            u["last_token_at"] = now()
        with BOOK.lock:
            BOOK.storms.append(storm)


def snapshot(event_id, journey_id, user, sequence, status):
    return json.dumps({
        "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": event_id,
        "event_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "snapshot_generated_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "sequence": sequence,
        "issuer": {"source": "credit-api", "trigger": "journey.status.updated"},
        "tenant_id": TENANT, "application_id": APPLICATION,
        "origin_experience": "API", "current_experience_surface": "API",
        "borrower": {"borrowerExternalID": user, "journeys": [
            {"journeyID": journey_id, "type": "PERSONAL_LOAN", "status": status,
             "nextAction": None}]},
    }, separators=(",", ":")).encode()


def deliver(event_id):
    ev = BOOK.webhooks[event_id]
    ts = str(int(time.time()))
    sig = hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + ev["body"], hashlib.sha256).hexdigest()
    r = request(ENV.proxy, "POST", "/v1/webhooks/aarthik", ev["body"], {
        "Content-Type": "application/json", "X-AL-Event-ID": event_id, "X-AL-Tenant-ID": TENANT,
        "X-AL-Application-ID": APPLICATION, "X-AL-Webhook-Timestamp": ts,
        "X-AL-Webhook-Signature": sig})
    BOOK.saw("webhook", r)
    with BOOK.lock:
        ev["sends"] += 1
        if 200 <= r.status < 300:
            ev["acked"] = True
            ev["outcomes"].append(((r.json() or {}).get("data") or {}).get("outcome"))


STATUSES = ["STARTED", "PROFILE_REQUIRED", "PROFILE_SUBMITTED", "OFFERS_PENDING", "OFFERS_AVAILABLE"]


def webhook_worker(wid, deadline):
    """Batches of synthetic journeys: every event sent once, some twice, in shuffled order and
    from several threads at once; un-acknowledged ones are sent again (as a platform would)."""
    b = 0
    while time.monotonic() < deadline:
        b += 1
        ids = []
        base = int(time.time() * 1000)
        for j in range(3):
            jid = f"soak-{RUN}-wh{wid}-b{b}-j{j}"
            user = f"soak-{RUN}-whuser{wid}"
            for k, status in enumerate(STATUSES[:4]):
                eid = f"evt_soak{RUN}{wid}b{b}j{j}k{k}"
                with BOOK.lock:
                    BOOK.webhooks[eid] = {"journey": jid, "sequence": base + k, "acked": False,
                                          "sends": 0, "outcomes": [],
                                          "body": snapshot(eid, jid, user, base + k, status)}
                ids.append(eid)
        sends = ids + random.sample(ids, len(ids) // 2)
        random.shuffle(sends)
        ts = [threading.Thread(target=lambda part: [deliver(e) for e in part], args=(sends[i::4],))
              for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=120)
        for attempt in range(8):
            missing = [e for e in ids if not BOOK.webhooks[e]["acked"]]
            if not missing:
                break
            time.sleep(min(4.0, 0.3 * 2 ** attempt))
            for e in missing:
                deliver(e)
        time.sleep(random.uniform(0.2, 0.6))


# ------------------------------------------------------------------ chaos


def faults(patch):
    r = request(ENV.sandbox, "POST", "/__sandbox/faults", patch)
    if r.status != 200:
        log(f"fault patch {patch} refused: {r.status} {r.body[:200]!r}")


def chaos(relay, redis, deadline, restart_at):
    kinds = [
        ("upstream 503 x4", lambda: faults({"failNext": {"count": 4, "status": 503,
                                                          "pathPrefix": "/api/v1/headless/"}}),
         lambda: faults({"failNext": {"count": 0, "status": 503}}), 4),
        ("upstream latency 1500 ms", lambda: faults({"latencyMs": 1500, "latencyPathPrefix": "/api/"}),
         lambda: faults({"latencyMs": 0}), 4),
        ("webhook duplicates x4 + reorder x3",
         lambda: faults({"webhookDuplicateNext": 4, "webhookReorderNext": 3}), lambda: None, 0),
        ("dropped connections", lambda: setattr(relay, "drop_until", time.monotonic() + 2.0),
         lambda: setattr(relay, "drop_until", 0.0), 2),
        ("upstream 500 x3", lambda: faults({"failNext": {"count": 3, "status": 500}}),
         lambda: faults({"failNext": {"count": 0, "status": 500}}), 4, 500),
        ("session upstream 502 x3", lambda: faults({"failNext": {"count": 3, "status": 502,
                                                                  "pathPrefix": "/api/v1/headless/sessions"}}),
         lambda: faults({"failNext": {"count": 0, "status": 502}}), 4),
    ]
    i = 0
    restarted = False
    next_at = time.monotonic() + 3
    while time.monotonic() < deadline - 4:
        if not restarted and time.monotonic() >= restart_at:
            restarted = True
            restart_redis(redis)
            next_at = time.monotonic() + 3
            continue
        if time.monotonic() < next_at:
            time.sleep(0.2)
            continue
        label, arm, disarm, secs, *passthrough = kinds[i % len(kinds)]
        i += 1
        w = BOOK.window(label, *passthrough)
        arm()
        log(f"fault: {label}")
        time.sleep(secs)
        disarm()
        BOOK.close(w)
        next_at = time.monotonic() + 3


def restart_redis(redis):
    w = BOOK.window("redis restart")
    t_kill = now()
    redis.kill()
    log("redis: SIGKILL")
    time.sleep(2)
    redis.start()
    t_up = now()
    log("redis: restarted on the same port")

    def all_ready():
        return all(request(p, "GET", "/readyz", timeout=3).status == 200 for p in ENV.bffs)

    try:
        wait_until("BFF readiness after the Redis restart", all_ready, 30)
    except RuntimeError as e:
        log(str(e))
    t_ready = now()
    BOOK.close(w)
    BOOK.restart = {"killed": t_kill, "redis_up": t_up, "bff_ready": t_ready}
    log(f"redis restart: down {t_up - t_kill:.1f} s, every instance ready {t_ready - t_up:.1f} s later")


# ------------------------------------------------------------------ sandbox logs


class UpstreamLog:
    """Harvests the sandbox request log (it keeps the last 10 000), every 2 s. A record is pushed
    when its answer is sent but numbered (`seq`) when the request arrives, so the log is not in
    `seq` order: a batch is complete when its oldest record was already seen (the batches
    overlap), and at the end every `seq` from 1 to the highest must be there."""

    def __init__(self):
        self.records = {}
        self.lock = threading.Lock()

    def harvest(self):
        with self.lock:
            for limit in (500, 3000, 10000):
                r = request(ENV.sandbox, "GET", f"/__sandbox/requests?limit={limit}", timeout=60)
                if r.status != 200:
                    return
                recs = r.json()["data"]["requests"]
                if len(recs) < limit or recs[0]["seq"] in self.records:
                    break
            for rec in recs:
                self.records[rec["seq"]] = rec

    def missing(self):
        top = max(self.records, default=0)
        return [n for n in range(1, top + 1) if n not in self.records]

    def loop(self, until):
        while time.monotonic() < until and not STOP.is_set():
            self.harvest()
            time.sleep(2)


# ------------------------------------------------------------------ checks


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({detail})" if detail else ""))
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def ops_get(path):
    return request(ENV.proxy, "GET", path, None, {"Authorization": f"Bearer {OPS_TOKEN}"}, timeout=60)


def read_feed():
    items, after = [], None
    for _ in range(1000):
        q = "/v1/ops/events?limit=1000" + (f"&after={after}" if after else "")
        r = ops_get(q)
        if r.status != 200:
            raise RuntimeError(f"ops feed: HTTP {r.status} {r.body[:200]!r}")
        page = r.json()["data"]
        items += page["events"]
        if not page["events"] or not page["next"]:
            break
        after = page["next"]
    return items


def sandbox_deliveries():
    r = request(ENV.sandbox, "GET", "/__sandbox/deliveries", timeout=60)
    return ((r.json() or {}).get("data") or {}).get("deliveries", [])


def verify(up, deliveries, relay_dropped, c):
    feed = read_feed()
    if len(feed) >= FEED_MAX_LEN:
        print(f"NOTE the ops feed holds {len(feed)} events, its cap: the oldest were trimmed")
    in_feed = {}
    for it in feed:
        in_feed.setdefault(it["eventID"], []).append(it)

    # 1. Webhooks: every acknowledged delivery stored exactly once.
    acked = [e for e, ev in BOOK.webhooks.items() if ev["acked"]]
    sends = sum(ev["sends"] for ev in BOOK.webhooks.values())
    bad = [e for e in acked if len(in_feed.get(e, [])) != 1]
    c.check(acked and not bad, "every acknowledged soak webhook stored exactly once",
            f"{len(acked)} events acknowledged of {len(BOOK.webhooks)}, {sends} deliveries"
            + (f"; wrong count for {bad[:5]}" if bad else ""))
    never = [e for e, ev in BOOK.webhooks.items() if not ev["acked"]]
    c.check(not never, "every soak webhook acknowledged in the end (with re-sends)",
            f"{len(never)} never acknowledged" if never else "")
    sb_ok = {}
    for d in deliveries:
        if d.get("status") and 200 <= d["status"] < 300:
            sb_ok.setdefault(d["eventID"], d)
    sb_dups = sum(1 for d in deliveries if d["outcome"] == "duplicate")
    bad = [e for e in sb_ok if len(in_feed.get(e, [])) != 1]
    c.check(sb_ok and not bad, "every acknowledged sandbox webhook stored exactly once",
            f"{len(sb_ok)} events, {len(deliveries)} delivery attempts ({sb_dups} duplicates)"
            + (f"; wrong count for {bad[:5]}" if bad else ""))

    # 2. Per journey, the latest record is the highest sequence stored (whatever the arrival order),
    # and at least the highest acknowledged one. (A delivery can be stored and still not
    # acknowledged, e.g. Redis timing out after the write: then the sender retries.)
    stored = {}
    for it in feed:
        stored[it["journeyID"]] = max(stored.get(it["journeyID"], 0), it["sequence"])
    acked_max = {}
    for ev in BOOK.webhooks.values():
        if ev["acked"]:
            acked_max[ev["journey"]] = max(acked_max.get(ev["journey"], 0), ev["sequence"])
    for d in deliveries:
        if d.get("status") and 200 <= d["status"] < 300:
            acked_max[d["journeyID"]] = max(acked_max.get(d["journeyID"], 0), d["sequence"])
    # A run that stopped part-way (Redis gone after the latest record was written, before the
    # feed entry) is completed by the sender's retry. When the sender gave up on that event (every
    # attempt failed), nothing was acknowledged and nothing was promised: the latest record may
    # then be ahead of the feed. That is reported, not failed; anything else fails.
    attempts_of = {}
    for d in deliveries:
        attempts_of.setdefault(d["eventID"], []).append(d)
    wrong, given_up = [], []
    for jid, seq in stored.items():
        r = ops_get(f"/v1/ops/journeys/{jid}")
        data = ((r.json() or {}).get("data") or {}) if r.status == 200 else {}
        got = data.get("sequence")
        if got == seq and got >= acked_max.get(jid, 0):
            continue
        ev = data.get("eventID")
        tries = attempts_of.get(ev, [])
        line = (f"{jid}: latest {got} (event {ev}), highest stored {seq}, highest acknowledged "
                f"{acked_max.get(jid)}; sandbox attempts of that event: "
                f"{[(d['attempt'], d['status'], d['outcome']) for d in tries]}")
        if (got is not None and got > seq and tries
                and all(not (d.get("status") and 200 <= d["status"] < 300) for d in tries)
                and any(d["outcome"] == "failed" for d in tries)
                and ev not in BOOK.webhooks):
            given_up.append(line)
        else:
            wrong.append(line)
    if given_up:
        print(f"NOTE {len(given_up)} journey(s) whose latest record came from an event the sandbox "
              f"gave up on (never acknowledged): {given_up[:3]}")
    c.check(stored and not wrong, "per journey, latest = highest sequence (and >= highest acknowledged)",
            f"{len(stored)} journeys" + (f"; {len(wrong)} wrong: {wrong[:3]}" if wrong else ""))
    events = {d["eventID"] for d in deliveries}
    unacked = sorted(events - set(sb_ok))
    if unacked:
        seen = [(d["eventID"], d["attempt"], d["status"], d["outcome"]) for d in deliveries
                if d["eventID"] in set(unacked[:3])]
        print(f"NOTE {len(unacked)} sandbox event(s) never acknowledged: no 2xx attempt in its "
              f"delivery log (the sender gave up, or the log lost it): {seen}")

    # 3. Every idempotent operation executed once upstream.
    recs = list(up.records.values())
    by_cid = {}
    by_key = {}
    for rec in recs:
        h = rec.get("headers", {})
        by_cid.setdefault(h.get("x-correlation-id"), []).append(rec)
        if h.get("idempotency-key"):
            by_key.setdefault(h["idempotency-key"], []).append(rec)

    def executions(key):
        return [r for r in by_key.get(key, []) if r["status"] < 500 and not r.get("replayed")]

    problems, acked_ops, upstream_dups = [], 0, 0
    for i, op in enumerate(BOOK.ops):
        cids = [a[0] for a in op["attempts"]] + [a[0] for a in (op["dup"] or {}).get("attempts", [])]
        ups = [r for cid in cids for r in by_cid.get(cid, [])]
        keys = {r["headers"].get("idempotency-key") for r in ups}
        if len(keys) > 1:
            problems.append(f"op{i} {op['method']} {op['path']}: {len(keys)} upstream keys")
            continue
        runs = len(executions(next(iter(keys)))) if keys else 0
        ok2xx = op["final"] is not None and 200 <= op["final"] < 300
        acked_ops += ok2xx
        if (ok2xx and runs != 1) or runs > 1:
            problems.append(f"op{i} {op['method']} {op['path']}: ran {runs}x upstream "
                            f"(answers {[a[1] for a in op['attempts']]})")
        if op["dup"]:
            upstream_dups += any(by_cid.get(a[0]) for a in op["dup"]["attempts"])
    c.check(acked_ops and not problems, "every idempotent operation executed once upstream",
            f"{acked_ops} acknowledged of {len(BOOK.ops)} operations, "
            f"{sum(len(o['attempts']) for o in BOOK.ops)} attempts" + (f"; {problems[:3]}" if problems else ""))
    dups = [o for o in BOOK.ops if o["dup"]]
    bad = [(o["method"], o["path"], o["final"], o["dup"]["final"]) for o in dups
           if o["dup"]["final"] != o["final"]]
    from_store = sum(1 for o in dups if o["dup"]["bff_replayed"] and o["dup"]["same_body"])
    c.check(dups and not bad, "a repeated Idempotency-Key gets the first answer again",
            f"{len(dups)} repeats: {from_store} replayed from the BFF's store, {upstream_dups} went "
            f"upstream again (an answer Redis was not there to store; the check above shows none ran twice)"
            + (f"; {len(bad)} answered differently, e.g. {bad[:2]}" if bad else ""))

    # 4. One upstream refresh per storm.
    session_paths = ("/api/v1/headless/sessions/refresh", "/api/v1/headless/sessions")
    problems, checked = [], 0
    for s in BOOK.storms:
        prefix = f"soak-{RUN}-storm{s['n']}-"
        runs = [r for cid, rs in by_cid.items() if cid and cid.startswith(prefix) for r in rs
                if r["path"] in session_paths and 200 <= r["status"] < 300 and not r.get("replayed")]
        tokens = {t for st, t in s["answers"] if st == 200}
        any_ok = bool(tokens)
        checked += any_ok
        if len(tokens) > 1:
            problems.append(f"storm {s['n']}: {len(tokens)} different session tokens")
        if len(runs) > 1 or (any_ok and s["fresh"] and len(runs) != 1):
            problems.append(f"storm {s['n']}: {len(runs)} upstream refreshes "
                            f"(answers {sorted(st for st, _ in s['answers'])})")
    c.check(checked and not problems, "one upstream refresh per refresh storm, one token per storm",
            f"{len(BOOK.storms)} storms of {STORM_SIZE}, {checked} answered" + (f"; {problems[:3]}" if problems else ""))

    # 5. No 5xx but 502/503/504, and those only while a fault was injected or Redis restarted.
    # A proxied call may also answer the platform's own injected 500 as it came (its envelope,
    # code INTERNAL_ERROR; the BFF's own code is INTERNAL), during that fault only.
    by_status = {}
    outside = []
    passed_through = 0
    for kind, status, code, started, ended, err in BOOK.responses:
        by_status[status] = by_status.get(status, 0) + 1
        if status == 0 or status >= 500:
            windows = BOOK.in_window(started, ended)
            if status in (502, 503, 504) and windows:
                continue
            if kind == "proxy" and code == "INTERNAL_ERROR" and any(w[3] == status for w in windows):
                passed_through += 1
                continue
            outside.append(f"{kind} {status or err} {code or ''} at {started:.1f}s"
                           + ("" if windows else " (no fault active)"))
    c.check(not outside, "5xx only 502/503/504, only during injected faults or the Redis restart",
            f"answers by status {dict(sorted(by_status.items()))}; {passed_through} of the 5xx are "
            f"the platform's injected 500 handed back as its own envelope"
            + (f"; {len(outside)} outside: {outside[:4]}" if outside else ""))

    # 6. The service recovered from the Redis restart.
    rs = BOOK.restart
    after = [x for x in BOOK.responses if rs and x[3] > rs.get("bff_ready", 1e9) and 200 <= x[1] < 300]
    c.check(rs and after, "Redis restarted mid-run and the service answered 2xx afterwards",
            f"killed at {rs.get('killed', 0):.1f}s, Redis up {rs.get('redis_up', 0):.1f}s, every instance "
            f"ready {rs.get('bff_ready', 0):.1f}s; {len(after)} 2xx answers after" if rs else "no restart happened")
    injected = sum(1 for r in recs if r["status"] >= 500)
    labels = {w[0] for w in BOOK.windows}
    c.check(injected and relay_dropped and sb_dups and len(labels) >= 6,
            "the chaos happened (upstream 5xx, dropped connections, webhook duplicates, Redis restart)",
            f"{len(labels)} kinds of fault, {injected} injected upstream 5xx, {relay_dropped} connections "
            f"dropped, {sb_dups} duplicate webhook deliveries")
    lost = up.missing()
    c.check(not lost, "the sandbox request log was read without gaps",
            f"{len(up.records)} upstream requests" + (f"; {len(lost)} lost, e.g. seq {lost[:5]}" if lost else ""))


# ------------------------------------------------------------------ main


def main():
    tmp = tempfile.mkdtemp(prefix="aarthik-soak-")
    procs = Procs(tmp)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    c = Checks()
    try:
        redis = Redis(procs, free_port())
        redis.start()
        ENV.sandbox = free_port()
        relay_port = free_port()
        ENV.proxy = free_port()
        ENV.bffs = [free_port() for _ in range(3)]
        procs.spawn("sandbox", [BIN, "sandbox", "--port", str(ENV.sandbox), "--api-key", API_KEY,
                                "--webhook-url", f"http://127.0.0.1:{ENV.proxy}/v1/webhooks/aarthik",
                                "--webhook-secret", WEBHOOK_SECRET, "--offer-delay-ms", "1000",
                                "--webhook-max-attempts", str(SANDBOX_WEBHOOK_ATTEMPTS),
                                "--log-cap", str(SANDBOX_LOG_CAP)],
                    {"RUST_LOG": "warn"})
        wait_until("sandbox", lambda: request(ENV.sandbox, "GET", "/__sandbox/faults", timeout=2).status == 200, 30)
        relay = Relay(relay_port, ENV.sandbox)
        for i, port in enumerate(ENV.bffs):
            procs.spawn(f"bff{i + 1}", [BIN, "serve"], {
                "BFF__SERVER__PORT": str(port), "BFF__SERVER__WORKERS": "2",
                "BFF__STORE__REDIS_URL": f"redis://127.0.0.1:{redis.port}",
                "BFF__STORE__KEY_PREFIX": f"soak{RUN}:",
                "BFF__UPSTREAM__BASE_URL": f"http://127.0.0.1:{relay_port}",
                "BFF__UPSTREAM__API_KEY": API_KEY, "BFF__AUTH__HS256_SECRET": HS256_SECRET,
                "BFF__WEBHOOK__SECRETS": WEBHOOK_SECRET, "BFF__OPS__TOKENS": OPS_TOKEN,
                # The checks read every event back from the ops feed, which keeps 100 000 by
                # default; a 10-minute run stores more than that.
                "BFF__WEBHOOK__FEED_MAX_LEN": str(FEED_MAX_LEN),
                "RUST_LOG": "warn"})
        for port in ENV.bffs:
            wait_until(f"BFF on {port}", lambda: request(port, "GET", "/readyz", timeout=2).status == 200, 60)
        servers = " ".join(f"server 127.0.0.1:{p};" for p in ENV.bffs)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, servers=servers, port=ENV.proxy))
        procs.spawn("nginx", [NGINX, "-p", tmp, "-e", os.path.join(tmp, "nginx-error.log"),
                              "-c", conf, "-g", "daemon off;"])
        wait_until("nginx", lambda: request(ENV.proxy, "GET", "/healthz", timeout=2).status == 200, 20)
        log(f"soak {RUN}: {SOAK_SECS} s; nginx :{ENV.proxy} -> BFF {ENV.bffs}; relay :{relay_port} -> "
            f"sandbox :{ENV.sandbox}; redis :{redis.port} (appendonly, fsync always); logs in {tmp}")

        start = time.monotonic()
        deadline = start + SOAK_SECS
        up = UpstreamLog()
        threads = [threading.Thread(target=journey_worker, args=(w, deadline)) for w in range(USERS)]
        threads += [threading.Thread(target=storm_worker, args=(deadline,))]
        threads += [threading.Thread(target=webhook_worker, args=(w, deadline)) for w in range(2)]
        threads += [threading.Thread(target=chaos, args=(relay, redis, deadline, start + SOAK_SECS / 2))]
        harvester = threading.Thread(target=up.loop, args=(deadline + 120,), daemon=True)
        for t in threads:
            t.daemon = True
            t.start()
        harvester.start()
        for t in threads:
            t.join(timeout=max(1, deadline + 150 - time.monotonic()))
        if any(t.is_alive() for t in threads):
            c.check(False, "every load thread finished within the run's bounds")
        log("load stopped; clearing faults and letting the sandbox deliver what it holds")
        request(ENV.sandbox, "DELETE", "/__sandbox/faults")
        relay.drop_until = 0.0
        # Settle: fire every scheduled sandbox timer (lender answers, disbursal) and deliver what is
        # queued, until nothing is pending and the delivery log has stopped moving for 3 s. (Its
        # `pending` leaves out the batch being sent, and the log may be capped, so "moving"
        # is its newest record changing, not its length.) Under load the sender can lag minutes.
        deliveries, stable, newest = [], 0, None
        quiet_end = time.monotonic() + SETTLE_SECS
        while time.monotonic() < quiet_end and stable < 3:
            request(ENV.sandbox, "POST", "/__sandbox/timers/skip", {})
            request(ENV.sandbox, "POST", "/__sandbox/webhooks/deliver-now")
            time.sleep(1)
            r = request(ENV.sandbox, "GET", "/__sandbox/deliveries", timeout=60)
            data = (r.json() or {}).get("data") or {}
            deliveries = data.get("deliveries", [])
            last = json.dumps(deliveries[-1], sort_keys=True) if deliveries else None
            moved = last != newest
            newest = last
            stable = stable + 1 if r.status == 200 and data.get("pending") == 0 and not moved else 0
        if stable < 3:
            log(f"note: the sandbox was still delivering webhooks when the settle time ({SETTLE_SECS} s) ran out")
        if len(deliveries) >= SANDBOX_LOG_CAP:
            log(f"note: the sandbox delivery log is full ({SANDBOX_LOG_CAP}); older deliveries are not checked")
        up.harvest()
        print(f"--- soak report: {SOAK_SECS} s, {USERS} journey workers, storms of {STORM_SIZE}, "
              f"{BOOK.users} users, {len(BOOK.responses)} answers, {len(BOOK.windows)} fault windows, "
              f"{relay.dropped} connections dropped")
        for label, ws, we, _ in BOOK.windows:
            print(f"    fault {ws:6.1f}s-{(we or ws):6.1f}s  {label}")
        verify(up, deliveries, relay.dropped, c)
    except Exception as e:  # a crashed run is a failed run, with its cause
        c.check(False, "soak ran to the end", f"{type(e).__name__}: {e}")
    finally:
        STOP.set()
        procs.stop_all()
        if KEEP or c.failed:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed or not c.passed else 0


if __name__ == "__main__":
    sys.exit(main())
