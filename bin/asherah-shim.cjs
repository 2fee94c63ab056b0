#!/usr/bin/env node
'use strict';
// `npx asherah-shim doctor [--json] [--go <lib>]`: see lib/doctor.cjs. Runs under Node,
// Bun (`bun node_modules/.bin/asherah-shim doctor`) and Deno (`deno run --allow-ffi
// --allow-read node_modules/asherah-shim/bin/asherah-shim.cjs doctor`).
require('../lib/doctor.cjs')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code), (e) => {
    process.stderr.write(`asherah-shim: ${e && e.stack ? e.stack : e}\n`);
    process.exit(2);
  });
