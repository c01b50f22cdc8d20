#!/bin/sh
# Entry point of the four service images (SERVICE and PORT come from the Dockerfile).
#   serve             wait for the databases, migrate both, then run gunicorn
#   manage ARGS...    python manage.py ARGS (seeding, jobs: release_expired_reservations ...)
#   collectstatic     at image build time (no secrets exist then, none are needed)
#   anything else     run as given
set -eu
cd "/app/${SERVICE}_site"

case "${1:-serve}" in
  serve)
    python manage.py wait_for_db --timeout 120
    python manage.py migrate_all --verbosity 1
    exec gunicorn -c python:shopkit.gunicorn_conf "${SERVICE}_site.wsgi"
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  collectstatic)
    export DJANGO_DEBUG=1
    if [ "$SERVICE" = auth ] && [ -z "${JWT_PRIVATE_KEY:-}" ]; then
      # auth's settings refuse to load without a signing key: a throwaway one.
      JWT_PRIVATE_KEY="$(python -c 'from cryptography.hazmat.primitives import serialization as s; from cryptography.hazmat.primitives.asymmetric import rsa; print(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode())')"
      export JWT_PRIVATE_KEY
    fi
    exec python manage.py collectstatic --noinput --verbosity 0
    ;;
  *)
    exec "$@"
    ;;
esac
