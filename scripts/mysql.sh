#!/usr/bin/env bash
# Throw-away MariaDB server (Debian's mariadb-server) for tests.
#   scripts/mysql.sh start <dir> [--tls]
#       initialise a data directory in <dir>, start mariadbd on 127.0.0.1 (a free port, and a
#       Unix socket <dir>/mysqld.sock), create database `asherah` and user `asherah` with a
#       random password (in <dir>/password), and print Go's DSN on stdout:
#       asherah:<password>@tcp(127.0.0.1:<port>)/asherah
#       With --tls the server also gets a certificate signed by a CA made here
#       (scripts/tls-certs.sh; <dir>/tls/ca.pem is the root to trust) and the user must
#       connect over TLS (REQUIRE SSL).
#   scripts/mysql.sh stop <dir>     stop the server (the directory is left for the caller)
#   scripts/mysql.sh resume <dir>   start a stopped server again, same port and options
# Every step is bounded by a timeout. As root, mariadbd runs with --user=root (the data
# directory is private to the test).
set -euo pipefail

cmd=${1:-}; dir=${2:-}; opt=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|resume <dir> [--tls]" >&2; exit 2
fi
command -v mariadbd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v mariadbd >/dev/null 2>&1 || { echo "mysql.sh: mariadbd not found (apt mariadb-server)" >&2; exit 3; }
HERE=$(cd "$(dirname "$0")" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

client() { # run SQL as root over the Unix socket
  timeout 30 mariadb --no-defaults -S "$dir/mysqld.sock" -u root "$@"
}

launch() { # start mariadbd in the background and wait until it answers
  local port tls_args=()
  port=$(cat "$dir/port")
  if [ -f "$dir/tls-on" ]; then
    tls_args=(--ssl-ca="$dir/tls/ca.pem" --ssl-cert="$dir/tls/server.pem" --ssl-key="$dir/tls/server-key.pem")
  fi
  local user_args=()
  [ "$(id -u)" = 0 ] && user_args=(--user=root)
  # --no-defaults: nothing from /etc/mysql; small buffers, no fsync: a test server.
  mariadbd --no-defaults "${user_args[@]}" --datadir="$dir/data" --bind-address=127.0.0.1 \
    --port="$port" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --tmpdir="$dir/tmp" \
    --log-error="$dir/server.log" --skip-name-resolve --innodb-buffer-pool-size=16M \
    --innodb-log-file-size=8M --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
    "${tls_args[@]}" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 300); do
    if timeout 5 mariadb-admin --no-defaults -S "$dir/mysqld.sock" -u root ping >/dev/null 2>&1; then
      return 0
    fi
    kill -0 $! 2>/dev/null || break
    sleep 0.2
  done
  echo "mysql.sh: mariadbd did not start" >&2
  tail -20 "$dir/server.log" >&2 || true
  exit 1
}

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  user_args=()
  [ "$(id -u)" = 0 ] && user_args=(--user=root)
  # A private tmpdir: bootstraps running in parallel in one /tmp collide on temporary
  # table file names ("Could not remove temporary table", then "Unknown table
  # 'mysql.tmp_user_sys'"; seen 1 in 4 with four parallel starts).
  mkdir -p "$dir/tmp"
  timeout 120 mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$dir/data" \
    --tmpdir="$dir/tmp" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; exit 1; }
  free_port >"$dir/port"
  require=""
  if [ "$opt" = "--tls" ]; then
    bash "$HERE/tls-certs.sh" "$dir/tls"
    touch "$dir/tls-on"
    require=" REQUIRE SSL"
  fi
  launch
  password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  (umask 077; echo "$password" >"$dir/password")
  client -e "CREATE DATABASE asherah; CREATE USER 'asherah'@'127.0.0.1' IDENTIFIED BY '$password'$require; GRANT ALL ON asherah.* TO 'asherah'@'127.0.0.1';"
  echo "asherah:$password@tcp(127.0.0.1:$(cat "$dir/port"))/asherah"
  ;;
resume)
  dir=$(cd "$dir" && pwd)
  launch
  ;;
stop)
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/mysqld.pid" ] || exit 0
  pid=$(cat "$dir/mysqld.pid")
  kill "$pid" 2>/dev/null || exit 0
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || exit 0
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 start|stop|resume <dir> [--tls]" >&2; exit 2
  ;;
esac
