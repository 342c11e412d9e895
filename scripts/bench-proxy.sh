#!/usr/bin/env bash
# Proxy benchmark (docs/benchmarks.md "Proxy"): GET journey state through the BFF
# (/v1/headless/journeys/{id}/state, partner JWT) versus the same call straight to the sandbox
# (/api/v1/headless/journeys/{id}/state, session token), same tool, concurrency and duration, in one
# run — loaded (CONNECTIONS) and unloaded (one connection); the CPU each process spends per
# request; and the BFF's peak RSS. Everything is time-bounded
# and cleaned up on exit.
#
#   scripts/bench-proxy.sh                      # DURATION=15 CONNECTIONS=16 THREADS=1
#   DURATION=30 CONNECTIONS=64 scripts/bench-proxy.sh
#
# Needs: cargo, redis-server, wrk, curl, jq, python3 (wrk and redis-server are apt-get installed
# when missing). Builds with `cargo build --release` first (minutes on a small machine).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-3}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need redis-server; then
  echo "==> installing wrk / redis-server (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk redis-server >/dev/null
fi
for t in curl jq python3; do need "$t" || { echo "$t is required (apt-get install $t)"; exit 1; }; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
work=$(mktemp -d)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> cargo build --release"
timeout 1800 cargo build --release -q
BIN=target/release/aarthik-bff

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
sport=$(free_port)
"$BIN" sandbox --port "$sport" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
pids+=("$sandbox_pid")
wait_up() { for _ in $(seq 1 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "$1 did not come up"; exit 1; }
wait_up "http://127.0.0.1:$sport/__sandbox/faults"
for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

bport=$(free_port)
BFF__SERVER__PORT=$bport BFF__STORE__REDIS_URL="redis://127.0.0.1:$rport" BFF__STORE__KEY_PREFIX="bench:" \
  BFF__UPSTREAM__BASE_URL="http://127.0.0.1:$sport" RUST_LOG=warn "$BIN" serve >"$work/bff.log" 2>&1 &
bff_pid=$!
pids+=("$bff_pid")
wait_up "http://127.0.0.1:$bport/healthz"

# One session and one journey.
JWT=$("$BIN" token --sub bench-proxy-user --ttl 3600)
TOKEN=$(curl -fs -X POST "http://127.0.0.1:$bport/v1/session" -H "Authorization: Bearer $JWT" | jq -r .data.sessionToken)
JID=$(curl -fs -X POST "http://127.0.0.1:$bport/v1/headless/journeys" -H "Authorization: Bearer $JWT" \
  -H "Idempotency-Key: bench-journey-1" -H 'Content-Type: application/json' -d '{"type":"PERSONAL_LOAN"}' \
  | jq -r .data.journeyID)
[ -n "$JID" ] && [ "$JID" != null ] || { echo "could not create a journey"; cat "$work/bff.log"; exit 1; }
BFF_URL="http://127.0.0.1:$bport/v1/headless/journeys/$JID/state"
DIRECT_URL="http://127.0.0.1:$sport/api/v1/headless/journeys/$JID/state"
curl -fs "$BFF_URL" -H "Authorization: Bearer $JWT" | jq -c '.data | {journeyID, status}'

# wrk prints requests/s; this Lua adds one machine-readable line with p50/p99 (microseconds).
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA
# CPU time (clock ticks) a process has used so far: on a small shared machine throughput depends on
# whatever else runs, the CPU each process spends per request much less.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
run() { # name url bearer duration [connections]
  local b0 s0 r0 c=${5:-$CONNECTIONS}
  b0=$(ticks "$bff_pid"); s0=$(ticks "$sandbox_pid"); r0=$(ticks "$redis_pid")
  timeout $(( $4 + 30 )) wrk -t"$THREADS" -c"$c" -d"$4s" -s "$work/report.lua" \
    -H "Authorization: Bearer $3" "$2" >"$work/$1.txt"
  echo "$(grep '^RESULT' "$work/$1.txt" | sed 's/^RESULT //') bff_ticks=$(( $(ticks "$bff_pid") - b0 ))" \
    "sandbox_ticks=$(( $(ticks "$sandbox_pid") - s0 )) redis_ticks=$(( $(ticks "$redis_pid") - r0 ))"
}

echo "==> warm-up ${WARMUP}s each"
run warm-direct "$DIRECT_URL" "$TOKEN" "$WARMUP" >/dev/null
run warm-bff "$BFF_URL" "$JWT" "$WARMUP" >/dev/null

echo "==> loaded: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, direct to the sandbox, then through the BFF"
direct=$(run direct "$DIRECT_URL" "$TOKEN" "$DURATION"); echo "   direct: $direct"
bff=$(run bff "$BFF_URL" "$JWT" "$DURATION"); echo "   BFF:    $bff"
echo "==> unloaded: wrk -t1 -c1 -d${DURATION}s (latency of the hop without queueing)"
direct1=$(run direct1 "$DIRECT_URL" "$TOKEN" "$DURATION" 1); echo "   direct: $direct1"
bff1=$(run bff1 "$BFF_URL" "$JWT" "$DURATION" 1); echo "   BFF:    $bff1"
hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$bff_pid/status")
echo "   load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

python3 - "$direct" "$bff" "$direct1" "$bff1" "$hwm" "$CONNECTIONS" "$DURATION" "$THREADS" "$HZ" <<'PY'
import sys
def parse(line):
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split())}
d, b, d1, b1 = (parse(a) for a in sys.argv[1:5])
hwm, conns, dur, threads, hz = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8], float(sys.argv[9])
def cpu_us(r, who):
    return r[who + "_ticks"] / hz * 1e6 / r["requests"] if r["requests"] else 0
print()
print("| run | path | req/s | p50 | p99 | CPU µs/req: BFF · sandbox · Redis |")
print("|---|---|---|---|---|---|")
for run, name, r in ((f"-t{threads} -c{conns} -d{dur}s", "direct (sandbox)", d),
                     (f"-t{threads} -c{conns} -d{dur}s", "through the BFF", b),
                     (f"-t1 -c1 -d{dur}s", "direct (sandbox)", d1),
                     (f"-t1 -c1 -d{dur}s", "through the BFF", b1)):
    print(f"| {run} | {name} | {r['rps']:,.0f} | {r['p50_us']/1000:.2f} ms | {r['p99_us']/1000:.2f} ms | "
          f"{cpu_us(r, 'bff'):.0f} · {cpu_us(r, 'sandbox'):.0f} · {cpu_us(r, 'redis'):.0f} |")
print()
kept = 100 * b["rps"] / d["rps"] if d["rps"] else 0
added = (b["p50_us"] - d["p50_us"]) / 1000
added1 = (b1["p50_us"] - d1["p50_us"]) / 1000
print(f"-c{conns}: the hop adds {added:.2f} ms at p50 and keeps {kept:.0f}% of direct throughput "
      f"(goals: < 1 ms, >= 60%: {'met' if added < 1 else 'NOT met'}, {'met' if kept >= 60 else 'NOT met'})")
print(f"-c1: the hop adds {added1:.2f} ms at p50 ({'met' if added1 < 1 else 'NOT met'}); "
      f"BFF peak RSS (VmHWM) {hwm}")
PY
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
errs=0
for r in "$direct" "$bff" "$direct1" "$bff1"; do errs=$(( errs + $(field "$r" errors) + $(field "$r" non2xx) )); done
[ "$errs" -eq 0 ] || echo "warning: $errs errors or non-2xx answers during the runs (see wrk output)"
