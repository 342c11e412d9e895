#!/usr/bin/env bash
# Webhook receiver benchmark (docs/benchmarks.md, "Webhooks"): starts a private, throwaway
# redis-server on a free port (unless REDIS_URL is given), runs examples/webhook_load.rs in release
# mode, and stops the Redis again. Extra arguments go to the example, e.g.
#   scripts/bench-webhooks.sh --secs 10 --concurrency 32 --workers 2
set -euo pipefail
cd "$(dirname "$0")/.."

started_pid=""
workdir=""
cleanup() {
  if [ -n "$started_pid" ]; then kill "$started_pid" 2>/dev/null || true; wait "$started_pid" 2>/dev/null || true; fi
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null || { echo "redis-server is not on PATH (or set REDIS_URL)"; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  workdir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$workdir" \
    --daemonize no --loglevel warning >"$workdir/redis.log" 2>&1 &
  started_pid=$!
  for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "==> private redis-server on port $port"
fi

cargo build --release --example webhook_load
# Bounded: the example runs four phases of at most --secs each.
timeout 600 target/release/examples/webhook_load "$@"
