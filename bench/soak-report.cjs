#!/usr/bin/env node
'use strict';
// Markdown tables from bench/soak.cjs JSON files, for docs/performance.md.
//
//   node bench/soak-report.cjs bench/results/soak-*.json [--at 30000,150000,300000]
//   node bench/soak-report.cjs --knobs bench/results/soak-attr-*.json   # one line per run
//
// Prints: the main soak table; RSS by class of mapping (MiB) at the --at call counts (with
// --smaps runs); V8's new/old space (Node) at the same points; Go's GC summary (--gctrace).
const fs = require('node:fs');
const { CLASSES } = require('./soak-smaps.cjs');

const args = process.argv.slice(2);
let at = null;
let knobs = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--at') at = args[++i].split(',').map(Number);
  else if (args[i] === '--knobs') knobs = true;
  else files.push(args[i]);
}
const mib = (k) => (k == null ? '-' : (k / 1024).toFixed(1));
const slope = (x) => (x == null ? '-' : (x >= 0 ? '+' : '') + Math.round(x));
const docs = files.map((f) => ({ f, d: JSON.parse(fs.readFileSync(f, 'utf8')) }));
const envText = (d) =>
  Object.entries(d.settings.env || {})
    .map(([k, v]) => `${k}=${v}`)
    .concat(d.settings.coreThreads ? [`CoreThreads=${d.settings.coreThreads}`] : [])
    .concat(d.settings.nodeArgs && d.settings.nodeArgs.length ? [`node ${d.settings.nodeArgs.join(' ')}`] : [])
    .join(' ') || '-';

if (knobs) {
  // The attribution experiments: RSS and its main classes at the first sample after warm-up
  // and at the end, one line per run.
  console.log('| core | settings | calls | VmRSS after warm-up | VmRSS end | go-heap end | glibc heap + arenas end | V8 new space end | V8 old space end | anon-other end | threads |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { d } of docs) {
    for (const r of d.results) {
      const loop = r.samples.filter((x) => x.calls >= 0);
      const w = loop.find((x) => x.calls >= d.settings.warmup);
      const e = loop[loop.length - 1];
      const sp = e.jsSpacesKiB || {};
      console.log(
        `| ${r.core} | ${envText(d)} | ${r.calls / 1000}k | ${mib(w.rssKiB)} (${w.calls / 1000}k) | ${mib(e.rssKiB)} | ${mib(
          e.smaps['go-heap'],
        )} | ${mib(e.smaps['glibc-main-heap'] + e.smaps['glibc-arena'])} (${e.arenas} arenas) | ${mib(sp.new_space)} | ${mib(
          sp.old_space,
        )} | ${mib(e.smaps['anon-other'])} | ${e.threads} |`,
      );
    }
  }
  process.exit(0);
}

console.log('| runtime | core | settings | calls | ops/s | RSS start | after warm-up | end | max | slope after warm-up (KiB/100k calls) | slope last half |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { d } of docs) {
  for (const s of d.summary) {
    console.log(
      `| ${s.runtime} | ${s.core} | ${envText(d)} | ${s.calls} | ${Math.round(s.opsPerSec)} | ${mib(s.rssStartKiB)} | ${mib(
        s.rssWarmKiB,
      )} (${d.settings.warmup / 1000}k) | ${mib(s.rssEndKiB)} | ${mib(s.rssMaxKiB)} | ${slope(s.slopeAfterWarmup)} | ${slope(
        s.slopeLastHalf,
      )} |`,
    );
  }
}

for (const { d } of docs) {
  for (const r of d.results) {
    const loop = r.samples.filter((s) => s.calls >= 0);
    if (!loop[0].smaps) continue;
    const pick = (c) => loop.find((s) => s.calls >= c) || loop[loop.length - 1];
    const pts = (at || [0, d.settings.warmup, r.calls / 4, r.calls / 2, r.calls]).map(pick);
    console.log(`\n${r.runtime}, ${r.core} core, ${envText(d)}: RSS by mapping, MiB\n`);
    console.log(`| class | ${pts.map((p) => `${p.calls / 1000}k calls`).join(' | ')} |`);
    console.log(`|---|${pts.map(() => '---:').join('|')}|`);
    for (const c of CLASSES) {
      if (pts.every((p) => p.smaps[c] < 51)) continue; // under 0.05 MiB throughout
      console.log(`| ${c} | ${pts.map((p) => mib(p.smaps[c])).join(' | ')} |`);
    }
    if (r.runtime.startsWith('node') && pts[0].jsSpacesKiB && pts[0].jsSpacesKiB.new_space != null) {
      for (const sp of ['new_space', 'old_space', 'large_object_space']) {
        console.log(`| (V8 ${sp}) | ${pts.map((p) => mib(p.jsSpacesKiB[sp])).join(' | ')} |`);
      }
    } else {
      console.log(`| (JS heap total) | ${pts.map((p) => mib(p.jsHeapKiB)).join(' | ')} |`);
    }
    console.log(`| (JS external) | ${pts.map((p) => mib(p.externalKiB)).join(' | ')} |`);
    console.log(`| **VmRSS** | ${pts.map((p) => `**${mib(p.rssKiB)}**`).join(' | ')} |`);
    console.log(`| (threads) | ${pts.map((p) => p.threads).join(' | ')} |`);
    if (r.gctrace) {
      console.log(
        `\nGo GC (gctrace): ${r.gctrace.count} cycles, heap goal at most ${r.gctrace.maxGoalMB} MB, live at most ${r.gctrace.maxLiveMB} MB`,
      );
    }
  }
}
