'use strict';
// asherah-shim: opens the native N-API module with process.dlopen (Node >= 18, Bun >= 1.2,
// Deno 2 with --allow-ffi --allow-read) and re-exports it. ESM: index.mjs. Types: index.d.ts.

// ---- loader (which .so: lib/locate.cjs, shared with the doctor) ----
const located = require('./lib/locate.cjs').locate();
if (located instanceof Error) throw located;
const mod = { exports: {} };
process.dlopen(mod, located.path);
module.exports = mod.exports;

// ---- asherah 4.x compatibility (GoDaddy's Rust `asherah` npm package) ----------------------
// SessionFactory / AsherahSession over the shim's one process-wide instance, and
// clearPlaintext. setMetricsHook, the event-object log hook and camelCase config keys live in
// the native module. Semantics: docs/migration-asherah-4.md.
const native = module.exports;

function compatError(Kind, code, message) {
  const err = new Kind(message);
  err.code = code;
  return err;
}

function checkPartition(partitionId) {
  if (typeof partitionId !== 'string') {
    throw compatError(TypeError, 'ERR_ASHERAH_INVALID_ARGUMENT',
      `getSession expects a partition id string; got ${partitionId === null ? 'null' : typeof partitionId}`);
  }
  if (partitionId === '') {
    throw compatError(TypeError, 'ERR_ASHERAH_INVALID_ARGUMENT', 'getSession: the partition id must not be empty');
  }
}

/** A 4.x factory: `new SessionFactory(config)` sets up the process-wide instance; `close()`
 *  shuts it down. One factory (or one `setup()`) at a time: a second one fails with
 *  ERR_ASHERAH_ALREADY_INITIALIZED. */
class SessionFactory {
  constructor(config) {
    try {
      native.setup(config);
    } catch (err) {
      if (err && err.code === 'ERR_ASHERAH_ALREADY_INITIALIZED') {
        err.message = 'asherah is already set up (by another SessionFactory or setup()); ' +
          'this shim has one process-wide instance: close the other factory (or call shutdown()) first';
      }
      throw err;
    }
    this._id = native._instance_id();
    this._closed = false;
  }

  /** 4.x builds a factory from environment variables; this shim takes its config as an object. */
  static fromEnv() {
    throw compatError(Error, 'ERR_ASHERAH_CONFIG',
      'SessionFactory.fromEnv() is not supported by asherah-shim: pass the config object to new SessionFactory(config)');
  }

  getSession(partitionId) {
    this._check();
    checkPartition(partitionId);
    return new AsherahSession(this, partitionId);
  }

  /** Shuts the instance down if it is still this factory's; idempotent. */
  close() {
    if (this._closed) return;
    this._closed = true;
    if (native._instance_id() === this._id) native.shutdown();
  }

  _check() {
    if (this._closed) {
      throw compatError(Error, 'ERR_ASHERAH_FACTORY_CLOSED', 'this SessionFactory is closed');
    }
    const id = native._instance_id();
    if (id !== this._id) {
      throw id === null
        ? compatError(Error, 'ERR_ASHERAH_NOT_INITIALIZED',
          "this SessionFactory's instance was shut down (shutdown() was called)")
        : compatError(Error, 'ERR_ASHERAH_FACTORY_CLOSED',
          "this SessionFactory's instance was shut down and another one set up; create a new factory");
    }
  }
}

/** One partition's session: the module's encrypt/decrypt with the partition bound. */
class AsherahSession {
  constructor(factory, partitionId) {
    this._factory = factory;
    this._partition = partitionId;
    this._closed = false;
  }

  _check() {
    if (this._closed) {
      throw compatError(Error, 'ERR_ASHERAH_SESSION_CLOSED', 'this session is closed');
    }
    this._factory._check();
  }

  encrypt(data) { this._check(); return native.encrypt(this._partition, data); }
  encryptString(data) { this._check(); return native.encrypt_string(this._partition, data); }
  decrypt(dataRowRecord) { this._check(); return native.decrypt(this._partition, dataRowRecord); }
  decryptString(dataRowRecord) { this._check(); return native.decrypt_string(this._partition, dataRowRecord); }
  encryptAsync(data) {
    try { this._check(); } catch (err) { return Promise.reject(err); }
    return native.encrypt_async(this._partition, data);
  }
  encryptStringAsync(data) {
    try { this._check(); } catch (err) { return Promise.reject(err); }
    return native.encrypt_string_async(this._partition, data);
  }
  decryptAsync(dataRowRecord) {
    try { this._check(); } catch (err) { return Promise.reject(err); }
    return native.decrypt_async(this._partition, dataRowRecord);
  }
  decryptStringAsync(dataRowRecord) {
    try { this._check(); } catch (err) { return Promise.reject(err); }
    return native.decrypt_string_async(this._partition, dataRowRecord);
  }
  /** Idempotent; the keys stay cached in the instance (as 4.x's session cache keeps them). */
  close() { this._closed = true; }
}

/** 4.x's best-effort wipe of a decrypted Buffer (fills it with zeros). */
function clearPlaintext(plaintext) {
  if (plaintext === null || plaintext === undefined) return;
  if (!(plaintext instanceof Uint8Array)) {
    throw compatError(TypeError, 'ERR_ASHERAH_INVALID_ARGUMENT', 'clearPlaintext expects a Buffer or Uint8Array');
  }
  plaintext.fill(0);
}

/* On Node, `decrypt` makes small results in JS: an N-API Buffer costs Node ~1.5 µs to make,
 * a JS-made Buffer plus a copy ~0.2-0.3 µs. The native side writes a plaintext that fits
 * into this env's scratch array (made by the native side, one per env, so each Worker has
 * its own) and returns its length; larger ones come back as a Buffer. The copy is taken
 * and the scratch wiped at once; a decrypt that user code makes during the copy (through a
 * hook such as a replaced Uint8Array.prototype.set) takes the native path instead of the scratch.
 * `decrypt_async` does the same for a call that runs inline (small records on the native
 * core with the memory metastore), and wraps the result in a resolved promise instead of
 * having the native side make one; a hosted call, or any failure, comes back as the
 * native promise. `encrypt_async` likewise gets an inline call's record as a string (an
 * N-API promise costs Node ~0.3 µs). Bun makes N-API Buffers and promises cheaply and
 * measured slightly slower this way, so Bun and Deno keep the native calls (as does a
 * module built before these exports). */
const isNode = !process.versions.bun && typeof Deno === 'undefined';
if (isNode && typeof native._decrypt_scratch === 'function') {
  const scratch = native._decrypt_scratch();
  const decryptInto = native._decrypt_into;
  const nativeDecrypt = native.decrypt;
  const nativeDecryptAsync = native.decrypt_async;
  // Taken once: a global and a property looked up on every copy cost Node 10-30 ns of a
  // 64 B decrypt's ~1 µs, and a later replacement of `Buffer.allocUnsafeSlow` by user code
  // has no say in where plaintext goes.
  const allocUnsafeSlow = Buffer.allocUnsafeSlow;
  // While a result is being copied out, user code can still run: `Uint8Array.prototype.set`
  // can be replaced (the views below consult no `Symbol.species`). A decrypt made from there
  // would overwrite and wipe the scratch under the copy (the outer call then returned
  // zeros), so such a nested call takes the native path instead.
  let copying = false;
  // The first n bytes of the scratch, as a view made once per small n: `subarray` makes a
  // view per call and looks up `Symbol.species` (about 80 ns of a 64 B decrypt's ~1 µs),
  // while a view built with the constructor consults nothing. Views are kept for lengths
  // up to 256 (a few dozen KiB at most); longer results, whose Buffer allocation costs far
  // more than a view, get a fresh one.
  const VIEWS_UPTO = 256;
  const views = [];
  const scratchView = (n) =>
    n <= VIEWS_UPTO
      ? (views[n] ??= new Uint8Array(scratch.buffer, scratch.byteOffset, n))
      : new Uint8Array(scratch.buffer, scratch.byteOffset, n);
  // The result has its own ArrayBuffer of exactly n bytes, as the native Buffer had: a
  // slice of Node's shared pool would expose other Buffers' bytes to code that reads
  // `out.buffer`. Its caller wipes the scratch, whatever this throws.
  const copyOut = (n) => {
    const out = allocUnsafeSlow(n);
    out.set(scratchView(n));
    return out;
  };
  // Copies the plaintext the native side left in the first n bytes of the scratch, then
  // wipes them. With the stack nearly exhausted any call here can throw a RangeError (the
  // call to `copyOut` itself, or `fill` in `finally`), so the wipe falls back to a loop in
  // this frame, which needs no more stack: the plaintext never stays in the scratch.
  const takeScratch = (n) => {
    copying = true;
    try {
      return copyOut(n);
    } finally {
      // Cleared first, so the fast path never stays off; a decrypt nested in the wipe no
      // longer harms the copy.
      copying = false;
      try {
        scratch.fill(0, 0, n);
      } catch {
        for (let i = 0; i < n; i++) scratch[i] = 0;
      }
    }
  };
  module.exports.decrypt = function decrypt(partitionId, dataRowRecord) {
    if (copying) return nativeDecrypt(partitionId, dataRowRecord);
    const n = decryptInto(partitionId, dataRowRecord);
    if (typeof n !== 'number') return n;
    try {
      return takeScratch(n);
    } catch (e) {
      // The call to takeScratch itself overflowed the stack: wipe here (no call needed).
      for (let i = 0; i < n; i++) scratch[i] = 0;
      throw e;
    }
  };
  const decryptAsyncInto = native._decrypt_async_into;
  if (typeof decryptAsyncInto === 'function') {
    module.exports.decrypt_async = module.exports.decryptAsync = function decrypt_async(partitionId, dataRowRecord) {
      if (copying) return nativeDecryptAsync(partitionId, dataRowRecord);
      const v = decryptAsyncInto(partitionId, dataRowRecord);
      if (typeof v === 'number') {
        let out;
        try {
          out = takeScratch(v);
        } catch (e) {
          for (let i = 0; i < v; i++) scratch[i] = 0; // as in decrypt
          throw e;
        }
        return Promise.resolve(out);
      }
      return v instanceof Uint8Array ? Promise.resolve(v) : v;
    };
  }
  const encryptAsyncInto = native._encrypt_async_into;
  if (typeof encryptAsyncInto === 'function') {
    module.exports.encrypt_async = module.exports.encryptAsync = function encrypt_async(partitionId, data) {
      const v = encryptAsyncInto(partitionId, data);
      return typeof v === 'string' ? Promise.resolve(v) : v;
    };
  }
}

module.exports.SessionFactory = SessionFactory;
module.exports.AsherahSession = AsherahSession;
module.exports.clearPlaintext = clearPlaintext;
