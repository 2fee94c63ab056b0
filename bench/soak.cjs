#!/usr/bin/env node
'use strict';
// Soak benchmark (not a test: it prints numbers, it asserts only that decrypts round-trip).
//
//   node bench/soak.cjs [--calls 1000000] [--runtimes node,bun-1.4.5,bun-1.3.14]
//                       [--cores native,go] [--sample-every 10000] [--warmup N]
//                       [--partitions 8] [--sizes 64,64,64,4096] [--block 100] [--window 32]
//                       [--core-threads N] [--smaps] [--env NAME=VALUE]... [--gctrace]
//                       [--node-args '--flag ...'] [--label text] [--out file.json]
//                       [--timeout seconds] [--max-seconds seconds]
//
// One child per (runtime, core), run one after another (bench/soak-worker.cjs): `calls`
// encrypt/decrypt calls, blocks of `block` calls alternating sync and async (`window`
// promises in flight), sizes and partitions cycling. Default pairs: node and bun-1.4.5 with
// both cores, bun-1.3.14 with the go core (naming --runtimes or --cores runs every pair).
// RSS (VmRSS) is sampled every `sample-every` calls; warm-up defaults to the first 10 %.
// --smaps also attributes RSS by mapping at every sample (bench/soak-smaps.cjs) and prints
// the classes; --env passes variables to the children only (e.g. MALLOC_ARENA_MAX=2, GOGC=50,
// GODEBUG=madvdontneed=1); --node-args passes flags to Node children (V8 flags that
// NODE_OPTIONS refuses, e.g. --min-semi-space-size=16); --gctrace sets GODEBUG=gctrace=1
// and keeps Go's GC lines. --max-seconds ends a child's loop early (at a sample point) and
// reports the calls it made, so a slow core still gives numbers inside --timeout.
//
// Prints a table (calls, ops/s, RSS at start / after warm-up / end / max, slope after
// warm-up and over the last half in KiB per 100k calls) and writes bench/results/soak-<time>.json.
// Exits non-zero if a child fails or times out.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const env = require('../test-support/env.cjs');
const { CLASSES } = require('./soak-smaps.cjs');

function parseArgs(argv) {
  const o = {
    calls: 1e6,
    runtimes: null,
    cores: null,
    sampleEvery: 10000,
    warmup: null,
    partitions: 8,
    sizes: [64, 64, 64, 4096],
    block: 100,
    window: 32,
    coreThreads: null,
    smaps: false,
    env: {},
    gctrace: false,
    label: '',
    nodeArgs: [],
    out: null,
    timeout: 600,
    maxSeconds: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const n = Number(val());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${a} needs a positive number`);
      return n;
    };
    if (a === '--calls') o.calls = num();
    else if (a === '--runtimes') o.runtimes = val().split(',');
    else if (a === '--cores') o.cores = val().split(',');
    else if (a === '--sample-every') o.sampleEvery = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--partitions') o.partitions = num();
    else if (a === '--sizes') o.sizes = val().split(',').map(Number);
    else if (a === '--block') o.block = num();
    else if (a === '--window') o.window = num();
    else if (a === '--core-threads') o.coreThreads = num();
    else if (a === '--smaps') o.smaps = true;
    else if (a === '--env') {
      const kv = val();
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--env needs NAME=VALUE, not ${kv}`);
      o.env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--gctrace') o.gctrace = true;
    else if (a === '--label') o.label = val();
    else if (a === '--node-args') o.nodeArgs = val().split(/\s+/).filter(Boolean);
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--timeout') o.timeout = num();
    else if (a === '--max-seconds') o.maxSeconds = num();
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 28).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.sampleEvery % o.block) throw new Error('--sample-every must be a multiple of --block');
  if (o.warmup == null) o.warmup = Math.max(o.sampleEvery, Math.round(o.calls / 10 / o.sampleEvery) * o.sampleEvery);
  if (o.gctrace) o.env.GODEBUG = [o.env.GODEBUG, 'gctrace=1'].filter(Boolean).join(',');
  return o;
}

function shimModule() {
  if (process.env.ASHERAH_SHIM_MODULE) return process.env.ASHERAH_SHIM_MODULE;
  const so = path.resolve(env.root, process.env.CARGO_TARGET_DIR || 'target', 'release', 'libasherah_shim.so');
  if (!fs.existsSync(so)) throw new Error(`${so} missing: cargo build --release, or set ASHERAH_SHIM_MODULE`);
  return so;
}

function pairs(o) {
  const bins = { node: process.execPath };
  for (const v of ['1.4.5', '1.3.14']) {
    try {
      const b = env.bun(v);
      if (b && fs.existsSync(b)) bins[`bun-${v}`] = b;
    } catch {}
  }
  let list;
  if (o.runtimes || o.cores) {
    list = [];
    for (const rt of o.runtimes || ['node', 'bun-1.4.5', 'bun-1.3.14'])
      for (const core of o.cores || ['native', 'go']) list.push({ rt, core });
  } else {
    list = [
      { rt: 'node', core: 'native' },
      { rt: 'node', core: 'go' },
      { rt: 'bun-1.4.5', core: 'native' },
      { rt: 'bun-1.4.5', core: 'go' },
      { rt: 'bun-1.3.14', core: 'go' },
    ];
  }
  const missing = [...new Set(list.map((p) => p.rt))].filter((r) => !bins[r]);
  if (missing.length) throw new Error(`runtime(s) not installed: ${missing.join(', ')} (scripts/deps.sh)`);
  return list.map((p) => ({ ...p, bin: bins[p.rt] }));
}

function runChild(p, spec, o) {
  return new Promise((resolve) => {
    const pre = p.rt === 'node' ? o.nodeArgs : [];
    const child = spawn(p.bin, [...pre, path.join(__dirname, 'soak-worker.cjs'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env, ASHERAH_SHIM_MODULE: spec.shimSo },
    });
    let out = '';
    let err = '';
    const gc = { count: 0, last: [], maxGoalMB: 0, maxLiveMB: 0 };
    let partial = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-20000);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (line.startsWith('  ')) process.stderr.write(line + '\n');
        const m = /^gc \d+ @.* (\d+)->(\d+)->(\d+) MB, (\d+) MB goal/.exec(line);
        if (m) {
          gc.count++;
          gc.maxGoalMB = Math.max(gc.maxGoalMB, Number(m[4]));
          gc.maxLiveMB = Math.max(gc.maxLiveMB, Number(m[3]));
          gc.last.push(line);
          if (gc.last.length > 3) gc.last.shift();
          if (gc.count === 1) gc.first = line;
        }
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeout * 1e3);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('SOAK '));
      if (code === 0 && line) {
        const r = JSON.parse(line.slice(5));
        if (gc.count) r.gctrace = gc;
        return resolve({ ok: true, result: r });
      }
      const why = timedOut ? `timed out after ${o.timeout} s` : `exit ${code} ${signal || ''}`.trim();
      resolve({ ok: false, error: `${p.rt} ${p.core}: ${why}\n${err.slice(-2000)}` });
    });
  });
}

/** Least-squares slope of RSS (KiB) over calls, in KiB per 100k calls. */
function slope(samples) {
  if (samples.length < 2) return null;
  const n = samples.length;
  const mx = samples.reduce((s, x) => s + x.calls, 0) / n;
  const my = samples.reduce((s, x) => s + x.rssKiB, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const x of samples) {
    sxy += (x.calls - mx) * (x.rssKiB - my);
    sxx += (x.calls - mx) ** 2;
  }
  return sxx ? (sxy / sxx) * 1e5 : null;
}

function summarize(r, o) {
  const loop = r.samples.filter((s) => s.calls >= 0);
  const at = (c) => loop.find((s) => s.calls >= c) || loop[loop.length - 1];
  const start = at(0);
  const warm = at(o.warmup);
  const end = loop[loop.length - 1];
  const max = loop.reduce((m, s) => (s.rssKiB > m.rssKiB ? s : m), start);
  return {
    runtime: r.runtime,
    core: r.core,
    calls: r.calls,
    opsPerSec: r.calls / ((r.elapsedMs - r.sampleMs) / 1e3),
    rssBeforeSetupKiB: r.samples[0].rssKiB,
    rssStartKiB: start.rssKiB,
    rssWarmKiB: warm.rssKiB,
    rssEndKiB: end.rssKiB,
    rssMaxKiB: max.rssKiB,
    rssMaxAtCalls: max.calls,
    slopeAfterWarmup: slope(loop.filter((s) => s.calls >= o.warmup)),
    slopeLastHalf: slope(loop.filter((s) => s.calls >= r.calls / 2)),
    threadsEnd: end.threads,
  };
}

const mib = (k) => (k / 1024).toFixed(1);
const fmtSlope = (x) => (x == null ? '-' : (x >= 0 ? '+' : '') + x.toFixed(0));

function table(head, body, left) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < left ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

function mainTable(sums, o) {
  return table(
    ['runtime', 'core', 'calls', 'ops/s', 'RSS start', `after ${o.warmup / 1000}k`, 'end', 'max', 'slope/100k', 'last half/100k'],
    sums.map((s) => [
      s.runtime,
      s.core,
      s.calls,
      Math.round(s.opsPerSec),
      mib(s.rssStartKiB) + ' MiB',
      mib(s.rssWarmKiB) + ' MiB',
      mib(s.rssEndKiB) + ' MiB',
      mib(s.rssMaxKiB) + ' MiB',
      fmtSlope(s.slopeAfterWarmup) + ' KiB',
      fmtSlope(s.slopeLastHalf) + ' KiB',
    ]),
    2,
  );
}

/** Per run: RSS by class of mapping at start, after warm-up and at the end (MiB). */
function smapsTable(r, o) {
  const loop = r.samples.filter((s) => s.calls >= 0 && s.smaps);
  if (!loop.length) return '';
  const at = (c) => loop.find((s) => s.calls >= c) || loop[loop.length - 1];
  const pts = [at(0), at(o.warmup), at(r.calls / 4), at(r.calls / 2), loop[loop.length - 1]];
  const rows = CLASSES.map((c) => [c, ...pts.map((p) => mib(p.smaps[c])), mib(pts[4].smaps[c] - pts[0].smaps[c])]);
  rows.push(['(VmRSS)', ...pts.map((p) => mib(p.rssKiB)), mib(pts[4].rssKiB - pts[0].rssKiB)]);
  rows.push(['(arenas/stacks)', ...pts.map((p) => `${p.arenas}/${p.stacks}`), '']);
  rows.push(['(threads)', ...pts.map((p) => p.threads), '']);
  return `${r.runtime} ${r.core}: RSS by mapping, MiB\n${table(
    ['class', ...pts.map((p) => `@${p.calls}`), 'end-start'],
    rows,
    1,
  )}`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const shimSo = shimModule();
  const list = pairs(o);
  if (list.some((p) => p.core === 'go') && !(env.goLibrary && fs.existsSync(env.goLibrary))) {
    throw new Error('libasherah not found: scripts/deps.sh or ASHERAH_GO_LIBRARY');
  }
  const results = [];
  const failures = [];
  const versions = {};
  for (const p of list) {
    versions[p.rt] = versions[p.rt] || execFileSync(p.bin, ['--version'], { encoding: 'utf8' }).trim();
    console.error(`${p.rt} / ${p.core}${o.label ? ` (${o.label})` : ''}`);
    const spec = {
      core: p.core,
      calls: o.calls,
      sampleEvery: o.sampleEvery,
      warmup: o.warmup,
      partitions: o.partitions,
      sizes: o.sizes,
      block: o.block,
      window: o.window,
      coreThreads: o.coreThreads,
      smaps: o.smaps,
      maxSeconds: o.maxSeconds,
      module: path.join(env.root, 'index.js'),
      shimSo,
      goLibrary: env.goLibrary,
    };
    const res = await runChild(p, spec, o);
    if (res.ok) results.push({ ...res.result, runtimeName: p.rt });
    else failures.push(res.error);
  }
  const sums = results.map((r) => summarize(r, o));
  console.log(mainTable(sums, o));
  if (o.smaps) for (const r of results) console.log('\n' + smapsTable(r, o));
  for (const r of results) {
    if (r.gctrace) {
      console.log(
        `\n${r.runtime} ${r.core} gctrace: ${r.gctrace.count} GCs, max goal ${r.gctrace.maxGoalMB} MB, max live ${r.gctrace.maxLiveMB} MB; last: ${r.gctrace.last[r.gctrace.last.length - 1]}`,
      );
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = o.out || path.join(__dirname, 'results', `soak-${stamp}.json`);
  const doc = {
    command: `node bench/soak.cjs ${process.argv.slice(2).join(' ')}`.trim(),
    label: o.label,
    settings: { ...o, out: undefined },
    machine: {
      cpu: (/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')) || [])[1] || 'unknown',
      cpus: os.cpus().length,
      kernel: `${os.type()} ${os.release()}`,
      memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      date: new Date().toISOString(),
    },
    shimSo,
    runtimes: versions,
    seconds: Math.round((Date.now() - t0) / 1000),
    failures,
    summary: sums,
    results,
  };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(doc) + '\n');
  console.log(`\nwrote ${out} (${doc.seconds} s)`);
  if (failures.length) {
    console.error(`\n${failures.length} soak child(ren) failed:\n${failures.join('\n\n')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
