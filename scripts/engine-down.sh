#!/usr/bin/env bash
# Stop what scripts/engine-up.sh started, and only that: the processes whose PIDs are in its pid
# files under ${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine} (never anything found by name).
# An engine that engine-up.sh found already running is left alone. Safe to run twice, and when
# nothing is up. Removes the registry's storage (and engine.env, which would point at nothing).
set -euo pipefail

STATE="${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine}"
STOP_TIMEOUT="${LAYERCACHE_ENGINE_STOP_TIMEOUT:-20}"

T0=$(date +%s)
log() { printf '[engine-down %3ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }

if [ ! -d "$STATE" ]; then
    log "no state dir $STATE: nothing to stop"
    exit 0
fi
STATE="$(cd "$STATE" && pwd)"

exec 9>"$STATE/.lock"
flock 9

# pid_alive, read_pidfile
# shellcheck source=scripts/engine-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

# stop_pid PID NAME LABEL: SIGTERM, wait up to STOP_TIMEOUT s, then SIGKILL. Returns 0 when gone.
stop_pid() {
    local pid="$1" name="$2" label="$3"
    pid_alive "$pid" "$name" || return 0
    log "stopping $label (pid $pid): SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_TIMEOUT * 4))); do
        pid_alive "$pid" "$name" || { log "$label (pid $pid) exited"; return 0; }
        sleep 0.25
    done
    log "$label (pid $pid) still runs after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
        pid_alive "$pid" "$name" || return 0
        sleep 0.25
    done
    log "WARNING: $label (pid $pid) survived SIGKILL"
    return 1
}

# The command name (argv[0] basename) of PID, for re-checking it later against PID reuse.
argv0_of() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n1 | sed 's#.*/##'; }

# descendants PID: all processes below PID, as "pid name" lines.
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$c $(argv0_of "$c")"
        descendants "$c"
    done
}

rc=0

# 1. Registry
REG_PID=$(read_pidfile "$STATE/registry.pid")
if [ -n "$REG_PID" ]; then
    stop_pid "$REG_PID" docker-registry registry || rc=1
    rm -f "$STATE/registry.pid"
else
    log "no registry pid file: no registry of ours to stop"
fi

# 2. dockerd, then whatever it started that outlived it.
DOCKERD_PID=$(read_pidfile "$STATE/dockerd.pid")
if [ -n "$DOCKERD_PID" ]; then
    if pid_alive "$DOCKERD_PID" dockerd; then
        # Note its process tree (its containerd, containerd's children) before stopping it.
        TREE=$(descendants "$DOCKERD_PID" || true)
        stop_pid "$DOCKERD_PID" dockerd dockerd || rc=1
        # Containers and their shims are not below dockerd (the shims daemonize). Each
        # container's init pid is in a pid file in the state dir of dockerd's own containerd,
        # and its shim is that process's parent. dockerd stops containers on SIGTERM; this only
        # catches what a SIGKILLed dockerd left behind.
        SHIMS=""
        for f in /var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/*/*/init.pid; do
            [ -f "$f" ] || continue
            p=$(read_pidfile "$f")
            if [ -z "$p" ] || ! pid_alive "$p" '*'; then continue; fi
            SHIMS+="$p $(argv0_of "$p")"$'\n'
            pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || true)
            case "$(argv0_of "$pp")" in
                containerd-shim*) SHIMS+="$pp $(argv0_of "$pp")"$'\n' ;;
            esac
        done
        CPID=$(read_pidfile "$STATE/containerd.pid")
        [ -n "$CPID" ] && TREE+=$'\n'"$CPID containerd"
        while read -r p name; do
            [ -n "${p:-}" ] || continue
            if pid_alive "$p" "$name"; then
                stop_pid "$p" "$name" "dockerd's leftover $name" || rc=1
            fi
        done <<<"$TREE"$'\n'"$SHIMS"
        # A dockerd killed with SIGKILL leaves its pid file and socket behind: remove ours.
        if [ "$(read_pidfile /var/run/docker.pid)" = "$DOCKERD_PID" ]; then
            log "removing /var/run/docker.pid and /var/run/docker.sock left by our dockerd"
            rm -f /var/run/docker.pid /var/run/docker.sock
        fi
    else
        log "dockerd pid file names pid $DOCKERD_PID, which is not a running dockerd: nothing to stop"
    fi
    rm -f "$STATE/dockerd.pid" "$STATE/containerd.pid"
else
    log "no dockerd pid file: no engine of ours to stop (an engine we did not start is left alone)"
fi

# 3. Registry storage and the env file (it would name a registry that is gone).
rm -rf "$STATE/registry-data" "$STATE"/rootfs.*
rm -f "$STATE/engine.env" "$STATE/buildkit-client"
log "done"
exit "$rc"
