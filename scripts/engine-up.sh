#!/usr/bin/env bash
# Bring up a real Docker engine and a local registry for layercache's end-to-end tests.
#
#   eval "$(scripts/engine-up.sh)"          # or: scripts/engine-up.sh >/dev/null; . "$STATE/engine.env"
#   LAYERCACHE_ENGINE=28.5-containerd scripts/engine-up.sh
#
# One engine set-up at a time, chosen by LAYERCACHE_ENGINE (default 20.10):
#   20.10            Debian 12's docker.io 20.10 (dockerd's default socket, data-root and pid file;
#                    an engine that already answers `docker info` is used instead, as before)
#   20.10-tls        the same dockerd as GitLab's docker:dind runs it: tcp://127.0.0.1:2376 with
#                    --tlsverify, certificates made here with openssl (DOCKER_CERT_PATH)
#   26.1-classic     dockerd 26.1.5 from Debian trixie, classic overlay2 image store
#   26.1-containerd  the same with the containerd image store (containerd snapshotter)
#   28.5-classic     dockerd 28.5.2 from Debian forky, classic overlay2 image store
#   28.5-containerd  the same with the containerd image store
# Every set-up but 20.10 runs on its own socket (or port), data-root, exec-root and pid file,
# all in $STATE/engines/NAME, so it never touches another engine. The trixie and forky packages
# are downloaded with a private apt list and unpacked (never installed) into $STATE/pkgs/SUITE,
# once: a second bring-up installs nothing. Their buildx and compose plugins go in the engine's
# own DOCKER_CONFIG ($STATE/engines/NAME/docker-config/cli-plugins); the 20.10 set-ups get
# trixie's compose plugin there too (no buildx: the 20.10 client has BuildKit built in).
# If another engine set-up of ours is up, this script says so and exits 1: run
# scripts/engine-down.sh first (scripts/e2e-matrix.sh does).
#
# Idempotent: a second run reuses what the first started (and installs nothing).
# State lives in ${LAYERCACHE_ENGINE_DIR:-/tmp/layercache-engine}: pid files (only of processes
# this script started), logs, the registry's config and storage (shared by all engine set-ups),
# the package cache, the engines' folders, and engine.env.
# Only the `export ...` lines go to stdout; every progress message goes to stderr. They set
# LAYERCACHE_ENGINE, DOCKER_HOST, DOCKER_CONFIG, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (empty
# where the engine does not use TLS: docker reads an empty one as unset), and the LAYERCACHE_E2E*
# variables tests/e2e_support reads.
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

# ---------------------------------------------------------------- process helpers, engine names
# pid_alive, read_pidfile, engine_known, engine_suite, engine_store, engine_dir, ALL_ENGINES
# shellcheck source=scripts/engine-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/engine-lib.sh"

ENGINE="${LAYERCACHE_ENGINE:-20.10}"
engine_known "$ENGINE" || die "unknown LAYERCACHE_ENGINE=$ENGINE (one of: $ALL_ENGINES)"
case "$STATE" in *[[:space:]]*) die "the state dir must not contain spaces: $STATE" ;; esac

# One engine-up at a time per state dir. Daemons started below close fd 9, so they do not hold it.
exec 9>"$STATE/.lock"
flock 9

SUITE=$(engine_suite "$ENGINE")
STORE=$(engine_store "$ENGINE")
E=$(engine_dir "$STATE" "$ENGINE")
PKG="$STATE/pkgs/$SUITE"
mkdir -p "$E"

REGISTRY_BIN=/usr/bin/docker-registry
BASE_REPO=layercache/base
BASE_TAG=1
TLS_PORT=2376
# Where the trixie and forky packages come from (the suites are added to this URL).
DEBIAN_MIRROR="${LAYERCACHE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# Where each engine listens, keeps its pid file and its runtime state.
case "$ENGINE" in
    20.10)
        # Today's behaviour: dockerd's own defaults, so that `docker` works without DOCKER_HOST.
        DOCKERD_BIN=/usr/sbin/dockerd
        DOCKERD_PIDFILE=/var/run/docker.pid
        DOCKERD_SOCK=/var/run/docker.sock
        EXEC_ROOT=/var/run/docker
        ENGINE_HOST=unix:///var/run/docker.sock
        ;;
    20.10-tls)
        DOCKERD_BIN=/usr/sbin/dockerd
        DOCKERD_PIDFILE="$E/docker.pid"
        DOCKERD_SOCK=""
        EXEC_ROOT="$E/exec"
        ENGINE_HOST="tcp://127.0.0.1:$TLS_PORT"
        ;;
    *)
        DOCKERD_BIN="$PKG/root/usr/sbin/dockerd"
        DOCKERD_PIDFILE="$E/docker.pid"
        DOCKERD_SOCK="$E/docker.sock"
        EXEC_ROOT="$E/exec"
        ENGINE_HOST="unix://$E/docker.sock"
        ;;
esac

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

# The 20.10 set-up's client for info, import and push: Debian's if present.
pick_cli() {
    if [ -x /usr/bin/docker ]; then echo /usr/bin/docker
    elif command -v docker >/dev/null 2>&1; then command -v docker
    else echo ""; fi
}

# Our own earlier exports (another engine set-up's socket, config or certificates) must not
# steer the search for an engine that already runs: drop the ones that point into $STATE.
scrub_own_env() {
    case "${DOCKER_HOST:-}" in *"$STATE"*) unset DOCKER_HOST ;; esac
    case "${DOCKER_CONFIG:-}" in *"$STATE"*) unset DOCKER_CONFIG ;; esac
    case "${DOCKER_CERT_PATH:-}" in
        *"$STATE"*) unset DOCKER_CERT_PATH DOCKER_TLS_VERIFY DOCKER_HOST ;;
    esac
    [ -n "${DOCKER_HOST:-}" ] || unset DOCKER_HOST
    [ -n "${DOCKER_TLS_VERIFY:-}" ] || unset DOCKER_TLS_VERIFY
    [ -n "${DOCKER_CERT_PATH:-}" ] || unset DOCKER_CERT_PATH
    [ -n "${DOCKER_CONFIG:-}" ] || unset DOCKER_CONFIG
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

# ---------------------------------------------------------------- install (Debian 12)
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# ensure_packages NEED_ENGINE: Debian 12's docker.io (dockerd 20.10, its client, runc for every
# engine set-up, iptables), docker-registry, busybox-static and docker-compose (v1); openssl for
# the TLS set-up.
ensure_packages() {
    local need_engine="$1" missing=() p
    if [ "$need_engine" = 1 ]; then
        { [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] && [ -x /usr/sbin/runc ]; } || missing+=(docker.io)
    elif [ ! -x /usr/bin/docker ]; then
        # An engine already runs; we still want a client that builds with BuildKit.
        local d; d=$(command -v docker 2>/dev/null || true)
        { [ -n "$d" ] && "$d" buildx version >/dev/null 2>&1; } || missing+=(docker.io)
    fi
    [ -x "$REGISTRY_BIN" ] || missing+=(docker-registry)
    if [ ! -x /bin/busybox ] || ! /bin/busybox --list >/dev/null 2>&1; then missing+=(busybox-static); fi
    if [ "$ENGINE" = 20.10-tls ] && ! command -v openssl >/dev/null 2>&1; then missing+=(openssl); fi
    # Debian 12's docker-compose 1.29.2 (v1): e2e::compose runs the built images with it too.
    command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
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

# ---------------------------------------------------------------- packages of a newer suite
# suite_packages SUITE: what is downloaded and unpacked. runc is not among them: the newer
# suites' runc needs glibc 2.38; bookworm's (from docker.io above) is used. docker-init is tini's
# static build (in `tini` on trixie, in `tini-static` on forky). trixie's docker-cli 26.1.5 is a
# fallback client for machines without /usr/local/bin/docker.
suite_packages() {
    case "$1" in
        trixie) echo docker.io docker-cli containerd docker-buildx docker-compose tini ;;
        forky) echo docker.io docker-cli containerd docker-buildx docker-compose tini-static ;;
    esac
}

# ensure_suite SUITE: $STATE/pkgs/SUITE/root holds the unpacked packages (marker: .complete).
ensure_suite() {
    local suite="$1" t rc=0 deb
    if [ -f "$PKG/root/.complete" ] && [ -x "$PKG/root/usr/sbin/dockerd" ]; then
        log "packages of $suite: cached in $PKG ($(tr '\n' ' ' <"$PKG/versions.txt"))"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get is needed to download the $suite packages"
    command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is needed to unpack the $suite packages"
    t=$(date +%s)
    rm -rf "$PKG/root" "$PKG/root.new" "$PKG/debs"
    mkdir -p "$PKG/lists/partial" "$PKG/cache/archives/partial" "$PKG/debs" "$PKG/root.new"
    printf 'deb %s %s main\n' "$DEBIAN_MIRROR" "$suite" >"$PKG/sources.list"
    local apt_opts=(-o "Dir::Etc::sourcelist=$PKG/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$PKG/lists" -o "Dir::Cache=$PKG/cache" -o APT::Sandbox::User=root)
    local pkgs
    read -r -a pkgs <<<"$(suite_packages "$suite")"
    log "downloading ${pkgs[*]} from $suite (private apt list in $PKG; nothing is installed)"
    {
        apt-get -q "${apt_opts[@]}" update &&
        (cd "$PKG/debs" && apt-get -q "${apt_opts[@]}" download "${pkgs[@]}")
    } >"$PKG/apt.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        tail -n 20 "$PKG/apt.log" >&2
        die "downloading the $suite packages failed (rc=$rc), full log: $PKG/apt.log"
    fi
    local t_dl=$(($(date +%s) - t))
    : >"$PKG/versions.txt.new"
    for deb in "$PKG"/debs/*.deb; do
        dpkg-deb -x "$deb" "$PKG/root.new"
        # shellcheck disable=SC2016 # dpkg-deb's own ${Field} syntax
        dpkg-deb --showformat='${Package}=${Version}\n' -W "$deb" >>"$PKG/versions.txt.new"
    done
    touch "$PKG/root.new/.complete"
    mv "$PKG/root.new" "$PKG/root"
    mv "$PKG/versions.txt.new" "$PKG/versions.txt"
    log "packages of $suite downloaded in ${t_dl}s, unpacked in $(($(date +%s) - t - t_dl))s: $(tr '\n' ' ' <"$PKG/versions.txt")"
}

# ---------------------------------------------------------------- TLS certificates
# make_certs DIR: docker:dind's layout, DIR/{ca,server,client}/{ca,cert,key}.pem. Kept while the
# server certificate stays valid for another day.
make_certs() {
    local d="$1" f
    if [ -f "$d/client/key.pem" ] && [ -f "$d/server/key.pem" ] &&
        openssl x509 -checkend 86400 -noout -in "$d/server/cert.pem" >/dev/null 2>&1 &&
        openssl x509 -checkend 86400 -noout -in "$d/client/cert.pem" >/dev/null 2>&1; then
        log "TLS certificates: reusing $d"
        return 0
    fi
    rm -rf "$d"
    mkdir -p "$d/ca" "$d/server" "$d/client"
    (
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj /CN=layercache-test-ca \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            -keyout "$d/ca/key.pem" -out "$d/ca/cert.pem"
        for f in server client; do
            openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=docker-$f" \
                -keyout "$d/$f/key.pem" -out "$d/$f/csr.pem"
        done
        printf 'subjectAltName=IP:127.0.0.1,DNS:docker,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$d/server/ext.cnf"
        printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$d/client/ext.cnf"
        for f in server client; do
            openssl x509 -req -sha256 -days 825 -in "$d/$f/csr.pem" -CA "$d/ca/cert.pem" \
                -CAkey "$d/ca/key.pem" -CAcreateserial -extfile "$d/$f/ext.cnf" -out "$d/$f/cert.pem"
            cp "$d/ca/cert.pem" "$d/$f/ca.pem"
            rm -f "$d/$f/csr.pem" "$d/$f/ext.cnf"
        done
    ) >"$E/openssl.log" 2>&1 || { cat "$E/openssl.log" >&2; die "making the TLS certificates failed"; }
    chmod 644 "$d"/*/cert.pem "$d"/*/ca.pem
    log "TLS certificates made in $d (server SAN IP:127.0.0.1,DNS:docker; client cert with clientAuth)"
}

# ---------------------------------------------------------------- dockerd
sock_served() {
    [ -S "$1" ] || return 1
    command -v python3 >/dev/null 2>&1 || return 1
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
try:
    s.connect(sys.argv[1])
except OSError:
    sys.exit(1)
PY
}

# Remove leftovers of a dockerd / containerd that no longer run (dockerd refuses to start on
# "pid file found", and on a stale /run/containerd/containerd.sock it tries a dead containerd).
# Only this engine set-up's files, and the system containerd socket every dockerd looks at.
clean_stale_engine_files() {
    local pid
    if [ -e "$DOCKERD_PIDFILE" ]; then
        pid=$(read_pidfile "$DOCKERD_PIDFILE")
        if pid_alive "$pid" dockerd; then
            return 0 # a live dockerd owns them
        fi
        log "removing stale $DOCKERD_PIDFILE (pid '${pid}' is not a running dockerd)"
        rm -f "$DOCKERD_PIDFILE"
    fi
    if [ -n "$DOCKERD_SOCK" ] && { [ -S "$DOCKERD_SOCK" ] || [ -e "$DOCKERD_SOCK" ]; }; then
        log "removing stale $DOCKERD_SOCK (no dockerd runs)"
        rm -f "$DOCKERD_SOCK"
    fi
    if [ -e "$EXEC_ROOT/containerd/containerd.pid" ]; then
        pid=$(read_pidfile "$EXEC_ROOT/containerd/containerd.pid")
        if ! pid_alive "$pid" containerd; then
            log "removing stale $EXEC_ROOT/containerd/containerd.pid"
            rm -f "$EXEC_ROOT/containerd/containerd.pid"
        fi
    fi
    # dockerd only checks that this socket *exists* to decide to use a system containerd.
    if [ -e /run/containerd/containerd.sock ]; then
        local live=0
        if command -v python3 >/dev/null 2>&1; then
            if sock_served /run/containerd/containerd.sock; then live=1; fi
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

# write_daemon_json: the private engines' configuration (dockerd --config-file).
write_daemon_json() {
    local store_json tls_json=""
    if [ "$STORE" = containerd ]; then
        store_json='"storage-driver": "overlayfs",
  "features": {"containerd-snapshotter": true},'
    else
        store_json='"storage-driver": "overlay2",'
        [ "$SUITE" = bookworm ] || store_json+='
  "features": {"containerd-snapshotter": false},'
    fi
    if [ "$ENGINE" = 20.10-tls ]; then
        tls_json="
  \"tls\": true,
  \"tlsverify\": true,
  \"tlscacert\": \"$E/certs/server/ca.pem\",
  \"tlscert\": \"$E/certs/server/cert.pem\",
  \"tlskey\": \"$E/certs/server/key.pem\","
    fi
    cat >"$E/daemon.json" <<JSON
{
  "data-root": "$E/data",
  "exec-root": "$EXEC_ROOT",
  "pidfile": "$DOCKERD_PIDFILE",$tls_json
  $store_json
  "hosts": ["$ENGINE_HOST"]
}
JSON
}

start_dockerd() {
    [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and not root: start dockerd (as root: $0), or set DOCKER_HOST"
    [ -x "$DOCKERD_BIN" ] || die "$DOCKERD_BIN missing"
    clean_stale_engine_files
    if [ -e "$DOCKERD_PIDFILE" ]; then
        local other; other=$(read_pidfile "$DOCKERD_PIDFILE")
        log "a dockerd (pid $other) runs but does not answer yet; waiting for it (not ours, not recorded)"
        wait_engine "$CLI" "" && return 0
        die "dockerd pid $other runs but does not answer; stop it or fix it"
    fi
    if [ "$ENGINE" = 20.10-tls ] && port_in_use "$TLS_PORT"; then
        die "127.0.0.1:$TLS_PORT is in use by something else: the TLS set-up needs it"
    fi
    local t pid args=() path="$PATH"
    if [ "$ENGINE" != 20.10 ]; then
        write_daemon_json
        args=(--config-file "$E/daemon.json")
    fi
    # The newer suites' containerd, shims, docker-proxy and docker-init come first on dockerd's
    # PATH; runc stays bookworm's.
    [ "$SUITE" = bookworm ] || path="$PKG/root/usr/bin:$PKG/root/usr/sbin:$PATH"
    t=$(date +%s)
    local attempt lines cpid
    for attempt in 1 2 3; do
        log "starting $DOCKERD_BIN ${args[*]} (log: $E/dockerd.log)"
        lines=$(wc -l <"$E/dockerd.log" 2>/dev/null || echo 0)
        PATH="$path" setsid "$DOCKERD_BIN" "${args[@]}" </dev/null >>"$E/dockerd.log" 2>&1 3>&- 9>&- &
        pid=$!
        echo "$pid" >"$E/dockerd.pid"
        wait_engine "$CLI" "$pid" && break
        # On a loaded machine (other builds on the 2 cores) dockerd gives up on its own
        # containerd after its fixed start timeout: try again, a few times.
        if [ "$attempt" -lt 3 ] && ! pid_alive "$pid" dockerd &&
            tail -n "+$((lines + 1))" "$E/dockerd.log" | grep -q 'timeout waiting for containerd to start'; then
            cpid=$(read_pidfile "$EXEC_ROOT/containerd/containerd.pid")
            if [ -n "$cpid" ] && pid_alive "$cpid" containerd; then
                log "stopping the containerd (pid $cpid) that dockerd (pid $pid) started and left"
                kill -TERM "$cpid" 2>/dev/null || true
                for _ in $(seq 1 40); do pid_alive "$cpid" containerd || break; sleep 0.25; done
                if pid_alive "$cpid" containerd; then kill -KILL "$cpid" 2>/dev/null || true; fi
            fi
            log "dockerd timed out waiting for its containerd (load average: $(cut -d' ' -f1-3 /proc/loadavg)): attempt $((attempt + 1)) of 3"
            continue
        fi
        log "dockerd did not start; last lines of $E/dockerd.log:"
        tail -n 40 "$E/dockerd.log" >&2
        die "dockerd failed to start"
    done
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

# dockerd supervises its own containerd when no system one runs; record it so that
# engine-down.sh can make sure it is gone too.
record_containerd() {
    local dpid="$1" cpid="" c
    for c in $(ps -o pid= --ppid "$dpid" 2>/dev/null || cat "/proc/$dpid/task/$dpid/children" 2>/dev/null); do
        if pid_alive "$c" containerd; then cpid="$c"; break; fi
    done
    if [ -n "$cpid" ]; then
        echo "$cpid" >"$E/containerd.pid"
        log "dockerd's own containerd: pid $cpid"
    else
        rm -f "$E/containerd.pid"
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
# The containerd image store pushes OCI manifests; the classic store Docker v2 ones.
MANIFEST_TYPES='application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json'

base_in_registry() {
    local code
    code=$(http_status_head "/v2/$BASE_REPO/manifests/$BASE_TAG" "$REG_PORT" "$MANIFEST_TYPES")
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
            >"$E/buildkit-check.log" 2>&1 || rc=$?
    "$CLI" rmi -f "$tag" >/dev/null 2>&1 || true
    return "$rc"
}

# ---------------------------------------------------------------- clients of the newer engines
# make_clients: the buildx and compose plugins in the engine's own DOCKER_CONFIG, and a wrapper
# that runs the same client with a DOCKER_CONFIG without plugins (what a machine without buildx
# has: layercache must pick the legacy builder for it).
#
# Clients chosen:
#   26.1-*: /usr/local/bin/docker (28.2, the client on PATH on these machines, what ENGINE.md
#           measured) with trixie's buildx 0.13.1 and compose 2.26.1; trixie's own docker-cli
#           26.1.5 where /usr/local/bin/docker is missing.
#   28.5-*: forky's docker-cli 28.5.2 with forky's buildx 0.29.1 and compose 2.40.3 (the client
#           that ships with that engine, as in the docker:28 image).
#   legacy: the same client through $E/bin/docker-nobuildx (DOCKER_CONFIG=$E/docker-config-plain):
#           every docker client finds plugins in $DOCKER_CONFIG/cli-plugins, so with the exported
#           DOCKER_CONFIG no real client would lack buildx.
make_clients() {
    local plugins="$E/docker-config/cli-plugins" p
    mkdir -p "$plugins" "$E/docker-config-plain" "$E/bin"
    for p in docker-buildx docker-compose; do
        [ -x "$PKG/root/usr/libexec/docker/cli-plugins/$p" ] ||
            die "$p missing from the unpacked $SUITE packages ($PKG/root)"
        ln -sfn "$PKG/root/usr/libexec/docker/cli-plugins/$p" "$plugins/$p"
    done
    case "$SUITE" in
        trixie)
            if [ -x /usr/local/bin/docker ]; then BASE_CLIENT=/usr/local/bin/docker
            else BASE_CLIENT="$PKG/root/usr/bin/docker"; fi
            ;;
        forky) BASE_CLIENT="$PKG/root/usr/bin/docker" ;;
    esac
    cat >"$E/bin/docker-nobuildx.new" <<SH
#!/bin/sh
# $BASE_CLIENT without the buildx plugin (a DOCKER_CONFIG without cli-plugins), made by engine-up.sh
DOCKER_CONFIG='$E/docker-config-plain' exec '$BASE_CLIENT' "\$@"
SH
    chmod 755 "$E/bin/docker-nobuildx.new"
    mv "$E/bin/docker-nobuildx.new" "$E/bin/docker-nobuildx"
}

# compose_for_bookworm: the 20.10 set-ups' docker config ($E/docker-config) with compose v2 (trixie's
# plugin, unpacked as for the 26.1 set-ups and shared with them) and without buildx (the 20.10
# client builds with its daemon's built-in BuildKit), so e2e::compose runs `docker compose` there
# too: nothing skipped.
compose_for_bookworm() {
    local own_pkg="$PKG"
    PKG="$STATE/pkgs/trixie"
    ensure_suite trixie
    local bin="$PKG/root/usr/libexec/docker/cli-plugins/docker-compose"
    PKG="$own_pkg"
    [ -x "$bin" ] || die "docker-compose missing from the unpacked trixie packages ($bin)"
    mkdir -p "$E/docker-config/cli-plugins"
    ln -sfn "$bin" "$E/docker-config/cli-plugins/docker-compose"
}

# ================================================================= main
scrub_own_env

# 0. Another engine set-up of ours up? (One at a time: they share iptables, the default bridge
#    and 2 cores.) The pre-set-ups layout kept the 20.10 pid files in $STATE itself: move them.
if [ -f "$STATE/dockerd.pid" ]; then
    mkdir -p "$(engine_dir "$STATE" 20.10)"
    mv "$STATE/dockerd.pid" "$(engine_dir "$STATE" 20.10)/dockerd.pid"
    if [ -f "$STATE/containerd.pid" ]; then mv "$STATE/containerd.pid" "$(engine_dir "$STATE" 20.10)/containerd.pid"; fi
fi
for other in $ALL_ENGINES; do
    [ "$other" != "$ENGINE" ] || continue
    opid=$(read_pidfile "$(engine_dir "$STATE" "$other")/dockerd.pid")
    if [ -n "$opid" ] && pid_alive "$opid" dockerd; then
        die "the engine set-up $other is up (dockerd pid $opid, started by this script); LAYERCACHE_ENGINE=$ENGINE needs it down first: run scripts/engine-down.sh, then this again"
    fi
done

# 1. Docker engine and the client environment.
OURS_DOCKERD=$(read_pidfile "$E/dockerd.pid")
if [ -n "$OURS_DOCKERD" ] && ! pid_alive "$OURS_DOCKERD" dockerd; then
    log "dockerd pid file of $ENGINE is stale (pid $OURS_DOCKERD not running): removing it"
    # A SIGKILLed dockerd leaves its containerd running: ours (recorded by pid), so stop it.
    cpid=$(read_pidfile "$E/containerd.pid")
    if [ -n "$cpid" ] && pid_alive "$cpid" containerd; then
        log "its containerd (pid $cpid) outlived it: stopping it"
        kill -TERM "$cpid" 2>/dev/null || true
        for _ in $(seq 1 40); do pid_alive "$cpid" containerd || break; sleep 0.25; done
        if pid_alive "$cpid" containerd; then kill -KILL "$cpid" 2>/dev/null || true; fi
    fi
    rm -f "$E/dockerd.pid" "$E/containerd.pid"
    OURS_DOCKERD=""
fi

FOREIGN=0
if [ "$ENGINE" = 20.10 ] && [ -z "$OURS_DOCKERD" ] && existing_engine; then
    # Today's behaviour: an engine that already answers (with the caller's DOCKER_HOST, or on the
    # default socket) is used; engine-down leaves it alone.
    FOREIGN=1
fi

if [ "$FOREIGN" = 1 ]; then
    ensure_packages 0
    CLI=$(pick_cli)
    [ -n "$CLI" ] || die "no docker client found"
    log "a Docker engine already answers (server $("$CLI" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')): using it (not started by us, engine-down leaves it alone)"
    X_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"
    X_CONFIG="${DOCKER_CONFIG:-${HOME:-/root}/.docker}"
    X_TLS_VERIFY="${DOCKER_TLS_VERIFY:-}"
    X_CERT_PATH="${DOCKER_CERT_PATH:-}"
else
    ensure_packages 1
    case "$ENGINE" in
        20.10)
            compose_for_bookworm
            X_CONFIG="$E/docker-config"
            X_TLS_VERIFY="" X_CERT_PATH=""
            ;;
        20.10-tls)
            make_certs "$E/certs"
            compose_for_bookworm
            X_CONFIG="$E/docker-config"
            X_TLS_VERIFY=1 X_CERT_PATH="$E/certs/client"
            ;;
        *)
            ensure_suite "$SUITE"
            make_clients
            X_CONFIG="$E/docker-config"
            X_TLS_VERIFY="" X_CERT_PATH=""
            ;;
    esac
    X_HOST="$ENGINE_HOST"
    # Every docker call below (and the tests, through the exports) goes to this engine.
    export DOCKER_HOST="$X_HOST" DOCKER_CONFIG="$X_CONFIG"
    if [ -n "$X_TLS_VERIFY" ]; then
        export DOCKER_TLS_VERIFY="$X_TLS_VERIFY" DOCKER_CERT_PATH="$X_CERT_PATH"
    else
        unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH
    fi
    case "$SUITE" in
        bookworm) CLI=$(pick_cli) ;;
        *) CLI="$BASE_CLIENT" ;;
    esac
    [ -n "$CLI" ] || die "no docker client found after install"
    if [ -n "$OURS_DOCKERD" ]; then
        if engine_answers "$CLI"; then
            log "reusing the $ENGINE dockerd this script started (pid $OURS_DOCKERD)"
        else
            log "our $ENGINE dockerd (pid $OURS_DOCKERD) runs but does not answer yet: waiting"
            wait_engine "$CLI" "$OURS_DOCKERD" || {
                tail -n 40 "$E/dockerd.log" >&2
                die "our dockerd (pid $OURS_DOCKERD) does not answer; run scripts/engine-down.sh and retry"
            }
        fi
    else
        start_dockerd
    fi
fi
[ -n "$CLI" ] || die "no docker client found"

# 2. Registry (shared by every engine set-up)
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
if [ "$SUITE" = bookworm ]; then
    # 20.10 and 20.10-tls: Debian's 20.10 client builds through the daemon's built-in BuildKit;
    # the client on PATH (28.2, without buildx) is the legacy one.
    LEGACY_CLIENT=$(command -v docker 2>/dev/null || true)
    LEGACY_CONFIG=""
    [ -n "$LEGACY_CLIENT" ] || LEGACY_CLIENT="$CLI"
    CANDIDATES=$(buildkit_candidates)
else
    LEGACY_CLIENT="$E/bin/docker-nobuildx"
    # layercache finds plugins where the client does: it runs the legacy client with this config.
    LEGACY_CONFIG="$E/docker-config-plain"
    CANDIDATES="$BASE_CLIENT"
    if "$LEGACY_CLIENT" buildx version >/dev/null 2>&1; then
        die "$LEGACY_CLIENT still finds buildx (a cli-plugins folder outside DOCKER_CONFIG?)"
    fi
fi
BUILDKIT_CLIENT=""
if [ "$NEW_BASE" = 0 ] && [ -f "$E/buildkit-client" ]; then
    BUILDKIT_CLIENT=$(cat "$E/buildkit-client")
    [ -x "$BUILDKIT_CLIENT" ] || BUILDKIT_CLIENT=""
fi
if [ -z "$BUILDKIT_CLIENT" ]; then
    t=$(date +%s)
    for c in $CANDIDATES; do
        if buildkit_works "$c"; then BUILDKIT_CLIENT="$c"; break; fi
        log "DOCKER_BUILDKIT=1 $c build fails: $(grep -m1 -i error "$E/buildkit-check.log" || tail -n1 "$E/buildkit-check.log")"
    done
    [ -n "$BUILDKIT_CLIENT" ] || {
        tail -n 20 "$E/buildkit-check.log" >&2
        die "no docker client builds with DOCKER_BUILDKIT=1 (tried: $(echo "$CANDIDATES" | tr '\n' ' '))"
    }
    echo "$BUILDKIT_CLIENT" >"$E/buildkit-client"
    log "BuildKit build with $BUILDKIT_CLIENT works (checked in $(($(date +%s) - t))s)"
fi

# 5. Env lines
ENV_TEXT="export LAYERCACHE_ENGINE=$ENGINE
export DOCKER_HOST=$X_HOST
export DOCKER_CONFIG=$X_CONFIG
export DOCKER_TLS_VERIFY=$X_TLS_VERIFY
export DOCKER_CERT_PATH=$X_CERT_PATH
export LAYERCACHE_E2E=1
export LAYERCACHE_E2E_REGISTRY=$REGISTRY
export LAYERCACHE_E2E_BASE_IMAGE=$BASE_REF
export LAYERCACHE_E2E_BUILDKIT_DOCKER=$BUILDKIT_CLIENT
export LAYERCACHE_E2E_LEGACY_DOCKER=$LEGACY_CLIENT
export LAYERCACHE_E2E_LEGACY_DOCKER_CONFIG=$LEGACY_CONFIG"
printf '%s\n' "$ENV_TEXT" >"$STATE/engine.env.tmp"
mv "$STATE/engine.env.tmp" "$STATE/engine.env"
if [ "$FOREIGN" = 1 ]; then echo external >"$STATE/engine.name"; else echo "$ENGINE" >"$STATE/engine.name"; fi
log "engine $ENGINE up in $(($(date +%s) - T0))s ($("$CLI" version --format 'server {{.Server.Version}}' 2>/dev/null || echo 'server ?'), $("$CLI" info --format 'driver {{.Driver}}' 2>/dev/null || echo 'driver ?')); env in $STATE/engine.env"
printf '%s\n' "$ENV_TEXT" >&3
