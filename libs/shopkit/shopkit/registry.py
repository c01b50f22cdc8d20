"""The one list of Tienda's services: adding a service is one entry in SERVICES.

Everything that needs the list reads it from here: the database router, the
settings (neighbour URLs, allowed hosts), the admins' shared header and their
HTML error pages, the gateway's rendering (upstreams, routed prefixes), `make run`
and the tests that start real processes. Standard library only: the gateway's
image renders its config with a bare Python that has no Django.
"""

from dataclasses import dataclass

# The two logical databases (Django aliases) of every service.
AUTH_DB = "default"
ECOMMERCE_DB = "ecommerce"


@dataclass(frozen=True)
class Service:
    """One Django project, `<name>_site/`, serving /api/v1/<name>/ and /<name>/."""

    name: str  # URL segment, SERVICE_NAME in its settings, <NAME>_SERVICE_URL
    port: int  # where it listens locally and in compose
    app_labels: tuple[str, ...]  # its own apps with tables
    database: str  # the alias its own tables live in
    title: str  # its section in the back-office header

    @property
    def project(self) -> str:
        """The Django project's directory (and settings package)."""
        return f"{self.name}_site"

    @property
    def path_prefixes(self) -> tuple[str, ...]:
        """What the gateway routes to it, unchanged: its API, then its admin, health, static."""
        return (f"/api/v1/{self.name}/", f"/{self.name}/")

    @property
    def admin_path(self) -> str:
        return f"/{self.name}/admin/"

    @property
    def url_setting(self) -> str:
        """The environment variable telling the others where it answers."""
        return f"{self.name.upper()}_SERVICE_URL"

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("auth", 8000, ("accounts",), AUTH_DB, "Customers & staff"),
    Service("catalog", 8001, ("catalog",), ECOMMERCE_DB, "Catalog"),
    Service("cart", 8002, ("carts",), ECOMMERCE_DB, "Carts"),
    Service("orders", 8003, ("orders",), ECOMMERCE_DB, "Orders"),
)
SERVICE_NAMES = tuple(service.name for service in SERVICES)
SERVICE_PORTS = {service.name: service.port for service in SERVICES}


def service(name: str) -> Service:
    """The service called `name` (KeyError for any other name)."""
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


if __name__ == "__main__":  # the Makefile's list: python libs/shopkit/shopkit/registry.py
    print(*SERVICE_NAMES)
