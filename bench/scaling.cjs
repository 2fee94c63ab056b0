#!/usr/bin/env node
'use strict';
// Scaling (issue 15 item 3), two measurements, 64 B encrypt and decrypt:
//
//   node bench/scaling.cjs [--runtimes node,bun-1.4.5] [--cores native,go] [--workers 1,2,4]
//                          [--svg out.svg] [--skip-payload]
//
// 1. Async throughput at concurrency 1, 4, 16, 64 and 256 (a sliding window of promises),
//    one child per (runtime, core) running bench/worker.cjs: median µs/op of 3 batches.
// 2. Node only: 1, 2 and 4 Workers, each driving the process-wide instance with 16 async
//    calls in flight for ~1 s, after the main thread's setup; aggregate ops/s.
// 3. The native core's inline path against the core-host path as the payload grows: async
//    calls with the memory metastore run inline up to 32 KiB (src/api/dispatch.rs), and with
//    a SQLite metastore always on a core-host thread (it may wait on another writer's lock);
//    warm calls never touch either store (session cache), so the pair isolates the path.
//    Above 32 KiB both take the host path, which is the control.
// Prints markdown tables and the load average (`os.loadavg`) before each measurement;
// --svg also draws (1) and (2) as a chart.

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
    else if (argv[i] === '--svg') o.svg = v;
    else if (argv[i] === '--skip-payload') { o.skipPayload = true; i -= 1; }
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

const PAYLOADS = [64, 1024, 8192, 16384, 32768, 65536];

async function payloadPaths(rt, base) {
  const fs = require('node:fs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-scaling-'));
  const spec = { ...base, impl: 'native', sizes: PAYLOADS, modes: ['async1', 'async64'] };
  const inline = await child(rt, spec);
  const hosted = await child(rt, { ...spec, shimConfig: { Metastore: 'rdbms', ConnectionString: `sqlite://${dir}/keys.db` } });
  fs.rmSync(dir, { recursive: true, force: true });
  for (const mode of spec.modes) {
    for (const op of base.ops) {
      const cell = (rows, size) => rows.find((r) => r.op === op && r.mode === mode && r.size === size).usPerOp;
      const cells = PAYLOADS.map((size) => {
        const [a, b] = [cell(inline, size), cell(hosted, size)];
        return `${a.toFixed(1)} / ${b.toFixed(1)} (${(b / a).toFixed(2)}x)`;
      });
      console.log(`| ${rt} | ${mode} | ${op} | ${cells.join(' | ')} |`);
    }
  }
}

/** A two-panel SVG: µs/op by concurrency (log-log), and Worker throughput. */
function svg(conc, workerRows, workerCounts) {
  const W = 1060, H = 380, pad = 50, pw = 520, ph = H - 2 * pad;
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  const all = conc.flatMap((l) => l.values);
  const [lo, hi] = [Math.min(...all) / 1.5, Math.max(...all) * 1.5];
  const x = (i) => pad + (i * pw) / (CONCS.length - 1);
  const y = (v) => pad + ph - ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * ph;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
  out += `<rect width="${W}" height="${H}" fill="white"/><text x="${pad}" y="20" font-size="13">Async 64 B µs/op by calls in flight (log scale, lower is better)</text>`;
  for (const t of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) {
    if (t < lo || t > hi) continue;
    out += `<line x1="${pad}" x2="${pad + pw}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${pad - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`;
  }
  CONCS.forEach((c, i) => (out += `<text x="${x(i)}" y="${H - pad + 16}" text-anchor="middle">c=${c}</text>`));
  // Labels at the right end of each line, pushed apart where lines end close together.
  const labels = conc.map((l, k) => ({ k, y: y(l.values[l.values.length - 1]) + 4 })).sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) labels[i].y = Math.max(labels[i].y, labels[i - 1].y + 13);
  conc.forEach((l, k) => {
    const col = colors[k % colors.length];
    out += `<polyline fill="none" stroke="${col}" stroke-width="2" points="${l.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')}"/>`;
    out += `<text x="${pad + pw + 8}" y="${labels.find((t) => t.k === k).y}" fill="${col}">${l.label}</text>`;
  });
  if (workerRows.length) {
    const bx = 760, bw = 110, max = Math.max(...workerRows.flatMap((r) => r.cells));
    out += `<text x="${bx}" y="${pad - 8}" font-size="12">Node Workers, aggregate ops/s</text>`;
    workerRows.forEach((r, k) => {
      r.cells.forEach((v, i) => {
        const yy = pad + (k * (workerCounts.length + 1) + i) * 16;
        const w = Math.max(1, (v / max) * bw);
        out += `<rect x="${bx}" y="${yy}" width="${w}" height="12" fill="${colors[k]}"/><text x="${bx + w + 4}" y="${yy + 10}" fill="#333">${r.core}, ${workerCounts[i]} Worker${workerCounts[i] > 1 ? 's' : ''}: ${(v / 1000).toFixed(1)}k</text>`;
      });
    });
  }
  return out + '</svg>\n';
}

async function main() {
  const o = args(process.argv.slice(2));
  const chart = [];
  const workerRows = [];
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
        chart.push({ label: `${rt} ${core} ${op}`, values: cells.map(Number) });
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
      workerRows.push({ core, cells });
    }
    require(env.root).shutdown();
  }
  if (!o.skipPayload) {
    console.log('\n### Native core: inline path against core-host path by payload (async, µs/op: memory metastore / SQLite (host-ratio); inline only up to 32 KiB of plaintext)\n');
    console.log(`| runtime | mode | op | ${PAYLOADS.map((b) => (b >= 1024 ? `${b >> 10} KiB` : `${b} B`)).join(' | ')} |`);
    console.log(`|---|---|---|${PAYLOADS.map(() => '---:').join('|')}|`);
    for (const rt of o.runtimes) await payloadPaths(rt, base);
  }
  if (o.svg) {
    require('node:fs').writeFileSync(o.svg, svg(chart, workerRows, o.workers));
    console.log(`\nwrote ${o.svg}`);
  }
}

module.exports = { svg };

if (require.main === module) main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
