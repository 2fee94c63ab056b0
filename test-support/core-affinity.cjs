'use strict';
// Issue 15's `CoreAffinity` setup key, registered by node-test/core-affinity.test.mjs and
// bun-test/core-affinity.test.ts: both settings (and the camelCase spelling) round-trip data
// on both cores, sync and async with one and with 64 calls in flight; a bad value is
// ERR_ASHERAH_CONFIG, sync and async. No timing is asserted: which setting is faster is a
// benchmark (bench/affinity.cjs), not a test.
const assert = require('node:assert/strict');

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
    });
  }
}

module.exports = { register };
