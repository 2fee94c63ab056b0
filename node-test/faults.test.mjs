// The fault scenarios (test-support/faults.cjs) under `node --test`.
import { describe, test, before, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/faults.cjs');

register({ describe, test: (name, fn) => test(name, { timeout: 120_000 }, fn), before, after });
