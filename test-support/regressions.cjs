'use strict';
// The exact inputs of issue 10's findings 1, 2, 8-12, each a regression test for both cores,
// registered by node-test/regressions.test.mjs and bun-test/regressions.test.ts. (The
// lifecycle and overload findings are in faults.cjs; generated inputs in the property and
// bad-input suites.)
const assert = require('node:assert/strict');

const env = require('./env.cjs');

const asherah = require(env.root);

const config = (core, extra = {}) => ({
  ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static',
  EnableSessionCaching: true, Core: core, GoLibrary: env.goLibrary, ...extra,
});

/** The error `fn` throws (a test failure if it throws nothing). Also used by asherah4.cjs. */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

async function rejected(p) {
  assert.ok(p instanceof Promise, 'async exports return a promise, even for bad input');
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

function register(runner) {
  const { describe, test, after } = runner;
  after(() => asherah.shutdown());

  for (const core of ['native', 'go']) {
    describe(`regressions (${core} core)`, () => {
      const setup = () => {
        asherah.shutdown();
        asherah.setup(config(core));
      };

      test('finding 1: a multi-byte character at the end of a 64-byte read is kept (sync and async)', async () => {
        setup();
        for (const s of ['a'.repeat(62) + 'é', 'b'.repeat(61) + '😀', 'c'.repeat(125) + '€', 'd'.repeat(4093) + '😀']) {
          assert.equal(asherah.decrypt_string('p', asherah.encrypt_string('p', s)), s);
          assert.equal(await asherah.decrypt_string_async('p', await asherah.encrypt_string_async('p', s)), s);
        }
        let lost = 0;
        for (let i = 0; i < 300; i++) {
          let s = '';
          for (let j = 1 + (i % 90); j > 0; j--) s += String.fromCharCode(1 + Math.floor(Math.random() * 255));
          if (asherah.decrypt_string('p', asherah.encrypt_string('p', s)) !== s) lost++;
        }
        assert.equal(lost, 0, 'random Latin-1 strings round-trip exactly');
      });

      test('finding 1: partitions that differ only in a final multi-byte character have different keys', () => {
        setup();
        const a = 'x'.repeat(62) + 'é';
        const b = 'x'.repeat(62) + 'ü';
        const record = asherah.encrypt_string(a, 'secret');
        assert.equal(asherah.decrypt_string(a, record), 'secret');
        const e = thrown(() => asherah.decrypt_string(b, record));
        assert.equal(e.code, 'ERR_ASHERAH_DECRYPT_FAILED', e.message);
      });

      test('finding 2: lone surrogates are refused in partitions and data, U+FFFD itself works', async () => {
        setup();
        for (const p of ['\uD800', '\uDC00', 'a\uD83Db', 'x'.repeat(70) + '\uDFFF']) {
          const e = thrown(() => asherah.encrypt_string(p, 'x'));
          assert.equal(e.code, 'ERR_ASHERAH_INVALID_ARGUMENT');
          assert.ok(e instanceof TypeError);
          assert.equal((await rejected(asherah.encrypt_string_async(p, 'x'))).code, 'ERR_ASHERAH_INVALID_ARGUMENT');
        }
        assert.equal(thrown(() => asherah.encrypt_string('p', 'data\uD800')).code, 'ERR_ASHERAH_INVALID_ARGUMENT');
        const record = asherah.encrypt_string('\uFFFD', 'ok \uFFFD');
        assert.equal(asherah.decrypt_string('\uFFFD', record), 'ok \uFFFD');
        assert.equal(thrown(() => asherah.decrypt_string('\uD800', record)).code, 'ERR_ASHERAH_INVALID_ARGUMENT');
      });

      test('decrypt_string of bytes that are not UTF-8 is refused, decrypt returns them', () => {
        setup();
        const bytes = Buffer.from([0x66, 0xff, 0xfe, 0x80]);
        const record = asherah.encrypt('p', bytes);
        assert.equal(thrown(() => asherah.decrypt_string('p', record)).code, 'ERR_ASHERAH_NOT_UTF8');
        assert.deepEqual(asherah.decrypt('p', record), bytes);
      });

      test('finding 8: decrypt errors quote no input and stay short', async () => {
        setup();
        const secret = 'my secret ssn 078-05-1120';
        const inputs = [JSON.stringify(secret), secret, `{"Data":"${secret}"}`, JSON.stringify('z'.repeat(1 << 20))];
        for (const input of inputs) {
          for (const e of [thrown(() => asherah.decrypt_string('p', input)), await rejected(asherah.decrypt_string_async('p', input))]) {
            assert.match(e.code, /^ERR_ASHERAH_(MALFORMED_RECORD|DECRYPT_FAILED)$/, e.message);
            assert.ok(!e.message.includes('078-05-1120'), e.message);
            assert.ok(!e.message.includes('zzzzzzzz'), 'no echo of the input');
            assert.ok(e.message.length <= 512, `message of ${e.message.length} chars`);
          }
        }
      });
    });
  }

  describe('regressions: configuration', () => {
    const base = { ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static' };
    const circular = { ...base };
    circular.self = circular;
    const cases = {
      'a BigInt': { ...base, SessionCacheMaxSize: 10n },
      'a cycle': circular,
      'a throwing getter': Object.defineProperty({ ...base }, 'ExpireAfter', { enumerable: true, get() { throw new Error('secret-in-getter'); } }),
      'a throwing toJSON': { ...base, toJSON() { throw new RangeError('nope'); } },
      'a toJSON returning undefined': { ...base, toJSON() { return undefined; } },
      'a throwing Proxy': new Proxy({ ...base }, { ownKeys() { throw new TypeError('trap'); } }),
      'TimeoutMs NaN': { ...base, TimeoutMs: NaN },
      'CoreThreads Infinity': { ...base, CoreThreads: Infinity },
      'MaxInputBytes -Infinity': { ...base, MaxInputBytes: -Infinity },
      'CoreStackSize NaN': { ...base, CoreStackSize: NaN },
      'ExpireAfter NaN': { ...base, ExpireAfter: NaN },
      'ExpireAfter out of range': { ...base, ExpireAfter: '99999999999999999999999d' },
      'CheckInterval out of range': { ...base, CheckInterval: '106752d' },
      'MaxQueuedCalls 0': { ...base, MaxQueuedCalls: 0 },
    };
    for (const [name, cfg] of Object.entries(cases)) {
      test(`findings 9, 10, 12: ${name} is ERR_ASHERAH_CONFIG, sync and async (which rejects, never throws)`, async () => {
        asherah.shutdown();
        const e = thrown(() => asherah.setup(cfg));
        assert.equal(e.code, 'ERR_ASHERAH_CONFIG', e.message);
        assert.ok(!e.message.includes('secret-in-getter'), e.message);
        let p;
        assert.doesNotThrow(() => { p = asherah.setup_async(cfg); });
        assert.equal((await rejected(p)).code, 'ERR_ASHERAH_CONFIG');
        assert.equal(asherah.get_setup_status(), false);
      });
    }

    test('finding 11: setup_async rejects as fast as setup when the core cannot be built', async () => {
      asherah.shutdown();
      const bad = { ...base, Metastore: 'rdbms', ConnectionString: 'sqlite:///nonexistent-dir/x/y.db' };
      const t0 = Date.now();
      const e = await rejected(asherah.setup_async(bad));
      const ms = Date.now() - t0;
      assert.match(e.code, /^ERR_ASHERAH_/);
      // The bug waited 2,000 ms for its own pool thread; 1,800 leaves room for a loaded machine.
      assert.ok(ms < 1800, `setup_async took ${ms} ms to reject (it waited 2 s for its own thread)`);
    });
  });
}

module.exports = { register, thrown };
