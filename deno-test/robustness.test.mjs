// The shared property and bad-input suites (test-support/properties.cjs, bad-inputs.cjs)
// under Deno.
import { describe, test } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const runner = { describe, test: (name, fn) => test(name, { timeout: 120_000 }, fn) };
require('../test-support/properties.cjs').register(runner);
require('../test-support/bad-inputs.cjs').register(runner);
