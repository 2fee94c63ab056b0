// The LD_PRELOAD library (crates/preload) against stock Bun releases, with real parts only:
// the real libasherah, the plain C addon that calls it on the JS thread
// (fixtures/c-addon), and fixtures/workload.js (WebAssembly + GC + timers). Every run is a
// child process of a pinned Bun, bounded by a timeout; every fix is shown next to the
// failure it fixes.
import { describe, test as bunTest, expect, beforeAll } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = require('../test-support/env.cjs');
const fixtures = require('../fixtures/build.cjs');
const { runWorkload } = require('../fixtures/run.cjs');

// Every test here runs children of the pinned releases, whatever Bun runs this file; the
// test command runs it under two runner releases and sets ASHERAH_SHIM_SKIP_MATRIX=1 for
// the second, where these children would only repeat the first runner's results.
const test = process.env.ASHERAH_SHIM_SKIP_MATRIX === '1' ? bunTest.skip : bunTest;

const MiB = 1 << 20;
const SECONDS = 4; // workload length
const ALIVE_BOUND = 40_000; // generous: 2 shared cores
const DEAD_BOUND = 15_000; // a live run needs ~SECONDS + 1 s; no ALIVE by then = no progress
const TEST_TIMEOUT = 120_000;

let preload = '';
let addonLib = '';
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-preload-'));

beforeAll(() => {
  fixtures.build();
  preload = fixtures.preloadLibrary();
  addonLib = env.goLibrary;
  expect(fs.existsSync(addonLib)).toBe(true);
}, TEST_TIMEOUT);

const runs = new Map<string, Promise<any>>();
/** One child run per distinct configuration, shared by the tests that inspect it. */
function run(version: string, opts: { preload?: boolean; args?: string[]; env?: Record<string, string>; dead?: boolean }) {
  const key = JSON.stringify([version, opts]);
  if (!runs.has(key)) {
    const log = path.join(logDir, `${runs.size}.log`);
    runs.set(
      key,
      runWorkload({
        runtime: env.bun(version),
        args: opts.args ?? ['--addon', 'c', '--lib', addonLib, '--seconds', String(SECONDS), '--stack'],
        preload: opts.preload ? preload : undefined,
        env: { ASHERAH_SHIM_PRELOAD_LOG: log, ...(opts.env ?? {}) },
        timeoutMs: opts.dead ? DEAD_BOUND : ALIVE_BOUND,
      }).then((r: any) => ({ ...r, log: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' })),
    );
  }
  return runs.get(key)!;
}

function expectDead(r: any) {
  expect(r.loaded, r.summary()).toBe(true); // libasherah loaded and set up on the JS thread...
  expect(r.alive, r.summary()).toBe(false); // ...then no ALIVE within the bound
  expect(r.timedOut, r.summary()).toBe(true);
  // Not merely slow: a live run prints a TICK line every second; a dead one stops (on this
  // machine it never printed one). ticks is the last TICK count seen.
  expect(r.ticks, r.summary()).toBeLessThanOrEqual(10);
}
function expectAlive(r: any) {
  expect(r.alive, r.summary()).toBe(true);
  // A healthy run ticks ~10/s, but two shared cores under load were measured as low as 3
  // ticks in 4 s; a dead run never ticks after the load. Progress, not a rate, is the test.
  expect(r.ticks, r.summary()).toBeGreaterThanOrEqual(2);
}

for (const version of ['1.2.19', '1.3.14']) {
  describe(`Bun ${version} (affected), C addon + libasherah on the JS thread`, () => {
    test('without the preload the event loop stops making progress', async () => {
      const r = await run(version, { dead: true });
      expectDead(r);
      expect(r.after.sigpipeIgnored, r.summary()).toBe(false); // Go took SIGPIPE
    }, TEST_TIMEOUT);

    test('with the preload it stays alive and SIGPIPE stays ignored', async () => {
      const r = await run(version, { preload: true });
      expectAlive(r);
      expect(r.after.sigpipeIgnored).toBe(true);
      expect(r.end.sigpipeIgnored).toBe(true);
    }, TEST_TIMEOUT);

    test('N-API async work runs on 4 MiB stacks without, 8 MiB with the preload', async () => {
      expect((await run(version, { dead: true })).asyncStack).toBe(4 * MiB);
      expect((await run(version, { preload: true })).asyncStack).toBeGreaterThanOrEqual(8 * MiB);
    }, TEST_TIMEOUT);
  });
}

describe('Bun 1.3.14: which part of the preload fixes what', () => {
  test('the log names the repaired GC signal and SIGPIPE, and the adjusted threads', async () => {
    const { log } = await run('1.3.14', { preload: true });
    expect(log).toMatch(/active min_stack=8388608 block_signals=0 repair=1/);
    const lib = path.basename(addonLib).replace(/\./g, '\\.');
    expect(log).toMatch(new RegExp(`dlopen \\S*${lib}: SIGPWR\\(30\\) handler=(0x[0-9a-f]+) flags=0x[0-9a-f]+ -> handler=\\1 flags=0x[0-9a-f]+: restore-flags`));
    expect(log).toMatch(new RegExp(`dlopen \\S*${lib}: SIGPIPE\\(13\\) SIG_IGN -> handler=0x[0-9a-f]+ flags=0x[0-9a-f]+: restore-ignore`));
    expect(log).toMatch(/SIGSEGV\(11\) handler=0x[0-9a-f]+ .*: keep-forwarding/);
    expect(log).toMatch(/SIGURG\(23\) SIG_DFL -> .*: keep-new/);
    expect(log).toMatch(/thread start=0x[0-9a-f]+ stack 4194304 -> 8388608 rc=0/);
  }, TEST_TIMEOUT);

  test('report-only mode (ASHERAH_SHIM_REPAIR=0): bigger stacks alone do not prevent the hang', async () => {
    const r = await run('1.3.14', { preload: true, env: { ASHERAH_SHIM_REPAIR: '0' }, dead: true });
    expectDead(r);
    expect(r.asyncStack).toBe(8 * MiB);
    expect(r.log).toMatch(/SIGPWR\(30\) .*: restore-flags \(report only/);
  }, TEST_TIMEOUT);

  test('signal repair alone (ASHERAH_SHIM_MIN_STACK=0) prevents it', async () => {
    const r = await run('1.3.14', { preload: true, env: { ASHERAH_SHIM_MIN_STACK: '0' } });
    expectAlive(r);
    expect(r.asyncStack).toBe(4 * MiB);
  }, TEST_TIMEOUT);

  test('the GC signal is found, not assumed: JSC_SIGNAL_FOR_GC=12 moves it to SIGUSR2', async () => {
    const moved = { JSC_SIGNAL_FOR_GC: '12' };
    expectDead(await run('1.3.14', { env: moved, dead: true }));
    const r = await run('1.3.14', { preload: true, env: moved });
    expectAlive(r);
    expect(r.log).toMatch(/SIGUSR2\(12\) handler=(0x[0-9a-f]+) \S+ -> handler=\1 \S+: restore-flags/);
    expect(r.log).not.toMatch(/SIGPWR/);
  }, TEST_TIMEOUT);

  test('ASHERAH_SHIM_BLOCK_SIGNALS=1 keeps JSC working (WTF threads unblock their GC signal) but is no fix alone', async () => {
    const blocked = await run('1.3.14', { preload: true, env: { ASHERAH_SHIM_BLOCK_SIGNALS: '1' } });
    expectAlive(blocked);
    expect(blocked.log).toMatch(/stack 4194304 -> 8388608 signals=blocked rc=0/);
    // The JS thread is the process's main thread, never made by pthread_create: masks on
    // new threads cannot protect it, only the signal repair does.
    expectDead(await run('1.3.14', { preload: true, env: { ASHERAH_SHIM_BLOCK_SIGNALS: '1', ASHERAH_SHIM_REPAIR: '0' }, dead: true }));
  }, TEST_TIMEOUT);

  test('ASHERAH_SHIM_MIN_STACK sets the minimum (16M)', async () => {
    const r = await run('1.3.14', { preload: true, args: ['--stack', '--seconds', '1'], env: { ASHERAH_SHIM_MIN_STACK: '16M' } });
    expect(r.asyncStack, r.summary()).toBe(16 * MiB);
  }, TEST_TIMEOUT);
});

describe('Bun 1.4.5 (fixed upstream): lives either way', () => {
  test('without the preload', async () => {
    const r = await run('1.4.5', {});
    expectAlive(r);
    expect(r.asyncStack).toBe(4 * MiB);
    expect(r.after.sigpipeIgnored).toBe(false); // the SIGPIPE change is real on 1.4 too
  }, TEST_TIMEOUT);

  test('with the preload', async () => {
    const r = await run('1.4.5', { preload: true });
    expectAlive(r);
    expect(r.asyncStack).toBeGreaterThanOrEqual(8 * MiB);
    expect(r.end.sigpipeIgnored).toBe(true);
  }, TEST_TIMEOUT);
});

describe('bun:ffi dlopen of libasherah', () => {
  for (const [version, affected] of [['1.3.14', true], ['1.4.5', false]] as const) {
    test(`Bun ${version}: SIGPIPE is no longer ignored without the preload, still ignored with it`, async () => {
      const args = ['--ffi', addonLib, '--seconds', '1'];
      const without = await run(version, { args, dead: affected });
      // Loading the Go runtime is enough to kill an affected Bun under this workload: the
      // one EstimateBuffer call is the only Go code that ever runs on the JS thread.
      if (affected) expectDead(without);
      else expect(without.alive, without.summary()).toBe(true);
      expect(without.before.sigpipeIgnored).toBe(true);
      expect(without.after.sigpipeIgnored).toBe(false);
      const withPreload = await run(version, { args, preload: true });
      expect(withPreload.alive, withPreload.summary()).toBe(true);
      expect(withPreload.stdout).toMatch(/^FFI EstimateBuffer\(10,10\)=\d+/m);
      expect(withPreload.after.sigpipeIgnored).toBe(true);
      expect(withPreload.log).toMatch(/SIGPIPE\(13\) SIG_IGN -> .*: restore-ignore/);
    }, TEST_TIMEOUT);
  }
});

describe('bin/asherah-shim-bun launcher', () => {
  test('runs the given bun with the preload prepended to LD_PRELOAD, args passed through', async () => {
    const launcher = path.join(env.root, 'bin', 'asherah-shim-bun');
    const log = path.join(logDir, 'launcher.log');
    const r = await runWorkload({
      runtime: launcher,
      args: ['--stack', '--seconds', '1'],
      env: { ASHERAH_SHIM_BUN: env.bun('1.3.14'), ASHERAH_SHIM_PRELOAD: preload, ASHERAH_SHIM_PRELOAD_LOG: log },
      timeoutMs: ALIVE_BOUND,
    });
    expect(r.alive, r.summary()).toBe(true);
    expect(r.stdout).toMatch(/^START runtime=bun-1\.3\.14/m);
    expect(r.asyncStack).toBe(8 * MiB);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/active min_stack=8388608/);
  }, TEST_TIMEOUT);
});
