// The MySQL and TLS metastore scenarios (test-support/sql-metastores.cjs) under `node --test`.
import { describe, test, after } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { register } = require('../test-support/sql-metastores.cjs');

register({
  describe,
  test: (name, fn, timeout) => test(name, { timeout }, fn),
  after,
});
