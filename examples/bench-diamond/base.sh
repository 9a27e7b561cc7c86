#!/bin/sh
# The common base layer of both dependency branches: quick, as a system package step would be
# once it is cached.
set -eu
mkdir -p deps
echo "base" > deps/base
