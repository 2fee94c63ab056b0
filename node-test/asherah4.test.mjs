// asherah 4.x drop-in and logging scenarios (test-support/asherah4.cjs) under `node --test`.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/asherah4.cjs');

register({ describe, test: (name, fn) => test(name, { timeout: 180_000 }, fn), after });
