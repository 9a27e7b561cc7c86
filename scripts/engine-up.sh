#!/usr/bin/env bash
# Bring up a real Docker engine and a local registry for layercache's end-to-end tests.
#
#   eval "$(scripts/engine-up.sh)"          # or: scripts/engine-up.sh >/dev/null; . "$STATE/engine.env"
#
# Idempotent: a second run reuses what the first started (and installs nothing).
# State lives in ${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine}: pid files (only of processes
# this script started), logs, the registry's config and storage, and engine.env.
# Only the `export ...` lines go to stdout; every progress message goes to stderr.
# scripts/engine-down.sh stops what this script started.
set -euo pipefail

STATE="${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

# fd 3 is the real stdout (for the export lines); everything else goes to stderr.
exec 3>&1 1>&2

T0=$(date +%s)
log() { printf '[engine-up %3ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# One engine-up at a time per state dir. Daemons started below close fd 9, so they do not hold it.
exec 9>"$STATE/.lock"
flock 9

DOCKERD_BIN=/usr/sbin/dockerd
REGISTRY_BIN=/usr/bin/docker-registry
BASE_REPO=layercache/base
BASE_TAG=1

# ---------------------------------------------------------------- process helpers
# pid_alive, read_pidfile
# shellcheck source=scripts/engine-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

# ---------------------------------------------------------------- http helpers
# http_get URL_PATH PORT: body of GET http://127.0.0.1:PORT/PATH (curl, else bash /dev/tcp).
http_get() {
    local path="$1" port="$2"
    if command -v curl >/dev/null 2>&1; then
        curl -s --max-time 5 "http://127.0.0.1:$port$path"
    else
        (
            exec 5<>"/dev/tcp/127.0.0.1/$port" || exit 1
            printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$path" "$port" >&5
            timeout 5 cat <&5 | sed '1,/^\r\{0,1\}$/d'
        ) 2>/dev/null
    fi
}

# http_status_head URL_PATH PORT [ACCEPT]: status code of a HEAD request.
http_status_head() {
    local path="$1" port="$2" accept="${3:-*/*}"
    if command -v curl >/dev/null 2>&1; then
        curl -s -o /dev/null -I --max-time 5 -H "Accept: $accept" -w '%{http_code}' \
            "http://127.0.0.1:$port$path" || echo 000
    else
        (
            exec 5<>"/dev/tcp/127.0.0.1/$port" || exit 1
            printf 'HEAD %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nAccept: %s\r\n\r\n' \
                "$path" "$port" "$accept" >&5
            timeout 5 head -n1 <&5 | awk '{ print $2 }'
        ) 2>/dev/null || echo 000
    fi
}

registry_answers() { [ "$(http_get /v2/ "$1" 2>/dev/null | tr -d '[:space:]')" = "{}" ]; }

port_in_use() { (exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- docker client
engine_answers() { timeout 15 "$1" info >/dev/null 2>&1; }

# The client used to talk to the engine (info, import, push): Debian's if present.
pick_cli() {
    if [ -x /usr/bin/docker ]; then echo /usr/bin/docker
    elif command -v docker >/dev/null 2>&1; then command -v docker
    else echo ""; fi
}

existing_engine() {
    local c
    for c in /usr/bin/docker "$(command -v docker 2>/dev/null || true)"; do
        [ -n "$c" ] && [ -x "$c" ] && engine_answers "$c" && return 0
    done
    return 1
}

# A client that can build with DOCKER_BUILDKIT=1 (has buildx, or is Debian's 20.10 which uses
# the daemon's built-in BuildKit). Candidates in order of preference; verified later by a build.
buildkit_candidates() {
    local path_docker
    path_docker=$(command -v docker 2>/dev/null || true)
    [ -x /usr/bin/docker ] && echo /usr/bin/docker
    if [ -n "$path_docker" ] && [ "$path_docker" != /usr/bin/docker ]; then echo "$path_docker"; fi
}

# ---------------------------------------------------------------- install
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_packages() {
    local need_engine="$1" missing=() p
    if [ "$need_engine" = 1 ]; then
        { [ -x "$DOCKERD_BIN" ] && [ -x /usr/bin/docker ]; } || missing+=(docker.io)
    elif [ ! -x /usr/bin/docker ]; then
        # An engine already runs; we still want a client that builds with BuildKit.
        local d; d=$(command -v docker 2>/dev/null || true)
        { [ -n "$d" ] && "$d" buildx version >/dev/null 2>&1; } || missing+=(docker.io)
    fi
    [ -x "$REGISTRY_BIN" ] || missing+=(docker-registry)
    if [ ! -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1; then missing+=(busybox-static); fi
    # Package present but binary gone (or the reverse): trust the binaries, and log.
    for p in "${missing[@]}"; do
        pkg_installed "$p" && log "package $p is installed but its binary is missing: reinstalling"
    done
    [ "${#missing[@]}" -eq 0 ] && { log "packages: nothing to install"; return 0; }

    if [ "$(id -u)" -ne 0 ]; then
        die "missing: ${missing[*]}. Install them as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing: ${missing[*]} and no apt-get here; install Debian's ${missing[*]} (dockerd, docker client, docker-registry, static busybox)"

    # Make sure the packages' maintainer scripts do not start their own services (docker,
    # containerd, docker-registry on :5000): only this script starts daemons, so that
    # engine-down.sh can stop them. A policy-rc.d may already exist (it does on this image).
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    local t rc=0
    t=$(date +%s)
    log "installing: ${missing[*]} (apt-get update, then install)"
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    } >"$STATE/apt.log" 2>&1 || rc=$?
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    if [ "$rc" -ne 0 ]; then
        tail -n 30 "$STATE/apt.log" >&2
        die "apt-get failed (rc=$rc), full log: $STATE/apt.log"
    fi
    log "installed ${missing[*]} in $(($(date +%s) - t))s"
}

# ---------------------------------------------------------------- dockerd
# Remove leftovers of a dockerd / containerd that no longer run (dockerd refuses to start on
# "pid file found", and on a stale /run/containerd/containerd.sock it tries a dead containerd).
clean_stale_engine_files() {
    local pid
    if [ -e /var/run/docker.pid ]; then
        pid=$(read_pidfile /var/run/docker.pid)
        if pid_alive "$pid" dockerd; then
            return 0 # a live dockerd owns them
        fi
        log "removing stale /var/run/docker.pid (pid '${pid}' is not a running dockerd)"
        rm -f /var/run/docker.pid
    fi
    if [ -S /var/run/docker.sock ] || [ -e /var/run/docker.sock ]; then
        log "removing stale /var/run/docker.sock (no dockerd runs)"
        rm -f /var/run/docker.sock
    fi
    if [ -e /var/run/docker/containerd/containerd.pid ]; then
        pid=$(read_pidfile /var/run/docker/containerd/containerd.pid)
        if ! pid_alive "$pid" containerd; then
            log "removing stale /var/run/docker/containerd/containerd.pid"
            rm -f /var/run/docker/containerd/containerd.pid
        fi
    fi
    # dockerd only checks that this socket *exists* to decide to use a system containerd.
    if [ -e /run/containerd/containerd.sock ]; then
        local live=0
        if command -v python3 >/dev/null 2>&1; then
            if python3 - <<'PY'; then live=1; fi
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect("/run/containerd/containerd.sock")
except OSError:
    sys.exit(1)
PY
        else
            local p
            for p in /proc/[0-9]*; do
                pid_alive "${p#/proc/}" containerd && { live=1; break; }
            done
        fi
        if [ "$live" = 0 ]; then
            log "removing stale /run/containerd/containerd.sock (nothing serves it)"
            rm -f /run/containerd/containerd.sock
        fi
    fi
}

start_dockerd() {
    [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and not root: start dockerd (as root: $0), or set DOCKER_HOST"
    [ -x "$DOCKERD_BIN" ] || die "$DOCKERD_BIN missing (install Debian's docker.io)"
    clean_stale_engine_files
    if [ -e /var/run/docker.pid ]; then
        local other; other=$(read_pidfile /var/run/docker.pid)
        log "a dockerd (pid $other) runs but does not answer yet; waiting for it (not ours, not recorded)"
        wait_engine "$CLI" "" && return 0
        die "dockerd pid $other runs but does not answer; stop it or fix it"
    fi
    local t pid
    t=$(date +%s)
    log "starting $DOCKERD_BIN (log: $STATE/dockerd.log)"
    setsid "$DOCKERD_BIN" </dev/null >>"$STATE/dockerd.log" 2>&1 3>&- 9>&- &
    pid=$!
    echo "$pid" >"$STATE/dockerd.pid"
    if ! wait_engine "$CLI" "$pid"; then
        log "dockerd did not answer in 60s; last lines of $STATE/dockerd.log:"
        tail -n 40 "$STATE/dockerd.log" >&2
        die "dockerd failed to start"
    fi
    log "dockerd (pid $pid) ready in $(($(date +%s) - t))s"
    record_containerd "$pid"
}

# wait_engine CLI [PID]: poll `CLI info` up to 60 s; give up early if PID dies.
wait_engine() {
    local cli="$1" pid="${2:-}"
    for _ in $(seq 1 120); do
        engine_answers "$cli" && return 0
        if [ -n "$pid" ] && ! pid_alive "$pid" dockerd; then
            log "dockerd (pid $pid) exited"
            return 1
        fi
        sleep 0.5
    done
    return 1
}

# dockerd 20.10 supervises its own containerd when no system one runs; record it so that
# engine-down.sh can make sure it is gone too.
record_containerd() {
    local dpid="$1" cpid="" c
    for c in $(ps -o pid= --ppid "$dpid" 2>/dev/null || cat "/proc/$dpid/task/$dpid/children" 2>/dev/null); do
        if pid_alive "$c" containerd; then cpid="$c"; break; fi
    done
    if [ -n "$cpid" ]; then
        echo "$cpid" >"$STATE/containerd.pid"
        log "dockerd's own containerd: pid $cpid"
    else
        rm -f "$STATE/containerd.pid"
    fi
}

# ---------------------------------------------------------------- registry
start_registry() {
    [ -x "$REGISTRY_BIN" ] || die "$REGISTRY_BIN missing (install Debian's docker-registry)"
    mkdir -p "$STATE/registry-data"
    local t port pid tried=0 prev ports=()
    t=$(date +%s)
    prev=$(read_pidfile "$STATE/registry.port")
    [ -n "$prev" ] && ports+=("$prev")
    for port in $(seq 5000 5100); do ports+=("$port"); done
    for port in "${ports[@]}"; do
        port_in_use "$port" && continue
        tried=$((tried + 1))
        [ "$tried" -le 10 ] || break
        cat >"$STATE/registry.yml" <<YML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
        log "starting $REGISTRY_BIN on 127.0.0.1:$port (log: $STATE/registry.log)"
        setsid "$REGISTRY_BIN" serve "$STATE/registry.yml" </dev/null >>"$STATE/registry.log" 2>&1 3>&- 9>&- &
        pid=$!
        for _ in $(seq 1 60); do
            registry_answers "$port" && break
            pid_alive "$pid" docker-registry || break
            sleep 0.25
        done
        if registry_answers "$port" && pid_alive "$pid" docker-registry; then
            echo "$pid" >"$STATE/registry.pid"
            echo "$port" >"$STATE/registry.port"
            REG_PORT="$port"
            log "registry (pid $pid) ready on 127.0.0.1:$port in $(($(date +%s) - t))s"
            return 0
        fi
        if pid_alive "$pid" docker-registry; then kill "$pid" 2>/dev/null || true; fi
        log "registry did not come up on port $port; last log lines:"
        tail -n 5 "$STATE/registry.log" >&2
    done
    die "could not start the registry (see $STATE/registry.log)"
}

# ---------------------------------------------------------------- base image
base_in_registry() {
    local code
    code=$(http_status_head "/v2/$BASE_REPO/manifests/$BASE_TAG" "$REG_PORT" \
        'application/vnd.docker.distribution.manifest.v2+json')
    [ "$code" = 200 ]
}

make_base_image() {
    local ref="$1" t root
    t=$(date +%s)
    [ -x /bin/busybox ] || die "/bin/busybox missing (install Debian's busybox-static)"
    root=$(mktemp -d "$STATE/rootfs.XXXXXX")
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    local a
    for a in sh echo cat sleep mkdir cp ls true false dd head tail tr wc rm mv touch env \
        grep sed printf test expr date sort uniq cut seq ln chmod find xargs basename dirname; do
        ln -s busybox "$root/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    log "importing $ref from /bin/busybox"
    # Fixed order and times: the same layer digest on every machine and every run.
    tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$root" -c . |
        "$CLI" import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["sh"]' - "$ref" >&2
    rm -rf "$root"
    "$CLI" push "$ref" >&2
    log "base image $ref pushed in $(($(date +%s) - t))s"
}

# ---------------------------------------------------------------- BuildKit check
# buildkit_works CLIENT: a tiny RUN step with DOCKER_BUILDKIT=1 succeeds.
buildkit_works() {
    local client="$1" tag="layercache-selftest:$$" rc=0
    printf 'FROM %s\nRUN echo hi > /x\n' "$BASE_REF" |
        DOCKER_BUILDKIT=1 timeout 120 "$client" build --progress=plain --no-cache -t "$tag" - \
            >"$STATE/buildkit-check.log" 2>&1 || rc=$?
    "$CLI" rmi -f "$tag" >/dev/null 2>&1 || true
    return "$rc"
}

# ================================================================= main
# 1. Docker engine
OURS_DOCKERD=$(read_pidfile "$STATE/dockerd.pid")
if [ -n "$OURS_DOCKERD" ] && ! pid_alive "$OURS_DOCKERD" dockerd; then
    log "dockerd pid file is stale (pid $OURS_DOCKERD not running): removing it"
    rm -f "$STATE/dockerd.pid" "$STATE/containerd.pid"
    OURS_DOCKERD=""
fi

if existing_engine; then
    if [ -n "$OURS_DOCKERD" ]; then
        log "reusing the dockerd this script started (pid $OURS_DOCKERD)"
    else
        log "a Docker engine already answers: using it (not started by us, engine-down leaves it alone)"
    fi
    ensure_packages 0
    CLI=$(pick_cli)
elif [ -n "$OURS_DOCKERD" ]; then
    ensure_packages 1
    CLI=$(pick_cli)
    log "our dockerd (pid $OURS_DOCKERD) runs but does not answer yet: waiting"
    wait_engine "$CLI" "$OURS_DOCKERD" || {
        tail -n 40 "$STATE/dockerd.log" >&2
        die "our dockerd (pid $OURS_DOCKERD) does not answer; run scripts/engine-down.sh and retry"
    }
else
    ensure_packages 1
    CLI=$(pick_cli)
    [ -n "$CLI" ] || die "no docker client found after install"
    start_dockerd
fi
[ -n "$CLI" ] || die "no docker client found"

# 2. Registry
REG_PORT=""
OURS_REG=$(read_pidfile "$STATE/registry.pid")
if [ -n "$OURS_REG" ]; then
    port=$(read_pidfile "$STATE/registry.port")
    if pid_alive "$OURS_REG" docker-registry && [ -n "$port" ] && registry_answers "$port"; then
        REG_PORT="$port"
        log "reusing our registry (pid $OURS_REG) on 127.0.0.1:$REG_PORT"
    else
        if pid_alive "$OURS_REG" docker-registry; then
            log "our registry (pid $OURS_REG) does not answer: stopping it"
            kill "$OURS_REG" 2>/dev/null || true
            sleep 1
            if pid_alive "$OURS_REG" docker-registry; then kill -9 "$OURS_REG" 2>/dev/null || true; fi
        fi
        rm -f "$STATE/registry.pid"
    fi
fi
[ -n "$REG_PORT" ] || start_registry

REGISTRY="127.0.0.1:$REG_PORT"
BASE_REF="$REGISTRY/$BASE_REPO:$BASE_TAG"

# 3. Base image
if base_in_registry; then
    log "base image $BASE_REF already in the registry"
    NEW_BASE=0
else
    make_base_image "$BASE_REF"
    NEW_BASE=1
fi

# 4. Clients. BuildKit: verified by a real build once, after the base image was (re)made.
LEGACY_CLIENT=$(command -v docker 2>/dev/null || true)
[ -n "$LEGACY_CLIENT" ] || LEGACY_CLIENT="$CLI"
BUILDKIT_CLIENT=""
if [ "$NEW_BASE" = 0 ] && [ -f "$STATE/buildkit-client" ]; then
    BUILDKIT_CLIENT=$(cat "$STATE/buildkit-client")
    [ -x "$BUILDKIT_CLIENT" ] || BUILDKIT_CLIENT=""
fi
if [ -z "$BUILDKIT_CLIENT" ]; then
    t=$(date +%s)
    for c in $(buildkit_candidates); do
        if buildkit_works "$c"; then BUILDKIT_CLIENT="$c"; break; fi
        log "DOCKER_BUILDKIT=1 $c build fails: $(grep -m1 -i error "$STATE/buildkit-check.log" || tail -n1 "$STATE/buildkit-check.log")"
    done
    [ -n "$BUILDKIT_CLIENT" ] || {
        tail -n 20 "$STATE/buildkit-check.log" >&2
        die "no docker client builds with DOCKER_BUILDKIT=1 (tried: $(buildkit_candidates | tr '\n' ' '))"
    }
    echo "$BUILDKIT_CLIENT" >"$STATE/buildkit-client"
    log "BuildKit build with $BUILDKIT_CLIENT works (checked in $(($(date +%s) - t))s)"
fi

# 5. Env lines
ENV_TEXT="export LAYERCACHE_E2E=1
export LAYERCACHE_E2E_REGISTRY=$REGISTRY
export LAYERCACHE_E2E_BASE_IMAGE=$BASE_REF
export LAYERCACHE_E2E_BUILDKIT_DOCKER=$BUILDKIT_CLIENT
export LAYERCACHE_E2E_LEGACY_DOCKER=$LEGACY_CLIENT"
printf '%s\n' "$ENV_TEXT" >"$STATE/engine.env.tmp"
mv "$STATE/engine.env.tmp" "$STATE/engine.env"
log "engine up in $(($(date +%s) - T0))s; env in $STATE/engine.env"
printf '%s\n' "$ENV_TEXT" >&3
