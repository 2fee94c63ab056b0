'use strict';
// Interop scenarios, written once and registered by both runners:
// node-test/interop.test.mjs (node --test) and bun-test/interop.test.ts (bun test).
//
// Each "side" is a child process (test-support/interop-child.cjs) running one core through
// the shim: libasherah is a process-wide singleton and a Go runtime loads once per process.
// Children run the runner's own runtime (process.execPath), so under Bun 1.3.14 the Go core
// really runs inside Bun 1.3.14; the SQLite scenario pairs it with the other runtime.
// Nothing is mocked: the real libasherah 0.3.9, a throw-away PostgreSQL (scripts/pg.sh),
// real SQLite files. Every child call and every external command is bounded by a timeout.
// See docs/interop.md for what each scenario shows.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const env = require('./env.cjs');

const CHILD = path.join(__dirname, 'interop-child.cjs');
const REPLY_PREFIX = '@@interop ';
const CHILD_LIFETIME_MS = 240_000;
const CALL_TIMEOUT_MS = 60_000;
const DECRYPT_ERRORS = ['ERR_ASHERAH_DECRYPT_FAILED', 'ERR_ASHERAH_MALFORMED_RECORD'];

// ---------------------------------------------------------------------------------------
// Child processes

class Child {
  constructor(label, runtimePath) {
    this.label = label;
    this.stderr = '';
    this.exited = null;
    this.nextId = 1;
    this.waiting = new Map();
    this.proc = spawn(runtimePath, [CHILD, String(CHILD_LIFETIME_MS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: process.env,
    });
    let out = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (!line.startsWith(REPLY_PREFIX)) continue;
        const msg = JSON.parse(line.slice(REPLY_PREFIX.length));
        const w = this.waiting.get(msg.id);
        if (w) { this.waiting.delete(msg.id); w.settle(msg); }
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (chunk) => { this.stderr = (this.stderr + chunk).slice(-4000); });
    const fail = (why) => {
      for (const [, w] of this.waiting) w.fail(new Error(`${this.label}: ${why}; stderr: ${this.stderr}`));
      this.waiting.clear();
    };
    this.proc.on('error', (e) => fail(`spawn failed: ${e.message}`));
    this.proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      fail(`exited (code ${code}, signal ${signal})`);
    });
  }

  /** Sends one request; rejects on an error reply, on exit, or after timeoutMs. */
  call(op, args = {}, timeoutMs = CALL_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(`${this.label}: already exited`));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.label}: ${op} got no reply within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiting.set(id, {
        settle: (msg) => {
          clearTimeout(timer);
          if (msg.ok) return resolve(msg.result);
          const e = new Error(`${this.label}: ${op}: ${msg.error.code}: ${msg.error.message}`);
          e.code = msg.error.code;
          reject(e);
        },
        fail: (e) => { clearTimeout(timer); reject(e); },
      });
      this.proc.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  /** items: [{ partition, data: Buffer }] -> [record string] */
  encrypt(items, { parallel = false } = {}) {
    return this.call('encrypt', {
      parallel,
      items: items.map(({ partition, data }) => ({ partition, data: Buffer.from(data).toString('base64') })),
    });
  }

  /** items: [{ partition, record }] -> [{ ok, data: Buffer } | { ok: false, code, message }] */
  async decrypt(items, { parallel = false } = {}) {
    const out = await this.call('decrypt', { parallel, items });
    return out.map((r) => (r.ok ? { ok: true, data: Buffer.from(r.data, 'base64') } : r));
  }

  /** Ends the child (stdin EOF makes it shut down and exit), SIGKILL after 10 s. */
  async close() {
    if (this.exited) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

const children = new Set();

/** Sets a child up and checks, from the shim's own evidence, that it runs the core asked for. */
async function setupCore(child, cfg) {
  const got = await child.call('setup', { config: cfg });
  assert.equal(got.core, cfg.Core, `${child.label}: the shim reported core=${got.core}`);
  assert.equal(got.goLoaded, cfg.Core === 'go', `${child.label}: libasherah loaded = ${got.goLoaded}`);
  child.core = cfg.Core;
}

/** Spawns a child on `runtimePath` and waits for it to answer; returns { child, runtime }. */
async function spawnChild(label, runtimePath = process.execPath) {
  const child = new Child(label, runtimePath);
  children.add(child);
  const info = await child.call('info', {}, 30_000);
  child.runtime = info.runtime;
  return child;
}

/** The other JS runtime: Node when the runner is Bun, Bun 1.4.5 when it is Node. */
function otherRuntime() {
  if (typeof Bun !== 'undefined') return process.env.ASHERAH_INTEROP_NODE || 'node';
  try { return env.bun('1.4.5'); } catch { return process.execPath; }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL and SQLite helpers

function pgBin(name) {
  const dir = env.pgBinDir || (fs.existsSync('/usr/lib/postgresql')
    ? fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).map((v) => `/usr/lib/postgresql/${v}/bin`).pop()
    : '');
  return dir ? path.join(dir, name) : name;
}

/** Starts a throw-away PostgreSQL; returns { url, dir } or { error }. */
function startPostgres() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-interop-pg-'));
  const r = spawnSync('bash', [path.join(env.root, 'scripts', 'pg.sh'), 'start', dir], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, PG_BINDIR: env.pgBinDir || process.env.PG_BINDIR || '' },
  });
  if (r.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { error: `scripts/pg.sh start failed (${r.error ? r.error.message : `status ${r.status}`}): ${(r.stderr || '').trim().slice(-500)}` };
  }
  return { url: r.stdout.trim().split('\n').pop(), dir };
}

function stopPostgres(pg) {
  if (!pg || !pg.dir) return;
  spawnSync('bash', [path.join(env.root, 'scripts', 'pg.sh'), 'stop', pg.dir], { timeout: 90_000 });
  fs.rmSync(pg.dir, { recursive: true, force: true });
  pg.dir = null;
}

/** Runs SQL with psql; returns rows as arrays of strings. */
function psql(url, sql) {
  const r = spawnSync(pgBin('psql'), [url, '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8', timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`psql failed: ${r.error ? r.error.message : r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

/** Go's documented schema, created by neither core: both must work with a table they did not make. */
const GO_SCHEMA = `CREATE TABLE encryption_key (
  id VARCHAR(255) NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  key_record TEXT NOT NULL,
  PRIMARY KEY (id, created)
); CREATE INDEX encryption_key_created ON encryption_key (created);`;

/** Metastore rows of one service: [{ id, created (unix s), record (parsed key_record) }]. */
function pgKeys(url, service) {
  return psql(url, `SELECT id, extract(epoch from created)::bigint, key_record FROM encryption_key
    WHERE id LIKE '%\\_${service}\\_prod' ORDER BY id, created`)
    .map(([id, created, record]) => ({ id, created: Number(created), record: JSON.parse(record) }));
}

/** Rows per key id in a SQLite metastore file: { id: count }. sqlite3 CLI, else Python's sqlite3. */
function sqliteKeyCounts(file) {
  const sql = 'SELECT id, count(*) FROM encryption_key GROUP BY id ORDER BY id';
  let r = spawnSync('sqlite3', ['-readonly', '-separator', '\t', file, sql], { encoding: 'utf8', timeout: 30_000 });
  if (r.error && r.error.code === 'ENOENT') {
    r = spawnSync('python3', ['-c', `import sqlite3,sys
for i, n in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(f"{i}\\t{n}")`, file, sql], { encoding: 'utf8', timeout: 30_000 });
  }
  if (r.status !== 0) throw new Error(`reading ${file} failed: ${r.error ? r.error.message : r.stderr}`);
  return Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => { const [id, n] = l.split('\t'); return [id, Number(n)]; }));
}

// ---------------------------------------------------------------------------------------
// Records and time

const ik = (record) => JSON.parse(record).Key.ParentKeyMeta; // { KeyId, Created }

/** The record with every base64 value and timestamp replaced: equal for equal layouts. */
const skeleton = (record) => record
  .replace(/"Created":\d+/g, '"Created":0')
  .replace(/"(Key|Data)":"[A-Za-z0-9+/=]*"/g, '"$1":""');

const nowS = () => Date.now() / 1000;
const secondOfMinute = () => nowS() % 60;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sleepUntil = (unixS) => sleep(Math.max(0, unixS * 1000 - Date.now()));

function config(pgUrl, core, extra = {}) {
  return {
    ServiceName: 'svc', ProductID: 'prod', KMS: 'static', EnableSessionCaching: true,
    Metastore: 'rdbms', SQLMetastoreDBType: 'postgres', ConnectionString: pgUrl,
    Core: core, GoLibrary: env.goLibrary, ...extra,
  };
}

/** Asserts that every reader decrypts every written record to its plaintext. */
async function assertAllDecrypt(readers, written) {
  for (const reader of readers) {
    const out = await reader.decrypt(written.map(({ partition, record }) => ({ partition, record })));
    out.forEach((r, i) => {
      const w = written[i];
      assert.ok(r.ok, `${reader.label} could not decrypt a ${w.partition} record by ${w.by}: ${r.code} ${r.message}`);
      assert.ok(r.data.equals(w.data), `${reader.label} got the wrong plaintext for a ${w.partition} record by ${w.by}`);
    });
  }
}

/** Asserts a decrypt result is a typed failure (never a plaintext). */
function assertRejected(r, what, codes = DECRYPT_ERRORS) {
  assert.ok(!r.ok, `${what}: accepted, returned ${r.ok && r.data.length} bytes`);
  assert.ok(codes.includes(r.code), `${what}: ${r.code} ${r.message}`);
}

// ---------------------------------------------------------------------------------------
// Scenarios

const PAYLOADS = [
  ['empty', Buffer.alloc(0)],
  ['unicode', Buffer.from('ünïcødé ✓ 🔐 日本語 \u2028 <&> "quoted"', 'utf8')],
  ['binary', Buffer.from([0, 255, 0, 1, 254, 0, 10, 13])],
  ['1 MiB', crypto.randomBytes(1 << 20)],
];
const PARTITIONS = ['tenant-1', 'ünï-партиция-🔐\u2028', 'p "quoted" <&> /\\', 'x'.repeat(200)];

function register(runner) {
  const pg = startPostgres();
  const pgMissing = pg.error && `PostgreSQL could not start, so the PostgreSQL scenarios are skipped: ${pg.error}`;
  if (pgMissing) console.warn(`SKIPPED (interop): ${pgMissing}`);
  else psql(pg.url, GO_SCHEMA);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-interop-'));
  const pgTest = (name, fn, timeoutMs) => (pgMissing ? runner.skip(name, pgMissing) : runner.test(name, fn, timeoutMs));

  // The rotation scenario waits for a minute boundary: start it now, in the background, and
  // let the other scenarios run meanwhile; its test (registered last) awaits the outcome.
  const rotation = pgMissing ? null : rotationFlow(pg.url);
  if (rotation) rotation.catch(() => {}); // reported by its test, not as an unhandled rejection

  let steadyPair;
  const steady = () => (steadyPair ||= (async () => {
    const [go, native] = await Promise.all([spawnChild('go'), spawnChild('native')]);
    await Promise.all([setupCore(go, config(pg.url, 'go')), setupCore(native, config(pg.url, 'native'))]);
    return { go, native };
  })());

  runner.describe(`interop (${env.runtime})`, () => {
    pgTest('Go core and native core share one PostgreSQL metastore: each decrypts the other, every partition and payload', async () => {
      const { go, native } = await steady();
      const written = [];
      const write = async (child, partition) => {
        const items = PAYLOADS.map(([, data]) => ({ partition, data }));
        const records = await child.encrypt(items);
        records.forEach((record, i) => written.push({ by: child.label, partition, data: items[i].data, record, kind: PAYLOADS[i][0] }));
      };
      // Native creates the SK and the first two partitions' IKs, Go the other two; then each
      // writes into the partitions the other opened.
      for (const [i, p] of PARTITIONS.entries()) await write(i < 2 ? native : go, p);
      for (const [i, p] of PARTITIONS.entries()) await write(i < 2 ? go : native, p);

      await assertAllDecrypt([go, native], written);
      assert.deepEqual(await go.call('diagnostics'), { goLoaded: true, goCallSeen: true }, 'the go child encrypted through libasherah');
      assert.deepEqual(await native.call('diagnostics'), { goLoaded: false, goCallSeen: false }, 'the native child never loaded Go');
      for (const p of PARTITIONS) {
        const recs = written.filter((w) => w.partition === p);
        const iks = new Set(recs.map((w) => JSON.stringify(ik(w.record))));
        assert.equal(iks.size, 1, `${p}: both cores use one IK: ${[...iks]}`);
        assert.equal(ik(recs[0].record).KeyId, `_IK_${p}_svc_prod`);
        const byGo = recs.find((w) => w.by === 'go' && w.kind === 'unicode').record;
        const byNative = recs.find((w) => w.by === 'native' && w.kind === 'unicode').record;
        assert.equal(skeleton(byNative), skeleton(byGo), `${p}: the two cores lay records out differently`);
      }
      const rows = pgKeys(pg.url, 'svc');
      for (const id of ['_SK_svc_prod', ...PARTITIONS.map((p) => `_IK_${p}_svc_prod`)]) {
        assert.equal(rows.filter((r) => r.id === id).length, 1, `exactly one ${id} row`);
      }
      const sk = rows.find((r) => r.id === '_SK_svc_prod');
      for (const r of rows.filter((x) => x.id.startsWith('_IK_'))) {
        assert.deepEqual(r.record.ParentKeyMeta, { KeyId: '_SK_svc_prod', Created: sk.created });
        assert.equal(r.record.Created, r.created, 'key_record Created matches the created column');
      }
    }, 120_000);

    pgTest('Go and native race to create the same SK and IKs at once: one row per key, one IK per partition in every record', async () => {
      const [go, native] = await Promise.all([spawnChild('go-race'), spawnChild('native-race')]);
      const cfg = (core) => config(pg.url, core, { ServiceName: 'svc-race' });
      await Promise.all([setupCore(go, cfg('go')), setupCore(native, cfg('native'))]);
      // Two creates straddling a minute boundary would both store (different created): keep
      // the race inside one minute.
      if (secondOfMinute() > 55) await sleepUntil(Math.ceil(nowS() / 60) * 60 + 1);
      const partitions = Array.from({ length: 8 }, (_, i) => `race-${i}`);
      const items = (who) => Array.from({ length: 48 }, (_, i) => ({ partition: partitions[i % 8], data: Buffer.from(`${who} #${i}`) }));
      const [ig, inat] = [items('go'), items('native')];
      const [rg, rn] = await Promise.all([go.encrypt(ig, { parallel: true }), native.encrypt(inat, { parallel: true })]);
      const written = [
        ...rg.map((record, i) => ({ by: 'go', ...ig[i], record })),
        ...rn.map((record, i) => ({ by: 'native', ...inat[i], record })),
      ];
      await assertAllDecrypt([go, native], written);
      for (const p of partitions) {
        const iks = new Set(written.filter((w) => w.partition === p).map((w) => ik(w.record).Created));
        assert.equal(iks.size, 1, `${p}: both cores ended on one IK`);
      }
      const rows = pgKeys(pg.url, 'svc-race');
      assert.deepEqual(rows.map((r) => r.id), ['_IK_race-0_svc-race_prod', '_IK_race-1_svc-race_prod', '_IK_race-2_svc-race_prod',
        '_IK_race-3_svc-race_prod', '_IK_race-4_svc-race_prod', '_IK_race-5_svc-race_prod', '_IK_race-6_svc-race_prod',
        '_IK_race-7_svc-race_prod', '_SK_svc-race_prod'], 'exactly one row per key');
      await Promise.all([go.close(), native.close()]);
    }, 60_000);

    pgTest('a wrong partition is rejected across cores, including a record relabelled to the other partition\'s IK', async () => {
      const { go, native } = await steady();
      const secret = Buffer.from('alice-only secret');
      const [byGo] = await go.encrypt([{ partition: 'alice', data: secret }]);
      const [byNative] = await native.encrypt([{ partition: 'alice', data: secret }]);
      const [bobs] = await go.encrypt([{ partition: 'bob', data: Buffer.from('bob') }]);
      const relabel = (record, meta) => JSON.stringify({ ...JSON.parse(record), Key: { ...JSON.parse(record).Key, ParentKeyMeta: meta } });
      for (const reader of [go, native]) {
        for (const [by, record] of [['go', byGo], ['native', byNative]]) {
          const cases = [
            ['as bob', 'bob', record],
            ['relabelled to bob\'s IK', 'bob', relabel(record, ik(bobs))],
            ['relabelled to another service', 'alice', relabel(record, { ...ik(record), KeyId: '_IK_alice_other_prod' })],
          ];
          const out = await reader.decrypt(cases.map(([, partition, rec]) => ({ partition, record: rec })));
          out.forEach((r, i) => {
            assertRejected(r, `${reader.label} reading ${by}'s alice record ${cases[i][0]}`, ['ERR_ASHERAH_DECRYPT_FAILED']);
            assert.ok(!r.message.includes('alice-only'), 'plaintext in an error message');
          });
          const [ok] = await reader.decrypt([{ partition: 'alice', record }]);
          assert.ok(ok.ok && ok.data.equals(secret), `${reader.label} still reads ${by}'s record as alice`);
        }
      }
    }, 60_000);

    pgTest('tampering: any flipped byte of Data or of the encrypted DRK fails in both cores, never a wrong plaintext', async () => {
      const { go, native } = await steady();
      const plain = Buffer.from('tamper-evident payload');
      const records = { go: (await go.encrypt([{ partition: 'tamper', data: plain }]))[0], native: (await native.encrypt([{ partition: 'tamper', data: plain }]))[0] };
      const summary = {};
      for (const [by, record] of Object.entries(records)) {
        const rec = JSON.parse(record);
        const variants = [];
        const flipped = (field, b64, i, mask) => { const b = Buffer.from(b64, 'base64'); b[i] ^= mask; return b.toString('base64'); };
        const data = Buffer.from(rec.Data, 'base64');
        const key = Buffer.from(rec.Key.Key, 'base64');
        assert.equal(data.length, plain.length + 28, 'Data is ciphertext || tag(16) || nonce(12)');
        assert.equal(key.length, 32 + 28, 'Key is the sealed 32-byte DRK');
        for (let i = 0; i < data.length; i++) {
          for (const mask of i < 2 || i >= data.length - 2 ? [1, 2, 4, 8, 16, 32, 64, 128] : [1 << (i % 8), 0xff]) {
            variants.push([`Data[${i}]^${mask}`, { ...rec, Data: flipped('Data', rec.Data, i, mask) }]);
          }
        }
        for (let i = 0; i < key.length; i++) {
          for (const mask of [1 << (i % 8), 0xff]) {
            variants.push([`Key.Key[${i}]^${mask}`, { ...rec, Key: { ...rec.Key, Key: flipped('Key', rec.Key.Key, i, mask) } }]);
          }
        }
        const other = JSON.parse(records[by === 'go' ? 'native' : 'go']);
        variants.push(['Data truncated by one byte', { ...rec, Data: data.subarray(0, -1).toString('base64') }]);
        variants.push(['Data with one byte appended', { ...rec, Data: Buffer.concat([data, Buffer.from([0])]).toString('base64') }]);
        variants.push(['Data from another record, same partition and IK', { ...rec, Data: other.Data }]);
        variants.push(['IK Created moved one minute', { ...rec, Key: { ...rec.Key, ParentKeyMeta: { ...rec.Key.ParentKeyMeta, Created: rec.Key.ParentKeyMeta.Created + 60 } } }]);
        const items = variants.map(([, v]) => ({ partition: 'tamper', record: JSON.stringify(v) }));
        // Structural damage: both cores must refuse, possibly with different codes.
        const broken = [
          ['trailing garbage', `${record}xyz`],
          ['IK Created as a float', record.replace(/("Created":\d+)\}/, '$1.5}')],
          ['URL-safe base64 Data', JSON.stringify({ ...rec, Data: rec.Data.replace(/\+/g, '-').replace(/\//g, '_') + '-_' })],
          ['no ParentKeyMeta', JSON.stringify({ ...rec, Key: { Created: rec.Key.Created, Key: rec.Key.Key } })],
          ['Data null', JSON.stringify({ ...rec, Data: null })],
          ['no Data', JSON.stringify({ Key: rec.Key })],
          ['empty sealed DRK', JSON.stringify({ ...rec, Key: { ...rec.Key, Key: '' } })],
          ['empty Data', JSON.stringify({ ...rec, Data: '' })],
        ];
        for (const [name, bad] of broken) {
          variants.push([name, null]);
          items.push({ partition: 'tamper', record: bad });
        }
        for (const reader of [go, native]) {
          const out = await reader.decrypt(items);
          out.forEach((r, i) => {
            assertRejected(r, `${reader.label} reading ${by}'s record with ${variants[i][0]}`);
            summary[`${reader.label}<-${by} ${r.code}`] = (summary[`${reader.label}<-${by} ${r.code}`] || 0) + 1;
          });
          // DRK Created is not authenticated (no AAD in Asherah's format): both cores ignore it.
          const moved = JSON.stringify({ ...rec, Key: { ...rec.Key, Created: rec.Key.Created - 3600 } });
          const [same] = await reader.decrypt([{ partition: 'tamper', record: moved }]);
          assert.ok(same.ok && same.data.equals(plain), `${reader.label}: a changed DRK Created yields the original plaintext`);
        }
      }
      console.log(`interop tamper (${env.runtime}): ${JSON.stringify(summary)}`);
    }, 60_000);

    pgTest('records Go reads and a strict reader would not (case-folded names, line breaks and spare bits in base64, byte arrays, repeated fields, no DRK Created): both cores read the original; both refuse the near misses', async () => {
      const { go, native } = await steady();
      const plain = Buffer.from('tamper-evident payload'); // 22 bytes: Data is 50, one "=" of padding
      const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const spareBits = (b64) => { const i = b64.indexOf('=') - 1; return b64.slice(0, i) + A[A.indexOf(b64[i]) ^ 1] + b64.slice(i + 1); };
      const bytes = (b64) => [...Buffer.from(b64, 'base64')];
      for (const [by, reader] of [['go', go], ['native', native]]) {
        const record = (await reader.encrypt([{ partition: 'lenient', data: plain }]))[0];
        const r = JSON.parse(record);
        const { Created, ...drkNoCreated } = r.Key;
        const meta = JSON.stringify(r.Key.ParentKeyMeta);
        const accepted = [
          ['lower-case field names', record.replace('"Key":{', '"key":{').replace('"Data"', '"data"').replace('"ParentKeyMeta"', '"parentkeymeta"').replace('"KeyId"', '"KEYID"')],
          ['KELVIN SIGN for K in field names', record.replace('"KeyId"', '"\u212AeyId"').replace(/^\{"Key"/, '{"\u212Aey"')],
          ['line breaks inside Data and Key.Key', JSON.stringify({ ...r, Data: `${r.Data.slice(0, 10)}\n${r.Data.slice(10, 20)}\r\n${r.Data.slice(20)}\n`, Key: { ...r.Key, Key: `${r.Key.Key.slice(0, 40)}\n${r.Key.Key.slice(40)}` } })],
          ['non-zero bits after the last byte of Data', JSON.stringify({ ...r, Data: spareBits(r.Data) })],
          ['Data and Key.Key as arrays of bytes', JSON.stringify({ ...r, Data: bytes(r.Data), Key: { ...r.Key, Key: bytes(r.Key.Key) } })],
          ['no DRK Created', JSON.stringify({ ...r, Key: drkNoCreated })],
          ['DRK Created null', JSON.stringify({ ...r, Key: { ...r.Key, Created: null } })],
          ['Data twice, the real one last', record.replace('"Data"', '"Data":"AAAA","Data"')],
          ['Key twice, the second merged into the first', record.replace(/^\{"Key":\{/, '{"Key":{"Created":5,"Key":"AAAA"},"Key":{')],
          ['ParentKeyMeta null, then the real one', record.replace('"ParentKeyMeta":{', '"ParentKeyMeta":null,"ParentKeyMeta":{')],
        ];
        const refused = [
          ['a space inside Data', JSON.stringify({ ...r, Data: `${r.Data.slice(0, 10)} ${r.Data.slice(10)}` })],
          ['Data without its padding', JSON.stringify({ ...r, Data: r.Data.replace(/=+$/, '') })],
          ['a byte of 256 in an array', JSON.stringify({ ...r, Data: [256, ...bytes(r.Data).slice(1)] })],
          ['IK Created as a string', JSON.stringify({ ...r, Key: { ...r.Key, ParentKeyMeta: { ...r.Key.ParentKeyMeta, Created: String(r.Key.ParentKeyMeta.Created) } } })],
          ['Revoked as a string', JSON.stringify({ ...r, Key: { Revoked: 'yes', ...r.Key } })],
          ['the real Data first, then null', record.replace(/\}$/, ',"Data":null}')],
          ['a field name with LONG S (U+017F) added', record.replace('"Data"', '"Data\u017F"')],
        ];
        assert.ok(meta.includes('KeyId'));
        for (const reader2 of [go, native]) {
          const ok = await reader2.decrypt(accepted.map(([, rec]) => ({ partition: 'lenient', record: rec })));
          ok.forEach((res, i) => assert.ok(res.ok && res.data.equals(plain), `${reader2.label} reading ${by}'s record with ${accepted[i][0]}: ${res.code} ${res.message}`));
          const bad = await reader2.decrypt(refused.map(([, rec]) => ({ partition: 'lenient', record: rec })));
          bad.forEach((res, i) => assertRejected(res, `${reader2.label} reading ${by}'s record with ${refused[i][0]}`));
        }
      }
    }, 60_000);

    pgTest('a partition whose IK id does not fit Go\'s VARCHAR(255) is refused by both cores, stores nothing, and the error says why', async () => {
      const { go, native } = await steady();
      const partition = 'L'.repeat(250); // "_IK_" + 250 + "_svc_prod": 263 characters
      const errors = {};
      for (const child of [go, native]) {
        errors[child.label] = await child.encrypt([{ partition, data: Buffer.from('x') }]).then(() => null, (e) => e);
        assert.ok(errors[child.label], `${child.label} stored a key id longer than the schema allows`);
      }
      assert.equal(psql(pg.url, `SELECT count(*) FROM encryption_key WHERE id LIKE '_IK_LLLL%'`)[0][0], '0');
      assert.equal(errors.go.code, 'ERR_ASHERAH_ENCRYPT_FAILED'); // libasherah only returns -103
      assert.equal(errors.native.code, 'ERR_ASHERAH_METASTORE');
      // PostgreSQL said "value too long for type character varying(255)" (SQLSTATE 22001);
      // the native core's message should carry that, not just "db error".
      assert.match(errors.native.message, /too long|character varying|22001/, errors.native.message);
    }, 60_000);

    runner.test('two native-core processes (Node and Bun) write one SQLite file concurrently and read each other; one IK row per partition', async () => {
      const db = path.join(tmp, 'shared.db');
      const cfg = { ServiceName: 'svc', ProductID: 'prod', KMS: 'static', Metastore: 'rdbms', ConnectionString: `sqlite://${db}`, Core: 'native', EnableSessionCaching: true };
      const [a, b] = await Promise.all([spawnChild('sqlite-a'), spawnChild('sqlite-b', otherRuntime())]);
      // A racing create that straddles a minute boundary could legitimately store two IKs
      // (different created): keep the race inside one minute.
      if (secondOfMinute() > 55) await sleepUntil(Math.ceil(nowS() / 60) * 60 + 1);
      await Promise.all([setupCore(a, cfg), setupCore(b, cfg)]);
      const partitions = Array.from({ length: 6 }, (_, i) => `sqlite-tenant-${i}`);
      const items = (who) => Array.from({ length: 60 }, (_, i) => ({
        partition: partitions[i % partitions.length], data: Buffer.from(`${who} #${i} ${'é'.repeat(i)}`),
      }));
      const [ia, ib] = [items(a.runtime), items(b.runtime)];
      const [ra, rb] = await Promise.all([a.encrypt(ia, { parallel: true }), b.encrypt(ib, { parallel: true })]);
      const written = [
        ...ra.map((record, i) => ({ by: a.label, partition: ia[i].partition, data: ia[i].data, record })),
        ...rb.map((record, i) => ({ by: b.label, partition: ib[i].partition, data: ib[i].data, record })),
      ];
      await assertAllDecrypt([a, b], written);
      for (const p of partitions) {
        const iks = new Set(written.filter((w) => w.partition === p).map((w) => ik(w.record).Created));
        assert.equal(iks.size, 1, `${p}: both processes ended on one IK`);
      }
      const counts = sqliteKeyCounts(db);
      assert.deepEqual(counts, Object.fromEntries(['_SK_svc_prod', ...partitions.map((p) => `_IK_${p}_svc_prod`)].sort().map((id) => [id, 1])));
      console.log(`interop sqlite (${env.runtime}): ${a.runtime} + ${b.runtime}, ${written.length} records, rows ${JSON.stringify(counts)}`);
      await Promise.all([a.close(), b.close()]);
    }, 60_000);

    const peerPython = process.env.ASHERAH_PEER_PYTHON || path.join(env.cache, 'peer-venv', 'bin', 'python');
    const peerVersion = spawnSync(peerPython, ['-c', 'import asherah; print(asherah.version())'], { encoding: 'utf8', timeout: 60_000 });
    const peerMissing = peerVersion.status !== 0 && `the PyPI asherah peer is not installed at ${peerPython}`;
    const peerTest = peerMissing ? (name) => runner.skip(name, peerMissing) : runner.test;
    peerTest('the PyPI asherah 0.5 peer (GoDaddy\'s Rust core) and the shim read each other over one SQLite file', async () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'peer-'));
      const db = path.join(dir, 'keys.db');
      const child = await spawnChild('native-peer');
      await setupCore(child, { ServiceName: 'svc', ProductID: 'prod', KMS: 'static', Metastore: 'rdbms', ConnectionString: `sqlite://${db}`, Core: 'native' });
      const mine = [['shared-1', 'from the shim #1'], ['shared-2', 'from the shim #2'], ['shared-1', '']];
      const records = await child.encrypt(mine.map(([partition, text]) => ({ partition, data: Buffer.from(text) })));
      fs.writeFileSync(path.join(dir, 'in.jsonl'), mine.map(([p, t], i) => JSON.stringify([p, t, records[i]])).join('\n') + '\n');
      const peer = path.join(env.root, 'crates', 'native', 'tests', 'peer', 'peer.py');
      const r = spawnSync(peerPython, [peer, db, path.join(dir, 'in.jsonl'), path.join(dir, 'out.jsonl'), 'shared-1', 'peer-only'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `peer.py failed: ${r.stdout} ${r.stderr}`);
      const theirs = fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const out = await child.decrypt(theirs.map(([partition, , record]) => ({ partition, record })));
      out.forEach((res, i) => assert.ok(res.ok && res.data.toString() === theirs[i][1], `peer record ${i}: ${res.code} ${res.message}`));
      assert.deepEqual(ik(theirs[0][2]), ik(records[0]), 'the peer reused the shim\'s IK for shared-1');
      // The peer also stores a row of its own in encryption_key ("__asherah_internal_config_
      // drift_guard_v1__:…"); only the Asherah key rows are compared.
      const counts = sqliteKeyCounts(db);
      const keyRows = Object.fromEntries(Object.entries(counts).filter(([id]) => /^_(SK|IK)_/.test(id)));
      assert.deepEqual(keyRows, { '_IK_peer-only_svc_prod': 1, '_IK_shared-1_svc_prod': 1, '_IK_shared-2_svc_prod': 1, '_SK_svc_prod': 1 });
      const extra = Object.keys(counts).filter((id) => !(id in keyRows));
      console.log(`interop peer (${env.runtime}): ${r.stdout.trim()}; other rows: ${JSON.stringify(extra)}`);
      await child.close();
    }, 90_000);

    pgTest('across a key rotation (ExpireAfter 2s, a minute boundary crossed): both cores rotate, adopt the other\'s new keys, and read old and new records both ways', async () => {
      const result = await rotation;
      console.log(`interop rotation (${env.runtime}): ${result}`);
    }, 150_000);
  });

  runner.after(async () => {
    await Promise.allSettled([...children].map((c) => c.close()));
    stopPostgres(pg);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  process.once('exit', () => {
    for (const c of children) if (!c.exited) c.proc.kill('SIGKILL');
    stopPostgres(pg);
  });
}

/**
 * Key rotation across the cores. Go's `ExpireAfter` compares now with the key's Created,
 * which is truncated to the minute (docs/interop.md), so with ExpireAfter 2s every IK and
 * SK is stale from birth, and a new one can only be stored once the minute changes: the
 * (id, created) insert fails in the same minute and the writer loads the winner. Phase A
 * runs inside one minute, phase B inside the next; B's keys must be strictly newer.
 */
async function rotationFlow(url) {
  const cfg = (core) => config(url, core, { ServiceName: 'svc-rot', ExpireAfter: '2s' });
  const [go, native] = await Promise.all([spawnChild('go-rot'), spawnChild('native-rot')]);
  await Promise.all([setupCore(go, cfg('go')), setupCore(native, cfg('native'))]);
  const partitions = { 'rot-go-first': [go, native], 'rot-native-first': [native, go] };
  const written = [];
  const phase = async (name, order) => {
    for (const p of order) {
      for (const child of partitions[p]) {
        const items = [Buffer.from(`phase ${name} by ${child.label}`), Buffer.alloc(0), crypto.randomBytes(4096)]
          .map((data) => ({ partition: p, data }));
        const records = await child.encrypt(items);
        records.forEach((record, i) => written.push({ phase: name, by: child.label, partition: p, data: items[i].data, record }));
      }
    }
  };
  if (secondOfMinute() > 45) await sleepUntil(Math.ceil(nowS() / 60) * 60 + 1);
  const startA = nowS();
  await phase('A', ['rot-go-first', 'rot-native-first']); // Go stores the first SK
  assert.equal(Math.floor(nowS() / 60), Math.floor(startA / 60), 'phase A stayed inside one minute');
  await sleepUntil(Math.ceil(nowS() / 60) * 60 + 1);
  const startB = nowS();
  await phase('B', ['rot-native-first', 'rot-go-first']); // native stores the rotated SK
  assert.equal(Math.floor(nowS() / 60), Math.floor(startB / 60), 'phase B stayed inside one minute');

  const created = {};
  for (const w of written) {
    const meta = ik(w.record);
    assert.equal(meta.KeyId, `_IK_${w.partition}_svc-rot_prod`);
    (created[`${w.partition} ${w.phase}`] ||= new Set()).add(meta.Created);
  }
  for (const p of Object.keys(partitions)) {
    const [a, b] = [[...created[`${p} A`]], [...created[`${p} B`]]];
    assert.equal(a.length, 1, `${p}: one IK in phase A for both cores (${a})`);
    assert.equal(b.length, 1, `${p}: one IK in phase B for both cores (${b})`);
    assert.equal(a[0], Math.floor(startA / 60) * 60, `${p}: phase A IK Created is phase A's minute`);
    assert.equal(b[0], Math.floor(startB / 60) * 60, `${p}: phase B IK Created is phase B's minute, so the IK rotated`);
  }
  const rows = pgKeys(url, 'svc-rot');
  const skRows = rows.filter((r) => r.id === '_SK_svc-rot_prod');
  assert.deepEqual(skRows.map((r) => r.created), [Math.floor(startA / 60) * 60, Math.floor(startB / 60) * 60], 'the SK rotated once');
  for (const p of Object.keys(partitions)) {
    const ikRows = rows.filter((r) => r.id === `_IK_${p}_svc-rot_prod`);
    assert.deepEqual(ikRows.map((r) => r.created), skRows.map((r) => r.created), `${p}: two IKs, one per minute`);
    ikRows.forEach((r, i) => assert.equal(r.record.ParentKeyMeta.Created, skRows[i].created, `${p}: each IK is sealed by its minute's SK`));
  }

  // Every record, old and new, in both directions; then fresh processes with cold caches
  // (and the default 90-day ExpireAfter), so nothing comes from a writer's memory.
  await assertAllDecrypt([go, native], written);
  const [goCold, nativeCold] = await Promise.all([spawnChild('go-cold'), spawnChild('native-cold')]);
  const coldCfg = (core) => config(url, core, { ServiceName: 'svc-rot' });
  await Promise.all([setupCore(goCold, coldCfg('go')), setupCore(nativeCold, coldCfg('native'))]);
  await assertAllDecrypt([goCold, nativeCold], written);
  await Promise.all([go, native, goCold, nativeCold].map((c) => c.close()));
  return `${written.length} records, IK Created ${Math.floor(startA / 60) * 60} -> ${Math.floor(startB / 60) * 60}, ` +
    `${rows.length} key rows; go=${go.runtime}`;
}

module.exports = {
  register,
  pg: { startPostgres, stopPostgres, psql },
  // For test-support/sql-metastores.cjs: the same child processes and checks.
  children: { spawnChild, setupCore, assertAllDecrypt },
};
