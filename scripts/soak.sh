#!/usr/bin/env bash
# Chaos soak: three BFF instances behind nginx (round robin), the sandbox behind a relay that can
# drop connections, fault injection, one Redis crash-restart, concurrent users, refresh storms,
# idempotent journeys and duplicated / reordered webhooks; then checks, and "N passed, M failed"
# (non-zero exit on a failure). The driver is scripts/soak.py (Python standard library).
#
#   scripts/soak.sh                  # 60 s (what scripts/test.sh runs)
#   SOAK_SECS=600 scripts/soak.sh    # 10 minutes
#
# Other knobs: SOAK_USERS (concurrent journey workers, 6), SOAK_STORM_SIZE (concurrent refreshes
# per storm, 12), SOAK_BIN (the binary; default target/debug/aarthik-bff, built when missing or
# stale), SOAK_KEEP=1 (keep the temp dir with every process's log; kept anyway on a failure).
# Installs redis-server with apt-get when missing; nginx, when not on the PATH, is Debian's package
# fetched with apt-get download and unpacked into .tmp/nginx (no root needed). SOAK_SETTLE_SECS:
# time for the sandbox to deliver what it holds after the load (max(180, SOAK_SECS / 2)).
# Loopback only; bounded by SOAK_SECS + SOAK_SETTLE_SECS + 240 s.
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECS=${SOAK_SECS:-60}
# The settle time after the load (soak.py's default: max(180, SOAK_SECS / 2)).
SOAK_SETTLE_SECS=${SOAK_SETTLE_SECS:-$(( SOAK_SECS / 2 > 180 ? SOAK_SECS / 2 : 180 ))}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq redis-server >/dev/null
fi

nginx_bin=${SOAK_NGINX:-$(command -v nginx || true)}
if [ -z "$nginx_bin" ] && [ -x .tmp/nginx/usr/sbin/nginx ]; then nginx_bin=.tmp/nginx/usr/sbin/nginx; fi
if [ -z "$nginx_bin" ]; then
  echo "==> fetching nginx (apt-get download, unpacked into .tmp/nginx)"
  mkdir -p .tmp/nginx-deb
  (cd .tmp/nginx-deb && rm -f nginx_*.deb && timeout 120 apt-get download -qq nginx >/dev/null 2>&1) \
    || { as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq >/dev/null 2>&1 || true
         (cd .tmp/nginx-deb && timeout 120 apt-get download -qq nginx >/dev/null); }
  timeout 60 dpkg -x .tmp/nginx-deb/nginx_*.deb .tmp/nginx
  nginx_bin=.tmp/nginx/usr/sbin/nginx
fi
"$nginx_bin" -v >/dev/null 2>&1 || { echo "nginx at $nginx_bin does not run"; exit 1; }

bin=${SOAK_BIN:-target/debug/aarthik-bff}
if [ -z "${SOAK_BIN:-}" ]; then
  # A no-op when scripts/test.sh has just built the test binaries.
  timeout 900 cargo build --locked --bin aarthik-bff
fi

SOAK_SECS=$SOAK_SECS SOAK_SETTLE_SECS=$SOAK_SETTLE_SECS SOAK_BIN=$bin SOAK_NGINX=$nginx_bin \
  timeout --kill-after=10 $((SOAK_SECS + SOAK_SETTLE_SECS + 240)) python3 scripts/soak.py
