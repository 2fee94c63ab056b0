'use strict';
// Property tests at the N-API boundary (issue 10, "keep it found"), written once and
// registered by node-test/robustness.test.mjs and bun-test/robustness.test.ts.
//
// Every value that crosses the boundary must come back exactly, or be rejected with a typed
// error (err.code 'ERR_ASHERAH_...'); a silent change is the failure. The semantics:
//   - well-formed strings (any plane, any length) round-trip exactly, sync and async;
//   - partition ids and string data with a lone surrogate: ERR_ASHERAH_INVALID_ARGUMENT
//     (TypeError), never a silent U+FFFD;
//   - a record made under partition A never decrypts under another partition B
//     (ERR_ASHERAH_DECRYPT_FAILED), and its key id names A exactly;
//   - bytes (Buffer, Uint8Array at an offset, SharedArrayBuffer-backed) round-trip exactly;
//     other typed arrays and DataViews are either used byte-exact or rejected with
//     ERR_ASHERAH_INVALID_ARGUMENT; a detached buffer is empty or rejected;
//   - decrypt_string of a record whose plaintext is not UTF-8: ERR_ASHERAH_NOT_UTF8 (the
//     bytes are still there through decrypt());
//   - async calls read their input when called: mutating or detaching it afterwards does not
//     change what is encrypted;
//   - a record edited anywhere decrypts to its original plaintext or is rejected
//     (MALFORMED_RECORD, DECRYPT_FAILED, or INVALID_ARGUMENT for an edit that leaves a lone
//     surrogate).
//
// fast-check runs with a fixed seed (ASHERAH_FC_SEED overrides it; a failure prints it), and
// ASHERAH_FC_RUNS / ASHERAH_FC_RUNS_GO set the run counts (the Go core is ~80 µs a call).
const assert = require('node:assert/strict');
const path = require('node:path');
const env = require('./env.cjs');

// The package's CommonJS build (its exports map's "require" target): requiring the directory
// would load its ES module build, which Node before 20.19 cannot require().
const fc = require(path.join(env.fastCheck, 'lib', 'cjs', 'fast-check.js'));
const asherah = require(env.root);

const SEED = Number(process.env.ASHERAH_FC_SEED || 20261201);
const RUNS = {
  native: Number(process.env.ASHERAH_FC_RUNS || 200),
  go: Number(process.env.ASHERAH_FC_RUNS_GO || 50),
};
const CORES = env.goLibrary ? ['native', 'go'] : ['native'];

const ARG = 'ERR_ASHERAH_INVALID_ARGUMENT';
const DECRYPT = 'ERR_ASHERAH_DECRYPT_FAILED';
const NOT_UTF8 = 'ERR_ASHERAH_NOT_UTF8';
const MIB = 1 << 20;

/** The internal buffer boundaries named by issue 10, and around 1 MiB. 2046-2050: the
 *  shim reads a string of up to 2,045 UTF-16 code units into a 2,048-unit array in one
 *  call, and a longer one the long way; a UTF-8 length of n ending in a 1-, 2- or 4-byte
 *  character is n, n - 1 or n - 2 code units, so these cover 2,044 to 2,050 units for every
 *  last character. */
const FIRST_LONG_READ = 2046;
const BOUNDARIES = [0, 1, 63, 64, 65, 127, 128, 255, 256, 2046, 2047, 2048, 2049, 2050,
  4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536, 65537, MIB - 1, MIB, MIB + 1];
/** Last characters of each UTF-8 width; two per width, to build partition pairs. */
const LAST_CHARS = [
  ['a', 'b'], // 1 byte
  ['é', 'ü'], // 2 bytes, Latin-1 (one-byte string storage in V8 and JSC)
  ['ɐ', 'Ж'], // 2 bytes, not Latin-1
  ['€', '✓'], // 3 bytes
  ['😀', '🔐'], // 4 bytes (a surrogate pair)
];

function config(core) {
  return {
    ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static',
    EnableSessionCaching: true, Core: core, GoLibrary: env.goLibrary,
  };
}

// ---- checking one value --------------------------------------------------------------

const isWellFormed = (s) => (typeof s.isWellFormed === 'function'
  ? s.isWellFormed()
  : !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s));

/** A short, printable description of a string (never the whole thing). */
function show(s) {
  if (typeof s !== 'string') return Object.prototype.toString.call(s);
  const tail = Array.from(s).slice(-4).map((c) => 'U+' + c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0'));
  return `string(length ${s.length}, utf8 ${Buffer.byteLength(s)}, ends ${tail.join(' ')})`;
}

function showErr(e) {
  const m = String(e && e.message);
  return `${e && e.code} ${e && e.constructor && e.constructor.name}: ${m.length > 160 ? m.slice(0, 160) + '...' : m}`;
}

/** Calls fn the way a user would; an async export must return a promise, never throw. */
async function call(mode, name, ...args) {
  if (mode === 'sync') {
    try { return { value: asherah[name](...args) }; } catch (error) { return { error }; }
  }
  let p;
  try { p = asherah[`${name}_async`](...args); } catch (error) {
    assert.fail(`${name}_async threw synchronously (${showErr(error)}) instead of rejecting`);
  }
  assert.ok(p instanceof Promise, `${name}_async did not return a promise`);
  try { return { value: await p }; } catch (error) { return { error }; }
}

function assertTyped(error, code, what) {
  assert.ok(error instanceof Error, `${what}: not an Error`);
  assert.equal(typeof error.code, 'string', `${what}: untyped error ${showErr(error)}`);
  assert.ok(error.code.startsWith('ERR_ASHERAH_'), `${what}: untyped error ${showErr(error)}`);
  if (code) assert.equal(error.code, code, `${what}: expected ${code}, got ${showErr(error)}`);
  if (code === ARG) assert.ok(error instanceof TypeError, `${what}: ${code} is not a TypeError`);
}

function assertOk(out, what) {
  if (out.error) assert.fail(`${what}: rejected a valid input: ${showErr(out.error)}`);
  return out.value;
}

/** encrypt_string then decrypt_string (and decrypt) under pid; exact, or rejected when
 *  the partition id or the string holds a lone surrogate. */
async function stringRoundTrip(mode, pid, s) {
  const what = `${mode} encrypt_string(${show(pid)}, ${show(s)})`;
  const enc = await call(mode, 'encrypt_string', pid, s);
  if (!isWellFormed(pid) || !isWellFormed(s)) {
    if (!enc.error) assert.fail(`${what}: a lone surrogate was accepted (it cannot round-trip through UTF-8)`);
    assertTyped(enc.error, ARG, what);
    return;
  }
  const record = assertOk(enc, what);
  assertKeyId(record, pid, what);
  const dec = await call(mode, 'decrypt_string', pid, record);
  const back = assertOk(dec, `${what} then decrypt_string`);
  if (back !== s) assert.fail(`${what}: silent change, decrypt_string gave ${show(back)}`);
  const bytes = assertOk(await call(mode, 'decrypt', pid, record), `${what} then decrypt`);
  assert.ok(Buffer.from(bytes).equals(Buffer.from(s, 'utf8')), `${what}: decrypt gave ${bytes.length} bytes, not the UTF-8 of the input`);
}

/** The record's intermediate key id names the partition exactly. */
function assertKeyId(record, pid, what) {
  // The key id sits before Data; scanning for it keeps 1 MiB records from being parsed
  // whole. A scan, not a regex: JavaScriptCore in Bun before 1.2.5 gives up (no match) on a
  // key id of 65,535 characters.
  const meta = record.indexOf('"ParentKeyMeta":{');
  const open = meta < 0 ? -1 : record.indexOf('"KeyId":"', meta);
  let end = open < 0 ? -1 : open + '"KeyId":"'.length;
  while (end >= 0 && end < record.length && record[end] !== '"') end += record[end] === '\\' ? 2 : 1;
  assert.ok(open >= 0 && end < record.length, `${what}: no ParentKeyMeta.KeyId in the record`);
  const keyId = JSON.parse(record.slice(open + '"KeyId":'.length, end + 1));
  const want = `_IK_${pid}_svc_prod`;
  if (keyId !== want) assert.fail(`${what}: key id is ${show(keyId)}, expected ${show(want)} (partition id changed)`);
}

/** encrypt then decrypt of a byte view; exact, or (allowRejection) INVALID_ARGUMENT. */
async function bytesRoundTrip(mode, view, { allowRejection = false, recordAs = (r) => r } = {}) {
  const expected = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const copy = Buffer.from(expected); // before the call, in case the call changes the view
  const what = `${mode} encrypt(${Object.prototype.toString.call(view)} length ${view.byteLength} at offset ${view.byteOffset})`;
  const enc = await call(mode, 'encrypt', 'p', view);
  if (enc.error && allowRejection) { assertTyped(enc.error, ARG, what); return 'rejected'; }
  const record = assertOk(enc, what);
  const back = assertOk(await call(mode, 'decrypt', 'p', recordAs(record)), `${what} then decrypt`);
  assert.ok(Buffer.isBuffer(back), `${what}: decrypt did not return a Buffer`);
  if (!back.equals(copy)) assert.fail(`${what}: silent change, decrypt gave ${back.length} bytes, expected ${copy.length}`);
  return 'exact';
}

function utf8OrNull(bytes) {
  try { return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); } catch { return null; }
}

function detach(ab) {
  if (typeof ab.transfer === 'function') return ab.transfer();
  return structuredClone(ab, { transfer: [ab] });
}

/** Runs a fast-check property with the fixed seed; a failure names the seed, the (shrunk)
 *  counterexample and what went wrong. A property gets TIME_LIMIT_MS in all, shrinking
 *  included; one that has not finished its runs by then fails (no silent short runs). */
const TIME_LIMIT_MS = Number(process.env.ASHERAH_FC_TIME_LIMIT_MS || 5000);
async function check(core, prop, runs = RUNS[core]) {
  const out = await fc.check(prop, {
    seed: SEED, numRuns: runs, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: true,
  });
  if (!out.failed) return;
  if (out.counterexample === null) {
    assert.fail(`property interrupted after ${out.numRuns} of ${runs} runs (${TIME_LIMIT_MS} ms; seed ${SEED}, ${core} core)`);
  }
  const example = fc.stringify(out.counterexample);
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new assert.AssertionError({
    message: `property failed after ${out.numRuns} run(s), shrunk ${out.numShrinks} time(s) `
      + `(fast-check seed ${SEED}, ${core} core; rerun with ASHERAH_FC_SEED=${SEED})\n`
      + `fast-check's counterexample: ${example.length > 600 ? example.slice(0, 600) + '...' : example}\n`
      + `what went wrong (last failing run): ${cause.length > 1500 ? cause.slice(0, 1500) + '...' : cause}`,
  });
}

// ---- arbitraries ---------------------------------------------------------------------

const unicode = (maxLength) => fc.string({ unit: 'binary', maxLength });
const latin1Char = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const latin1 = (maxLength) => fc.string({ unit: latin1Char, maxLength });
/** A well-formed string of any plane, biased to lengths around the 63/64/65-byte reads. */
const anyString = fc.oneof(
  unicode(40),
  fc.string({ unit: 'binary', minLength: 14, maxLength: 70 }),
  fc.string({ unit: latin1Char, minLength: 30, maxLength: 140 }),
  fc.string({ unit: 'binary', maxLength: 3000, size: 'max' }),
);
/** Inserts one lone surrogate into a well-formed string. */
const withLoneSurrogate = fc.tuple(unicode(80), fc.integer({ min: 0xD800, max: 0xDFFF }), unicode(80))
  .map(([a, c, b]) => a + String.fromCharCode(c) + b);
const partitionId = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
  fc.string({ unit: latin1Char, minLength: 1, maxLength: 80 }),
  fc.string({ unit: latin1Char, minLength: 30, maxLength: 70 }),
);
/** Large byte arrays from a length and a seed (fast-check builds arrays element by element,
 *  too slow for tens of KiB); shrinking still shortens them. */
const largeBytes = (min, max) => fc.tuple(fc.integer({ min, max }), fc.integer()).map(([n, seed]) => {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xFF; }
  return out;
});
/** Prefixes of partition ids, many of them ending near the 64-byte reads, and the last
 *  characters that finding 1 lost there. */
const partitionPrefix = fc.oneof(
  unicode(70),
  fc.string({ unit: latin1Char, minLength: 28, maxLength: 66 }),
  fc.string({ unit: 'binary', minLength: 14, maxLength: 66 }),
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 56, max: 68 }), latin1(4)).map(([k, tail]) => 'x'.repeat(k) + tail) },
);
const lastChar = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom(...LAST_CHARS.flat()),
);
const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), largeBytes(0, 20_000));

// ---- the properties ------------------------------------------------------------------

function coreProperties(t, core) {
  const both = async (fn) => { await fn('sync'); await fn('async'); };

  t.test(`${core}: well-formed strings of every plane round-trip exactly (sync and async)`, () => check(core,
    fc.asyncProperty(anyString, (s) => both((m) => stringRoundTrip(m, 'p', s)))));

  t.test(`${core}: Latin-1 strings round-trip exactly (sync and async)`, () => check(core,
    fc.asyncProperty(fc.oneof(latin1(40), fc.string({ unit: latin1Char, minLength: 30, maxLength: 140 }), latin1(5000)), (s) => both((m) => stringRoundTrip(m, 'p', s)))));

  t.test(`${core}: string data with a lone surrogate is rejected with ${ARG} (sync and async)`, () => check(core,
    fc.asyncProperty(withLoneSurrogate, (s) => both((m) => stringRoundTrip(m, 'p', s)))));

  t.test(`${core}: partition ids with a lone surrogate are rejected with ${ARG}, every export`, () => check(core,
    fc.asyncProperty(withLoneSurrogate, async (pid) => {
      const record = asherah.encrypt_string('p', 'x');
      for (const mode of ['sync', 'async']) {
        for (const [name, arg] of [['encrypt', Buffer.from('x')], ['encrypt_string', 'x'], ['decrypt', record], ['decrypt_string', record]]) {
          const out = await call(mode, name, pid, arg);
          if (!out.error) assert.fail(`${mode} ${name}(${show(pid)}): a partition id with a lone surrogate was accepted`);
          assertTyped(out.error, ARG, `${mode} ${name}(${show(pid)})`);
        }
      }
    })));

  t.test(`${core}: lone surrogate code units, alone or at the start, middle or end, are rejected`, async () => {
    const failures = [];
    const record = asherah.encrypt_string('p', 'x');
    const units = [0xD800, 0xD801, 0xDB7F, 0xDB80, 0xDBFE, 0xDBFF, 0xDC00, 0xDC01, 0xDFFE, 0xDFFF];
    for (let u = 0xD800; u <= 0xDFFF; u += 61) units.push(u);
    for (const u of units) {
      const c = String.fromCharCode(u);
      // Lengths 2,045-2,049: the surrogate last in a short read, first past it, and beyond.
      const aroundShortRead = [-2, -1, 0, 1, 2].map((d) => 'x'.repeat(FIRST_LONG_READ + d) + c);
      for (const s of [c, c + 'x'.repeat(63), 'é'.repeat(20) + c + '😀', 'x'.repeat(63) + c, ...aroundShortRead]) {
        for (const mode of ['sync', 'async']) {
          for (const [name, pid, arg] of [['encrypt_string', 'p', s], ['encrypt_string', s, 'x'], ['decrypt_string', s, record]]) {
            const out = await call(mode, name, pid, arg);
            const what = `${mode} ${name}(${pid === s ? show(s) : "'p'"}, ${arg === s ? show(s) : '...'})`;
            if (!out.error) failures.push(`${what}: accepted`);
            else if (out.error.code !== ARG || !(out.error instanceof TypeError)) failures.push(`${what}: ${showErr(out.error)}`);
          }
        }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${units.length * 9 * 2 * 3} calls were not rejected with ${ARG}:\n${failures.slice(0, 30).join('\n')}`);
  });

  t.test(`${core}: a record never decrypts under a different partition (random pairs)`, () => check(core,
    fc.asyncProperty(partitionId, partitionId, fc.boolean(), async (a, b, sync) => {
      fc.pre(a !== b);
      const mode = sync ? 'sync' : 'async';
      await stringRoundTrip(mode, a, 'v');
      const record = asherah.encrypt_string(a, 'v');
      const out = await call(mode, 'decrypt_string', b, record);
      if (!out.error) assert.fail(`${mode}: a record of ${show(a)} decrypted under ${show(b)}`);
      assertTyped(out.error, DECRYPT, `${mode} decrypt_string(${show(b)}, record of ${show(a)})`);
    })));

  t.test(`${core}: partition ids that differ only in their last character are different partitions`, () => check(core,
    fc.asyncProperty(partitionPrefix, lastChar, lastChar, async (prefix, c1, c2) => {
        fc.pre(c1 !== c2);
        const a = prefix + c1; const b = prefix + c2;
        const record = asherah.encrypt_string(a, 'v');
        assertKeyId(record, a, `encrypt_string(${show(a)})`);
        let e;
        try { asherah.decrypt_string(b, record); } catch (err) { e = err; }
        if (!e) assert.fail(`a record of ${show(a)} decrypted under ${show(b)}`);
        assertTyped(e, DECRYPT, `decrypt_string(${show(b)}, record of ${show(a)})`);
      }), RUNS.native)); // two short calls a run: cheap enough for the full count on Go too

  t.test(`${core}: strings whose UTF-8 length is exactly each buffer boundary, ending in 1- to 4-byte characters`, async () => {
    const failures = [];
    for (const n of BOUNDARIES) {
      for (const [c] of LAST_CHARS) {
        const w = Buffer.byteLength(c);
        if (w > n || (n > 65537 && !'aé😀'.includes(c))) continue; // around 1 MiB: widths 1, 2, 4
        const s = 'a'.repeat(n - w) + c;
        for (const mode of ['sync', 'async']) {
          try { await stringRoundTrip(mode, 'p', s); } catch (e) { failures.push(e.message); }
        }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} boundary strings changed or failed:\n${failures.slice(0, 40).join('\n')}`);
  });

  t.test(`${core}: records of every length around the short string read (${FIRST_LONG_READ} code units) decrypt exactly`, async () => {
    const failures = [];
    const lengths = new Set();
    // A record grows 4 characters per 3 bytes of data, so one partition id gives one length
    // in 4; ids of 1 to 4 characters give every length. This range of data sizes gives
    // records from well below to well above the boundary, on either core.
    for (const pid of ['p', 'pp', 'ppp', 'pppp']) {
      for (let n = 1290; n <= 1430; n++) {
        const data = Buffer.alloc(n, n & 0xff);
        const record = asherah.encrypt(pid, data);
        if (Math.abs(record.length - FIRST_LONG_READ) > 8) continue;
        lengths.add(record.length);
        for (const mode of ['sync', 'async']) {
          const out = await call(mode, 'decrypt', pid, record);
          if (out.error) failures.push(`${mode} decrypt of a ${record.length}-character record: ${showErr(out.error)}`);
          else if (!Buffer.from(out.value).equals(data)) failures.push(`${mode} decrypt of a ${record.length}-character record: silent change`);
        }
      }
    }
    for (const l of [FIRST_LONG_READ - 2, FIRST_LONG_READ - 1, FIRST_LONG_READ, FIRST_LONG_READ + 1]) {
      assert.ok(lengths.has(l), `no record of ${l} characters was produced (got ${[...lengths].sort().join(', ')}): the boundary was not reached`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  t.test(`${core}: partition ids at each buffer boundary keep their last character`, async () => {
    const failures = [];
    const pair = ['x'.repeat(62) + 'é', 'x'.repeat(62) + 'ü']; // issue 10, finding 1
    const pairs = [pair];
    for (const n of BOUNDARIES.filter((b) => b > 0 && b <= 65537)) {
      for (const [c1, c2] of LAST_CHARS) {
        const w = Buffer.byteLength(c1);
        if (w <= n) pairs.push(['x'.repeat(n - w) + c1, 'x'.repeat(n - w) + c2]);
      }
    }
    for (const [a, b] of pairs) {
      for (const mode of ['sync', 'async']) {
        try {
          await stringRoundTrip(mode, a, 'partitioned');
          const record = assertOk(await call(mode, 'encrypt_string', a, 'partitioned'), `encrypt_string(${show(a)})`);
          const out = await call(mode, 'decrypt_string', b, record);
          if (!out.error) assert.fail(`${mode}: a record of ${show(a)} decrypted under ${show(b)}`);
          assertTyped(out.error, DECRYPT, `${mode} decrypt_string(${show(b)}, record of ${show(a)})`);
        } catch (e) { failures.push(e.message); }
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${pairs.length * 2} partition checks failed:\n${failures.slice(0, 40).join('\n')}`);
  });

  t.test(`${core}: Buffers round-trip exactly; decrypt_string gives their UTF-8 text or ${NOT_UTF8}`, () => check(core,
    fc.asyncProperty(bytes, async (u8) => {
      const buf = Buffer.from(u8);
      await both((m) => bytesRoundTrip(m, buf));
      const record = asherah.encrypt('p', buf);
      const text = utf8OrNull(buf);
      for (const mode of ['sync', 'async']) {
        const out = await call(mode, 'decrypt_string', 'p', record);
        const what = `${mode} decrypt_string of ${buf.length} bytes (${text === null ? 'not' : 'valid'} UTF-8)`;
        if (text === null) {
          if (!out.error) assert.fail(`${what}: gave a string (${show(out.value)}) instead of ${NOT_UTF8}`);
          assertTyped(out.error, NOT_UTF8, what);
        } else {
          const s = assertOk(out, what);
          if (s !== text) assert.fail(`${what}: silent change, gave ${show(s)}, expected ${show(text)}`);
        }
      }
    })));

  t.test(`${core}: Uint8Arrays at an offset into a larger ArrayBuffer (and records handed back that way)`, () => check(core,
    fc.asyncProperty(bytes, fc.nat(70), fc.nat(70), fc.boolean(), async (data, pre, post, shared) => {
      const Backing = shared ? SharedArrayBuffer : ArrayBuffer;
      const place = (src) => {
        const whole = new Uint8Array(new Backing(pre + src.length + post)).fill(0xA5);
        whole.set(src, pre);
        return new Uint8Array(whole.buffer, pre, src.length);
      };
      const recordAs = (r) => place(Buffer.from(r));
      await both((m) => bytesRoundTrip(m, place(data), { recordAs }));
      await both((m) => bytesRoundTrip(m, Buffer.from(place(data).buffer, pre, data.length)));
    })));

  t.test(`${core}: other typed arrays and DataViews are used byte-exact or rejected with ${ARG}`, () => check(core,
    fc.asyncProperty(
      fc.constantFrom(Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Float32Array, Float64Array, BigInt64Array, DataView),
      fc.uint8Array({ maxLength: 256 }), fc.nat(8), async (Kind, data, offsetUnits) => {
        const unit = Kind.BYTES_PER_ELEMENT || 1;
        const count = Math.floor(data.length / unit);
        const ab = new ArrayBuffer((offsetUnits + count + 1) * unit);
        new Uint8Array(ab).fill(0x5A).set(data.subarray(0, count * unit), offsetUnits * unit);
        const view = Kind === DataView ? new DataView(ab, offsetUnits, count) : new Kind(ab, offsetUnits * unit, count);
        await both((m) => bytesRoundTrip(m, view, { allowRejection: true }));
      })));

  t.test(`${core}: async calls read their input when called (mutated or detached afterwards)`, () => check(core,
    fc.asyncProperty(largeBytes(1, 40_000), fc.boolean(), async (data, detachIt) => {
      const view = new Uint8Array(data.length);
      view.set(data);
      const original = Buffer.from(view);
      const p = asherah.encrypt_async('p', view);
      if (detachIt) detach(view.buffer); else view.fill(0x00);
      const record = await p;
      const back = asherah.decrypt('p', record);
      if (!back.equals(original)) {
        assert.fail(`encrypt_async of ${original.length} bytes, ${detachIt ? 'detached' : 'zeroed'} after the call: decrypt gave ${back.length} bytes that differ from the input at call time`);
      }
      // The same for a record handed to decrypt_async as bytes.
      const rec = new Uint8Array(Buffer.byteLength(record));
      rec.set(Buffer.from(record));
      const q = asherah.decrypt_async('p', rec);
      if (detachIt) detach(rec.buffer); else rec.fill(0x20);
      const plain = await q.catch((e) => assert.fail(`decrypt_async of a record ${detachIt ? 'detached' : 'overwritten'} after the call: ${showErr(e)}`));
      assert.ok(plain.equals(original), 'decrypt_async read its record after the call');
    }), Math.max(10, RUNS[core] >> 2)));

  t.test(`${core}: mutated records decrypt to the original plaintext or are rejected with a typed error`, () => check(core,
    fc.asyncProperty(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'insert'), ch: fc.oneof(fc.constantFrom('"', '{', '}', ',', ':', '0', 'A', '=', '\\', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      async (plain, edits, sync) => {
        let record = asherah.encrypt_string('p', plain);
        for (const { at, kind, ch } of edits) {
          const i = at % (record.length + 1);
          record = kind === 'insert' ? record.slice(0, i) + ch + record.slice(i)
            : kind === 'delete' ? record.slice(0, i) + record.slice(i + 1)
              : record.slice(0, i) + ch + record.slice(i + 1);
        }
        const mode = sync ? 'sync' : 'async';
        const out = await call(mode, 'decrypt_string', 'p', record);
        const what = `${mode} decrypt_string of a record with edits ${JSON.stringify(edits.map((e) => e.kind))}`;
        if (!out.error) {
          if (out.value !== plain) assert.fail(`${what}: silent change, gave ${show(out.value)} for ${show(plain)}`);
          return;
        }
        assertTyped(out.error, undefined, what);
        assert.ok(['ERR_ASHERAH_MALFORMED_RECORD', DECRYPT, ARG].includes(out.error.code), `${what}: ${showErr(out.error)}`);
      })));

  t.test(`${core}: mutated records as bytes, through every decrypt that returns bytes: the original plaintext or a typed error, and the scratch left clean`, () => check(core,
    fc.asyncProperty(
      fc.oneof(fc.uint8Array({ maxLength: 600 }), largeBytes(4000, 50_000)),
      fc.array(fc.record({ at: fc.nat(), inData: fc.boolean(), kind: fc.constantFrom('replace', 'delete', 'insert'), ch: fc.oneof(fc.constantFrom('"', '=', 'A', '/', '+', '*', '\\', '\n', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }), { minLength: 0, maxLength: 3 }),
      async (data, edits) => {
        const plain = Buffer.from(data);
        let record = asherah.encrypt('p', plain);
        // Half the edits land inside Data, where the in-place decoder works.
        const dataAt = record.indexOf('"Data":"') + 8;
        const dataLen = record.indexOf('"', dataAt) - dataAt;
        for (const { at, inData, kind, ch } of edits) {
          const i = inData ? dataAt + (at % (dataLen + 1)) : at % (record.length + 1);
          record = kind === 'insert' ? record.slice(0, i) + ch + record.slice(i)
            : kind === 'delete' ? record.slice(0, i) + record.slice(i + 1)
              : record.slice(0, i) + ch + record.slice(i + 1);
        }
        const bytes = Buffer.from(record);
        const scratch = typeof asherah._decrypt_scratch === 'function' ? asherah._decrypt_scratch() : null;
        // index.js's exports (on Node they go through the scratch), and, on every runtime,
        // the native exports behind Node's, whose results index.js would copy out.
        const fromScratch = (n) => (typeof n === 'number' ? Buffer.from(scratch.subarray(0, n)) : n);
        const outcomes = [];
        for (const [how, run] of [
          ['decrypt', () => asherah.decrypt('p', bytes)],
          ['decrypt_async', () => asherah.decrypt_async('p', bytes)],
          ...(scratch ? [
            ['_decrypt_into', () => fromScratch(asherah._decrypt_into('p', bytes))],
            ['_decrypt_async_into', async () => fromScratch(await asherah._decrypt_async_into('p', bytes))],
          ] : []),
        ]) {
          let out;
          try { out = { value: await run() }; } catch (error) { out = { error }; }
          const what = `${how} of a ${plain.length}-byte record with edits ${JSON.stringify(edits)}`;
          // index.js wipes the scratch after its copy; a raw export leaves a result there
          // (copied out above), but never anything after a failure.
          if (scratch && (out.error || !how.startsWith('_'))) {
            assert.ok(scratch.every((b) => b === 0), `${what}: bytes left in the scratch`);
          }
          if (scratch) scratch.fill(0);
          if (out.error) {
            assertTyped(out.error, undefined, what);
            assert.ok(['ERR_ASHERAH_MALFORMED_RECORD', DECRYPT, 'ERR_ASHERAH_PARTITION_MISMATCH', 'ERR_ASHERAH_KEY_NOT_FOUND', ARG].includes(out.error.code), `${what}: ${showErr(out.error)}`);
          } else if (!Buffer.from(out.value).equals(plain)) {
            assert.fail(`${what}: silent change, ${out.value.length} bytes that are not the plaintext`);
          }
          outcomes.push(out.error ? out.error.code : 'ok');
        }
        assert.ok(outcomes.every((o) => o === outcomes[0]), `the decrypts disagree on edits ${JSON.stringify(edits)}: ${outcomes.join(', ')}`);
      }), Math.max(10, RUNS[core] >> 1)));

  t.test(`${core}: detached buffers are empty or rejected, never read`, async () => {
    for (const mode of ['sync', 'async']) {
      const view = new Uint8Array(64).fill(7);
      detach(view.buffer);
      const out = await call(mode, 'encrypt', 'p', view);
      if (out.error) assertTyped(out.error, ARG, `${mode} encrypt(detached)`);
      else assert.equal(asherah.decrypt('p', out.value).length, 0, `${mode} encrypt(detached) encrypted bytes`);
      const rec = new Uint8Array(Buffer.from(asherah.encrypt_string('p', 'x')));
      detach(rec.buffer);
      const d = await call(mode, 'decrypt', 'p', rec);
      assert.ok(d.error, `${mode} decrypt(detached record) succeeded`);
      assertTyped(d.error, undefined, `${mode} decrypt(detached record)`);
    }
  });
}

/** Registers the properties with a runner: { describe, test }. */
function register(runner) {
  for (const core of ['native', 'go']) {
    runner.describe(`properties (${core} core, seed ${SEED}, ${RUNS[core]} runs)`, () => {
      if (!CORES.includes(core)) {
        runner.test(`${core} core skipped: ASHERAH_GO_LIBRARY is not set (run scripts/deps.sh)`, () => {});
        return;
      }
      // Each property sets up and shuts down itself (see scenarios.cjs on hook order).
      coreProperties({
        test: (name, fn) => runner.test(name, async () => {
          asherah.shutdown();
          asherah.setup(config(core));
          try { await fn(); } catch (e) {
            env.report('properties', { id: name, problems: [String(e.message)] });
            throw e;
          } finally { asherah.shutdown(); }
        }),
      }, core);
    });
  }
}

module.exports = { register, SEED, RUNS, BOUNDARIES };
