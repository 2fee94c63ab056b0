// The AWS scenarios (test-support/aws.cjs) under `node --test`.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/aws.cjs');

register({
  describe,
  test: (name, fn, timeout) => test(name, { timeout }, fn),
  skip: (name, reason) => test(name, { skip: reason }, () => {}),
  after,
});
