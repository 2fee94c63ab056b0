'use strict';
// Reproduces stalled completions: async encrypt with 64 promises in flight, a progress line
// per 20,000 calls; "STALL at <n>" (exit 3) when no promise settles for 5 s.
//
//   ASHERAH_SHIM_MODULE=<so> bun-1.3.14 bench/tsfn-stall.cjs [calls=1000000]
//
// With the ring-once shim of 8880ec2 (ring only when no ring is pending), Bun 1.2.19 and
// 1.3.14 stall within 1M calls (first measured 5 runs out of 5; in issue 16, on a busier
// box: 1.3.14 2 of 4, 1.2.19 0 of 2), Bun 1.4.5 and Node 20 never. In a stalled process
// every core-host thread is idle, the watchdog heap is empty (all calls completed) and the
// JS thread sits in epoll_wait: a completion was queued and never drained. The cause
// (issue 16): Bun's dispatch loop strands a thread-safe-function call made while the JS
// thread ends a dispatch round until a later call arrives (fixtures/tsfn-relay shows it
// without the shim, docs/upstream.md), and with ring-once no later ring came. Ringing on
// every push and the watchdog's re-ring (src/host/completion.rs) make every call settle.
const path = require('node:path');
const a = require(path.join(__dirname, '..', 'index.js'));

a.setup({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static', Core: 'native', EnableSessionCaching: true });
// Larger than the shim's inline limit for async calls (8 KiB), so every call really goes
// through a core-host thread and the completion doorbell. argv[3] overrides the size.
const data = Buffer.alloc(Number(process.argv[3] || 9000), 1);
const total = Number(process.argv[2] || 1e6);
let done = 0;
let last = Date.now();
// A ref'd interval keeps the loop alive even if the shim lets go of it, so a stall shows
// up as a stall and not as an early exit.
setInterval(() => {
  if (Date.now() - last > 5000) {
    console.log(`STALL at ${done}`);
    process.exit(3);
  }
}, 1000);
(async () => {
  let left = total;
  const lane = async () => {
    while (left-- > 0) {
      await a.encrypt_async('p1', data);
      last = Date.now();
      if (++done % 20000 === 0) console.log(done);
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  console.log('OK', done);
  a.shutdown();
  process.exit(0);
})();
