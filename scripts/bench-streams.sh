#!/usr/bin/env bash
# Idle live-update streams (docs/benchmarks.md "Live updates: idle streams"): the memory (RSS) and
# CPU a release build of the BFF spends on STREAMS idle `GET /v1/events/stream` connections, and
# the latency of one update among them. Loopback only; bounded in time; everything it starts is
# stopped on exit.
#
#   scripts/bench-streams.sh                    # STREAMS=1000 IDLE_SECS=30
#
# Needs: cargo, redis-server, curl, python3. Builds with `cargo build --release` first.
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${STREAMS:-1000}
IDLE_SECS=${IDLE_SECS:-30}

for t in redis-server curl python3; do
  command -v "$t" >/dev/null 2>&1 || { echo "$t is required"; exit 1; }
done
# Each stream is one connection: the client and the server each need a file descriptor per stream.
ulimit -n "$(( STREAMS * 2 + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
work=$(mktemp -d)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> cargo build --release (the BFF and the idle_streams example)"
timeout 1800 cargo build --release -q --bin aarthik-bff --example idle_streams
BIN=target/release/aarthik-bff

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

# The streams never call the upstream; point it at a closed loopback port.
bport=$(free_port)
BFF__SERVER__PORT=$bport BFF__STORE__REDIS_URL="redis://127.0.0.1:$rport" BFF__STORE__KEY_PREFIX="bench:" \
  BFF__UPSTREAM__BASE_URL="http://127.0.0.1:9" RUST_LOG=warn "$BIN" serve >"$work/bff.log" 2>&1 &
bff_pid=$!
pids+=("$bff_pid")
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$bport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1 # let it settle before the first sample

echo "==> $STREAMS idle streams for ${IDLE_SECS}s against the release build (pid $bff_pid, $(nproc) cores)"
timeout $(( IDLE_SECS + 240 )) target/release/examples/idle_streams --url "http://127.0.0.1:$bport" \
  --pid "$bff_pid" --streams "$STREAMS" --idle-secs "$IDLE_SECS" --clk-tck "$(getconf CLK_TCK)"
echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
