#!/usr/bin/env bash
# The ops console in a real browser: headless Chromium (Debian `chromium`, installed with apt-get
# when missing) driven by playwright-core (console/package-lock.json; it never downloads a browser)
# against the real BFF — the `cargo run` binary with the embedded sandbox, the in-memory store and
# the development ops token and webhook secret, on a free port. Screenshots go to
# console/test/artifacts/ (console.png is the whole page). Run by scripts/test.sh; also on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

ops_token=dev-ops-token
webhook_secret=whsec_dev_sandbox_secret
log=$(mktemp)
bff_pid=""
cleanup() {
  if [ -n "$bff_pid" ]; then kill "$bff_pid" 2>/dev/null || true; wait "$bff_pid" 2>/dev/null || true; fi
  rm -f "$log"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_install() {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq "$@" >/dev/null
}
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (apt-get)"
  apt_install chromium
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "==> installing nodejs and npm (apt-get)"
  apt_install nodejs npm
fi

echo "==> npm ci (console/)"
(cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm ci --no-audit --no-fund --loglevel=error)

echo "==> building the BFF (cargo build)"
cargo build --locked --bin aarthik-bff

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
echo "==> starting the BFF on port $port (embedded sandbox, in-memory store)"
env -u BFF_ENV \
  BFF__SERVER__HOST=127.0.0.1 BFF__SERVER__PORT="$port" \
  BFF__STORE__REDIS_URL= BFF__UPSTREAM__BASE_URL=embedded \
  BFF__OPS__TOKENS="$ops_token" BFF__WEBHOOK__SECRETS="$webhook_secret" \
  target/debug/aarthik-bff serve >"$log" 2>&1 &
bff_pid=$!
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$bff_pid" 2>/dev/null; then break; fi
  sleep 0.2
done
if ! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
  echo "the BFF did not start:"; cat "$log"; exit 1
fi

echo "==> node console/test/console.spec.mjs"
status=0
BFF_URL="http://127.0.0.1:$port" OPS_TOKEN="$ops_token" WEBHOOK_SECRET="$webhook_secret" \
  timeout --kill-after=10 "${CONSOLE_TEST_TIMEOUT_SECS:-300}" node console/test/console.spec.mjs || status=$?
if [ "$status" != 0 ]; then
  echo "==> the console test failed ($status); the BFF's log:"; tail -n 60 "$log"
fi
echo "==> screenshot: $(pwd)/console/test/artifacts/console.png"
exit "$status"
