#!/usr/bin/env bash
# Run one command against each engine set-up in turn:
#
#   scripts/e2e-matrix.sh CMD [ARGS...]
#   CI=true scripts/e2e-matrix.sh cargo test --locked --test e2e
#   LAYERCACHE_ENGINES="28.5-classic 28.5-containerd" scripts/e2e-matrix.sh docker info
#
# For each engine in ${LAYERCACHE_ENGINES:-20.10 26.1-classic 26.1-containerd 28.5-classic
# 28.5-containerd 20.10-tls}: scripts/engine-up.sh with LAYERCACHE_ENGINE set to it, CMD run with
# the exports it printed (DOCKER_HOST, DOCKER_CONFIG, ..., LAYERCACHE_E2E*), scripts/engine-down.sh.
# It goes on to the next engine after a failure, prints a summary (engine, exit status, seconds)
# on stdout, and exits 1 if any engine's bring-up or CMD failed (2 on bad usage).
# With LAYERCACHE_MATRIX_LOG_DIR=DIR, each engine's CMD output is also written to DIR/ENGINE.log
# (and its bring-up/down to DIR/ENGINE.engine.log). An engine set-up of ours that is up when the
# matrix starts is brought down first (engine-down.sh stops only what engine-up.sh started).
set -uo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]   (engines: \${LAYERCACHE_ENGINES:-all six})" >&2
    exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# engine_known, ALL_ENGINES
# shellcheck source=scripts/engine-lib.sh
. "$HERE/engine-lib.sh"

read -r -a ENGINES <<<"${LAYERCACHE_ENGINES:-$ALL_ENGINES}"
for e in "${ENGINES[@]}"; do
    engine_known "$e" || { echo "e2e-matrix: unknown engine '$e' (one of: $ALL_ENGINES)" >&2; exit 2; }
done
LOG_DIR="${LAYERCACHE_MATRIX_LOG_DIR:-}"
[ -z "$LOG_DIR" ] || mkdir -p "$LOG_DIR"

say() { printf '\n=== e2e-matrix: %s\n' "$*" >&2; }

# run_logged FILE CMD...: CMD with its stderr also appended to FILE (when FILE is not empty).
run_logged() {
    local file="$1"
    shift
    if [ -n "$file" ]; then
        "$@" 2> >(tee -a "$file" >&2)
    else
        "$@"
    fi
}

# One engine at a time on the machine: a second matrix (or benchmark run through it) waits here
# rather than bringing this one's engine down under it.
exec 8>"${TMPDIR:-/tmp}/layercache-machine.lock"
if ! flock -n 8; then
    say "another engine user holds ${TMPDIR:-/tmp}/layercache-machine.lock: waiting"
    flock 8
fi

STATE="${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine}"
if [ -f "$STATE/engine.env" ] || compgen -G "$STATE/engines/*/dockerd.pid" >/dev/null; then
    say "an engine set-up of ours is up ($(cat "$STATE/engine.name" 2>/dev/null || echo '?')): bringing it down first"
    "$HERE/engine-down.sh" || true
fi

declare -a RESULTS=()
failed=0
for engine in "${ENGINES[@]}"; do
    t0=$(date +%s)
    elog=""
    clog=""
    if [ -n "$LOG_DIR" ]; then
        elog="$LOG_DIR/$engine.engine.log"
        clog="$LOG_DIR/$engine.log"
        : >"$elog"
        : >"$clog"
    fi
    say "$engine: bringing it up"
    status=""
    # fd 8 (the machine lock) closed for engine-up: the daemons it starts would otherwise
    # inherit it and hold the lock for as long as they run.
    if env_lines=$(LAYERCACHE_ENGINE="$engine" run_logged "$elog" "$HERE/engine-up.sh" 8>&-); then
        say "$engine: up; running: $*"
        # A subshell: this engine's exports do not leak into the next engine's bring-up.
        (
            eval "$env_lines"
            if [ -n "$clog" ]; then
                "$@" > >(tee "$clog") 2> >(tee -a "$clog" >&2)
            else
                "$@"
            fi
        )
        status=$?
        say "$engine: the command exited $status"
    else
        status="up-failed($?)"
        say "$engine: engine-up failed ($status): the command did not run"
    fi
    if ! LAYERCACHE_ENGINE="$engine" run_logged "$elog" "$HERE/engine-down.sh"; then
        say "$engine: engine-down failed"
        status="$status,down-failed"
    fi
    [ "$status" = 0 ] || failed=$((failed + 1))
    RESULTS+=("$(printf '%-17s %-22s %6ss' "$engine" "$status" "$(($(date +%s) - t0))")")
done

{
    printf '\ne2e-matrix summary: %s\n' "$*"
    printf '%-17s %-22s %7s\n' engine 'exit status' seconds
    printf '%s\n' "${RESULTS[@]}"
    printf '%d of %d engine set-ups failed\n' "$failed" "${#ENGINES[@]}"
}
[ "$failed" -eq 0 ]
