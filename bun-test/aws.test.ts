// The AWS scenarios (test-support/aws.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/aws.cjs');

register({
  describe,
  test: (name: string, fn: () => unknown, timeout: number) => test(name, fn, timeout),
  skip: (name: string, reason: string) => test.skip(`${name} (skipped: ${reason})`, () => {}),
  after: afterAll,
});
