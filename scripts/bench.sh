#!/usr/bin/env bash
# The side-by-side benchmark (docs/benchmarks.md, "Side by side with nginx"): one run, interleaved
# rounds, the same load generator (wrk + Lua) against
#   - the upstream stub directly (nginx answering static JSON of the right shapes),
#   - an nginx reverse proxy in front of the stub (2 workers, keep-alive upstream): the reference hop,
#   - this service proxying GET /v1/headless/journeys/{id}/state to the same stub (100 partner users
#     with primed sessions, one journey each),
#   - nginx answering a static 200 to webhook deliveries: the reference receiver,
#   - this service receiving signed journey.snapshot deliveries: unique events (verified,
#     de-duplicated, stored in Redis before the 200) and duplicates of stored ones.
# Prints one table (medians, min..max, p50/p99, both ratios, the service's CPU µs per request and
# peak RSS) and writes the same as JSON (target/bench/bench.json).
#
#   scripts/bench.sh                         # ROUNDS=3 DURATION=5 CONNECTIONS=64 THREADS=2
#   ROUNDS=5 DURATION=8 scripts/bench.sh
#   PERF_OUT=target/bench/perf scripts/bench.sh   # also `perf record` the service's first-round runs
#
# Loopback only; every stage runs under `timeout`; about 2-3 minutes once the release build is
# done. Installs nginx-light, wrk and redis-server with apt-get when missing. Uses its own
# redis-server on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
USERS=${USERS:-100}
# Unique webhook events generated per wrk thread and round (more than a run can send).
EVENTS_PER_THREAD=${EVENTS_PER_THREAD:-40000}
OUT=${OUT:-target/bench/bench.json}

need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need wrk || missing+=(wrk)
need redis-server || missing+=(redis-server)
need nginx || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  timeout 300 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 300 $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in curl python3; do need "$t" || { echo "$t is required (apt-get install $t)"; exit 1; }; done

# BFF_BIN=path: benchmark an already built binary instead of building one.
if [ -n "${BFF_BIN:-}" ]; then
  BIN=$BFF_BIN
else
  echo "==> cargo build --release"
  timeout 1800 cargo build --release -q --bin aarthik-bff
  BIN=target/release/aarthik-bff
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_up() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "$1 did not come up"; exit 1; }

rport=$(free_port); sport=$(free_port); wport=$(free_port); nport=$(free_port); bport=$(free_port)
SECRET="whsec_bench_$(date +%s)"

# --- Redis ------------------------------------------------------------------------------------
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
redis_pid=$!; pids+=("$redis_pid")
for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

# --- nginx: the stub (static JSON) and the static-200 webhook reference -------------------------
# The state answer names the journey of its path, so each user is linked to its own journey.
common_http='access_log off; default_type application/json; keepalive_requests 1000000;
  keepalive_timeout 120s; client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi; uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;'
mkdir -p "$work/stub/tmp" "$work/proxy/tmp" "$work/stub/logs" "$work/proxy/logs"
cat >"$work/stub/nginx.conf" <<EOF
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
  $common_http
  server {
    listen 127.0.0.1:$sport;
    location = /api/v1/headless/sessions {
      return 200 '{"requestID":"req_stub","timestamp":"2026-04-02T09:16:10.000Z","data":{"borrowerID":"b_stub","borrowerExternalID":"stub","sessionToken":"st_stub_session_token","refreshToken":"rt_stub_refresh_token","sessionExpiresAt":"2099-01-01T00:00:00.000Z","refreshExpiresAt":"2099-01-08T00:00:00.000Z"}}';
    }
    location ~ ^(?:/api)?/v1/headless/journeys/([A-Za-z0-9_-]+)/state\$ {
      return 200 '{"requestID":"req_stub","timestamp":"2026-04-02T09:16:10.000Z","data":{"journeyID":"\$1","type":"PERSONAL_LOAN","status":"OFFERS_AVAILABLE","nextAction":"VIEW_OFFERS","updatedAt":"2026-04-02T09:16:10.000Z"}}';
    }
    location / { return 404 '{"requestID":"req_stub","error":{"code":"NOT_FOUND","message":"stub","retryable":false,"details":{}}}'; }
  }
  server {
    listen 127.0.0.1:$wport;
    location = /v1/webhooks/aarthik { return 200 '{"data":{"eventID":"evt_static","outcome":"stored"}}'; }
  }
}
EOF
cat >"$work/proxy/nginx.conf" <<EOF
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 4096; }
http {
  $common_http
  upstream stub { server 127.0.0.1:$sport; keepalive 128; }
  server {
    listen 127.0.0.1:$nport;
    location / { proxy_pass http://stub; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
timeout 600 "$NGINX" -p "$work/stub" -c nginx.conf -g 'daemon off;' 2>"$work/stub/logs/stderr" &
pids+=("$!")
timeout 600 "$NGINX" -p "$work/proxy" -c nginx.conf -g 'daemon off;' 2>"$work/proxy/logs/stderr" &
pids+=("$!")
wait_up "http://127.0.0.1:$sport/"
wait_up "http://127.0.0.1:$nport/"

# --- this service -----------------------------------------------------------------------------
# JSON access lines (as in production), one per request, written to a file.
BFF__SERVER__PORT=$bport BFF__STORE__REDIS_URL="redis://127.0.0.1:$rport" BFF__STORE__KEY_PREFIX="bench:" \
  BFF__UPSTREAM__BASE_URL="http://127.0.0.1:$sport" BFF__WEBHOOK__SECRETS="$SECRET" \
  BFF__TELEMETRY__FORMAT=json RUST_LOG="${BFF_RUST_LOG:-info}" \
  timeout 900 "$BIN" serve >"$work/bff.log" 2>&1 &
bff_pid=$!; pids+=("$bff_pid")
wait_up "http://127.0.0.1:$bport/healthz"
# `timeout` is the child we started; the service is its child.
svc_pid=$(pgrep -P "$bff_pid" | head -1); svc_pid=${svc_pid:-$bff_pid}

# --- requests: one partner JWT and journey per user; sessions primed through the service ------
echo "==> $USERS users: JWTs, sessions primed"
: >"$work/proxy.reqs"
for i in $(seq 1 "$USERS"); do
  jwt=$("$BIN" token --sub "bench-u$i" --ttl 3600)
  echo "$jwt /v1/headless/journeys/bench-j$i/state" >>"$work/proxy.reqs"
done
timeout 60 python3 - "$work/proxy.reqs" "$bport" <<'PY'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=10)
for line in open(sys.argv[1]):
    jwt, path = line.split()
    conn.request("GET", path, headers={"Authorization": "Bearer " + jwt})
    r = conn.getresponse(); body = r.read()
    if r.status != 200:
        sys.exit(f"priming {path}: {r.status} {body[:300]!r}")
PY

cat >"$work/proxy.lua" <<'LUA'
local reqs = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do
    local jwt, path = line:match("^(%S+) (%S+)$")
    reqs[#reqs + 1] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. jwt })
  end
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA
cat >"$work/webhook.lua" <<'LUA'
-- Cycles pre-signed deliveries, one file per wrk thread (`<file>.<thread>`); counts wrap-arounds.
local threads, n = {}, 0
setup = function(thread)
  thread:set("tid", n); n = n + 1
  table.insert(threads, thread)
end
init = function(args)
  f = assert(io.open(args[1] .. "." .. tid, "r"))
  wrapped = 0
end
request = function()
  local line = f:read("*l")
  if not line then
    wrapped = wrapped + 1
    f:seek("set")
    line = f:read("*l")
  end
  local id, ts, sig, body = line:match("^(%S+)\t(%S+)\t(%S+)\t(.*)$")
  return wrk.format("POST", "/v1/webhooks/aarthik", {
    ["Content-Type"] = "application/json", ["X-AL-Event-ID"] = id,
    ["X-AL-Webhook-Timestamp"] = ts, ["X-AL-Webhook-Signature"] = sig }, body)
end
LUA
for lua in proxy webhook; do
  cat >>"$work/$lua.lua" <<'LUA'
done = function(summary, latency, requests)
  local w = 0
  if threads then for _, t in ipairs(threads) do w = w + (t:get("wrapped") or 0) end end
  io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d wrapped=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, w))
end
LUA
done

# Signed deliveries: `events <prefix> <count per thread> <first sequence>` writes one file per wrk
# thread; every event is new, for one of 1000 journeys of the USERS users.
events() {
  timeout 120 python3 - "$1" "$2" "$3" "$THREADS" "$SECRET" "$USERS" <<'PY'
import hmac, hashlib, json, sys, time, uuid
prefix, count, seq, threads, secret, users = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].encode(), int(sys.argv[6])
ts = str(int(time.time()))
run = uuid.uuid4().hex[:12]
for t in range(threads):
    with open(f"{prefix}.{t}", "w") as f:
        for k in range(count):
            n = seq + k * threads + t
            j = n % 1000
            eid = f"evt_{run}_{t}_{k}"
            body = json.dumps({
                "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": eid,
                "event_at": "2026-04-02T09:16:10.000Z", "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
                "sequence": n,
                "issuer": {"source": "credit-api", "trigger": "journey.offer.updated"},
                "tenant_id": "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9",
                "application_id": "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b",
                "origin_experience": "API", "current_experience_surface": "API",
                "borrower": {"borrowerExternalID": f"bench-u{j % users + 1}",
                    "journeys": [{"journeyID": f"bench-wj{j}", "type": "PERSONAL_LOAN",
                                  "status": "OFFERS_AVAILABLE", "nextAction": "VIEW_OFFERS"}]}},
                separators=(",", ":"))
            sig = hmac.new(secret, (ts + "." + body).encode(), hashlib.sha256).hexdigest()
            f.write(f"{eid}\t{ts}\t{sig}\t{body}\n")
PY
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
# run <name> <port> <lua> <arg> <duration>: one wrk run; prints its RESULT line plus the service's CPU ticks.
run() {
  local b0 name=$1 perf_pid=""
  b0=$(ticks "$svc_pid")
  # PERF_OUT=dir: profile the service during the first round's runs (slows those runs down).
  if [ -n "${PERF_OUT:-}" ] && [[ $name == bff-* ]] && [ ! -e "$PERF_OUT/$name.data" ]; then
    mkdir -p "$PERF_OUT"
    perf record -F 499 --call-graph "${PERF_CALLGRAPH:-dwarf,16384}" -p "$svc_pid" -o "$PERF_OUT/$name.data" -- sleep "$5" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  timeout $(( $5 + 30 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$5s" --latency -s "$3" \
    "http://127.0.0.1:$2" -- "$4" >"$work/$name.txt" 2>&1 || true
  [ -z "$perf_pid" ] || wait "$perf_pid" || true
  local line
  line=$(grep '^RESULT' "$work/$name.txt" | sed 's/^RESULT //') || true
  [ -n "$line" ] || { echo "wrk $name failed:" >&2; cat "$work/$name.txt" >&2; exit 1; }
  echo "target=$name $line bff_ticks=$(( $(ticks "$svc_pid") - b0 ))"
}

seq_next=1
echo "==> warm-up (and the stored events the duplicate runs repeat)"
events "$work/dup" 500 "$seq_next"; seq_next=$(( seq_next + 500 * THREADS ))
run warm-stub "$sport" "$work/proxy.lua" "$work/proxy.reqs" 2 >/dev/null
run warm-nginx "$nport" "$work/proxy.lua" "$work/proxy.reqs" 2 >/dev/null
run warm-bff "$bport" "$work/proxy.lua" "$work/proxy.reqs" 2 >/dev/null
run warm-webhook "$bport" "$work/webhook.lua" "$work/dup" 3 >/dev/null

results="$work/results.txt"; : >"$results"
for r in $(seq 1 "$ROUNDS"); do
  echo "==> round $r/$ROUNDS: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s per target"
  events "$work/uniq$r" "$EVENTS_PER_THREAD" "$seq_next"; seq_next=$(( seq_next + EVENTS_PER_THREAD * THREADS ))
  {
    run stub "$sport" "$work/proxy.lua" "$work/proxy.reqs" "$DURATION"
    run nginx-proxy "$nport" "$work/proxy.lua" "$work/proxy.reqs" "$DURATION"
    run bff-proxy "$bport" "$work/proxy.lua" "$work/proxy.reqs" "$DURATION"
    run nginx-static200 "$wport" "$work/webhook.lua" "$work/dup" "$DURATION"
    run bff-webhook-unique "$bport" "$work/webhook.lua" "$work/uniq$r" "$DURATION"
    run bff-webhook-duplicate "$bport" "$work/webhook.lua" "$work/dup" "$DURATION"
  } | tee -a "$results" | sed 's/^/   /'
  rm -f "$work/uniq$r".*
done
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$svc_pid/status")
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
log_lines=$(wc -l <"$work/bff.log")

mkdir -p "$(dirname "$OUT")"
timeout 30 python3 - "$results" "$OUT" "$HZ" "$hwm_kb" "$loadavg" "$log_lines" \
  "$ROUNDS" "$DURATION" "$CONNECTIONS" "$THREADS" "$USERS" <<'PY'
import json, statistics, sys
path, out, hz, hwm_kb, loadavg, log_lines = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
rounds, duration, conns, threads, users = (int(a) for a in sys.argv[7:12])
runs = {}
for line in open(path):
    kv = dict(p.split("=", 1) for p in line.split())
    name = kv.pop("target")
    runs.setdefault(name, []).append({k: float(v) for k, v in kv.items()})
order = ["stub", "nginx-proxy", "bff-proxy", "nginx-static200", "bff-webhook-unique", "bff-webhook-duplicate"]
med = lambda xs: statistics.median(xs) if xs else 0.0
summary = {}
for name in order:
    rs = runs.get(name, [])
    rps = [r["rps"] for r in rs]
    s = {"rounds": len(rs), "rps_median": med(rps), "rps_min": min(rps, default=0), "rps_max": max(rps, default=0),
         "p50_ms_median": med([r["p50_us"] / 1000 for r in rs]),
         "p99_ms_median": med([r["p99_us"] / 1000 for r in rs]),
         "errors": int(sum(r["errors"] + r["non2xx"] for r in rs)),
         "wrapped": int(sum(r["wrapped"] for r in rs))}
    if name.startswith("bff"):
        s["cpu_us_per_request_median"] = med([r["bff_ticks"] / hz * 1e6 / r["requests"] for r in rs if r["requests"]])
    summary[name] = s
def ratio(a, b):
    per = [x["rps"] / y["rps"] for x, y in zip(runs.get(a, []), runs.get(b, [])) if y["rps"]]
    return {"median": med(per), "min": min(per, default=0), "max": max(per, default=0)}
ratios = {
    "proxy_vs_nginx_proxy": ratio("bff-proxy", "nginx-proxy"),
    "webhook_unique_vs_nginx_static200": ratio("bff-webhook-unique", "nginx-static200"),
    "webhook_duplicate_vs_nginx_static200": ratio("bff-webhook-duplicate", "nginx-static200"),
}
p50_gap = summary["bff-proxy"]["p50_ms_median"] - summary["nginx-proxy"]["p50_ms_median"]
goals = {
    "proxy_ratio_ge_0_8": ratios["proxy_vs_nginx_proxy"]["median"] >= 0.8,
    "proxy_p50_within_0_3ms": p50_gap <= 0.3,
    "webhook_ratio_ge_0_35": ratios["webhook_unique_vs_nginx_static200"]["median"] >= 0.35,
    "duplicates_at_least_as_fast": summary["bff-webhook-duplicate"]["rps_median"] >= summary["bff-webhook-unique"]["rps_median"],
    "peak_rss_le_50mib": hwm_kb <= 50 * 1024,
}
doc = {"config": {"rounds": rounds, "duration_s": duration, "connections": conns, "wrk_threads": threads, "users": users,
                  "loadavg_after": loadavg},
       "targets": summary, "ratios": ratios, "proxy_p50_gap_ms": p50_gap,
       "bff_peak_rss_mib": hwm_kb / 1024, "bff_log_lines": log_lines, "goals": goals}
json.dump(doc, open(out, "w"), indent=2)
print()
print(f"wrk -t{threads} -c{conns} -d{duration}s, {rounds} interleaved rounds (medians; min..max over rounds)")
print()
print("| target | req/s median | min..max | p50 | p99 | service CPU µs/req | errors |")
print("|---|---|---|---|---|---|---|")
for name in order:
    s = summary[name]
    cpu = f"{s['cpu_us_per_request_median']:.0f}" if "cpu_us_per_request_median" in s else "–"
    print(f"| {name} | {s['rps_median']:,.0f} | {s['rps_min']:,.0f}..{s['rps_max']:,.0f} | {s['p50_ms_median']:.2f} ms "
          f"| {s['p99_ms_median']:.2f} ms | {cpu} | {s['errors']} |")
print()
r = ratios["proxy_vs_nginx_proxy"]
print(f"proxy: {r['median']:.2f}x nginx proxy_pass ({r['min']:.2f}..{r['max']:.2f}); p50 gap {p50_gap:+.2f} ms "
      f"(goals >= 0.8x: {'met' if goals['proxy_ratio_ge_0_8'] else 'NOT met'}, <= 0.3 ms: {'met' if goals['proxy_p50_within_0_3ms'] else 'NOT met'})")
r = ratios["webhook_unique_vs_nginx_static200"]
print(f"webhooks, unique: {r['median']:.2f}x nginx static 200 ({r['min']:.2f}..{r['max']:.2f}) "
      f"(goal >= 0.35x: {'met' if goals['webhook_ratio_ge_0_35'] else 'NOT met'})")
r = ratios["webhook_duplicate_vs_nginx_static200"]
print(f"webhooks, duplicates: {r['median']:.2f}x ({r['min']:.2f}..{r['max']:.2f}) "
      f"(at least as fast as unique: {'yes' if goals['duplicates_at_least_as_fast'] else 'NO'})")
print(f"service peak RSS (VmHWM): {hwm_kb / 1024:.1f} MiB (goal <= 50 MiB: {'met' if goals['peak_rss_le_50mib'] else 'NOT met'}); "
      f"{log_lines} log lines; load average after: {loadavg}")
if summary["bff-webhook-unique"]["wrapped"]:
    print("WARNING: the unique-event files ran out (raise EVENTS_PER_THREAD): some 'unique' events were repeats")
errs = sum(s["errors"] for s in summary.values())
if errs:
    print(f"WARNING: {errs} errors or non-2xx answers (see the wrk output)")
print(f"JSON: {out}")
PY
