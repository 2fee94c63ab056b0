// asherah-shim as an ES module: the CommonJS module (index.js) re-exported, with a named
// export for each of its keys. node-test/esm.test.mjs (and the packed-install test) check
// that this list equals the CommonJS module's keys, so an export added to the native
// module or to index.js without a line here fails the tests instead of going missing.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const shim = require('./index.js');
export default shim;

export const {
  setup, setup_async, setupAsync,
  shutdown, shutdown_async, shutdownAsync,
  encrypt, encrypt_async, encryptAsync,
  encrypt_string, encryptString, encrypt_string_async, encryptStringAsync,
  decrypt, decrypt_async, decryptAsync,
  decrypt_string, decryptString, decrypt_string_async, decryptStringAsync,
  get_setup_status, getSetupStatus,
  set_log_hook, setLogHook,
  setenv,
  set_max_stack_alloc_item_size, setMaxStackAllocItemSize,
  set_safety_padding_overhead, setSafetyPaddingOverhead,
  signal_report, signalReport,
  set_metrics_hook, setMetricsHook,
  SessionFactory, AsherahSession, clearPlaintext,
  _diagnostics, _threads, _signals, _libraries, _instance_id, _decrypt_scratch, _decrypt_into,
  _decrypt_async_into, _encrypt_async_into,
} = shim;
