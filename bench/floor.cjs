'use strict';
// How far the shim's small native decrypt is from the floor a JS runtime allows.
//
//   node bench/floor.cjs [--rounds 7] [--calls 300000] [--size 64] [--json]
//   bun  bench/floor.cjs ...
//
// In one process, in alternated rounds (each after its own warm-up), it times:
//   shim     the public `decrypt(partition, record)`: native core, memory metastore;
//   floor    fixtures/napi-floor: a plain C N-API function that does a decrypt's N-API work
//            and no cryptography (both strings read, 64 bytes returned the way the shim
//            returns them on this runtime: through a scratch array and index.js's copy on
//            Node, as a new Buffer elsewhere);
//   node-gcm the runtime's own `node:crypto` AES-256-GCM decrypt of the same plaintext size
//            (one GCM open, where an Asherah decrypt does two).
// It prints ns/op (min / median / max over the rounds) and `shim - floor`, the time the
// core and the shim's own code take; with --json, one JSON line of the medians instead
// (bench/run.cjs's regression guard runs it so). The core alone, without a JS runtime:
//   cargo run --release -p asherah-native --example core_loop -- decrypt 64 300000
const crypto = require('node:crypto');
const path = require('node:path');

const fx = require('../fixtures/build.cjs');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const rounds = opt('rounds', 7);
const calls = opt('calls', 300000);
const size = opt('size', 64);
const json = args.includes('--json');

const asherah = require(path.join(__dirname, '..', 'index.js'));
asherah.setup({ ServiceName: 'bench-service', ProductID: 'bench-product', Metastore: 'memory', KMS: 'static' });
const P = 'bench-partition';
const plain = crypto.randomBytes(size);
const record = asherah.encrypt(P, plain);
if (!asherah.decrypt(P, record).equals(plain)) throw new Error('shim round trip failed');

const mod = { exports: {} };
process.dlopen(mod, fx.build().napiFloor);
const floor = mod.exports;
const isNode = !process.versions.bun && typeof Deno === 'undefined';
const scratch = floor.scratch;
// index.js's copy-out on Node (takeScratch: the allocator taken once, a view kept per
// length), without its re-entrancy flag and stack-exhaustion wipe.
const allocUnsafeSlow = Buffer.allocUnsafeSlow;
const views = [];
const floorCall = isNode
  ? () => {
      const n = floor.call(P, record);
      const out = allocUnsafeSlow(n);
      out.set((views[n] ??= new Uint8Array(scratch.buffer, scratch.byteOffset, n)));
      scratch.fill(0, 0, n);
      return out;
    }
  : () => floor.callBuffer(P, record);
if (floorCall().length !== 64) throw new Error('floor returned the wrong length');

const key = crypto.randomBytes(32);
const iv = crypto.randomBytes(12);
const c = crypto.createCipheriv('aes-256-gcm', key, iv);
const sealed = Buffer.concat([c.update(plain), c.final()]);
const tag = c.getAuthTag();
const nodeGcm = () => {
  const d = crypto.createDecipheriv('aes-256-gcm', key, iv);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(sealed), d.final()]);
};
if (!nodeGcm().equals(plain)) throw new Error('node:crypto round trip failed');

const cases = { shim: () => asherah.decrypt(P, record), floor: floorCall, 'node-gcm': nodeGcm };
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
let sink = 0;
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(cases)) {
    for (let i = 0; i < Math.min(20000, calls); i++) sink += f().length;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink += f().length;
    times[name].push(Number(process.hrtime.bigint() - t0) / calls);
  }
}
asherah.shutdown();
if (sink === 0) throw new Error('nothing ran');

const runtime = process.versions.bun ? `bun-${process.versions.bun}` : `node-${process.versions.node}`;
const stat = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return { min: s[0], med: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const diff = stat(times.shim.map((t, i) => t - times.floor[i]));
if (json) {
  const med = (k) => Math.round(stat(times[k]).med);
  const out = { runtime, size, rounds, calls, shim: med('shim'), floor: med('floor'), nodeGcm: med('node-gcm') };
  console.log(JSON.stringify({ ...out, shimMinusFloor: Math.round(diff.med) }));
  process.exit(0);
}
const fmt = (n) => n.toFixed(0).padStart(5);
console.log(`${runtime}: ${size} B decrypt, ${rounds} alternated rounds of ${calls} calls, ns/op min / median / max`);
for (const [name, v] of Object.entries(times)) {
  const s = stat(v);
  console.log(`  ${name.padEnd(9)} ${fmt(s.min)} ${fmt(s.med)} ${fmt(s.max)}`);
}
console.log(`  shim-floor ${fmt(diff.min)} ${fmt(diff.med)} ${fmt(diff.max)}  (same round)`);
