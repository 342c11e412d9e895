#!/usr/bin/env python3
"""Re-run the security review's reproductions (docs/security.md) against a release binary.

Usage: attack_repro.py BINARY REDIS_SERVER   (scripts/attack-repro.sh builds and calls it)

Starts, all on loopback: a redis-server of its own, the upstream simulator (`BINARY sandbox`), the
BFF against it (instance A, Redis store, text logs), a hostile stand-in upstream (below, in this
process), and a second BFF against the stand-in (instance B, in-memory store). Prints one line per
finding, `finding N: <what> — before (from the issue) … now …`, then `N passed, M failed`.
Standard library only.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEV_HS256 = "dev-only-hs256-secret-not-for-production-0123456789"
DEV_WEBHOOK_SECRET = "whsec_dev_sandbox_secret"
DEV_OPS = "dev-ops-token"
ISSUER, AUDIENCE = "https://partner.example", "aarthik-bff"
TENANT_ID = "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9"
APPLICATION_ID = "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b"
STREAM_MAX_SECS = 10
WEBHOOK_READ_TIMEOUT_MS = 3000

results = []  # (passed, line)
procs = []


def report(n, what, before, now, ok):
    line = f"finding {n}: {what} — before (from the issue) {before}; now {now}"
    results.append((ok, line))
    print(("PASS " if ok else "FAIL ") + line, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def mem(pid):
    """(VmRSS, VmHWM) in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


def call(port, method, path, headers=None, body=None, timeout=30):
    """(status, headers dict lowercased, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(sub, secret=DEV_HS256, **claims):
    now = int(time.time())
    body = {"sub": sub, "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64u(json.dumps(body).encode())
    sig = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64u(sig)}"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def wait_http(port, path, secs=30):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            if call(port, "GET", path, timeout=2)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def start(args, env, log):
    full = {k: v for k, v in os.environ.items() if not k.startswith("BFF")}
    full.update(env)
    p = subprocess.Popen(args, env=full, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()


# ---------------------------------------------------------------- the hostile stand-in upstream

standin_calls = {}
standin_lock = threading.Lock()
BIG = b"x" * (50 * 1024 * 1024)


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except OSError:
                pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path = self.path.split("?")[0]
        with standin_lock:
            standin_calls[(self.command, path)] = standin_calls.get((self.command, path), 0) + 1
        now = time.time()
        stamp = lambda s: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + s))
        if path.startswith("/api/v1/headless/sessions"):
            data = {"borrowerID": "b-standin", "borrowerExternalID": "standin",
                    "sessionToken": "hst_" + uuid.uuid4().hex, "refreshToken": "hrt_" + uuid.uuid4().hex,
                    "sessionExpiresAt": stamp(3600), "refreshExpiresAt": stamp(86400),
                    "activeJourney": None}
            env = {"requestID": str(uuid.uuid4()), "correlationID": None, "timestamp": stamp(0),
                   "data": data, "error": None}
            return self.answer(200, json.dumps(env).encode())
        if path == "/api/v1/headless/big":
            return self.answer(200, BIG, "application/octet-stream")
        if path == "/api/v1/headless/crash":
            return self.answer(500, b"<pre>Traceback (most recent call last):\n  db at 10.1.2.3:5432 "
                                    b"refused</pre>", "text/html")
        if path == "/api/v1/headless/elsewhere":
            return self.answer(302, b"", extra=[("Location", "http://10.0.0.7:8080/internal/admin")])
        if path == "/api/v1/headless/moved":
            host = self.headers.get("Host")
            return self.answer(201, b'{"data":{"journeyID":"j-9"}}', extra=[
                ("Location", f"http://{host}/api/v1/headless/journeys/j-9"),
                ("Cache-Control", "public, max-age=3600")])
        return self.answer(404, b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


# ---------------------------------------------------------------- the reproductions


def f1_metrics(a):
    rss0, _ = mem(a.pid)
    m0 = len(call(a.port, "GET", "/metrics")[2])
    statuses = {}
    lock = threading.Lock()

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
        seen = {}
        for i in range(5000):
            method = "X" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(10))
            try:
                c.request(method, "/v1/headless/journeys")
                r = c.getresponse()
                r.read()
                seen[r.status] = seen.get(r.status, 0) + 1
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
                seen["error"] = seen.get("error", 0) + 1
        with lock:
            for k2, v in seen.items():
                statuses[k2] = statuses.get(k2, 0) + v

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    secs = time.time() - t0
    rss1, hwm = mem(a.pid)
    m1 = len(call(a.port, "GET", "/metrics")[2])
    ok = statuses.get(405, 0) == 20000 and m1 - m0 < 4096 and rss1 - rss0 < 20
    report(1, "metrics cardinality, 20,000 requests with made-up methods",
           "RSS 12 MB -> 56 MB, /metrics 20 KB -> 67 MB",
           f"{statuses} in {secs:.1f} s; RSS {rss0:.1f} MB -> {rss1:.1f} MB (peak {hwm:.1f} MB), "
           f"/metrics {m0 / 1024:.1f} KB -> {m1 / 1024:.1f} KB", ok)


def f2_webhook(a):
    rss0, hwm0 = mem(a.pid)
    n, announce, sent = 200, 1024 * 1024, 64 * 1024
    answers = [None] * n
    socks = []
    t0 = time.time()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=30)
        head = ("POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {announce}\r\nX-AL-Event-ID: evt_{uuid.uuid4().hex}\r\n"
                f"X-AL-Webhook-Timestamp: {int(time.time())}\r\n"
                f"X-AL-Webhook-Signature: {'a' * 64}\r\n\r\n")
        s.sendall(head.encode())
        s.setblocking(False)
        try:
            s.send(b"{" + b" " * (sent - 1))
        except BlockingIOError:
            pass
        s.setblocking(True)
        socks.append(s)

    def wait(i, s):
        try:
            data = s.recv(4096)
            code = int(data.split()[1]) if data else None
            answers[i] = (code, time.time() - t0)
        except (OSError, ValueError, IndexError):
            answers[i] = (None, time.time() - t0)

    ts = [threading.Thread(target=wait, args=(i, s)) for i, s in enumerate(socks)]
    [t.start() for t in ts]
    time.sleep(1)
    h0 = time.time()
    health = call(a.port, "GET", "/healthz", timeout=5)[0]
    health_ms = (time.time() - h0) * 1000
    _, hwm_during = mem(a.pid)
    [t.join(timeout=30) for t in ts]
    for s in socks:
        s.close()
    rss1, hwm1 = mem(a.pid)
    codes = {}
    for a_ in answers:
        k = a_[0] if a_ else "none"
        codes[k] = codes.get(k, 0) + 1
    slowest = max((x[1] for x in answers if x and x[0]), default=float("inf"))
    ok = all(x and x[0] in (408, 429) for x in answers) and slowest < WEBHOOK_READ_TIMEOUT_MS / 1000 + 3 \
        and hwm1 - rss0 < 64 and health == 200
    report(2, "200 stalled webhook connections announcing 1 MiB (64 KiB sent, then silence)",
           "RSS 112 MB -> 329 MB, a stalled connection never answered",
           f"answers {codes} (read timeout {WEBHOOK_READ_TIMEOUT_MS} ms), every one within {slowest:.1f} s; "
           f"/healthz meanwhile {health} in {health_ms:.0f} ms; RSS {rss0:.1f} MB -> {rss1:.1f} MB "
           f"(peak {max(hwm_during, hwm1):.1f} MB)", ok)


def f3_big_answer(b):
    tok = bearer(jwt("big-user"))
    call(b.port, "POST", "/v1/session", tok)
    rss0, hwm0 = mem(b.pid)
    t0 = time.time()
    st, _, body = call(b.port, "GET", "/v1/headless/big", tok)
    secs = time.time() - t0
    code = json.loads(body)["error"]["code"] if st == 502 else body[:60]
    replays = []
    for _ in range(2):
        s2, h2, b2 = call(b.port, "POST", "/v1/headless/big", {**tok, "Idempotency-Key": "big-1"}, {})
        replays.append((s2, h2.get("idempotent-replayed")))
    rss1, hwm1 = mem(b.pid)
    posts = standin_calls.get(("POST", "/api/v1/headless/big"), 0)
    ok = st == 502 and code == "UPSTREAM_RESPONSE_TOO_LARGE" and posts == 2 \
        and all(r == (502, None) for r in replays) and hwm1 - rss0 < 40
    report(3, "50 MB upstream answer",
           "buffered whole and stored for replay 24 h, RSS 259 MB",
           f"GET {st} {code} in {secs:.2f} s; keyed POST twice -> {[r[0] for r in replays]}, both reached "
           f"the upstream ({posts}), nothing replayed; RSS {rss0:.1f} MB -> {rss1:.1f} MB "
           f"(peak {hwm1:.1f} MB)", ok)


def sandbox_log(sb_port, prefix):
    st, _, body = call(sb_port, "GET", f"/__sandbox/requests?limit=10000&path_prefix={prefix}")
    return json.loads(body)["data"]["requests"]


def f4_methods(a, sb):
    tok = bearer(jwt("method-user"))
    call(a.port, "GET", "/v1/headless/journeys", tok)
    before = len(sandbox_log(sb, "/api/v1/headless/journeys"))
    got = {}
    for m in ("FOO", "TRACE", "PROPFIND"):
        got[m] = call(a.port, m, "/v1/headless/journeys", tok, b'{"x":1}')[0]
    after = len(sandbox_log(sb, "/api/v1/headless/journeys"))
    ok = all(v == 405 for v in got.values()) and after == before
    report(4, "methods FOO/TRACE/PROPFIND with a body",
           "proxied to the upstream with the body and no idempotency",
           f"{got}; upstream calls {after - before}", ok)


def f5_401_loop(a, sb):
    tok = bearer(jwt("loop-user"))
    assert call(a.port, "GET", "/v1/headless/journeys", tok)[0] == 200
    call(sb, "POST", "/__sandbox/faults", body={"failNext": {
        "count": 1000, "status": 401, "pathPrefix": "/api/v1/headless/journeys/always-401"}})
    before = len(sandbox_log(sb, "/api/v1/headless/sessions"))
    codes = {}
    for _ in range(35):
        st, _, body = call(a.port, "GET", "/v1/headless/journeys/always-401/state", tok)
        code = f"{st} {json.loads(body)['error']['code']}" if body else str(st)
        codes[code] = codes.get(code, 0) + 1
    sessions = len(sandbox_log(sb, "/api/v1/headless/sessions")) - before
    call(sb, "DELETE", "/__sandbox/faults")
    after = call(a.port, "GET", "/v1/headless/journeys", tok)[0]
    ok = sessions <= 1 and after == 200 and codes == {"502 UPSTREAM_AUTH_FAILED": 35}
    report(5, "35 calls to a path the upstream always answers 401",
           "30 session calls, then the user locked out with 429 for a minute",
           f"{codes}; {sessions} session call(s); the user's next call {after}", ok)


def f6_ownership(a, sb):
    owner, other = bearer(jwt("owner-user")), bearer(jwt("other-user"))
    st, _, body = call(a.port, "POST", "/v1/headless/journeys",
                       {**owner, "Idempotency-Key": str(uuid.uuid4())}, {"type": "PERSONAL_LOAN"})
    jid = json.loads(body)["data"]["journeyID"]
    call(a.port, "GET", "/v1/headless/journeys", other)
    count = lambda: sum(1 for r in sandbox_log(sb, "/api/v1/headless/journeys/")
                        if jid.lower() in r["path"].lower().replace("%20", ""))
    before = count()
    got = {}
    for label, path in (("upper case", f"/v1/headless/journeys/{jid.upper()}/state"),
                        ("%20 appended", f"/v1/headless/journeys/{jid}%20/state"),
                        ("upper + %20", f"/v1/headless/journeys/{jid.upper()}%20/state")):
        got[label] = call(a.port, "GET", path, other)[0]
    forwarded = count() - before
    ok = all(v in (400, 404) for v in got.values()) and forwarded == 0 and st in (200, 201)
    report(6, "another user's journey id spelled differently",
           "forwarded to the upstream (its own check stopped it)",
           f"{got}; forwarded {forwarded}", ok)


def f7_jwt(a):
    now = int(time.time())
    cases = {
        "nbf a year ahead": jwt("jwt-user", nbf=now + 365 * 86400),
        "exp 100 years ahead": jwt("jwt-user", exp=now + 100 * 365 * 86400),
        "wrong aud": jwt("jwt-user", aud="someone-else"),
        "wrong iss": jwt("jwt-user", iss="https://evil.example"),
        "no aud/iss": jwt("jwt-user", aud=None, iss=None),
    }
    got, messages = {}, set()
    for label, t in cases.items():
        st, _, body = call(a.port, "POST", "/v1/session", bearer(t))
        got[label] = st
        messages.add(json.loads(body)["error"]["message"] if st == 401 else "")
    good = call(a.port, "POST", "/v1/session", bearer(jwt("jwt-user")))[0]
    ok = all(v == 401 for v in got.values()) and len(messages) == 1 and good == 200
    report(7, "JWT nbf/exp/aud/iss (issuer and audience configured)",
           "nbf a year ahead, exp 100 years ahead, any aud/iss accepted; messages named the reason",
           f"{got}; {len(messages)} distinct refusal message(s) ({sorted(messages)[0]!r}); a correct token {good}",
           ok)


def redis_calls(rport, redis_cli):
    out = subprocess.run([redis_cli, "-p", str(rport), "INFO", "commandstats"],
                         capture_output=True, text=True, timeout=10).stdout
    total = 0
    for m in re.finditer(r"^cmdstat_(\w+):calls=(\d+)", out, re.M):
        if m.group(1) not in ("info",):
            total += int(m.group(2))
    return total


def f8_streams(a, rport, redis_cli):
    def rate(secs=5):
        c0 = redis_calls(rport, redis_cli)
        time.sleep(secs)
        return (redis_calls(rport, redis_cli) - c0) / secs

    idle = rate()
    socks, codes = [], {}
    t0 = time.time()
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        s.sendall(f"GET /v1/ops/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEV_OPS}\r\n"
                  "Accept: text/event-stream\r\n\r\n".encode())
        socks.append(s)
    for s in socks:
        try:
            code = int(s.recv(4096).split()[1])
        except (OSError, ValueError, IndexError):
            code = None
        codes[code] = codes.get(code, 0) + 1
    rss = mem(a.pid)[0]
    busy = rate()
    open_ = [s for s in socks]
    # Streams end at ops.stream_max_secs (the client then resumes).
    ended = 0
    deadline = t0 + STREAM_MAX_SECS + 8
    for s in open_:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    ended += 1
                    break
                if d.endswith(b"0\r\n\r\n"):
                    ended += 1
                    break
        except OSError:
            pass
        s.close()
    served = codes.get(200, 0)
    ok = served <= 100 and codes.get(503, 0) == 300 - served and busy < 100 and ended == 300
    report(8, "300 ops event streams (SSE)",
           "no cap; ~1,260 Redis reads/s",
           f"{codes} (ops.max_streams 100); Redis commands/s idle {idle:.1f}, with the streams open "
           f"{busy:.1f}; RSS {rss:.1f} MB; {ended}/300 connections ended within "
           f"ops.stream_max_secs={STREAM_MAX_SECS} s + 8 s", ok)


def f9_internals(b):
    tok = bearer(jwt("leak-user"))
    st, h, body = call(b.port, "GET", "/v1/headless/crash", tok)
    leaked = any(x in body for x in (b"10.1.2.3", b"Traceback"))
    code = json.loads(body)["error"]["code"] if body.startswith(b"{") else body[:40]
    posts = []
    for _ in range(2):
        posts.append(call(b.port, "POST", "/v1/headless/crash", {**tok, "Idempotency-Key": "crash-1"}, {})[0])
    reached = standin_calls.get(("POST", "/api/v1/headless/crash"), 0)
    st2, h2, _ = call(b.port, "GET", "/v1/headless/elsewhere", tok)
    st3, h3, _ = call(b.port, "GET", "/v1/headless/moved", tok)
    ok = st == 502 and code == "UPSTREAM_BAD_RESPONSE" and not leaked and reached == 2 \
        and "location" not in h2 and h3.get("location") == "/v1/headless/journeys/j-9" \
        and h3.get("cache-control") == "no-store" and h3.get("x-content-type-options") == "nosniff"
    report(9, "upstream internals (bare 5xx with an internal address, absolute Location, public caching)",
           "the 5xx body reached apps and was replayed 24 h; Location to an internal host and "
           "Cache-Control public passed through",
           f"5xx -> {st} {code}, internals in body: {leaked}; keyed retry reached the upstream again "
           f"({reached} calls, {posts}); foreign Location on {st2}: {h2.get('location')}; own-origin "
           f"Location -> {h3.get('location')}; Cache-Control {h3.get('cache-control')!r}; "
           f"nosniff {h3.get('x-content-type-options')!r}", ok)


def f10_log_injection(a, log_path):
    forged = "x\n2026-01-01T00:00:00.000000Z  INFO FORGED-LINE admin signed in \x1b]0;pwned\x07"
    st = call(a.port, "POST", "/v1/session", bearer(jwt("log-user")), {forged: 1})[0]
    deadline = time.time() + 5
    logs = b""
    while time.time() < deadline:
        logs = open(log_path, "rb").read()
        if b"FORGED-LINE" in logs:
            break
        time.sleep(0.2)
    text = logs.decode("utf-8", "replace")
    forged_lines = sum(1 for l in text.splitlines() if l.startswith("2026-01-01T00:00:00"))
    raw = "\x1b]0;pwned" in text or "\x07" in text
    ok = st == 400 and "FORGED-LINE" in text and forged_lines == 0 and not raw
    report(10, "log injection through a serde error (text log format)",
           "a forged log line with ANSI escapes",
           f"{st}; logged escaped: {'FORGED-LINE' in text}; forged lines {forged_lines}; "
           f"raw ESC/BEL in the log: {raw}", ok)


def f11_quota(a, sb):
    tok = bearer(jwt("quota-user"))
    puts = lambda: len([r for r in sandbox_log(sb, "/api/v1/headless/profile") if r["method"] == "PUT"])
    before = puts()
    first429, retry_after, code, codes, after429 = None, None, None, {}, []
    # The budget is per minute: when a minute boundary falls inside the run, the first 429 comes
    # later than call 121 (at most at call 241).
    for i in range(250):
        st, h, body = call(a.port, "PUT", "/v1/headless/profile",
                           {**tok, "Idempotency-Key": str(uuid.uuid4())}, {"fullName": "Q"})
        codes[st] = codes.get(st, 0) + 1
        if first429 is not None:
            after429.append(st)
            if len(after429) == 9:
                break
        elif st == 429:
            first429, retry_after = i + 1, h.get("retry-after")
            code = json.loads(body)["error"]["code"]
    reached = puts() - before
    ok = first429 is not None and first429 <= 241 and retry_after is not None \
        and code == "RATE_LIMITED" and all(x == 429 for x in after429) \
        and reached == first429 - 1
    report(11, "keyed mutating calls by one user beyond proxy.mutations_per_minute=120",
           "no per-user bound (each kept 24 h); the memory store unbounded",
           f"answers {codes}; the first 429 at call {first429} ({code}, Retry-After {retry_after}), "
           f"every later call 429; upstream calls {reached}", ok)


def f12_production(binary):
    good = {
        "BFF_ENV": "production", "BFF__UPSTREAM__BASE_URL": "https://api.example.com",
        "BFF__STORE__REDIS_URL": "redis://127.0.0.1:1", "BFF__UPSTREAM__API_KEY": "sk_live_abc",
        "BFF__AUTH__HS256_SECRET": "a-production-secret-of-enough-length-xx",
        "BFF__AUTH__ISSUER": ISSUER, "BFF__AUTH__AUDIENCE": AUDIENCE,
        "BFF__WEBHOOK__SECRETS": "whsec_live_0123456789abcdefghijklmnop",
        "BFF__OPS__TOKENS": "asha:ops-live-token-0123456789abcdefghijkl",
        "BFF__SESSION__ENCRYPTION_KEYS": "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "BFF__SERVER__PORT": str(free_port()),
    }
    cases = [("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9000", "upstream.base_url"),
             ("BFF__OPS__TOKENS", "asha:short-token", "ops.tokens"),
             ("BFF__WEB__COOKIE_NAME", "bff_session", "web.cookie_name"),
             ("BFF__AUTH__ISSUER", "", "auth.issuer"),
             ("BFF__AUTH__AUDIENCE", "", "auth.audience"),
             ("BFF__AUTH__HS256_SECRET", DEV_HS256, "auth.hs256_secret")]
    refused = []
    for key, value, named in cases:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BFF")}
        env.update(good)
        env[key] = value
        r = subprocess.run([binary, "serve"], env=env, capture_output=True, text=True, timeout=30)
        lines = r.stderr.strip().splitlines()
        if r.returncode != 0 and len(lines) == 1 and named in lines[0]:
            refused.append(named)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF")}
    env["BFF_ENV"] = "production"
    r = subprocess.run([binary, "serve"], env=env, capture_output=True, text=True, timeout=30)
    bare = r.returncode != 0
    here = os.path.dirname(os.path.abspath(__file__))
    pin = subprocess.run([os.path.join(here, "pin-images.sh"), "--check"], capture_output=True, text=True)
    kit = subprocess.run([sys.executable, os.path.join(here, "check_deploy_kit.py"), "dockerfile",
                          os.path.join(here, "..", "Dockerfile")], capture_output=True, text=True)
    docker_ok = kit.returncode == 0
    pinned = pin.returncode == 0
    ok = len(refused) == len(cases) and bare and docker_ok
    report(12, "production configuration refusals and the image",
           "http:// upstream, short ops tokens, a cookie without __Host- accepted; image unpinned, "
           "health check on a fixed port, dev secrets in the image",
           f"refused with one line naming the key: {len(refused)}/{len(cases)} ({', '.join(refused)}); "
           f"BFF_ENV=production with no secrets refuses to start: {bare}; Dockerfile checks "
           f"(no dev config, `aarthik-bff healthcheck`, no curl): {'pass' if docker_ok else 'FAIL'}; "
           f"base images pinned by digest: {'yes' if pinned else 'no (tags; a release runs scripts/pin-images.sh)'}",
           ok)


def sign(ts, body):
    return hmac.new(DEV_WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def f13_dead_letter(a, rport, redis_cli):
    event = "evt_" + uuid.uuid4().hex
    body = json.dumps({
        "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": event,
        "event_at": "2026-04-02T09:16:10.000Z", "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
        "sequence": 1, "issuer": {"source": "credit-api", "trigger": "journey.offer.updated"},
        "tenant_id": TENANT_ID, "application_id": APPLICATION_ID,
        "borrower": {"borrowerExternalID": "u-replay", "journeys": [
            {"journeyID": str(uuid.uuid4()), "status": "STARTED", "nextAction": "VIEW_OFFERS"}]},
    }).encode()
    ts = str(int(time.time()))

    def deliver(event_id):
        return call(a.port, "POST", "/v1/webhooks/aarthik", {
            "Content-Type": "application/json", "X-AL-Event-ID": event_id, "X-AL-Tenant-ID": TENANT_ID,
            "X-AL-Application-ID": APPLICATION_ID, "X-AL-Webhook-Timestamp": ts,
            "X-AL-Webhook-Signature": sign(ts, body)}, body)[0]

    ops = bearer(DEV_OPS)
    letters = lambda: json.loads(call(a.port, "GET", "/v1/ops/dead-letters", ops)[2])["data"]["deadLetters"]
    first = deliver("evt_wrong_1")
    mine = [l for l in letters() if l["headers"].get("x-al-event-id") == "evt_wrong_1"]
    # Ops fixes the event id in the stored letter, then re-drives it.
    key = "bff:wh:dead"
    raw = subprocess.run([redis_cli, "-p", str(rport), "HGET", key, mine[0]["id"]],
                         capture_output=True, text=True, timeout=10).stdout.strip()
    letter = json.loads(raw)
    letter["headers"]["x-al-event-id"] = event
    subprocess.run([redis_cli, "-p", str(rport), "HSET", key, mine[0]["id"], json.dumps(letter)],
                   capture_output=True, timeout=10)
    redrive = call(a.port, "POST", f"/v1/ops/dead-letters/{mine[0]['id']}/redrive", ops)[0]
    replay = deliver("evt_wrong_2")
    back = [l for l in letters() if l["id"] == mine[0]["id"]]
    ok = first == 400 and redrive == 200 and replay == 400 and not back
    report(13, "a captured delivery replayed with another wrong event id after its dead letter was re-driven",
           "the resolved dead letter was re-created",
           f"first delivery {first} (a dead letter), re-drive {redrive}, replay {replay}; "
           f"the letter back in the list: {bool(back)}", ok)


def rs256(sub, key_pem):
    now = int(time.time())
    head = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64u(json.dumps({"sub": sub, "iat": now, "exp": now + 600, "iss": ISSUER,
                               "aud": AUDIENCE}).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_pem, "-binary"],
                         input=f"{head}.{payload}".encode(), capture_output=True, check=True,
                         timeout=10).stdout
    return f"{head}.{payload}.{b64u(sig)}"


def f13_jwks(a, jwks_path, key_pem):
    """RS256 checks against a JWKS file: how often the file is touched (strace on the BFF)."""
    if not shutil.which("strace") or not shutil.which("openssl"):
        print("note finding 13 (JWKS): strace or openssl missing; not measured", flush=True)
        return
    tok = bearer(rs256("jwks-user", key_pem))
    if call(a.port, "POST", "/v1/session", tok)[0] != 200:
        raise RuntimeError("an RS256 token from the JWKS file was refused")
    trace = jwks_path + ".strace"
    st = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=%file", "-o", trace, "-p", str(a.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)
    if st.poll() is not None:
        print(f"note finding 13 (JWKS): strace cannot attach ({st.stderr.read().decode().strip()[:120]}); "
              "not measured", flush=True)
        return
    codes, lock = {}, threading.Lock()

    def worker():
        c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
        for _ in range(250):
            c.request("GET", "/v1/session", headers=tok)
            r = c.getresponse()
            r.read()
            with lock:
                codes[r.status] = codes.get(r.status, 0) + 1
        c.close()

    t0 = time.time()
    ts = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    secs = time.time() - t0
    time.sleep(0.5)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=10)
    name = os.path.basename(jwks_path)
    touches = sum(1 for line in open(trace, errors="replace") if name in line)
    ok = codes.get(200, 0) == 1000 and touches <= secs + 3
    report(13, "1,000 RS256 checks against a JWKS file (4 clients at once; strace counts file calls)",
           "the JWKS cache held a blocking mutex across file I/O on every RS256/ES256 check",
           f"answers {codes} in {secs:.1f} s; calls naming the JWKS file: {touches} "
           f"(at most one mtime look a second, outside any lock)", ok)


class Proc:
    def __init__(self, p, port):
        self.p, self.pid, self.port = p, p.pid, port


def main():
    binary, redis_server = sys.argv[1], sys.argv[2]
    redis_cli = os.path.join(os.path.dirname(redis_server), "redis-cli")
    if not os.path.exists(redis_cli):
        redis_cli = "redis-cli"
    work = tempfile.mkdtemp(prefix="attack-repro-")
    rport, sport, aport, bport, hport = (free_port() for _ in range(5))
    start([redis_server, "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
          {}, open(os.devnull, "w"))
    hostile = ThreadingHTTPServer(("127.0.0.1", hport), Hostile)
    threading.Thread(target=hostile.serve_forever, daemon=True).start()
    start([binary, "sandbox", "--port", str(sport),
           "--webhook-url", f"http://127.0.0.1:{aport}/v1/webhooks/aarthik"],
          {"RUST_LOG": "warn"}, open(os.path.join(work, "sandbox.log"), "w"))
    a_log = os.path.join(work, "bff-a.log")
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    jwks = os.path.join(work, "partner-jwks.json")
    shutil.copy(os.path.join(repo, "tests", "fixtures", "test-jwks.json"), jwks)
    key_pem = os.path.join(repo, "tests", "fixtures", "test-rs256.pem")
    a = Proc(start([binary, "serve"], {
        "BFF__SERVER__PORT": str(aport), "BFF__UPSTREAM__BASE_URL": f"http://127.0.0.1:{sport}",
        "BFF__STORE__REDIS_URL": f"redis://127.0.0.1:{rport}", "BFF__TELEMETRY__FORMAT": "pretty",
        "BFF__AUTH__ISSUER": ISSUER, "BFF__AUTH__AUDIENCE": AUDIENCE, "BFF__AUTH__JWKS_FILE": jwks,
        "BFF__WEBHOOK__READ_TIMEOUT_MS": str(WEBHOOK_READ_TIMEOUT_MS),
        "BFF__OPS__STREAM_MAX_SECS": str(STREAM_MAX_SECS), "RUST_LOG": "info",
    }, open(a_log, "w")), aport)
    b = Proc(start([binary, "serve"], {
        "BFF__SERVER__PORT": str(bport), "BFF__UPSTREAM__BASE_URL": f"http://127.0.0.1:{hport}",
        "BFF__TELEMETRY__FORMAT": "json", "RUST_LOG": "warn",
    }, open(os.path.join(work, "bff-b.log"), "w")), bport)
    for name, port, path in (("sandbox", sport, "/__sandbox/faults"), ("BFF A", aport, "/readyz"),
                             ("BFF B", bport, "/readyz")):
        if not wait_http(port, path):
            print(f"{name} did not start; logs in {work}", file=sys.stderr)
            return 2
    print(f"release binary {binary}; logs in {work}", flush=True)
    steps = [lambda: f1_metrics(a), lambda: f2_webhook(a), lambda: f3_big_answer(b),
             lambda: f4_methods(a, sport), lambda: f5_401_loop(a, sport), lambda: f6_ownership(a, sport),
             lambda: f7_jwt(a), lambda: f8_streams(a, rport, redis_cli), lambda: f9_internals(b),
             lambda: f10_log_injection(a, a_log), lambda: f11_quota(a, sport),
             lambda: f12_production(binary), lambda: f13_dead_letter(a, rport, redis_cli),
             lambda: f13_jwks(a, jwks, key_pem)]
    for n, step in enumerate(steps, 1):
        n = min(n, 13)
        try:
            step()
        except Exception as e:  # one broken reproduction must not hide the others
            results.append((False, f"finding {n}: the reproduction itself failed: {type(e).__name__}: {e}"))
            print(f"FAIL finding {n}: the reproduction itself failed: {type(e).__name__}: {e}", flush=True)
    hostile.shutdown()
    passed = sum(1 for ok, _ in results if ok)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_all()
