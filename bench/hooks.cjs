'use strict';
// What the asherah 4.x hooks cost a call (issue 13): sync encrypt_string of 64 B on the
// memory metastore, native and Go cores, with no hook, a metrics hook, a log hook (one
// parameter: event objects), and both. Calls run in chunks of 1,000 with a turn of the event
// loop between chunks, so the hooks' deliveries are inside the timing. Prints the median and
// minimum µs/op of 5 runs per mode (modes interleaved), and how many metrics events arrived.
//   node bench/hooks.cjs            (also under Bun: <bun> bench/hooks.cjs)
const path = require('node:path');
const env = require('../test-support/env.cjs');
const a = require(path.resolve(__dirname, '..'));

const data = 'x'.repeat(64);
let metricsEvents = 0;
let logEvents = 0;
const modes = {
  'no hook': () => { a.setMetricsHook(null); a.setLogHook(null); },
  'metrics hook': () => { a.setMetricsHook(() => { metricsEvents++; }); a.setLogHook(null); },
  'log hook': () => { a.setMetricsHook(null); a.setLogHook((event) => { logEvents += event ? 1 : 0; }); },
  'both hooks': () => { a.setMetricsHook(() => { metricsEvents++; }); a.setLogHook((event) => { logEvents += event ? 1 : 0; }); },
};

async function time(n) {
  const turn = () => new Promise((r) => setImmediate(r));
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < n; done += 1000) {
    for (let i = 0; i < 1000; i++) a.encrypt_string('partition-1', data);
    await turn();
  }
  await turn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

async function main() {
  const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
  for (const core of ['native', 'go']) {
    a.setup({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static', Core: core, GoLibrary: env.goLibrary });
    const n = core === 'native' ? 100_000 : 20_000;
    await time(n / 10); // warm-up
    const runs = {};
    metricsEvents = 0;
    for (let k = 0; k < 5; k++) {
      for (const [mode, set] of Object.entries(modes)) {
        set();
        (runs[mode] ||= []).push(await time(n));
      }
    }
    a.setMetricsHook(null);
    a.setLogHook(null);
    a.shutdown();
    for (const [mode, v] of Object.entries(runs)) {
      v.sort((x, y) => x - y);
      console.log(`${runtime.padEnd(14)} ${core.padEnd(7)} ${mode.padEnd(13)} median ${v[2].toFixed(3)} µs/op   min ${v[0].toFixed(3)}`);
    }
    console.log(`${runtime.padEnd(14)} ${core.padEnd(7)} metrics events delivered: ${metricsEvents} (expected ${10 * n} encrypt events${core === 'native' ? ' plus cache events' : ''})`);
  }
}

main();
