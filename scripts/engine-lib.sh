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
