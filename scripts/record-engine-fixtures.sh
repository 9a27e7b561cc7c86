#!/usr/bin/env bash
# Record what the docker clients of the engine set-up that is up print, for the planner's probe
# tests: tests/fixtures/engines/$LAYERCACHE_ENGINE/ (see the README there).
#
#   eval "$(LAYERCACHE_ENGINE=28.5-containerd scripts/engine-up.sh)" && scripts/record-engine-fixtures.sh
#   scripts/e2e-matrix.sh scripts/record-engine-fixtures.sh          # every engine set-up
#
# For the BuildKit client (LAYERCACHE_E2E_BUILDKIT_DOCKER, prefix `buildkit-`) and the client
# without buildx (LAYERCACHE_E2E_LEGACY_DOCKER, prefix `legacy-`), each command's stdout goes to
# NAME.stdout, its stderr (when there is any) to NAME.stderr, and index.tsv lists
# NAME, exit status and the command. Nothing is masked.
set -euo pipefail

: "${LAYERCACHE_ENGINE:?run this with the exports of scripts/engine-up.sh}"
: "${LAYERCACHE_E2E_BUILDKIT_DOCKER:?run this with the exports of scripts/engine-up.sh}"
ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/fixtures/engines}"
OUT="$ROOT/$LAYERCACHE_ENGINE"
rm -rf "$OUT"
mkdir -p "$OUT"

# rec NAME CLIENT ARGS...: run CLIENT ARGS, keep stdout, stderr and the exit status.
rec() {
    local name="$1" client="$2" rc=0
    shift 2
    "$client" "$@" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || rc=$?
    [ -s "$OUT/$name.stderr" ] || rm -f "$OUT/$name.stderr"
    printf '%s\t%s\t%s\n' "$name" "$rc" "$(basename "$client") $*" >>"$OUT/index.tsv"
}

printf 'name\texit\tcommand\n' >"$OUT/index.tsv"
{
    echo "LAYERCACHE_ENGINE=$LAYERCACHE_ENGINE"
    echo "DOCKER_HOST=${DOCKER_HOST:-}"
    echo "DOCKER_CONFIG=${DOCKER_CONFIG:-}"
    echo "DOCKER_TLS_VERIFY=${DOCKER_TLS_VERIFY:-}"
    echo "DOCKER_CERT_PATH=${DOCKER_CERT_PATH:-}"
    echo "LAYERCACHE_E2E_BUILDKIT_DOCKER=$LAYERCACHE_E2E_BUILDKIT_DOCKER"
    echo "LAYERCACHE_E2E_LEGACY_DOCKER=${LAYERCACHE_E2E_LEGACY_DOCKER:-}"
    if [ -n "${DOCKER_CONFIG:-}" ] && [ -d "$DOCKER_CONFIG/cli-plugins" ]; then
        echo "plugins in \$DOCKER_CONFIG/cli-plugins: $(find "$DOCKER_CONFIG/cli-plugins" -mindepth 1 -maxdepth 1 -printf "%f " | sort)"
    fi
    echo "recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$OUT/env.txt"

for who in buildkit legacy; do
    if [ "$who" = buildkit ]; then c="$LAYERCACHE_E2E_BUILDKIT_DOCKER"; else c="${LAYERCACHE_E2E_LEGACY_DOCKER:-}"; fi
    [ -n "$c" ] || continue
    rec "$who-client-version" "$c" --version
    rec "$who-version-json" "$c" version --format '{{json .}}'
    rec "$who-version" "$c" version
    rec "$who-buildx-version" "$c" buildx version
    rec "$who-compose-version" "$c" compose version
    # What a client says when asked for BuildKit (no daemon call when buildx is missing).
    rec "$who-buildkit-build-empty" env DOCKER_BUILDKIT=1 "$c" build -q - </dev/null
    if [ "$who" = buildkit ]; then
        # The server side is the same for both clients: recorded once.
        rec "$who-info-json" "$c" info --format '{{json .}}'
        rec "$who-info" "$c" info
        rec "$who-buildx-inspect" "$c" buildx inspect
        # --debug adds the builder's Features (Cache export, Multiple platforms, ...).
        rec "$who-buildx-inspect-debug" "$c" --debug buildx inspect
        rec "$who-buildx-ls" "$c" buildx ls
    fi
done
echo "recorded $(($(wc -l <"$OUT/index.tsv") - 1)) commands in $OUT" >&2
