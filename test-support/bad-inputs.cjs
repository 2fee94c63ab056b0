'use strict';
// The bad-input table (issue 10, "keep it found"), written once and registered by both
// runners: node-test/robustness.test.mjs (node --test) and bun-test/robustness.test.ts.
//
// Each row is { id, export, args, core, code, cls, state, ... }:
//   export  the function called (snake_case name, or a camelCase alias)
//   args    a factory returning the arguments (some values are single-use: detached buffers,
//           records made by the live instance, Proxies)
//   core    'native' or 'go' (the go rows are skipped when ASHERAH_GO_LIBRARY is missing)
//   code    the expected error code, null for "must succeed", or an array of acceptable
//           outcomes (used only where the contract leaves a choice, and said so)
//   cls     the expected error class where it is part of the contract (TypeError, RangeError)
//   state   'ready' (set up with `core`, `config` extra keys), 'none' (nothing set up) or
//           'shutdown' (set up, then shut down)
//   prepare optional async step run after the state is established (lifecycle misuse)
//   then    optional step run right after the call, before its promise settles
//   repeat  run the row this many times (a race), failing at the first wrong outcome
//   check   optional assertion run after the call has settled
//   isolate run in a child process of the same runtime: rows known to have aborted the
//           process (issue 10 finding 3) must not take the runner down with them
//   secrets strings that must not appear in the error message (besides every string
//           argument of 6 characters or more)
//
// After every row the module must still work: a sync and an async round trip on a live
// instance (set up again where the row's state had none), and no crash.
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const env = require('./env.cjs');

const asherah = require(env.root);

const ARG = 'ERR_ASHERAH_INVALID_ARGUMENT';
const CONFIG = 'ERR_ASHERAH_CONFIG';
const NOT_INIT = 'ERR_ASHERAH_NOT_INITIALIZED';
const ALREADY = 'ERR_ASHERAH_ALREADY_INITIALIZED';
const TOO_LARGE = 'ERR_ASHERAH_INPUT_TOO_LARGE';
/** U+0000, built at run time: Bun before 1.2.5 fails to parse a NUL escape in an object key. */
const NUL = String.fromCharCode(0);
const MALFORMED = 'ERR_ASHERAH_MALFORMED_RECORD';
const DECRYPT = 'ERR_ASHERAH_DECRYPT_FAILED';
const SHUTTING_DOWN = 'ERR_ASHERAH_SHUTTING_DOWN';
const NOT_UTF8 = 'ERR_ASHERAH_NOT_UTF8';
const CLASS_OF = { [ARG]: TypeError, [TOO_LARGE]: RangeError };

const MAX_MESSAGE = 1024;
const ASYNC_DEADLINE_MS = 20_000;
const SLOW_REJECTION_MS = 1000;
const SECRET = 'my secret ssn 078-05-1120';
const MIB = 1 << 20;

const CORES = env.goLibrary ? ['native', 'go'] : ['native'];

function config(core, extra = {}) {
  return {
    ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static',
    EnableSessionCaching: true, Core: core, GoLibrary: env.goLibrary, ...extra,
  };
}

// ---- the values ----------------------------------------------------------------------

/** One of each JS type that is never a valid partition id, string or byte argument. */
const WRONG_TYPES = {
  undefined: () => undefined,
  null: () => null,
  number: () => 42,
  bigint: () => 42n,
  symbol: () => Symbol('s'),
  function: () => () => 'p',
  object: () => ({ toString: () => 'p' }),
  array: () => ['p'],
  boolean: () => true,
  // Bun 1.1 and 1.2.0-1.2.4 call a String object a string in napi_typeof, then refuse to
  // read it: that was an untyped N-API failure there.
  'String object': () => new String('p'),
};

/** The four encrypt and the four decrypt functions, each with a valid second argument. */
const ENCRYPTS = {
  encrypt: () => Buffer.from('data'),
  encrypt_async: () => Buffer.from('data'),
  encrypt_string: () => 'data',
  encrypt_string_async: () => 'data',
};
const DECRYPTS = ['decrypt', 'decrypt_async', 'decrypt_string', 'decrypt_string_async'];
const CALLS = [...Object.keys(ENCRYPTS), ...DECRYPTS];

/** A record made by the live instance under partition 'p'. */
function liveRecord(plain = 'hello') {
  return asherah.encrypt_string('p', plain);
}
function liveParsed() {
  return JSON.parse(liveRecord());
}

/** Malformed and hostile records: [what, record factory, native code, go code]. The code is
 *  the same for sync and async and on every runtime. The cores differ where libasherah's
 *  JSON decoder accepts a document with missing fields (JSON null, {}, no Key, no Data,
 *  no ParentKeyMeta, short or empty Data): Go then fails at decryption (DECRYPT_FAILED),
 *  while the native core refuses the document (MALFORMED_RECORD). */
const RECORDS = [
  ['empty string', () => '', MALFORMED, MALFORMED],
  ['whitespace', () => '   \n', MALFORMED, MALFORMED],
  ['not JSON', () => 'not json', MALFORMED, MALFORMED],
  ['JSON number', () => '42', MALFORMED, MALFORMED],
  ['JSON string', () => '"x"', MALFORMED, MALFORMED],
  ['JSON null', () => 'null', MALFORMED, DECRYPT],
  ['JSON true', () => 'true', MALFORMED, MALFORMED],
  ['JSON array', () => '[]', MALFORMED, MALFORMED],
  ['array of the real fields', () => { const r = liveParsed(); return JSON.stringify([r.Key, r.Data]); }, MALFORMED, MALFORMED],
  ['empty object', () => '{}', MALFORMED, DECRYPT],
  ['Key only', () => JSON.stringify({ Key: liveParsed().Key }), MALFORMED, DECRYPT],
  ['Data only', () => JSON.stringify({ Data: liveParsed().Data }), MALFORMED, DECRYPT],
  ['Key is a number', () => JSON.stringify({ ...liveParsed(), Key: 1 }), MALFORMED, MALFORMED],
  ['Data is a number', () => JSON.stringify({ ...liveParsed(), Data: 1 }), MALFORMED, MALFORMED],
  ['Data is not base64', () => JSON.stringify({ ...liveParsed(), Data: '!!!not base64!!!' }), MALFORMED, MALFORMED],
  ['Data truncated', () => { const r = liveParsed(); return JSON.stringify({ ...r, Data: r.Data.slice(0, 8) }); }, MALFORMED, DECRYPT],
  ['Data empty', () => JSON.stringify({ ...liveParsed(), Data: '' }), MALFORMED, DECRYPT],
  ['Data tampered', () => {
    const r = liveParsed(); const d = Buffer.from(r.Data, 'base64'); d[0] ^= 1;
    return JSON.stringify({ ...r, Data: d.toString('base64') });
  }, DECRYPT, DECRYPT],
  ['Key.Key is not base64', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { ...r.Key, Key: '%%%' } }); }, MALFORMED, MALFORMED],
  ['Key.Created is a string', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { ...r.Key, Created: 'x' } }); }, MALFORMED, MALFORMED],
  ['Key.Created is 1e300', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { ...r.Key, Created: 1e300 } }); }, MALFORMED, MALFORMED],
  ['ParentKeyMeta.Created is 1e23', () => {
    const r = liveParsed();
    return JSON.stringify(r).replace(/("ParentKeyMeta":\{[^}]*"Created":)\d+/, '$199999999999999999999999');
  }, MALFORMED, MALFORMED],
  ['ParentKeyMeta missing', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { Created: r.Key.Created, Key: r.Key.Key } }); }, MALFORMED, DECRYPT],
  ['ParentKeyMeta.KeyId of another partition', () => {
    const r = liveParsed();
    return JSON.stringify({ ...r, Key: { ...r.Key, ParentKeyMeta: { ...r.Key.ParentKeyMeta, KeyId: '_IK_other_svc_prod' } } });
  }, DECRYPT, DECRYPT],
  ['record truncated in the middle', () => { const s = liveRecord(); return s.slice(0, s.length >> 1); }, MALFORMED, MALFORMED],
  ['100k nested arrays', () => '['.repeat(100_000) + ']'.repeat(100_000), MALFORMED, MALFORMED],
  ['5k nested objects', () => '{"Key":'.repeat(5000) + '1' + '}'.repeat(5000), MALFORMED, MALFORMED],
];

/** Records built around a secret-looking string: the message must not quote it. */
const HOSTILE = [
  ['a JSON string holding a secret', () => JSON.stringify(SECRET), MALFORMED, MALFORMED],
  ['not JSON, holding a secret', () => `not json ${SECRET}`, MALFORMED, MALFORMED],
  ['a secret in Data', () => JSON.stringify({ ...liveParsed(), Data: SECRET }), MALFORMED, MALFORMED],
  ['a secret in Key.Key', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { ...r.Key, Key: SECRET } }); }, MALFORMED, MALFORMED],
  ['a secret as Key.Created', () => { const r = liveParsed(); return JSON.stringify({ ...r, Key: { ...r.Key, Created: SECRET } }); }, MALFORMED, MALFORMED],
  ['a 1 MiB JSON string holding a secret', () => JSON.stringify(SECRET + 'A'.repeat(MIB)), MALFORMED, MALFORMED],
  ['a secret as an unknown key', () => JSON.stringify({ [SECRET]: 1 }), MALFORMED, DECRYPT],
];

/** Config objects that JSON.stringify cannot serialise, or serialises to no object. */
function unserialisable(core) {
  const circular = () => { const c = config(core); c.Self = c; return c; };
  const getter = () => {
    const c = config(core);
    Object.defineProperty(c, 'ServiceName', { enumerable: true, get() { throw new Error('getter says no'); } });
    return c;
  };
  return {
    'a BigInt value': () => config(core, { TimeoutMs: 1000n }),
    'a BigInt in a nested object': () => config(core, { RegionMap: { 'us-west-2': 1n } }),
    'a circular reference': circular,
    'a throwing getter': getter,
    'a Proxy whose get trap throws': () => new Proxy(config(core), { get(t, k) { if (k === 'toJSON') return undefined; throw new Error('trap'); } }),
    'a Proxy whose ownKeys trap throws': () => new Proxy(config(core), { ownKeys() { throw new Error('trap'); } }),
    'toJSON that throws': () => ({ ...config(core), toJSON() { throw new Error('toJSON says no'); } }),
    'toJSON returning undefined': () => ({ ...config(core), toJSON: () => undefined }),
    'toJSON returning a number': () => ({ ...config(core), toJSON: () => 42 }),
    'toJSON returning a function': () => ({ ...config(core), toJSON: () => () => 1 }),
    'a Symbol toJSON': () => ({ ...config(core), toJSON: () => Symbol('s') }),
  };
}

/** Extra config keys that must be rejected with ERR_ASHERAH_CONFIG. */
const BAD_CONFIG_KEYS = [
  ...['TimeoutMs', 'CoreThreads', 'MaxInputBytes', 'CoreStackSize', 'SessionCacheMaxSize', 'MaxQueuedCalls'].flatMap((k) => [
    [k, NaN], [k, Infinity], [k, -Infinity], [k, -1], [k, 1.5], [k, 1e300], [k, '100'],
  ]),
  ...['ExpireAfter', 'CheckInterval', 'SessionCacheDuration'].flatMap((k) => [
    [k, '99999999999999999999999d'], [k, NaN], [k, Infinity], [k, -1], [k, 1e300], [k, '-5d'], [k, 'soon'], [k, ''],
  ]),
  ['ServiceName', ''], ['ServiceName', 42], ['ProductID', null], ['Metastore', 'bogus'], ['Metastore', 42],
  ['Core', 'rust'], ['Core', 42], ['GoLibrary', 42], ['KMS', 7], ['Verbose', 'yes'],
  ['EnableSessionCaching', 'true'], ['RegionMap', 42], ['StaticMasterKeyHex', 'zz'],
];

// ---- the table -----------------------------------------------------------------------

function buildRows(cores = CORES) {
  const rows = [];
  const add = (r) => rows.push({ state: 'ready', cls: r.code && !Array.isArray(r.code) ? CLASS_OF[r.code] : undefined, ...r });
  const label = (v) => typeof v === 'string' ? JSON.stringify(v.length > 30 ? `${v.slice(0, 27)}...` : v) : String(v);

  for (const core of cores) {
    // Wrong types for the partition id and for the data / record, every call export.
    for (const fn of CALLS) {
      const good = ENCRYPTS[fn] || (() => liveRecord());
      for (const [t, make] of Object.entries(WRONG_TYPES)) {
        add({ core, export: fn, what: `partitionId ${t}`, args: () => [make(), good()], code: ARG });
      }
      for (const [t, make] of Object.entries(WRONG_TYPES)) {
        add({ core, export: fn, what: `data ${t}`, args: () => ['p', make()], code: ARG });
      }
      add({ core, export: fn, what: 'no arguments', args: () => [], code: ARG });
      add({ core, export: fn, what: 'one argument', args: () => ['p'], code: ARG });
      add({ core, export: fn, what: 'empty partitionId', args: () => ['', good()], code: ARG });
      add({ core, export: fn, what: 'partitionId with a lone high surrogate', args: () => ['p\uD800', good()], code: ARG });
      add({ core, export: fn, what: 'partitionId with a lone low surrogate', args: () => ['\uDC00', good()], code: ARG });
      add({ core, export: fn, what: 'partitionId is one lone high surrogate', args: () => ['\uD800', good()], code: ARG });
    }
    // Data of the wrong kind for its function.
    for (const fn of ['encrypt', 'encrypt_async']) {
      add({ core, export: fn, what: 'data is a string', args: () => ['p', 'a string'], code: ARG });
      add({ core, export: fn, what: 'data is a Uint16Array', args: () => ['p', new Uint16Array(2)], code: ARG });
      add({ core, export: fn, what: 'data is a DataView', args: () => ['p', new DataView(new ArrayBuffer(4))], code: ARG });
      add({ core, export: fn, what: 'data is an ArrayBuffer', args: () => ['p', new ArrayBuffer(4)], code: ARG });
    }
    for (const fn of ['encrypt_string', 'encrypt_string_async']) {
      add({ core, export: fn, what: 'data is a Buffer', args: () => ['p', Buffer.from('x')], code: ARG });
      add({ core, export: fn, what: 'data with a lone high surrogate', args: () => ['p', 'ab\uD83Dcd'], code: ARG });
      add({ core, export: fn, what: 'data with a lone low surrogate at the end', args: () => ['p', 'x'.repeat(63) + '\uDE00'], code: ARG });
      add({ core, export: fn, what: 'data is one lone high surrogate', args: () => ['p', '\uD800'], code: ARG });
      add({ core, export: fn, what: 'data is one lone high surrogate U+DBFF', args: () => ['p', '\uDBFF'], code: ARG });
      add({ core, export: fn, what: 'empty data is fine', args: () => ['p', ''], code: null });
      add({ core, export: fn, what: '4 MiB of data is fine', args: () => ['p', 'é'.repeat(2 * MIB)], code: null });
    }
    for (const fn of ['encrypt', 'encrypt_async']) {
      add({ core, export: fn, what: 'empty data is fine', args: () => ['p', Buffer.alloc(0)], code: null });
    }
    // Oversize input (MaxInputBytes: 1024).
    const small = { MaxInputBytes: 1024 };
    add({ core, export: 'encrypt', what: '1025 bytes over MaxInputBytes 1024', config: small, args: () => ['p', Buffer.alloc(1025)], code: TOO_LARGE });
    add({ core, export: 'encrypt_async', what: '4096 bytes over MaxInputBytes 1024', config: small, args: () => ['p', Buffer.alloc(4096)], code: TOO_LARGE });
    add({ core, export: 'encrypt_string', what: '1025 chars over MaxInputBytes 1024', config: small, args: () => ['p', 'x'.repeat(1025)], code: TOO_LARGE });
    add({ core, export: 'encrypt_string_async', what: '1025 chars over MaxInputBytes 1024', config: small, args: () => ['p', 'x'.repeat(1025)], code: TOO_LARGE });
    add({ core, export: 'encrypt_string', what: '513 two-byte chars (1026 UTF-8 bytes) over MaxInputBytes 1024', config: small, args: () => ['p', 'é'.repeat(513)], code: TOO_LARGE });
    add({ core, export: 'encrypt_string_async', what: '342 three-byte chars (1026 UTF-8 bytes) over MaxInputBytes 1024', config: small, args: () => ['p', '€'.repeat(342)], code: TOO_LARGE });
    add({ core, export: 'encrypt_string', what: '512 two-byte chars (1024 UTF-8 bytes) at MaxInputBytes 1024 is fine', config: small, args: () => ['p', 'é'.repeat(512)], code: null });

    // Malformed and hostile records, for the four decrypt functions.
    for (const [what, make, nativeCode, goCode] of [...RECORDS, ...HOSTILE]) {
      const hostile = HOSTILE.some((h) => h[0] === what);
      for (const fn of DECRYPTS) {
        add({ core, export: fn, what: `record: ${what}`, args: () => ['p', make()], code: core === 'go' ? goCode : nativeCode, secrets: hostile ? [SECRET] : [] });
      }
    }
    // README "Strings": a record string holding a lone surrogate is refused as an argument.
    for (const fn of DECRYPTS) {
      add({ core, export: fn, what: 'record string with a lone surrogate in KeyId', args: () => ['p', liveRecord().replace('_IK_p', '_IK_\uD800p')], code: ARG });
    }
    // A record whose plaintext is not UTF-8: decrypt_string refuses, decrypt gives the bytes.
    const notUtf8 = () => ['p', asherah.encrypt('p', Buffer.from([0x61, 0xFF, 0xFE, 0xC3]))];
    add({ core, export: 'decrypt_string', what: 'plaintext is not UTF-8', args: notUtf8, code: NOT_UTF8 });
    add({ core, export: 'decrypt_string_async', what: 'plaintext is not UTF-8', args: notUtf8, code: NOT_UTF8 });
    add({ core, export: 'decrypt', what: 'plaintext is not UTF-8 (bytes are fine)', args: notUtf8, code: null });
    add({ core, export: 'decrypt_async', what: 'plaintext is not UTF-8 (bytes are fine)', args: notUtf8, code: null });
    // The camelCase aliases are the same functions.
    add({ core, export: 'encryptString', what: 'partitionId number (alias)', args: () => [42, 'x'], code: ARG });
    add({ core, export: 'encryptStringAsync', what: 'data Buffer (alias)', args: () => ['p', Buffer.from('x')], code: ARG });
    add({ core, export: 'encryptAsync', what: 'data string (alias)', args: () => ['p', 'x'], code: ARG });
    add({ core, export: 'decryptString', what: 'record: not JSON (alias)', args: () => ['p', 'not json'], code: MALFORMED });
    add({ core, export: 'decryptStringAsync', what: 'record object (alias)', args: () => ['p', {}], code: ARG });
    add({ core, export: 'decryptAsync', what: 'partitionId null (alias)', args: () => [null, liveRecord()], code: ARG });
    for (const fn of ['decrypt', 'decrypt_string_async']) {
      add({ core, export: fn, what: 'record as a Buffer holding a secret', args: () => ['p', Buffer.from(JSON.stringify(SECRET))], code: MALFORMED, secrets: [SECRET] });
      add({ core, export: fn, what: 'record of another partition', args: () => ['q', liveRecord()], code: DECRYPT });
    }

    // setup / setup_async: wrong types, unserialisable configs, bad keys.
    for (const fn of ['setup', 'setup_async']) {
      for (const [t, make] of Object.entries(WRONG_TYPES)) {
        if (t === 'object' || t === 'array' || t === 'String object') continue;
        add({ core, state: 'none', export: fn, what: `config ${t}`, args: () => [make()], code: ARG });
      }
      // An object, so serialised: to a JSON string, which is not a config object.
      add({ core, state: 'none', export: fn, what: 'config is a String object', args: () => [new String('{}')], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is an array', args: () => [[config(core)]], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is an empty string', args: () => [''], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is JSON null', args: () => ['null'], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is broken JSON', args: () => ['{"ServiceName":'], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is a 1 MiB string', args: () => ['x'.repeat(MIB)], code: CONFIG });
      add({ core, state: 'none', export: fn, what: 'config is an empty object', args: () => [{}], code: CONFIG });
      for (const [what, make] of Object.entries(unserialisable(core))) {
        add({ core, state: 'none', export: fn, what: `config with ${what}`, args: () => [make()], code: CONFIG });
      }
    }
    const asyncDone = new Set();
    for (const [key, value] of BAD_CONFIG_KEYS) {
      // Sync for every value; async for the first value of each key (the shared parser).
      const fns = asyncDone.has(key) ? ['setup'] : ['setup', 'setup_async'];
      asyncDone.add(key);
      const secrets = typeof value === 'string' && value.length >= 6 ? [value] : [];
      for (const fn of fns) {
        add({ core, state: 'none', export: fn, what: `config ${key}: ${label(value)}`, args: () => [config(core, { [key]: value })], code: CONFIG, secrets });
      }
    }

    // Lifecycle misuse.
    for (const fn of CALLS) {
      const good = ENCRYPTS[fn] || (() => '{}');
      add({ core, state: 'none', export: fn, what: 'before setup', args: () => ['p', good()], code: NOT_INIT });
      add({ core, state: 'shutdown', export: fn, what: 'after shutdown', args: () => ['p', good()], code: NOT_INIT });
    }
    add({ core, export: 'setup', what: 'setup twice', args: () => [config(core)], code: ALREADY });
    add({ core, export: 'setup_async', what: 'setup_async while set up', args: () => [config(core)], code: ALREADY });
    add({ core, export: 'setup', what: 'setup({}) while set up', args: () => [{}], code: ALREADY });
    add({ core, export: 'setupAsync', what: 'setupAsync with the other core while set up', args: () => [config(core === 'go' ? 'native' : 'go')], code: ALREADY });
    add({ core, state: 'shutdown', export: 'shutdown', what: 'shutdown twice', args: () => [], code: null });
    add({ core, state: 'shutdown', export: 'shutdown_async', what: 'shutdown_async after shutdown', args: () => [], code: null });
    add({ core, state: 'none', export: 'shutdown', what: 'shutdown before any setup', args: () => [], code: null });
    add({ core, export: 'shutdown', what: 'shutdown with arguments', args: () => [1, 'x'], code: null });
    add({ core, state: 'none', export: 'get_setup_status', what: 'get_setup_status with arguments', args: () => [1, 'x'], code: null });
    add({ core, export: 'signal_report', what: 'signal_report with arguments', args: () => [{}, 1], code: null });
    add({ core, state: 'shutdown', export: 'shutdownAsync', what: 'shutdownAsync (alias) after shutdown', args: () => [], code: null });
    // README "Lifecycle": a setup() made while a shutdown is in progress waits for it; it
    // must not abort the process (finding 3) nor fail as still set up (finding 4).
    add({
      core, isolate: true, export: 'setup', what: 'setup while an un-awaited shutdown_async (session caching) runs',
      prepare: async () => {
        await Promise.all(Array.from({ length: 64 }, (_, i) => asherah.encrypt_string_async(`s${i}`, 'x')));
        asherah.shutdown_async();
      },
      args: () => [config(core)], code: null,
    });
    add({
      core, isolate: true, export: 'setup_async', what: 'setup_async while an un-awaited shutdown_async runs',
      prepare: async () => { asherah.encrypt_string('p', 'x'); asherah.shutdown_async(); },
      args: () => [config(core)], code: null,
    });
    // README "Lifecycle": a shutdown() right after setup_async() always wins in the end:
    // the promise rejects with SHUTTING_DOWN (the shutdown came first) or resolves (the
    // setup finished first and was then shut down); either way nothing stays set up.
    add({
      core, isolate: core === 'go', state: 'none', export: 'setup_async', what: 'shutdown() right after the call (x25, a race)',
      args: () => [config(core)], then: () => asherah.shutdown(), code: [SHUTTING_DOWN, null], repeat: 25,
      check: () => assert.equal(asherah.get_setup_status(), false, 'nothing stays set up after the shutdown'),
    });
    add({
      core, isolate: true, state: 'none', export: 'setup', what: 'setup after setup_async raced shutdown (finding 4)',
      prepare: async () => {
        const p = asherah.setup_async(config(core));
        asherah.shutdown();
        await p.catch(() => {});
        asherah.shutdown();
      },
      args: () => [config(core)], code: null,
    });
    add({
      core, isolate: true, state: 'none', export: 'setup', what: 'setup after a TimeoutMs: 1 setup and shutdown (finding 4)',
      prepare: async () => {
        try { asherah.setup(config(core, { TimeoutMs: 1 })); } catch { /* may time out */ }
        asherah.shutdown();
      },
      args: () => [config(core)], code: null,
    });

    // Core-specific configs that aborted the Go core (finding 3) or printed its config (12).
    if (core === 'go') {
      add({ core, isolate: true, state: 'none', export: 'setup', what: 'go: ConnectionString sqlite:///tmp/x.db (not a MySQL DSN, has /)',
        args: () => [config(core, { Metastore: 'rdbms', ConnectionString: 'sqlite:///tmp/asherah-bad-input.db' })], code: CONFIG });
      add({ core, isolate: true, state: 'none', export: 'setup', what: 'go: a postgres:// URL without SQLMetastoreDBType',
        args: () => [config(core, { Metastore: 'rdbms', ConnectionString: 'postgres://u:pw-hunter2@127.0.0.1:1/db' })], code: CONFIG, stderrSecrets: ['pw-hunter2'] });
      add({ core, isolate: true, state: 'none', export: 'setup', what: 'go: out-of-range ExpireAfter never reaches Go (finding 12)',
        args: () => [config(core, { ExpireAfter: '99999999999999999999999d', ConnectionString: 'u:pw-hunter2@tcp(127.0.0.1:1)/db' })],
        code: CONFIG, stderrSecrets: ['pw-hunter2'] });
    }

    // The other exports (not core specific, run under each core's live instance).
    for (const [t, make] of Object.entries(WRONG_TYPES)) {
      if (t === 'undefined' || t === 'null' || t === 'function') continue;
      add({ core, export: 'set_log_hook', what: `hook ${t}`, args: () => [make()], code: ARG });
    }
    add({ core, export: 'setLogHook', what: 'hook is a string', args: () => ['console.log'], code: ARG });
    // A function whose `length` cannot be read (the hook's arity picks its event form): the
    // user's own error escaped before, with no code.
    const throwingLength = () => {
      const f = function hook(level, message) {};
      Object.defineProperty(f, 'length', { get() { throw new Error('length getter CANARY'); } });
      return f;
    };
    const revoked = () => { const r = Proxy.revocable(function hook(level, message) {}, {}); r.revoke(); return r.proxy; };
    add({ core, export: 'set_log_hook', what: 'hook whose length getter throws', args: () => [throwingLength()], code: ARG, secrets: ['CANARY'] });
    add({ core, export: 'set_log_hook', what: 'hook is a Proxy whose get trap throws',
      args: () => [new Proxy(function hook(level, message) {}, { get() { throw new Error('trap CANARY'); } })], code: ARG, secrets: ['CANARY'] });
    add({ core, export: 'set_log_hook', what: 'hook is a revoked Proxy of a function', args: () => [revoked()], code: ARG });
    for (const [t, make] of Object.entries(WRONG_TYPES)) {
      if (t === 'undefined' || t === 'null' || t === 'function') continue;
      add({ core, export: 'set_metrics_hook', what: `hook ${t}`, args: () => [make()], code: ARG });
    }
    for (const [what, extra] of [
      ['camelCase mixed with PascalCase', { serviceName: 'svc' }],
      ['a misspelt key', { Metastorr: 'memory' }],
      ['an unsupported 4.x option carrying a secret', { AwsProfileName: 'pw-hunter2' }],
    ]) {
      add({ core, state: 'none', export: 'setup', what: `config: ${what}`, args: () => [config(core, extra)], code: CONFIG, secrets: ['pw-hunter2'] });
    }
    for (const [t, make] of Object.entries(WRONG_TYPES)) {
      if (t === 'object') continue;
      add({ core, export: 'setenv', what: `env ${t}`, args: () => [make()], code: ARG });
    }
    for (const [what, v] of [['a number value', { ASHERAH_T: 1 }], ['a null value', { ASHERAH_T: null }],
      ['a BigInt value', { ASHERAH_T: 1n }], ['an object value', { ASHERAH_T: {} }], ['a name with =', { 'A=B': 'x' }],
      ['an empty name', { '': 'x' }], ['a NUL in the name', { [`A${NUL}B`]: 'x' }], ['a NUL in the value', { ASHERAH_T: `x${NUL}y` }],
      ['broken JSON', '{"A":'], ['JSON null', 'null'], ['a JSON number', '42'], ['a JSON array', '["A"]']]) {
      add({ core, export: 'setenv', what: `env with ${what}`, args: () => [v], code: ARG });
    }
    for (const fn of ['set_max_stack_alloc_item_size', 'set_safety_padding_overhead']) {
      for (const [t, make] of Object.entries(WRONG_TYPES)) {
        if (t === 'number') continue;
        add({ core, export: fn, what: `size ${t}`, args: () => [make()], code: ARG });
      }
      for (const v of [NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53, -0.5]) {
        add({ core, export: fn, what: `size ${v}`, args: () => [v], code: ARG });
      }
    }
  }
  for (const r of rows) {
    const expect = Array.isArray(r.code) ? r.code.map((c) => c || 'ok').join(' or ') : (r.code || 'ok');
    r.id = `${r.core} | ${r.export}: ${r.what} -> ${expect}`;
  }
  return rows;
}

// ---- running a row -------------------------------------------------------------------

let current = null; // JSON of the config the live instance was set up with, or null

function ensureReady(core, extra) {
  const want = JSON.stringify(config(core, extra));
  if (asherah.get_setup_status() && current === want) return;
  asherah.shutdown();
  asherah.setup(config(core, extra));
  current = want;
}

function ensureNone() {
  asherah.shutdown();
  current = null;
}

function isAsyncName(name) {
  return /_async$|Async$/.test(name);
}

function describeError(e) {
  if (!(e instanceof Error) && (typeof e !== 'object' || e === null)) return `non-error ${String(e)}`;
  const msg = String(e.message);
  return `${e.code} (${e.constructor && e.constructor.name}): ${msg.length > 200 ? msg.slice(0, 200) + '...' : msg}`;
}

function settleWithin(p, ms) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`did not settle within ${ms} ms`), { code: 'TEST_DEADLINE' })), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** The strings a message must not quote: string arguments of 6+ chars, and row.secrets. */
function inputsOf(row, args) {
  const out = new Set(row.secrets || []);
  for (const a of args) if (typeof a === 'string' && a.length >= 6) out.add(a.length > 64 ? a.slice(0, 64) : a);
  return [...out];
}

/** A sync and an async round trip on the live instance; returns problems. */
async function healthCheck(core) {
  const problems = [];
  if (!asherah.get_setup_status()) {
    try { ensureReady(core); } catch (e) { return [`module unusable: setup after the row failed with ${describeError(e)}`]; }
  }
  try {
    const s = `health ✓ ${core}`;
    assert.equal(asherah.decrypt_string('health', asherah.encrypt_string('health', s)), s);
    const b = Buffer.from([0, 1, 2, 255]);
    const out = await settleWithin(asherah.decrypt_async('health', await settleWithin(asherah.encrypt_async('health', b), 10_000)), 10_000);
    assert.ok(Buffer.from(out).equals(b));
  } catch (e) {
    problems.push(`module unusable after the row: round trip failed with ${describeError(e)}`);
    try { ensureNone(); ensureReady(core); } catch { /* reported above */ }
  }
  return problems;
}

/** Runs one row in this process (row.repeat times for a race, stopping at the first
 *  failure); returns { problems: string[], got: string }. */
async function runRow(row) {
  let res;
  const n = row.repeat || 1;
  for (let i = 1; i <= n; i++) {
    res = await runRowOnce(row, { health: i === n });
    if (res.problems.length) {
      if (row.repeat) res.problems.unshift(`failed in repetition ${i} of ${row.repeat}:`);
      break;
    }
  }
  return res;
}

async function runRowOnce(row, { health = true } = {}) {
  const problems = [];
  try {
    if (row.state === 'ready') ensureReady(row.core, row.config);
    else if (row.state === 'none') ensureNone();
    else if (row.state === 'shutdown') { ensureReady(row.core, row.config); ensureNone(); }
    if (row.prepare) await row.prepare();
  } catch (e) {
    return { problems: [`could not establish the row's state: ${describeError(e)}`], got: 'n/a' };
  }

  const fn = asherah[row.export];
  let args;
  try { args = row.args(); } catch (e) {
    return { problems: [`could not build the row's arguments: ${describeError(e)}`, ...await healthCheck(row.core)], got: 'n/a' };
  }
  let err; let value;
  const async = isAsyncName(row.export);
  if (typeof fn !== 'function') {
    problems.push(`${row.export} is not an export`);
  } else {
    let ret; let syncErr;
    const t0 = Date.now();
    try { ret = fn(...args); } catch (e) { syncErr = e; }
    if (row.then) {
      try { row.then(); } catch (e) { problems.push(`the step after the call threw: ${describeError(e)}`); }
    }
    if (async) {
      if (syncErr) {
        problems.push(`threw synchronously instead of returning a rejected promise: ${describeError(syncErr)}`);
        err = syncErr;
      } else if (!(ret instanceof Promise)) {
        problems.push(`returned ${typeof ret} instead of a promise`);
      } else {
        try { value = await settleWithin(ret, ASYNC_DEADLINE_MS); } catch (e) { err = e; }
        // A rejection is as quick as the sync error it mirrors (finding 11: 2 s on setup_async).
        // A slow one is timed again once, so that a loaded machine does not fail the row.
        const ms = Date.now() - t0;
        if (err && row.code !== null && ms > SLOW_REJECTION_MS) {
          const t1 = Date.now();
          await settleWithin(fn(...row.args()), ASYNC_DEADLINE_MS).catch(() => {});
          const again = Date.now() - t1;
          if (again > SLOW_REJECTION_MS) problems.push(`took ${ms} ms, then ${again} ms, to reject (limit ${SLOW_REJECTION_MS} ms)`);
        }
      }
    } else {
      err = syncErr; value = ret;
    }
  }
  const got = err ? describeError(err) : 'ok';

  const expected = Array.isArray(row.code) ? row.code : [row.code];
  if (err) {
    const code = err && err.code;
    if (!expected.includes(code)) {
      problems.push(`expected ${expected.map((c) => c || 'success').join(' or ')}, got ${got}`);
    }
    if (typeof code !== 'string' || !code.startsWith('ERR_ASHERAH_')) problems.push(`untyped error: ${got}`);
    if (!(err instanceof Error)) problems.push('not an Error instance');
    if (row.cls && expected.includes(code) && !(err instanceof row.cls)) {
      problems.push(`expected a ${row.cls.name}, got ${err.constructor && err.constructor.name}`);
    }
    const msg = String(err && err.message);
    if (msg.length > MAX_MESSAGE) problems.push(`message is ${msg.length} chars (limit ${MAX_MESSAGE})`);
    for (const s of inputsOf(row, args)) {
      if (msg.includes(s)) problems.push(`message quotes the input ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '...' : s)}`);
    }
  } else if (!expected.includes(null)) {
    const shown = typeof value === 'string' ? `a ${value.length}-char string` : typeof value;
    problems.push(`expected ${expected.join(' or ')}, got success (${shown})`);
  }
  if (row.check) {
    try { row.check(); } catch (e) { problems.push(`the row's check failed: ${describeError(e)}`); }
  }

  // A row that set something up by mistake is reset, so later rows see their own state.
  if (row.export.startsWith('setup')) current = null;
  if (health || problems.length) problems.push(...await healthCheck(row.core));
  return { problems, got };
}

/** Runs a row in a child process of this runtime, which must exit cleanly. */
function runIsolated(row) {
  const child = spawnSync(process.execPath, [path.join(__dirname, 'bad-inputs-child.cjs'), row.id], {
    env: process.env, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * MIB,
  });
  const problems = [];
  if (child.error) problems.push(`child failed: ${child.error.message}`);
  if (child.signal) problems.push(`child killed by ${child.signal} (crash)`);
  else if (child.status !== 0) problems.push(`child exited with ${child.status}`);
  const line = (child.stdout || '').split('\n').find((l) => l.startsWith('@@RESULT '));
  let got = 'n/a';
  if (line) {
    const res = JSON.parse(line.slice('@@RESULT '.length));
    problems.push(...res.problems);
    got = res.got;
  } else {
    problems.push(`child printed no result; stderr tail: ${(child.stderr || '').slice(-400)}`);
  }
  for (const s of row.stderrSecrets || []) {
    if ((child.stderr || '').includes(s)) problems.push(`stderr shows the secret ${JSON.stringify(s)}`);
  }
  return { problems, got };
}

// ---- registration --------------------------------------------------------------------

/** Registers the table with a runner: { describe, test }. */
function register(runner) {
  const allRows = buildRows(['native', 'go']);
  for (const core of ['native', 'go']) {
    runner.describe(`bad inputs (${core} core)`, () => {
      if (!CORES.includes(core)) {
        runner.test(`${core} core skipped: ASHERAH_GO_LIBRARY is not set (run scripts/deps.sh)`, () => {});
        return;
      }
      for (const row of allRows.filter((r) => r.core === core)) {
        runner.test(row.id, async () => {
          const { problems } = row.isolate ? runIsolated(row) : await runRow(row);
          if (problems.length) env.report('bad-inputs', { id: row.id, problems });
          assert.deepEqual(problems, [], `${row.id}\n  ${problems.join('\n  ')}`);
        });
      }
      runner.test(`${core}: leaves nothing set up`, () => {
        ensureNone();
        assert.equal(asherah.get_setup_status(), false);
      });
    });
  }
}

module.exports = { register, buildRows, runRow, CORES, SECRET };
