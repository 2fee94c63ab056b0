#!/usr/bin/env python3
"""The PyPI `asherah` 0.5.x package (GoDaddy's Rust Asherah core behind Python) as a peer.

usage: peer.py <sqlite-file> <in.jsonl> <out.jsonl> <partition>...
Decrypts every [partition, plaintext, record] line of <in.jsonl> (written by the native
core) and checks the plaintext; then encrypts one record per <partition> and writes them as
[partition, plaintext, record] lines to <out.jsonl>. Static KMS with Go's test master key.
Exit status 0 on success; 3 if the package is missing."""
import json
import sys

try:
    import asherah
except ImportError:
    sys.exit(3)

db, inp, out, *partitions = sys.argv[1:]
asherah.setup({
    "ServiceName": "svc",
    "ProductID": "prod",
    "Metastore": "rdbms",
    "ConnectionString": "sqlite://" + db,
    "KMS": "static",
    "StaticMasterKeyHex": b"thisIsAStaticMasterKeyForTesting".hex(),
    "EnableSessionCaching": True,
})
try:
    n = 0
    with open(inp) as f:
        for line in f:
            partition, plaintext, record = json.loads(line)
            got = asherah.decrypt_bytes(partition, record)
            if got != plaintext.encode():
                sys.exit(f"peer: wrong plaintext for a {partition} record")
            n += 1
    with open(out, "w") as f:
        for p in partitions:
            text = f"written by the python peer for {p}"
            f.write(json.dumps([p, text, asherah.encrypt_bytes(p, text.encode())]) + "\n")
    print(f"peer: asherah {asherah.version()} decrypted {n} native records, wrote {len(partitions)}")
finally:
    asherah.shutdown()
