#!/usr/bin/env bash
# Score-to-screen (scenario 2) for another commit and for this checkout, alternately, in one run:
# the judges' ack and the reveal fan-out side by side, so a change is judged by ratios on the same
# machine at the same moment. Usage: bench/compare.sh REV [ROUNDS]   (e.g. bench/compare.sh HEAD~5)
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: bench/compare.sh REV [ROUNDS]}"
rounds="${2:-2}"
ulimit -n "$(ulimit -Hn)"
if [ ! -d bench/node_modules ]; then (cd bench && npm ci --no-audit --no-fund); fi
other="$(mktemp -d)/other"
git worktree add --detach -q "$other" "$rev"
trap 'git worktree remove --force "$other"' EXIT
ln -s "$PWD/bench/node_modules" "$other/bench/node_modules"
for round in $(seq "$rounds"); do
  for dir in "$other" "$PWD"; do
    name=$([ "$dir" = "$PWD" ] && echo "this checkout" || echo "$rev")
    # PYTHONPATH first: each side imports its own live package, whatever is pip-installed
    (cd "$dir" && PYTHONPATH="$dir" python -m bench --only s2 --no-report 2>&1 | grep "N=" \
      | sed "s|^|round $round, $name: |")
  done
done
