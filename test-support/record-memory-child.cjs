'use strict';
// Child of large-results.cjs: one decrypt of a large record *string* in a fresh process,
// printing how far RSS rose during it (its high-water mark over the RSS before it) and how
// much it kept afterwards, in MiB, with the record's and plaintext's sizes. A fresh process
// so that the high-water mark (`maxRSS`) belongs to this call and nothing else.
//   <runtime> record-memory-child.cjs sync|async <plaintext MiB>
const assert = require('node:assert/strict');
const env = require('./env.cjs');

const asherah = require(env.root);
const [mode, mib] = [process.argv[2], Number(process.argv[3])];
const MiB = 2 ** 20;

async function main() {
  asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
  const plain = Buffer.alloc(mib * MiB, 0x5a);
  const record = asherah.encrypt('p', plain);
  assert.equal(typeof record, 'string');
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const rss0 = process.memoryUsage().rss;
  const out = mode === 'async' ? await asherah.decrypt_async('p', record) : asherah.decrypt('p', record);
  // resourceUsage().maxRSS is in KiB on both runtimes.
  const peak = process.resourceUsage().maxRSS * 1024;
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
