#!/bin/sh
# Entry point of the four service images (SERVICE and PORT come from the Dockerfile).
#   serve             wait for the databases, migrate both (unless MIGRATE_ON_START=0:
#                     compose and Kubernetes migrate once, before), then run gunicorn
#   migrate           wait for the databases, migrate both, exit (compose's one-shot
#                     migrate services, the Kubernetes migrations Job)
#   wait-migrations   wait until the migrations are applied (Kubernetes init container)
#   manage ARGS...    python manage.py ARGS (seeding, jobs: release_expired_reservations,
#                     send_outbox ...)
#   collectstatic     at image build time (no secrets exist then, none are needed)
#   anything else     run as given
set -eu
cd "/app/${SERVICE}_site"

# auth's settings refuse to load without a signing key. Steps that sign nothing
# (collectstatic at build time, migrations, management commands such as the
# send_outbox job) get a throwaway one, so the real key reaches the serving auth
# container only.
throwaway_signing_key() {
  if [ "$SERVICE" = auth ] && [ -z "${JWT_PRIVATE_KEY:-}" ]; then
    JWT_PRIVATE_KEY="$(python -c 'from cryptography.hazmat.primitives import serialization as s; from cryptography.hazmat.primitives.asymmetric import rsa; print(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode())')"
    export JWT_PRIVATE_KEY
  fi
}

case "${1:-serve}" in
  serve)
    python manage.py wait_for_db --timeout 120
    if [ "${MIGRATE_ON_START:-1}" != 0 ]; then
      python manage.py migrate_all --verbosity 1
    fi
    exec gunicorn -c python:shopkit.gunicorn_conf "${SERVICE}_site.wsgi"
    ;;
  migrate)
    throwaway_signing_key
    python manage.py wait_for_db --timeout 120
    exec python manage.py migrate_all --verbosity 1
    ;;
  wait-migrations)
    throwaway_signing_key
    exec python manage.py wait_for_migrations --timeout "${MIGRATIONS_TIMEOUT:-600}"
    ;;
  manage)
    shift
    throwaway_signing_key
    exec python manage.py "$@"
    ;;
  collectstatic)
    export DJANGO_DEBUG=1
    throwaway_signing_key
    exec python manage.py collectstatic --noinput --verbosity 0
    ;;
  *)
    exec "$@"
    ;;
esac
