'use strict';
// Finds the native module (and the preload library beside it) for this platform, in the
// order of the README's "Install": ASHERAH_SHIM_MODULE if set and readable, then the
// platform package installed as an optional dependency (asherah-shim-linux-x64-gnu), then a
// local `cargo build --release` in a git checkout. Shared by index.js and the doctor, so
// both always name the same file. Environment reads tolerate a runtime that denies them
// (Deno without --allow-env): a variable that cannot be read counts as not set.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SHIM_FILE = 'libasherah_shim.so';
const PRELOAD_FILE = 'libasherah_shim_preload.so';

/** A variable of the process environment, or undefined when unset or not readable. */
function envVar(name) {
  try {
    const v = process.env[name];
    return v === '' ? undefined : v;
  } catch {
    return undefined; // e.g. Deno's NotCapable without --allow-env
  }
}

/** A regular file this process can open for reading. (Opening it is the real test, and
 *  unlike fs.accessSync it needs no --allow-sys in Deno.) */
function readable(p) {
  let fd;
  try {
    fd = fs.openSync(p, 'r');
    return fs.fstatSync(fd).isFile();
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** glibc or musl, the way npm's `libc` field names them ("gnu" in package names). */
function libc() {
  if (process.platform !== 'linux') return '';
  try {
    const musl = fs.readdirSync('/lib').some((f) => f.startsWith('ld-musl-'));
    return musl ? 'musl' : 'gnu';
  } catch {
    return 'gnu';
  }
}

/** The platform package's name for this process, e.g. asherah-shim-linux-x64-gnu. */
function platformPackage() {
  const suffix = libc() ? `-${libc()}` : '';
  return `asherah-shim-${process.platform}-${process.arch}${suffix}`;
}

/** The directory of an installed package, or null: `node_modules/<name>` in this package's
 *  directory or any above it (Node's package lookup), then the sibling directory a flat or
 *  pnpm-style node_modules puts it in, then (not under Bun) the runtime's own resolution
 *  for what a walk cannot see (NODE_PATH, Yarn Plug'n'Play). Bun is left out of the last
 *  step: outside any node_modules tree (a git checkout) its resolver auto-installs a
 *  missing package, which costs a network round trip and prints a 404 on every load. */
function packageDir(name) {
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (readable(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  const sibling = path.join(ROOT, '..', name);
  if (readable(path.join(sibling, 'package.json'))) return sibling;
  if (process.versions && process.versions.bun) return null;
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] }));
  } catch {
    return null;
  }
}

/** Where the native module is: `{ path, source, preload }`, or an Error (code
 *  ERR_ASHERAH_NOT_BUILT) that says what was looked for and what to do. `source` is "env",
 *  "package" or "build"; `preload` is the preload library found beside it, or null. */
function locate() {
  const tried = [];
  const fromEnv = envVar('ASHERAH_SHIM_MODULE');
  if (fromEnv && readable(fromEnv)) {
    return { path: path.resolve(fromEnv), source: 'env', preload: besideOrNull(path.dirname(path.resolve(fromEnv))) };
  }
  tried.push(fromEnv ? `ASHERAH_SHIM_MODULE=${fromEnv} (not a readable file)` : 'ASHERAH_SHIM_MODULE (not set)');

  const pkgName = platformPackage();
  const pkgDir = packageDir(pkgName);
  if (pkgDir) {
    const file = path.join(pkgDir, `asherah-shim.${pkgName.slice('asherah-shim-'.length)}.node`);
    if (readable(file)) return { path: file, source: 'package', preload: besideOrNull(pkgDir) };
    tried.push(`${pkgName} at ${pkgDir} (no readable ${path.basename(file)})`);
  } else {
    tried.push(`the package ${pkgName} (not installed)`);
  }

  const build = path.join(ROOT, 'target', 'release');
  if (readable(path.join(build, SHIM_FILE))) {
    return { path: path.join(build, SHIM_FILE), source: 'build', preload: besideOrNull(build) };
  }
  tried.push(`${path.join(build, SHIM_FILE)} (not built)`);

  const supported = pkgName === 'asherah-shim-linux-x64-gnu';
  const fix = supported
    ? `install it with optional dependencies (npm install asherah-shim, without --omit=optional or --no-optional), or build from source (cargo build --release in a git checkout)`
    : `no prebuilt module exists for ${process.platform}-${process.arch}${libc() ? '-' + libc() : ''}: build from source (cargo build --release in a git checkout, see docs/install.md) and set ASHERAH_SHIM_MODULE to the built libasherah_shim.so`;
  const err = new Error(`asherah-shim: no native module for ${pkgName.slice('asherah-shim-'.length)}; looked for ${tried.join(', ')}. Fix: ${fix}`);
  err.code = 'ERR_ASHERAH_NOT_BUILT';
  return err;
}

function besideOrNull(dir) {
  const p = path.join(dir, PRELOAD_FILE);
  return readable(p) ? p : null;
}

module.exports = { locate, platformPackage, envVar, ROOT };
