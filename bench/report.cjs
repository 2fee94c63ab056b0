'use strict';
// Markdown tables from a bench/run.cjs result, for docs/performance.md:
//
//   node bench/report.cjs bench/results/latest.json [--targets]
//
// One table per operation: a row per runtime x implementation x mode, a column per payload
// size with "median µs/op (x baseline)"; the 1 MiB column also gives MB/s. --targets adds the
// issue-7 target checks.

const fs = require('node:fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/report.cjs <results.json> [--targets]');
  process.exit(2);
}
const result = JSON.parse(fs.readFileSync(file, 'utf8'));
const rows = result.rows;
const sizes = [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b);
const sizeName = (s) => (s >= 1 << 20 ? `${s >> 20} MiB` : s >= 1024 ? `${s >> 10} KiB` : `${s} B`);
const f = (x) => (x >= 1000 ? x.toFixed(0) : x >= 100 ? x.toFixed(1) : x.toFixed(2));
const implName = { baseline: 'C addon → Go, JS thread', go: 'shim, go core', native: 'shim, native core' };
const order = ['baseline', 'go', 'native'];
const modes = ['sync', 'async1', 'async64'];
const modeName = { sync: 'sync', async1: 'async c=1', async64: 'async c=64' };

const out = [];
for (const op of ['encrypt', 'decrypt']) {
  out.push(`**${op}** — median µs/op [min..max of ${result.settings.runs} runs] (ratio to the baseline of the same runtime)\n`);
  out.push(`| runtime | implementation | mode | ${sizes.map(sizeName).join(' | ')} |`);
  out.push(`|---|---|---|${sizes.map(() => '---:').join('|')}|`);
  const runtimes = [...new Set(rows.map((r) => r.runtime))];
  for (const rt of runtimes) {
    for (const impl of order) {
      for (const mode of modes) {
        const cells = sizes.map((s) => rows.find((r) => r.runtime === rt && r.impl === impl && r.mode === mode && r.op === op && r.size === s));
        if (!cells.some(Boolean)) continue;
        const txt = cells.map((r) => {
          if (!r) return '';
          let t = `${f(r.usPerOp)} [${f(r.min)}..${f(r.max)}]`;
          if (r.size >= 1 << 20) t += ` ${(r.size / r.usPerOp).toFixed(0)} MB/s`;
          if (r.ratioToBaseline != null && impl !== 'baseline') t += ` (${r.ratioToBaseline.toFixed(2)}x)`;
          return t;
        });
        out.push(`| ${rt} | ${implName[impl]} | ${modeName[mode]} | ${txt.join(' | ')} |`);
      }
    }
  }
  out.push('');
}

if (process.argv.includes('--targets')) {
  const get = (rt, impl, mode, op, size) => rows.find((r) => r.runtime === rt && r.impl === impl && r.mode === mode && r.op === op && r.size === size);
  const check = (label, value, ok, shown) => out.push(`| ${label} | ${shown} | ${value == null ? 'not measured' : ok ? 'met' : 'NOT met'} |`);
  out.push('| target (issue 7) | measured | status |', '|---|---|---|');
  for (const op of ['encrypt', 'decrypt']) {
    const r = get('node', 'native', 'sync', op, 64);
    check(`native sync 64 B ${op} from Node <= 1.5 µs (stretch 1.0)`, r, r && r.usPerOp <= 1.5, r ? `${f(r.usPerOp)} µs` : '-');
  }
  for (const rt of [...new Set(rows.map((r) => r.runtime))]) {
    for (const op of ['encrypt', 'decrypt']) {
      const r = get(rt, 'native', 'async64', op, 64);
      if (r) check(`${rt}: native async c=64 64 B ${op} <= 4 µs amortised`, r, r.usPerOp <= 4, `${f(r.usPerOp)} µs`);
    }
    const big = get(rt, 'native', 'sync', 'encrypt', 1 << 20);
    if (big) check(`${rt}: native 1 MiB sync encrypt >= 1 GB/s`, big, big.size / big.usPerOp >= 1000, `${(big.size / big.usPerOp).toFixed(0)} MB/s`);
    const ratios = rows.filter((r) => r.runtime === rt && r.impl === 'go' && r.mode === 'sync' && r.ratioToBaseline != null);
    if (ratios.length) {
      const worst = ratios.reduce((a, b) => (a.ratioToBaseline > b.ratioToBaseline ? a : b));
      const within = ratios.filter((r) => r.ratioToBaseline <= 1.2).length;
      check(`${rt}: go core sync within 1.2x of the baseline`, worst, within === ratios.length,
        `${within}/${ratios.length} cells within; worst ${worst.ratioToBaseline.toFixed(2)}x (${worst.op} ${sizeName(worst.size)})`);
    }
  }
  out.push('');
}
console.log(out.join('\n'));
