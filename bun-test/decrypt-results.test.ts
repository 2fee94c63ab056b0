// Issue 15's small decrypt results made in JS (test-support/decrypt-results.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/decrypt-results.cjs');

register({ describe, test: (name: string, fn: () => unknown) => test(name, fn, 60_000), after: afterAll });
