// Shows that Bun's napi_create_arraybuffer can hand out a buffer holding old heap bytes,
// where Node's (a V8 ArrayBuffer, like `new ArrayBuffer(n)`) is zero-filled:
//
//   cc -shared -fPIC -I<node-api-headers>/include -o /tmp/ab.node patches/repro/napi-arraybuffer-uninitialized.c
//   bun patches/repro/napi-arraybuffer-uninitialized.js /tmp/ab.node
//   node --expose-gc patches/repro/napi-arraybuffer-uninitialized.js /tmp/ab.node
//
// For each size it fills and drops 8 MiB of typed arrays, collects garbage, then makes 100
// new buffers through N-API, up to 30 rounds, and prints the most non-zero bytes one held.
// Measured 2026-12-05: Bun 1.2.0 and 1.3.14 hand out old bytes (all 0xab) in every buffer
// of 1 KiB or more within the first two rounds; 16 and 64 B read zero. Bun 1.4.5 and Node 20
// read zero in all 3,000 tries per size. Bun's source asks JavaScriptCore for uninitialized
// memory (`ArrayBuffer::tryCreateUninitialized` in `napi_create_arraybuffer`, napi.cpp)
// from 1.1.0 to upstream main of 2026-05-26. Not part of either series.
const { fresh } = require(require('node:path').resolve(process.argv[2]));

const gc = typeof Bun !== 'undefined' ? () => Bun.gc(true) : globalThis.gc || (() => {});
const results = [];
for (const size of [16, 64, 1024, 4096, 65536, 1 << 20]) {
  let worst = 0;
  let tries = 0;
  for (let round = 0; round < 30 && worst === 0; round++) {
    let junk = [];
    for (let i = 0; i < Math.max(8, (8 << 20) / size); i++) junk.push(new Uint8Array(size).fill(0xab));
    junk = null;
    gc();
    for (let i = 0; i < 100; i++, tries++) worst = Math.max(worst, fresh(size));
  }
  results.push(`${size} B: ${worst} non-zero after ${tries}`);
}
const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
console.log(`${runtime}: ${results.join('; ')}`);
