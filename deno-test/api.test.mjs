// The shared API scenarios (test-support/scenarios.cjs) under Deno (`deno test`, with
// Deno's node:test). scripts/test.sh runs it; loading the module itself needs only
// --allow-ffi --allow-read (pkg-test/install.test.mjs proves that on the packed module);
// the scenarios also spawn Workers, read the test environment and write temp files.
import { describe, test, before, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/scenarios.cjs');

register({
  describe,
  test: (name, fn) => test(name, { timeout: 60_000 }, fn),
  before,
  after,
});
