#!/usr/bin/env bash
# The test command (README): installs what the tests need, builds, and runs every suite:
# bindings freshness, rustfmt, cargo tests (shim, signals, preload, native incl. Go and peer
# interop over a throw-away PostgreSQL/SQLite), node --test, bun test under each pinned
# runner release, the shared scenarios under Deno, the packed npm tarballs installed into a
# fresh project without Rust, the Bun patch series checks, then a quick benchmark smoke run. It runs
# every step even after a failure and ends with one summary line; the exit status is
# non-zero if any step failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh || { echo "dependency install failed"; exit 1; }
# shellcheck disable=SC1091
source "${ASHERAH_SHIM_CACHE:-$ROOT/.cache}/env.sh"
BUN_RUNNERS=${BUN_RUNNERS:-"1.3.14 1.4.5"}

passed=0; failed=0; failures=()
# Each step's output also goes to a log, so that a failure can be quoted again in the
# summary: CI often keeps only the end of what a run printed.
LOGS="${ASHERAH_SHIM_CACHE:-$ROOT/.cache}/logs"
mkdir -p "$LOGS"; rm -f "$LOGS"/*.log
step() { # step <name> <command...>
  local name=$1; shift
  local log; log="$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  printf '\n=== %s\n' "$name"
  local t0=$SECONDS
  if "$@" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" = 0 ]; then
    passed=$((passed + 1)); printf '=== %s: ok (%ss)\n' "$name" $((SECONDS - t0))
  else
    failed=$((failed + 1)); failures+=("$name|$log"); printf '=== %s: FAILED (%ss)\n' "$name" $((SECONDS - t0))
  fi
}

step "build" cargo build --release --workspace --locked
step "rustfmt" cargo fmt --all -- --check
step "clippy" cargo clippy --release --workspace --all-targets --locked -- -D warnings
step "bindings are current" bash scripts/gen-napi-sys.sh --check
step "C fixtures" sh fixtures/build.sh
# The tests build under their own profile (Cargo.toml: release without LTO): with LTO each
# test binary re-ran it over the whole dependency tree, which took longer than building it.
step "cargo test" cargo test --profile ci-test --workspace --locked
# Files, not the directory: Node 22 and later take a --test argument as a file or glob.
step "node --test" node --test node-test/*.test.mjs
# The suites that send every kind of value across N-API (strings of every plane and length,
# bytes, bad inputs, results, the 4.x API), run again under the oldest Node and Bun the
# README supports; the rest runs on the machine's Node above and the pinned Bun runners.
VALUE_SUITES="api robustness decrypt-results large-results regressions asherah4"
value_suites() { for s in $VALUE_SUITES; do printf '%s/%s.test.%s ' "$1" "$s" "$2"; done; }
# The same under the oldest Node the README supports and the newest of each later line.
for v in $NODE_OLDEST $NODE_NEWER; do
  what=$([ "$v" = "$NODE_OLDEST" ] && echo "oldest supported" || echo "newer release line")
  # shellcheck disable=SC2046 # one word per suite file
  step "node $v --test ($what: the N-API value suites)" \
    "$(eval echo "\$NODE_$(echo "$v" | tr . _)")" --test $(value_suites node-test mjs)
done
first=1
for v in $BUN_RUNNERS; do
  bun_bin=$(eval echo "\$BUN_$(echo "$v" | tr . _)")
  # The cross-release child matrix runs once, under the first runner.
  skip=$([ $first = 1 ] && echo 0 || echo 1)
  step "bun $v test" env ASHERAH_SHIM_SKIP_MATRIX=$skip "$bun_bin" test --timeout 180000 bun-test/
  first=0
done
# The oldest Bun the README supports (1.2.0) and the early 1.2 releases in BUN_EARLY, on the
# value suites: their string reads need their own path (src/napi/env.rs). The rest of
# bun-test/ awaits `worker.terminate()`, which never settles in Bun 1.2 (six releases from
# 1.2.0 to 1.2.19 checked, without this module loaded too). Bounded from outside: Bun
# 1.2.0's spawnSync ignores `timeout`.
for v in $BUN_OLDEST $BUN_EARLY; do
  what=$([ "$v" = "$BUN_OLDEST" ] && echo "oldest supported" || echo "early 1.2 string reads")
  # shellcheck disable=SC2046 # one word per suite file
  step "bun $v test ($what: the N-API value suites)" \
    timeout --kill-after=10 900 env ASHERAH_SHIM_SKIP_MATRIX=1 "$(eval echo "\$BUN_$(echo "$v" | tr . _)")" \
    test --timeout 180000 $(value_suites bun-test ts)
done
# The shared scenarios under Deno. The suites spawn Workers and children and write temp
# files, so they get --allow-all; that loading needs only --allow-ffi --allow-read is
# proved by the packed-install step below.
step "deno test" env NO_COLOR=1 "$DENO" test --no-check --allow-all deno-test/
# scripts/package.sh -> dist/, npm install --offline into a fresh project with no Rust on
# PATH, round trips under Node, every pinned Bun and Deno, doctor, tsc (pkg-test/).
step "packed install (no Rust toolchain)" node --test pkg-test/*.test.mjs
# The Bun patch series (patches/README.md): they apply byte-exactly to the stored
# pre-images, Bun's formatters accept them, and their new Bun tests fail on stock
# 1.3.14 and pass when the preload applies the same fixes from outside.
step "bun patch series apply (offline)" bash patches/check.sh --offline
step "bun patch series format" bash patches/format-check.sh
step "bun patch series tests (stock 1.3.14 fails, preload passes)" \
  bash patches/test.sh "$BUN_1_3_14" "${CARGO_TARGET_DIR:-$ROOT/target}/release/libasherah_shim_preload.so"
if [ -f bench/run.cjs ]; then
  step "bench (quick smoke run)" node bench/run.cjs --quick
fi

printf '\n'
for f in "${failures[@]}"; do
  name=${f%%|*}; log=${f#*|}
  printf '=== what the failed step "%s" said (failing tests, panics, its last lines)\n' "$name"
  grep -E -- '^---- |panicked at|^test .* FAILED|^failures:$|^    [A-Za-z_:0-9]+$|^not ok |^\(fail\)|^error(\[|:)|Error: ' "$log" | head -n 60
  echo '--- last 40 lines:'
  tail -n 40 "$log"
done
for f in "${failures[@]}"; do echo "failed step: ${f%%|*}"; done
echo "steps: $passed passed, $failed failed"
[ "$failed" = 0 ]
