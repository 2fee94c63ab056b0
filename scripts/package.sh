#!/usr/bin/env bash
# Builds the two npm tarballs into dist/ (README "Install"; docs/install.md):
#   asherah-shim-<version>.tgz                    JS loader, ESM entry, types, bins, LICENSE
#   asherah-shim-linux-x64-gnu-<version>.tgz      the stripped release libasherah_shim.so
#                                                 (as asherah-shim.linux-x64-gnu.node) and
#                                                 libasherah_shim_preload.so, with os/cpu/libc
# The main package names the platform package in optionalDependencies at the same version,
# so `npm install asherah-shim` needs no Rust toolchain. The platform package is staged in
# $CARGO_TARGET_DIR/npm/ (git-ignored). Set ASHERAH_SHIM_SKIP_BUILD=1 to pack what is built.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
DIST=$ROOT/dist
PLATFORM=linux-x64-gnu
NAME=asherah-shim-$PLATFORM
VERSION=$(node -p "require('./package.json').version")

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "package.sh: only $PLATFORM is packaged, on Linux x86_64" >&2; exit 1; }
[ "$(node -p "require('./package.json').optionalDependencies['$NAME']")" = "$VERSION" ] \
  || { echo "package.sh: package.json optionalDependencies must name $NAME@$VERSION" >&2; exit 1; }

if [ "${ASHERAH_SHIM_SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --locked -p asherah-shim -p asherah-shim-preload
fi

STAGE=$TARGET/npm/$NAME
rm -rf "$STAGE"; mkdir -p "$STAGE" "$DIST"
strip --strip-unneeded -o "$STAGE/asherah-shim.$PLATFORM.node" "$TARGET/release/libasherah_shim.so"
strip --strip-unneeded -o "$STAGE/libasherah_shim_preload.so" "$TARGET/release/libasherah_shim_preload.so"
cp LICENSE "$STAGE/"
cat > "$STAGE/README.md" <<MD
# $NAME

The prebuilt native module of [asherah-shim](https://www.npmjs.com/package/asherah-shim)
for Linux x86_64 with glibc: \`asherah-shim.$PLATFORM.node\` (the N-API module) and
\`libasherah_shim_preload.so\` (the LD_PRELOAD library used by \`asherah-shim-bun\`).
Install \`asherah-shim\`, which depends on this package; do not use it alone.
MD
node - "$STAGE" "$VERSION" "$NAME" "$PLATFORM" <<'JS'
const [dir, version, name, platform] = process.argv.slice(2);
const main = require('./package.json');
const pkg = {
  name, version,
  description: `asherah-shim's native module for ${platform}`,
  license: main.license,
  os: ['linux'], cpu: ['x64'], libc: ['glibc'],
  main: `asherah-shim.${platform}.node`,
  files: [`asherah-shim.${platform}.node`, 'libasherah_shim_preload.so', 'LICENSE', 'README.md'],
  engines: main.engines,
};
require('node:fs').writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
JS

rm -f "$DIST/asherah-shim-$VERSION.tgz" "$DIST/$NAME-$VERSION.tgz"
npm pack --silent --pack-destination "$DIST" "$STAGE" >/dev/null
npm pack --silent --pack-destination "$DIST" "$ROOT" >/dev/null
for t in "$DIST/asherah-shim-$VERSION.tgz" "$DIST/$NAME-$VERSION.tgz"; do
  listing=$(tar -tzf "$t")
  grep -qx 'package/LICENSE' <<<"$listing" || { echo "package.sh: $t has no LICENSE" >&2; exit 1; }
  echo "$t ($(du -k "$t" | cut -f1) KiB, $(wc -l <<<"$listing") files)"
done
