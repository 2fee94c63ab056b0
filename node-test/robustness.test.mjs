// The "keep it found" suites of issue 10 under `node --test`: property tests at the N-API
// boundary (test-support/properties.cjs) and the bad-input table (test-support/bad-inputs.cjs).
import { describe, test } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const runner = { describe, test: (name, fn) => test(name, { timeout: 120_000 }, fn) };
require('../test-support/properties.cjs').register(runner);
require('../test-support/bad-inputs.cjs').register(runner);
