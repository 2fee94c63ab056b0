// Issue 10's regression examples (test-support/regressions.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/regressions.cjs');

register({ describe, test: (name: string, fn: () => unknown) => test(name, fn, 60_000), after: afterAll });
