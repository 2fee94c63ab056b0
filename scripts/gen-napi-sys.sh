#!/usr/bin/env bash
# Regenerates src/napi/sys.rs from the pinned node-api-headers with bindgen (tools/gen-napi).
# With --check, regenerates into a temporary file and fails if the committed file differs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/scripts/deps.sh"
# shellcheck disable=SC1091
source "${ASHERAH_SHIM_CACHE:-$ROOT/.cache}/env.sh"
export CARGO_TARGET_DIR="$ASHERAH_SHIM_CACHE/gen-napi-target"
cargo build --quiet --release --manifest-path "$ROOT/tools/gen-napi/Cargo.toml"
gen="$CARGO_TARGET_DIR/release/gen-napi"
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp)
  "$gen" "$NODE_API_HEADERS_DIR" "$tmp"
  rustfmt --edition 2021 "$tmp"
  if ! diff -q "$tmp" "$ROOT/src/napi/sys.rs" >/dev/null; then
    echo "src/napi/sys.rs is stale: run scripts/gen-napi-sys.sh" >&2
    diff -u "$ROOT/src/napi/sys.rs" "$tmp" | head -40 >&2
    rm -f "$tmp"; exit 1
  fi
  rm -f "$tmp"; echo "src/napi/sys.rs is current"
else
  "$gen" "$NODE_API_HEADERS_DIR" "$ROOT/src/napi/sys.rs"
  rustfmt --edition 2021 "$ROOT/src/napi/sys.rs"
  echo "wrote src/napi/sys.rs"
fi
