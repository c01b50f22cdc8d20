#!/bin/sh
# The mysql image's contract, on MariaDB: options as the command start the server
# with them; an empty data directory is initialised first from MYSQL_* variables.
set -eu
case "${1:-mysqld}" in
  -*) set -- mysqld "$@" ;;
esac
if [ "${1:-mysqld}" != mysqld ] && [ "$1" != mariadbd ]; then
  exec "$@"
fi
shift || true

if [ ! -d /var/lib/mysql/mysql ]; then
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD is required}"
  echo "Initialising the data directory (MariaDB standing in for MySQL)"
  mariadb-install-db --datadir=/var/lib/mysql --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >/dev/null
  socket=/run/mysqld/init.sock
  mariadbd --skip-networking --socket="$socket" "$@" &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$socket" -uroot ping --silent 2>/dev/null && break
    sleep 1
  done
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${MYSQL_DATABASE}\`;"
    fi
    if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
      echo "CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}';"
      [ -n "${MYSQL_DATABASE:-}" ] && echo "GRANT ALL ON \`${MYSQL_DATABASE}\`.* TO '${MYSQL_USER}'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$socket" -uroot
  mariadb-admin --socket="$socket" -uroot -p"${MYSQL_ROOT_PASSWORD}" shutdown
  wait "$pid"
  echo "Data directory ready"
fi
exec mariadbd "$@"
