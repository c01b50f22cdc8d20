"""docker-compose.yml, the Dockerfiles and .env.example, checked without Docker.

- the compose file validates against the Compose specification's JSON schema
  (`<repo>/../shared/compose-spec/compose-spec.json`);
- every environment variable a service reads (its settings, shopkit's settings
  base and gunicorn config, its commands) is given to that service's container;
- ports agree with shopkit's registry, docs/architecture.md, the gateway's docker
  rendering and each other, and only the gateway publishes one (an opt-in
  override binds the databases to 127.0.0.1);
- migrations run once, in one-shot services one after another, before any service
  starts (and the services do not migrate themselves), so replicas never race;
- each Dockerfile's entry point is a script that exists in the repository;
- .env.example documents every variable and commits no secret, and
  scripts/dev_secrets.py fills in every secret compose requires.
"""

import importlib.util
import ipaddress
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway_nginx.render import SERVICE_PORTS, GatewayConfig
from shopkit.keys import public_pem_from_private, read_pem
from tests.support.keys import key_pair
from tests.support.processes import REPO_DIR, SERVICES

COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
COMPOSE_SCHEMA = REPO_DIR.parent / "shared" / "compose-spec" / "compose-spec.json"
ARCHITECTURE_FILE = REPO_DIR / "docs" / "architecture.md"
ENV_EXAMPLE = REPO_DIR / ".env.example"
GATEWAY_PORT = {"host": 8080, "container": 80}
DATABASE_PORTS = {"auth-db": 3306, "ecommerce-db": 3307}
DEBUG_COMPOSE_FILE = REPO_DIR / "docker-compose.debug.yml"
MIGRATIONS = ["migrate-auth", "migrate-catalog", "migrate-cart", "migrate"]
# Which compose services run which Django project.
PROJECT_OF = {
    **{service: service for service in SERVICES},
    "reservation-expiry": "catalog",
    "checkout-reconciler": "orders",
    "mail-sender": "auth",
    "order-mail-sender": "orders",
}
# What auth reads that its mail sender never needs: the signing key (it signs nothing;
# the entrypoint gives its settings a throwaway one) and the seeding superuser.
NOT_GIVEN_TO_JOBS = {
    "mail-sender": {"JWT_PRIVATE_KEY", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD"}
}
# The one-shot migrations, each with a service's image.
MIGRATION_PROJECT = dict(zip(MIGRATIONS, SERVICES, strict=True))
# Set by gunicorn_conf for its workers, never by an operator.
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR"}

_ENV_READ = re.compile(
    r"""(?:\benv(?:\.(?:str|int|bool|list|tuple|float|json|dict|url|path|db_url|cache_url))?\(|"""
    r"""os\.environ\.get\(|os\.environ\[|os\.getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)
# Installs a recording os.environ, then imports the settings and gunicorn config:
# every name they look up (helpers included) is printed.
_RECORDER = """
import importlib, json, os, sys
seen = set()
class RecordingEnviron(dict):
    def __getitem__(self, key):
        seen.add(key)
        return super().__getitem__(key)
    def get(self, key, default=None):
        seen.add(key)
        return super().get(key, default)
    def __contains__(self, key):
        seen.add(key)
        return super().__contains__(key)
os.environ = RecordingEnviron(os.environ)
importlib.import_module(sys.argv[1])
importlib.import_module("shopkit.gunicorn_conf")
print(json.dumps(sorted(seen)))
"""


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _python_files(project: str) -> list[Path]:
    roots = [REPO_DIR / "libs" / "shopkit" / "shopkit", REPO_DIR / f"{project}_site"]
    return [
        path
        for root in roots
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    ]


def _literal_names(files: list[Path]) -> set[str]:
    names = set()
    for path in files:
        names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", path.read_text()))
    return names


def variables_read_by(project: str, tmp_path: Path) -> set[str]:
    """What the project's processes read from the environment (names in our own code only)."""
    files = _python_files(project)
    direct = {name for path in files for name in _ENV_READ.findall(path.read_text())}
    private_key, _ = key_pair()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_DIR / f"{project}_site"),
        "DJANGO_DEBUG": "1",
        "JWT_PRIVATE_KEY": str(private_key),
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", _RECORDER, f"{project}_site.settings"],
        cwd=REPO_DIR / f"{project}_site",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    recorded = set(json.loads(result.stdout.splitlines()[-1])) & _literal_names(files)
    return (direct | recorded) - NOT_CONFIGURATION


def dockerfile_env(path: Path) -> set[str]:
    names = set()
    for match in re.finditer(r"^ENV\s+((?:.*\\\n)*.*)$", path.read_text(), re.MULTILINE):
        names |= set(re.findall(r"([A-Z][A-Z0-9_]*)=", match.group(1)))
    return names


def dockerfile_of(compose: dict, name: str) -> Path:
    build = compose["services"][name]["build"]
    return REPO_DIR / build["context"] / build.get("dockerfile", "Dockerfile")


def default_of(value: str, variable: str) -> str:
    """ "${VARIABLE:-default}" -> default (the value a user who sets nothing gets)."""
    match = re.fullmatch(rf"\$\{{{variable}:-([^}}]+)\}}", value)
    assert match, f"{value!r} is not ${{{variable}:-...}}"
    return match.group(1)


def published(port_mapping: str) -> tuple[int, int]:
    """("${X:-8080}:80") -> (8080, 80): the host port's default and the container port."""
    host, container = re.sub(r"\$\{[A-Z_]+:-(\d+)\}", r"\1", port_mapping).rsplit(":", 1)
    return int(host), int(container)


def test_compose_file_is_valid_against_the_compose_specification(compose):
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(
            f"the Compose JSON schema is not at {COMPOSE_SCHEMA} (../shared beside the repo)"
        )
    import jsonschema

    # The schema names draft-07 in a form jsonschema does not look up by itself.
    jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text())).validate(compose)


def test_the_whole_system_is_in_compose(compose):
    assert set(compose["services"]) == {
        "auth-db",
        "ecommerce-db",
        "redis",
        *MIGRATIONS,
        *SERVICES,
        "reservation-expiry",
        "checkout-reconciler",
        "mail-sender",
        "order-mail-sender",
        "gateway",
    }
    for database in DATABASE_PORTS:
        # MySQL 8.4 LTS, pinned to a patch release, with its default authentication;
        # MYSQL_IMAGE substitutes another (make test-compose: a local stand-in).
        image = default_of(compose["services"][database]["image"], "MYSQL_IMAGE")
        assert re.fullmatch(r"mysql:8\.4\.\d+", image)
        assert not any("native_password" in arg for arg in compose["services"][database]["command"])
        assert compose["services"][database]["healthcheck"]["test"]
        volume = compose["services"][database]["volumes"][0].split(":")[0]
        assert volume in compose["volumes"]
    redis = compose["services"]["redis"]
    assert re.fullmatch(r"redis:7\.\d+\.\d+-alpine", default_of(redis["image"], "REDIS_IMAGE"))
    assert redis["command"][redis["command"].index("--maxmemory-policy") + 1] == "noeviction"
    expiry = compose["services"]["reservation-expiry"]
    assert expiry["image"] == compose["services"]["catalog"]["image"]
    assert expiry["command"] == ["manage", "release_expired_reservations", "--loop", "60"]
    reconciler = compose["services"]["checkout-reconciler"]
    assert reconciler["image"] == compose["services"]["orders"]["image"]
    assert reconciler["command"] == ["manage", "reconcile_checkouts", "--loop", "60"]
    sender = compose["services"]["mail-sender"]
    assert sender["image"] == compose["services"]["auth"]["image"]
    assert sender["command"] == ["manage", "send_outbox", "--loop", "5"]
    order_sender = compose["services"]["order-mail-sender"]
    assert order_sender["image"] == compose["services"]["orders"]["image"]
    assert order_sender["command"] == ["manage", "send_outbox", "--loop", "5"]


def test_every_process_shares_the_redis_cache(compose):
    for name in [*PROJECT_OF, *MIGRATION_PROJECT]:
        environment = compose["services"][name]["environment"]
        assert environment["CACHE_URL"] == "${CACHE_URL:-redis://redis:6379/0}", name


@pytest.mark.parametrize("name", sorted(PROJECT_OF))
def test_every_variable_a_service_reads_is_given_to_it(compose, name, tmp_path):
    read = variables_read_by(PROJECT_OF[name], tmp_path)
    assert {"DJANGO_SECRET_KEY", "AUTH_DATABASE_URL", "GUNICORN_BIND"} <= read  # sanity
    given = set(compose["services"][name]["environment"]) | dockerfile_env(
        dockerfile_of(compose, name)
    )
    assert sorted(read - given - NOT_GIVEN_TO_JOBS.get(name, set())) == []


def test_env_example_documents_every_variable_and_commits_no_secret(compose, tmp_path):
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    read = set().union(*(variables_read_by(project, tmp_path) for project in SERVICES))
    assert sorted(read - documented) == []
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", COMPOSE_FILE.read_text()))
    assert {"DJANGO_SECRET_KEY", "SERVICE_TOKEN", "JWT_PRIVATE_KEY"} <= required
    for name in required:
        assert re.search(rf"^{name}=$", text, re.MULTILINE), f"{name} must be listed, empty"
    # Compose itself never holds a secret's value: only references to .env.
    environment = compose["services"]["auth"]["environment"]
    for name in ("DJANGO_SECRET_KEY", "SERVICE_TOKEN", "JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY"):
        assert environment[name].startswith(f"${{{name}:?")


def test_only_auth_is_given_the_private_key(compose):
    for name, service in compose["services"].items():
        if name != "auth":
            assert "JWT_PRIVATE_KEY" not in (service.get("environment") or {}), name
        assert "env_file" not in service  # each variable is given explicitly


def test_dev_secrets_fill_every_secret_compose_requires(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "dev_secrets", REPO_DIR / "scripts" / "dev_secrets.py"
    )
    dev_secrets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev_secrets)
    target = tmp_path / ".env"
    dev_secrets.write_dotenv(target, ENV_EXAMPLE)
    values = {}
    for line in target.read_text().splitlines():
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            key, _, value = line.partition("=")
            values[key] = value.strip("'")
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", COMPOSE_FILE.read_text()))
    assert all(values.get(name) for name in required)
    # Database passwords go into URLs unescaped.
    assert re.fullmatch(r"[0-9a-f]{64}", values["AUTH_DB_PASSWORD"])
    # The one-line PEMs are read back by shopkit as a matching key pair.
    private_pem = read_pem(values["JWT_PRIVATE_KEY"])
    assert (
        public_pem_from_private(private_pem).strip() == read_pem(values["JWT_PUBLIC_KEY"]).strip()
    )
    assert target.stat().st_mode & 0o077 == 0


def test_ports_match_the_design_and_only_the_gateway_publishes_one(compose):
    services = compose["services"]
    for service, port in SERVICE_PORTS.items():
        environment = services[service]["environment"]
        assert environment["PORT"] == str(port)
        assert environment["GUNICORN_BIND"] == f"0.0.0.0:{port}"
        assert environment[f"{service.upper()}_SERVICE_URL"] == f"http://{service}:{port}"
        assert f"http://127.0.0.1:{port}/{service}/health/" in " ".join(
            services[service]["healthcheck"]["test"]
        )
    for name, service in services.items():
        # Nothing but the gateway is reachable from the host (its limits cannot be
        # bypassed), and nothing pins a name: `--scale catalog=3` works.
        if name != "gateway":
            assert "ports" not in service, name
        assert "container_name" not in service, name
    assert [published(p) for p in services["gateway"]["ports"]] == [
        (GATEWAY_PORT["host"], GATEWAY_PORT["container"])
    ]
    # The gateway image is rendered for exactly these names and ports.
    docker = GatewayConfig.for_mode("docker")
    assert docker.listen == [str(GATEWAY_PORT["container"])]
    assert docker.upstreams == {s: f"{s}:{p}" for s, p in SERVICE_PORTS.items()}


def test_no_container_can_take_the_gateways_address(compose):
    [network] = compose["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(network["subnet"])
    dynamic = ipaddress.ip_network(network["ip_range"])
    gateway = ipaddress.ip_address(
        compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    )
    assert dynamic.subnet_of(subnet) and gateway in subnet
    assert gateway not in dynamic  # the others' addresses come from ip_range only
    trusted = compose["services"]["auth"]["environment"]["TRUSTED_PROXIES"]
    assert trusted == f"${{TRUSTED_PROXIES:-{gateway}/32}}"


def test_the_debug_override_binds_databases_and_redis_to_loopback_only():
    override = yaml.safe_load(DEBUG_COMPOSE_FILE.read_text())
    if COMPOSE_SCHEMA.is_file():
        import jsonschema

        jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text())).validate(override)
    assert set(override["services"]) == {*DATABASE_PORTS, "redis"}
    for name, service in override["services"].items():
        for mapping in service["ports"]:
            assert mapping.startswith("127.0.0.1:"), (name, mapping)
    for database, host_port in DATABASE_PORTS.items():
        [mapping] = override["services"][database]["ports"]
        assert published(mapping.removeprefix("127.0.0.1:")) == (host_port, 3306)


def test_architecture_ports_table_agrees():
    text = ARCHITECTURE_FILE.read_text()
    rows = re.findall(r"^\| (\w+) \| `(\w+)_site` \| (\d+) \|", text, re.MULTILINE)
    assert all(name == project for name, project, _ in rows)
    assert {name: int(port) for name, _, port in rows} == SERVICE_PORTS
    assert re.search(r"gateway \(nginx\) \| `gateway_nginx/` \| 8080 locally, 80 in compose", text)


def test_migrations_run_once_one_after_another_before_anything_serves(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if dependency in MIGRATIONS:
                assert condition == {"condition": "service_completed_successfully"}, name
            else:
                assert condition == {"condition": "service_healthy"}, name
                assert "healthcheck" in services[dependency], dependency
    # One after another: their migrations of the shared auth_db tables never race.
    first = services[MIGRATIONS[0]]
    assert set(first["depends_on"]) == set(DATABASE_PORTS)
    for earlier, later in itertools.pairwise(MIGRATIONS):
        assert list(services[later]["depends_on"]) == [earlier]
    for name in MIGRATIONS:
        assert services[name]["command"] == ["migrate"]
        assert services[name]["restart"] == "no"
        assert services[name]["image"] == services[MIGRATION_PROJECT[name]]["image"]
        environment = services[name]["environment"]
        assert {"AUTH_DATABASE_URL", "ECOMMERCE_DATABASE_URL", "DJANGO_SECRET_KEY"} <= set(
            environment
        )
    # Every service and job starts after the last one, and never migrates itself.
    jobs = ("reservation-expiry", "checkout-reconciler", "mail-sender", "order-mail-sender")
    for name in (*SERVICES, *jobs):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert services[name]["environment"]["MIGRATE_ON_START"] == "0", name
    assert set(SERVICES) <= set(services["gateway"]["depends_on"])
    entrypoint = (REPO_DIR / "scripts" / "docker-entrypoint.sh").read_text()
    assert re.search(r"^\s+migrate\)", entrypoint, re.MULTILINE)
    assert '"${MIGRATE_ON_START:-1}" != 0' in entrypoint


def _copies(dockerfile: Path) -> list[tuple[str, str]]:
    """(source, destination) of each COPY from the build context (not from a stage)."""
    copies = []
    for line in dockerfile.read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            *sources, destination = [p for p in parts[1:] if not p.startswith("--")]
            copies += [(source, destination) for source in sources]
    return copies


@pytest.mark.parametrize("service", SERVICES)
def test_service_dockerfile_builds_from_the_repo_and_its_entrypoint_exists(compose, service):
    build = compose["services"][service]["build"]
    assert build == {
        "context": ".",
        "dockerfile": f"{service}_site/Dockerfile",
        "args": {"PYTHON_IMAGE": "${PYTHON_IMAGE:-python:3.11-slim}"},
    }
    dockerfile = REPO_DIR / build["dockerfile"]
    text = dockerfile.read_text()
    # The official image unless PYTHON_IMAGE says otherwise, in both stages.
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert re.findall(r"^FROM (.+)$", text, re.MULTILINE) == [
        "${PYTHON_IMAGE} AS build",
        "${PYTHON_IMAGE}",
    ]
    # Compilers in the build stage only: the final stage gets the client library.
    build_stage, final_stage = text.split("\nFROM ${PYTHON_IMAGE}\n")
    assert "build-essential libmariadb-dev pkg-config" in build_stage
    assert f"pip install --no-compile ./libs/shopkit -r {service}_site/requirements.txt" in text
    assert "libmariadb3" in final_stage
    assert not re.search(r"build-essential|gcc|-dev\b", final_stage)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "collectstatic" in text

    copies = _copies(dockerfile)
    for source, _ in copies:
        assert (REPO_DIR / source).exists(), source
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.MULTILINE).group(1))
    script = REPO_DIR / {dest: src for src, dest in copies}[entrypoint[0]]
    assert script.is_file()
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh")
    command = json.loads(re.search(r"^CMD (.+)$", text, re.MULTILINE).group(1))
    assert command == ["serve"]
    assert re.search(r"^\s+serve\)", script.read_text(), re.MULTILINE)
    assert compose["services"][service]["command"] == ["serve"]


def test_entrypoint_script_is_valid_sh():
    result = subprocess.run(
        ["sh", "-n", str(REPO_DIR / "scripts" / "docker-entrypoint.sh")], capture_output=True
    )
    assert result.returncode == 0, result.stderr


def test_gateway_dockerfile_renders_the_template_in_docker_mode(compose):
    dockerfile = dockerfile_of(compose, "gateway")
    text = dockerfile.read_text()
    context = REPO_DIR / compose["services"]["gateway"]["build"]["context"]
    for source, _ in _copies(dockerfile):
        assert (context / source).exists(), source
    assert "render.py --mode docker" in text
    # A current stable nginx (1.27.3+ resolves upstream names at run time), pinned,
    # unless NGINX_IMAGE says otherwise; the render stage on the services' Python.
    assert re.search(r"^ARG NGINX_IMAGE=nginx:1\.(2[89]|[3-9]\d)\.\d+-alpine$", text, re.MULTILINE)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert re.findall(r"^FROM (.+)$", text, re.MULTILINE) == [
        "${PYTHON_IMAGE} AS render",
        "${NGINX_IMAGE}",
    ]
    assert re.search(r"^USER nginx$", text, re.MULTILINE)  # not root, as in Kubernetes
    args = compose["services"]["gateway"]["build"]["args"]
    for argument in args:
        assert f"ARG {argument}=" in text
    for argument in ("PYTHON_IMAGE", "NGINX_IMAGE"):
        default = re.search(rf"^ARG {argument}=(.+)$", text, re.MULTILINE).group(1)
        assert args[argument] == f"${{{argument}:-{default}}}"
    # nginx as uid 101 on port 80: the sysctl Docker sets anyway, podman does not.
    sysctls = compose["services"]["gateway"]["sysctls"]
    assert sysctls == {"net.ipv4.ip_unprivileged_port_start": 0}


def test_every_image_is_built_on_substitutable_bases(compose):
    """make test-compose substitutes the bases and the tag; a service that hard-codes
    them would pull the official image, or run another build's."""
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["build"]["args"]["PYTHON_IMAGE"] == "${PYTHON_IMAGE:-python:3.11-slim}"
            assert service["image"].endswith(":${TIENDA_IMAGE_TAG:-latest}"), name
        else:
            assert service["image"].startswith("${"), name  # MYSQL_IMAGE, REDIS_IMAGE
