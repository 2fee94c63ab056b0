'use strict';
// Paths to the test dependencies installed by scripts/deps.sh, shared by node-test/ and
// bun-test/. Values come from the environment when set (scripts/test.sh sources
// .cache/env.sh), otherwise from .cache/env.sh itself, so a single test file also runs alone.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function readEnvFile() {
  const cache = process.env.ASHERAH_SHIM_CACHE || path.join(root, '.cache');
  const file = path.join(cache, 'env.sh');
  const out = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const fromFile = readEnvFile();
const get = (name) => process.env[name] || fromFile[name] || '';

const bunVersions = get('BUN_VERSIONS').split(/\s+/).filter(Boolean);
const cache = get('ASHERAH_SHIM_CACHE') || path.join(root, '.cache');

module.exports = {
  root,
  cache,
  /** fast-check (pinned in scripts/deps.sh), for require() by path. */
  fastCheck: get('FAST_CHECK_DIR') || path.join(cache, 'npm', 'node_modules', 'fast-check'),
  goLibrary: get('ASHERAH_GO_LIBRARY'),
  nodeApiHeaders: get('NODE_API_HEADERS_DIR'),
  pgBinDir: get('PG_BINDIR'),
  /** Deno (pinned in scripts/deps.sh) and tsc (typescript, pinned). */
  deno: get('DENO') || path.join(cache, 'deno', '2.9.6', 'deno'),
  tsc: get('TSC') || path.join(cache, 'npm', 'node_modules', 'typescript', 'bin', 'tsc'),
  /** Package managers (pinned in scripts/deps.sh), each a script run with Node. */
  pnpm: get('PNPM'),
  yarn1: get('YARN1'),
  yarn4: get('YARN4'),
  bunVersions,
  /** The unsupported Bun kept for one regression (scripts/deps.sh, BUN_LEGACY). */
  bunLegacy: get('BUN_LEGACY'),
  /** Path of the Bun binary for a pinned version, e.g. bun('1.3.14'). */
  bun(version) {
    const p = get('BUN_' + version.replace(/\./g, '_'));
    if (!p) throw new Error(`Bun ${version} is not installed: run scripts/deps.sh`);
    return p;
  },
  /** With ASHERAH_ROBUSTNESS_REPORT=<prefix>, appends one JSON line per failure to
   *  <prefix>.<kind>.jsonl (the robustness suites' failures, for a summary). */
  report(kind, entry) {
    const prefix = process.env.ASHERAH_ROBUSTNESS_REPORT;
    if (prefix) fs.appendFileSync(`${prefix}.${kind}.jsonl`, JSON.stringify({ runtime: module.exports.runtime, ...entry }) + '\n');
  },
  /** The running runtime: 'node' or 'bun-<version>'. */
  runtime: typeof Bun !== 'undefined' ? `bun-${Bun.version}` : 'node',
};
