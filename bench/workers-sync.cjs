#!/usr/bin/env node
'use strict';
// How calls from several threads contend inside the shim (issue 15, round thirteen): N
// Workers each run synchronous 64 B encrypt + decrypt pairs on the process-wide native-core
// instance (memory metastore, session cache on), all starting at the same moment, for a
// fixed time; prints aggregate ops/s per Worker count and the ratio to one Worker. Small
// sync calls on the native core run inline on each Worker's own thread, so what the Workers
// share is only the shim's and the core's state (instance, key caches, locked key slots):
// the ratio shows how much of it every call writes.
//
//   node bench/workers-sync.cjs [--workers 1,2,4] [--ms 2000] [--runs 3]
//
// Honors ASHERAH_SHIM_MODULE (an A/B build), as bench/worker.cjs does. Figures are medians
// of --runs, each in a fresh set of Workers.

const path = require('node:path');
const os = require('node:os');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');

const asherah = require(path.join(__dirname, '..'));
const PLAIN = Buffer.alloc(64, 7);

if (!isMainThread) {
  const rec = asherah.encrypt('p', PLAIN);
  while (Date.now() < workerData.start) asherah.decrypt('p', rec); // warm, then start together
  let ops = 0;
  const end = workerData.start + workerData.ms;
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) {
      if (!asherah.decrypt('p', asherah.encrypt('p', PLAIN)).equals(PLAIN)) throw new Error('round trip changed the data');
    }
    ops += 200;
  }
  parentPort.postMessage(ops);
} else {
  const o = { workers: [1, 2, 4], ms: 2000, runs: 3 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--workers') o.workers = argv[i + 1].split(',').map(Number);
    else if (argv[i] === '--ms') o.ms = Number(argv[i + 1]);
    else if (argv[i] === '--runs') o.runs = Number(argv[i + 1]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  asherah.setup({
    ServiceName: 'bench', ProductID: 'workers', Metastore: 'memory', KMS: 'static', EnableSessionCaching: true,
  });
  const once = (n) => new Promise((resolve, reject) => {
    const start = Date.now() + 300;
    let total = 0;
    let left = n;
    for (let i = 0; i < n; i++) {
      const w = new Worker(__filename, { workerData: { start, ms: o.ms } });
      w.on('error', reject);
      w.on('message', (ops) => {
        total += ops;
        if (--left === 0) resolve(total / (o.ms / 1000));
      });
    }
  });
  (async () => {
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rows = [];
    for (const n of o.workers) {
      const runs = [];
      for (let r = 0; r < o.runs; r++) runs.push(await once(n));
      rows.push({ n, median: median(runs), runs });
    }
    const base = rows.find((r) => r.n === 1)?.median;
    console.log(`### Sync 64 B encrypt+decrypt from Workers (native core), ${o.ms} ms per run, load ${os.loadavg()[0].toFixed(1)}`);
    console.log('| Workers | ops/s (median) | runs | vs 1 Worker |');
    console.log('|---:|---:|---|---:|');
    for (const r of rows) {
      const ratio = base ? `${(r.median / base).toFixed(2)}x` : '-';
      console.log(`| ${r.n} | ${Math.round(r.median)} | ${r.runs.map((x) => Math.round(x / 1000) + 'k').join(' / ')} | ${ratio} |`);
    }
    asherah.shutdown();
  })().catch((e) => { console.error(e); process.exit(1); });
}
