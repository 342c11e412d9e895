#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test against real Redis deployments in every
# mode the service supports — one server, TLS, a 3-master Cluster and Sentinel — started on free
# loopback ports by scripts/redis-modes.sh (installing redis-server / redis-sentinel with apt-get
# when missing) and stopped at the end. A REDIS_URL from the environment replaces the single
# server; the other modes are always started here. Each stage prints its duration. The ops console is tested in a real browser,
# the deployment kit in deploy/ is validated offline, and a 60 s chaos soak runs three instances.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/redis-modes.sh
. scripts/redis-modes.sh
trap redis_modes_stop EXIT

stage_start=$SECONDS
stage() { echo "==> $*"; stage_start=$SECONDS; }
took() { echo "    ($((SECONDS - stage_start)) s)"; }

stage "starting Redis deployments"
if [ -n "${REDIS_URL:-}" ]; then
  echo "    using REDIS_URL from the environment for the single server"
  REDIS_MODES=${REDIS_MODES:-tls cluster sentinel}
fi
REDIS_MODES=${REDIS_MODES:-single tls cluster sentinel} redis_modes_start
took

stage "cargo fmt --check"
cargo fmt --all -- --check
took
stage "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --locked --workspace --all-targets -- -D warnings
took
stage "build without the simulator (--no-default-features); it must carry no sandbox crate"
timeout 900 cargo build --locked -p aarthik-bff --no-default-features
if cargo tree --locked -p aarthik-bff --no-default-features -e normal,build | grep -q aarthik-sandbox; then
  echo "the --no-default-features build depends on the sandbox crate"; exit 1
fi
took
stage "cargo test --locked --workspace --no-run (build every crate's tests)"
cargo test --locked --workspace --no-run
took
# Running (not building) the tests is bounded in time: a hung test fails the run instead of CI.
stage "cargo test --locked --workspace (Redis: single, TLS, Cluster, Sentinel)"
timeout --kill-after=10 "${TEST_TIMEOUT_SECS:-1200}" \
  cargo test --locked --workspace -- --test-threads="${TEST_THREADS:-4}"
took

stage "schemathesis: the running service against its own /openapi.json"
timeout 1500 scripts/schemathesis.sh
took

# The TypeScript client: types regenerated from docs/openapi.json and compared with the committed
# ones, strict type-check of the client and its examples, a smoke run against the real binary.
stage "TypeScript client: generated types current, type-check, smoke run (scripts/typescript-client.sh)"
timeout --kill-after=10 "${TS_CLIENT_STAGE_SECS:-900}" scripts/typescript-client.sh
took

# The ops console in headless Chromium against the real binary (installs chromium and the npm
# test dependency when missing; screenshot: console/test/artifacts/console.png).
stage "ops console browser test (scripts/console-test.sh)"
timeout --kill-after=10 "${CONSOLE_TEST_STAGE_SECS:-1500}" scripts/console-test.sh
took

# The deployment kit, offline: kustomize renders validated against the Kubernetes schemas
# (kubernetes-validate in .tmp/deploy-venv), consistency checks, compose and nginx configs (each
# skipped when its tool is missing).
stage "deployment kit (scripts/check-deploy.sh)"
timeout --kill-after=10 "${CHECK_DEPLOY_STAGE_SECS:-900}" scripts/check-deploy.sh
took

# Three instances behind nginx, fault injection, a Redis crash-restart, refresh storms, idempotent
# journeys, duplicated and reordered webhooks (uses the debug binary built above).
soak_secs=${SOAK_SECS:-60}
stage "chaos soak (scripts/soak.sh, SOAK_SECS=$soak_secs)"
SOAK_SECS=$soak_secs timeout --kill-after=10 "${SOAK_STAGE_SECS:-$((soak_secs + 600))}" scripts/soak.sh
took
