#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test against a real Redis, and the ops console
# in a real browser.
# Uses REDIS_URL when given; otherwise starts its own redis-server on a free port (installing it
# with apt-get when missing) and stops it at the end.
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
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "==> installing redis-server (apt-get)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $(( 20000 + RANDOM % 20000 )))
  workdir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$workdir" \
    --daemonize no --loglevel warning >"$workdir/redis.log" 2>&1 &
  started_pid=$!
  for _ in $(seq 1 100); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start"; cat "$workdir/redis.log"; exit 1; }
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "==> started redis-server on port $port"
else
  echo "==> using REDIS_URL from the environment"
fi

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "==> cargo test --locked --workspace (every crate)"
cargo test --locked --workspace --no-run
# Running (not building) the tests is bounded in time: a hung test fails the run instead of CI.
timeout --kill-after=10 "${TEST_TIMEOUT_SECS:-1200}" \
  cargo test --locked --workspace -- --test-threads="${TEST_THREADS:-4}"
# The ops console in headless Chromium against the real binary (installs chromium and the npm
# test dependency when missing; screenshot: console/test/artifacts/console.png).
echo "==> ops console browser test (scripts/console-test.sh)"
timeout --kill-after=10 "${CONSOLE_TEST_STAGE_SECS:-1500}" scripts/console-test.sh
