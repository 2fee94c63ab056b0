'use strict';
// A small same-process timing of the string paths (issue 10: exact string reads), for
// comparing two builds: run it once per build, alternating, with ASHERAH_SHIM_MODULE set.
//   ASHERAH_SHIM_MODULE=<build>/libasherah_shim.so node bench/strings.cjs
// Prints the median and minimum µs/op of 5 runs of 200k calls (after 20k warm-up) for
// encrypt_string, encrypt (Buffer) and decrypt_string: native core, memory metastore, 64 B.
const path = require('node:path');
const a = require(path.resolve(__dirname, '..'));

a.setup({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static' });
const data = 'x'.repeat(64);
const buf = Buffer.alloc(64, 1);
const rec = a.encrypt_string('partition-1', data);

function time(f, n = 200_000) {
  for (let i = 0; i < 20_000; i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

const calls = {
  encrypt_string: () => a.encrypt_string('partition-1', data),
  encrypt: () => a.encrypt('partition-1', buf),
  decrypt_string: () => a.decrypt_string('partition-1', rec),
};
const runs = {};
for (let k = 0; k < 5; k++) {
  for (const [name, f] of Object.entries(calls)) (runs[name] ||= []).push(time(f));
}
for (const [name, v] of Object.entries(runs)) {
  v.sort((x, y) => x - y);
  console.log(`${name.padEnd(16)} median ${v[2].toFixed(3)} µs/op   min ${v[0].toFixed(3)}`);
}
a.shutdown();
