#!/bin/sh
# The redis image serves other containers without a password: protected mode
# off (that image is built so); any other command runs as given.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
