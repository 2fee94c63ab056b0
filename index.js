'use strict';
// Loads the asherah-shim N-API module built by `cargo build --release` with process.dlopen
// (Node >= 18 and Bun >= 1.2) and re-exports it. ASHERAH_SHIM_MODULE overrides the path.
const path = require('node:path');
const fs = require('node:fs');

function modulePath() {
  if (process.env.ASHERAH_SHIM_MODULE) return process.env.ASHERAH_SHIM_MODULE;
  const candidates = [
    path.join(__dirname, 'target', 'release', 'libasherah_shim.so'),
    path.join(__dirname, 'target', 'debug', 'libasherah_shim.so'),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    const err = new Error(
      `asherah-shim: native module not built; run \`cargo build --release\` in ${__dirname}`,
    );
    err.code = 'ERR_ASHERAH_NOT_BUILT';
    throw err;
  }
  return found;
}

const mod = { exports: {} };
process.dlopen(mod, modulePath());
module.exports = mod.exports;
