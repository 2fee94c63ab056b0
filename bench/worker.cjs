'use strict';
// One benchmark child: one runtime (this process: node or bun), one implementation.
//
//   <runtime> bench/worker.cjs '<json spec>'
//
// spec: { impl: 'native' | 'go' | 'baseline', sizes: [bytes], modes: ['sync', 'async1',
//         'async64'], ops: ['encrypt', 'decrypt'], runs, runMs, warmupMs, module, goLibrary,
//         cAddon, shimConfig? (extra setup keys for the shim, e.g. {"CoreAffinity": "none"}) }
//
// 'native' and 'go' drive the shim (require(module)) with Core native / go; 'baseline' is
// the plain C addon calling libasherah on the JS thread (what asherah-node does), sync only.
// A Go runtime can be loaded once per process, hence one implementation per child.
// Prints exactly one line `RESULT <json>` on stdout; progress goes to stderr.

const crypto = require('node:crypto');

const spec = JSON.parse(process.argv[2]);
const runtime = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : `node-${process.versions.node}`;
const PARTITION = 'bench-partition';
const CONFIG = {
  ServiceName: 'bench-service',
  ProductID: 'bench-product',
  Metastore: 'memory',
  KMS: 'static',
  EnableSessionCaching: true,
};

const now = () => Number(process.hrtime.bigint()) / 1e3; // µs

/** The operations of one implementation: sync always, async only for the shim. */
function open() {
  if (spec.impl === 'baseline') {
    const mod = { exports: {} };
    process.dlopen(mod, spec.cAddon);
    const c = mod.exports;
    c.load(spec.goLibrary);
    // Like asherah-node, the baseline sizes encrypt output in C from these two lengths.
    const keyIdOverhead = Buffer.byteLength(CONFIG.ProductID) + Buffer.byteLength(CONFIG.ServiceName);
    const rc = c.setup(JSON.stringify(CONFIG), keyIdOverhead);
    if (rc !== 0) throw new Error(`baseline SetupJson failed: ${rc}`);
    return {
      encrypt: (data) => c.encrypt(PARTITION, data),
      decrypt: (rec) => c.decrypt(PARTITION, rec),
      close: () => c.shutdown(),
    };
  }
  const a = require(spec.module);
  const cfg = { ...CONFIG, Core: spec.impl, ...(spec.shimConfig || {}) };
  if (spec.impl === 'go') cfg.GoLibrary = spec.goLibrary;
  a.setup(cfg);
  return {
    encrypt: (data) => a.encrypt(PARTITION, data),
    decrypt: (rec) => a.decrypt(PARTITION, rec),
    encryptAsync: (data) => a.encrypt_async(PARTITION, data),
    decryptAsync: (rec) => a.decrypt_async(PARTITION, rec),
    close: () => a.shutdown(),
  };
}

/** Runs `n` sync ops; returns elapsed µs. */
function timeSync(fn, arg, n) {
  const t0 = now();
  for (let i = 0; i < n; i++) fn(arg);
  return now() - t0;
}

/** Runs `n` async ops with at most `conc` in flight (a sliding window); returns elapsed µs. */
async function timeAsync(fn, arg, n, conc) {
  let left = n;
  const lane = async () => {
    while (left > 0) {
      left--;
      await fn(arg);
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: Math.min(conc, n) }, lane));
  return now() - t0;
}

async function measure(fn, arg, mode) {
  const conc = mode === 'sync' ? 0 : Number(mode.slice(5));
  const timed = (n) => (conc ? timeAsync(fn, arg, n, conc) : Promise.resolve(timeSync(fn, arg, n)));
  // Calibrate: grow n until one batch takes >= warmupMs (this is also the warm-up).
  let n = Math.max(1, conc);
  let t = await timed(n);
  while (t < spec.warmupMs * 1e3 && n < 1e8) {
    n *= t < 1e3 ? 8 : 2;
    t = await timed(n);
  }
  // Size each run to about runMs, never below the concurrency (and at least 3 ops).
  n = Math.max(conc, 3, Math.round((n * spec.runMs * 1e3) / t));
  const samples = [];
  for (let r = 0; r < spec.runs; r++) samples.push((await timed(n)) / n);
  samples.sort((x, y) => x - y);
  return {
    opsPerRun: n,
    usPerOp: samples[samples.length >> 1],
    min: samples[0],
    max: samples[samples.length - 1],
    samples,
  };
}

async function main() {
  const api = open();
  const results = [];
  for (const size of spec.sizes) {
    const data = crypto.randomBytes(size);
    const record = api.encrypt(data);
    // Check the round trip once before timing anything.
    const back = api.decrypt(record);
    if (!Buffer.from(back).equals(data)) throw new Error(`round trip failed at ${size} B`);
    for (const mode of spec.modes) {
      if (mode !== 'sync' && !api.encryptAsync) continue;
      for (const op of spec.ops) {
        const fn = mode === 'sync' ? api[op] : api[op + 'Async'];
        const arg = op === 'encrypt' ? data : record;
        const m = await measure(fn, arg, mode);
        const row = { runtime, impl: spec.impl, mode, op, size, ...m };
        process.stderr.write(
          `  ${runtime} ${spec.impl} ${mode} ${op} ${size} B: ${m.usPerOp.toFixed(2)} µs/op\n`,
        );
        results.push(row);
      }
    }
  }
  api.close();
  process.stdout.write('RESULT ' + JSON.stringify(results) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench worker failed (${runtime} ${spec.impl}): ${e && e.stack}\n`);
    process.exit(1);
  },
);
