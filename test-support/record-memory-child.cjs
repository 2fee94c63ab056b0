'use strict';
// Child of large-results.cjs and sql-metastores.cjs: one large call in a fresh process,
// printing how far RSS rose during it (its high-water mark, VmHWM, over the RSS before it)
// and how much it kept afterwards, in MiB, with the input's and the result's sizes. A fresh
// process, with the high-water mark reset just before the call, so that the mark is the
// call's.
//   <runtime> record-memory-child.cjs <export> <MiB of plaintext> [setup JSON] [record file]
// <export> is decrypt, decrypt_async, decrypt_string or decrypt_string_async (the input is
// the record string of that much plaintext: read from the record file when one is named,
// else encrypted here first), encrypt_string or encrypt_string_async (the input is a string
// of that many bytes), or write_record (encrypts that much plaintext into the record file,
// so that a decrypting child's heap, the Go core's above all, holds nothing from the
// encrypt). The setup JSON is merged over a memory metastore with static KMS.
// Tests run it through `measure`, exported here.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const env = require('./env.cjs');

const MiB = 2 ** 20;

/** Runs this file in a fresh process of the current runtime; returns what it printed. */
function measure(call, mib, { setup = {}, recordFile, timeout }) {
  const args = [__filename, call, String(mib), JSON.stringify(setup), ...(recordFile ? [recordFile] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout, env: process.env });
  assert.equal(r.status, 0, `${call} (${setup.Core || 'native'}) failed: ${r.error || ''}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// The process's peak RSS in bytes, from Linux's VmHWM (process.resourceUsage is missing in
// Bun 1.2.0).
function highWaterMark() {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  assert.ok(m, 'no VmHWM in /proc/self/status');
  return Number(m[1]) * 1024;
}

// Collects garbage until RSS holds still: a runtime frees large buffers (readFileSync's)
// on a background thread, and one freed during the call would hide up to its size.
async function settle() {
  if (typeof globalThis.gc !== 'function' && typeof Bun === 'undefined') {
    require('node:v8').setFlagsFromString('--expose-gc');
    globalThis.gc = require('node:vm').runInNewContext('gc');
  }
  let last = Infinity;
  for (let i = 0; i < 20; i++) {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    else if (typeof Bun !== 'undefined') Bun.gc(true);
    await new Promise((r) => setTimeout(r, 50));
    const rss = process.memoryUsage().rss;
    if (Math.abs(rss - last) < MiB) return;
    last = rss;
  }
}

async function main() {
  const asherah = require(env.root);
  const [call, mib] = [process.argv[2], Number(process.argv[3])];
  const extra = JSON.parse(process.argv[4] || '{}');
  const recordFile = process.argv[5];
  asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static', ...extra });
  const text = 'Z'.repeat(mib * MiB);
  if (call === 'write_record') {
    fs.writeFileSync(recordFile, asherah.encrypt_string('p', text));
    asherah.shutdown();
    console.log('{}');
    return;
  }
  assert.ok(typeof asherah[call] === 'function', `no export ${call}`);
  const encrypting = call.startsWith('encrypt');
  const input = encrypting ? text : recordFile ? fs.readFileSync(recordFile, 'latin1') : asherah.encrypt_string('p', text);
  assert.equal(typeof input, 'string');
  await settle();
  // The work above (the Go core's encrypt most of all) may have set a higher mark than the
  // call will: writing 5 to clear_refs resets it to the current RSS (Linux 4.0).
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const rss0 = process.memoryUsage().rss;
  assert.ok(highWaterMark() <= rss0 + MiB, 'the peak RSS was not reset');
  const out = await asherah[call]('p', input);
  const peak = highWaterMark();
  const kept = process.memoryUsage().rss;
  const resultBytes = typeof out === 'string' ? out.length : out.byteLength;
  if (encrypting) assert.equal(asherah.decrypt_string('p', out), text, 'the record does not decrypt to the data');
  else if (typeof out === 'string') assert.ok(out === text, 'the plaintext changed');
  else assert.ok(Buffer.from(out.buffer, out.byteOffset, out.length).equals(Buffer.from(text)), 'the plaintext changed');
  asherah.shutdown();
  console.log(JSON.stringify({
    inputMiB: input.length / MiB,
    resultMiB: resultBytes / MiB,
    peakRiseMiB: (peak - rss0) / MiB,
    keptMiB: (kept - rss0) / MiB,
  }));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { measure };
