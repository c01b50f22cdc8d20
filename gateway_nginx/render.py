#!/usr/bin/env python3
"""Render the gateway's nginx.conf from nginx.conf.template (Python stdlib only).

    python gateway_nginx/render.py --mode local --out var/gateway/nginx.conf
    python gateway_nginx/render.py --mode docker --out /etc/nginx/nginx.conf

The two modes differ in where nginx listens and where the services are
(127.0.0.1 and each service's port locally, with nginx on :8080; the compose
service names and :80 in docker), and in how their names are found: in docker
(compose, Kubernetes) nginx re-resolves them at run time (`server NAME:PORT
resolve` in a shared-memory zone, with the resolver that gateway_nginx/start.sh
writes into tienda-runtime.conf when the container starts), so replicas that
come and go get traffic without a reload. A service may have several servers
(the replica tests run two per service); every option can still be overridden.
The services, their ports and prefixes come from shopkit.registry, which is
stdlib only too (the gateway image copies it next to this file). Run nginx with the rendered
file as `nginx -p PREFIX -c FILE`: pid and temp files are relative to PREFIX.
"""

import argparse
import os
import re
import shutil
import sys
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path

try:
    from shopkit import registry
except ImportError:  # a bare python (the gateway image): the repository's copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libs" / "shopkit"))
    from shopkit import registry

TEMPLATE = Path(__file__).resolve().with_name("nginx.conf.template")

SERVICES = registry.SERVICE_NAMES
SERVICE_PORTS = registry.SERVICE_PORTS
LOCAL_GATEWAY_PORT = 8080
DOCKER_GATEWAY_PORT = 80
# nginx's prefix (-p): make run's, and the image's (gateway_nginx/start.sh).
LOCAL_PREFIX = Path(__file__).resolve().parents[1] / "var" / "gateway"
DOCKER_PREFIX = "/var/cache/nginx/tienda"
CACHE_SOCKET_NAME = "cache.sock"

# Every error the gateway produces itself, as a problem document shaped like
# shopkit.errors.problem(): (status nginx produces, status answered, code, detail).
# "$tienda_service" is the nginx variable naming the service a location proxies
# to. 494 is nginx's own code for "request header too large" (sent as 400 unless
# an error_page catches it); the gateway answers it as 431.
GATEWAY_PROBLEMS = (
    (400, 400, "bad_request", "The request could not be understood."),
    (404, 404, "not_found", "No resource at this address."),
    (405, 405, "method_not_allowed", "This method is not allowed here."),
    (408, 408, "request_timeout", "The request was not received in time."),
    (411, 411, "length_required", "The request needs a Content-Length."),
    (413, 413, "request_too_large", "The request body is larger than the gateway accepts ({max})."),
    (414, 414, "uri_too_long", "The request address is too long."),
    (429, 429, "rate_limited", "Too many requests from this address; retry in a moment."),
    (494, 431, "headers_too_large", "The request headers are too large."),
    (500, 500, "internal_error", "An unexpected error occurred."),
    (501, 501, "not_implemented", "The request uses a feature the gateway does not support."),
    (502, 502, "bad_gateway", "The $tienda_service service is not answering; retry later."),
    (503, 503, "service_unavailable", "The $tienda_service service is unavailable; retry later."),
    (
        504,
        504,
        "gateway_timeout",
        "The $tienda_service service did not answer in time; retry later.",
    ),
    (505, 505, "http_version_not_supported", "The gateway speaks HTTP/1.0 and HTTP/1.1."),
)
# Where the error pages live: an internal location per status, reached by URI.
# Not a named location (@...): nginx refuses to redirect a request whose URI it
# could not parse (a bad request line, %00, a URI over the header buffers) to a
# named location ("empty URI in redirect to named location") and answers its
# own HTML 500 instead; an error_page URI gives the request a URI of its own.
PROBLEM_PREFIX = "/_gateway_problem/"
# Seconds a client should wait before retrying, sent as Retry-After.
RETRY_AFTER = {429: 1, 502: 5, 503: 5, 504: 5}

# Settings a rendering may change from the command line (see GatewayConfig).
TUNABLES = (
    "access_log",
    "client_max_body_size",
    "login_rate",
    "login_burst",
    "register_rate",
    "register_burst",
    "checkout_rate",
    "checkout_burst",
    "connect_timeout",
    "read_timeout",
    "catalog_cache_seconds",
    "worker_processes",
)

# The anonymous catalogue reads the gateway may answer from its micro-cache.
CATALOG_CACHED_PREFIXES = ("/api/v1/catalog/products/", "/api/v1/catalog/categories/")

_RATE = re.compile(r"^\d+r/[sm]$")
_SIZE = re.compile(r"^\d+[kKmM]?$")
_ADDRESS = re.compile(r"^[A-Za-z0-9._\[\]:-]+:\d+$")
_SOCKET = re.compile(r"^[A-Za-z0-9._/+-]+$")


@dataclass
class GatewayConfig:
    """What a rendering needs; `for_mode` fills the defaults of a mode."""

    mode: str
    listen: list[str]
    upstreams: dict[str, str | list[str]]  # service -> host:port, or several
    # Re-resolve upstream names at run time (nginx >= 1.27.3; the docker image's).
    resolve: bool = False
    # Extra prefixes (the benchmark's hello site): prefix -> host:port.
    routes: dict[str, str] = field(default_factory=dict)
    access_log: str = "/dev/stdout"
    client_max_body_size: str = "1m"
    login_rate: str = "5r/s"
    login_burst: int = 20
    register_rate: str = "2r/s"
    register_burst: int = 10
    checkout_rate: str = "5r/s"
    checkout_burst: int = 20
    connect_timeout: str = "2s"
    read_timeout: str = "35s"  # longer than gunicorn's 30 s worker timeout
    upstream_keepalive: int = 32
    # Seconds an anonymous catalogue read is served from the gateway's cache (0: off).
    catalog_cache_seconds: int = field(
        default_factory=lambda: int(os.environ.get("GATEWAY_CATALOG_CACHE_SECONDS", "1"))
    )
    # The unix socket of the micro-cache's tier (see _catalog_cache): an absolute path
    # of at most 107 bytes. for_mode gives the image's prefix in docker mode and
    # var/gateway/ locally; write_config puts it next to the file it writes instead.
    cache_socket: str = ""
    # nginx worker processes: a number, or "auto" (one per CPU the machine has, not per
    # CPU the gateway may use: a pod limited to half a CPU on a 32-core node would run 32).
    # One worker serves tens of thousands of requests a second, far more than the
    # services behind it; a second one on a 2-core machine that also runs the services
    # only competes with them (and with a load generator) for the cores.
    worker_processes: str = field(
        default_factory=lambda: os.environ.get("GATEWAY_WORKER_PROCESSES", "1")
    )

    @classmethod
    def for_mode(cls, mode: str, **overrides) -> "GatewayConfig":
        if mode == "local":
            defaults = {
                "listen": [f"127.0.0.1:{LOCAL_GATEWAY_PORT}"],
                "upstreams": {s: f"127.0.0.1:{SERVICE_PORTS[s]}" for s in SERVICES},
                "cache_socket": str(LOCAL_PREFIX / CACHE_SOCKET_NAME),
            }
        elif mode == "docker":
            defaults = {
                "listen": [str(DOCKER_GATEWAY_PORT)],
                "upstreams": {s: f"{s}:{SERVICE_PORTS[s]}" for s in SERVICES},
                "resolve": True,
                "cache_socket": f"{DOCKER_PREFIX}/{CACHE_SOCKET_NAME}",
            }
        else:
            raise ValueError(f"unknown mode {mode!r} (local or docker)")
        upstreams = {**defaults["upstreams"], **(overrides.pop("upstreams", None) or {})}
        listen = overrides.pop("listen", None) or defaults["listen"]
        overrides.setdefault("resolve", defaults.get("resolve", False))
        overrides.setdefault("cache_socket", defaults["cache_socket"])
        return cls(mode=mode, listen=listen, upstreams=upstreams, **overrides)

    def servers(self, service: str) -> list[str]:
        addresses = self.upstreams[service]
        return [addresses] if isinstance(addresses, str) else list(addresses)

    def validate(self) -> None:
        for name in ("login_rate", "register_rate", "checkout_rate"):
            if not _RATE.match(getattr(self, name)):
                raise ValueError(f"{name} must look like 5r/s or 30r/m")
        if not _SIZE.match(self.client_max_body_size):
            raise ValueError("client_max_body_size must look like 1m, 512k or 1048576")
        addresses = [a for service in self.upstreams for a in self.servers(service)]
        for address in [*addresses, *self.routes.values()]:
            if not _ADDRESS.match(address):
                raise ValueError(f"upstream {address!r} must be host:port")
        if not 0 <= self.catalog_cache_seconds <= 3600:
            raise ValueError("catalog_cache_seconds must be 0 (off) to 3600")
        socket = self.cache_socket
        if self.catalog_cache_seconds and not (
            socket.startswith("/") and len(socket.encode()) <= 107 and _SOCKET.match(socket)
        ):
            raise ValueError("cache_socket must be an absolute path of at most 107 bytes")
        workers = str(self.worker_processes)
        if workers != "auto" and not (workers.isdigit() and 1 <= int(workers) <= 64):
            raise ValueError("worker_processes must be auto or 1 to 64")
        if set(self.upstreams) != set(SERVICES):
            raise ValueError(f"upstreams must name exactly {', '.join(SERVICES)}")
        if any(not self.servers(service) for service in SERVICES):
            raise ValueError("every upstream needs at least one server")
        for prefix in self.routes:
            if not re.match(r"^/[A-Za-z0-9/_-]*/$", prefix):
                raise ValueError(f"route prefix {prefix!r} must start and end with /")


def _upstream_block(name: str, addresses: list[str], keepalive: int, resolve: bool = False) -> str:
    lines = [f"    upstream {name} {{\n"]
    if resolve:
        # Names re-resolved while running: the peers live in shared memory.
        lines.append(f"        zone upstream_{name} 64k;\n")
    lines += [
        f"        server {address}{' resolve' if resolve else ''};\n" for address in addresses
    ]
    lines += [
        f"        keepalive {keepalive};\n",
        # Shorter than gunicorn's keepalive (75 s): nginx closes idle connections first.
        "        keepalive_timeout 60s;\n",
        "    }\n",
    ]
    return "".join(lines)


def _route_upstream_name(prefix: str) -> str:
    return "route_" + (re.sub(r"[^A-Za-z0-9]+", "_", prefix).strip("_") or "root")


def _proxy_location(prefix: str, upstream: str, service: str) -> str:
    return (
        f"        location {prefix} {{\n"
        f"            set $tienda_service {service};\n"
        f"            proxy_pass http://{upstream};\n"
        f"        }}\n"
    )


def _catalog_cache(
    config: GatewayConfig, error_pages: str, error_locations: str
) -> tuple[str, str, str]:
    """The micro-cache of anonymous catalogue reads, off at 0 s: (http-level zone and
    maps, the edge's locations, the cache tier's server).

    Only GET/HEAD answers of 200 to requests with no Authorization, no cookie and
    no X-Cart-Token are stored, for `catalog_cache_seconds`; an answer that sets a
    cookie (or says private/no-store) is never stored (nginx's defaults). One
    request refreshes an expired entry while the others get the stale one, within
    the stale-while-revalidate time of the catalog's answer.

    The cache lives in a tier of its own: a second server of the same nginx, on a unix
    socket (`cache_socket`), which the edge reaches with a new connection per request.
    nginx reads a connection's next request only once the background refresh its last
    request started has finished. Held on a client's connection, every entry expiring
    in the same whole second held that many clients at once, each until the catalog
    answered its refresh (the product page's p99 was 20-40 times its median under
    load, bench/README.md). Held on a connection the edge drops, a refresh keeps nobody
    waiting. Every other request to these prefixes goes straight to the catalog.
    """
    seconds = config.catalog_cache_seconds
    if not seconds:
        return "", "", ""
    zone = (
        "    # Micro-cache of anonymous catalogue reads (GATEWAY_CATALOG_CACHE_SECONDS).\n"
        "    proxy_cache_path tmp/catalog_cache levels=1:2 keys_zone=catalog_reads:4m\n"
        "                     max_size=64m inactive=60s use_temp_path=off;\n"
        "    # Anything that identifies the client skips the cache both ways.\n"
        '    map "$http_authorization$http_cookie$http_x_cart_token" $tienda_not_anonymous {\n'
        '        "" 0;\n'
        "        default 1;\n"
        "    }\n"
        "    map $upstream_status $tienda_not_200 {\n"
        "        200 0;\n"
        "        default 1;\n"
        "    }\n"
        "    # Anonymous reads go through the cache tier (the server at the end), the\n"
        "    # rest straight to the catalog, told that they bypassed the cache.\n"
        '    map "$request_method$tienda_not_anonymous" $tienda_catalog_reader {\n'
        "        GET0 catalog_cache_tier;\n"
        "        HEAD0 catalog_cache_tier;\n"
        "        default catalog;\n"
        "    }\n"
        '    map "$request_method$tienda_not_anonymous" $tienda_catalog_bypassed {\n'
        "        GET1 BYPASS;\n"
        "        HEAD1 BYPASS;\n"
        '        default "";\n'
        "    }\n"
        "    # No keepalive: the tier may still be refreshing on a connection it answered.\n"
        "    upstream catalog_cache_tier {\n"
        f"        server unix:{config.cache_socket};\n"
        "    }\n"
    )
    edge, tier = [], []
    for prefix in CATALOG_CACHED_PREFIXES:
        edge.append(
            f"        location {prefix} {{\n"
            f"            set $tienda_service catalog;\n"
            f"            proxy_pass http://$tienda_catalog_reader;\n"
            # add_header here replaces the server's: the request id is repeated.
            f"            add_header X-Request-ID $tienda_request_id always;\n"
            # The tier's answers carry their own X-Cache-Status (an empty value adds none).
            f"            add_header X-Cache-Status $tienda_catalog_bypassed always;\n"
            f"        }}\n"
        )
        tier.append(
            f"        location {prefix} {{\n"
            f"            set $tienda_service catalog;\n"
            f"            proxy_pass http://catalog;\n"
            f"            proxy_cache catalog_reads;\n"
            # The host and the scheme are part of the answer (pagination links).
            f'            proxy_cache_key "$http_x_forwarded_proto://$http_host$request_uri";\n'
            f"            proxy_cache_valid 200 {seconds}s;\n"
            # The edge sends only anonymous reads; checked here again all the same.
            f"            proxy_cache_bypass $tienda_not_anonymous;\n"
            f"            proxy_no_cache $tienda_not_anonymous $tienda_not_200;\n"
            f"            proxy_cache_lock on;\n"
            f"            proxy_cache_lock_timeout 5s;\n"
            # An expired entry is answered stale while one request refreshes it, for as
            # long as the catalog's answer allows (`stale-while-revalidate`, 1 s,
            # shopkit.conditional); past that a read waits for the fresh answer, so a
            # page nobody read for a while never shows an old price.
            f"            proxy_cache_background_update on;\n"
            # An expired entry is refreshed by a conditional request (the answer's
            # ETag): an unchanged product costs the catalog a 304, not a body.
            f"            proxy_cache_revalidate on;\n"
            f"            add_header X-Cache-Status $upstream_cache_status always;\n"
            f"        }}\n"
        )
    server = [
        "    # The cache tier (see the micro-cache above): reached from the edge only.\n",
        "    server {\n",
        f"        listen unix:{config.cache_socket};\n",
        "        server_name _;\n",
        "        # The edge logs the request and compresses the answer.\n",
        "        access_log off;\n",
        "        gzip off;\n",
        "        # What the edge set, passed on as it is (these replace the http-level ones).\n",
        '        proxy_set_header Connection "";\n',
        "        proxy_set_header Host $http_host;\n",
        "        proxy_set_header X-Request-ID $http_x_request_id;\n",
        "        proxy_set_header X-Forwarded-For $http_x_forwarded_for;\n",
        "        proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;\n",
        "        proxy_set_header X-Forwarded-Host $http_x_forwarded_host;\n",
        "        proxy_set_header X-Real-IP $http_x_real_ip;\n\n",
        error_pages,
        "\n",
        *tier,
        "        location / {\n            return 404;\n        }\n\n",
        error_locations,
        "\n    }\n",
    ]
    return zone, "".join(edge), "".join(server)


def _problem_json(status: int, code: str, detail: str) -> str:
    # A literal nginx string in single quotes: the text must hold no quote or backslash.
    assert "'" not in detail and "\\" not in detail and '"' not in detail
    members = [
        f'"type":"urn:tienda:problem:{code}"',
        f'"title":"{HTTPStatus(status).phrase}"',
        f'"status":{status}',
        f'"detail":"{detail}"',
        f'"code":"{code}"',
    ]
    if status == 429:
        members.append(f'"retry_after":{RETRY_AFTER[status]}')
    return "{" + ",".join(members) + "}"


def _error_locations(config: GatewayConfig) -> tuple[str, str]:
    pages, locations = [], []
    for produced, status, code, detail in GATEWAY_PROBLEMS:
        detail = detail.format(max=config.client_max_body_size)
        # "=431": the status line follows the answer (nginx would keep its 400 for 494).
        answered = f"={status} " if status != produced else ""
        pages.append(f"        error_page {produced} {answered}{PROBLEM_PREFIX}{produced};\n")
        headers = "            add_header X-Request-ID $tienda_request_id always;\n"
        if status in RETRY_AFTER:
            headers += f"            add_header Retry-After {RETRY_AFTER[status]} always;\n"
        locations.append(
            f"        location = {PROBLEM_PREFIX}{produced} {{\n"
            f"            internal;\n"
            f"            default_type application/problem+json;\n"
            f"{headers}"
            f"            return {status} '{_problem_json(status, code, detail)}';\n"
            f"        }}\n"
        )
    return "".join(pages), "\n".join(locations)


def _backoffice_rows() -> str:
    """The /admin/ page's table: each service's admin, API docs and readiness."""
    rows = []
    for service in registry.SERVICES:
        admin, docs = service.admin_path, f"/api/v1/{service.name}/docs/"
        rows.append(
            f'<tr><td>{service.name}</td><td><a href="{admin}">{admin}</a></td>'
            f'<td><a href="{docs}">{docs}</a></td>'
            f'<td><a href="/{service.name}/ready/">ready</a></td></tr>\n'
        )
    return "".join(rows)


def render_config(config: GatewayConfig) -> str:
    """The complete nginx.conf for `config`."""
    config.validate()
    upstreams = [
        _upstream_block(name, config.servers(name), config.upstream_keepalive, config.resolve)
        for name in SERVICES
    ]
    if config.resolve:
        # The resolver of the network the container runs in (and the proxies it
        # trusts), written by start.sh next to this file when the container starts.
        upstreams.insert(0, "    include tienda-runtime.conf;\n")
    # Metrics are for Prometheus on the inside: never answered to the public
    # (a regular expression location wins over the /<svc>/ prefixes below).
    routes = [
        f"        location ~ ^/({'|'.join(SERVICES)})/metrics {{\n"
        "            return 404;\n"
        "        }\n"
    ]
    routes += [
        _proxy_location(prefix, service.name, service.name)
        for service in registry.SERVICES
        for prefix in service.path_prefixes
    ]
    for prefix, address in config.routes.items():
        name = _route_upstream_name(prefix)
        upstreams.append(_upstream_block(name, [address], config.upstream_keepalive))
        routes.append(_proxy_location(prefix, name, name))
    error_pages, error_locations = _error_locations(config)
    cache_zone, cache_locations, cache_tier = _catalog_cache(config, error_pages, error_locations)
    values = {
        "catalog_cache_zone": cache_zone,
        "catalog_cache_locations": cache_locations,
        "catalog_cache_tier": cache_tier,
        "mode": config.mode,
        "worker_processes": config.worker_processes,
        "listen": "".join(f"        listen {address};\n" for address in config.listen),
        "upstreams": "\n".join(upstreams),
        "routes": "".join(routes),
        "error_pages": error_pages,
        "error_locations": error_locations,
        "backoffice_rows": _backoffice_rows(),
        "access_log": config.access_log,
        "client_max_body_size": config.client_max_body_size,
        "login_rate": config.login_rate,
        "login_burst": config.login_burst,
        "register_rate": config.register_rate,
        "register_burst": config.register_burst,
        "checkout_rate": config.checkout_rate,
        "checkout_burst": config.checkout_burst,
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.read_timeout,
    }

    def substitute(match: re.Match) -> str:
        return str(values[match.group(1)])

    return re.sub(r"\{\{(\w+)\}\}", substitute, TEMPLATE.read_text())


def write_config(config: GatewayConfig, path: Path) -> Path:
    """Render into `path` (its directory and nginx's temp directory are created), for an
    nginx about to start with that directory as its prefix.

    Locally the cache tier's socket goes there too, so that gateways with prefixes
    of their own (the tests', the benchmark's) never share one; a socket left behind
    by an nginx that was killed is removed (nginx would refuse to bind it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "tmp").mkdir(exist_ok=True)
    if config.mode == "local":
        socket = path.parent.resolve() / CACHE_SOCKET_NAME
        config = replace(config, cache_socket=str(socket))
        socket.unlink(missing_ok=True)
    path.write_text(render_config(config))
    return path


def find_nginx() -> str | None:
    """The nginx binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, address = value.partition("=")
        if not sep:
            raise SystemExit(f"--{what} expects NAME=HOST:PORT, got {value!r}")
        pairs[key] = address
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("local", "docker"), default="local")
    parser.add_argument("--out", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--listen", action="append", help="listen address (repeatable), e.g. 8080")
    parser.add_argument(
        "--upstream", action="append", metavar="SERVICE=HOST:PORT", help="override a service"
    )
    parser.add_argument(
        "--route", action="append", metavar="/PREFIX/=HOST:PORT", help="an extra proxied prefix"
    )
    defaults = GatewayConfig.for_mode("local")
    for name in TUNABLES:
        default = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"), type=type(default), default=default, help=f"({default})"
        )
    args = parser.parse_args(argv)
    try:
        config = GatewayConfig.for_mode(
            args.mode,
            listen=args.listen,
            upstreams=_pairs(args.upstream, "upstream"),
            routes=_pairs(args.route, "route"),
            **{name: getattr(args, name) for name in TUNABLES},
        )
        if args.out:
            write_config(config, args.out)
        else:
            sys.stdout.write(render_config(config))
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
