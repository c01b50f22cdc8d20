"""The system under test: the four services as real gunicorn processes on MariaDB,
and the nginx gateway in front of them.

Session-scoped: fresh databases (tienda_system_auth / tienda_system_ecommerce)
are created, every service is migrated with `manage.py migrate_all`, the four
gunicorns start on free ports and are waited for on /<svc>/ready/, and all are
stopped at the end (`shop`). `gateway` renders gateway_nginx's template in
front of them and runs nginx on a free port. Logs are kept in var/system/.
"""

import pytest

from tests.support.environment import RUN_ID, RUN_SUFFIX
from tests.support.processes import REPO_DIR
from tests.support.shop import start_shop
from tests.support.stripe_standin import StripeStandIn
from tests.system.gateway import UNLIMITED_RATES, GatewayProcess
from tests.system.shopping import CUSTOMER_PASSWORD, STAFF_PASSWORD, sign_in

# TIENDA_SYSTEM_TEST_ID=name: databases and logs of the run's own (tests/support/environment.py).
_SUFFIX = RUN_SUFFIX
SYSTEM_DATABASES = {
    "auth": f"tienda_system{_SUFFIX}_auth",
    "ecommerce": f"tienda_system{_SUFFIX}_ecommerce",
}
SYSTEM_LOG_DIR = REPO_DIR / "var" / (f"system-{RUN_ID}" if RUN_ID else "system")
# The stripe payment provider of the system's orders service talks to a stand-in of
# Stripe's API in this process (tests/support/stripe_standin.py; test code only).
STRIPE_SECRET_KEY = "sk_test_tienda_system"
STRIPE_WEBHOOK_SECRET = "whsec_tienda_system"


@pytest.fixture(scope="session")
def stripe_standin():
    standin = StripeStandIn(STRIPE_SECRET_KEY)
    yield standin
    standin.close()


@pytest.fixture(scope="session")
def shop(stripe_standin):
    running = start_shop(
        SYSTEM_DATABASES,
        SYSTEM_LOG_DIR,
        env={
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe_standin.url,
        },
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gateway(shop):
    """nginx in front of the shop's services, with the rate limits `make run` ships.

    `gateway.url` is its base URL; `gateway.log_text()` its access and error log.
    """
    with GatewayProcess(shop.upstreams(), log_dir=shop.log_dir) as running:
        yield running


@pytest.fixture(scope="session")
def open_gateway(shop):
    """The same gateway without its rate limits, for tests of many concurrent buyers
    from one address (overselling, faults): what they test is the shop, not nginx's
    limits, which `gateway` keeps and test_gateway.py tests.
    """
    gateway = GatewayProcess(
        shop.upstreams(), log_dir=shop.log_dir, name="gateway-open", **UNLIMITED_RATES
    )
    with gateway as running:
        yield running


@pytest.fixture(scope="session")
def seeded_staff(shop):
    """The demo staff accounts (auth's seed_users --dev)."""
    shop.manage(
        "auth", "seed_users", "--dev", "--customers", "3", "--customer-password", CUSTOMER_PASSWORD
    )


@pytest.fixture
def staff(seeded_staff, gateway):
    """The demo staff, signed in through the gateway for this test: a test that re-seeds
    resets their passwords, which revokes earlier access tokens everywhere (issue 11.2)."""
    return {
        "catalog": sign_in(gateway.url, "catalog@tienda.local", STAFF_PASSWORD),
        "orders": sign_in(gateway.url, "orders@tienda.local", STAFF_PASSWORD),
    }
