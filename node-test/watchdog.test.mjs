// The watchdog scenarios (test-support/matrix.cjs) under `node --test`: a stand-in
// libasherah whose SetupJson never returns, in node children.
import { describe, test, before } from 'node:test';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { registerWatchdog } = require('../test-support/matrix.cjs');

registerWatchdog({ describe, test: (name, fn) => test(name, { timeout: 30_000 }, fn), before });
