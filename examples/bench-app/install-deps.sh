#!/bin/sh
# Stands in for `pip install` / `npm ci`: slow, and it writes the layer that later steps need.
set -eu
sleep 3
mkdir -p deps
# Random bytes, so that the layer does not compress away (~20 MB really travels to and from the
# registry) and every build's blob is its own: no strategy's push or pull is sped up by a blob
# that another strategy's repository already holds.
dd if=/dev/urandom of=deps/packages bs=1048576 count=20 2>/dev/null
