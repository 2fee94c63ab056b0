// Run from a fresh project where the packed tarballs are installed (pkg-test/install.test.mjs):
//   <runtime> roundtrip.mjs
// ESM: named imports resolve through package.json "exports" to index.mjs; the named exports
// must equal the CommonJS module's keys, and a round trip must work. Prints "OK esm <runtime>".
import asherah, { setup, encrypt_string, decryptString, encryptStringAsync, decrypt_string_async, shutdown } from 'asherah-shim';
import * as ns from 'asherah-shim';
import { createRequire } from 'node:module';

const cjs = createRequire(import.meta.url)('asherah-shim');
const named = Object.keys(ns).filter((k) => k !== 'default').sort();
const keys = Object.keys(cjs).sort();
if (JSON.stringify(named) !== JSON.stringify(keys)) {
  throw new Error(`ESM named exports differ from the CommonJS keys: missing ${keys.filter((k) => !named.includes(k))}, extra ${named.filter((k) => !keys.includes(k))}`);
}
if (asherah !== cjs || setup !== cjs.setup) throw new Error('the ES module must re-export the CommonJS module');

setup({ ServiceName: 'svc', ProductID: 'prod', Metastore: 'memory', KMS: 'static' });
const text = 'packed esm';
if (decryptString('p', encrypt_string('p', text)) !== text) throw new Error('sync round trip');
if ((await decrypt_string_async('p', await encryptStringAsync('p', text))) !== text) throw new Error('async round trip');
shutdown();
const rt = typeof Bun !== 'undefined' ? `bun-${Bun.version}` : typeof Deno !== 'undefined' ? `deno-${Deno.version.deno}` : `node-${process.versions.node}`;
console.log(`OK esm ${rt} (${named.length} named exports)`);
