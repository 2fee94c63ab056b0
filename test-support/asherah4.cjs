'use strict';
// asherah 4.x (GoDaddy's Rust `asherah` npm package) programs run unchanged: its sample
// program (fixtures/asherah4-sample.mjs), SessionFactory and sessions, setMetricsHook, camelCase
// config, the event-object log hook; and issue 13's logging items: libasherah's own lines
// reach the log hook, queued events are delivered before an uncaught throw ends the process,
// key events are logged at debug level without key material. Registered by
// node-test/asherah4.test.mjs and bun-test/asherah4.test.ts.
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const env = require('./env.cjs');
const { thrown } = require('./regressions.cjs');

const asherah = require(env.root);

const camel = (extra = {}) => ({
  serviceName: 'svc4', productId: 'prod4', metastore: 'memory', kms: 'static', ...extra,
});


/** Runs a script with this runtime (Node or the Bun under test), bounded by a timeout. */
function run(args) {
  const r = spawnSync(process.execPath, args, {
    cwd: env.root, encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL',
    env: { ...process.env, ASHERAH_GO_LIBRARY: env.goLibrary },
  });
  // A child that ran and exited non-zero is a result, not a spawn failure (Bun 1.2.0 sets
  // `error` for it too, with the exit status in `status`).
  assert.ok(r.error === undefined || (r.status !== null && r.status !== 0), `spawn: ${r.error}`);
  return r;
}

/** Waits (up to 20 s, polling) until `done()` holds; events arrive on later ticks. */
async function until(done, what) {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(done(), `timed out waiting for ${what}`);
}

function register(runner) {
  const { describe, test, after } = runner;
  after(() => {
    asherah.setMetricsHook(null);
    asherah.setLogHook(null);
    asherah.shutdown();
  });

  describe('asherah 4.x drop-in', () => {
    test("4.x's sample program (samples/node/index.mjs) runs unchanged but for its import", () => {
      const r = run([path.join(env.root, 'fixtures', 'asherah4-sample.mjs')]);
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
      const out = r.stdout;
      assert.match(out, /^\[static\] decrypted: Hello from Node\.js!$/m);
      assert.match(out, /^\[static\] binary roundtrip: deadbeef$/m);
      assert.match(out, /^\[session\] tenant-a: secret for tenant A$/m);
      assert.match(out, /^\[session\] tenant-b: secret for tenant B$/m);
      assert.match(out, /^\[session\] cross-tenant decrypt correctly rejected: /m);
      assert.match(out, /^\[async\] decrypted: async payload$/m);
      const logged = Number(/^\[log\] received (\d+) log events total$/m.exec(out)?.[1]);
      assert.ok(logged > 0, `log events: ${out}`);
      const metrics = JSON.parse(/^\[metrics\] (.*)$/m.exec(out)[1]);
      assert.equal(metrics.encrypt, 5);
      assert.equal(metrics.decrypt, 5);
      assert.ok(metrics.cacheHit >= 10 && metrics.cacheMiss >= 1, JSON.stringify(metrics));
      assert.ok(metrics.store >= 1 && metrics.load >= 1, JSON.stringify(metrics));
    });

    test('camelCase config: accepted, durations in seconds; mixed styles and typos name the key and its spelling', () => {
      asherah.shutdown();
      asherah.setup(camel({ expireAfter: 7200, checkInterval: 600, sessionCacheDuration: '1h' }));
      assert.equal(asherah.decryptString('p', asherah.encryptString('p', 'x')), 'x');
      asherah.shutdown();
      const cases = [
        [{ ...camel(), ProductID: 'p' }, /mixes camelCase and PascalCase/, /"ProductID"|"productId"/],
        [{ ...camel(), prodcutId: 'x' }, /unknown configuration key "prodcutId"/, /did you mean "productId"/],
        [{ ServiceName: 's', ProductID: 'p', Metastore: 'memory', Metastor: 'x' }, /"Metastor"/, /did you mean "Metastore"/],
        [camel({ vaultToken: 'hunter2-secret' }), /vaultToken is an asherah 4.x option/, /not support/],
        [camel({ expireAfter: 1.5 }), /expireAfter must be a whole/, /seconds/],
        [{ productId: 'p', metastore: 'memory' }, /^invalid configuration: serviceName is required/, /./],
      ];
      for (const [config, ...patterns] of cases) {
        const e = thrown(() => asherah.setup(config));
        assert.equal(e.code, 'ERR_ASHERAH_CONFIG', e.message);
        for (const p of patterns) assert.match(e.message, p);
        assert.doesNotMatch(e.message, /hunter2/);
        assert.equal(asherah.getSetupStatus(), false);
      }
    });

    test('SessionFactory: sessions per partition, one factory at a time, typed errors after close or replacement', async () => {
      asherah.shutdown();
      const factory = new asherah.SessionFactory(camel());
      const a = factory.getSession('tenant-a');
      const b = factory.getSession('tenant-b');
      const ct = a.encryptString('secret a');
      assert.equal(a.decryptString(ct), 'secret a');
      assert.deepEqual(b.decrypt(b.encrypt(Buffer.from([1, 2, 3]))), Buffer.from([1, 2, 3]));
      assert.equal(await a.decryptStringAsync(await a.encryptStringAsync('z')), 'z');
      assert.equal(thrown(() => b.decryptString(ct)).code, 'ERR_ASHERAH_DECRYPT_FAILED');
      assert.equal(asherah.decryptString('tenant-a', ct), 'secret a', 'the module API sees the same instance');

      const second = thrown(() => new asherah.SessionFactory(camel()));
      assert.equal(second.code, 'ERR_ASHERAH_ALREADY_INITIALIZED');
      assert.match(second.message, /SessionFactory/);
      const typeErr = thrown(() => factory.getSession(''));
      assert.equal(typeErr.code, 'ERR_ASHERAH_INVALID_ARGUMENT');
      assert.ok(typeErr instanceof TypeError);
      assert.equal(thrown(() => factory.getSession(null)).code, 'ERR_ASHERAH_INVALID_ARGUMENT');

      a.close();
      a.close();
      assert.equal(thrown(() => a.encryptString('x')).code, 'ERR_ASHERAH_SESSION_CLOSED');
      await assert.rejects(a.encryptStringAsync('x'), { code: 'ERR_ASHERAH_SESSION_CLOSED' });
      assert.equal(b.decryptString(b.encryptString('still open')), 'still open');

      // Someone else shuts the instance down and sets up another: the old factory's sessions
      // must fail, never reach the new instance.
      asherah.shutdown();
      assert.equal(thrown(() => b.encryptString('x')).code, 'ERR_ASHERAH_NOT_INITIALIZED');
      asherah.setup(camel({ serviceName: 'other' }));
      assert.equal(thrown(() => b.encryptString('x')).code, 'ERR_ASHERAH_FACTORY_CLOSED');
      assert.equal(thrown(() => factory.getSession('t')).code, 'ERR_ASHERAH_FACTORY_CLOSED');
      factory.close();
      assert.equal(asherah.getSetupStatus(), true, "closing a replaced factory leaves the new instance alone");
      asherah.shutdown();

      const f2 = new asherah.SessionFactory({ ServiceName: 's', ProductID: 'p', Metastore: 'memory', KMS: 'static' });
      f2.close();
      f2.close();
      assert.equal(asherah.getSetupStatus(), false);
      assert.equal(thrown(() => f2.getSession('t')).code, 'ERR_ASHERAH_FACTORY_CLOSED');
      assert.equal(thrown(() => asherah.SessionFactory.fromEnv()).code, 'ERR_ASHERAH_CONFIG');
      const buf = Buffer.from('plain');
      asherah.clearPlaintext(buf);
      assert.deepEqual(buf, Buffer.alloc(5));
    });

    test('SessionFactory over the Go core (libasherah)', () => {
      asherah.shutdown();
      const factory = new asherah.SessionFactory(camel({ core: 'go', goLibrary: env.goLibrary }));
      try {
        const s = factory.getSession('go-tenant');
        assert.equal(s.decryptString(s.encryptString('via go')), 'via go');
      } finally {
        factory.close();
      }
      assert.equal(asherah.getSetupStatus(), false);
    });

    for (const core of ['native', 'go']) {
      test(`setMetricsHook (${core} core): durations${core === 'native' ? ', cache hit/miss and store/load' : ' only'}, on the JS thread, nothing after removal`, async () => {
        asherah.shutdown();
        asherah.setup(camel({ core, goLibrary: env.goLibrary }));
        const events = [];
        asherah.setMetricsHook((event) => events.push(event));
        try {
          for (let i = 0; i < 3; i++) asherah.decryptString('m', asherah.encryptString('m', `v${i}`));
          await asherah.decryptStringAsync('m', await asherah.encryptStringAsync('m', 'async'));
          await asherah.decryptAsync('m', await asherah.encryptAsync('m', Buffer.alloc(64 << 10, 7)));
          const count = (type) => events.filter((e) => e.type === type).length;
          await until(() => count('encrypt') >= 5 && count('decrypt') >= 5, 'metrics events');
          for (const e of events) {
            assert.equal(typeof e.type, 'string');
            if ('durationNs' in e) {
              assert.ok(['encrypt', 'decrypt', 'store', 'load'].includes(e.type), e.type);
              assert.ok(Number.isFinite(e.durationNs) && e.durationNs >= 0, JSON.stringify(e));
            } else {
              assert.ok(['cache_hit', 'cache_miss', 'cache_stale'].includes(e.type), e.type);
              assert.ok(['session', 'ik', 'sk'].includes(e.name), JSON.stringify(e));
            }
          }
          if (core === 'native') {
            assert.ok(count('cache_miss') >= 1 && count('cache_hit') >= 4, JSON.stringify(events));
            assert.ok(count('store') >= 1 && count('load') >= 1);
          } else {
            assert.deepEqual(events.filter((e) => !['encrypt', 'decrypt'].includes(e.type)), [], 'libasherah has no cache hooks');
          }
        } finally {
          asherah.setMetricsHook(null);
        }
        const seen = events.length;
        asherah.decryptString('m', asherah.encryptString('m', 'after'));
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(events.length, seen, 'no events after setMetricsHook(null)');
        assert.equal(thrown(() => asherah.setMetricsHook(42)).code, 'ERR_ASHERAH_INVALID_ARGUMENT');
        asherah.shutdown();
      });
    }

    for (const core of ['native', 'go']) {
      test(`setMetricsHook (${core} core): exactly one duration event per call, sync or async, inline or on a core-host thread`, async () => {
        // A sync decrypt that finds its core is not inline (the Go core) is handed to a
        // core-host thread by its caller; the first pass must not be reported as a call of
        // its own. Small and large inputs, so that the native core runs some async calls
        // inline and hosts others.
        asherah.shutdown();
        asherah.setup(camel({ core, goLibrary: env.goLibrary }));
        const events = [];
        asherah.setMetricsHook((event) => events.push(event));
        try {
          const small = Buffer.from('metrics');
          const large = Buffer.alloc(256 << 10, 3);
          let calls = 0;
          for (const data of [small, large]) {
            const rec = asherah.encrypt('m', data);
            assert.ok(asherah.decrypt('m', rec).equals(data));
            assert.equal(asherah.decryptString('m', asherah.encryptString('m', 'text')), 'text');
            assert.ok((await asherah.decryptAsync('m', await asherah.encryptAsync('m', data))).equals(data));
            calls += 3;
          }
          const count = (type) => events.filter((e) => e.type === type).length;
          await until(() => count('encrypt') >= calls && count('decrypt') >= calls, 'metrics events');
          await new Promise((r) => setTimeout(r, 100));
          assert.equal(count('encrypt'), calls, `encrypt events for ${calls} encrypts`);
          assert.equal(count('decrypt'), calls, `decrypt events for ${calls} decrypts`);
        } finally {
          asherah.setMetricsHook(null);
          asherah.shutdown();
        }
      });
    }

    test('setMetricsHook: a Worker that owned the hook and exits with events undelivered leaves it working for the next owner', () => {
      // Before the fix, the Worker's exit dropped the delivery it had queued, and with it
      // the process-wide "delivery queued" flag stayed set: no hook got an event again
      // (every round printed 0 on Bun; on Node when a hosted call's events raced the exit).
      // Bun 1.2.x ends the whole process when a Worker calls process.exit(), which this
      // needs (a terminated Worker drains its queue there, and the old build passed).
      if (process.versions.bun && /^1\.[0-2]\./.test(process.versions.bun)) return;
      const r = run([path.join(__dirname, 'asherah4-child.cjs'), 'metrics-worker']);
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
      const rounds = [...r.stdout.matchAll(/^ROUND (\d+) (\d+)$/gm)].map((m) => Number(m[2]));
      assert.equal(rounds.length, 6, r.stdout);
      assert.match(r.stdout, /^DONE$/m);
      assert.ok(rounds.every((n) => n > 0), `metrics events per round after the Worker's exit: ${rounds}`);
    });

    test('setMetricsHook: events recorded after another thread took the hook over go to the new hook, not the old one', () => {
      // Before the fix, a delivery queued on the Worker before the handover ran there later
      // and handed the main thread's events to the Worker's hook ("WORKER 24 MAIN 0 0"), and
      // the main hook got nothing while the Worker's JS thread was busy.
      const r = run([path.join(__dirname, 'asherah4-child.cjs'), 'metrics-handover']);
      assert.equal(r.status, 0, `exit ${r.status} ${r.signal}\n${r.stdout}\n${r.stderr}`);
      const m = /^WORKER (\d+) MAIN (-?\d+) (\d+)$/m.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.equal(Number(m[1]), 0, `the Worker's replaced hook got events: ${r.stdout}`);
      assert.ok(Number(m[2]) >= 5, `the main hook waited for the busy Worker: ${r.stdout}`);
      assert.ok(Number(m[3]) >= 5, `the main thread's hook missed its encrypts: ${r.stdout}`);
    });

    test("log hook: one parameter gets 4.x's event objects, two get (level, message); key events at debug level without key material", async () => {
      asherah.shutdown();
      const objects = [];
      asherah.setLogHook((event) => objects.push(event));
      let record;
      try {
        asherah.setup(camel());
        record = asherah.encryptString('log-partition', 'log data');
        await until(() => objects.some((e) => /intermediate key created/.test(e.message)), 'key events');
      } finally {
        asherah.setLogHook(null);
        asherah.shutdown();
      }
      const setupEvent = objects.find((e) => /setup complete/.test(e.message));
      assert.deepEqual(
        { level: setupEvent.level, target: setupEvent.target, severity: setupEvent.severity },
        { level: 'info', target: 'asherah-shim', severity: 6 },
      );
      const keyEvents = objects.filter((e) => e.target === 'asherah-shim::native');
      assert.ok(keyEvents.some((e) => /system key created/.test(e.message)), JSON.stringify(keyEvents));
      assert.ok(keyEvents.some((e) => /cache: miss/.test(e.message)));
      for (const e of keyEvents) {
        assert.equal(e.level, 'debug');
        assert.equal(e.severity, 7);
      }
      const drk = JSON.parse(record).Key.Key;
      for (const e of objects) {
        assert.ok(!e.message.includes(drk) && !e.message.includes('log-partition'), e.message);
      }

      const pairs = [];
      asherah.setLogHook((level, message) => pairs.push([level, message]));
      try {
        asherah.setup(camel());
        await until(() => pairs.some(([, m]) => /setup complete/.test(m)), 'the setup event');
      } finally {
        asherah.setLogHook(null);
        asherah.shutdown();
      }
      assert.ok(pairs.every(([level, message]) => typeof level === 'number' && typeof message === 'string'));
    });

    test('an uncaught sync setup error still delivers the queued log event first (child process)', () => {
      const r = run([path.join(__dirname, 'asherah4-child.cjs'), 'flush']);
      assert.notEqual(r.status, 0, 'the child dies of the uncaught error');
      assert.doesNotMatch(r.stdout, /not reached/);
      assert.match(r.stdout, /^HOOK .*"level":"error".*setup failed/m, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      assert.match(r.stderr, /cannot load the Go library/);
    });

    test("libasherah's own log lines go to stderr without a hook, to the hook with one; the user's stderr keeps its order (child processes)", () => {
      const plain = run([path.join(__dirname, 'asherah4-child.cjs'), 'golog', env.goLibrary]);
      assert.equal(plain.status, 0, plain.stderr);
      assert.match(plain.stderr, /^asherah-cobhan: .*MEMORY METASTORE/m);

      const hooked = run([path.join(__dirname, 'asherah4-child.cjs'), 'golog-hook', env.goLibrary]);
      assert.equal(hooked.status, 0, `${hooked.stdout}\n${hooked.stderr}`);
      assert.doesNotMatch(hooked.stderr, /asherah-cobhan/);
      const user = hooked.stderr.split('\n').filter((l) => l.startsWith('USER-'));
      assert.deepEqual(user, ['USER-1', 'USER-2', 'USER-3 partial line', 'USER-4']);
      const goEvents = hooked.stdout.split('\n').filter((l) => l.startsWith('HOOK '))
        .map((l) => JSON.parse(l.slice(5))).filter((e) => e.target === 'asherah-cobhan');
      assert.ok(goEvents.some((e) => /MEMORY METASTORE/.test(e.message) && e.level === 'warn'), hooked.stdout);
      assert.ok(goEvents.some((e) => /STATIC MASTER KEY/.test(e.message)), hooked.stdout);
    });
  });
}

module.exports = { register };
