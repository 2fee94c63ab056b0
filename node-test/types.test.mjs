// Types and module shapes (issue 13): asherah-node's README example type-checks unchanged
// with tsc --strict against index.d.ts; the ESM and CommonJS entries type-check through the
// package.json "exports" map (fixtures/types); the ES module's named exports equal the
// CommonJS module's keys, and index.d.ts declares every one of them, so an export added
// later cannot go missing from ESM or from the types without failing here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as esm from '../index.mjs';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const cjs = require('../index.js');
const typeRoots = path.join(env.cache, 'npm', 'node_modules', '@types');

function tsc(project) {
  return spawnSync(process.execPath, [env.tsc, '-p', project, '--typeRoots', typeRoots, '--pretty', 'false'],
    { encoding: 'utf8', timeout: 180_000 });
}

test("asherah-node v3.0.16's README example type-checks unchanged (tsc --strict)", () => {
  const r = tsc(path.join(env.root, 'fixtures', 'asherah-node-readme'));
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the same check fails on a key asherah-node does not have (the check is live)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-types-'));
  try {
    const src = fs.readFileSync(path.join(env.root, 'fixtures', 'asherah-node-readme', 'example.ts'), 'utf8');
    assert.ok(src.includes('DisableZeroCopy: null'));
    fs.writeFileSync(path.join(dir, 'example.ts'), src.replace('DisableZeroCopy: null', 'NoSuchAsherahOption: null'));
    const cfg = JSON.parse(fs.readFileSync(path.join(env.root, 'fixtures', 'asherah-node-readme', 'tsconfig.json'), 'utf8'));
    cfg.compilerOptions.paths.asherah = [path.join(env.root, 'index.d.ts')];
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(cfg));
    const r = tsc(dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /TS2353.*NoSuchAsherahOption/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ESM (index.d.mts) and CommonJS (index.d.ts) types resolve through the exports map', () => {
  const r = tsc(path.join(env.root, 'fixtures', 'types'));
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the ES module's named exports are exactly the CommonJS module's keys", () => {
  const named = Object.keys(esm).filter((k) => k !== 'default').sort();
  assert.deepEqual(named, Object.keys(cjs).sort());
  assert.equal(esm.default, cjs);
  for (const k of named) assert.equal(esm[k], cjs[k], k);
});

test('index.d.ts declares every export of the module', () => {
  const dts = fs.readFileSync(path.join(env.root, 'index.d.ts'), 'utf8');
  const declared = new Set([...dts.matchAll(/^export declare (?:function|const|class) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]));
  const missing = Object.keys(cjs).filter((k) => !declared.has(k));
  assert.deepEqual(missing, [], `exports without a declaration in index.d.ts: ${missing}`);
});

test('every error code the native module can raise is in AsherahErrorCode', () => {
  const dts = fs.readFileSync(path.join(env.root, 'index.d.ts'), 'utf8');
  const union = dts.slice(dts.indexOf('export type AsherahErrorCode'), dts.indexOf('export interface AsherahError'));
  const codes = new Set();
  for (const m of fs.readFileSync(path.join(env.root, 'index.js'), 'utf8').matchAll(/'(ERR_ASHERAH_[A-Z0-9_]+)'/g)) codes.add(m[1]);
  for (const dir of ['src/api', 'src/napi', 'src/host', 'src/core']) {
    for (const f of fs.readdirSync(path.join(env.root, dir))) {
      if (!f.endsWith('.rs')) continue;
      for (const m of fs.readFileSync(path.join(env.root, dir, f), 'utf8').matchAll(/"(ERR_ASHERAH_[A-Z0-9_]+)"/g)) codes.add(m[1]);
    }
  }
  assert.ok(codes.size > 15, `found only ${codes.size} codes`);
  const missing = [...codes].filter((c) => !union.includes(`'${c}'`));
  assert.deepEqual(missing, []);
});
