// Regression test for lost completions: Bun 1.2.19 and 1.3.14 drop an occasional
// thread-safe-function call, which once left async promises unsettled forever
// (bench/tsfn-stall.cjs stalled 5/5 runs within 1M calls). The shim now rings on every
// completion and the watchdog re-rings stranded queues; every pinned Bun must finish 1M
// async calls at concurrency 64. Children are bounded; they run once (first runner).
import { describe, test, expect } from 'bun:test';
import { spawn } from 'node:child_process';

const env = require('../test-support/env.cjs');
const skip = process.env.ASHERAH_SHIM_SKIP_MATRIX === '1';

function stallRun(bun: string, calls: number, timeoutMs: number): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(bun, [`${env.root}/bench/tsfn-stall.cjs`, String(calls)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ out, code }); });
  });
}

describe('async completions are never lost', () => {
  for (const version of ['1.2.19', '1.3.14', '1.4.5']) {
    (skip ? test.skip : test)(`Bun ${version}: 1M async encrypts at concurrency 64 all settle`, async () => {
      const r = await stallRun(env.bun(version), 1_000_000, 150_000);
      expect(r.out).toContain('OK 1000000');
      expect(r.out).not.toContain('STALL');
      expect(r.code).toBe(0);
    }, 160_000);
  }
});
