// The LD_PRELOAD library under Node: the same C addon + real libasherah + workload as the
// Bun suite must run unharmed with the preload, and the preload must still repair what Go
// changed (SIGPIPE back to ignored). Each run is a bounded child process.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const fixtures = require('../fixtures/build.cjs');
const { runWorkload } = require('../fixtures/run.cjs');

const MiB = 1 << 20;
const TIMEOUT = 40_000;
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-preload-node-'));
let preload;

function run(withPreload, extraEnv = {}) {
  const log = path.join(logDir, `${withPreload ? 'with' : 'without'}-${Date.now()}.log`);
  return runWorkload({
    runtime: process.execPath,
    runtimeArgs: ['--expose-gc'],
    args: ['--addon', 'c', '--lib', env.goLibrary, '--seconds', '3', '--stack'],
    preload: withPreload ? preload : undefined,
    env: { ASHERAH_SHIM_PRELOAD_LOG: log, ...extraEnv },
    timeoutMs: TIMEOUT,
  }).then((r) => ({ ...r, log: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' }));
}

describe('preload under Node', () => {
  before(() => {
    fixtures.build();
    preload = fixtures.preloadLibrary();
  });

  test('without the preload: alive, but Go leaves SIGPIPE not ignored', { timeout: TIMEOUT + 10_000 }, async () => {
    const r = await run(false);
    assert.ok(r.alive, r.summary());
    assert.equal(r.before.sigpipeIgnored, true);
    assert.equal(r.after.sigpipeIgnored, false);
    assert.equal(r.asyncStack, 8 * MiB); // libuv's pool already has 8 MiB stacks
  });

  test('with the preload: alive, SIGPIPE ignored, repairs logged', { timeout: TIMEOUT + 10_000 }, async () => {
    const r = await run(true);
    assert.ok(r.alive, r.summary());
    assert.ok(r.ticks >= 2, r.summary()); // progress, not a rate: shared cores vary widely
    assert.equal(r.after.sigpipeIgnored, true);
    assert.equal(r.end.sigpipeIgnored, true);
    assert.ok(r.asyncStack >= 8 * MiB);
    assert.match(r.log, /active min_stack=8388608/);
    assert.match(r.log, /dlopen \S*libasherah\S*: SIGPIPE\(13\) SIG_IGN -> .*: restore-ignore/);
    // Node's own handlers (e.g. SIGINT/SIGTERM from its signal-exit code) get their flags back.
    assert.match(r.log, /: restore-flags/);
    assert.match(r.log, /SIGSEGV\(11\) .*: keep-forwarding/);
  });

  test('with the preload and signals blocked on new threads: still alive', { timeout: TIMEOUT + 10_000 }, async () => {
    const r = await run(true, { ASHERAH_SHIM_BLOCK_SIGNALS: '1' });
    assert.ok(r.alive, r.summary());
    assert.match(r.log, /block_signals=1/);
    assert.match(r.log, /signals=blocked/);
  });
});
