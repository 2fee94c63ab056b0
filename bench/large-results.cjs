'use strict';
// Large results (issue 15 item 2): MB/s of sync and async encrypt and decrypt by size, native
// core, memory metastore, for comparing two builds: run it once per build, alternating,
// under each runtime, with ASHERAH_SHIM_MODULE set.
//   ASHERAH_SHIM_MODULE=<build>/libasherah_shim.so node bench/large-results.cjs [KiB,...]
// Prints one JSON line: per size, the median plaintext MB/s of 5 runs (each ~0.3 s after a
// warm-up), and the process's RSS at the end (external strings live outside the JS heap, so
// a host that does not count them could let it grow).
const path = require('node:path');
const a = require(path.resolve(__dirname, '..'));

const sizesKiB = (process.argv[2] || '16,64,256,1024').split(',').map(Number);
a.setup({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static' });
const now = () => Number(process.hrtime.bigint()) / 1e3;
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

async function main() {
  const out = { runtime: typeof Bun !== 'undefined' ? `bun-${Bun.version}` : `node-${process.versions.node}` };
  for (const kib of sizesKiB) {
    const buf = Buffer.alloc(kib << 10, 7);
    // Correctness first: the record must read back.
    const rec = a.encrypt('p', buf);
    if (!Buffer.from(a.decrypt('p', rec)).equals(buf)) throw new Error('round trip failed');
    let n = 1;
    for (let t = 0; t < 300e3; n *= 2) {
      const t0 = now();
      for (let i = 0; i < n; i++) a.encrypt('p', buf);
      t = now() - t0;
      if (t > 150e3) break;
    }
    const sync = [];
    const asyncRuns = [];
    const decSync = [];
    const decAsync = [];
    for (let r = 0; r < 5; r++) {
      let t0 = now();
      for (let i = 0; i < n; i++) a.encrypt('p', buf);
      sync.push((buf.length * n) / (now() - t0));
      t0 = now();
      for (let i = 0; i < n; i++) await a.encrypt_async('p', buf);
      asyncRuns.push((buf.length * n) / (now() - t0));
      t0 = now();
      for (let i = 0; i < n; i++) a.decrypt('p', rec);
      decSync.push((buf.length * n) / (now() - t0));
      t0 = now();
      for (let i = 0; i < n; i++) await a.decrypt_async('p', rec);
      decAsync.push((buf.length * n) / (now() - t0));
    }
    // The last results must still read back (a finalizer that freed early would show here).
    if (!Buffer.from(a.decrypt('p', rec)).equals(buf)) throw new Error('round trip failed');
    out[`${kib}KiB`] = {
      syncMBps: Math.round(median(sync)),
      asyncMBps: Math.round(median(asyncRuns)),
      decSyncMBps: Math.round(median(decSync)),
      decAsyncMBps: Math.round(median(decAsync)),
      n,
    };
  }
  out.rssMiB = +(process.memoryUsage().rss / 2 ** 20).toFixed(1);
  console.log(JSON.stringify(out));
  a.shutdown();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
