'use strict';
// Issue 15: index.js's `decrypt` makes small plaintexts in JS (the native side writes them
// into this env's scratch array, `_decrypt_scratch()`, and returns the length; index.js
// copies them into a Buffer of its own and wipes the scratch), and on Node its
// `decrypt_async`/`encrypt_async` take an inline call's result without an N-API promise.
// Registered by node-test/decrypt-results.test.mjs and bun-test/decrypt-results.test.ts.
// Checks every length around the scratch size, that results never share memory with each
// other or the scratch, that the scratch is one object per env, that the async variants
// settle and fail as the native promise does, and that a detached scratch only turns the
// fast path off.
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

    test('a new scratch is all zeros, even made where JS just dropped arrays of its size', () => {
      // Bun's napi_create_arraybuffer asks for uninitialized memory; on 1.2.0-1.3.14 an
      // array made after JS dropped same-sized typed arrays holds their bytes, every time
      // (patches/repro/napi-arraybuffer-uninitialized.js). The scratch is made once per
      // env, so a fresh process makes it after such a churn. Without the shim's zeroing,
      // Bun 1.3.14 reports 4096 bytes of 0xab here.
      const code = `
        const asherah = require(${JSON.stringify(env.root)});
        const gc = typeof Bun !== 'undefined' ? () => Bun.gc(true) : globalThis.gc || (() => {});
        let junk = [];
        for (let i = 0; i < 2048; i++) junk.push(new Uint8Array(4096).fill(0xab));
        junk = null;
        gc();
        const s = asherah._decrypt_scratch();
        console.log(JSON.stringify({ length: s.length, nonzero: s.filter((b) => b !== 0).length }));`;
      const r = require('node:child_process').spawnSync(process.execPath, ['-e', code], {
        encoding: 'utf8', timeout: 60_000, env: process.env,
      });
      assert.equal(r.status, 0, `child failed: ${r.error || ''}${r.stderr}`);
      const got = JSON.parse(r.stdout.trim().split('\n').pop());
      assert.ok(got.length >= 1024, `the scratch is only ${got.length} bytes`);
      assert.equal(got.nonzero, 0, `a new ${got.length}-byte scratch held ${got.nonzero} bytes nobody wrote`);
    });

    test('the scratch is one wiped object per env, and _decrypt_into falls back to a Buffer past it', () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      assert.ok(scratch instanceof Uint8Array && !(scratch.buffer instanceof SharedArrayBuffer));
      // Bun <= 1.3 hands out a new ArrayBuffer with whatever its memory held (seen after
      // api.test.ts in the same process); the shim zeroes it. Made certain in the next test.
      assert.ok(scratch.every((b) => b === 0), 'a new scratch held bytes nobody wrote');
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

    test('every length from 0 to past the kept views, twice in shuffled order, sync and async: right bytes, scratch wiped', async () => {
      // index.js keeps a view of the scratch per result length up to 256 and makes one per
      // call above: a reused view must still cover exactly the new result, and be wiped.
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      const lens = Array.from({ length: 301 }, (_, i) => i);
      const order = [...lens, ...lens];
      for (let i = order.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      const plains = lens.map((len) => crypto.randomBytes(len));
      const recs = plains.map((p) => asherah.encrypt('p', p));
      for (const [k, len] of order.entries()) {
        const out = k % 2 ? await asherah.decrypt_async('p', recs[len]) : asherah.decrypt('p', recs[len]);
        assert.ok(Buffer.isBuffer(out) && out.length === len, `length ${len}: got ${out.length} bytes`);
        assert.equal(out.buffer.byteLength, len, `length ${len}: ArrayBuffer of another size`);
        assert.ok(out.equals(plains[len]), `length ${len}: bytes differ`);
        assert.ok(scratch.every((b) => b === 0), `length ${len}: plaintext left in the scratch`);
      }
      asherah.shutdown();
    });

    test('with the stack exhausted at every depth, a decrypt throws or returns the right bytes, and leaves the scratch wiped', () => {
      // Recursing to the limit and decrypting in every frame on the way back makes the
      // RangeError land at each point of a decrypt in turn: before the native call, inside
      // it, and in index.js's copy-out (view, allocation, copy, wipe).
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      const plain = crypto.randomBytes(64);
      const rec = asherah.encrypt('p', plain);
      const seen = { right: 0, threw: 0, wrong: 0, dirty: 0 };
      const deep = () => {
        try {
          deep();
        } catch {
          // the frame above the deepest
        }
        let out;
        try {
          out = asherah.decrypt('p', rec);
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          seen.threw++;
        }
        if (out !== undefined) seen[out.equals(plain) ? 'right' : 'wrong']++;
        if (!scratch.every((b) => b === 0)) {
          seen.dirty++;
          scratch.fill(0);
        }
      };
      for (let i = 0; i < 5; i++) deep();
      assert.equal(seen.wrong, 0, `wrong bytes returned: ${JSON.stringify(seen)}`);
      assert.equal(seen.dirty, 0, `plaintext left in the scratch: ${JSON.stringify(seen)}`);
      assert.ok(seen.right > 1000, `too few decrypts ran: ${JSON.stringify(seen)}`);
      assert.ok(asherah.decrypt('p', rec).equals(plain), 'the fast path works afterwards');
      asherah.shutdown();
    });

    test('decrypt_async and encrypt_async: inline and hosted results round-trip, as real promises', async () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      // 65_536 is past the inline limit (a hosted call); the rest run inline.
      for (const len of LENGTHS) {
        const plain = crypto.randomBytes(len);
        const pe = asherah.encrypt_async('p', plain);
        assert.ok(pe instanceof Promise, `length ${len}: encrypt_async returned no promise`);
        const rec = await pe;
        assert.equal(typeof rec, 'string');
        const pd = asherah.decryptAsync('p', rec);
        assert.ok(pd instanceof Promise, `length ${len}: decryptAsync returned no promise`);
        const out = await pd;
        assert.ok(Buffer.isBuffer(out), `length ${len}: not a Buffer`);
        assert.ok(out.equals(plain), `length ${len}: bytes differ`);
        assert.equal(out.byteOffset, 0, `length ${len}: a slice of a shared ArrayBuffer`);
        assert.equal(out.buffer.byteLength, len, `length ${len}: ArrayBuffer of another size`);
        assert.ok(scratch.every((b) => b === 0), `length ${len}: decrypt_async left plaintext in the scratch`);
        assert.ok((await asherah.encryptAsync('p', plain)) !== rec, 'two encryptions gave one record');
      }
      // Many in flight at once, each with its own plaintext: no result takes another's bytes.
      const plains = Array.from({ length: 200 }, (_, i) => crypto.randomBytes(1 + (i * 37) % 3000));
      const recs = await Promise.all(plains.map((p) => asherah.encrypt_async('p', p)));
      const outs = await Promise.all(recs.map((r) => asherah.decrypt_async('p', Buffer.from(r))));
      outs.forEach((o, i) => assert.ok(o.equals(plains[i]), `in flight: result ${i} differs`));
      asherah.shutdown();
      const f = new asherah.SessionFactory({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const session = f.getSession('p');
      const plain = crypto.randomBytes(33);
      assert.ok((await session.decryptAsync(await session.encryptAsync(plain))).equals(plain));
      f.close();
    });

    test('decrypt_async and encrypt_async reject bad calls, never throw, as the native promise does', async () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const rec = asherah.encrypt('p', Buffer.from('plain'));
      const outcome = async (f) => {
        let p;
        try {
          p = f();
        } catch (e) {
          return `threw ${e.code}`;
        }
        assert.ok(p instanceof Promise, 'no promise');
        try {
          await p;
          return 'resolved';
        } catch (e) {
          return `${e.code}: ${e.message}`;
        }
      };
      // decrypt_string_async is the untouched native path; both must fail alike.
      for (const [partition, record] of [
        ['other', rec], [42, rec], ['', rec], ['p', '{'], ['p', 42], ['p', Buffer.from(rec.replace('"Data":"', '"Data":"!'))],
        ['p', '\ud800'], ['\udc00', rec],
      ]) {
        const got = await outcome(() => asherah.decrypt_async(partition, record));
        assert.ok(got.startsWith('ERR_ASHERAH_'), `decrypt_async(${String(partition)}): ${got}`);
        assert.equal(got, await outcome(() => asherah.decrypt_string_async(partition, record)));
      }
      for (const [partition, data] of [['', Buffer.alloc(1)], [null, Buffer.alloc(1)], ['p', 'a string'], ['p', null]]) {
        const got = await outcome(() => asherah.encrypt_async(partition, data));
        assert.ok(got.startsWith('ERR_ASHERAH_INVALID_ARGUMENT'), `encrypt_async: ${got}`);
      }
      asherah.shutdown();
      assert.match(await outcome(() => asherah.decrypt_async('p', rec)), /^ERR_ASHERAH_NOT_INITIALIZED/);
      assert.match(await outcome(() => asherah.encrypt_async('p', Buffer.alloc(1))), /^ERR_ASHERAH_NOT_INITIALIZED/);
    });

    test('a failed decrypt leaves nothing in the scratch, and a record in the scratch itself still decrypts', async () => {
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const scratch = asherah._decrypt_scratch();
      scratch.fill(0);
      for (const len of [0, 1, 16, 100, 1000, scratch.length - 28, scratch.length - 27, scratch.length]) {
        const plain = crypto.randomBytes(len);
        const rec = asherah.encrypt('p', plain);
        // The sealed data is decoded and opened inside the scratch: a tag that does not
        // match, a foreign partition, or a record that is not base64 must leave it zeroed.
        const data = JSON.parse(rec).Data;
        const flipped = data[0] === 'A' ? 'B' : 'A';
        const withData = (d) => rec.replace(`"Data":"${data}"`, `"Data":"${d}"`);
        // The last character before the padding: its decode comes after the rest of Data
        // was written into the scratch.
        const last = data.replace(/=+$/, '').length - 1;
        for (const [what, partition, bad] of [
          ['a changed byte of Data', 'p', withData(`${flipped}${data.slice(1)}`)],
          ['another partition', 'q', rec],
          ['Data cut short', 'p', withData(data.slice(0, -4))],
          ['a character outside base64 at the end of Data', 'p', withData(`${data.slice(0, last)}*${data.slice(last + 1)}`)],
        ]) {
          assert.throws(() => asherah._decrypt_into(partition, bad), (e) => typeof e.code === 'string', `${len}: ${what}`);
          assert.ok(scratch.every((b) => b === 0), `${len} bytes, ${what}: the scratch was left with bytes in it`);
          // decrypt_async of a small record runs inline, and on Node (index.js) decrypts
          // into the scratch too; the export behind it does so on every runtime.
          await assert.rejects(asherah.decrypt_async(partition, bad), (e) => typeof e.code === 'string', `${len}: ${what}, async`);
          assert.ok(scratch.every((b) => b === 0), `${len} bytes, ${what}: decrypt_async left bytes in the scratch`);
          await assert.rejects(() => asherah._decrypt_async_into(partition, bad), (e) => typeof e.code === 'string', `${len}: ${what}, _decrypt_async_into`);
          assert.ok(scratch.every((b) => b === 0), `${len} bytes, ${what}: _decrypt_async_into left bytes in the scratch`);
        }
        if (last < data.length - 1) {
          // Spare bits after the last byte: Go reads them, so the native core does, though
          // not on the path that writes into the scratch. That path has written most of
          // the ciphertext there before it gives up; the result must be the plaintext.
          const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
          const spare = withData(`${data.slice(0, last)}${A[A.indexOf(data[last]) ^ 1]}${data.slice(last + 1)}`);
          const out = asherah._decrypt_into('p', spare);
          const got = typeof out === 'number' ? Buffer.from(scratch.subarray(0, out)) : out;
          assert.ok(got.equals(plain), `${len} bytes, spare bits in Data: decrypted wrongly`);
          // What the first, given-up write left is wiped before the plaintext is copied in.
          const past = typeof out === 'number' ? out : 0;
          assert.ok(scratch.subarray(past).every((b) => b === 0), `${len} bytes, spare bits: _decrypt_into left bytes past its result`);
          scratch.fill(0);
          assert.ok(asherah.decrypt('p', spare).equals(plain), `${len} bytes, spare bits in Data, decrypt`);
          assert.ok(scratch.every((b) => b === 0), `${len} bytes, spare bits: decrypt left bytes in the scratch`);
          assert.ok((await asherah.decrypt_async('p', spare)).equals(plain), `${len} bytes, spare bits in Data, decrypt_async`);
          assert.ok(scratch.every((b) => b === 0), `${len} bytes, spare bits: decrypt_async left bytes in the scratch`);
          const outAsync = await asherah._decrypt_async_into('p', spare);
          const gotAsync = typeof outAsync === 'number' ? Buffer.from(scratch.subarray(0, outAsync)) : outAsync;
          assert.ok(gotAsync.equals(plain), `${len} bytes, spare bits in Data: _decrypt_async_into decrypted wrongly`);
          const pastAsync = typeof outAsync === 'number' ? outAsync : 0;
          assert.ok(scratch.subarray(pastAsync).every((b) => b === 0), `${len} bytes, spare bits: _decrypt_async_into left bytes past its result`);
          scratch.fill(0);
        }
        assert.ok(asherah.decrypt('p', rec).equals(plain), `${len} bytes`);
        assert.ok(scratch.every((b) => b === 0), `${len} bytes: decrypt left bytes in the scratch`);
      }
      // Test support hands the scratch out, so a caller could pass its own bytes back as
      // the record: the plaintext must not be written over the record while it is read.
      const plain = crypto.randomBytes(300);
      const rec = Buffer.from(asherah.encrypt('p', plain));
      scratch.set(rec);
      const out = asherah._decrypt_into('p', scratch.subarray(0, rec.length));
      const got = typeof out === 'number' ? Buffer.from(scratch.subarray(0, out)) : out;
      assert.ok(got.equals(plain), 'a record held in the scratch decrypted wrongly');
      scratch.fill(0);
      scratch.set(rec);
      const outAsync = asherah._decrypt_async_into('p', scratch.subarray(0, rec.length));
      const gotAsync = typeof outAsync === 'number' ? Buffer.from(scratch.subarray(0, outAsync)) : await outAsync;
      assert.ok(gotAsync.equals(plain), 'a record held in the scratch decrypted wrongly by _decrypt_async_into');
      scratch.fill(0);
      asherah.shutdown();
    });

    test('a decrypt made by user code while a result is copied out changes neither result', async () => {
      // Copying a result out of the scratch runs user code where user code has hooked in:
      // `Uint8Array.prototype.set` can be replaced (and the copy once used `subarray`, which
      // reads `Uint8Array[Symbol.species]`, and looked `Buffer.allocUnsafeSlow` up on every
      // call). A decrypt made there overwrote the scratch and wiped it, and the outer
      // decrypt returned zeros ("outer" below was 16 NUL bytes), silently.
      asherah.shutdown();
      asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
      const jsCopies = !process.versions.bun && typeof Deno === 'undefined';
      const a = Buffer.from('AAAAAAAAAAAAAAAA');
      const b = Buffer.from('BBBBBBBBBBBBBBBBBBBBBBBB');
      const ra = asherah.encrypt('p', a);
      const rb = asherah.encrypt('p', b);
      const hooks = {
        species: (nested) => {
          let armed = true;
          Object.defineProperty(Uint8Array, Symbol.species, {
            configurable: true,
            get() { if (armed) { armed = false; nested(); } return Uint8Array; },
          });
          return () => { delete Uint8Array[Symbol.species]; };
        },
        allocUnsafeSlow: (nested) => {
          const original = Buffer.allocUnsafeSlow;
          let armed = true;
          Buffer.allocUnsafeSlow = (n) => { if (armed) { armed = false; nested(); } return original(n); };
          return () => { Buffer.allocUnsafeSlow = original; };
        },
        set: (nested) => {
          const own = Object.getOwnPropertyDescriptor(Uint8Array.prototype, 'set');
          const original = Uint8Array.prototype.set;
          let armed = true;
          Uint8Array.prototype.set = function set(...args) {
            if (armed) { armed = false; nested(); }
            return original.apply(this, args);
          };
          return () => {
            if (own) Object.defineProperty(Uint8Array.prototype, 'set', own);
            else delete Uint8Array.prototype.set;
          };
        },
      };
      for (const [hook, install] of Object.entries(hooks)) {
        for (const outerAsync of [false, true]) {
          for (const innerAsync of [false, true]) {
            const what = `${hook}, outer ${outerAsync ? 'async' : 'sync'}, inner ${innerAsync ? 'async' : 'sync'}`;
            let inner;
            const remove = install(() => {
              inner = innerAsync ? asherah.decrypt_async('p', rb) : asherah.decrypt('p', rb);
            });
            let outer;
            try {
              outer = outerAsync ? asherah.decrypt_async('p', ra) : asherah.decrypt('p', ra);
            } finally {
              remove();
            }
            assert.ok((await outer).equals(a), `${what}: the outer result is ${(await outer).toString('hex')}`);
            // Only Node's index.js copies results out in JS; Bun and Deno never run a hook.
            // Its copy reads the scratch through views made with the constructor and an
            // allocator taken at load, so only a replaced `set` reaches user code now;
            // neither `Symbol.species` nor a later `Buffer.allocUnsafeSlow` is consulted.
            if (jsCopies && hook === 'set') assert.ok(inner !== undefined, `${what}: the hook did not run`);
            if (jsCopies && hook !== 'set') assert.equal(inner, undefined, `${what}: the copy-out consulted the ${hook} hook`);
            if (inner !== undefined) {
              assert.ok((await inner).equals(b), `${what}: the nested result is ${(await inner).toString('hex')}`);
            }
          }
        }
      }
      assert.ok(asherah.decrypt('p', ra).equals(a), 'the fast path works afterwards');
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
        return asherah.decrypt_async('p', rec).then((o) => {
          assert.ok(o.equals(plain));
          asherah.shutdown();
        });
      }
      asherah.shutdown();
    });
  });
}

module.exports = { register };
