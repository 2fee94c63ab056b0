'use strict';
// `asherah-shim doctor`: what this process looks like to a Go runtime and to Bun, and one
// verdict line with the fix. It reports the runtime, this module's and the preload's paths
// and versions, the stack sizes and alternate stacks of the JS thread, an N-API pool
// thread and a core-host thread (the module's `_threads()`), the dispositions of the GC
// signal, SIGPIPE, SIGURG and SIGSEGV with the file each handler lives in (`_signals()`),
// and whether a Go runtime is in the process (a Go buildinfo marker in a loaded library,
// from `_libraries()`: no /proc/self reads, which Deno denies without --allow-all) and
// what asherah-shim's signal guard repaired (`signalReport()`).
// Works under Node, Bun and Deno (--allow-ffi --allow-read); reads no environment it is
// denied.
const fs = require('node:fs');
const path = require('node:path');
const { locate, envVar, ROOT } = require('./locate.cjs');

const SIGPIPE = 13, SIGURG = 23, SIGSEGV = 11, SIGPWR = 30;
const SA = { SA_SIGINFO: 0x4, SA_ONSTACK: 0x08000000, SA_RESTART: 0x10000000, SA_NODEFER: 0x40000000, SA_RESETHAND: 0x80000000 };
const GO_MARKER = Buffer.from('\xff Go buildinf:', 'latin1');
const KiB = (n) => `${Math.round(n / 1024)} KiB`;

/** { name, version, path }: which runtime runs this. */
function runtime() {
  if (typeof Bun !== 'undefined') return { name: 'bun', version: Bun.version, path: process.execPath };
  if (typeof Deno !== 'undefined') return { name: 'deno', version: Deno.version.deno, path: process.execPath };
  return { name: 'node', version: process.versions.node, path: process.execPath };
}

/** Bun releases before 1.4 lose their event loop when the GC signal runs on an altstack. */
function bunBefore14(rt) {
  if (rt.name !== 'bun') return false;
  const [maj, min] = rt.version.split('.').map(Number);
  return maj < 1 || (maj === 1 && min < 4);
}

/** Loaded shared libraries that carry a Go runtime (Go writes a buildinfo marker). */
function goLibraries(libs) {
  return libs.filter((p) => p.startsWith('/') && !/\/(libc|libm|libdl|libpthread|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(p).indexOf(GO_MARKER) >= 0;
    } catch {
      return false;
    }
  });
}

function flagNames(flags) {
  return Object.entries(SA).filter(([, bit]) => (flags & bit) === bit).map(([n]) => n);
}

function describeSignal(s, goLibs) {
  if (!s) return { text: 'unreadable' };
  const d = s.disposition;
  const goOwned = s.owner !== null && goLibs.includes(s.owner);
  const text = d.handler === 'default' ? 'default' : d.handler === 'ignore' ? 'ignored'
    : `handler in ${s.owner ? path.basename(s.owner) : 'unknown code'}${goOwned ? ' (Go)' : ''}, flags ${flagNames(d.flags).join('|') || 'none'}`;
  return { text, goOwned };
}

/** Everything the doctor knows, as one JSON-able object. `shim` is the loaded module. */
async function collect(shim, located) {
  const rt = runtime();
  const threads = await shim._threads();
  const signals = shim._signals();
  const diag = shim._diagnostics();
  const libs = shim._libraries();
  const goLibs = goLibraries(libs);
  const gcSignal = Number(envVar('JSC_SIGNAL_FOR_GC')) || SIGPWR;
  const bySigno = (n) => signals.find((s) => s.signo === n) || null;
  const pkg = require(path.join(ROOT, 'package.json'));
  let platformVersion = null;
  if (located.source === 'package') {
    try { platformVersion = JSON.parse(fs.readFileSync(path.join(path.dirname(located.path), 'package.json'), 'utf8')).version; } catch { /* unknown */ }
  }
  const preloadActive = libs.some((p) => path.basename(p) === 'libasherah_shim_preload.so');
  const thread = (t) => t && { stackSize: t.stackSize, altStackSize: t.altStackSize, blockedSignals: t.blockedSignals.length };
  const sig = (n, role) => {
    const s = bySigno(n);
    return { signo: n, name: s ? s.name : String(n), role, ...(s ? { ...s.disposition, owner: s.owner } : {}), ...describeSignal(s, goLibs) };
  };
  const facts = {
    runtime: rt,
    module: { path: located.path, source: located.source, version: pkg.version, platformPackageVersion: platformVersion },
    preload: { path: located.preload, active: preloadActive },
    threads: { js: thread(threads.jsThread), napiPool: thread(threads.poolThread), coreHost: thread(threads.coreThread) },
    signals: [sig(gcSignal, rt.name === 'bun' ? 'GC signal (JavaScriptCore thread suspend)' : 'GC signal in Bun; unused here'),
      sig(SIGPIPE, 'broken pipe'), sig(SIGURG, 'Go preemption'), sig(SIGSEGV, 'faults')],
    go: { libraries: goLibs, loadedByShim: diag.goLoaded, repairs: shim.signalReport().filter((d) => d.restored).map((d) => `${d.name}: ${d.action}`) },
  };
  facts.verdict = verdict(facts);
  return facts;
}

/** { level: 'ok'|'warn'|'fail', text }: the first problem found, with its fix. */
function verdict(f) {
  const [gc, pipe] = f.signals;
  const goHere = f.go.libraries.length > 0 || f.go.loadedByShim;
  const outside = goHere && !f.go.loadedByShim;
  const fix = 'load libasherah through asherah-shim (Core: "go") instead of another addon, or start the process with asherah-shim-bun (LD_PRELOAD repair)';
  if (bunBefore14(f.runtime) && gc.onStack) {
    return { level: 'fail', text: `PROBLEM: Bun ${f.runtime.version}'s GC signal ${gc.name} runs on the alternate signal stack (SA_ONSTACK, set by a Go runtime), so Bun's event loop will stop. Fix: ${fix}, or move to Bun >= 1.4.` };
  }
  if (goHere && pipe.handler !== 'ignore') {
    return { level: 'warn', text: `WARNING: SIGPIPE is no longer ignored (now: ${pipe.text}): a write to a closed socket or pipe goes through the Go runtime, and programs spawned from here inherit a changed signal state. Fix: ${fix}.` };
  }
  if (outside && f.threads.napiPool && f.threads.napiPool.stackSize < 8 << 20) {
    return { level: 'warn', text: `WARNING: a Go library is loaded outside asherah-shim and this runtime's N-API pool threads have ${KiB(f.threads.napiPool.stackSize)} stacks (Node gives 8192 KiB); a cgo addon's async work may overflow them. Fix: ${fix}.` };
  }
  if (!goHere) return { level: 'ok', text: 'OK: no Go runtime in this process; the signal state is the runtime\'s own.' };
  if (f.go.loadedByShim) {
    const rep = f.go.repairs.length ? ` (repaired: ${f.go.repairs.join(', ')})` : '';
    return { level: 'ok', text: `OK: the Go runtime was loaded by asherah-shim on a core-host thread and the signal state is sound${rep}.` };
  }
  return { level: 'ok', text: 'OK: a Go runtime is loaded and the signal state is sound.' };
}

function render(f) {
  const t = f.threads;
  const th = (x) => (x ? `${KiB(x.stackSize)} stack, ${x.altStackSize ? KiB(x.altStackSize) + ' altstack' : 'no altstack'}` : 'unknown (probe cancelled)');
  const lines = [
    `runtime      ${f.runtime.name} ${f.runtime.version} (${f.runtime.path})`,
    `module       asherah-shim ${f.module.version}: ${f.module.path} (${{ env: 'ASHERAH_SHIM_MODULE', package: `platform package ${f.module.platformPackageVersion}`, build: 'local build' }[f.module.source]})`,
    `preload      ${f.preload.path || 'not found'}${f.preload.active ? ' (active: loaded in this process)' : ' (not active; bin asherah-shim-bun runs Bun with it)'}`,
    `JS thread    ${th(t.js)}`,
    `N-API pool   ${th(t.napiPool)}`,
    `core-host    ${th(t.coreHost)}, ${t.coreHost.blockedSignals} signals blocked`,
    ...f.signals.map((s) => `${s.name.padEnd(12)} ${s.text}  [${s.role}]`),
    `Go runtime   ${f.go.libraries.length ? f.go.libraries.join(', ') : 'none loaded'}${f.go.loadedByShim ? ' (loaded by asherah-shim)' : f.go.libraries.length ? ' (loaded outside asherah-shim)' : ''}`,
    ...(f.go.repairs.length ? [`repaired     ${f.go.repairs.join('; ')}`] : []),
    `verdict      ${f.verdict.text}`,
  ];
  return lines.join('\n');
}

const USAGE = `usage: asherah-shim doctor [--json] [--go <libasherah.so>]
  --json   print one JSON object instead of text
  --go     first set up asherah-shim's Go core with this library (or $ASHERAH_GO_LIBRARY
           with --go alone), to check how loading Go behaves in this runtime`;

/** Runs the doctor with command-line `args`; resolves to the exit code (0 ok, 1 problem,
 *  2 usage or load error). */
async function main(args, out = (s) => process.stdout.write(s + '\n')) {
  if (args[0] !== 'doctor' || args.includes('--help') || args.includes('-h')) {
    out(USAGE);
    return args[0] === 'doctor' ? 0 : 2;
  }
  const json = args.includes('--json');
  const goAt = args.indexOf('--go');
  const located = locate();
  if (located instanceof Error) {
    out(json ? JSON.stringify({ error: { code: located.code, message: located.message } }) : located.message);
    return 2;
  }
  const shim = require(path.join(ROOT, 'index.js'));
  if (goAt >= 0) {
    const next = args[goAt + 1];
    const lib = next && !next.startsWith('--') ? next : envVar('ASHERAH_GO_LIBRARY');
    try {
      shim.setup({ ServiceName: 'asherah-shim-doctor', ProductID: 'doctor', Metastore: 'memory', KMS: 'static', Core: 'go', GoLibrary: lib });
      shim.shutdown();
    } catch (e) {
      out(json ? JSON.stringify({ error: { code: e.code, message: e.message } }) : `could not load the Go core: ${e.message}`);
      return 2;
    }
  }
  const facts = await collect(shim, located);
  out(json ? JSON.stringify(facts) : render(facts));
  return facts.verdict.level === 'ok' ? 0 : 1;
}

module.exports = { main, collect, verdict };
