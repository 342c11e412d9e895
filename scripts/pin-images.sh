#!/usr/bin/env bash
# Pin the Dockerfile's base images by digest (a release step; see deploy/README.md).
#
#   scripts/pin-images.sh            resolve each `FROM image:tag` (pinned or not) to the digest the
#                                    registry serves for that tag now, and rewrite the line to
#                                    `FROM image:tag@sha256:…`
#   scripts/pin-images.sh --check    only report: exit 0 when every base image is pinned, 1 otherwise
#   DOCKERFILE=path                  another Dockerfile (default: ./Dockerfile)
#
# Digests come from the registry, never from this script: `docker buildx imagetools inspect` (the
# multi-platform index digest), else `docker pull` + `docker inspect` (RepoDigests), else
# `skopeo inspect`. When none of them answers, nothing is written and the script exits 1: a digest is
# never guessed. Stage names (`FROM deps AS build`) are not images and are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${DOCKERFILE:-Dockerfile}
mode=pin
[ "${1:-}" = "--check" ] && mode=check

# Stage names defined so far, and the external images of every FROM line.
mapfile -t froms < <(grep -nE '^[[:space:]]*FROM[[:space:]]' "$file")
stages=" "
images=()
for entry in "${froms[@]}"; do
  line=${entry#*:}
  read -r -a words <<<"$line"
  img=""
  for w in "${words[@]:1}"; do
    case "$w" in --*) continue ;; *) img=$w; break ;; esac
  done
  if [ "${#words[@]}" -ge 4 ] && [ "${words[-2],,}" = "as" ]; then stage=${words[-1]}; else stage=""; fi
  case "$stages" in *" $img "*) ;; *) images+=("${entry%%:*} $img") ;; esac
  [ -n "$stage" ] && stages+="$stage "
done

unpinned=0
for pair in "${images[@]}"; do
  img=${pair#* }
  if [[ "$img" =~ @sha256:[0-9a-f]{64}$ ]]; then
    echo "pinned   line ${pair%% *}: $img"
  else
    echo "UNPINNED line ${pair%% *}: $img"
    unpinned=$((unpinned + 1))
  fi
done
if [ "$mode" = check ]; then
  echo "$unpinned of ${#images[@]} base images not pinned by digest in $file"
  [ "$unpinned" -eq 0 ]
  exit
fi

# resolve IMAGE:TAG -> sha256:… (the registry's answer) or nothing.
resolve() {
  local ref=$1 d=""
  if docker buildx version >/dev/null 2>&1; then
    d=$(timeout 120 docker buildx imagetools inspect "$ref" --format '{{json .Manifest}}' 2>/dev/null \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])' 2>/dev/null || true)
  fi
  if [ -z "$d" ] && docker info >/dev/null 2>&1; then
    if timeout 600 docker pull -q "$ref" >/dev/null 2>&1; then
      d=$(docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" 2>/dev/null \
        | sed -n 's/.*@\(sha256:[0-9a-f]\{64\}\)$/\1/p' | head -n1)
    fi
  fi
  if [ -z "$d" ] && command -v skopeo >/dev/null 2>&1; then
    d=$(timeout 120 skopeo inspect --raw "docker://$ref" 2>/dev/null | sha256sum | sed 's/ .*//;s/^/sha256:/' || true)
  fi
  [[ "$d" =~ ^sha256:[0-9a-f]{64}$ ]] && echo "$d"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cp "$file" "$tmp"
failed=0
for pair in "${images[@]}"; do
  n=${pair%% *} img=${pair#* }
  ref=${img%@*}
  if d=$(resolve "$ref") && [ -n "$d" ]; then
    # Replace the image word on that line only (its old digest, if any, goes with it).
    python3 - "$tmp" "$n" "$img" "$ref@$d" <<'PY'
import sys
path, n, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = open(path, encoding="utf-8").read().split("\n")
words = lines[n - 1].split(" ")
lines[n - 1] = " ".join(new if w == old else w for w in words)
open(path, "w", encoding="utf-8").write("\n".join(lines))
PY
    echo "line $n: $ref -> $ref@$d"
  else
    echo "line $n: cannot resolve $ref (no docker buildx, no docker engine able to pull, no skopeo, or no registry access)" >&2
    failed=$((failed + 1))
  fi
done
if [ "$failed" -gt 0 ]; then
  echo "$failed base images could not be resolved; $file left unchanged" >&2
  exit 1
fi
cp "$tmp" "$file"
echo "$file: ${#images[@]} base images pinned by digest"
