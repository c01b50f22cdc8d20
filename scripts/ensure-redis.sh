#!/usr/bin/env bash
# Makes sure the Redis the tests use answers (TEST_REDIS_URL, default
# redis://127.0.0.1:6379). When none answers and we are root, installs Debian's
# redis-server if missing and starts it on 127.0.0.1 without persistence;
# otherwise fails loudly. `make run` never needs Redis.
set -euo pipefail

url="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [[ "$port" == "$host" ]] && port=6379

answers() {
  python3 - "$host" "$port" <<'PY'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as sock:
        sock.sendall(b"PING\r\n")
        sys.exit(0 if sock.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

if answers; then exit 0; fi

if [[ $(id -u) -ne 0 ]]; then
  echo "No Redis answers at $host:$port (TEST_REDIS_URL=$url)." >&2
  echo "Start one (e.g. redis-server --daemonize yes --bind 127.0.0.1) or point TEST_REDIS_URL at one." >&2
  exit 1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing redis-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
echo "Starting Redis on $host:$port"
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
  --maxmemory-policy noeviction
for _ in $(seq 1 30); do
  if answers; then exit 0; fi
  sleep 1
done
echo "Redis did not come up on $host:$port within 30s." >&2
exit 1
