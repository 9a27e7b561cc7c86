#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls):
# brings up a real Docker engine and registry (scripts/engine-up.sh; reuses one that is already
# up), runs every test with the end-to-end ones switched on, and stops what it started.
# Set LAYERCACHE_KEEP_ENGINE=1 to leave the engine running for the next run. Arguments go to
# cargo test: `scripts/test.sh --test main e2e::` runs only the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

env_lines=$(scripts/engine-up.sh)
eval "$env_lines"
if [ "${LAYERCACHE_KEEP_ENGINE:-0}" != 1 ]; then
    trap 'scripts/engine-down.sh >&2' EXIT
fi

# The schema checks (tests/ci_config.rs, schema.rs, github_action.rs, gitlab_component.rs), and
# jq, which the GitHub Action's steps use (GitHub's runners have it; tests/github_action.rs).
command -v check-jsonschema >/dev/null || python3 -m pip install --quiet check-jsonschema
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; } || true
# The suites are modules of one test crate (tests/main.rs; Cargo.toml has autotests = false), so
# a tests/*.rs without its `mod` line there would silently never run.
for suite in tests/*.rs; do
    name=$(basename "$suite" .rs)
    if [ "$name" != main ] && ! grep -qx "mod $name;" tests/main.rs; then
        echo "error: $suite is not compiled: add \`mod $name;\` to tests/main.rs" >&2
        exit 1
    fi
done
cargo test --locked "$@"
