#!/usr/bin/env bash
# Throw-away Redis deployments on free loopback ports, one per store mode the service supports:
#   single  - one redis-server                          -> REDIS_URL
#   tls     - one redis-server speaking TLS only, with a CA, a server and a client certificate
#             made here with openssl                    -> REDIS_TLS_URL, REDIS_TLS_CA_FILE,
#                                                          REDIS_TLS_CLIENT_CERT_FILE, REDIS_TLS_CLIENT_KEY_FILE
#   cluster - three masters, no replicas                -> REDIS_CLUSTER_URLS
#   sentinel- one master, one replica, one sentinel     -> REDIS_SENTINEL_URLS, REDIS_SENTINEL_MASTER
# Nothing is saved to disk except the certificates, in a temporary directory removed by `stop`.
#
# Use it sourced (test.sh does):   . scripts/redis-modes.sh; redis_modes_start; ...; redis_modes_stop
# or on its own:                   scripts/redis-modes.sh start   (prints the exports; state in
#                                  .tmp/redis-modes.env)   and   scripts/redis-modes.sh stop
# Each stage is printed with its duration and bounded with `timeout`. REDIS_MODES picks a subset
# (default "single tls cluster sentinel"). redis-server, redis-cli and redis-sentinel are installed
# with apt-get when missing (as root, or with sudo).

REDIS_MODES_DIR=""
REDIS_MODES_PIDS=""

_rm_log() { echo "==> [redis-modes] $*"; }

_rm_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

_rm_install() { # _rm_install COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  _rm_log "installing $2 (apt-get)"
  _rm_as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$2" >/dev/null 2>&1 \
    || { _rm_as_root timeout 300 apt-get update -qq >/dev/null 2>&1 \
      && _rm_as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$2" >/dev/null 2>&1; }
  command -v "$1" >/dev/null 2>&1
}

# A free loopback port whose cluster-bus twin (port + 10000) is free too.
_rm_free_port() {
  python3 - <<'EOF'
import socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p + 10000 <= 65535 and free(p + 10000):
        print(p); break
EOF
}

# _rm_spawn NAME ARGS...: start redis-server in the foreground (as a child we can stop by pid).
_rm_spawn() {
  local name=$1; shift
  redis-server "$@" --bind 127.0.0.1 --save "" --appendonly no --dir "$REDIS_MODES_DIR" \
    --daemonize no --loglevel warning --logfile "$REDIS_MODES_DIR/$name.log" </dev/null >/dev/null 2>&1 &
  REDIS_MODES_PIDS="$REDIS_MODES_PIDS $!"
}

# _rm_wait SECS CMD...: poll CMD every 0.1 s until it succeeds.
_rm_wait() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

_rm_ping() { [ "$(timeout 5 redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }

_rm_stage() { # _rm_stage NAME FUNCTION: run one stage, print its time, fail loudly
  local t0=$SECONDS
  if "$2"; then
    _rm_log "$1 ready in $((SECONDS - t0)) s"
  else
    _rm_log "$1 FAILED after $((SECONDS - t0)) s; logs:"
    tail -n 20 "$REDIS_MODES_DIR"/*.log 2>/dev/null
    return 1
  fi
}

_rm_single() {
  local p; p=$(_rm_free_port)
  _rm_spawn single --port "$p"
  _rm_wait 10 _rm_ping "$p" || return 1
  export REDIS_URL="redis://127.0.0.1:$p"
}

_rm_certs() {
  local d="$REDIS_MODES_DIR/tls"
  mkdir -p "$d"
  (
    cd "$d" || exit 1
    timeout 60 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bff-test-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null || exit 1
    for who in server client; do
      timeout 60 openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=bff-test-$who" \
        -keyout "$who.key" -out "$who.csr" 2>/dev/null || exit 1
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$who.ext"
      timeout 60 openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
        -days 2 -extfile "$who.ext" -out "$who.crt" 2>/dev/null || exit 1
    done
  )
}

_rm_tls() {
  command -v openssl >/dev/null 2>&1 || _rm_install openssl openssl || return 1
  _rm_certs || return 1
  local d="$REDIS_MODES_DIR/tls" p; p=$(_rm_free_port)
  # TLS only (port 0: no plain listener); clients must show a certificate signed by the CA.
  _rm_spawn tls --port 0 --tls-port "$p" --tls-cert-file "$d/server.crt" --tls-key-file "$d/server.key" \
    --tls-ca-cert-file "$d/ca.crt" --tls-auth-clients yes
  _rm_tls_ping() {
    [ "$(timeout 5 redis-cli -p "$p" --tls --cacert "$d/ca.crt" --cert "$d/client.crt" \
      --key "$d/client.key" ping 2>/dev/null)" = PONG ]
  }
  _rm_wait 10 _rm_tls_ping || return 1
  export REDIS_TLS_URL="rediss://127.0.0.1:$p"
  export REDIS_TLS_CA_FILE="$d/ca.crt"
  export REDIS_TLS_CLIENT_CERT_FILE="$d/client.crt"
  export REDIS_TLS_CLIENT_KEY_FILE="$d/client.key"
}

_rm_cluster() {
  local ports="" p nodes="" urls=""
  for i in 1 2 3; do
    p=$(_rm_free_port)
    _rm_spawn "cluster-$i" --port "$p" --cluster-enabled yes \
      --cluster-config-file "$REDIS_MODES_DIR/nodes-$p.conf" --cluster-node-timeout 2000
    ports="$ports $p"
  done
  for p in $ports; do _rm_wait 10 _rm_ping "$p" || return 1; done
  for p in $ports; do nodes="$nodes 127.0.0.1:$p"; urls="${urls:+$urls,}redis://127.0.0.1:$p"; done
  # shellcheck disable=SC2086
  timeout 60 redis-cli --cluster create $nodes --cluster-replicas 0 --cluster-yes \
    >"$REDIS_MODES_DIR/cluster-create.log" 2>&1 || return 1
  _rm_cluster_ok() {
    local q
    for q in $ports; do
      timeout 5 redis-cli -p "$q" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    done
  }
  _rm_wait 30 _rm_cluster_ok || return 1
  export REDIS_CLUSTER_URLS="$urls"
}

_rm_sentinel() {
  _rm_install redis-sentinel redis-sentinel || return 1
  local m r s
  m=$(_rm_free_port); _rm_spawn sentinel-master --port "$m"
  r=$(_rm_free_port); _rm_spawn sentinel-replica --port "$r" --replicaof 127.0.0.1 "$m"
  _rm_wait 10 _rm_ping "$m" || return 1
  _rm_replica_up() { timeout 5 redis-cli -p "$r" info replication 2>/dev/null | grep -q '^master_link_status:up'; }
  _rm_wait 20 _rm_replica_up || return 1
  s=$(_rm_free_port)
  cat >"$REDIS_MODES_DIR/sentinel.conf" <<EOF
port $s
bind 127.0.0.1
dir $REDIS_MODES_DIR
logfile $REDIS_MODES_DIR/sentinel.log
sentinel monitor bffmaster 127.0.0.1 $m 1
sentinel down-after-milliseconds bffmaster 2000
sentinel failover-timeout bffmaster 10000
EOF
  redis-sentinel "$REDIS_MODES_DIR/sentinel.conf" </dev/null >/dev/null 2>&1 &
  REDIS_MODES_PIDS="$REDIS_MODES_PIDS $!"
  _rm_master_known() {
    timeout 5 redis-cli -p "$s" sentinel get-master-addr-by-name bffmaster 2>/dev/null | grep -q "^$m\$"
  }
  _rm_wait 20 _rm_master_known || return 1
  export REDIS_SENTINEL_URLS="redis://127.0.0.1:$s"
  export REDIS_SENTINEL_MASTER=bffmaster
}

redis_modes_start() {
  local modes=${REDIS_MODES:-single tls cluster sentinel} mode
  _rm_install redis-server redis-server || { _rm_log "redis-server is not available"; return 1; }
  command -v python3 >/dev/null 2>&1 || { _rm_log "python3 is needed to pick free ports"; return 1; }
  REDIS_MODES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bff-redis-modes.XXXXXX")
  for mode in $modes; do
    case "$mode" in
      single) _rm_stage "single redis" _rm_single || return 1 ;;
      tls) _rm_stage "redis with TLS" _rm_tls || return 1 ;;
      cluster) _rm_stage "3-master redis cluster" _rm_cluster || return 1 ;;
      sentinel) _rm_stage "redis sentinel (master, replica, sentinel)" _rm_sentinel || return 1 ;;
      *) _rm_log "unknown mode $mode"; return 1 ;;
    esac
  done
}

redis_modes_stop() {
  local pid
  for pid in $REDIS_MODES_PIDS; do kill "$pid" 2>/dev/null || true; done
  for pid in $REDIS_MODES_PIDS; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  REDIS_MODES_PIDS=""
  if [ -n "$REDIS_MODES_DIR" ]; then rm -rf "$REDIS_MODES_DIR"; fi
  REDIS_MODES_DIR=""
}

# Run as a script: start (writes .tmp/redis-modes.env and prints the exports) or stop.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  cd "$(dirname "$0")/.." || exit 1
  state=.tmp/redis-modes.env
  case "${1:-}" in
    start)
      mkdir -p .tmp
      redis_modes_start || { redis_modes_stop; exit 1; }
      # Detach the servers from this shell: they keep running until `stop`.
      {
        echo "REDIS_MODES_PIDS='$REDIS_MODES_PIDS'"
        echo "REDIS_MODES_DIR='$REDIS_MODES_DIR'"
        for v in REDIS_URL REDIS_TLS_URL REDIS_TLS_CA_FILE REDIS_TLS_CLIENT_CERT_FILE \
          REDIS_TLS_CLIENT_KEY_FILE REDIS_CLUSTER_URLS REDIS_SENTINEL_URLS REDIS_SENTINEL_MASTER; do
          [ -n "${!v:-}" ] && echo "export $v='${!v}'"
        done
      } >"$state"
      grep '^export' "$state"
      ;;
    stop)
      # shellcheck disable=SC1090
      [ -f "$state" ] && . "$state"
      redis_modes_stop
      rm -f "$state"
      ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
  esac
fi
