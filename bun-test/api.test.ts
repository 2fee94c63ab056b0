// The shared API scenarios (test-support/scenarios.cjs) under `bun test`.
import { describe, test, beforeAll, afterAll } from 'bun:test';

const { register } = require('../test-support/scenarios.cjs');

register({
  describe,
  test: (name: string, fn: () => unknown) => test(name, fn, 60_000),
  before: beforeAll,
  after: afterAll,
});
