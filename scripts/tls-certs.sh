#!/usr/bin/env bash
# Throw-away TLS material for test servers, made with the openssl CLI:
#   scripts/tls-certs.sh <dir>   writes <dir>/ca.pem (a self-signed CA), <dir>/server.pem
#                                and <dir>/server-key.pem (a server certificate it signed,
#                                for DNS:localhost and IP:127.0.0.1), and <dir>/other-ca.pem
#                                (an unrelated CA, to test that a wrong root is refused).
# Idempotent: existing files are kept. Keys are mode 0600; nothing is printed.
set -euo pipefail
dir=${1:?usage: $0 <dir>}
mkdir -p "$dir"
cd "$dir"
[ -f server.pem ] && [ -f other-ca.pem ] && exit 0
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=asherah-shim test CA" -keyout ca-key.pem -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout server-key.pem -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
  -extfile server.ext -out server.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=unrelated CA" -keyout other-ca-key.pem -out other-ca.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 0644 ca.pem server.pem other-ca.pem
