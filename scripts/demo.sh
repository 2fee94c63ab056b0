#!/usr/bin/env bash
# The main job (README): installs dependencies, builds, then runs a real encrypt/decrypt
# round trip (examples/roundtrip.js) with the native and the Go core under Node and under
# each pinned Bun release.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
# shellcheck disable=SC1091
source "${ASHERAH_SHIM_CACHE:-$ROOT/.cache}/env.sh"
cargo build --release --workspace
node examples/roundtrip.js
for v in $BUN_VERSIONS; do
  "$(eval echo "\$BUN_$(echo "$v" | tr . _)")" examples/roundtrip.js
done
