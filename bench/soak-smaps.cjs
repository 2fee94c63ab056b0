'use strict';
// RSS attribution by mapping, for bench/soak.cjs: parses /proc/self/smaps and sums Rss per
// class of mapping. Linux only; every class is a heuristic on addresses, permissions and
// layout (glibc 2.36 here cannot name its mappings), so read the classes as "what this
// region looks like", checked against the Go core vs native core difference.
//
// Classes (first match wins):
//   shim-so          file mappings of the shim's .so (ASHERAH_SHIM_MODULE)
//   libasherah-so    file mappings of libasherah (text, data, bss-in-file)
//   runtime-binary   file mappings of the running node / bun executable
//   other-files      every other file-backed mapping (libc, libstdc++, ICU data, ...)
//   glibc-main-heap  [heap] (brk): the main arena of glibc malloc
//   main-stack       [stack]
//   go-heap          anonymous mappings in 0xc000000000..0xc400000000: Go's heap arenas on
//                    linux/amd64 (the runtime's first arena hint is 0x00c0 << 32)
//   mlocked          anonymous mappings with Locked > 0: memguard (Go core) or the native
//                    core's locked key pages
//   glibc-arena      a non-main glibc malloc arena: rw-p anonymous mapping starting on a
//                    64 MiB boundary, alone or followed by its PROT_NONE reserve, together
//                    exactly 64 MiB (HEAP_MAX_SIZE); one per thread that malloc'd under
//                    contention, up to 8 x CPUs arenas
//   thread-stack     rw-p anonymous mapping right after a PROT_NONE guard of <= 64 KiB
//                    (pthread stacks: the shim's core-host threads, Go's cgo threads,
//                    libuv, the engine's helper threads)
//   anon-other       everything else anonymous: the JS engine's heap (V8 / JSC), large
//                    malloc chunks (>= 128 KiB are their own mmap), Go's off-heap runtime
//                    metadata, the shim's alternate signal stacks, ...
const fs = require('node:fs');

const MiB64 = 64n << 20n;
const GO_LO = 0xc000000000n;
const GO_HI = 0xc400000000n;

const CLASSES = [
  'shim-so',
  'libasherah-so',
  'runtime-binary',
  'other-files',
  'glibc-main-heap',
  'main-stack',
  'go-heap',
  'mlocked',
  'glibc-arena',
  'thread-stack',
  'anon-other',
];

/** Parses smaps text into [{start, end, perms, path, rss, anon, locked, swap}] (sizes in KiB). */
function parse(text) {
  return parseLines(text.split('\n'));
}

function parseLines(lines) {
  const maps = [];
  let cur = null;
  for (const line of lines) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        start: BigInt('0x' + head[1]),
        end: BigInt('0x' + head[2]),
        perms: head[3],
        path: head[4].trim(),
        rss: 0,
        anon: 0,
        locked: 0,
        swap: 0,
      };
      maps.push(cur);
      continue;
    }
    if (!cur) continue;
    const kv = /^(Rss|Anonymous|Locked|Swap):\s+(\d+) kB/.exec(line);
    if (kv) {
      const k = kv[1] === 'Rss' ? 'rss' : kv[1] === 'Anonymous' ? 'anon' : kv[1].toLowerCase();
      cur[k] = Number(kv[2]);
    }
  }
  return maps;
}

// /proc/self/smaps is read into one reused Buffer and split into short line strings (only
// the lines the classifier needs), so a sample does not leave a 100+ KiB string behind: that
// would land in V8's large-object space and show up as RSS growth of the sampler itself.
let buf = Buffer.alloc(1 << 20);
const WANTED = [0x52 /* R */, 0x41 /* A */, 0x4c /* L */, 0x53 /* S */];
function readLines(file) {
  const fd = fs.openSync(file, 'r');
  let n = 0;
  try {
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  const lines = [];
  for (let pos = 0; pos < n; ) {
    let eol = buf.indexOf(10, pos);
    if (eol < 0 || eol > n) eol = n;
    const c = buf[pos];
    const isHead = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66); // hex digit
    if (isHead || WANTED.includes(c)) lines.push(buf.latin1Slice(pos, eol));
    pos = eol + 1;
  }
  return lines;
}

const isAnon = (m) => m.path === '' || m.path.startsWith('[anon');

/** Classifies each mapping; returns {class: KiB Rss} plus counts of arenas and stacks. */
function classify(maps, { shimPath, exePath }) {
  const sum = Object.fromEntries(CLASSES.map((c) => [c, 0]));
  let arenas = 0;
  let stacks = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    const size = m.end - m.start;
    const prev = maps[i - 1];
    const next = maps[i + 1];
    let c;
    if (m.path && !m.path.startsWith('[')) {
      if (shimPath && m.path === shimPath) c = 'shim-so';
      else if (/libasherah/.test(m.path)) c = 'libasherah-so';
      else if (exePath && m.path === exePath) c = 'runtime-binary';
      else c = 'other-files';
    } else if (m.path === '[heap]') c = 'glibc-main-heap';
    else if (m.path === '[stack]') c = 'main-stack';
    else if (m.path && !isAnon(m)) c = 'other-files'; // [vdso], [vvar], ...
    else if (m.start >= GO_LO && m.start < GO_HI) c = 'go-heap';
    else if (m.locked > 0) c = 'mlocked';
    else if (
      m.perms.startsWith('rw') &&
      m.start % MiB64 === 0n &&
      (size === MiB64 ||
        (next && isAnon(next) && next.perms === '---p' && next.start === m.end && next.end - m.start === MiB64))
    ) {
      c = 'glibc-arena';
      arenas++;
    } else if (
      m.perms.startsWith('rw') &&
      prev &&
      isAnon(prev) &&
      prev.perms === '---p' &&
      prev.end === m.start &&
      prev.end - prev.start <= 64n << 10n &&
      size >= 64n << 10n
    ) {
      c = 'thread-stack';
      stacks++;
    } else c = 'anon-other';
    sum[c] += m.rss;
  }
  return { kib: sum, arenas, stacks, mappings: maps.length };
}

/** One attribution sample of this process. */
function sample(opts) {
  return classify(parseLines(readLines('/proc/self/smaps')), opts);
}

module.exports = { CLASSES, parse, classify, sample };
