'use strict';
// Renders a benchmark result (the JSON written by bench/run.cjs) as a self-contained SVG:
// left panel, 64 B latency in µs/op on a log scale (lower is better); right panel, 1 MiB
// throughput in MB/s (higher is better). One row per runtime x implementation x mode, an
// encrypt and a decrypt bar in each.
//
//   node bench/chart.cjs results.json out.svg     (run.cjs calls renderChart directly)

const fs = require('node:fs');

const ROW_ORDER = [
  ['baseline', 'sync'],
  ['go', 'sync'],
  ['go', 'async1'],
  ['go', 'async64'],
  ['native', 'sync'],
  ['native', 'async1'],
  ['native', 'async64'],
  // Rows merged in from a run of a proposed change (see docs/performance.md).
  ['native-proposed', 'sync'],
  ['native-proposed', 'async1'],
  ['native-proposed', 'async64'],
];
const COLORS = { encrypt: '#2b6cb0', decrypt: '#dd6b20' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const num = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function renderChart(result) {
  const rows = result.rows;
  const runtimes = [...new Set(rows.map((r) => r.runtime))];
  const find = (rt, impl, mode, op, size) =>
    rows.find((r) => r.runtime === rt && r.impl === impl && r.mode === mode && r.op === op && r.size === size);
  const small = Math.min(...rows.map((r) => r.size));
  const big = Math.max(...rows.map((r) => r.size));

  // Layout.
  const labelW = 190;
  const panelW = 330;
  const gap = 40;
  const barH = 7;
  const rowH = 2 * barH + 6;
  const top = 70;
  const lines = [];
  for (const rt of runtimes) {
    lines.push({ header: rt });
    for (const [impl, mode] of ROW_ORDER) {
      if (find(rt, impl, mode, 'encrypt', small) || find(rt, impl, mode, 'encrypt', big)) {
        lines.push({ rt, impl, mode });
      }
    }
  }
  const height = top + lines.reduce((h, l) => h + (l.header ? 22 : rowH), 0) + 50;
  const width = labelW + 2 * panelW + gap + 90;

  // Scales: log10 µs for the left panel, linear MB/s for the right.
  const lat = rows.filter((r) => r.size === small).map((r) => r.usPerOp);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...lat))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...lat))));
  const xLat = (v) => labelW + (panelW * Math.log10(v / lo)) / Math.log10(hi / lo);
  const thr = rows.filter((r) => r.size === big).map((r) => r.mbPerSec || r.size / r.usPerOp);
  const thrMax = Math.max(1, ...thr) * 1.1;
  const x0Thr = labelW + panelW + gap;
  const xThr = (v) => x0Thr + (panelW * v) / thrMax;

  const svg = [];
  svg.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">asherah-shim benchmark${result.quick ? ' (quick run)' : ''}</text>`,
    `<text x="10" y="37" fill="#555">${esc(result.machine.cpu)}, ${result.machine.cpus} CPUs, ${esc(result.machine.kernel)}; ${esc(result.machine.date.slice(0, 16).replace('T', ' '))} UTC; median of ${result.settings.runs} runs</text>`,
    `<text x="${labelW}" y="${top - 12}" font-weight="bold">${small} B: µs/op (log scale, lower is better)</text>`,
    `<text x="${x0Thr}" y="${top - 12}" font-weight="bold">${big >= 1 << 20 ? big >> 20 : big} ${big >= 1 << 20 ? 'MiB' : 'B'}: MB/s (higher is better)</text>`,
  );
  // Grid.
  const bottom = height - 40;
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const x = xLat(v);
    svg.push(`<line x1="${x}" y1="${top - 5}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`);
    svg.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#555">${v >= 1 ? v : v.toPrecision(1)}</text>`);
  }
  const step = Math.pow(10, Math.floor(Math.log10(thrMax / 2)));
  for (let v = 0; v <= thrMax; v += step * (thrMax / step > 6 ? 2 : 1)) {
    const x = xThr(v);
    svg.push(`<line x1="${x}" y1="${top - 5}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`);
    svg.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#555">${v}</text>`);
  }

  let y = top;
  for (const l of lines) {
    if (l.header) {
      svg.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(l.rt || l.header)}</text>`);
      svg.push(`<line x1="10" y1="${y + 18}" x2="${width - 10}" y2="${y + 18}" stroke="#999"/>`);
      y += 22;
      continue;
    }
    const name = l.impl === 'baseline' ? 'C addon → Go (JS thread)' : `shim ${l.impl} ${l.mode === 'sync' ? 'sync' : `async c=${l.mode.slice(5)}`}`;
    svg.push(`<text x="${labelW - 8}" y="${y + barH + 4}" text-anchor="end">${esc(name)}</text>`);
    ['encrypt', 'decrypt'].forEach((op, i) => {
      const by = y + i * (barH + 1);
      const a = find(l.rt, l.impl, l.mode, op, small);
      if (a) {
        const w = Math.max(1, xLat(a.usPerOp) - labelW);
        svg.push(`<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[op]}"><title>${op} ${small} B: ${num(a.usPerOp)} µs/op (${num(a.min)}..${num(a.max)})</title></rect>`);
        svg.push(`<text x="${labelW + w + 3}" y="${by + barH}" font-size="9" fill="#333">${num(a.usPerOp)}</text>`);
      }
      const b = find(l.rt, l.impl, l.mode, op, big);
      if (b) {
        const v = b.size / b.usPerOp;
        const w = Math.max(1, xThr(v) - x0Thr);
        svg.push(`<rect x="${x0Thr}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[op]}"><title>${op} ${big} B: ${v.toFixed(0)} MB/s</title></rect>`);
        svg.push(`<text x="${x0Thr + w + 3}" y="${by + barH}" font-size="9" fill="#333">${v.toFixed(0)}</text>`);
      }
    });
    y += rowH;
  }
  // Legend.
  const ly = height - 12;
  svg.push(`<rect x="10" y="${ly - 9}" width="10" height="10" fill="${COLORS.encrypt}"/><text x="24" y="${ly}">encrypt</text>`);
  svg.push(`<rect x="80" y="${ly - 9}" width="10" height="10" fill="${COLORS.decrypt}"/><text x="94" y="${ly}">decrypt</text>`);
  svg.push(`<text x="160" y="${ly}" fill="#555">async rows: amortised µs/op with c promises in flight</text>`);
  svg.push('</svg>');
  return svg.join('\n') + '\n';
}

module.exports = { renderChart };

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node bench/chart.cjs <results.json> <out.svg>');
    process.exit(2);
  }
  fs.writeFileSync(output, renderChart(JSON.parse(fs.readFileSync(input, 'utf8'))));
}
