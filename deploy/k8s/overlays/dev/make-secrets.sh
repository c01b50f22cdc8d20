#!/usr/bin/env bash
# The Secrets overlays/dev needs, with fresh random values (development only;
# nothing is written to disk). Run once before the first `kubectl apply -k`:
#   deploy/k8s/overlays/dev/make-secrets.sh [namespace]
# Production creates the same Secrets from its own secret store (README).
set -euo pipefail
namespace="${1:-tienda-dev}"
kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"

random() { openssl rand -hex 24; }
root_password=$(random)
auth_password=$(random)
ecommerce_password=$(random)

apply() { kubectl --namespace "$namespace" apply -f -; }

kubectl create secret generic tienda-mysql --dry-run=client -o yaml \
  --from-literal=MYSQL_ROOT_PASSWORD="$root_password" \
  --from-literal=AUTH_DB_PASSWORD="$auth_password" \
  --from-literal=ECOMMERCE_DB_PASSWORD="$ecommerce_password" | apply

# What every Tienda process reads that is secret (connection strings included).
kubectl create secret generic tienda-common --dry-run=client -o yaml \
  --from-literal=DJANGO_SECRET_KEY="$(random)" \
  --from-literal=SERVICE_TOKEN="$(random)" \
  --from-literal=AUTH_DATABASE_URL="mysql://tienda:${auth_password}@auth-db:3306/auth_db" \
  --from-literal=ECOMMERCE_DATABASE_URL="mysql://tienda:${ecommerce_password}@ecommerce-db:3306/ecommerce_db" \
  --from-literal=CACHE_URL="redis://redis:6379/0" | apply

# The signing key: mounted into auth's pods only.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null \
  | kubectl create secret generic tienda-jwt-signing --dry-run=client -o yaml \
      --from-file=private.pem=/dev/stdin | apply
echo "Secrets tienda-mysql, tienda-common, tienda-jwt-signing are in namespace $namespace."
