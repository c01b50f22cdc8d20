#!/usr/bin/env bash
# Installs the Debian packages Tienda needs when they are missing:
#   build:   libmariadb-dev pkg-config gcc python3-dev (mysqlclient compiles against
#            them: PyPI has no Linux wheel of it), python3-venv (`python3 -m venv`)
#   run:     nginx-light (the gateway), wrk (the load generator of `make bench`)
#   browser: chromium (the admin browser tests; only with --browser)
#   compose: podman with the runc runtime, netavark + aardvark-dns + iptables (netavark
#            sets up the containers' network with iptables; containers find
#            each other by name), catatonit (compose's `init: true`), debootstrap (the
#            local base images); `make test-compose` (with --compose)
# As root it installs with apt-get; otherwise it says what to install and fails.
set -euo pipefail

wanted=(libmariadb-dev pkg-config gcc python3-dev python3-venv nginx-light wrk)
for option in "$@"; do
  case "$option" in
    --browser) wanted+=(chromium) ;;
    --compose) wanted+=(podman runc netavark aardvark-dns iptables catatonit debootstrap) ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Any nginx flavour will do for the gateway.
if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  missing=("${missing[@]/nginx-light}")
fi
read -r -a missing <<<"${missing[*]:-}"
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Tienda needs these system packages: ${missing[*]}" >&2
  echo "Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]}) and run again." >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
