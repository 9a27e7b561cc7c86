#!/usr/bin/env bash
# The quick-start demo: builds examples/multi-stage with layercache on a real engine, twice,
# the second time after a source change on a wiped runner, so you can watch the cache work.
# Brings up a local engine and registry first (scripts/engine-up.sh; installs Debian packages
# when run as root). Without an engine it falls back to printing the plan (--dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=target/release/layercache
spec=examples/multi-stage/layercache.yml

if ! env_lines=$(scripts/engine-up.sh); then
    echo "== no Docker engine could be started here; this is the plan layercache would run:" >&2
    exec "$bin" build --dry-run -f "$spec"
fi
eval "$env_lines"
export LAYERCACHE_REGISTRY=$LAYERCACHE_E2E_REGISTRY
export LAYERCACHE_BASE_IMAGE=$LAYERCACHE_E2E_BASE_IMAGE
export LAYERCACHE_DOCKER=$LAYERCACHE_E2E_BUILDKIT_DOCKER
docker=$LAYERCACHE_DOCKER
repo=$LAYERCACHE_REGISTRY/examples/multi-stage

# A fresh CI runner: no local image of the example, no BuildKit cache.
wipe() {
    local images
    images=$("$docker" images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo:" || true)
    # One image per line: word splitting is what is wanted here.
    # shellcheck disable=SC2086
    [ -z "$images" ] || "$docker" rmi -f $images >/dev/null
    "$docker" builder prune -af >/dev/null
}

echo "== the plan" >&2
"$bin" plan -f "$spec"

echo "== run 1: a fresh runner, empty registry" >&2
wipe
start=$(date +%s%N)
"$bin" build -f "$spec"
run1=$(( ($(date +%s%N) - start) / 1000000 ))

echo "== run 2: source changed, local cache wiped: only the registry holds the cache" >&2
src=examples/multi-stage/src/main.sh
cp "$src" "$src.orig"
trap 'mv "$src.orig" "$src"' EXIT
echo "echo \"changed at $(date +%T)\"" >> "$src"
wipe
start=$(date +%s%N)
"$bin" build -f "$spec" 2>&1 | tee /tmp/layercache-demo.log >&2
run2=$(( ($(date +%s%N) - start) / 1000000 ))

echo >&2
printf '== run 1 (cold): %d ms; run 2 (wiped runner, source changed): %d ms; %s steps CACHED in run 2\n' \
    "$run1" "$run2" "$(grep -c ' CACHED$' /tmp/layercache-demo.log)" >&2
