#!/usr/bin/env bash
# The project's test command (the README's, and what .ci/run calls):
# brings up a real Docker engine and registry (scripts/engine-up.sh; reuses one that is already
# up), runs every test with the end-to-end ones switched on, and stops what it started.
# Set LAYERCACHE_KEEP_ENGINE=1 to leave the engine running for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

env_lines=$(scripts/engine-up.sh)
eval "$env_lines"
if [ "${LAYERCACHE_KEEP_ENGINE:-0}" != 1 ]; then
    trap 'scripts/engine-down.sh >&2' EXIT
fi

command -v check-jsonschema >/dev/null || python3 -m pip install --quiet check-jsonschema  # tests/ci_config.rs
cargo test --locked "$@"
