#!/usr/bin/env bash
# Runs the Bun tests that the patch series add, outside a Bun checkout, and
# checks that each one catches the bug:
#   - on a stock Bun (default: 1.3.14) each new case must FAIL;
#   - on the same Bun under the project's LD_PRELOAD library, which applies
#     the same fixes from outside (8 MiB pool stacks, the dlopen() repair),
#     each must PASS.
#
#   patches/test.sh <stock bun> <libasherah_shim_preload.so>
#
# For each series the test files are rebuilt from the stored pre-images with
# the series' test/ hunks applied (git apply), next to harness/ (a stand-in
# for Bun's test/harness.ts) and a stub for detect-libc. The N-API addon is
# compiled with cc against node-api-headers ($NODE_API_HEADERS_DIR), not
# node-gyp, and napi-app/package.json is replaced by one without an install
# script, so the `bun install` in napi.test.ts's beforeAll does nothing.
# Only the new cases run (bun test -t <name>). Before them, the C++ dlopen
# repair that each series adds to BunProcess.cpp is compiled on its own with
# harness/dlopen-signals-scope-test.cpp (stand-ins for the WTF macros) and run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bun=${1:?usage: $0 <stock bun> <preload.so>}
preload=${2:?usage: $0 <stock bun> <preload.so>}
[ -f "$preload" ] || { echo "test.sh: $preload does not exist (build crates/preload first)"; exit 2; }
preload=$(cd "$(dirname "$preload")" && pwd)/$(basename "$preload") # the tests run in other directories
headers=${NODE_API_HEADERS_DIR:?NODE_API_HEADERS_DIR must name node-api-headers/include}
command -v node >/dev/null || { echo "test.sh: node is needed (napi.test.ts compares with Node)"; exit 2; }

# file<TAB>case name, per series
cases() {
  printf '%s\t%s\n' \
    test/napi/napi.test.ts "runs execute with as much stack as Node's threadpool" \
    test/js/node/process/process.test.js "dlopen puts back the signal dispositions that a library's constructor changed" \
    test/js/bun/ffi/ffi.test.js "dlopen puts back the signal dispositions that a library's constructor changed"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/bun-series-tests.XXXXXX")
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
failures=0
echo "bun under test: $bun ($("$bun" --revision))"

for series in bun-v1.3.14 main; do
  dir="$here/$series"
  stage="$work/$series"
  mkdir -p "$stage"
  (cd "$dir/pre-images" && find test -type f -print0 | xargs -0 -I{} cp --parents {} "$stage/")
  git -C "$stage" init -q
  if ! git -C "$stage" apply --include='test/*' "$dir"/*.patch; then
    echo "FAIL $series: the series' test hunks do not apply to the pre-images"
    failures=$((failures + 1))
    continue
  fi
  mkdir -p "$stage/test/node_modules/harness" "$stage/test/node_modules/detect-libc"
  cp "$here/harness/harness.ts" "$stage/test/node_modules/harness/index.ts"
  echo '{"name":"harness","main":"index.ts"}' >"$stage/test/node_modules/harness/package.json"
  cp "$here/harness/detect-libc.js" "$stage/test/node_modules/detect-libc/index.js"
  echo '{"name":"detect-libc","main":"index.js"}' >"$stage/test/node_modules/detect-libc/package.json"
  app="$stage/test/napi/napi-app"
  echo '{"name":"napitests","version":"1.0.0","private":true,"scripts":{"install":"echo addon prebuilt by patches/test.sh"}}' >"$app/package.json"
  mkdir -p "$app/build/Debug"
  cc -shared -fPIC -I"$headers" -o "$app/build/Debug/async_work_stack_addon.node" "$app/async_work_stack_addon.c" || {
    echo "FAIL $series: could not build async_work_stack_addon"
    failures=$((failures + 1))
    continue
  }

  # The C++ repair on its own: the block the series adds to BunProcess.cpp,
  # compiled with stand-ins for the WTF macros and checked without Bun.
  cpp_tree=$stage/cpp
  mkdir -p "$cpp_tree/src/jsc/bindings"
  cp "$dir/pre-images/src/jsc/bindings/BunProcess.cpp" "$cpp_tree/src/jsc/bindings/"
  git -C "$cpp_tree" init -q
  if git -C "$cpp_tree" apply --include='src/jsc/bindings/BunProcess.cpp' "$dir"/*.patch; then
    awk 'prev ~ /^#if !OS\(WINDOWS\)$/ && /^\/\/ A shared library.s constructors/ { on = 1; print prev }
         on { print } on && /^class DlopenSignalScope/ { cls = 1 } on && cls && /^#endif$/ { exit } { prev = $0 }' \
      "$cpp_tree/src/jsc/bindings/BunProcess.cpp" >"$cpp_tree/dlopen-signals-scope.inc"
    repairs_suspend=$([ "$series" = bun-v1.3.14 ] && echo 1 || echo 0)
    if c++ -std=c++20 -Wall -Wextra -Wshadow -Werror -DREPAIRS_SUSPEND_SIGNAL="$repairs_suspend" -I"$cpp_tree" \
      -o "$cpp_tree/scope-test" "$here/harness/dlopen-signals-scope-test.cpp" >"$cpp_tree/scope-test.log" 2>&1 &&
      "$cpp_tree/scope-test" >>"$cpp_tree/scope-test.log" 2>&1; then
      echo "ok   $series BunProcess.cpp: the dlopen repair compiles alone (-Wall -Wextra -Wshadow -Werror) and does what it says"
    else
      echo "FAIL $series BunProcess.cpp: the dlopen repair, compiled alone"
      sed 's/^/     | /' "$cpp_tree/scope-test.log"
      failures=$((failures + 1))
    fi
  else
    echo "FAIL $series: the series' BunProcess.cpp hunks do not apply"
    failures=$((failures + 1))
  fi

  while IFS=$'\t' read -r file name; do
    for mode in stock preload; do
      log="$stage/$(basename "$file").$mode.log"
      if [ $mode = preload ]; then
        (cd "$stage/test" && LD_PRELOAD="$preload" "$bun" test "$stage/$file" -t "$name" >"$log" 2>&1)
      else
        (cd "$stage/test" && "$bun" test "$stage/$file" -t "$name" >"$log" 2>&1)
      fi
      rc=$?
      ran=$(grep -cF -- "$name" "$log")
      if [ $mode = stock ]; then
        if [ $rc -ne 0 ] && grep -qF "(fail)" "$log" && [ "$ran" -gt 0 ]; then
          echo "ok   $series $file: fails on stock Bun, as it must"
        else
          echo "FAIL $series $file: did not fail on stock Bun (exit $rc)"
          sed 's/^/     | /' "$log" | tail -20
          failures=$((failures + 1))
        fi
      else
        if [ $rc -eq 0 ] && grep -qE "^ *1 pass" "$log"; then
          echo "ok   $series $file: passes under the preload"
        else
          echo "FAIL $series $file: did not pass under the preload (exit $rc)"
          sed 's/^/     | /' "$log" | tail -20
          failures=$((failures + 1))
        fi
      fi
    done
  done < <(cases)
done

echo "bun series tests: $failures failure(s)"
[ $failures -eq 0 ]
