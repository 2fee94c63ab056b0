// Issue 15's CoreAffinity key (test-support/core-affinity.cjs) under `node --test`.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/core-affinity.cjs');

register({ describe, test: (name, fn) => test(name, { timeout: 60_000 }, fn), after });
