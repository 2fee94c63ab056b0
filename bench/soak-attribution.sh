#!/usr/bin/env bash
# The RSS attribution experiments behind "Soak (10^6 calls)" in docs/performance.md:
# Node + go core for 300k calls, attributed by mapping (--smaps), one knob changed per run.
# Each run is bounded (timeout 600). JSON lands in bench/results/soak-attr-<name>.json (the
# printed tables in .txt);
# `node bench/soak-report.cjs bench/results/soak-attr-*.json` prints the tables.
#
#   bash bench/soak-attribution.sh [name...]     # default: every experiment below
set -u
cd "$(dirname "$0")/.."
CALLS=${CALLS:-300000}
run() {
  local name=$1
  shift
  echo "== $name ($(date -u +%H:%M:%S))" >&2
  timeout 600 node bench/soak.cjs --runtimes node --smaps --label "$name" \
    --out "bench/results/soak-attr-$name.json" "$@" >"bench/results/soak-attr-$name.txt"
  sed -n 3p "bench/results/soak-attr-$name.txt"
}
experiment() {
  case $1 in
  go) run go --cores go --calls "$CALLS" --gctrace ;;
  native) run native --cores native --calls "$CALLS" ;;
  go-semi1) run go-semi1 --cores go --calls "$CALLS" --env NODE_OPTIONS=--max-semi-space-size=1 ;;
  native-semi1) run native-semi1 --cores native --calls "$CALLS" --env NODE_OPTIONS=--max-semi-space-size=1 ;;
  # The young generation at its maximum from the start: no room left for a step.
  go-semimin16) run go-semimin16 --cores go --calls "$CALLS" --node-args --min-semi-space-size=16 ;;
  native-semimin16) run native-semimin16 --cores native --calls "$CALLS" --node-args --min-semi-space-size=16 ;;
  go-arena1) run go-arena1 --cores go --calls "$CALLS" --env MALLOC_ARENA_MAX=1 ;;
  go-arena2) run go-arena2 --cores go --calls "$CALLS" --env MALLOC_ARENA_MAX=2 ;;
  go-gogc50) run go-gogc50 --cores go --calls "$CALLS" --env GOGC=50 --gctrace ;;
  # GOGC=off never collects: bounded to 50k calls.
  go-gogcoff) run go-gogcoff --cores go --calls 50000 --sample-every 5000 --env GOGC=off ;;
  go-madv) run go-madv --cores go --calls "$CALLS" --env GODEBUG=madvdontneed=1 ;;
  go-threads1) run go-threads1 --cores go --calls "$CALLS" --core-threads 1 ;;
  go-threads4) run go-threads4 --cores go --calls "$CALLS" --core-threads 4 ;;
  *) echo "unknown experiment $1" >&2; return 1 ;;
  esac
}
if [ $# -eq 0 ]; then
  set -- go native go-semi1 native-semi1 go-semimin16 native-semimin16 go-arena1 go-arena2 go-gogc50 go-gogcoff go-madv go-threads1 go-threads4
fi
for e in "$@"; do experiment "$e"; done
