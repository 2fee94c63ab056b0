// The shared regression scenarios (test-support/regressions.cjs) under Deno.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/regressions.cjs');

register({ describe, test: (name, fn) => test(name, { timeout: 60_000 }, fn), after });
