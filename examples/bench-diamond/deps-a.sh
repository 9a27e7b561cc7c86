#!/bin/sh
# Dependency branch a: stands in for one toolchain's `npm ci` / `pip install`: slow, and it
# writes the layer that `builder` copies.
set -eu
sleep 2
mkdir -p deps
# Random bytes (8 MB), so that the layer does not compress away and every build's blob is its
# own (no repository's push or pull is sped up by another's blob).
dd if=/dev/urandom of=deps/a bs=1048576 count=8 2>/dev/null
