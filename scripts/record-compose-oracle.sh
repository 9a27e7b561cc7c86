#!/bin/sh
# Records the oracle for the Compose reader: what the real `docker compose config --format json`
# prints for every case of tests/fixtures/compose, from compose 2.40 (Debian forky) and 2.26
# (Debian trixie), into expected-2.40.json / expected-2.26.json, or expected-error-2.40.txt /
# expected-error-2.26.txt when compose fails. Warnings compose prints go to stderr-VERSION.txt.
#
#   scripts/record-compose-oracle.sh [CASE...]      (default: every case)
#
# The binaries are downloaded once into $LAYERCACHE_COMPOSE_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/layercache/compose) through private apt lists, as
# ../shared/ENGINE.md describes; nothing is installed on the system. `print-bin VERSION` prints
# the path of one binary (for LAYERCACHE_COMPOSE_BIN) after downloading it:
#
#   LAYERCACHE_COMPOSE_BIN=$(scripts/record-compose-oracle.sh print-bin 2.40) cargo test compose
#
# case.yaml is read line by line (keys at the start of a line, values space-separated):
#   files: a.yaml b.yaml      -f for each, in order (none: compose's own discovery)
#   profiles: dev debug       --profile for each
#   env_files: ci.env         --env-file for each
#   project_directory: dir    --project-directory
#   project_name: name        -p
#   env: NAME=value NAME2=    the whole environment besides PATH and HOME (no spaces in values)
#   workdir: sub/dir          where compose runs, inside the case folder (default: the folder)
#   error: text               compose must fail, with this text in its message
#   error-2.40: text          the same, for one version only (the versions differ)
#   follows: "2.40"            the version the reader agrees with where they differ
#   compose_fails: text       compose fails with this text where the reader does not (a compose bug)
# Absolute paths of the case folder are written as @CASE@ so the recordings do not depend on
# where the repository is checked out.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/tests/fixtures/compose"
cache=${LAYERCACHE_COMPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/layercache/compose}

# suite_of VERSION: the Debian suite that ships that compose version.
suite_of() {
    case "$1" in
        2.40) echo forky ;;
        2.26) echo trixie ;;
        *) echo "unknown compose version $1 (2.40 or 2.26)" >&2; return 2 ;;
    esac
}

# fetch_bin VERSION: downloads and unpacks the compose plugin once; prints its path.
fetch_bin() {
    suite=$(suite_of "$1")
    dir="$cache/$suite"
    bin="$dir/root/usr/libexec/docker/cli-plugins/docker-compose"
    if [ ! -x "$bin" ]; then
        mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
        echo "deb http://deb.debian.org/debian $suite main" >"$dir/sources.list"
        set -- -o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=- \
            -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
        apt-get "$@" update >"$dir/apt.log" 2>&1
        (cd "$dir/debs" && apt-get "$@" download docker-compose >>"$dir/apt.log" 2>&1)
        for deb in "$dir"/debs/docker-compose_*.deb; do
            dpkg-deb -x "$deb" "$dir/root"
        done
    fi
    [ -x "$bin" ] || { echo "no compose binary at $bin (see $dir/apt.log)" >&2; return 1; }
    # forky is Debian testing and moves on: a newer compose there is a new oracle, not this one.
    found=$("$bin" version --short 2>/dev/null || true)
    case "$found" in
        "$1".*|v"$1".*) ;;
        *)
            echo "$suite now ships compose $found, not $1: record it as a new version" >&2
            return 1
            ;;
    esac
    echo "$bin"
}

# field CASE_YAML KEY: the value of `KEY:` in case.yaml, quotes removed.
field() {
    sed -n "s/^$2:[[:space:]]*//p" "$1" | sed 's/^"\(.*\)"$/\1/'
}

# record CASE_DIR VERSION BIN
record() {
    case_dir=$1 version=$2 bin=$3
    spec="$case_dir/case.yaml"
    workdir="$case_dir/$(field "$spec" workdir)"
    home=$(mktemp -d)
    set --
    set -f # the lists are split on spaces, never expanded as globs (`profiles: *`)
    for f in $(field "$spec" files); do set -- "$@" -f "$f"; done
    for p in $(field "$spec" profiles); do set -- "$@" --profile "$p"; done
    for e in $(field "$spec" env_files); do set -- "$@" --env-file "$e"; done
    for d in $(field "$spec" project_directory); do set -- "$@" --project-directory "$d"; done
    for n in $(field "$spec" project_name); do set -- "$@" -p "$n"; done
    out="$case_dir/expected-$version.json"
    err="$case_dir/expected-error-$version.txt"
    warn="$case_dir/stderr-$version.txt"
    rm -f "$out" "$err" "$warn"
    # The environment is the case's alone: no COMPOSE_* or other variable leaks in from here.
    # shellcheck disable=SC2046 # env: is a space-separated list of NAME=value words
    if (cd "$workdir" && env -i PATH=/usr/bin:/bin HOME="$home" DOCKER_CONFIG="$home/docker" \
        $(field "$spec" env) "$bin" "$@" config --format json >"$home/out" 2>"$home/err"); then
        sed "s#$case_dir#@CASE@#g" "$home/out" >"$out"
        echo >>"$out"
        # Warnings without their time stamps, so recording again changes nothing.
        if [ -s "$home/err" ]; then
            sed -e "s#$case_dir#@CASE@#g" -e 's/^time="[^"]*" //' "$home/err" >"$warn"
        fi
        status=ok
    else
        sed "s#$case_dir#@CASE@#g" "$home/err" >"$err"
        status=error
    fi
    set +f
    rm -rf "$home"
    expected=$(field "$spec" "error-$version")
    [ -n "$expected" ] || expected=$(field "$spec" error)
    [ -n "$expected" ] || expected=$(field "$spec" compose_fails)
    if [ -n "$expected" ] && [ "$status" = ok ]; then
        echo "$(basename "$case_dir") ($version): expected an error with '$expected', compose succeeded" >&2
        return 1
    fi
    if [ -n "$expected" ] && ! grep -qiF -- "$expected" "$err"; then
        echo "$(basename "$case_dir") ($version): the error does not say '$expected':" >&2
        cat "$err" >&2
        return 1
    fi
    if [ -z "$expected" ] && [ "$status" = error ]; then
        echo "$(basename "$case_dir") ($version): compose failed:" >&2
        cat "$err" >&2
        return 1
    fi
    echo "$(basename "$case_dir") ($version): $status"
}

if [ "${1:-}" = print-bin ]; then
    fetch_bin "${2:?print-bin needs a version: 2.40 or 2.26}"
    exit 0
fi

bin240=$(fetch_bin 2.40)
bin226=$(fetch_bin 2.26)
if [ $# -eq 0 ]; then
    set -- "$corpus"/*/
fi
failed=0
for c in "$@"; do
    case_dir=$(cd "$corpus" && cd "$(basename "$c")" && pwd)
    record "$case_dir" 2.40 "$bin240" || failed=1
    record "$case_dir" 2.26 "$bin226" || failed=1
    if [ -f "$case_dir/expected-2.40.json" ] && [ -f "$case_dir/expected-2.26.json" ]; then
        if ! cmp -s "$case_dir/expected-2.40.json" "$case_dir/expected-2.26.json"; then
            echo "  $(basename "$case_dir"): 2.40 and 2.26 print different models"
        fi
    elif [ -f "$case_dir/expected-2.40.json" ] || [ -f "$case_dir/expected-2.26.json" ]; then
        echo "  $(basename "$case_dir"): one of 2.40 and 2.26 fails, the other does not"
    fi
done
exit "$failed"
