// Bun before 1.1.14 drops a thread-safe-function call whose data is NULL (oven-sh/bun#11952,
// fixed in 1.1.14). The shim's completion doorbell used to ring with NULL, so on those
// releases no promise that a core-host or helper thread settles ever settled
// (shutdown_async, every hosted async call, every Go-core async call). Bun 1.0 and 1.1 are
// not supported releases (docs/install.md), but a hang there is still the worst way to
// fail; the doorbell now rings with a non-null token.
//
// Both halves run on the last affected release, $BUN_LEGACY (scripts/deps.sh), as child
// processes bounded by a timeout: the host bug itself, shown by a plain C addon with no shim
// code, and every settling path of the shim. A third part checks that this release, too,
// loses its event loop to an unprotected cgo addon, and that the preload and the shim's Go
// core keep it alive (the matrix in test-support/matrix.cjs does this for the supported
// releases).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const fixtures = require('../fixtures/build.cjs');
const { runWorkload } = require('../fixtures/run.cjs');

const legacy = process.env.BUN_LEGACY || env.bunLegacy;
const bunBin = () => env.bun(legacy);

function run(bin, args, timeout) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout, killSignal: 'SIGKILL', cwd: env.root });
  return { code: r.status, out: r.stdout || '', err: r.stderr || '', timedOut: r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL' };
}

describe(`Bun ${legacy}: thread-safe-function calls with NULL data`, () => {
  let relay;
  before(() => {
    assert.ok(legacy, 'BUN_LEGACY is not set: run scripts/deps.sh');
    relay = fixtures.build().tsfnRelay;
  });

  test('the host drops them: a plain C addon relaying NULL-data calls gets none back', () => {
    const r = run(bunBin(), [path.join(env.root, 'fixtures', 'tsfn-relay.js'), relay, '200', '0', 'null'], 30_000);
    assert.equal(r.code, 3, `expected STRANDED (exit 3): ${r.out}${r.err}`);
    assert.match(r.out, /STRANDED sent=1 arrived=0/);
  });

  test('the same relay with non-null data arrives whole on the same release', () => {
    const r = run(bunBin(), [path.join(env.root, 'fixtures', 'tsfn-relay.js'), relay, '200', '0'], 30_000);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^OK 200 failed=0$/m);
  });

  test('Node delivers NULL-data calls (the control)', () => {
    const r = run(process.execPath, [path.join(env.root, 'fixtures', 'tsfn-relay.js'), relay, '200', '0', 'null'], 30_000);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^OK 200 failed=0$/m);
  });
});

describe(`Bun ${legacy}: every promise the shim settles from another thread settles`, () => {
  test('native and Go cores: setup_async, hosted 1 MiB calls, strings, 64 in flight, a rejection, shutdown_async', () => {
    assert.ok(env.goLibrary, 'ASHERAH_GO_LIBRARY is not set: run scripts/deps.sh');
    const r = run(bunBin(), [path.join(env.root, 'fixtures', 'settle-child.js'), path.join(env.root, 'index.js'), env.goLibrary], 90_000);
    const settled = r.out.split('\n').filter((l) => l.startsWith('SETTLED ')).length;
    assert.equal(r.timedOut, false, `the child hung: ${r.out.slice(-400)}`);
    assert.equal(r.code, 0, `${r.out.slice(-600)}${r.err.slice(-600)}`);
    assert.equal(settled, 14, r.out);
    assert.match(r.out, /^DONE$/m);
  });
});

describe(`Bun ${legacy}: the Go runtime and the event loop`, () => {
  const SECONDS = 3;
  // A live run needs about SECONDS + 1 s; no ALIVE line in 12 s (3x that) is no progress.
  const workload = (args, preload, timeoutMs = 30_000) => runWorkload({
    runtime: bunBin(), args: [...args, '--seconds', String(SECONDS)], preload, timeoutMs,
  });

  test('the plain C addon (libasherah on the JS thread) loads, then the loop makes no progress', async () => {
    const r = await workload(['--addon', 'c', '--lib', env.goLibrary], undefined, 12_000);
    assert.equal(r.loaded, true, r.stdout);
    assert.equal(r.alive, false, `expected no ALIVE line: ${r.stdout}`);
  });

  test('the same addon under the preload library lives', async () => {
    const r = await workload(['--addon', 'c', '--lib', env.goLibrary], fixtures.preloadLibrary());
    assert.equal(r.alive, true, r.summary());
    assert.ok(r.ticks >= SECONDS * 5, `ticks=${r.ticks}`);
  });

  test('the shim with the Go core lives, with no preload', async () => {
    const r = await workload(['--module', path.join(env.root, 'index.js'), '--config', JSON.stringify({ Core: 'go', GoLibrary: env.goLibrary })]);
    assert.equal(r.alive, true, r.summary());
    assert.ok(r.ticks >= SECONDS * 5, `ticks=${r.ticks}`);
  });
});
