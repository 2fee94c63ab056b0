#!/usr/bin/env node
'use strict';
// The benchmark: one command, every runtime, every implementation.
//
//   node bench/run.cjs [--quick] [--runtimes node,bun-1.4.5,bun-1.3.14] [--impls native,go,baseline]
//                      [--runs N] [--out file.json] [--chart file.svg] [--shim-config '<json>']
//
// Each (runtime, implementation) pair runs in its own child process (bench/worker.cjs): a Go
// runtime can be loaded once per process, and the shim's Go core and the C baseline would
// otherwise share one libasherah. The baseline (plain C addon -> libasherah on the JS thread,
// what asherah-node does) runs only where that is safe: Node and Bun >= 1.4. On Bun 1.2/1.3
// a Go runtime entered on the JS thread can kill the event loop under GC pressure (see
// fixtures/README.md), so those rows have no baseline ratio.
//
// Output: a table on stdout, JSON in bench/results/latest.json, an SVG chart in
// bench/results/chart.svg (copy both to docs/ for a published run). Exits non-zero if any
// child fails or times out.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const env = require('../test-support/env.cjs');
const { renderChart } = require('./chart.cjs');

const ALL_SIZES = [64, 1024, 8192, 1 << 20];
const MODES = ['sync', 'async1', 'async64'];
const OPS = ['encrypt', 'decrypt'];

function parseArgs(argv) {
  const o = { quick: false, runtimes: null, impls: ['native', 'go', 'baseline'], runs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--runtimes') o.runtimes = val().split(',');
    else if (a === '--impls') o.impls = val().split(',');
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--chart') o.chart = path.resolve(val());
    else if (a === '--shim-config') o.shimConfig = JSON.parse(val());
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 18).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** The shim module: ASHERAH_SHIM_MODULE, else the release build (built if missing). */
function shimModule() {
  if (process.env.ASHERAH_SHIM_MODULE) return process.env.ASHERAH_SHIM_MODULE;
  const target = path.resolve(env.root, process.env.CARGO_TARGET_DIR || 'target');
  const so = path.join(target, 'release', 'libasherah_shim.so');
  if (!fs.existsSync(so)) {
    console.error(`building ${so} (cargo build --release)...`);
    execFileSync('cargo', ['build', '--release', '-p', 'asherah-shim'], {
      cwd: env.root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return so;
}

/** Runtimes to use: Node, Bun 1.4.5 and (full mode) Bun 1.3.14, when installed. */
function runtimes(opts) {
  const all = [{ name: 'node', bin: process.execPath, baseline: true }];
  for (const v of ['1.4.5', '1.3.14']) {
    let bin = '';
    try {
      bin = env.bun(v);
    } catch {}
    if (bin && fs.existsSync(bin)) {
      all.push({ name: `bun-${v}`, bin, baseline: !/^1\.[0-3]\./.test(v) });
    }
  }
  const wanted = opts.runtimes || (opts.quick ? ['node', 'bun-1.4.5'] : ['node', 'bun-1.4.5', 'bun-1.3.14']);
  const missing = wanted.filter((w) => !all.some((r) => r.name === w));
  if (missing.length) throw new Error(`runtime(s) not installed: ${missing.join(', ')} (run scripts/deps.sh)`);
  return all.filter((r) => wanted.includes(r.name));
}

function runChild(rt, spec, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(rt.bin, [path.join(__dirname, 'worker.cjs'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ASHERAH_SHIM_MODULE: spec.shimSo },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      // Progress lines only (libasherah's own log lines are noise here).
      for (const line of String(d).split('\n')) if (line.startsWith('  ')) process.stderr.write(line + '\n');
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) return resolve({ ok: true, rows: JSON.parse(line.slice(7)) });
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exit ${code} ${signal || ''}`.trim();
      resolve({ ok: false, error: `${rt.name} ${spec.impl}: ${why}\n${err.slice(-2000)}` });
    });
  });
}

function fmt(x, digits = 2) {
  if (x == null || !Number.isFinite(x)) return '-';
  if (x >= 1000) return x.toFixed(0);
  if (x >= 100) return x.toFixed(1);
  return x.toFixed(digits);
}

const sizeName = (s) => (s >= 1 << 20 ? `${s >> 20} MiB` : s >= 1024 ? `${s >> 10} KiB` : `${s} B`);

/** Adds ops/s, MB/s and the ratio to the baseline of the same runtime/op/size. */
function derive(rows) {
  const base = new Map();
  for (const r of rows) if (r.impl === 'baseline') base.set(`${r.runtime}|${r.op}|${r.size}`, r.usPerOp);
  for (const r of rows) {
    r.opsPerSec = 1e6 / r.usPerOp;
    r.mbPerSec = r.size / r.usPerOp; // bytes/µs = MB/s
    const b = base.get(`${r.runtime}|${r.op}|${r.size}`);
    r.ratioToBaseline = b ? r.usPerOp / b : null;
  }
  return rows;
}

function table(rows) {
  const head = ['runtime', 'impl', 'mode', 'op', 'size', 'µs/op', 'min..max', 'ops/s', 'MB/s', 'x baseline'];
  const body = rows.map((r) => [
    r.runtime,
    r.impl,
    r.mode,
    r.op,
    sizeName(r.size),
    fmt(r.usPerOp),
    `${fmt(r.min)}..${fmt(r.max)}`,
    fmt(r.opsPerSec, 0),
    r.size >= 1 << 20 ? fmt(r.mbPerSec, 0) : '',
    r.ratioToBaseline == null ? '' : r.ratioToBaseline.toFixed(3),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 5 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

/** Pairs of (direct, shim-Go) children the guard alternates per runtime. */
const GUARD_PAIRS = 5;

/**
 * The Go half of the regression guard: per runtime with a baseline, GUARD_PAIRS pairs of
 * children run back to back (the C baseline and the shim's Go core, which goes first
 * alternating), 64 B sync encrypt and decrypt, ~100 ms each after warm-up; each pair gives
 * a ratio, and the guard reports their median and range. A child that fails counts as a
 * failure of the run, like any other. One child per side, as the table's rows are, made this ratio swing
 * between 0.3x and 2.7x from run to run on a 2-vCPU VM (docs/performance.md, "Round six"):
 * the Go runtime's own thread wake-ups vary by more than the hand-off costs.
 */
async function pairedGoRatios(rts, common, timeoutMs, failures) {
  const out = {};
  const spec = (impl) => ({
    ...common,
    impl,
    sizes: [64],
    modes: ['sync'],
    ops: OPS,
    runs: 3,
    runMs: 35,
    warmupMs: 20,
  });
  for (const rt of rts.filter((r) => r.baseline)) {
    const ratios = { encrypt: [], decrypt: [] };
    for (let i = 0; i < GUARD_PAIRS; i++) {
      // Alternate which side goes first, so a drift within a pair does not favour one.
      const order = i % 2 ? ['go', 'baseline'] : ['baseline', 'go'];
      const res = {};
      for (const impl of order) res[impl] = await runChild(rt, spec(impl), timeoutMs);
      const failed = order.filter((impl) => !res[impl].ok);
      for (const impl of failed) failures.push(`guard pair ${i}: ${res[impl].error}`);
      if (failed.length) continue;
      for (const op of OPS) {
        const us = (impl) => (res[impl].rows.find((r) => r.op === op) || {}).usPerOp;
        const ratio = us('go') / us('baseline');
        if (Number.isFinite(ratio)) ratios[op].push(ratio);
        else failures.push(`guard pair ${i}: no ${op} figure on ${rt.name}`);
      }
    }
    out[rt.name] = ratios;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The regression guard (issue 15), per runtime: the shim-Go/direct ratio for 64 B sync
 * encrypt and decrypt (the median of [`pairedGoRatios`], with its range; where that runtime
 * has a baseline), and the native core's 64 B sync ns/op from this run's table.
 */
function guard(rows, paired) {
  const pick = (rt, impl, op) =>
    rows.find((r) => r.runtime === rt && r.impl === impl && r.op === op && r.mode === 'sync' && r.size === 64);
  const out = [];
  for (const rt of [...new Set(rows.map((r) => r.runtime))]) {
    const g = {};
    for (const op of OPS) {
      const pairs = paired[rt] ? paired[rt][op] : [];
      const nat = pick(rt, 'native', op);
      if (pairs.length) {
        g[`goOverDirect_${op}`] = +median(pairs).toFixed(3);
        g[`goOverDirectRange_${op}`] = [Math.min(...pairs), Math.max(...pairs)].map((x) => +x.toFixed(3));
        g.pairs = pairs.length;
      }
      if (nat) g[`nativeNs_${op}`] = Math.round(nat.usPerOp * 1000);
    }
    if (Object.keys(g).length) out.push({ runtime: rt, ...g });
  }
  return out;
}

/**
 * Adds to each runtime's guard entry what bench/floor.cjs measures in one process: the
 * shim's 64 B native decrypt, the N-API floor of such a call (fixtures/napi-floor: its
 * N-API work without cryptography) and their difference, medians of 3 alternated rounds.
 */
function floors(rts, shimSo, regression, failures) {
  for (const rt of rts) {
    try {
      const out = execFileSync(rt.bin, [path.join(__dirname, 'floor.cjs'), '--rounds', '3', '--calls', '50000', '--json'], {
        encoding: 'utf8',
        env: { ...process.env, ASHERAH_SHIM_MODULE: shimSo },
        timeout: 60e3,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const f = JSON.parse(out.trim().split('\n').pop());
      let g = regression.find((r) => r.runtime === rt.name);
      if (!g) regression.push((g = { runtime: rt.name }));
      g.floorNs_decrypt = f.floor;
      g.floorShimNs_decrypt = f.shim;
    } catch (e) {
      failures.push(`floor on ${rt.name}: ${e.stderr || e.message}`);
    }
  }
}

function guardText(g) {
  const lines = [
    '',
    'regression guard (64 B sync, this run; shim-go/direct: median [range] of paired children; see docs/performance.md "Issue 15"):',
  ];
  const range = (r) => (r ? ` [${r[0].toFixed(2)}..${r[1].toFixed(2)}]` : '');
  for (const r of g) {
    const parts = [];
    if (r.goOverDirect_encrypt != null || r.goOverDirect_decrypt != null) {
      parts.push(
        `shim-go/direct enc ${fmtRatio(r.goOverDirect_encrypt)}${range(r.goOverDirectRange_encrypt)}` +
          ` dec ${fmtRatio(r.goOverDirect_decrypt)}${range(r.goOverDirectRange_decrypt)} (${r.pairs} pairs)`,
      );
    }
    if (r.nativeNs_encrypt != null || r.nativeNs_decrypt != null) {
      parts.push(`native enc ${r.nativeNs_encrypt ?? '-'} ns/op dec ${r.nativeNs_decrypt ?? '-'} ns/op`);
    }
    if (r.floorNs_decrypt != null) {
      parts.push(`dec ${r.floorShimNs_decrypt} ns/op against the N-API floor's ${r.floorNs_decrypt} (one process)`);
    }
    lines.push(`  ${r.runtime.padEnd(10)}  ${parts.join('   ')}`);
  }
  return lines.join('\n');
}

const fmtRatio = (x) => (x == null ? '-' : `${x.toFixed(2)}x`);

function machine() {
  let cpu = os.cpus()[0] ? os.cpus()[0].model : 'unknown';
  return {
    cpu,
    cpus: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    date: new Date().toISOString(),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const shimSo = shimModule();
  const goLibrary = env.goLibrary;
  if (!goLibrary || !fs.existsSync(goLibrary)) {
    throw new Error('libasherah not found: run scripts/deps.sh or set ASHERAH_GO_LIBRARY');
  }
  const cAddon = require('../fixtures/build.cjs').build().cAddon;
  const base = opts.quick
    ? { sizes: [64, 1 << 20], runs: 3, runMs: 25, warmupMs: 10 }
    : { sizes: ALL_SIZES, runs: 7, runMs: 150, warmupMs: 60 };
  if (opts.runs) base.runs = opts.runs;
  const rts = runtimes(opts);
  const rows = [];
  const failures = [];
  const versions = {};
  for (const rt of rts) {
    versions[rt.name] = execFileSync(rt.bin, ['--version'], { encoding: 'utf8' }).trim();
    for (const impl of opts.impls) {
      if (impl === 'baseline' && !rt.baseline) {
        console.error(`skipping the baseline on ${rt.name}: Go on its JS thread can stop the event loop`);
        continue;
      }
      console.error(`${rt.name} / ${impl}`);
      const spec = {
        ...base,
        impl,
        modes: impl === 'baseline' ? ['sync'] : MODES,
        ops: OPS,
        module: path.join(env.root, 'index.js'),
        shimSo,
        goLibrary,
        cAddon,
        shimConfig: opts.shimConfig,
      };
      const res = await runChild(rt, spec, opts.quick ? 60e3 : 300e3);
      if (res.ok) rows.push(...res.rows.map((r) => ({ ...r, runtime: rt.name })));
      else failures.push(res.error);
    }
  }
  derive(rows);
  console.log(table(rows));
  const paired = opts.impls.includes('go') && opts.impls.includes('baseline')
    ? await pairedGoRatios(rts, { module: path.join(env.root, 'index.js'), shimSo, goLibrary, cAddon, shimConfig: opts.shimConfig }, 60e3, failures)
    : {};
  const regression = guard(rows, paired);
  if (opts.impls.includes('native')) floors(rts, shimSo, regression, failures);
  console.log(guardText(regression));
  const result = {
    command: `node bench/run.cjs ${process.argv.slice(2).join(' ')}`.trim(),
    quick: opts.quick,
    settings: base,
    machine: machine(),
    runtimes: versions,
    seconds: Math.round((Date.now() - t0) / 1000),
    failures,
    guard: regression,
    rows,
  };
  const out = opts.out || path.join(__dirname, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
  const chart = opts.chart || path.join(path.dirname(out), 'chart.svg');
  fs.writeFileSync(chart, renderChart(result));
  console.log(`\nwrote ${out} and ${chart} (${result.seconds} s)`);
  if (failures.length) {
    console.error(`\n${failures.length} benchmark child(ren) failed:\n${failures.join('\n\n')}`);
    process.exit(1);
  }
  if (!rows.length) {
    console.error('no results');
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
