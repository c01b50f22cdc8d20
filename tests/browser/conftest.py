"""Browser tests of the staff back-office: headless Chromium (Debian's) driven by
Playwright, against the four real services behind the real nginx gateway.

The shop is built with the system tests' machinery (tests/support/shop.py,
tests/system/gateway.py) but on its own databases (tienda_browser_auth /
tienda_browser_ecommerce) and its own log directory (var/browser/system/), so a
browser run and a system run never drop each other's databases or logs.

Every test gets a fresh browser context (no cookies): it signs in as the staff
member it is about. Screenshots of each step, and of any failure, are saved
under var/browser/screenshots/<test>/ (var/ is not committed).
"""

import os
import re
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.data import (
    CATALOG_MANAGER,
    CUSTOMER_PASSWORD,
    DEMO_CUSTOMERS,
    ShopDatabases,
    api_sign_in,
    place_order,
)
from tests.support.environment import RUN_SUFFIX
from tests.support.processes import REPO_DIR
from tests.support.shop import start_shop
from tests.system.gateway import GatewayProcess
from tests.system.logs import json_lines

BROWSER_DATABASES = {
    "auth": f"tienda_browser{RUN_SUFFIX}_auth",
    "ecommerce": f"tienda_browser{RUN_SUFFIX}_ecommerce",
}
ARTIFACTS_DIR = REPO_DIR / "var" / "browser"
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium (scripts/system-packages.sh --browser)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --- The shop: four gunicorns on MariaDB and nginx in front ------------------------------


@pytest.fixture(scope="session")
def shop():
    running = start_shop(BROWSER_DATABASES, ARTIFACTS_DIR / "system")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gateway(shop):
    """The gateway as `make run` renders it; the browser only ever talks to it.

    No CSRF_TRUSTED_ORIGINS is configured for its random port: the admins' POSTs
    pass Django's origin check only because nginx forwards the Host with its port.
    """
    with GatewayProcess(shop.upstreams(), log_dir=shop.log_dir) as running:
        yield running
    # Whatever staff did in the browser, no service answered with a 5xx (a 500 is a bug).
    failures = [
        f"{line['method']} {line['path']} -> {line['status']}"
        for line in json_lines(running.log_text())
        if line.get("logger") == "nginx.access" and line.get("status", 0) >= 500
    ]
    if failures:
        pytest.fail("the gateway answered 5xx during the browser tests:\n" + "\n".join(failures))


@pytest.fixture(scope="session")
def seeded(shop):
    """Staff groups, the superuser, the demo staff and customers (seed_users --dev)."""
    shop.manage(
        "auth",
        "seed_users",
        "--dev",
        "--customers",
        str(DEMO_CUSTOMERS),
        "--customer-password",
        CUSTOMER_PASSWORD,
    )


@pytest.fixture(scope="session")
def databases(seeded):
    """Direct reads of the shop's two MariaDB databases (seeded): .auth / .ecommerce."""
    return ShopDatabases(**BROWSER_DATABASES)


@pytest.fixture(scope="session")
def catalog_api(seeded, gateway):
    """The catalog manager over the API (through the gateway), to set up products."""
    return api_sign_in(gateway.url, *CATALOG_MANAGER)


@pytest.fixture(scope="session")
def order_for(databases, gateway):
    """order_for(customer_email, [(product_id, quantity), ...]) -> the order the API made.

    A real checkout through the gateway: the customer's cart, then POST /api/v1/orders/
    with their saved address (seed_users gives each demo customer one).
    """

    def place(email: str, lines: list[tuple[int, int]]) -> dict:
        customer = api_sign_in(gateway.url, email, CUSTOMER_PASSWORD)
        address_id = databases.auth.value(
            "SELECT MIN(id) FROM accounts_address WHERE user_id = %s", databases.user_id(email)
        )
        return place_order(customer, lines=lines, address_id=address_id)

    return place


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system-packages.sh --browser (as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)  # the page fixture reads it at teardown
    return report


def _test_slug(node) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", node.name).strip("-")


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    shutil.rmtree(SCREENSHOTS_DIR, ignore_errors=True)
    SCREENSHOTS_DIR.mkdir(parents=True)


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): a full-page PNG under var/browser/screenshots/<test>/."""
    directory = SCREENSHOTS_DIR / _test_slug(request.node)
    taken = []

    def take(page, name: str):
        taken.append(name)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{len(taken):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def open_page(browser, gateway, seeded, request, screenshot):
    """open_page() -> a page in a new browser context (its own cookies) on the gateway.

    Each page left open by a failed test is captured as FAILED-<n>.png.
    """
    contexts = []

    def make():
        context = browser.new_context(
            base_url=gateway.url, accept_downloads=True, viewport={"width": 1440, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "report_call", None) and request.node.report_call.failed
    for number, context in enumerate(contexts, start=1):
        if failed:
            for page in context.pages:
                screenshot(page, f"FAILED-{number}")
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()
