# shellcheck shell=bash
# Helpers shared by engine-up.sh and engine-down.sh (sourced, not run).

# pid_alive PID NAME: PID runs (not a zombie) and its argv[0] ends in NAME (`*`: any name).
pid_alive() {
    local pid="$1" name="$2" argv0 state
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] && [ "$state" != X ] || return 1
    argv0=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | head -n1) || return 1
    [ "${argv0##*/}" = "$name" ] || [ "$name" = '*' ]
}

# read_pidfile FILE: prints the pid in FILE (empty if none).
read_pidfile() { if [ -f "$1" ]; then tr -dc '0-9' <"$1" || true; fi; }

# ---------------------------------------------------------------- engine set-ups
# The engine set-ups engine-up.sh can bring up (one at a time), chosen by LAYERCACHE_ENGINE:
#   20.10            Debian 12's docker.io 20.10 on the default socket (the default)
#   20.10-tls        the same dockerd on tcp://127.0.0.1:2376 with --tlsverify (GitLab's docker:dind)
#   26.1-classic     dockerd 26.1.5 from Debian trixie, classic overlay2 image store
#   26.1-containerd  the same, containerd image store (containerd snapshotter)
#   28.5-classic     dockerd 28.5.2 from Debian forky, classic overlay2 image store
#   28.5-containerd  the same, containerd image store
# shellcheck disable=SC2034 # used by the scripts that source this file
ALL_ENGINES="20.10 26.1-classic 26.1-containerd 28.5-classic 28.5-containerd 20.10-tls"

engine_known() {
    case "$1" in
        20.10 | 20.10-tls | 26.1-classic | 26.1-containerd | 28.5-classic | 28.5-containerd) return 0 ;;
        *) return 1 ;;
    esac
}

# engine_suite ENGINE: the Debian suite its dockerd comes from (bookworm: installed with apt).
engine_suite() {
    case "$1" in
        26.1-*) echo trixie ;;
        28.5-*) echo forky ;;
        *) echo bookworm ;;
    esac
}

# engine_store ENGINE: classic or containerd (the image store).
engine_store() {
    case "$1" in
        *-containerd) echo containerd ;;
        *) echo classic ;;
    esac
}

# engine_dir STATE ENGINE: the folder of one engine set-up (pid files, logs, data-root, ...).
engine_dir() { echo "$1/engines/$2"; }
