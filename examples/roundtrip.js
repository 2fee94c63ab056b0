'use strict';
// The main job: a real encrypt/decrypt round trip on the default configuration, with both
// cores, under whichever runtime runs this file (node or bun):
//   1. the native core (the default) on the embedded, persistent SQLite metastore;
//   2. the Go core (the real libasherah) on the memory metastore, with the signal report.
// Both use the static KMS (Go's built-in test master key): for trying things out only.
const fs = require('node:fs');
const path = require('node:path');
const asherah = require('..');

const runtime = typeof Bun !== 'undefined' ? `Bun ${Bun.version}` : `Node ${process.version}`;
const dataDir = process.env.ASHERAH_DEMO_DIR || path.join(__dirname, '..', '.cache', 'demo');
fs.mkdirSync(dataDir, { recursive: true });

function roundTrip(label, config) {
  asherah.setup(config);
  try {
    const secret = `hello from ${runtime} via the ${label} core`;
    const record = asherah.encrypt_string('demo-partition', secret);
    const back = asherah.decrypt_string('demo-partition', record);
    if (back !== secret) throw new Error(`${label}: round trip returned ${JSON.stringify(back)}`);
    const keyId = JSON.parse(record).Key.ParentKeyMeta.KeyId;
    console.log(`[${runtime}] ${label}: ok, ${record.length}-byte DataRowRecord under ${keyId}`);
    return asherah;
  } finally {
    if (label !== 'go') asherah.shutdown();
  }
}

roundTrip('native', {
  ServiceName: 'demo-service',
  ProductID: 'demo-product',
  Metastore: 'rdbms',
  ConnectionString: `sqlite://${path.join(dataDir, 'keys.db')}`,
  KMS: 'static',
});

const goLibrary = process.env.ASHERAH_GO_LIBRARY;
if (goLibrary) {
  roundTrip('go', {
    ServiceName: 'demo-service',
    ProductID: 'demo-product',
    Metastore: 'memory',
    KMS: 'static',
    Core: 'go',
    GoLibrary: goLibrary,
  });
  const repaired = asherah.signalReport().filter((d) => d.restored).map((d) => `${d.name}:${d.action}`);
  console.log(`[${runtime}] go: signal guard repaired ${repaired.join(', ') || 'nothing'}`);
  asherah.shutdown();
} else {
  console.log(`[${runtime}] go: skipped (set ASHERAH_GO_LIBRARY; scripts/demo.sh does)`);
}
