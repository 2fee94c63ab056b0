// The npm layout, end to end (issue 13): scripts/package.sh packs both tarballs into dist/,
// they are installed into a fresh temporary project with npm --offline and no Rust toolchain
// on PATH, and from there the module works from CommonJS and from named ESM imports under
// Node, every pinned Bun and Deno (--allow-ffi --allow-read only), `npx asherah-shim doctor`
// answers from the installed package, the Bun launcher finds the preload there, and
// asherah-node's README example type-checks against the installed types. Then the same two
// tarballs are served by a loopback registry and installed by name with npm, each pinned
// Bun, pnpm, Yarn 1, Yarn 4 (Plug'n'Play) and Deno's npm: specifier, and each layout round
// trips.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = require('../test-support/env.cjs');
const { startRegistry } = require('../test-support/registry.cjs');
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

/** The two packed tarballs scripts/package.sh writes to dist/: main package, platform package. */
const TARBALLS = [`asherah-shim-${version}.tgz`, `asherah-shim-linux-x64-gnu-${version}.tgz`];

/** A fresh project directory with a package.json and the round-trip scripts. */
function newProject(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true }));
  for (const f of ['roundtrip.cjs', 'roundtrip.mjs']) fs.copyFileSync(path.join(root, 'pkg-test', f), path.join(dir, f));
  return dir;
}

let project;
/** Runs `cmd` in `opts.cwd` (the tarball-installed project by default) and asserts its exit status. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? project, env: projectEnv(opts.env), encoding: 'utf8', timeout: TIMEOUT, killSignal: 'SIGKILL' });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, opts.status ?? 0, `${cmd} ${args.join(' ')} exited ${r.status} (${r.signal || 'no signal'}):\n${out.slice(-3000)}`);
  return r;
}

before(() => {
  const pack = spawnSync('bash', [path.join(root, 'scripts', 'package.sh')], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  assert.equal(pack.status, 0, `scripts/package.sh failed:\n${pack.stdout}\n${pack.stderr}`);
  project = newProject('asherah-shim-install-');
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
  // now looks for node_modules directories itself under Bun. The registry here serves no
  // package: it records what it is asked and answers 404.
  const server = await startRegistry([]);
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-nomodules-'));
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-buncache-'));
  try {
    const e = { ...projectEnv({ PATH: process.env.PATH }), BUN_CONFIG_REGISTRY: server.url, NPM_CONFIG_REGISTRY: server.url, BUN_INSTALL_CACHE_DIR: cache };
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
    assert.deepEqual(server.asked, [], 'requests Bun made to the registry');
  } finally {
    await server.close();
    fs.rmSync(cwd, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

// Installs the way users install: `npm install asherah-shim`, `bun add`, `pnpm add`,
// `yarn add` (1 and 4, whose default linker is Plug'n'Play) and Deno's `npm:` specifier,
// each from a loopback registry that serves the two packed tarballs. Unlike the tarball
// install above, each client must find the platform package through the main package's
// optionalDependencies, keep it (os/cpu/libc match this machine) and lay it out its own
// way; the loader must then find it in that layout.
describe('installed from a registry', () => {
  let registry;
  const projects = [];
  before(async () => {
    registry = await startRegistry(TARBALLS.map((f) => path.join(root, 'dist', f)));
  });
  after(async () => {
    if (registry) await registry.close();
    for (const p of projects) fs.rmSync(p, { recursive: true, force: true });
  });

  /** A fresh project with the round-trip scripts; returns its directory. */
  function freshProject(files = {}) {
    const dir = newProject('asherah-shim-registry-');
    projects.push(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  }

  /** The registry was asked for both tarballs since `mark`. */
  function fetchedBoth(mark) {
    const got = registry.asked.slice(mark).filter((u) => u.endsWith('.tgz')).map((u) => path.basename(u)).sort();
    assert.deepEqual([...new Set(got)], [...TARBALLS].sort());
  }

  test('npm install asherah-shim: Node round trips (native and Go core)', () => {
    const dir = freshProject();
    const mark = registry.asked.length;
    run('npm', ['install', '--no-audit', '--no-fund', '--registry', registry.url, '--cache', path.join(dir, '.npm-cache'), 'asherah-shim'], { cwd: dir });
    fetchedBoth(mark);
    assert.match(run(process.execPath, ['roundtrip.cjs', env.goLibrary], { cwd: dir }).stdout, /^OK cjs node-/m);
  });

  for (const v of env.bunVersions) {
    test(`bun ${v} add asherah-shim: round trips under that Bun (CommonJS, native and Go core; ESM)`, () => {
      const dir = freshProject();
      const mark = registry.asked.length;
      run(env.bun(v), ['add', 'asherah-shim'],
        { cwd: dir, env: { BUN_CONFIG_REGISTRY: registry.url, NPM_CONFIG_REGISTRY: registry.url, BUN_INSTALL_CACHE_DIR: path.join(dir, '.bun-cache') } });
      fetchedBoth(mark);
      assert.ok(fs.existsSync(path.join(dir, 'node_modules', 'asherah-shim-linux-x64-gnu', 'asherah-shim.linux-x64-gnu.node')));
      assert.match(run(env.bun(v), ['roundtrip.cjs', env.goLibrary], { cwd: dir }).stdout, new RegExp(`^OK cjs bun-${v.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(run(env.bun(v), ['roundtrip.mjs'], { cwd: dir }).stdout, /^OK esm bun-/m);
    });
  }

  test('pnpm add asherah-shim (isolated .pnpm layout): Node, Bun 1.4.5 and Deno round trip', () => {
    const dir = freshProject();
    const mark = registry.asked.length;
    run(process.execPath, [env.pnpm, 'add', '--store-dir', path.join(dir, '.pnpm-store'), '--cache-dir', path.join(dir, '.pnpm-cache'), 'asherah-shim'],
      { cwd: dir, env: { npm_config_registry: registry.url } });
    fetchedBoth(mark);
    // pnpm links only direct dependencies at the top; the platform package sits beside the
    // main package in .pnpm/asherah-shim@<v>/node_modules/, where the loader must look.
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'asherah-shim-linux-x64-gnu')), 'pnpm hoisted the platform package');
    assert.match(run(process.execPath, ['roundtrip.cjs', env.goLibrary], { cwd: dir }).stdout, /^OK cjs node-/m);
    assert.match(run(env.bun('1.4.5'), ['roundtrip.cjs'], { cwd: dir }).stdout, /^OK cjs bun-/m);
    assert.match(run(env.deno, ['run', '--allow-ffi', '--allow-read', 'roundtrip.cjs'], { cwd: dir }).stdout, /^OK cjs deno-/m);
  });

  test('yarn 1 add asherah-shim: Node round trips', () => {
    const dir = freshProject();
    const mark = registry.asked.length;
    run(process.execPath, [env.yarn1, 'add', '--registry', registry.url, '--cache-folder', path.join(dir, '.yarn-cache'), '--no-progress', 'asherah-shim'], { cwd: dir });
    fetchedBoth(mark);
    assert.match(run(process.execPath, ['roundtrip.cjs', env.goLibrary], { cwd: dir }).stdout, /^OK cjs node-/m);
  });

  test("yarn 4 add asherah-shim (Plug'n'Play, no node_modules): Node round trips under .pnp.cjs", () => {
    // Yarn 4 keeps packages zipped and unplugs the platform package (it holds .node files)
    // into .yarn/unplugged/; the loader reaches it through PnP's require.resolve. The age
    // gate is off because the registry's versions are minutes old.
    const dir = freshProject({
      '.yarnrc.yml': [`npmRegistryServer: "${registry.url.replace(/\/$/, '')}"`, 'unsafeHttpWhitelist: ["127.0.0.1"]',
        'enableGlobalCache: false', 'enableTelemetry: false', 'npmMinimalAgeGate: 0', ''].join('\n'),
    });
    const mark = registry.asked.length;
    run(process.execPath, [env.yarn4, 'add', 'asherah-shim'], {
      cwd: dir,
      // Yarn keeps packuments in its global folder across projects; a stale one from an
      // earlier run would point at that run's registry port.
      env: { YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_GLOBAL_FOLDER: path.join(dir, '.yarn-global') },
    });
    fetchedBoth(mark);
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules')), 'Yarn 4 made a node_modules tree');
    const r = run(process.execPath, ['--require', './.pnp.cjs', 'roundtrip.cjs', env.goLibrary], { cwd: dir });
    assert.match(r.stdout, /^OK cjs node-/m);
  });

  test('deno run with an npm:asherah-shim import and no package.json (Deno\'s global npm cache)', () => {
    const dir = freshProject();
    fs.rmSync(path.join(dir, 'package.json'));
    fs.writeFileSync(path.join(dir, 'main.mjs'), [
      "import asherah from 'npm:asherah-shim';",
      "asherah.setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });",
      "const text = 'deno npm: specifier';",
      "if (asherah.decrypt_string('p', asherah.encrypt_string('p', text)) !== text) throw new Error('round trip');",
      'asherah.shutdown();',
      "console.log('LOADED', asherah._libraries().filter((p) => p.endsWith('.node')).join(','));",
      '',
    ].join('\n'));
    const mark = registry.asked.length;
    // Deno 2.9 refuses npm versions younger than 24 hours by default; the registry's are
    // minutes old, so the gate is off here as it would be for a user trying a fresh release.
    const r = run(env.deno, ['run', '--min-dep-age=0', '--allow-ffi', '--allow-read', 'main.mjs'],
      { cwd: dir, env: { NPM_CONFIG_REGISTRY: registry.url, DENO_DIR: path.join(dir, '.deno'), NO_COLOR: '1' } });
    fetchedBoth(mark);
    const loaded = /^LOADED (.*)$/m.exec(r.stdout);
    assert.ok(loaded, r.stdout);
    assert.ok(loaded[1].startsWith(path.join(dir, '.deno', 'npm')) && loaded[1].endsWith('/asherah-shim.linux-x64-gnu.node'), loaded[1]);
  });
});
