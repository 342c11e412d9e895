#!/usr/bin/env bash
# Offline checks of the deployment kit in deploy/ (no cluster, no Docker engine, no Rust build):
#   - renders the kustomize base and the production overlay (kubectl kustomize);
#   - validates every rendered resource against the Kubernetes schemas (PyPI kubernetes-validate,
#     installed into .tmp/deploy-venv); CRD kinds it has no schema for are reported as SKIP;
#   - consistency checks no schema sees (scripts/check_deploy_kit.py): probes, drain timing,
#     secrets as files, ports, selectors, production rules, compose wiring, and the Dockerfile
#     (runtime target without development configuration, health check, base images pinned);
#   - docker compose config -q (or docker-compose), and nginx -t, when those tools are there;
#   - promtool check rules on deploy/observability/alerts.yml and on every query of the Grafana
#     dashboard (promtool from PATH, else Debian's `prometheus` package unpacked into .tmp).
# One line per check, then "N passed, M failed, K skipped"; exits non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

KV_VERSION=1.37.0     # kubernetes-validate, pinned
K8S_VERSION=1.32.0    # schema version the manifests are validated against
CRD_KINDS="ServiceMonitor"
work=.tmp/check-deploy
venv=.tmp/deploy-venv
mkdir -p "$work"

passed=0 failed=0 skipped=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "SKIP $*"; skipped=$((skipped + 1)); }
# Count the PASS/FAIL/SKIP lines another tool printed (and show them).
tally() {
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS\ *) pass "${line#PASS }" ;;
      FAIL\ *) fail "${line#FAIL }" ;;
      SKIP\ *) skip "${line#SKIP }" ;;
      *) [ -n "$line" ] && echo "     $line" ;;
    esac
  done
}
# run_checks CMD...: run a checker that prints PASS/FAIL lines; a crash without FAIL lines fails too.
run_checks() {
  local out rc
  out=$(timeout 60 "$@" 2>&1); rc=$?
  tally <<<"$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then fail "$* exited $rc"; fi
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

# --- tools -------------------------------------------------------------------------------------
if ! command -v kubectl >/dev/null 2>&1 && command -v apt-cache >/dev/null 2>&1 \
  && timeout 30 apt-cache show kubectl >/dev/null 2>&1; then
  echo "==> installing kubectl (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq kubectl >/dev/null 2>&1 || true
fi
have_kubectl=false
command -v kubectl >/dev/null 2>&1 && have_kubectl=true

py="$venv/bin/python"
if ! timeout 30 "$py" -c 'import kubernetes_validate, yaml' >/dev/null 2>&1 \
  || [ "$(timeout 30 "$venv/bin/pip" show kubernetes-validate 2>/dev/null | sed -n 's/^Version: //p')" != "$KV_VERSION" ]; then
  echo "==> installing kubernetes-validate==$KV_VERSION into $venv"
  timeout 120 python3 -m venv "$venv" >/dev/null 2>&1 \
    && timeout 300 "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KV_VERSION" >"$work/pip.log" 2>&1
fi
if timeout 30 "$py" -c 'import kubernetes_validate, yaml' >/dev/null 2>&1; then
  pass "tools: kubernetes-validate $KV_VERSION"
else
  fail "tools: kubernetes-validate $KV_VERSION could not be installed (see $work/pip.log)"
  py=""
fi

# --- Kubernetes --------------------------------------------------------------------------------
# validate NAME FILE: one line per resource; CRD kinds without a schema are skipped.
validate() {
  local name=$1 file=$2 out rc
  out=$(timeout 120 "$venv/bin/kubernetes-validate" --strict -k "$K8S_VERSION" "$file" 2>&1); rc=$?
  local line kinds_re
  kinds_re=$(echo "$CRD_KINDS" | tr ' ' '|')
  while IFS= read -r line; do
    case "$line" in
      "INFO "*" passed for resource "*)
        pass "k8s/$name schema $(sed -E 's/.* passed for resource ([^ ]+) .*/\1/' <<<"$line")" ;;
      "ERROR "*) fail "k8s/$name schema: ${line#ERROR $file }" ;;
      "WARN "*"Couldn't find schema for kind "*)
        if grep -Eq "kind ($kinds_re) " <<<"$line"; then
          skip "k8s/$name schema $(sed -E 's/.*for kind ([^ ]+) .*/\1/' <<<"$line") (CRD: no offline schema)"
        else
          fail "k8s/$name schema: ${line#WARN $file }"
        fi ;;
      "") ;;
      *) echo "     $line" ;;
    esac
  done <<<"$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^ERROR ' <<<"$out"; then fail "k8s/$name schema: kubernetes-validate exited $rc"; fi
}

if ! $have_kubectl; then
  skip "k8s: kubectl not installed (not in apt either); kustomize renders not checked"
else
  for target in base overlays/production; do
    name=${target##*/}
    out="$work/$name.yaml"
    if timeout 60 kubectl kustomize "deploy/k8s/$target" >"$out" 2>"$work/$name.err"; then
      pass "k8s/$name render ($(grep -c '^kind:' "$out") resources)"
      if [ -n "$py" ]; then
        validate "$name" "$out"
        run_checks "$py" scripts/check_deploy_kit.py k8s "$name" "$out" "$work/base.yaml"
      fi
    else
      fail "k8s/$name render: $(head -c 400 "$work/$name.err")"
    fi
  done
fi

# --- compose and nginx -------------------------------------------------------------------------
if [ -n "$py" ]; then
  run_checks "$py" scripts/check_deploy_kit.py compose deploy/docker-compose.yml deploy/nginx/nginx.conf
fi
# The Dockerfile (needs no PyYAML): production target, no development configuration, the health
# check, base images pinned by digest.
run_checks "${py:-python3}" scripts/check_deploy_kit.py dockerfile Dockerfile

compose=()
if timeout 20 docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif timeout 20 docker-compose version >/dev/null 2>&1; then compose=(docker-compose); fi
if [ ${#compose[@]} -eq 0 ]; then
  skip "compose config: neither 'docker compose' nor docker-compose is installed"
elif err=$(timeout 60 "${compose[@]}" -f deploy/docker-compose.yml config -q 2>&1); then
  pass "compose config (${compose[*]} config -q)"
else
  fail "compose config: $(head -c 600 <<<"$err")"
fi

# nginx -t with the BFF host names pointed at loopback (they only resolve inside compose) and
# temp paths inside $work. Uses nginx from PATH, else Debian's package unpacked into .tmp.
nginx_bin=$(command -v nginx || true)
if [ -z "$nginx_bin" ] && [ ! -x .tmp/nginx/usr/sbin/nginx ] && command -v apt-get >/dev/null 2>&1; then
  (cd "$work" && rm -f nginx_*.deb && timeout 120 apt-get download -qq nginx >/dev/null 2>&1) \
    && timeout 60 dpkg -x "$work"/nginx_*.deb .tmp/nginx 2>/dev/null || true
fi
[ -z "$nginx_bin" ] && [ -x .tmp/nginx/usr/sbin/nginx ] && nginx_bin=.tmp/nginx/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
  skip "nginx -t: no nginx binary"
else
  t=$(cd "$work" && pwd)/nginx && rm -rf "$t" && mkdir -p "$t"
  sed -E -e 's/server (bff[0-9]+):([0-9]+)/server 127.0.0.1:\2/' \
    -e "s#^http \{#http { client_body_temp_path $t/b; proxy_temp_path $t/p; fastcgi_temp_path $t/f; uwsgi_temp_path $t/u; scgi_temp_path $t/s;#" \
    deploy/nginx/nginx.conf >"$t/nginx.conf"
  if err=$(timeout 30 "$nginx_bin" -t -q -p "$t" -e "$t/error.log" -c "$t/nginx.conf" 2>&1); then
    pass "nginx -t deploy/nginx/nginx.conf"
  else
    fail "nginx -t: $(head -c 600 <<<"$err")"
  fi
fi

# --- observability -------------------------------------------------------------------------------
promtool_bin=$(command -v promtool || true)
if [ -z "$promtool_bin" ] && [ ! -x .tmp/prometheus/usr/bin/promtool ] && command -v apt-get >/dev/null 2>&1; then
  (cd "$work" && rm -f prometheus_*.deb && timeout 300 apt-get download -qq prometheus >/dev/null 2>&1) \
    && timeout 120 dpkg -x "$work"/prometheus_*.deb .tmp/prometheus 2>/dev/null || true
fi
[ -z "$promtool_bin" ] && [ -x .tmp/prometheus/usr/bin/promtool ] && promtool_bin=.tmp/prometheus/usr/bin/promtool
if [ -z "$promtool_bin" ]; then
  skip "promtool: not installed (nor in apt); alert rules and dashboard queries not checked"
else
  if err=$(timeout 60 "$promtool_bin" check rules deploy/observability/alerts.yml 2>&1); then
    pass "promtool check rules deploy/observability/alerts.yml"
  else
    fail "alerts.yml: $(head -c 600 <<<"$err")"
  fi
  # Every dashboard query as a recording rule, Grafana's variables given plain values.
  if python3 - "$work/dashboard-rules.yml" <<'PY'
import json, sys
d = json.load(open("deploy/observability/grafana-dashboard.json"))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
with open(sys.argv[1], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        e = e.replace("$__rate_interval", "5m").replace("$job", ".*")
        out.write(f"      - record: dashboard:query{i}\n        expr: {json.dumps(e)}\n")
PY
  then
    if err=$(timeout 60 "$promtool_bin" check rules "$work/dashboard-rules.yml" 2>&1); then
      pass "promtool: every query of deploy/observability/grafana-dashboard.json parses"
    else
      fail "grafana-dashboard.json queries: $(head -c 600 <<<"$err")"
    fi
  else
    fail "grafana-dashboard.json: not a dashboard with panels and targets"
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
