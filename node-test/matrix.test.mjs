// The reproduction matrix (test-support/matrix.cjs) under `node --test`: Node's own row
// (the C baseline and the shim's Go core in node children). The Bun rows run under bun test.
import { describe, test, before } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { registerMatrix } = require('../test-support/matrix.cjs');

registerMatrix({ describe, test: (name, fn) => test(name, { timeout: 90_000 }, fn), before }, { only: ['node'] });
