#!/usr/bin/env bash
# The TypeScript client (clients/typescript/): installs its pinned npm dependencies (`npm ci`, from the
# npm cache when it can), regenerates the types from docs/openapi.json with openapi-typescript and
# fails when the committed src/schema.d.ts differs (the file is then rewritten: commit it), type-checks
# the client, its examples and its smoke test (`tsc --noEmit`, strict), and runs the smoke test
# against the real service: the `cargo run` binary with the embedded sandbox and the in-memory store on
# a free loopback port (mint, refresh, proxied journey calls with Idempotency-Key and replay, a web
# cookie session, the error envelope). Run by scripts/test.sh; also on its own.
#
#   scripts/typescript-client.sh                 # uses target/debug/aarthik-bff (built if missing)
#   SMOKE=0 scripts/typescript-client.sh         # generation check and type-check only, no service
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/debug/aarthik-bff}
SMOKE=${SMOKE:-1}
dir=clients/typescript

if ! command -v npm >/dev/null 2>&1; then
  echo "   installing nodejs and npm (apt-get)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

echo "   npm ci ($dir)"
(cd "$dir" && timeout 300 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

echo "   regenerating src/schema.d.ts from docs/openapi.json"
committed=$(mktemp)
service_log=$(mktemp)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -f "$committed" "$service_log"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
cp "$dir/src/schema.d.ts" "$committed"
(cd "$dir" && timeout 120 npm run -s generate >/dev/null)
if ! cmp -s "$committed" "$dir/src/schema.d.ts"; then
  diff -u "$committed" "$dir/src/schema.d.ts" | head -40 || true
  echo "clients/typescript/src/schema.d.ts was not generated from the current docs/openapi.json;"
  echo "it has been regenerated now (cd $dir && npm run generate): review and commit it"
  exit 1
fi

echo "   type-check (tsc --noEmit: src, examples, test)"
(cd "$dir" && timeout 300 npm run -s typecheck)

if [ "$SMOKE" = 0 ]; then
  echo "   smoke test skipped (SMOKE=0)"
  exit 0
fi
[ -x "$BIN" ] || timeout 1200 cargo build --locked -q --bin aarthik-bff
(cd "$dir" && timeout 300 npm run -s smoke:build)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
env -u BFF_ENV BFF__SERVER__HOST=127.0.0.1 BFF__SERVER__PORT="$port" BFF__STORE__REDIS_URL= \
  BFF__UPSTREAM__BASE_URL=embedded RUST_LOG=warn "$BIN" serve >"$service_log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the service did not start"; cat "$service_log"; exit 1; }
jwt=$(env -u BFF_ENV "$BIN" token --sub ts-client-user --ttl 600)
other=$(env -u BFF_ENV "$BIN" token --sub ts-client-other --ttl 600)
echo "   smoke test against the service on port $port"
(cd "$dir" && timeout 120 node .build/test/smoke.js "http://127.0.0.1:$port" "$jwt" "$other") || {
  echo "   service log:"; tail -20 "$service_log"; exit 1; }
