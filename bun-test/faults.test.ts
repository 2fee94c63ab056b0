// The fault scenarios (test-support/faults.cjs) under `bun test`.
import { describe, test, beforeAll, afterAll } from 'bun:test';

const { register } = require('../test-support/faults.cjs');

register({
  describe,
  test: (name: string, fn: () => unknown) => test(name, fn, 120_000),
  before: beforeAll,
  after: afterAll,
});
