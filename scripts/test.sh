#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls).
#
#   scripts/test.sh              every test: the unit and fake-docker tests once, then the
#                                end-to-end tests on each engine set-up in turn (scripts/e2e-matrix.sh:
#                                20.10, 26.1 and 28.5 with the classic and the containerd image
#                                store, and 20.10 over TCP with TLS); LAYERCACHE_ENGINES narrows it
#   scripts/test.sh ARGS...      `cargo test ARGS...` against one engine (LAYERCACHE_ENGINE, default
#                                20.10), e.g. `scripts/test.sh --test main e2e::`
#
# Each engine and the registry are started and stopped by the scripts (scripts/engine-up.sh and
# engine-down.sh); with ARGS, LAYERCACHE_KEEP_ENGINE=1 leaves the engine running for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The schema checks (tests/ci_config.rs, schema.rs, github_action.rs, gitlab_component.rs), and
# jq, which the GitHub Action's steps use (GitHub's runners have it; tests/github_action.rs).
command -v check-jsonschema >/dev/null || python3 -m pip install --quiet check-jsonschema
# Microsoft's SARIF validator, for `lint --format sarif` (tests/lint.rs): npm's package ships
# its program for Linux, macOS and Windows.
command -v sarif-multitool >/dev/null || npm install --global --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool
# The action's scripts are checked by shellcheck (tests/github_action.rs).
for tool in jq shellcheck; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; } || true
done
# The suites are modules of one test crate (tests/main.rs; Cargo.toml has autotests = false), so
# a tests/*.rs without its `mod` line there would silently never run.
for suite in tests/*.rs; do
    name=$(basename "$suite" .rs)
    if [ "$name" != main ] && ! grep -qx "mod $name;" tests/main.rs; then
        echo "error: $suite is not compiled: add \`mod $name;\` to tests/main.rs" >&2
        exit 1
    fi
done

if [ "$#" -gt 0 ]; then
    env_lines=$(scripts/engine-up.sh)
    eval "$env_lines"
    if [ "${LAYERCACHE_KEEP_ENGINE:-0}" != 1 ]; then
        trap 'scripts/engine-down.sh >&2' EXIT
    fi
    cargo test --locked "$@"
    exit
fi

# Everything that needs no engine (the end-to-end tests are left out by name, not skipped).
cargo test --locked -- --skip e2e::
# The end-to-end tests on every engine set-up; CI=true makes a skipped one a failure.
cargo test --locked --test main --no-run
CI=true scripts/e2e-matrix.sh cargo test --locked --test main e2e::
