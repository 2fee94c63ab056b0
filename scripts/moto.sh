#!/usr/bin/env bash
# Throw-away AWS (KMS + DynamoDB) for tests: a moto server on loopback.
#   scripts/moto.sh start <dir>   start moto_server on 127.0.0.1 (a free port), wait until it
#                                 answers, print its URL on stdout (http://127.0.0.1:<port>);
#                                 the pid goes to <dir>/pid, the log to <dir>/server.log
#   scripts/moto.sh stop <dir>    stop it (SIGTERM, then SIGKILL); the directory is left
#   scripts/moto.sh setup <url> <table> <region>...
#                                 create the DynamoDB table <table> (Go's schema: Id S hash,
#                                 Created N range) in the first region and one symmetric KMS
#                                 key per region; print "region=arn" per line on stdout
# Python comes from $MOTO_PYTHON (the venv scripts/deps.sh makes). Every step is bounded.
set -euo pipefail

cmd=${1:-}
MOTO_PYTHON=${MOTO_PYTHON:-${ASHERAH_SHIM_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}/moto-venv/bin/python}
[ -x "$MOTO_PYTHON" ] || { echo "moto.sh: no moto venv (run scripts/deps.sh)" >&2; exit 3; }
# Test credentials only; never real ones, and never the instance metadata service.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export AWS_EC2_METADATA_DISABLED=true

case "$cmd" in
start)
  dir=${2:?usage: moto.sh start <dir>}
  mkdir -p "$dir"
  port=$("$MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # setsid: its own process group, so stop can end the server and any children together.
  setsid "$(dirname "$MOTO_PYTHON")/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
  echo $! >"$dir/pid"
  url="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    if "$MOTO_PYTHON" - "$url" <<'PY' 2>/dev/null; then echo "$url"; exit 0; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2).read()
PY
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "moto.sh: server did not answer within 60 s" >&2; cat "$dir/server.log" >&2; exit 1
  ;;
stop)
  dir=${2:?usage: moto.sh stop <dir>}
  [ -f "$dir/pid" ] || exit 0
  pid=$(cat "$dir/pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
  ;;
setup)
  url=${2:?}; table=${3:?}; shift 3
  [ $# -ge 1 ] || { echo "usage: moto.sh setup <url> <table> <region>..." >&2; exit 2; }
  timeout 60 "$MOTO_PYTHON" - "$url" "$table" "$@" <<'PY'
import sys, boto3
url, table, regions = sys.argv[1], sys.argv[2], sys.argv[3:]
ddb = boto3.client("dynamodb", endpoint_url=url, region_name=regions[0])
if table not in ddb.list_tables()["TableNames"]:
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"},
                   {"AttributeName": "Created", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "S"},
                              {"AttributeName": "Created", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST")
for region in regions:
    kms = boto3.client("kms", endpoint_url=url, region_name=region)
    print(f"{region}={kms.create_key()['KeyMetadata']['Arn']}")
PY
  ;;
*)
  echo "usage: $0 start|stop <dir> | setup <url> <table> <region>..." >&2; exit 2
  ;;
esac
