// Issue 15's large results (test-support/large-results.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/large-results.cjs');

register({ describe, test: (name: string, fn: () => unknown) => test(name, fn, 60_000), after: afterAll });
