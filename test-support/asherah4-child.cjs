'use strict';
// Child processes for test-support/asherah4.cjs (they end the process on purpose, or change
// where fd 2 goes). argv: <mode> <libasherah path>.
//   flush      a log hook, then a sync setup that throws uncaught: the hook must have run
//   golog      the Go core without a log hook: libasherah's lines stay on stderr
//   golog-hook the Go core with a log hook: its lines reach the hook, not stderr, and the
//              user's own stderr lines keep their order, up to a process.exit()
const fs = require('node:fs');

const asherah = require('..');

// Synchronous writes: Bun writes process.stdout to a pipe asynchronously, and this process
// may die right after (that would lose the proof that the hook ran, not the event).
const out = (line) => fs.writeSync(1, `${line}\n`);

const [mode, goLibrary] = process.argv.slice(2);
const base = { ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static', Core: 'go' };

if (mode === 'flush') {
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
