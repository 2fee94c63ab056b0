'use strict';
// The reproduction matrix and the watchdog scenarios, written once and registered by both
// runners (bun-test/{matrix,watchdog}.test.ts and node-test/{matrix,watchdog}.test.mjs).
// Every case is a child process of a real runtime (pinned Bun releases, the node on PATH)
// bounded by a SIGKILL timeout: the Go runtime loads once per process and changes
// process-wide signal state, and the failures shown here are hangs.
//
// A runner passes { describe, test(name, fn), before }: `test` carries its own timeout.
const assert = require('node:assert/strict');
const path = require('node:path');

const env = require('./env.cjs');
const fixtures = require('../fixtures/build.cjs');
const { runWorkload } = require('../fixtures/run.cjs');

const SHIM = path.join(env.root, 'index.js');
const REPORT = path.join(env.root, 'fixtures', 'shim-report.js');
const HANG = path.join(env.root, 'fixtures', 'hang-child.js');

const SECONDS = 4; // workload length
const ALIVE_BOUND = 40_000; // a live run needs ~SECONDS + 1 s; generous for 2 shared cores
const DEAD_BOUND = 12_000; // no ALIVE by then (3x a live run) = no progress
const PARALLEL = 4; // children at once: a dead Bun burns a core in its SIGPWR storm
const SIGPIPE = 13;

/** Children share a small pool so the matrix neither serialises nor starves itself. */
const queue = [];
let running = 0;
function limited(start) {
  return new Promise((resolve, reject) => {
    queue.push(() => start().then(resolve, reject).finally(() => { running--; next(); }));
    next();
  });
}
function next() {
  while (running < PARALLEL && queue.length) {
    running++;
    queue.shift()();
  }
}

/** The runtimes of the matrix: every pinned Bun, then node. */
function runtimes() {
  return [
    ...env.bunVersions.map((v) => ({ name: `Bun ${v}`, bin: env.bun(v), args: [], affected: /^1\.[0-3]\./.test(v) })),
    { name: 'Node (node on PATH)', bin: 'node', args: ['--expose-gc'], affected: false },
  ];
}

const runs = new Map();
/** One child per distinct configuration, started on first use and shared by the tests that
 *  read it. A child that printed nothing at all before its bound (not even START, so the
 *  runtime never reached the workload: seen once in CI, Bun 1.2.19 among ~15 children on a
 *  2-CPU box) ran nothing the tests check, and is run once more. */
function child(key, o) {
  if (!runs.has(key)) {
    runs.set(key, limited(async () => {
      const r = await runWorkload(o);
      return r.timedOut && !/^START /m.test(r.stdout) ? runWorkload(o) : r;
    }));
  }
  return runs.get(key);
}

function baseline(rt, extraEnv = {}) {
  return child(`baseline ${rt.bin} ${JSON.stringify(extraEnv)}`, {
    runtime: rt.bin, runtimeArgs: rt.args, env: extraEnv,
    args: ['--addon', 'c', '--lib', env.goLibrary, '--seconds', String(SECONDS)],
    timeoutMs: rt.affected ? DEAD_BOUND : ALIVE_BOUND,
  });
}
function shim(rt, extraEnv = {}) {
  return child(`shim ${rt.bin} ${JSON.stringify(extraEnv)}`, {
    runtime: rt.bin, runtimeArgs: rt.args, env: extraEnv,
    args: ['--module', SHIM, '--config', JSON.stringify({ Core: 'go', GoLibrary: env.goLibrary }), '--seconds', String(SECONDS)],
    timeoutMs: ALIVE_BOUND,
  });
}
function report(rt, extraEnv = {}) {
  return child(`report ${rt.bin} ${JSON.stringify(extraEnv)}`, {
    runtime: rt.bin, runtimeArgs: rt.args, env: extraEnv, script: REPORT,
    args: ['--module', SHIM, '--lib', env.goLibrary],
    timeoutMs: ALIVE_BOUND,
  }).then(parseReport);
}

function parseReport(r) {
  const one = (tag) => [...r.stdout.matchAll(new RegExp(`^${tag} (.*)$`, 'gm'))].map((m) => m[1]);
  const [before, after] = one('SIGIGN').map((hex) => BigInt('0x' + hex));
  const json = one('REPORT')[0];
  return {
    ...r,
    decisions: json ? JSON.parse(json) : null,
    diagnostics: one('DIAG')[0] ? JSON.parse(one('DIAG')[0]) : null,
    roundTrip: one('ROUNDTRIP')[0] === 'ok',
    sigpipeIgnored: { before: ignored(before, SIGPIPE), after: ignored(after, SIGPIPE) },
  };
}
const ignored = (mask, signo) => mask !== undefined && ((mask >> BigInt(signo - 1)) & 1n) === 1n;

function expectAlive(r) {
  assert.equal(r.alive, true, r.summary());
  // ~10 ticks/s when the machine is idle; two shared cores under load were seen giving 3 in
  // 4 s (and this can run next to three children spinning in a SIGPWR storm). A dead loop
  // never ticks after the load, so progress (not a rate) is the check.
  assert.ok(r.ticks >= 1, `the 100 ms timer made no progress: ${r.summary()}`);
}
function expectDead(r) {
  assert.equal(r.loaded, true, r.summary()); // libasherah was loaded and set up on the JS thread...
  assert.equal(r.alive, false, r.summary()); // ...then no ALIVE within 3x a live run's time
  assert.equal(r.timedOut, true, r.summary());
  // Not merely slow: a live run prints a TICK line per second, a dead one stops.
  assert.ok(r.ticks <= 10, `ticks after the load: ${r.summary()}`);
}

/** The decision the guard recorded for a signal, or undefined. */
const decision = (r, name) => r.decisions.find((d) => d.name === name);

/**
 * Registers the matrix. `only` limits it to some runtimes by binary ('node'): the node
 * runner checks its own row, the bun runner runs every row.
 */
function registerMatrix(runner, { only } = {}) {
  if (process.env.ASHERAH_SHIM_SKIP_MATRIX === '1') {
    runner.describe('reproduction matrix', () => {
      runner.test('skipped: ASHERAH_SHIM_SKIP_MATRIX=1 (the cross-release child matrix runs once, under the first bun runner)', () => {});
    });
    return;
  }
  const rows = runtimes().filter((rt) => !only || only.includes(rt.bin));
  const moved = { JSC_SIGNAL_FOR_GC: '12' };
  const affected = rows.filter((rt) => rt.affected).pop();
  runner.before(() => {
    assert.ok(env.goLibrary, 'ASHERAH_GO_LIBRARY is not set: run scripts/deps.sh');
    fixtures.build(); // the C addon, before children race to build it
    // Start every child now, the long (dead) ones first; tests await them one by one.
    const started = [];
    for (const rt of rows) if (rt.affected) started.push(baseline(rt));
    if (affected) started.push(baseline(affected, moved), report(affected, moved), shim(affected, moved));
    for (const rt of rows) started.push(shim(rt), report(rt), baseline(rt));
    for (const p of started) p.catch(() => {}); // a spawn failure is reported by its test
  });
  for (const rt of rows) {
    runner.describe(`${rt.name}: libasherah loaded, then WebAssembly + GC + timers`, () => {
      if (rt.affected) {
        runner.test('baseline (C addon, Go on the JS thread): the event loop stops making progress', async () => {
          expectDead(await baseline(rt));
        });
      } else {
        runner.test('baseline (C addon, Go on the JS thread): the event loop lives', async () => {
          expectAlive(await baseline(rt));
        });
      }
      runner.test('baseline: Go replaced the ignored SIGPIPE (SigIgn bit 13 cleared)', async () => {
        const r = await baseline(rt);
        assert.equal(r.before.sigpipeIgnored, true, r.summary());
        assert.equal(r.after.sigpipeIgnored, false, r.summary());
      });
      runner.test('the shim (Core "go"): alive, data round-trips, SIGPIPE still ignored', async () => {
        const r = await shim(rt);
        expectAlive(r); // the workload encrypts and decrypts every 50 steps; a mismatch throws
        assert.equal(r.before.sigpipeIgnored, true, r.summary());
        assert.equal(r.after.sigpipeIgnored, true, r.summary());
        assert.equal(r.end.sigpipeIgnored, true, r.summary());
      });
      runner.test('the shim: signalReport() restores SIGPIPE and, under Bun, the GC-suspend signal', async () => {
        const r = await report(rt);
        assert.ok(r.decisions, r.summary());
        assert.equal(r.roundTrip, true, r.summary());
        assert.deepEqual(r.sigpipeIgnored, { before: true, after: true }, r.summary());
        const pipe = decision(r, 'SIGPIPE');
        assert.equal(pipe.action, 'restore-ignore');
        assert.equal(pipe.before.handler, 'ignore');
        assert.equal(pipe.restored, true);
        // Go ran only on a core-host thread, never on the JS thread.
        assert.equal(r.diagnostics.lastGoCall.isCoreThread, true);
        assert.notEqual(r.diagnostics.lastGoCall.tid, r.diagnostics.jsThread.tid);
        // Every host handler that Go flagged SA_ONSTACK gets its own flags back: same
        // handler before and after, on the alternate stack only after Go.
        const flagged = r.decisions.filter((d) => d.action === 'restore-flags');
        for (const d of flagged) {
          assert.equal(d.after.handler, d.before.handler, JSON.stringify(d));
          assert.deepEqual([d.before.onStack, d.after.onStack, d.restored], [false, true, true], JSON.stringify(d));
        }
        const pwr = decision(r, 'SIGPWR');
        if (rt.bin === 'node') {
          assert.equal(pwr, undefined, 'Node has no GC-suspend signal handler');
          return;
        }
        // JSC's GC-suspend handler (SIGPWR = 30 on x86_64 unless JSC_SIGNAL_FOR_GC moves it).
        assert.equal(pwr.signo, 30);
        assert.equal(pwr.action, 'restore-flags', JSON.stringify(r.decisions));
      });
    });
  }

  if (affected) {
    runner.describe(`${affected.name} with JSC_SIGNAL_FOR_GC=12: the GC signal is found, not assumed`, () => {
      runner.test('baseline still dies (the storm follows the moved signal)', async () => {
        expectDead(await baseline(affected, moved));
      });
      runner.test('the shim names and repairs SIGUSR2, not SIGPWR, and stays alive', async () => {
        const [r, w] = await Promise.all([report(affected, moved), shim(affected, moved)]);
        const flagged = r.decisions.filter((d) => d.action === 'restore-flags');
        assert.deepEqual(flagged.map((d) => [d.signo, d.name, d.restored]), [[12, 'SIGUSR2', true]], JSON.stringify(r.decisions));
        assert.equal(decision(r, 'SIGPWR'), undefined);
        expectAlive(w);
      });
    });
  }
}

// ---- watchdog ------------------------------------------------------------------------------

const TIMEOUT_MS = 500;
const SLACK_MS = 1000; // scheduling slack on 2 shared cores
const GO_INIT_PHASE = /Go runtime initiali[sz]ation/;

function hangChild(mode) {
  return runWorkload({
    runtime: process.execPath, script: HANG,
    args: ['--mode', mode, '--lib', fixtures.build().hangLibrary, '--module', SHIM, '--timeout-ms', String(TIMEOUT_MS)],
    // The C addon never returns: killed after 6 s, which covers a slow start on a loaded box.
    timeoutMs: mode === 'c-addon' ? 6000 : 20_000,
  }).then((r) => {
    const m = /^RESULT (.*)$/m.exec(r.stdout);
    return { ...r, result: m ? JSON.parse(m[1]) : null };
  });
}

function expectTimeout(e) {
  assert.equal(e.code, 'ERR_ASHERAH_TIMEOUT', JSON.stringify(e));
  assert.match(e.phase, GO_INIT_PHASE);
  assert.equal(e.timeoutMs, TIMEOUT_MS); // a number
  assert.ok(e.ms >= TIMEOUT_MS - 20 && e.ms < TIMEOUT_MS + SLACK_MS, `took ${e.ms} ms`);
}

/** What must hold after a timed-out setup, sync or async. */
function expectAftermath(r) {
  const unusable = 'ERR_ASHERAH_CORE_UNUSABLE';
  assert.equal(r.status, false);
  for (const call of ['encrypt', 'encryptAsync', 'setupAgain']) {
    assert.equal(r[call].code, unusable, `${call}: ${JSON.stringify(r[call])}`);
    assert.match(r[call].message, GO_INIT_PHASE);
    assert.ok(r[call].ms < 100, `${call} should fail fast: ${r[call].ms} ms`);
  }
  assert.ok(r.shutdownMs < 1000, `shutdown took ${r.shutdownMs} ms`);
  assert.equal(r.afterShutdown.code, 'ERR_ASHERAH_NOT_INITIALIZED');
  assert.equal(r.nativeRoundTrip, true);
}

function registerWatchdog(runner) {
  runner.describe('watchdog: a core whose SetupJson never returns (fixtures/hang)', () => {
    runner.before(() => fixtures.build());
    const runs = {};
    const get = (mode) => (runs[mode] ??= hangChild(mode));

    runner.test('without a watchdog: the C addon calling it on the JS thread never returns', async () => {
      const r = await get('c-addon');
      assert.equal(r.timedOut, true, r.summary()); // killed by our 6 s bound
      assert.match(r.stdout, /^CALLING$/m);
      assert.doesNotMatch(r.stdout, /^RETURNED/m, r.summary());
      // The 100 ms tick line ran before the call at 200 ms, then never again.
      assert.ok(r.ticks >= 1 && r.ticks <= 30, r.summary());
      assert.ok([...r.stdout.matchAll(/^TICK/gm)].length <= 3, r.summary());
    });

    runner.test('setup_async rejects with ERR_ASHERAH_TIMEOUT in time while a JS timer keeps ticking', async () => {
      const r = await get('shim-async');
      assert.ok(r.result, r.summary());
      expectTimeout(r.result.setup);
      // A 10 ms interval gives ~50 ticks in 500 ms when the machine is idle; a JS thread
      // blocked in the wait would give 0. Demand clear progress, with room for shared cores
      // whose timers fire late.
      assert.ok(r.result.setup.ticks >= 3, `ticks during the wait: ${r.result.setup.ticks}`);
    });

    runner.test('after the async timeout: calls fail fast as unusable, shutdown returns, a new setup works', async () => {
      const r = await get('shim-async');
      assert.ok(r.result, r.summary());
      expectAftermath(r.result);
    });

    // Fails against the shim as of this commit: setup() throws ERR_ASHERAH_CORE_UNUSABLE
    // ("setup finished after its deadline"). src/api/calls.rs setup(): call_blocking marks the
    // instance Unusable on timeout, then finish_setup() finds the phase no longer its own and
    // replaces the Timeout error (docs/root-cause.md section 4).
    runner.test('sync setup throws ERR_ASHERAH_TIMEOUT naming Go runtime initialisation', async () => {
      const r = await get('shim-sync');
      assert.ok(r.result, r.summary());
      expectTimeout(r.result.setup);
    });

    runner.test('after the sync timeout: calls fail fast as unusable, shutdown returns, a new setup works', async () => {
      const r = await get('shim-sync');
      assert.ok(r.result, r.summary());
      expectAftermath(r.result);
    });
  });
}

module.exports = { registerMatrix, registerWatchdog };
