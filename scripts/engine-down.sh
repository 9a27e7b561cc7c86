#!/usr/bin/env bash
# Stop what scripts/engine-up.sh started, and only that: the processes whose PIDs are in its pid
# files under ${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine} (never anything found by name):
# the registry, and the dockerd of whichever engine set-up is up ($STATE/engines/*/dockerd.pid,
# whatever LAYERCACHE_ENGINE says), with its containerd and leftover shims.
# An engine that engine-up.sh found already running is left alone. Safe to run twice, and when
# nothing is up. Removes the registry's storage (and engine.env, which would point at nothing).
# Keeps the package cache ($STATE/pkgs) and the engines' data-roots, so that the next bring-up
# is warm; LAYERCACHE_ENGINE_PURGE=1 also removes the data-roots of the engines under $STATE
# (not /var/lib/docker), once nothing is mounted below them.
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

# stop_engine DIR NAME: dockerd (pid in DIR/dockerd.pid), then whatever it started that outlived it.
stop_engine() {
    local dir="$1" name="$2" pid pidfile sock exec_root tree shims f p pp cpid
    pid=$(read_pidfile "$dir/dockerd.pid")
    [ -n "$pid" ] || return 0
    # Where that set-up's dockerd keeps its pid file, socket and runtime state (engine-up.sh).
    if [ "$name" = 20.10 ]; then
        pidfile=/var/run/docker.pid sock=/var/run/docker.sock exec_root=/var/run/docker
    else
        pidfile="$dir/docker.pid" sock="$dir/docker.sock" exec_root="$dir/exec"
    fi
    if pid_alive "$pid" dockerd; then
        # Note its process tree (its containerd, containerd's children) before stopping it.
        tree=$(descendants "$pid" || true)
        stop_pid "$pid" dockerd "dockerd of $name" || rc=1
        # Containers and their shims are not below dockerd (the shims daemonize). Each
        # container's init pid is in a pid file in the state dir of dockerd's own containerd,
        # and its shim is that process's parent. dockerd stops containers on SIGTERM; this only
        # catches what a SIGKILLed dockerd left behind.
        shims=""
        for f in "$exec_root"/containerd/daemon/io.containerd.runtime.v2.task/*/*/init.pid; do
            [ -f "$f" ] || continue
            p=$(read_pidfile "$f")
            if [ -z "$p" ] || ! pid_alive "$p" '*'; then continue; fi
            shims+="$p $(argv0_of "$p")"$'\n'
            pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null || true)
            case "$(argv0_of "$pp")" in
                containerd-shim*) shims+="$pp $(argv0_of "$pp")"$'\n' ;;
            esac
        done
        cpid=$(read_pidfile "$dir/containerd.pid")
        [ -n "$cpid" ] && tree+=$'\n'"$cpid containerd"
        while read -r p pname; do
            [ -n "${p:-}" ] || continue
            if pid_alive "$p" "$pname"; then
                stop_pid "$p" "$pname" "dockerd's leftover $pname" || rc=1
            fi
        done <<<"$tree"$'\n'"$shims"
        # A dockerd killed with SIGKILL leaves its pid file and socket behind: remove ours.
        if [ "$(read_pidfile "$pidfile")" = "$pid" ]; then
            log "removing $pidfile and $sock left by our dockerd"
            rm -f "$pidfile" "$sock"
        fi
    else
        log "the $name dockerd pid file names pid $pid, which is not a running dockerd"
        # A SIGKILLed dockerd leaves its containerd (recorded by engine-up) running.
        cpid=$(read_pidfile "$dir/containerd.pid")
        if [ -n "$cpid" ] && pid_alive "$cpid" containerd; then
            stop_pid "$cpid" containerd "the $name dockerd's leftover containerd" || rc=1
        fi
    fi
    rm -f "$dir/dockerd.pid" "$dir/containerd.pid"
}

# 2. The engine set-ups' dockerds (one at a time is up; all are checked). The layout before the
#    set-ups kept the 20.10 pid files in $STATE itself.
stopped=0
if [ -f "$STATE/dockerd.pid" ]; then
    mkdir -p "$STATE/engines/20.10"
    mv "$STATE/dockerd.pid" "$STATE/engines/20.10/dockerd.pid"
    if [ -f "$STATE/containerd.pid" ]; then mv "$STATE/containerd.pid" "$STATE/engines/20.10/containerd.pid"; fi
fi
for dir in "$STATE"/engines/*/; do
    dir="${dir%/}"
    [ -f "$dir/dockerd.pid" ] || continue
    stop_engine "$dir" "${dir##*/}"
    stopped=$((stopped + 1))
done
[ "$stopped" -gt 0 ] ||
    log "no dockerd pid file: no engine of ours to stop (an engine we did not start is left alone)"

# 3. Registry storage and the env file (it would name a registry that is gone). The BuildKit
#    check is redone with the next base image.
rm -rf "$STATE/registry-data" "$STATE"/rootfs.*
rm -f "$STATE/engine.env" "$STATE/engine.name" "$STATE/buildkit-client" "$STATE"/engines/*/buildkit-client

# 4. LAYERCACHE_ENGINE_PURGE=1: the data-roots of our private engines too (not /var/lib/docker).
if [ "${LAYERCACHE_ENGINE_PURGE:-0}" = 1 ] && [ "$rc" = 0 ]; then
    for dir in "$STATE"/engines/*/; do
        dir="${dir%/}"
        [ -d "$dir/data" ] || [ -d "$dir/exec" ] || continue
        if awk -v d="$dir/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
            log "WARNING: something is still mounted below $dir: not purging it"
            rc=1
            continue
        fi
        log "purging $dir/data and $dir/exec"
        rm -rf "$dir/data" "$dir/exec"
    done
fi
log "done"
exit "$rc"
