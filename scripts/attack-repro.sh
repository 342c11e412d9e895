#!/usr/bin/env bash
# Re-run the security review's 13 reproductions (docs/security.md) against a release build:
# the upstream simulator, the BFF against it with a Redis of its own, a hostile stand-in upstream and
# a second BFF against that, all on loopback ports chosen at random. One line per finding with the
# review's numbers ("before") and today's ("now"), then "N passed, M failed"; exits non-zero when a
# reproduction still succeeds. About two minutes after the build; everything is bounded (5 minutes
# in all) and stopped at the end. Not part of scripts/test.sh: every finding has a fast test there.
#
#   scripts/attack-repro.sh              build (cargo build --release) and run
#   BFF_BIN=path scripts/attack-repro.sh use that binary (built with the default features: it needs
#                                        the `sandbox` subcommand)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
need() { # need COMMAND APT-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  echo "==> installing $2 (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$2" >/dev/null \
    || { echo "cannot install $2; install it and re-run" >&2; exit 2; }
}
need python3 python3
need redis-server redis-server
need redis-cli redis-tools

bin=${BFF_BIN:-}
if [ -z "$bin" ]; then
  echo "==> cargo build --release --bin aarthik-bff"
  cargo build --release --locked --bin aarthik-bff
  bin=target/release/aarthik-bff
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if ! "$bin" sandbox --help >/dev/null 2>&1; then
  echo "$bin has no sandbox subcommand (built with --no-default-features?)" >&2
  exit 2
fi
exec timeout --kill-after=10 300 python3 scripts/attack_repro.py "$bin" "$(command -v redis-server)"
