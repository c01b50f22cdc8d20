#!/usr/bin/env bash
# Makes sure the MySQL/MariaDB the tests use answers (TEST_MYSQL_URL, default
# root@127.0.0.1:3306). When none answers and we are root, installs and/or
# starts MariaDB; otherwise fails loudly: the tests never fall back to SQLite.
set -euo pipefail

url="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [[ "$port" == "$host" ]] && port=3306
userpart="${url#*://}"; userpart="${userpart%%@*}"
password=""; [[ "$userpart" == *:* ]] && password="${userpart#*:}"

answers() {
  python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

if answers; then exit 0; fi

if [[ $(id -u) -ne 0 ]]; then
  echo "No MySQL/MariaDB answers at $host:$port (TEST_MYSQL_URL=$url)." >&2
  echo "Start one (e.g. sudo service mariadb start) or point TEST_MYSQL_URL at one." >&2
  exit 1
fi
if [[ ! -x /usr/sbin/mariadbd ]]; then
  echo "Installing MariaDB server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server >/dev/null
fi
echo "Starting MariaDB"
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
for _ in $(seq 1 60); do
  if answers; then
    # Fresh installs authenticate root by socket only; the tests use TCP with root and no password.
    mysql -uroot -e "ALTER USER IF EXISTS 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('${password}') OR unix_socket;" 2>/dev/null || true
    exit 0
  fi
  sleep 1
done
echo "MariaDB did not come up on $host:$port within 60s." >&2
exit 1
