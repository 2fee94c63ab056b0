'use strict';
// Child of large-results.cjs: one decrypt of a large record *string* in a fresh process,
// printing how far RSS rose during it (its high-water mark, VmHWM, over the RSS before it) and how
// much it kept afterwards, in MiB, with the record's and plaintext's sizes. A fresh process
// so that the high-water mark belongs to this call and nothing else.
//   <runtime> record-memory-child.cjs sync|async <plaintext MiB>
const assert = require('node:assert/strict');
const fs = require('node:fs');
const env = require('./env.cjs');

const asherah = require(env.root);
const [mode, mib] = [process.argv[2], Number(process.argv[3])];
const MiB = 2 ** 20;

// The process's peak RSS in bytes, from Linux's VmHWM (process.resourceUsage is missing in
// Bun 1.2.0).
function highWaterMark() {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  assert.ok(m, 'no VmHWM in /proc/self/status');
  return Number(m[1]) * 1024;
}

async function main() {
  asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
  const plain = Buffer.alloc(mib * MiB, 0x5a);
  const record = asherah.encrypt('p', plain);
  assert.equal(typeof record, 'string');
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const rss0 = process.memoryUsage().rss;
  const out = mode === 'async' ? await asherah.decrypt_async('p', record) : asherah.decrypt('p', record);
  const peak = highWaterMark();
  const kept = process.memoryUsage().rss;
  assert.ok(Buffer.from(out.buffer, out.byteOffset, out.length).equals(plain), 'the plaintext changed');
  asherah.shutdown();
  console.log(JSON.stringify({
    recordMiB: record.length / MiB,
    plainMiB: plain.length / MiB,
    peakRiseMiB: (peak - rss0) / MiB,
    keptMiB: (kept - rss0) / MiB,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
