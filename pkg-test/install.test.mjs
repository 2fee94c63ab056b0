// The npm layout, end to end (issue 13): scripts/package.sh packs both tarballs into dist/,
// they are installed into a fresh temporary project with npm --offline and no Rust toolchain
// on PATH, and from there the module works from CommonJS and from named ESM imports under
// Node, every pinned Bun and Deno (--allow-ffi --allow-read only), `npx asherah-shim doctor`
// answers from the installed package, the Bun launcher finds the preload there, and
// asherah-node's README example type-checks against the installed types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const root = env.root;
const version = require('../package.json').version;
const TIMEOUT = 180_000;

/** PATH without the directories that hold cargo, rustc or rustup. */
function pathWithoutRust() {
  const hasRust = (d) => ['cargo', 'rustc', 'rustup'].some((t) => fs.existsSync(path.join(d, t)));
  return (process.env.PATH || '').split(':').filter((d) => d && !hasRust(d)).join(':');
}

/** The environment of the fresh project: no Rust, nothing pointing back at this checkout. */
function projectEnv(extra = {}) {
  const e = { ...process.env, PATH: pathWithoutRust(), ...extra };
  for (const k of ['ASHERAH_SHIM_MODULE', 'CARGO_TARGET_DIR', 'ASHERAH_SHIM_PRELOAD', 'LD_PRELOAD', 'NODE_PATH']) delete e[k];
  return e;
}

let project;
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: project, env: projectEnv(opts.env), encoding: 'utf8', timeout: TIMEOUT, killSignal: 'SIGKILL' });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, opts.status ?? 0, `${cmd} ${args.join(' ')} exited ${r.status} (${r.signal || 'no signal'}):\n${out.slice(-3000)}`);
  return r;
}

before(() => {
  const pack = spawnSync('bash', [path.join(root, 'scripts', 'package.sh')], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  assert.equal(pack.status, 0, `scripts/package.sh failed:\n${pack.stdout}\n${pack.stderr}`);
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-install-'));
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true }));
  for (const f of ['roundtrip.cjs', 'roundtrip.mjs']) fs.copyFileSync(path.join(root, 'pkg-test', f), path.join(project, f));
});

after(() => {
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the tarballs: LICENSE in both, binaries only in the platform package, with os/cpu/libc', () => {
  const list = (t) => spawnSync('tar', ['-tzf', path.join(root, 'dist', t)], { encoding: 'utf8' }).stdout.split('\n');
  const main = list(`asherah-shim-${version}.tgz`);
  const plat = list(`asherah-shim-linux-x64-gnu-${version}.tgz`);
  for (const f of ['LICENSE', 'index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'lib/locate.cjs', 'lib/doctor.cjs', 'bin/asherah-shim.cjs', 'bin/asherah-shim-bun']) {
    assert.ok(main.includes(`package/${f}`), `main package lacks ${f}`);
  }
  assert.ok(!main.some((f) => f.endsWith('.so') || f.endsWith('.node')), 'the main package holds no binary');
  for (const f of ['LICENSE', 'asherah-shim.linux-x64-gnu.node', 'libasherah_shim_preload.so']) {
    assert.ok(plat.includes(`package/${f}`), `platform package lacks ${f}`);
  }
});

test('npm install --offline of both tarballs with no Rust toolchain on PATH', () => {
  const which = spawnSync('sh', ['-c', 'command -v cargo || command -v rustc'], { env: projectEnv(), encoding: 'utf8' });
  assert.notEqual(which.status, 0, `a Rust toolchain is still on PATH: ${which.stdout}`);
  run('npm', ['install', '--offline', '--no-audit', '--no-fund',
    path.join(root, 'dist', `asherah-shim-linux-x64-gnu-${version}.tgz`), path.join(root, 'dist', `asherah-shim-${version}.tgz`)]);
  const plat = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'asherah-shim-linux-x64-gnu', 'package.json'), 'utf8'));
  assert.deepEqual([plat.os, plat.cpu, plat.libc, plat.version], [['linux'], ['x64'], ['glibc'], version]);
  const main = JSON.parse(fs.readFileSync(path.join(project, 'node_modules', 'asherah-shim', 'package.json'), 'utf8'));
  assert.equal(main.optionalDependencies['asherah-shim-linux-x64-gnu'], version);
});

const runtimes = [['node', [process.execPath]], ...env.bunVersions.map((v) => [`bun ${v}`, [env.bun(v)]]),
  ['deno (--allow-ffi --allow-read)', [env.deno, 'run', '--allow-ffi', '--allow-read']]];

for (const [name, argv] of runtimes) {
  test(`${name}: CommonJS round trips (native and Go core) from the installed package`, () => {
    const r = run(argv[0], [...argv.slice(1), 'roundtrip.cjs', env.goLibrary]);
    assert.match(r.stdout, /^OK cjs /m);
  });
  test(`${name}: named ESM imports equal the CommonJS keys, and round trip`, () => {
    const r = run(argv[0], [...argv.slice(1), 'roundtrip.mjs']);
    assert.match(r.stdout, /^OK esm /m);
  });
}

function doctorJson(r) {
  const facts = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(facts.module.source, 'package', 'the doctor names the platform package');
  assert.match(facts.module.path, /node_modules\/asherah-shim-linux-x64-gnu\/asherah-shim\.linux-x64-gnu\.node$/);
  assert.match(facts.preload.path, /node_modules\/asherah-shim-linux-x64-gnu\/libasherah_shim_preload\.so$/);
  assert.equal(facts.verdict.level, 'ok', facts.verdict.text);
  return facts;
}

test('npx asherah-shim doctor --json (Node), and the same bin under Bun and Deno', () => {
  const node = doctorJson(run('npx', ['--offline', '--no-install', 'asherah-shim', 'doctor', '--json']));
  assert.equal(node.runtime.name, 'node');
  const bin = path.join(project, 'node_modules', 'asherah-shim', 'bin', 'asherah-shim.cjs');
  const bun = doctorJson(run(env.bun('1.3.14'), [bin, 'doctor', '--json']));
  assert.equal(bun.runtime.name, 'bun');
  const deno = doctorJson(run(env.deno, ['run', '--allow-ffi', '--allow-read', bin, 'doctor', '--json']));
  assert.equal(deno.runtime.name, 'deno');
});

test('asherah-shim-bun finds the preload library in the platform package', () => {
  const r = run(path.join(project, 'node_modules', '.bin', 'asherah-shim-bun'),
    ['-e', "console.log(require('asherah-shim')._libraries().filter((p) => p.includes('preload')).join(','))"],
    { env: { ASHERAH_SHIM_BUN: env.bun('1.3.14') } });
  assert.match(r.stdout, /node_modules\/asherah-shim-linux-x64-gnu\/libasherah_shim_preload\.so/);
});

test("asherah-node's README example type-checks unchanged against the installed package (tsc --strict)", () => {
  fs.copyFileSync(path.join(root, 'fixtures', 'asherah-node-readme', 'example.ts'), path.join(project, 'example.ts'));
  fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'ES2020', module: 'commonjs', moduleResolution: 'node10',
      types: ['node'], typeRoots: [path.join(env.cache, 'npm', 'node_modules', '@types')],
      paths: { asherah: ['./node_modules/asherah-shim'] } },
    files: ['example.ts'],
  }));
  run(process.execPath, [env.tsc, '-p', project]);
});

test('a git checkout loaded by Bun from outside any node_modules tree asks no registry for the platform package', async () => {
  // Outside a node_modules tree Bun's resolver auto-installs a bare specifier it cannot find:
  // resolving the platform package there cost a registry round trip on every load (Bun 1.1
  // also printed `error: package "asherah-shim-linux-x64-gnu" not found`); lib/locate.cjs
  // now looks for node_modules directories itself under Bun. The registry here is a
  // loopback server that records what it is asked and answers 404.
  const asked = [];
  const server = http.createServer((req, res) => { asked.push(req.url); res.writeHead(404).end('{}'); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-nomodules-'));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-buncache-'));
  try {
    const registry = `http://127.0.0.1:${server.address().port}/`;
    const e = { ...projectEnv({ PATH: process.env.PATH }), BUN_CONFIG_REGISTRY: registry, NPM_CONFIG_REGISTRY: registry, BUN_INSTALL_CACHE_DIR: cache };
    const child = spawn(env.bun('1.4.5'), ['-e', `const a = require(${JSON.stringify(root)}); console.log('LOADED', a.get_setup_status())`],
      { cwd, env: e });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    assert.match(out, /^LOADED false$/m);
    assert.deepEqual(asked, [], 'requests Bun made to the registry');
  } finally {
    server.close();
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
