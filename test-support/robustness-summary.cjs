'use strict';
// Summarises the failures the robustness suites wrote with ASHERAH_ROBUSTNESS_REPORT=<prefix>
// (one JSON line per failure, per runtime): `node test-support/robustness-summary.cjs <prefix>`.
// Prints each failing row or property once, with the runtimes it failed on and what was seen.
const fs = require('node:fs');

const prefix = process.argv[2];
if (!prefix) { console.error('usage: robustness-summary.cjs <prefix>'); process.exit(2); }

for (const kind of ['properties', 'bad-inputs']) {
  const file = `${prefix}.${kind}.jsonl`;
  if (!fs.existsSync(file)) { console.log(`## ${kind}: no failures recorded (${file} absent)`); continue; }
  const byId = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { runtime, id, problems } = JSON.parse(line);
    if (!byId.has(id)) byId.set(id, new Map());
    byId.get(id).set(runtime, problems.join(' | ').replace(/\s+/g, ' '));
  }
  console.log(`## ${kind}: ${byId.size} failing`);
  for (const [id, seen] of byId) {
    const texts = new Set(seen.values());
    const runtimes = [...seen.keys()].join(', ');
    if (texts.size === 1) {
      console.log(`- ${id}  [${runtimes}]\n    ${[...texts][0].slice(0, 700)}`);
    } else {
      console.log(`- ${id}`);
      for (const [rt, t] of seen) console.log(`    [${rt}] ${t.slice(0, 500)}`);
    }
  }
}
