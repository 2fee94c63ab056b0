'use strict';
// Issue 15: index.js's `decrypt` makes small plaintexts in JS (the native side writes them
// into this env's scratch array, `_decrypt_scratch()`, and returns the length; index.js
// copies them into a pooled Buffer and wipes the scratch). Registered by
// node-test/decrypt-results.test.mjs and bun-test/decrypt-results.test.ts. Checks every
// length around the scratch size, that results never share memory with each other or the
// scratch, that the scratch is one object per env, and that a detached scratch only turns
// the fast path off.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const env = require('./env.cjs');

const asherah = require(env.root);

const LENGTHS = [0, 1, 15, 16, 17, 63, 64, 255, 256, 257, 1023, 1024, 4095, 4096, 4097, 8192, 65_536];

function register(runner) {
  const { describe, test, after } = runner;
  after(() => asherah.shutdown());

  describe('decrypt results made in JS (index.js)', () => {
    test('every length around the scratch size round-trips, through decrypt and a session', () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      for (const len of LENGTHS) {
        const plain = crypto.randomBytes(len);
        const rec = asherah.encrypt('p', plain);
        const out = asherah.decrypt('p', rec);
        assert.ok(Buffer.isBuffer(out), `length ${len}: not a Buffer`);
        assert.equal(out.length, len);
        // Its own ArrayBuffer, as before: a pooled slice would show other Buffers' bytes to
        // code that reads `out.buffer`.
        assert.equal(out.byteOffset, 0, `length ${len}: a slice of a shared ArrayBuffer`);
        assert.equal(out.buffer.byteLength, len, `length ${len}: ArrayBuffer of another size`);
        assert.ok(out.equals(plain), `length ${len}: bytes differ`);
        assert.equal(asherah.decrypt_string('p', asherah.encrypt_string('p', 'é'.repeat(len))), 'é'.repeat(len));
      }
      asherah.shutdown();
      const f = new asherah.SessionFactory({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const s = f.getSession('p');
      for (const len of [0, 64, 4096, 4097]) {
        const plain = crypto.randomBytes(len);
        assert.ok(s.decrypt(s.encrypt(plain)).equals(plain), `session, length ${len}`);
      }
      f.close();
    });

    test('results share no memory: a later decrypt or a write to one result changes no other', () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const plains = Array.from({ length: 50 }, (_, i) => crypto.randomBytes(1 + (i * 83) % 4096));
      const recs = plains.map((p) => asherah.encrypt('p', p));
      const outs = recs.map((r) => asherah.decrypt('p', r));
      for (let i = 0; i < outs.length; i++) assert.ok(outs[i].equals(plains[i]), `result ${i} changed by later decrypts`);
      for (const o of outs) o.fill(0xee);
      for (let i = 0; i < recs.length; i++) assert.ok(asherah.decrypt('p', recs[i]).equals(plains[i]), `result ${i} after writes`);
      // A failed decrypt in between leaves the next result intact.
      assert.throws(() => asherah.decrypt('other', recs[0]), (e) => typeof e.code === 'string');
      assert.ok(asherah.decrypt('p', recs[1]).equals(plains[1]));
      asherah.shutdown();
    });

    test('the scratch is one wiped object per env, and _decrypt_into falls back to a Buffer past it', () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      assert.ok(scratch instanceof Uint8Array && !(scratch.buffer instanceof SharedArrayBuffer));
      assert.equal(asherah._decrypt_scratch(), scratch, 'a second call made another array');
      const plain = Buffer.from('sixteen bytes!!!');
      const rec = asherah.encrypt('p', plain);
      asherah.decrypt('p', rec);
      assert.ok(scratch.every((b) => b === 0), 'decrypt left plaintext in the scratch');
      assert.equal(asherah._decrypt_into('p', rec), 16);
      assert.ok(Buffer.from(scratch.subarray(0, 16)).equals(plain));
      scratch.fill(0);
      const big = crypto.randomBytes(scratch.length + 1);
      const out = asherah._decrypt_into('p', asherah.encrypt('p', big));
      assert.ok(Buffer.isBuffer(out) && out.equals(big));
      assert.ok(scratch.every((b) => b === 0), 'a result too large for the scratch was written to it');
      asherah.shutdown();
    });

    test('a detached scratch turns the fast path off without changing results', () => {
      if (typeof structuredClone !== 'function') return;
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const plain = crypto.randomBytes(100);
      const rec = asherah.encrypt('p', plain);
      const scratch = asherah._decrypt_scratch();
      let detached = false;
      try {
        structuredClone(scratch.buffer, { transfer: [scratch.buffer] });
        detached = scratch.length === 0;
      } catch {
        // a runtime that cannot transfer it keeps the fast path; nothing to test
      }
      if (detached) {
        const out = asherah._decrypt_into('p', rec);
        assert.ok(Buffer.isBuffer(out) && out.equals(plain));
        assert.ok(asherah.decrypt('p', rec).equals(plain));
      }
      asherah.shutdown();
    });
  });
}

module.exports = { register };
