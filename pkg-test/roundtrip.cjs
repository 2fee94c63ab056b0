'use strict';
// Run from a fresh project where the packed tarballs are installed (pkg-test/install.test.mjs):
//   <runtime> roundtrip.cjs [<libasherah.so>]
// CommonJS: require('asherah-shim'), a sync and an async round trip on the native core (and
// on the Go core when a library is given), and proof that the module mapped into the process
// is the platform package's (and no local build). Prints "OK cjs <runtime>" last.
const asherah = require('asherah-shim');

const lib = process.argv[2];
const loaded = asherah._libraries(); // no /proc/self: Deno denies it without --allow-all
if (!loaded.some((p) => p.endsWith('/node_modules/asherah-shim-linux-x64-gnu/asherah-shim.linux-x64-gnu.node'))) {
  throw new Error(`the native module was not loaded from the platform package: ${loaded.join(', ')}`);
}
if (loaded.some((p) => p.endsWith('libasherah_shim.so'))) throw new Error('a local build was loaded as well');
if (typeof require('asherah-shim/doctor').main !== 'function') throw new Error('asherah-shim/doctor is not exported');

(async () => {
  for (const core of lib ? ['native', 'go'] : ['native']) {
    asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static', Core: core, GoLibrary: lib });
    const text = `packed ${core} ${process.pid}`;
    if (asherah.decrypt_string('p1', asherah.encrypt_string('p1', text)) !== text) throw new Error(`${core}: sync round trip`);
    const rec = await asherah.encrypt_async('p2', Buffer.from(text));
    if ((await asherah.decrypt_async('p2', rec)).toString() !== text) throw new Error(`${core}: async round trip`);
    await asherah.shutdown_async();
  }
  const rt = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : typeof Deno !== 'undefined' ? `deno-${Deno.version.deno}` : `node-${process.versions.node}`;
  console.log(`OK cjs ${rt}`);
})().catch((e) => { console.error(e); process.exit(1); });
