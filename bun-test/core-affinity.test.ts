// Issue 15's CoreAffinity key (test-support/core-affinity.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/core-affinity.cjs');

register({ describe, test: (name: string, fn: () => unknown) => test(name, fn, 60_000), after: afterAll });
