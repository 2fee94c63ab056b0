#!/usr/bin/env node
'use strict';
// CoreAffinity A/B: the Go core through the shim under each setting, against the direct call
// (C addon -> libasherah on the JS thread), alternated within one session.
//
//   node bench/affinity.cjs [--rounds N] [--runtimes node,bun-1.4.5] [--busy N] [--taskset CPUS]
//                           [--settings none,follow-caller] [--gomaxprocs default,1]
//                           [--spins default,0,100] [--out file.json]
//
// Each round runs, per runtime, one child per configuration in turn (baseline, then each
// CoreAffinity setting), so slow drifts of a shared machine hit every configuration alike.
// Each child measures 64 B encrypt and decrypt, sync (the baseline) and also async at
// concurrency 1 and 64 (the shim), and reports medians of its runs (bench/worker.cjs).
// --busy N starts N busy-looping processes for the whole session (a loaded machine);
// --taskset CPUS runs every child under `taskset -c CPUS`. The load average (`os.loadavg`)
// is recorded before each child. Prints the median over rounds per cell, and the ratio to
// the baseline's median. --gomaxprocs runs every configuration once per listed value of the
// GOMAXPROCS environment variable (`default` leaves it unset); the ratio is always to the
// direct call with the default, the reference the issue's target names. --spins runs every
// CoreAffinity setting once per listed CoreIdleSpinMicros (`default` leaves it unset).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const env = require('../test-support/env.cjs');

function parseArgs(argv) {
  const o = { rounds: 5, runtimes: ['node', 'bun-1.4.5'], busy: 0, taskset: null, settings: ['none', 'follow-caller'], gomaxprocs: ['default'], spins: ['default'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--runtimes') o.runtimes = val().split(',');
    else if (a === '--busy') o.busy = Number(val());
    else if (a === '--taskset') o.taskset = val();
    else if (a === '--settings') o.settings = val().split(',');
    else if (a === '--gomaxprocs') o.gomaxprocs = val().split(',');
    else if (a === '--spins') o.spins = val().split(',');
    else if (a === '--out') o.out = path.resolve(val());
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

function bin(rt) {
  if (rt === 'node') return process.execPath;
  return env.bun(rt.replace(/^bun-/, ''));
}

function child(rt, spec, taskset, gomaxprocs) {
  return new Promise((resolve, reject) => {
    const args = [path.join(__dirname, 'worker.cjs'), JSON.stringify(spec)];
    const [cmd, argv] = taskset ? ['taskset', ['-c', taskset, bin(rt), ...args]] : [bin(rt), args];
    const childEnv = { ...process.env, ASHERAH_SHIM_MODULE: spec.shimSo };
    delete childEnv.GOMAXPROCS;
    if (gomaxprocs !== 'default') childEnv.GOMAXPROCS = gomaxprocs;
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 180e3);
    c.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)));
      else reject(new Error(`${rt} ${spec.impl}: exit ${code}\n${err.slice(-1500)}`));
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const target = path.resolve(env.root, process.env.CARGO_TARGET_DIR || 'target');
  const shimSo = process.env.ASHERAH_SHIM_MODULE || path.join(target, 'release', 'libasherah_shim.so');
  const cAddon = require('../fixtures/build.cjs').build().cAddon;
  const busy = [];
  for (let i = 0; i < o.busy; i++) {
    busy.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  }
  const stopBusy = () => busy.forEach((b) => b.kill('SIGKILL'));
  process.on('exit', stopBusy);
  const base = {
    sizes: [64],
    ops: ['encrypt', 'decrypt'],
    runs: 5,
    runMs: 100,
    warmupMs: 50,
    module: path.join(env.root, 'index.js'),
    shimSo,
    goLibrary: env.goLibrary,
    cAddon,
  };
  const configs = o.gomaxprocs.flatMap((g) => {
    const tag = g === 'default' ? '' : ` GOMAXPROCS=${g}`;
    return [
      { name: `direct${tag}`, gomaxprocs: g, spec: { impl: 'baseline', modes: ['sync'] } },
      ...o.settings.flatMap((s) => o.spins.map((spin) => ({
        name: `go ${s}${spin === 'default' ? '' : ` spin=${spin}`}${tag}`,
        gomaxprocs: g,
        spec: {
          impl: 'go',
          modes: ['sync', 'async1', 'async64'],
          shimConfig: { CoreAffinity: s, ...(spin === 'default' ? {} : { CoreIdleSpinMicros: Number(spin) }) },
        },
      }))),
    ];
  });
  const cells = new Map(); // `${rt}|${config}|${mode}|${op}` -> [usPerOp]
  const loads = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const rt of o.runtimes) {
      for (const cfg of configs) {
        loads.push(os.loadavg()[0]);
        const rows = await child(rt, { ...base, ...cfg.spec }, o.taskset, cfg.gomaxprocs);
        for (const r of rows) {
          const k = `${rt}|${cfg.name}|${r.mode}|${r.op}`;
          if (!cells.has(k)) cells.set(k, []);
          cells.get(k).push(r.usPerOp);
        }
        process.stderr.write(`round ${round + 1}/${o.rounds} ${rt} ${cfg.name} done (load ${os.loadavg()[0].toFixed(2)})\n`);
      }
    }
  }
  stopBusy();
  const out = [];
  for (const [k, xs] of cells) {
    const [rt, config, mode, op] = k.split('|');
    const b = cells.get(`${rt}|direct|sync|${op}`);
    const m = median(xs);
    out.push({ rt, config, mode, op, median: m, min: Math.min(...xs), max: Math.max(...xs), ratio: b ? m / median(b) : null });
  }
  console.log(`rounds ${o.rounds}, busy loops ${o.busy}, taskset ${o.taskset || '-'}, GOMAXPROCS ${o.gomaxprocs.join('/')}, CoreIdleSpinMicros ${o.spins.join('/')}, load average during the session ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)}`);
  console.log('| runtime | configuration | mode | op | median µs/op [min..max over rounds] | x direct sync |');
  console.log('|---|---|---|---|---:|---:|');
  for (const r of out) {
    console.log(`| ${r.rt} | ${r.config} | ${r.mode} | ${r.op} | ${r.median.toFixed(2)} [${r.min.toFixed(2)}..${r.max.toFixed(2)}] | ${r.ratio == null ? '-' : r.ratio.toFixed(2) + 'x'} |`);
  }
  if (o.out) fs.writeFileSync(o.out, JSON.stringify({ options: o, loads, cells: out }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
