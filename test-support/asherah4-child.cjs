'use strict';
// Child processes for test-support/asherah4.cjs (they end the process on purpose, or change
// where fd 2 goes). argv: <mode> <libasherah path>.
//   flush      a log hook, then a sync setup that throws uncaught: the hook must have run
//   golog      the Go core without a log hook: libasherah's lines stay on stderr
//   golog-hook the Go core with a log hook: its lines reach the hook, not stderr, and the
//              user's own stderr lines keep their order, up to a process.exit()
//   metrics-worker  rounds of: a Worker sets the metrics hook, encrypts (which queues a
//              delivery of its events on the Worker's JS thread) and exits at once; then
//              this thread sets its own hook and encrypts. Prints each round's event count
//              as ROUND <i> <n>; a hook that never gets an event is the failure
//   metrics-handover  a Worker sets the hook and queues a delivery, then blocks its JS
//              thread while this thread takes the hook over and encrypts 5 times. Prints
//              WORKER <events its hook got> MAIN <encrypt events this thread's hook got
//              while the Worker was blocked> <and in all>
const fs = require('node:fs');
const { Worker, isMainThread, workerData } = require('node:worker_threads');

const asherah = require('..');

// Synchronous writes: Bun writes process.stdout to a pipe asynchronously, and this process
// may die right after (that would lose the proof that the hook ran, not the event).
const out = (line) => fs.writeSync(1, `${line}\n`);

const [mode, goLibrary] = process.argv.slice(2);
const base = { ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static', Core: 'go' };

if (!isMainThread && workerData.mode === 'handover') {
  // Sets the hook, queues a delivery, and keeps its JS thread busy while the main thread
  // takes the hook over and records events; then reports what its own hook got.
  const { parentPort } = require('node:worker_threads');
  let got = 0;
  asherah.setMetricsHook(() => { got++; });
  asherah.encrypt_string('w', 'x');
  parentPort.postMessage('hooked');
  // Blocked (the queued delivery waits) until the main thread has taken the hook over and
  // seen its own events, however slow the machine.
  Atomics.wait(new Int32Array(workerData.gate), 0, 0, 30_000);
  setTimeout(() => parentPort.postMessage({ got }), 300);
} else if (!isMainThread) {
  // The Worker: its hook owns the process's metrics; its exit drops what it had queued.
  asherah.setMetricsHook(() => {});
  asherah.encrypt_string('w', 'x');
  if (workerData.round % 2 === 0) process.exit(0); // before its delivery can run
  // Hosted calls (64 KiB is over the inline limit) record from core-host threads, racing
  // the exit.
  for (let i = 0; i < 20; i++) asherah.encrypt_async('w', Buffer.alloc(64 << 10, 1)).catch(() => {});
  setTimeout(() => process.exit(0), workerData.round % 3);
} else if (mode === 'metrics-worker') {
  asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
  const rounds = 6;
  const round = (i) => {
    const w = new Worker(__filename, { argv: [mode], workerData: { round: i } });
    w.on('error', (e) => out(`WORKER-ERROR ${e && e.message}`));
    w.on('exit', () => {
      let got = 0;
      asherah.setMetricsHook(() => { got++; });
      asherah.encrypt_string('m', 'x');
      const start = Date.now();
      const wait = () => {
        if (got > 0 || Date.now() - start > 3000) {
          asherah.setMetricsHook(null);
          out(`ROUND ${i} ${got}`);
          if (i + 1 < rounds) round(i + 1);
          else { asherah.shutdown(); out('DONE'); }
        } else {
          setTimeout(wait, 20);
        }
      };
      wait();
    });
  };
  round(0);
} else if (mode === 'metrics-handover') {
  asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
  const gate = new SharedArrayBuffer(4);
  const w = new Worker(__filename, { argv: [mode], workerData: { mode: 'handover', gate } });
  let mine = 0;
  let whileBlocked = -1;
  const release = () => { Atomics.store(new Int32Array(gate), 0, 1); Atomics.notify(new Int32Array(gate), 0); };
  w.on('message', (m) => {
    if (m === 'hooked') {
      asherah.setMetricsHook((e) => { if (e.type === 'encrypt') mine++; });
      for (let i = 0; i < 5; i++) asherah.encrypt_string('m', 'x');
      // Wait (up to 10 s) for this hook's events while the Worker is still blocked.
      const start = Date.now();
      const poll = () => {
        if (mine >= 5 || Date.now() - start > 10_000) { whileBlocked = mine; release(); } else setTimeout(poll, 10);
      };
      poll();
      return;
    }
    setTimeout(() => {
      out(`WORKER ${m.got} MAIN ${whileBlocked} ${mine}`);
      asherah.setMetricsHook(null);
      w.terminate().then(() => asherah.shutdown());
    }, 500);
  });
} else if (mode === 'flush') {
  asherah.setLogHook((event) => out(`HOOK ${JSON.stringify(event)}`));
  asherah.setup({ ...base, GoLibrary: '/nonexistent/dir/libasherah-x64.so' });
  out('not reached');
} else {
  if (mode === 'golog-hook') {
    asherah.setLogHook((event) => out(`HOOK ${JSON.stringify(event)}`));
  }
  process.stderr.write('USER-1\n');
  asherah.setup({ ...base, GoLibrary: goLibrary });
  process.stderr.write('USER-2\n');
  const record = asherah.encrypt_string('p', 'data');
  if (asherah.decrypt_string('p', record) !== 'data') throw new Error('round trip failed');
  asherah.shutdown();
  process.stderr.write('USER-3 partial');
  setTimeout(() => {
    process.stderr.write(' line\nUSER-4\n');
    process.exit(0);
  }, 200);
}
