#!/usr/bin/env python3
"""Consistency checks of the deployment kit that no schema can see.

Usage: check_deploy_kit.py k8s NAME RENDERED.yaml [BASE_RENDERED.yaml]
       check_deploy_kit.py compose deploy/docker-compose.yml deploy/nginx/nginx.conf
       check_deploy_kit.py dockerfile Dockerfile

Prints one line per check: `PASS <name>`, `FAIL <name>: <why>` or `SKIP <name>: <why>`. The k8s
and compose checks need PyYAML. Base images not pinned by digest are a SKIP (a release pins them
with scripts/pin-images.sh; `scripts/pin-images.sh --check` is the release gate).
"""
import os
import re
import sys

SECRET_DIR = "/run/secrets/bff"
# Settings that are secrets: they may only arrive as files (`<key>_FILE`).
SECRET_KEYS = {
    "BFF__UPSTREAM__API_KEY", "BFF__UPSTREAM__SECONDARY_API_KEY", "BFF__AUTH__HS256_SECRET",
    "BFF__AUTH__PSEUDONYM_PEPPER", "BFF__SESSION__ENCRYPTION_KEYS", "BFF__WEBHOOK__SECRETS",
    "BFF__WEBHOOK__FORWARD_SECRET", "BFF__OPS__TOKENS",
}


class Checks:
    def __init__(self, prefix):
        self.prefix = prefix
        self.failed = 0

    def run(self, name, fn):
        try:
            problems = fn() or []
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
            problems = [f"{type(e).__name__}: {e}"]
        if problems:
            self.failed += 1
            print(f"FAIL {self.prefix} {name}: {'; '.join(problems)}")
        else:
            print(f"PASS {self.prefix} {name}")


def load_all(path):
    import yaml  # only the k8s and compose checks need PyYAML

    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    return found[0] if found else None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ---------------------------------------------------------------- Kubernetes


def k8s_checks(name, docs, base_docs):
    c = Checks(f"k8s/{name}")
    dep = one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    cm = one(docs, "ConfigMap")["data"]
    env = {e["name"]: e for e in ctr.get("env", [])}
    ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
    secret = one(docs, "Secret") or one(base_docs, "Secret")

    def probes():
        out = []
        want = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for probe, path in want.items():
            got = ctr.get(probe, {}).get("httpGet", {})
            if got.get("path") != path or got.get("port") != "http":
                out.append(f"{probe} should GET {path} on port http, is {got}")
        if ports.get("http") != int(cm["BFF__SERVER__PORT"]):
            out.append("container port http differs from BFF__SERVER__PORT")
        return out

    def drain():
        delay = int(cm["BFF__SERVER__SHUTDOWN_DELAY_SECS"])
        timeout = int(cm.get("BFF__SERVER__SHUTDOWN_TIMEOUT_SECS", "10"))
        cmd = ctr["lifecycle"]["preStop"]["exec"]["command"]
        sleep = int(cmd[-1]) if cmd[0] == "sleep" else -1
        grace = pod["terminationGracePeriodSeconds"]
        out = []
        if sleep != delay:
            out.append(f"preStop sleeps {sleep}s, BFF__SERVER__SHUTDOWN_DELAY_SECS is {delay}")
        if grace <= sleep + delay + timeout:
            out.append(f"terminationGracePeriodSeconds {grace} <= preStop + delay + timeout")
        return out

    def security():
        sc, psc = ctr["securityContext"], pod["securityContext"]
        out = []
        if not (psc.get("runAsNonRoot") and psc.get("runAsUser") == 10001):
            out.append("pod must run as non-root uid 10001")
        if not sc.get("readOnlyRootFilesystem"):
            out.append("root filesystem must be read-only")
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append("privilege escalation must be off")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            out.append("capabilities must drop ALL")
        if pod.get("automountServiceAccountToken") is not False:
            out.append("service account token must not be mounted")
        return out

    def secret_files():
        out = []
        mounts = {m["name"]: m["mountPath"] for m in ctr["volumeMounts"]}
        vols = {v["name"]: v for v in pod["volumes"]}
        secret_vol = [n for n, v in vols.items() if "secret" in v]
        if [mounts.get(n) for n in secret_vol] != [SECRET_DIR]:
            out.append(f"the Secret must be mounted once at {SECRET_DIR}")
        keys = set((secret or {}).get("stringData", {})) | set((secret or {}).get("data", {}))
        if not keys:
            out.append("no Secret to compare with")
        used = set()
        for key in SECRET_KEYS:
            if key in cm or key in env:
                out.append(f"{key} given as a value; secrets come from {key}_FILE")
            if key + "_FILE" not in env:
                out.append(f"{key}_FILE is not set")
        for n, e in env.items():
            if n.endswith("_FILE"):
                path = e.get("value", "")
                if os.path.dirname(path) != SECRET_DIR:
                    out.append(f"{n}={path} is not under {SECRET_DIR}")
                used.add(os.path.basename(path))
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                used.add(ref["key"])
        if keys and used - keys:
            out.append(f"files missing from the Secret: {sorted(used - keys)}")
        if keys and keys - used:
            out.append(f"Secret keys nothing reads: {sorted(keys - used)}")
        return out

    def resources():
        res = ctr.get("resources", {})
        return [f"{k}.{r} missing" for k in ("requests", "limits") for r in ("cpu", "memory")
                if r not in res.get(k, {})]

    def network():
        out = []
        svc = one(docs, "Service")
        if not selects(svc["spec"]["selector"], pod_labels):
            out.append("Service does not select the pods")
        svc_targets = {p["targetPort"] for p in svc["spec"]["ports"]}
        if svc_targets != {"http", "metrics"}:
            out.append(f"Service should expose http and metrics only, exposes {sorted(svc_targets)}")
        if ports.get("metrics") != int(cm["BFF__SERVER__METRICS_PORT"]):
            out.append("container port metrics differs from BFF__SERVER__METRICS_PORT")
        if ports.get("ops") != int(cm["BFF__SERVER__OPS_PORT"]):
            out.append("container port ops differs from BFF__SERVER__OPS_PORT")
        np = one(docs, "NetworkPolicy")
        if not selects(np["spec"]["podSelector"]["matchLabels"], pod_labels):
            out.append("NetworkPolicy does not select the pods")
        open_ports = {p["port"] for rule in np["spec"]["ingress"] for p in rule.get("ports", [])}
        if open_ports != {ports["http"], ports["metrics"]}:
            out.append(f"NetworkPolicy should admit http and metrics only, admits {sorted(open_ports)}")
        egress = {p["port"] for rule in np["spec"]["egress"] for p in rule.get("ports", [])}
        if not {53, 443, 6379, 6380} <= egress:
            out.append(f"egress lacks some of DNS, 443, Redis: {sorted(egress)}")
        return out

    def scaling():
        out = []
        hpa, pdb = one(docs, "HorizontalPodAutoscaler"), one(docs, "PodDisruptionBudget")
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref["kind"], ref["name"]) != ("Deployment", dep["metadata"]["name"]):
            out.append("HPA does not target the Deployment")
        if not hpa["spec"]["minReplicas"] <= dep["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]:
            out.append("Deployment replicas outside the HPA bounds")
        if not selects(pdb["spec"]["selector"]["matchLabels"], pod_labels):
            out.append("PodDisruptionBudget does not select the pods")
        if pdb["spec"]["minAvailable"] >= hpa["spec"]["minReplicas"]:
            out.append("PodDisruptionBudget would block every voluntary eviction")
        sm = one(docs, "ServiceMonitor")
        if sm:
            svc = one(docs, "Service")
            if not selects(sm["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"]):
                out.append("ServiceMonitor does not select the Service")
            if {e["port"] for e in sm["spec"]["endpoints"]} != {"metrics"}:
                out.append("ServiceMonitor should scrape the metrics port")
        return out

    def production():
        out = []
        if cm.get("BFF_ENV") in (None, "", "development"):
            out.append(f"BFF_ENV is {cm.get('BFF_ENV')!r}: development defaults would be allowed")
        if not cm.get("BFF__UPSTREAM__BASE_URL", "").startswith("https://"):
            out.append("upstream must be https")
        for key in ("BFF__AUTH__ISSUER", "BFF__AUTH__AUDIENCE"):
            if not cm.get(key):
                out.append(f"{key} is required")
        if not cm.get("BFF__WEB__COOKIE_NAME", "__Host-").startswith("__Host-"):
            out.append("cookie name must start with __Host-")
        if name != "base" and one(docs, "Secret"):
            out.append("an overlay must not ship the placeholder Secret")
        return out

    for check, fn in [("probes", probes), ("drain timing", drain), ("security context", security),
                      ("secrets as files", secret_files), ("resources", resources),
                      ("ports and network policy", network), ("scaling", scaling),
                      ("production rules", production)]:
        c.run(check, fn)
    return c.failed


# ---------------------------------------------------------------- compose


def compose_checks(compose_path, nginx_path):
    c = Checks("compose")
    here = os.path.dirname(os.path.abspath(compose_path))
    doc = load_all(compose_path)[0]
    services = doc["services"]
    top_secrets = doc.get("secrets", {})
    bffs = sorted(n for n, s in services.items() if "BFF_ENV" in s.get("environment", {}))
    with open(nginx_path, encoding="utf-8") as f:
        nginx = f.read()

    def secret_files():
        out = []
        for name, spec in top_secrets.items():
            path = os.path.join(here, spec["file"])
            if not os.path.isfile(path):
                out.append(f"secret {name}: {spec['file']} missing")
                continue
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            if len(lines) != 1 or not lines[0].strip():
                out.append(f"secret {name}: {spec['file']} must hold one value on one line")
        for sname, svc in services.items():
            env = svc.get("environment", {})
            mounted = set(svc.get("secrets", []))
            for key in SECRET_KEYS:
                if key in env:
                    out.append(f"{sname}: {key} given as a value; use {key}_FILE")
            for n, v in env.items():
                if n.endswith("_FILE"):
                    m = re.fullmatch(r"/run/secrets/([\w.-]+)", str(v))
                    if not m or m.group(1) not in mounted or m.group(1) not in top_secrets:
                        out.append(f"{sname}: {n}={v} is not a mounted compose secret")
        return out

    def wiring():
        out = []
        if len(bffs) < 2:
            out.append(f"expected at least two BFF instances, found {bffs}")
        sandbox_port = services["sandbox"]["environment"]["SANDBOX_PORT"]
        for n in bffs:
            env = services[n]["environment"]
            if env["BFF_ENV"] != "development":
                out.append(f"{n}: BFF_ENV must be development (plain-http sandbox)")
            if env.get("BFF__UPSTREAM__BASE_URL") != f"http://sandbox:{sandbox_port}":
                out.append(f"{n}: upstream is not the sandbox")
            if not str(env.get("BFF__STORE__REDIS_URL", "")).startswith("redis://redis:"):
                out.append(f"{n}: store is not the redis service")
            if services[n].get("build", {}).get("target") != "demo":
                out.append(f"{n}: image target must be demo")
            if f"server {n}:" not in nginx:
                out.append(f"nginx does not balance to {n}")
        hook = services["sandbox"]["environment"].get("SANDBOX_WEBHOOK_URL", "")
        if not re.fullmatch(r"http://nginx:\d+/v1/webhooks/aarthik", hook):
            out.append(f"sandbox webhooks go to {hook!r}, not through nginx")
        for n, svc in services.items():
            if "healthcheck" not in svc:
                out.append(f"{n}: no healthcheck")
        return out

    c.run("secrets as files", secret_files)
    c.run("wiring", wiring)
    return c.failed


# ---------------------------------------------------------------- Dockerfile

DEV_SECRET_VALUES = (
    "sk_test_sandbox_key", "dev-only-hs256-secret", "whsec_dev_sandbox_secret", "dev-ops-token",
    "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=",
)


def dockerfile_stages(path):
    """[(name, parent, [(instruction, args)])] in order; continuation lines joined."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append((name, words[0], []))
        elif stages:
            stages[-1][2].append((instr, args.strip()))
    return stages


def dockerfile_checks(path):
    c = Checks("dockerfile")
    here = os.path.dirname(os.path.abspath(path))
    stages = dockerfile_stages(path)
    by_name = {name: (parent, body) for name, parent, body in stages if name}
    names = set(by_name)

    def chain(name):
        """The stage and every stage it is built FROM, nearest first."""
        out = []
        while name in by_name:
            out.append(name)
            name = by_name[name][0]
        return out

    runtime = stages[-1][0]
    runtime_chain = chain(runtime)

    def last(instr, stage_chain):
        for st in stage_chain:
            found = [a for i, a in by_name[st][1] if i == instr]
            if found:
                return found[-1]
        return None

    def production_target():
        out = []
        if runtime != "runtime":
            out.append(f"the last stage (the default target) is {runtime!r}, not 'runtime'")
        env = " ".join(a for st in runtime_chain for i, a in by_name[st][1] if i == "ENV")
        if "BFF_ENV=production" not in env:
            out.append("runtime does not set BFF_ENV=production")
        return out

    def no_dev_config():
        out = []
        for st in runtime_chain:
            for instr, args in by_name[st][1]:
                if instr not in ("COPY", "ADD") or "--from=" in args:
                    continue
                sources = [w for w in args.split() if not w.startswith("--")][:-1]
                for src in sources:
                    if src.rstrip("/") in ("config", ".", "deploy", "deploy/secrets") \
                            or src.endswith("default.toml") or "secrets" in src:
                        out.append(f"stage {st}: {instr} {src} (development configuration or secrets)")
                    # A file copied in must not hold a development secret either.
                    full = os.path.join(here, src)
                    if os.path.isfile(full):
                        with open(full, encoding="utf-8", errors="replace") as f:
                            content = f.read()
                        for value in DEV_SECRET_VALUES:
                            if value in content:
                                out.append(f"stage {st}: {src} holds a development secret")
                                break
            for instr, args in by_name[st][1]:
                if any(value in args for value in DEV_SECRET_VALUES):
                    out.append(f"stage {st}: {instr} carries a development secret")
        return out

    def healthcheck():
        hc = last("HEALTHCHECK", runtime_chain)
        if hc is None:
            return ["runtime has no HEALTHCHECK"]
        out = []
        if "aarthik-bff" not in hc or "healthcheck" not in hc.split("CMD", 1)[-1]:
            out.append("HEALTHCHECK does not run `aarthik-bff healthcheck` (which follows the configured port)")
        if re.search(r"\b(curl|wget)\b", hc):
            out.append("HEALTHCHECK uses curl/wget")
        if re.search(r"\b8080\b", hc):
            out.append("HEALTHCHECK hard-codes a port")
        return out

    def no_http_client():
        out = []
        for st in runtime_chain:
            for instr, args in by_name[st][1]:
                if instr == "RUN" and re.search(r"apt-get install[^&;]*\b(curl|wget)\b", args):
                    out.append(f"stage {st} installs curl/wget")
        return out

    c.run("runtime is the default target, BFF_ENV=production", production_target)
    c.run("runtime ships no development configuration or secrets", no_dev_config)
    c.run("health check follows the configured port (aarthik-bff healthcheck)", healthcheck)
    c.run("runtime installs no curl/wget", no_http_client)

    external = [(n, parent) for n, parent, _ in stages if parent not in names and parent != "scratch"]
    unpinned = [p for _, p in external if not re.search(r"@sha256:[0-9a-f]{64}$", p)]
    if unpinned:
        print(f"SKIP dockerfile base images pinned by digest: {', '.join(unpinned)} by tag only "
              "(a release runs scripts/pin-images.sh; scripts/pin-images.sh --check is the gate)")
    else:
        print(f"PASS dockerfile base images pinned by digest ({len(external)})")
    return c.failed


def main(argv):
    if len(argv) >= 4 and argv[1] == "k8s":
        docs = load_all(argv[3])
        base = load_all(argv[4]) if len(argv) > 4 else docs
        return 1 if k8s_checks(argv[2], docs, base) else 0
    if len(argv) == 3 and argv[1] == "dockerfile":
        return 1 if dockerfile_checks(argv[2]) else 0
    if len(argv) == 4 and argv[1] == "compose":
        return 1 if compose_checks(argv[2], argv[3]) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
