'use strict';
// asherah-shim: opens the native N-API module with process.dlopen (Node >= 18, Bun >= 1.2,
// Deno 2 with --allow-ffi --allow-read) and re-exports it. ESM: index.mjs. Types: index.d.ts.

// ---- loader (which .so: lib/locate.cjs, shared with the doctor) ----
const located = require('./lib/locate.cjs').locate();
if (located instanceof Error) throw located;
const mod = { exports: {} };
process.dlopen(mod, located.path);
module.exports = mod.exports;
