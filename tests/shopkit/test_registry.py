"""shopkit.registry is the one list of services: the repository and every reader agree with it."""

import ast
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import RequestFactory

from gateway_nginx.render import GatewayConfig, render_config
from shopkit import registry
from shopkit.context_processors import backoffice
from shopkit.errors import ADMIN_PATHS
from shopkit.routers import database_for_app
from tests.support.processes import REPO_DIR


def _settings_assignments(service: registry.Service) -> dict:
    """The literal top-level assignments of a service's settings.py (read, not imported)."""
    path = REPO_DIR / service.project / service.project / "settings.py"
    values = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                values[node.targets[0].id] = ast.unparse(node.value)
    return values


@pytest.mark.parametrize("service", registry.SERVICES, ids=registry.SERVICE_NAMES)
def test_each_entry_is_a_project_of_the_repository(service):
    assignments = _settings_assignments(service)
    assert assignments["SERVICE_NAME"] == service.name
    assert assignments["ROOT_URLCONF"] == f"{service.project}.urls"
    for label in service.app_labels:
        assert (REPO_DIR / service.project / label / "apps.py").is_file(), label
        assert f"'{label}'" in assignments["INSTALLED_APPS"]  # ast.unparse quotes
    urls = (REPO_DIR / service.project / service.project / "urls.py").read_text()
    assert f'service_urlpatterns("{service.name}"' in urls


def test_names_ports_and_apps_are_unique():
    assert len(set(registry.SERVICE_NAMES)) == len(registry.SERVICES)
    assert len(set(registry.SERVICE_PORTS.values())) == len(registry.SERVICES)
    labels = [label for service in registry.SERVICES for label in service.app_labels]
    assert len(set(labels)) == len(labels)
    assert registry.service("orders").port == registry.SERVICE_PORTS["orders"]
    with pytest.raises(KeyError):
        registry.service("payments")


@pytest.mark.parametrize("service", registry.SERVICES, ids=registry.SERVICE_NAMES)
def test_the_readers_follow_the_registry(service):
    for label in service.app_labels:
        assert database_for_app(label) == service.database
    assert service.admin_path in ADMIN_PATHS
    assert settings.SERVICE_URLS[service.name]  # a URL for every neighbour
    assert service.name in settings.ALLOWED_HOSTS or settings.ALLOWED_HOSTS == ["*"]
    gateway = render_config(GatewayConfig.for_mode("local"))
    for prefix in service.path_prefixes:
        assert f"location {prefix} {{\n            set $tienda_service {service.name};" in gateway
    assert f"server 127.0.0.1:{service.port};" in gateway
    assert f'<a href="{service.admin_path}">' in gateway


def test_backoffice_header_lists_the_services_in_order(settings):
    request = RequestFactory().get("/catalog/admin/")
    sections = backoffice(request)["backoffice_sections"]
    assert [(s["service"], s["label"], s["url"]) for s in sections] == [
        (service.name, service.title, service.admin_path) for service in registry.SERVICES
    ]
    assert [s["current"] for s in sections] == [
        service.name == settings.SERVICE_NAME for service in registry.SERVICES
    ]


def test_the_makefile_reads_the_same_list():
    listed = subprocess.run(
        [sys.executable, str(REPO_DIR / "libs/shopkit/shopkit/registry.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tuple(listed) == registry.SERVICE_NAMES
    assert (
        "$(shell $(PYTHON) libs/shopkit/shopkit/registry.py)" in (REPO_DIR / "Makefile").read_text()
    )
