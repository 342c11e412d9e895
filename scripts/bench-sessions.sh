#!/usr/bin/env bash
# Session benchmarks (docs/benchmarks.md, "Sessions"): cached POST /v1/session throughput and latency, and the
# 50-way refresh storm over 3 instances sharing one Redis. Every phase is bounded in time.
#   scripts/bench-sessions.sh            # DURATION=10 CONNECTIONS=32 by default
# Needs: redis-server, wrk, curl, jq (wrk/redis are apt-get installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need redis-server; then
  echo "==> installing wrk / redis-server (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk redis-server >/dev/null
fi
need jq || { echo "jq is required (apt-get install jq)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
work=$(mktemp -d)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "==> cargo build --release"
cargo build --release --locked -q
BIN=target/release/aarthik-bff

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
sport=$(free_port)
SANDBOX_PORT=$sport "$BIN" sandbox --port "$sport" >"$work/sandbox.log" 2>&1 &
pids+=($!)

wait_up() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "$1 did not come up"; exit 1; }
start_bff() { # port
  BFF__SERVER__PORT=$1 BFF__STORE__REDIS_URL="redis://127.0.0.1:$rport" BFF__STORE__KEY_PREFIX="bench:" \
  BFF__UPSTREAM__BASE_URL="http://127.0.0.1:$sport" BFF__SESSION__UPSTREAM_CALLS_PER_MINUTE=100000 \
  RUST_LOG=warn "$BIN" serve >"$work/bff-$1.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$1/healthz"
}
wait_up "http://127.0.0.1:$sport/__sandbox/faults"
p1=$(free_port); start_bff "$p1"
p2=$(free_port); start_bff "$p2"
p3=$(free_port); start_bff "$p3"

JWT=$("$BIN" token --sub bench-user --ttl 600)
curl -fs -X POST "http://127.0.0.1:$p1/v1/session" -H "Authorization: Bearer $JWT" >/dev/null

echo "==> cached POST /v1/session: wrk -t2 -c$CONNECTIONS -d${DURATION}s (Redis store, one instance)"
cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $JWT"
EOF
timeout $((DURATION + 30)) wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/post.lua" \
  "http://127.0.0.1:$p1/v1/session" | tee "$work/wrk.txt"
creates=$(curl -fs "http://127.0.0.1:$sport/__sandbox/requests?limit=100000&path_prefix=/api/v1/headless/sessions" \
  | jq '[.data.requests[] | select(.method=="POST")] | length')
echo "upstream session calls during the cached run: $creates (the first mint only)"

echo "==> 50 concurrent POST /v1/session/refresh over 3 instances"
sleep 6 # past the reuse window, so the storm must refresh
curl -fs -X DELETE "http://127.0.0.1:$sport/__sandbox/requests" >/dev/null
ports=("$p1" "$p2" "$p3")
start=$(date +%s%N)
for i in $(seq 0 49); do
  port=${ports[$((i % 3))]}
  curl -fs -m 20 -X POST "http://127.0.0.1:$port/v1/session/refresh" -H "Authorization: Bearer $JWT" \
    | jq -r .data.sessionToken >"$work/storm-$i.txt" &
done
wait_storm=0
for j in $(jobs -p); do
  case " ${pids[*]} " in *" $j "*) ;; *) wait "$j" || wait_storm=1 ;; esac
done
end=$(date +%s%N)
distinct=$(sort -u "$work"/storm-*.txt | wc -l)
refreshes=$(curl -fs "http://127.0.0.1:$sport/__sandbox/requests?limit=1000&path_prefix=/api/v1/headless/sessions/refresh" \
  | jq '.data.requests | length')
echo "storm wall time: $(( (end - start) / 1000000 )) ms; distinct tokens: $distinct; upstream refreshes: $refreshes; failures: $wait_storm"
