// Issue 15's small decrypt results made in JS (test-support/decrypt-results.cjs) under `node --test`.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/decrypt-results.cjs');

register({ describe, test: (name, fn) => test(name, { timeout: 60_000 }, fn), after });
