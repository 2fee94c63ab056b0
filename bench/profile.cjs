'use strict';
// A fixed workload for profilers (callgrind, perf): set up one implementation, warm up,
// then run exactly N operations of one kind, so that two runs with different N give the
// per-operation cost by difference (which cancels start-up and JIT warm-up).
//
//   valgrind --tool=callgrind node bench/profile.cjs <impl> <mode> <op> <size> <n>
//     impl: native | go | baseline      mode: sync | async<c>      op: encrypt | decrypt
//
// Environment as for bench/worker.cjs: ASHERAH_SHIM_MODULE, ASHERAH_GO_LIBRARY, and
// BENCH_C_ADDON for the baseline; BENCH_CORE_THREADS sets the shim's CoreThreads. Prints wall and CPU time per operation.

const crypto = require('node:crypto');
const path = require('node:path');

const [impl, mode, op, sizeArg, nArg] = process.argv.slice(2);
const size = Number(sizeArg || 64);
const n = Number(nArg || 1000);
const cfg = {
  ServiceName: 'bench-service',
  ProductID: 'bench-product',
  Metastore: 'memory',
  KMS: 'static',
  EnableSessionCaching: true,
};
const P = 'bench-partition';

let api;
if (impl === 'baseline') {
  const mod = { exports: {} };
  process.dlopen(mod, process.env.BENCH_C_ADDON);
  const c = mod.exports;
  c.load(process.env.ASHERAH_GO_LIBRARY);
  c.setup(JSON.stringify(cfg), Buffer.byteLength(cfg.ProductID) + Buffer.byteLength(cfg.ServiceName));
  api = { encrypt: (d) => c.encrypt(P, d), decrypt: (r) => c.decrypt(P, r), close: () => c.shutdown() };
} else {
  const a = require(path.join(__dirname, '..', 'index.js'));
  const extra = process.env.BENCH_CORE_THREADS ? { CoreThreads: Number(process.env.BENCH_CORE_THREADS) } : {};
  a.setup({ ...cfg, ...extra, Core: impl, GoLibrary: process.env.ASHERAH_GO_LIBRARY });
  api = {
    encrypt: (d) => a.encrypt(P, d),
    decrypt: (r) => a.decrypt(P, r),
    encryptAsync: (d) => a.encrypt_async(P, d),
    decryptAsync: (r) => a.decrypt_async(P, r),
    close: () => a.shutdown(),
  };
}

async function run(count) {
  const data = crypto.randomBytes(size);
  const arg = op === 'encrypt' ? data : api.encrypt(data);
  if (mode === 'sync') {
    const f = api[op];
    for (let i = 0; i < count; i++) f(arg);
    return;
  }
  const conc = Number(mode.slice(5));
  const f = api[op + 'Async'];
  let left = count;
  const lane = async () => {
    while (left-- > 0) await f(arg);
  };
  await Promise.all(Array.from({ length: conc }, lane));
}

(async () => {
  await run(200); // warm-up (JIT, session cache, allocator)
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(n);
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  const c = process.cpuUsage(c0);
  // CPU time (all threads, user + system) is steadier than wall time on a shared machine.
  console.log(
    `${impl} ${mode} ${op} ${size} B x ${n}: ${(us / n).toFixed(2)} µs/op wall, ` +
      `${((c.user + c.system) / n).toFixed(2)} µs/op cpu (${(c.system / n).toFixed(2)} sys)`,
  );
  api.close();
})();
