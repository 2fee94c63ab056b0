'use strict';
// Issue 15's `CoreAffinity` and `CoreIdleSpinMicros` setup keys, registered by
// node-test/core-affinity.test.mjs and bun-test/core-affinity.test.ts: every setting (and the
// camelCase spelling) round-trips data on both cores, sync and async with one and with 64
// calls in flight; a bad value is ERR_ASHERAH_CONFIG, sync and async. The idle spin's effect
// is checked by what it changes, not by time: a core-host thread that spins between
// back-to-back calls does not park (its voluntary context switches, from /proc). Which
// setting is faster is a benchmark (bench/affinity.cjs), not a test.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const env = require('./env.cjs');
const { thrown } = require('./regressions.cjs');

const asherah = require(env.root);

const config = (core, extra) => ({
  ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static',
  EnableSessionCaching: true, Core: core, GoLibrary: env.goLibrary, ...extra,
});

async function roundTrips() {
  for (let i = 0; i < 50; i++) {
    const s = `sync ${i} ${'x'.repeat(i * 7)}`;
    assert.equal(asherah.decrypt_string(`p${i % 3}`, asherah.encrypt_string(`p${i % 3}`, s)), s);
  }
  const one = Buffer.from('one in flight');
  assert.deepEqual(Buffer.from(await asherah.decrypt_async('p', await asherah.encrypt_async('p', one))), one);
  const many = Array.from({ length: 64 }, (_, i) => Buffer.from(`async ${i}`));
  const records = await Promise.all(many.map((b, i) => asherah.encrypt_async(`q${i % 5}`, b)));
  const back = await Promise.all(records.map((r, i) => asherah.decrypt_async(`q${i % 5}`, r)));
  back.forEach((b, i) => assert.deepEqual(Buffer.from(b), many[i]));
}

function register(runner) {
  const { describe, test, after } = runner;
  after(() => asherah.shutdown());

  for (const core of ['native', 'go']) {
    describe(`CoreAffinity (${core} core)`, () => {
      for (const setting of ['none', 'follow-caller']) {
        test(`CoreAffinity "${setting}" round-trips data, sync and async (1 and 64 in flight)`, async () => {
          asherah.shutdown();
          asherah.setup(config(core, { CoreAffinity: setting }));
          await roundTrips();
          asherah.shutdown();
        });
      }

      test('the camelCase spelling coreAffinity is accepted', async () => {
        asherah.shutdown();
        asherah.setup({
          serviceName: 'svc', productId: 'prod', metastore: 'memory', kms: 'static',
          enableSessionCaching: true, core, goLibrary: env.goLibrary, coreAffinity: 'follow-caller',
        });
        await roundTrips();
        asherah.shutdown();
      });

      for (const bad of ['pin', 'Follow-Caller', '', 1, true, ['none'], { cpu: 0 }]) {
        test(`CoreAffinity ${JSON.stringify(bad)} is ERR_ASHERAH_CONFIG, sync and async`, async () => {
          asherah.shutdown();
          const cfg = config(core, { CoreAffinity: bad });
          const e = thrown(() => asherah.setup(cfg));
          assert.equal(e.code, 'ERR_ASHERAH_CONFIG', e.message);
          assert.match(e.message, /CoreAffinity/);
          let p;
          assert.doesNotThrow(() => { p = asherah.setup_async(cfg); });
          const r = await p.then(() => assert.fail('expected a rejection'), (err) => err);
          assert.equal(r.code, 'ERR_ASHERAH_CONFIG', r.message);
          assert.equal(asherah.get_setup_status(), false);
        });
      }

      for (const spin of [0, 1, 100, 1000]) {
        test(`CoreIdleSpinMicros ${spin} round-trips data, sync and async (1 and 64 in flight)`, async () => {
          asherah.shutdown();
          asherah.setup(config(core, { CoreIdleSpinMicros: spin }));
          await roundTrips();
          asherah.shutdown();
        });
      }

      for (const bad of [-1, 1001, 2.5, '100', true, NaN, Infinity, [50]]) {
        test(`CoreIdleSpinMicros ${String(bad)} is ERR_ASHERAH_CONFIG, sync and async`, async () => {
          asherah.shutdown();
          const cfg = config(core, { CoreIdleSpinMicros: bad });
          const e = thrown(() => asherah.setup(cfg));
          assert.equal(e.code, 'ERR_ASHERAH_CONFIG', e.message);
          assert.match(e.message, /CoreIdleSpinMicros/);
          const r = await asherah.setup_async(cfg).then(() => assert.fail('expected a rejection'), (err) => err);
          assert.equal(r.code, 'ERR_ASHERAH_CONFIG', r.message);
          assert.equal(asherah.get_setup_status(), false);
        });
      }
    });
  }

  describe('CoreIdleSpinMicros (native core, SQLite metastore: every async call hosted)', () => {
    // Voluntary context switches of the core-host threads (named asherah-core-N; the native
    // core starts no other threads of that name) per call, over `n` async decrypts awaited
    // one at a time: each job comes a few microseconds after the last one finished.
    async function switchesPerCall(spin) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-spin-'));
      asherah.shutdown();
      asherah.setup({
        ...config('native', { Metastore: 'rdbms', ConnectionString: `sqlite://${path.join(dir, 'm.db')}` }),
        ...(spin == null ? {} : { CoreIdleSpinMicros: spin }),
      });
      try {
        const data = Buffer.from('back to back');
        const rec = await asherah.encrypt_async('p', data);
        for (let i = 0; i < 500; i++) await asherah.decrypt_async('p', rec);
        const before = coreSwitches();
        const n = 3000;
        for (let i = 0; i < n; i++) {
          const out = await asherah.decrypt_async('p', rec);
          if (i % 500 === 0) assert.deepEqual(Buffer.from(out), data);
        }
        const after = coreSwitches();
        assert.ok(after.threads >= 1 && after.threads === before.threads, JSON.stringify({ before, after }));
        return (after.voluntary - before.voluntary) / n;
      } finally {
        asherah.shutdown();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    test('a core-host thread takes back-to-back calls without parking; with the spin off it parks for each', async () => {
      if (process.platform !== 'linux') return;
      const off = await switchesPerCall(0);
      const on = await switchesPerCall(null);
      // Measured on 2 vCPUs: 1.000 off, 0.004-0.03 with the default spin (and 0.59-0.91 with
      // the crossbeam channel this replaced). The bounds leave room for a loaded machine,
      // where a preempted caller can outlast a spin.
      assert.ok(off >= 0.9, `with CoreIdleSpinMicros 0, ${off.toFixed(3)} voluntary switches per call: the calls were not hosted?`);
      assert.ok(on < 0.35, `with the default idle spin, ${on.toFixed(3)} voluntary switches per call (spin off: ${off.toFixed(3)})`);
    });
  });
}

function coreSwitches() {
  let voluntary = 0;
  let threads = 0;
  for (const t of fs.readdirSync('/proc/self/task')) {
    let status;
    try {
      status = fs.readFileSync(`/proc/self/task/${t}/status`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    if (!/^Name:\s+asherah-core-/m.test(status)) continue;
    threads++;
    voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]);
  }
  return { voluntary, threads };
}

module.exports = { register };
