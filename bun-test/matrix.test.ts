// The reproduction matrix (test-support/matrix.cjs) under `bun test`: for every pinned Bun
// release and Node, the C baseline (libasherah on the JS thread) against the shim's Go core,
// each in a child process bounded by a timeout. The child matrix runs once per CI run: the
// test command sets ASHERAH_SHIM_SKIP_MATRIX=1 for every bun runner after the first.
import { describe, test, beforeAll } from 'bun:test';

const { registerMatrix } = require('../test-support/matrix.cjs');

registerMatrix({
  describe,
  test: (name: string, fn: () => unknown) => test(name, fn, 90_000),
  before: (fn: () => unknown) => beforeAll(fn, 120_000),
});
