'use strict';
// AWS scenarios for the native core: KMS `aws` (two regions) and the DynamoDB metastore on a
// moto server that this file starts on loopback (scripts/moto.sh; a visible skip when moto
// is not installed). Registered by node-test/aws.test.mjs and bun-test/aws.test.ts; each
// scenario runs in a child process of the running runtime (fixtures/aws-child.js) so that
// the AWS settings reach the SDK only through `setenv`, bounded by a SIGKILL timeout.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const env = require('./env.cjs');
const { runWorkload } = require('../fixtures/run.cjs');

const CHILD = path.join(env.root, 'fixtures', 'aws-child.js');
const MOTO = path.join(env.root, 'scripts', 'moto.sh');
const SECRET = 'js-secret-must-not-print';
const TIMEOUT_MS = 3000;

function startMoto() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-moto-'));
  const moto = { dir };
  const r = spawnSync('bash', [MOTO, 'start', dir], { encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) {
    moto.error = `scripts/moto.sh start failed (${r.error ? r.error.message : `status ${r.status}`}): ${(r.stderr || '').trim().slice(-500)}`;
    return moto;
  }
  moto.url = r.stdout.trim();
  moto.pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim());
  moto.table = 'EncryptionKey';
  const s = spawnSync('bash', [MOTO, 'setup', moto.url, moto.table, 'us-west-2', 'us-east-1'], { encoding: 'utf8', timeout: 90_000 });
  if (s.status !== 0) {
    moto.error = `scripts/moto.sh setup failed: ${(s.stderr || '').trim().slice(-500)}`;
    return moto;
  }
  moto.regionMap = Object.fromEntries(s.stdout.trim().split('\n').map((l) => l.split('=')));
  return moto;
}

function stopMoto(moto) {
  if (!moto) return;
  spawnSync('bash', [MOTO, 'stop', moto.dir], { timeout: 60_000 });
  fs.rmSync(moto.dir, { recursive: true, force: true });
}

async function scenario(name, moto) {
  const args = { url: moto.url, table: moto.table, regionMap: moto.regionMap, motoPid: moto.pid, secret: SECRET };
  const r = await runWorkload({ runtime: process.execPath, script: CHILD, args: [name, JSON.stringify(args)], timeoutMs: 90_000 });
  assert.ok(!r.timedOut, `${name}: hung (killed after ${r.ms} ms)\n${r.stderr.slice(-2000)}`);
  const m = /^RESULT (.*)$/m.exec(r.stdout);
  assert.ok(m, `${name}: no RESULT (exit ${r.code}, signal ${r.signal})\n${r.stdout.slice(-1000)}\n${r.stderr.slice(-3000)}`);
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `${name}: the secret access key was printed`);
  return JSON.parse(m[1]);
}

function register(runner) {
  const { describe, test, skip } = runner;
  const moto = fs.existsSync(path.join(env.cache, 'moto-venv', 'bin', 'moto_server')) ? startMoto() : null;
  runner.after(() => stopMoto(moto));
  describe('AWS KMS + DynamoDB (native core, moto on loopback)', () => {
    if (!moto) {
      skip('AWS scenarios', 'moto is not installed: run scripts/deps.sh');
      return;
    }
    test('round trips, sync and async, and a new setup reads the old records', async () => {
      assert.ok(moto.url, moto.error);
      const r = await scenario('roundtrip', moto);
      assert.deepEqual(r.sync, { ok: true, value: 'sync secret', ms: r.sync.ms }, JSON.stringify(r.sync));
      assert.equal(r.enc.ok, true, JSON.stringify(r.enc));
      assert.equal(r.dec.value, 'async secret', JSON.stringify(r.dec));
      assert.equal(r.afterRestart.value, 'async secret', JSON.stringify(r.afterRestart));
      assert.equal(r.wrongPartition.ok, false);
      const record = JSON.parse(r.record);
      assert.match(record.Key.ParentKeyMeta.KeyId, /^_IK_js-\d+-a_svc_prod$/);
    }, 120_000);

    test('wrong key ARN and a stalled server: typed errors within TimeoutMs, recovery without setup', async () => {
      assert.ok(moto.url, moto.error);
      const r = await scenario('failures', moto);
      for (const w of [r.wrong, r.wrongSync]) {
        assert.equal(w.code, 'ERR_ASHERAH_KMS', JSON.stringify(w));
        assert.ok(w.ms < TIMEOUT_MS, JSON.stringify(w));
      }
      for (const s of [r.stalled, r.stalledSync]) {
        assert.equal(s.ok, false, JSON.stringify(s));
        assert.match(s.code, /^ERR_ASHERAH_(METASTORE|KMS)$/, JSON.stringify(s));
        // The call's own deadline is TimeoutMs; each AWS call gets a third of it.
        assert.ok(s.ms <= TIMEOUT_MS + 1000, `a stalled server answered in ${s.ms} ms (TimeoutMs ${TIMEOUT_MS})`);
      }
      assert.ok(r.stalled.ticks > 0, `the event loop must keep running during the stall: ${JSON.stringify(r.stalled)}`);
      assert.equal(r.warmDuring.ok, true, JSON.stringify(r.warmDuring));
      assert.equal(r.after.ok, true, `after SIGCONT, with no new setup: ${JSON.stringify(r.after)}`);
      assert.equal(r.afterDecrypt.value, 'x', JSON.stringify(r.afterDecrypt));
    }, 120_000);
  });
}

module.exports = { register, moto: { startMoto, stopMoto } };
