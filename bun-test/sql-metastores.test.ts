// The MySQL and TLS metastore scenarios (test-support/sql-metastores.cjs) under `bun test`.
import { describe, test, afterAll } from 'bun:test';

const { register } = require('../test-support/sql-metastores.cjs');

register({
  describe,
  test: (name: string, fn: () => unknown, timeout: number) => test(name, fn, timeout),
  after: afterAll,
});
