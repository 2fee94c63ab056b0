// The "keep it found" suites of issue 10 under `bun test`: property tests at the N-API
// boundary (test-support/properties.cjs) and the bad-input table (test-support/bad-inputs.cjs).
import { describe, test } from 'bun:test';

const runner = { describe, test: (name: string, fn: () => unknown) => test(name, fn, 120_000) };
require('../test-support/properties.cjs').register(runner);
require('../test-support/bad-inputs.cjs').register(runner);
