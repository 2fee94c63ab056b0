// The shared API scenarios (test-support/scenarios.cjs) under `node --test`.
import { describe, test, before, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/scenarios.cjs');

register({
  describe,
  test: (name, fn) => test(name, { timeout: 60_000 }, fn),
  before,
  after,
});
