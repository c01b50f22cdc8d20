#!/bin/sh
# Starts the gateway container: nginx with the config rendered at build time
# (render.py --mode docker), plus what only the running container knows:
#   - the resolver of its network (compose: 127.0.0.11; Kubernetes: the cluster
#     DNS), the first nameserver of /etc/resolv.conf, for `server NAME resolve`;
#   - GATEWAY_UPSTREAM_DOMAIN: appended to the service names (nginx's resolver
#     ignores resolv.conf's search list; Kubernetes: <namespace>.svc.cluster.local);
#   - GATEWAY_TRUSTED_PROXIES: comma-separated addresses/CIDRs of proxies in front
#     (a Kubernetes Ingress controller) whose X-Forwarded-For names the client,
#     so rate limits and the services see the client, not the proxy.
# The prefix (config copy, pid, temp files) must be writable: an emptyDir in
# Kubernetes, where the root filesystem is read-only.
set -eu
conf="${GATEWAY_CONF:-/etc/nginx/tienda.conf}"
prefix="${GATEWAY_PREFIX:-/var/cache/nginx/tienda}"
resolv_conf="${GATEWAY_RESOLV_CONF:-/etc/resolv.conf}"
mkdir -p "$prefix/tmp"

resolver=$(awk '/^nameserver/ { print $2; exit }' "$resolv_conf")
[ -n "$resolver" ] || { echo "no nameserver in $resolv_conf" >&2; exit 1; }
case "$resolver" in *:*) resolver="[$resolver]" ;; esac
{
  echo "resolver $resolver valid=10s ipv6=off;"
  if [ -n "${GATEWAY_TRUSTED_PROXIES:-}" ]; then
    for proxy in $(echo "$GATEWAY_TRUSTED_PROXIES" | tr ',' ' '); do
      echo "set_real_ip_from $proxy;"
    done
    echo "real_ip_header X-Forwarded-For;"
    echo "real_ip_recursive on;"
  fi
} > "$prefix/tienda-runtime.conf"

# The micro-cache tier's socket (render.py) lives in the prefix; one left behind by an
# nginx that was killed is removed (nginx would refuse to bind it again).
socket="$prefix/cache.sock"
rm -f "$socket"
at_prefix="s#unix:/var/cache/nginx/tienda/cache.sock;#unix:$socket;#"
if [ -n "${GATEWAY_UPSTREAM_DOMAIN:-}" ]; then
  sed -E -e "$at_prefix" \
    -e "s/^( +server [a-z]+)(:[0-9]+ resolve;)$/\1.${GATEWAY_UPSTREAM_DOMAIN}\2/" \
    "$conf" > "$prefix/nginx.conf"
else
  sed -e "$at_prefix" "$conf" > "$prefix/nginx.conf"
fi
exec nginx -p "$prefix/" -c "$prefix/nginx.conf"
