#!/usr/bin/env bash
# Throw-away PostgreSQL cluster for tests.
#   scripts/pg.sh start <dir>   initdb a cluster in <dir>, start it on 127.0.0.1 (free port,
#                               trust auth), create database `asherah`, print its URL on stdout:
#                               postgres://postgres@127.0.0.1:<port>/asherah?sslmode=disable
#   scripts/pg.sh start <dir> --tls
#                               the same with TLS: ssl=on with a certificate signed by a CA
#                               made here (scripts/tls-certs.sh; <dir>/tls/ca.pem is the root to
#                               trust), TCP clients must use TLS and a password (hostssl,
#                               scram-sha-256; hostnossl rejected); prints
#                               postgres://postgres:<password>@127.0.0.1:<port>/asherah?sslmode=verify-full&sslrootcert=<dir>/tls/ca.pem
#   scripts/pg.sh stop <dir>    stop the cluster (the directory is left for the caller to remove)
#   scripts/pg.sh resume <dir>  start a stopped cluster again, on the same port
# Binaries come from $PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin).
# PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres`
# user via runuser, and <dir> is handed to that user. Every step is bounded by a timeout.
set -euo pipefail

cmd=${1:-}; dir=${2:-}; opt=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop <dir>" >&2; exit 2
fi
PG_BINDIR=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BINDIR/pg_ctl" ] || { echo "pg.sh: no PostgreSQL binaries (set PG_BINDIR)" >&2; exit 3; }

as_pg() { # run a command as the cluster owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  data="$dir/data"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_pg timeout 60 "$PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  if [ "$opt" = "--tls" ]; then
    bash "$HERE/tls-certs.sh" "$dir/tls"
    # The server reads its key as the cluster owner, and refuses a key others can read.
    cp "$dir/tls/server.pem" "$dir/tls/server-key.pem" "$data/"
    [ "$(id -u)" = 0 ] && chown postgres: "$data/server.pem" "$data/server-key.pem"
    chmod 0600 "$data/server-key.pem"
    printf '%s\n' "ssl = on" "ssl_cert_file = 'server.pem'" "ssl_key_file = 'server-key.pem'" \
      "password_encryption = 'scram-sha-256'" >>"$data/postgresql.conf"
    printf '%s\n' "local all all trust" "hostssl all all 127.0.0.1/32 scram-sha-256" \
      "hostnossl all all 127.0.0.1/32 reject" >"$data/pg_hba.conf"
  fi
  # Unix socket in <dir> (not /var/run/postgresql, which may not exist); TCP on loopback only.
  as_pg timeout 60 "$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  if [ "$opt" = "--tls" ]; then
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    (umask 077; echo "$password" >"$dir/password")
    as_pg timeout 30 "$PG_BINDIR/createdb" -h "$dir" -p "$port" -U postgres asherah
    as_pg timeout 30 "$PG_BINDIR/psql" -h "$dir" -p "$port" -U postgres -q -d asherah \
      -c "ALTER USER postgres PASSWORD '$password'" >/dev/null
    echo "postgres://postgres:$password@127.0.0.1:$port/asherah?sslmode=verify-full&sslrootcert=$dir/tls/ca.pem"
  else
    as_pg timeout 30 "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$port" -U postgres asherah
    echo "postgres://postgres@127.0.0.1:$port/asherah?sslmode=disable"
  fi
  ;;
resume)
  dir=$(cd "$dir" && pwd)
  port=$(cat "$dir/port")
  as_pg timeout 60 "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  ;;
stop)
  dir=$(cd "$dir" && pwd)
  [ -d "$dir/data" ] || exit 0
  as_pg timeout 60 "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop|resume <dir>" >&2; exit 2
  ;;
esac
