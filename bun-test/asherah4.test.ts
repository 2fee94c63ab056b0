// asherah 4.x drop-in and logging scenarios (test-support/asherah4.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/asherah4.cjs');

register({ describe, test: (name: string, fn: () => unknown) => test(name, fn, 180_000), after: afterAll });
