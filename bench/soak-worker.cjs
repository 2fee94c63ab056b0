'use strict';
// One soak child: one runtime (this process: node or bun), one core. Started by
// bench/soak.cjs; prints exactly one line `SOAK <json>` on stdout, progress on stderr.
//
//   <runtime> bench/soak-worker.cjs '<json spec>'
//
// spec: { core: 'native' | 'go', calls, sampleEvery, warmup, partitions, sizes, block,
//         window, coreThreads, smaps, maxSeconds, module, shimSo, goLibrary }
// With maxSeconds, the loop stops at the first sample point past that time and reports the
// calls it made (result.calls), so a slow core still yields a result inside a timeout.
//
// The workload, call i = 0 .. calls-1, in blocks of `block` calls that alternate sync and
// async (async blocks keep `window` promises in flight):
//   - even i: encrypt, odd i: decrypt (of a record made earlier for the same partition/size);
//   - partition `soak-<(i >> 1) % partitions>`;
//   - size sizes[(i >> 1) % sizes.length] bytes of random data;
//   - every 997th decrypt is compared with its plaintext; every 101st encrypt replaces the
//     stored record of its partition/size, so decrypts see fresh records too.
// RSS (VmRSS from /proc/self/status) is sampled every `sampleEvery` calls, at a block
// boundary with nothing in flight; with `smaps` also attributed by mapping
// (bench/soak-smaps.cjs). Sampling time is excluded from the ops/s figure.

const crypto = require('node:crypto');
const fs = require('node:fs');
const v8 = require('node:v8');
const smaps = require('./soak-smaps.cjs');

const spec = JSON.parse(process.argv[2]);
const runtime = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : `node-${process.versions.node}`;
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function status() {
  const text = fs.readFileSync('/proc/self/status', 'utf8');
  const kib = (k) => {
    const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    rssKiB: kib('VmRSS'),
    rssAnonKiB: kib('RssAnon'),
    rssFileKiB: kib('RssFile'),
    hwmKiB: kib('VmHWM'),
    threads: kib('Threads'),
  };
}

let exePath = '';
try {
  exePath = fs.realpathSync(process.execPath);
} catch {}
const shimPath = spec.shimSo ? fs.realpathSync(spec.shimSo) : '';

function takeSample(calls, t) {
  const s = { calls, tMs: Math.round(t), ...status() };
  const mu = process.memoryUsage();
  s.jsHeapKiB = Math.round(mu.heapTotal / 1024);
  s.externalKiB = Math.round((mu.external || 0) / 1024);
  // Node: V8's spaces (new_space grows its semi-spaces under load); Bun reports JSC figures.
  try {
    s.jsSpacesKiB = {};
    for (const sp of v8.getHeapSpaceStatistics()) {
      s.jsSpacesKiB[sp.space_name] = Math.round(sp.physical_space_size / 1024);
    }
  } catch {}
  if (spec.smaps) {
    const a = smaps.sample({ shimPath, exePath });
    s.smaps = a.kib;
    s.arenas = a.arenas;
    s.stacks = a.stacks;
    s.mappings = a.mappings;
  }
  return s;
}

async function main() {
  const samples = [];
  let sampleMs = 0;
  const t00 = now();
  const sampleAt = (calls) => {
    const t = now();
    samples.push(takeSample(calls, t - t00));
    sampleMs += now() - t;
  };
  sampleAt(-1); // before require + setup

  const a = require(spec.module);
  const cfg = {
    ServiceName: 'soak-service',
    ProductID: 'soak-product',
    Metastore: 'memory',
    KMS: 'static',
    EnableSessionCaching: true,
    Core: spec.core,
  };
  if (spec.core === 'go') cfg.GoLibrary = spec.goLibrary;
  if (spec.coreThreads) cfg.CoreThreads = spec.coreThreads;
  a.setup(cfg);

  const P = spec.partitions;
  const sizes = spec.sizes;
  const parts = Array.from({ length: P }, (_, p) => `soak-${p}`);
  // plain[p][s], rec[p][s]
  const plain = parts.map(() => sizes.map((n) => crypto.randomBytes(n)));
  const rec = parts.map((part, p) => sizes.map((_, s) => a.encrypt(part, plain[p][s])));
  let checked = 0;

  const argsOf = (i) => {
    const k = i >> 1;
    return { p: k % P, s: k % sizes.length, enc: (i & 1) === 0 };
  };
  const after = (i, x, out) => {
    if (x.enc) {
      if (i % 202 === 0) rec[x.p][x.s] = out; // every 101st encrypt
    } else if (i % 1994 === 1) {
      // every 997th decrypt
      if (!Buffer.from(out).equals(plain[x.p][x.s])) {
        throw new Error(`decrypt mismatch at call ${i} (${parts[x.p]}, ${sizes[x.s]} B)`);
      }
      checked++;
    }
  };
  const syncCall = (i) => {
    const x = argsOf(i);
    const out = x.enc ? a.encrypt(parts[x.p], plain[x.p][x.s]) : a.decrypt(parts[x.p], rec[x.p][x.s]);
    after(i, x, out);
  };
  const asyncCall = async (i) => {
    const x = argsOf(i);
    const out = await (x.enc
      ? a.encrypt_async(parts[x.p], plain[x.p][x.s])
      : a.decrypt_async(parts[x.p], rec[x.p][x.s]));
    after(i, x, out);
  };
  const asyncBlock = async (from, to) => {
    let next = from;
    const lane = async () => {
      while (next < to) await asyncCall(next++);
    };
    await Promise.all(Array.from({ length: Math.min(spec.window, to - from) }, lane));
  };

  sampleAt(0); // after setup, before the first call
  const tStart = now();
  sampleMs = 0; // from here on: sampling time inside the timed loop
  let lastLog = tStart;
  let done = spec.calls;
  for (let i = 0; i < spec.calls; ) {
    const end = Math.min(spec.calls, i + spec.block);
    if ((i / spec.block) % 2 === 0) for (let j = i; j < end; j++) syncCall(j);
    else await asyncBlock(i, end);
    i = end;
    if (i % spec.sampleEvery === 0 || i === spec.calls) {
      sampleAt(i);
      const t = now();
      if (t - lastLog > 10e3 || i === spec.calls) {
        lastLog = t;
        const s = samples[samples.length - 1];
        process.stderr.write(
          `  ${runtime} ${spec.core}: ${i} calls, RSS ${(s.rssKiB / 1024).toFixed(1)} MiB, ${Math.round(
            (i * 1e3) / (t - tStart - sampleMs),
          )} ops/s\n`,
        );
      }
      if (spec.maxSeconds && t - tStart > spec.maxSeconds * 1e3 && i < spec.calls) {
        process.stderr.write(`  ${runtime} ${spec.core}: stopping at ${i} calls (--max-seconds)\n`);
        done = i;
        break;
      }
    }
  }
  const elapsedMs = now() - tStart;
  a.shutdown();
  const result = {
    runtime,
    core: spec.core,
    calls: done,
    callsAsked: spec.calls,
    elapsedMs: Math.round(elapsedMs),
    sampleMs: Math.round(sampleMs),
    checked,
    samples,
  };
  process.stdout.write('SOAK ' + JSON.stringify(result) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`soak worker failed (${runtime} ${spec.core}): ${e && e.stack}\n`);
    process.exit(1);
  },
);
