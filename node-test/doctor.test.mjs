// `asherah-shim doctor` (bin/asherah-shim.cjs, lib/doctor.cjs) gives the right verdict for a
// process without Go, with Go loaded through the shim, and with Go loaded the way
// asherah-node does it (the plain C addon, on the JS thread, unguarded), on Node and on
// Bun 1.3.14 (where that last case breaks Bun's GC signal), and with the preload library
// repairing it. Each case runs in a child process: a Go runtime loads once per process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const fx = require('../fixtures/build.cjs');
const bin = path.join(env.root, 'bin', 'asherah-shim.cjs');
const unprotected = path.join(env.root, 'fixtures', 'doctor-unprotected.cjs');

/** Runs a doctor child and returns [exit code, facts]. */
function doctor(runtime, args, extraEnv = {}) {
  const r = spawnSync(runtime[0], [...runtime.slice(1), ...args, '--json'], {
    env: { ...process.env, ...extraEnv }, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL',
  });
  assert.ok(r.status === 0 || r.status === 1, `doctor exited ${r.status} (${r.signal}):\n${r.stdout}\n${r.stderr}`);
  return [r.status, JSON.parse(r.stdout.trim().split('\n').pop())];
}

const withoutGo = (rt) => doctor(rt, [bin, 'doctor']);
const viaShim = (rt) => doctor(rt, [bin, 'doctor', '--go', env.goLibrary]);
const outside = (rt, extraEnv) => doctor(rt, [unprotected, fx.build().cAddon, env.goLibrary, env.root, 'doctor'], extraEnv);
const signal = (facts, name) => facts.signals.find((s) => s.name === name);

for (const [name, rt, poolStack] of [['node', [process.execPath], 8 << 20], ['bun 1.3.14', [env.bun('1.3.14')], 4 << 20]]) {
  describe(`doctor under ${name}`, () => {
    test('no Go runtime: OK, and the thread facts are the real ones', () => {
      const [code, f] = withoutGo(rt);
      assert.equal(code, 0);
      assert.equal(f.verdict.level, 'ok', f.verdict.text);
      assert.deepEqual(f.go.libraries, []);
      assert.equal(f.go.loadedByShim, false);
      assert.equal(f.runtime.name, name.split(' ')[0]);
      assert.equal(f.threads.napiPool.stackSize, poolStack);
      assert.equal(f.threads.coreHost.stackSize, 8 << 20);
      assert.ok(f.threads.coreHost.altStackSize > 0 && f.threads.coreHost.blockedSignals > 20);
      assert.equal(signal(f, 'SIGPIPE').handler, 'ignore');
    });

    test('Go loaded through asherah-shim: OK, Go seen in the process, SIGPIPE still ignored', () => {
      const [code, f] = viaShim(rt);
      assert.equal(code, 0, f.verdict.text);
      assert.equal(f.verdict.level, 'ok');
      assert.equal(f.go.loadedByShim, true);
      assert.deepEqual(f.go.libraries, [env.goLibrary]);
      assert.equal(signal(f, 'SIGPIPE').handler, 'ignore');
      assert.ok(f.go.repairs.some((r) => r.startsWith('SIGPIPE')), `repairs: ${f.go.repairs}`);
      assert.equal(signal(f, 'SIGURG').owner, env.goLibrary, 'Go owns SIGURG');
    });

    test('Go loaded unguarded on the JS thread (as asherah-node does): a problem, with the fix', () => {
      const [code, f] = outside(rt);
      assert.equal(code, 1, f.verdict.text);
      assert.deepEqual(f.go.libraries, [env.goLibrary]);
      assert.equal(f.go.loadedByShim, false);
      assert.equal(signal(f, 'SIGPIPE').owner, env.goLibrary, 'Go replaced the SIGPIPE ignore');
      if (name === 'node') {
        assert.equal(f.verdict.level, 'warn');
        assert.match(f.verdict.text, /SIGPIPE is no longer ignored/);
      } else {
        assert.equal(f.verdict.level, 'fail');
        assert.equal(signal(f, 'SIGPWR').onStack, true);
        assert.match(f.verdict.text, /SIGPWR runs on the alternate signal stack/);
      }
      assert.match(f.verdict.text, /Fix: .*asherah-shim-bun/);
    });
  });
}

test('doctor under bun 1.3.14 with the preload library: the same unguarded load is repaired, OK', () => {
  const [code, f] = outside([env.bun('1.3.14')], { LD_PRELOAD: fx.preloadLibrary() });
  assert.equal(code, 0, f.verdict.text);
  assert.equal(f.preload.active, true);
  assert.equal(signal(f, 'SIGPWR').onStack, false);
  assert.equal(signal(f, 'SIGPIPE').handler, 'ignore');
  assert.equal(f.threads.napiPool.stackSize, 8 << 20, 'the preload gives new threads 8 MiB');
});

test('doctor under Deno with only --allow-ffi --allow-read: OK, and the human-readable form', () => {
  const [code, f] = doctor([env.deno, 'run', '--allow-ffi', '--allow-read'], [bin, 'doctor']);
  assert.equal(code, 0, f.verdict.text);
  assert.equal(f.runtime.name, 'deno');
  const text = spawnSync(env.deno, ['run', '--allow-ffi', '--allow-read', bin, 'doctor'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(text.status, 0, text.stderr);
  for (const label of ['runtime', 'module', 'preload', 'JS thread', 'N-API pool', 'core-host', 'SIGPWR', 'SIGPIPE', 'SIGURG', 'SIGSEGV', 'Go runtime', 'verdict']) {
    assert.match(text.stdout, new RegExp(`^${label}\\b`, 'm'), label);
  }
});
