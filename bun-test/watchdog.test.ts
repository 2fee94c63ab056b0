// The watchdog scenarios (test-support/matrix.cjs) under `bun test`: a stand-in libasherah
// whose SetupJson never returns, in child processes of this Bun.
import { describe, test, beforeAll } from 'bun:test';

const { registerWatchdog } = require('../test-support/matrix.cjs');

registerWatchdog({
  describe,
  test: (name: string, fn: () => unknown) => test(name, fn, 30_000),
  before: (fn: () => unknown) => beforeAll(fn, 120_000),
});
