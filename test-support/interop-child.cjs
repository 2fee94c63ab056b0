'use strict';
// A child process that drives asherah-shim for test-support/interop.cjs, one core per
// process: libasherah is a process-wide singleton and a Go runtime loads once per process,
// so every "other side" of an interop scenario lives in a process of its own.
//
// Protocol: one JSON request per line on stdin, `{ id, op, ...args }`; one JSON reply per
// line on stdout, prefixed with REPLY_PREFIX (anything else a library prints is ignored):
// `{ id, ok: true, result }` or `{ id, ok: false, error: { code, message } }`.
// Binary values travel as base64. Ops:
//   info                                  -> { runtime, pid }
//   setup { config }                      -> { core, goLoaded }: the core the shim's own log
//                                            hook named, and whether libasherah is loaded
//   diagnostics                           -> { goLoaded, goCallSeen } (a Go call since setup)
//   encrypt { items: [{ partition, data }], parallel }   -> [record]
//   decrypt { items: [{ partition, record }], parallel } -> [{ ok, data } | { ok: false, code, message }]
//   shutdown                              -> true
// The process exits when stdin closes, or after argv[2] milliseconds (default 240 s) at most.
const asherah = require(require('node:path').resolve(__dirname, '..'));

const REPLY_PREFIX = '@@interop ';
const lifetimeMs = Number(process.argv[2]) || 240_000;
setTimeout(() => {
  process.stderr.write(`interop-child ${process.pid}: lifetime of ${lifetimeMs} ms exceeded, exiting\n`);
  process.exit(70);
}, lifetimeMs).unref();

const runtime = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : `node-${process.versions.node}`;

async function mapItems(items, parallel, fn) {
  if (parallel) return Promise.all(items.map(fn));
  const out = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

const logLines = [];
asherah.set_log_hook((level, message) => logLines.push(message));

async function setupEvidence() {
  // The hook runs on the JS thread after setup returns; give it a moment.
  for (let i = 0; i < 100; i++) {
    const line = logLines.find((l) => /setup complete: core=/.test(l));
    if (line) return /core=(\w+)/.exec(line)[1];
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}

const ops = {
  info: () => ({ runtime, pid: process.pid }),
  setup: async ({ config }) => {
    logLines.length = 0;
    asherah._diagnostics(true); // record facts of every Go call from now on
    asherah.setup(config);
    return { core: await setupEvidence(), goLoaded: asherah._diagnostics().goLoaded };
  },
  diagnostics: () => {
    const d = asherah._diagnostics();
    return { goLoaded: d.goLoaded, goCallSeen: d.lastGoCall !== null };
  },
  encrypt: ({ items, parallel }) => mapItems(items, parallel, async ({ partition, data }) => {
    const bytes = Buffer.from(data, 'base64');
    return parallel ? asherah.encrypt_async(partition, bytes) : asherah.encrypt(partition, bytes);
  }),
  decrypt: ({ items, parallel }) => mapItems(items, parallel, async ({ partition, record }) => {
    try {
      const out = parallel ? await asherah.decrypt_async(partition, record) : asherah.decrypt(partition, record);
      return { ok: true, data: Buffer.from(out).toString('base64') };
    } catch (e) {
      return { ok: false, code: e.code, message: e.message };
    }
  }),
  shutdown: () => { asherah.shutdown(); return true; },
};

function reply(msg) {
  process.stdout.write(REPLY_PREFIX + JSON.stringify(msg) + '\n');
}

async function handle(line) {
  let req;
  try { req = JSON.parse(line); } catch { return reply({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: line.slice(0, 80) } }); }
  const op = ops[req.op];
  if (!op) return reply({ id: req.id, ok: false, error: { code: 'BAD_REQUEST', message: `unknown op ${req.op}` } });
  try {
    reply({ id: req.id, ok: true, result: await op(req) });
  } catch (e) {
    reply({ id: req.id, ok: false, error: { code: e.code || 'ERR_UNEXPECTED', message: String(e.message) } });
  }
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.trim()) handle(line);
  }
});
process.stdin.on('end', () => {
  try { asherah.shutdown(); } catch { /* exiting anyway */ }
  process.exit(0);
});
