#!/usr/bin/env bash
# The benchmarks in one command: raise the open-file limit (10,000s of loopback sockets), make
# sure the generator's npm packages are there, run every scenario, write docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)"  # the hard limit; 20,000 here, so 20,000 sockets take two generators
if [ ! -d bench/node_modules ]; then (cd bench && npm ci --no-audit --no-fund); fi
exec python -m bench "$@"
