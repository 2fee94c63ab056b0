#!/usr/bin/env bash
# Format checks on what the two series produce, with Bun's own configuration
# (stored per series in configs/, checked by blob id against configs.txt):
#
#   .zig  zig fmt --check and zig ast-check      (PyPI ziglang 0.15.2)
#   C++   clang-format with src/.clang-format     (PyPI clang-format 21.1.8, LLVM 21 like Bun)
#   .rs   rustfmt --edition 2024 with rustfmt.toml (the rustfmt on PATH; Bun pins a nightly)
#   tests prettier 3.6.2 + prettier-plugin-organize-imports 4.3.0 with .prettierrc
#         on test/**/*.test.* (Bun's `bun run prettier` leaves *fixture* files out;
#         they are checked here too)
#
#   patches/format-check.sh
#
# The post-images are rebuilt from pre-images/ plus the series (git apply) in a
# temporary directory. Tools are installed on first use into $BUN_FMT_TOOLS
# (default ${ASHERAH_SHIM_CACHE:-<repo>/.cache}/bun-fmt-tools) with pip and npm. Only
# files the series add or modify are checked. Exit status 0 when all passed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
tools=${BUN_FMT_TOOLS:-${ASHERAH_SHIM_CACHE:-$root/.cache}/bun-fmt-tools}
failed=0

ok() { echo "ok      $*"; }
bad() {
  echo "FAIL    $*"
  failed=1
}

install_tools() {
  mkdir -p "$tools"
  if [ ! -x "$tools/zig/ziglang/zig" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$tools/zig" ziglang==0.15.2 >/dev/null || return 1
  fi
  if [ ! -x "$tools/clang/clang_format/data/bin/clang-format" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$tools/clang" clang-format==21.1.8 >/dev/null || return 1
  fi
  if [ ! -f "$tools/npm/node_modules/prettier/bin/prettier.cjs" ]; then
    mkdir -p "$tools/npm"
    echo '{"name":"bun-fmt-tools","private":true}' >"$tools/npm/package.json"
    (cd "$tools/npm" && npm install --silent --no-audit --no-fund \
      prettier@3.6.2 prettier-plugin-organize-imports@4.3.0 typescript@5.9.3 >/dev/null) || return 1
  fi
}

install_tools || {
  echo "format-check.sh: could not install the tools into $tools"
  exit 1
}
zig=$tools/zig/ziglang/zig
clang_format=$tools/clang/clang_format/data/bin/clang-format
npm_modules=$tools/npm/node_modules
echo "zig $($zig version), $($clang_format --version | head -1), prettier $(node "$npm_modules/prettier/bin/prettier.cjs" --version), $(rustfmt --version 2>/dev/null || echo 'no rustfmt')"

work=$(mktemp -d "${TMPDIR:-/tmp}/bun-patches-fmt.XXXXXX")
trap 'rm -rf "$work"' EXIT

for series in bun-v1.3.14 main; do
  dir=$here/$series
  tree=$work/$series
  echo "== $series"
  mkdir -p "$tree"
  cp -R "$dir/pre-images/." "$tree/"
  cp -R "$dir/configs/." "$tree/"
  while read -r blob path; do
    [ "$(git hash-object "$tree/$path")" = "$blob" ] || bad "$series: configs/$path is not blob $blob"
  done <"$dir/configs.txt"
  git -C "$tree" init --quiet
  git -C "$tree" apply "$dir"/0*.patch || {
    bad "$series: the series does not apply to the pre-images"
    continue
  }
  mapfile -t files < <(sed -n 's|^+++ b/||p' "$dir"/0*.patch | LC_ALL=C sort -u)
  pretty=()

  for f in "${files[@]}"; do
    case $f in
      *.zig)
        if (cd "$tree" && $zig fmt --check "$f" && $zig ast-check "$f" >/dev/null); then
          ok "$series $f: zig fmt --check, zig ast-check"
        else
          bad "$series $f: zig fmt --check / zig ast-check"
        fi
        ;;
      src/*.cpp | src/*.h)
        if (cd "$tree" && $clang_format --style=file:src/.clang-format "$f" | diff -u "$f" - >/dev/null); then
          ok "$series $f: clang-format (src/.clang-format)"
        else
          bad "$series $f: clang-format would change it"
          (cd "$tree" && $clang_format --style=file:src/.clang-format "$f" | diff -u "$f" - | head -20)
        fi
        ;;
      *.rs)
        # --check on a file also visits its `mod` children; missing ones are not ours.
        out=$(cd "$tree" && rustfmt --edition 2024 --config-path rustfmt.toml --check "$f" 2>&1)
        # A stable rustfmt warns that it cannot apply rustfmt.toml's (nightly-only) ignore list.
        if ! echo "$out" | grep -v "^Warning: can't set \`ignore = " | grep -q .; then
          ok "$series $f: rustfmt (rustfmt.toml, edition 2024)"
        else
          bad "$series $f: rustfmt"
          echo "$out" | head -20
        fi
        ;;
      test/*.ts | test/*.js | test/*.mjs) pretty+=("$f") ;;
      *) echo "skip    $series $f: no formatter configured for it in Bun" ;;
    esac
  done
  # One prettier run per series: loading the organize-imports plugin takes seconds.
  if [ ${#pretty[@]} -gt 0 ]; then
    if changed=$(cd "$tree" && node "$npm_modules/prettier/bin/prettier.cjs" \
      --plugin="$npm_modules/prettier-plugin-organize-imports/index.js" --config .prettierrc \
      --list-different "${pretty[@]}" 2>&1); then
      ok "$series ${pretty[*]}: prettier (.prettierrc, organize-imports)"
    else
      bad "$series: prettier would change: $changed"
    fi
  fi
done

echo
[ $failed = 0 ] && echo "RESULT: every checked file is formatted as Bun's tools want." || echo "RESULT: FAILED"
exit $failed
