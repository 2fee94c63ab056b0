#!/usr/bin/env node
'use strict';
// Scaling (issue 15 item 3), two measurements, 64 B encrypt and decrypt:
//
//   node bench/scaling.cjs [--runtimes node,bun-1.4.5] [--cores native,go] [--workers 1,2,4]
//
// 1. Async throughput at concurrency 1, 4, 16, 64 and 256 (a sliding window of promises),
//    one child per (runtime, core) running bench/worker.cjs: median µs/op of 3 batches.
// 2. Node only: 1, 2 and 4 Workers, each driving the process-wide instance with 16 async
//    calls in flight for ~1 s, after the main thread's setup; aggregate ops/s.
// Prints markdown tables and the load average (`os.loadavg`) before each measurement.

const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const env = require('../test-support/env.cjs');

const CONCS = [1, 4, 16, 64, 256];

function args(argv) {
  const o = { runtimes: ['node', 'bun-1.4.5'], cores: ['native', 'go'], workers: [1, 2, 4] };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--runtimes') o.runtimes = v.split(',');
    else if (argv[i] === '--cores') o.cores = v.split(',');
    else if (argv[i] === '--workers') o.workers = v.split(',').map(Number);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

function child(rt, spec) {
  const bin = rt === 'node' ? process.execPath : env.bun(rt.replace(/^bun-/, ''));
  return new Promise((resolve, reject) => {
    const c = spawn(bin, [path.join(__dirname, 'worker.cjs'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 300e3);
    c.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`${rt}: exit ${code}\n${err.slice(-1500)}`));
    });
  });
}

const WORKER_BODY = `
const { parentPort, workerData } = require('node:worker_threads');
const a = require(workerData.module);
const buf = Buffer.alloc(64, 7);
(async () => {
  const rec = await a.encrypt_async('p', buf);
  let ops = 0;
  const end = Date.now() + workerData.ms;
  const lane = async () => {
    while (Date.now() < end) {
      await a.encrypt_async('p', buf);
      await a.decrypt_async('p', rec);
      ops += 2;
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  parentPort.postMessage(ops);
})();
`;

async function workers(core, n, ms) {
  const a = require(env.root);
  a.shutdown();
  a.setup({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static', EnableSessionCaching: true, Core: core, GoLibrary: env.goLibrary });
  const t0 = Date.now();
  const counts = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const w = new Worker(WORKER_BODY, { eval: true, workerData: { module: env.root, ms } });
      w.once('message', (ops) => { resolve(ops); w.terminate(); });
      w.once('error', reject);
    })),
  );
  const secs = (Date.now() - t0) / 1000;
  return counts.reduce((x, y) => x + y, 0) / secs;
}

async function main() {
  const o = args(process.argv.slice(2));
  const base = { sizes: [64], ops: ['encrypt', 'decrypt'], runs: 3, runMs: 100, warmupMs: 40, module: path.join(env.root, 'index.js'), goLibrary: env.goLibrary };
  console.log('### Async throughput by concurrency (64 B, µs/op, median of 3 batches)\n');
  console.log(`| runtime | core | op | ${CONCS.map((c) => `c=${c}`).join(' | ')} | load |`);
  console.log(`|---|---|---|${CONCS.map(() => '---:').join('|')}|---|`);
  for (const rt of o.runtimes) {
    for (const core of o.cores) {
      const load = os.loadavg()[0].toFixed(1);
      const rows = await child(rt, { ...base, impl: core, modes: CONCS.map((c) => `async${c}`) });
      for (const op of base.ops) {
        const cells = CONCS.map((c) => rows.find((r) => r.op === op && r.mode === `async${c}`).usPerOp.toFixed(2));
        console.log(`| ${rt} | ${core} | ${op} | ${cells.join(' | ')} | ${load} |`);
      }
    }
  }
  if (o.runtimes.includes('node')) {
    console.log('\n### Workers driving the shared instance (Node, 16 async calls in flight each, encrypt+decrypt, aggregate ops/s)\n');
    console.log(`| core | ${o.workers.map((n) => `${n} Worker${n > 1 ? 's' : ''}`).join(' | ')} | load |`);
    console.log(`|---|${o.workers.map(() => '---:').join('|')}|---|`);
    for (const core of o.cores) {
      const load = os.loadavg()[0].toFixed(1);
      const cells = [];
      for (const n of o.workers) cells.push(Math.round(await workers(core, n, 1000)));
      console.log(`| ${core} | ${cells.join(' | ')} | ${load} |`);
    }
    require(env.root).shutdown();
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
