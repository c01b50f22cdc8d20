"""The published contracts hold from outside too: schemathesis through nginx.

The in-process runs (tests/<svc>/test_schema.py) cover every input in depth; this
one sends fewer generated requests, over HTTP through the gateway to the real
gunicorns, as a client would: the gateway's own answers (limits, sizes, gzip) must
keep the documented statuses, content types and schemas too. It has a shop of its
own (databases tienda_system_contract_*), so fuzzed staff writes never touch the
shop the other system tests check.
"""

import pytest

from tests.catalog.conftest import CATALOG_MANAGER_PERMS
from tests.support import contract
from tests.support.environment import RUN_SUFFIX
from tests.support.processes import SERVICES
from tests.support.shop import start_shop
from tests.support.tokens import mint_access_token
from tests.system.conftest import SYSTEM_LOG_DIR
from tests.system.gateway import GatewayProcess

EXAMPLES_PER_OPERATION = 3
STAFF_PERMS = [*CATALOG_MANAGER_PERMS, "orders.change_order", "orders.view_order"]
TOKENS = {
    "anonymous": None,
    "customer": mint_access_token(user_id=810_001),
    "staff": mint_access_token(user_id=810_002, is_staff=True, perms=STAFF_PERMS),
}


@pytest.fixture(scope="module")
def contract_gateway():
    shop = start_shop(
        {
            "auth": f"tienda_system{RUN_SUFFIX}_contract_auth",
            "ecommerce": f"tienda_system{RUN_SUFFIX}_contract_ecommerce",
        },
        SYSTEM_LOG_DIR.with_name(SYSTEM_LOG_DIR.name + "-contract"),
    )
    try:
        with GatewayProcess(shop.upstreams(), log_dir=shop.log_dir) as gateway:
            yield gateway
    finally:
        shop.stop()


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("role", contract.ROLES)
def test_every_answer_through_the_gateway_keeps_the_contract(contract_gateway, service, role):
    import schemathesis

    schema = schemathesis.openapi.from_url(
        f"{contract_gateway.url}/api/v1/{service}/schema/?format=json"
    )
    schema.config.generation.update(with_security_parameters=False)
    schema.config.update(base_url=contract_gateway.url)
    token = TOKENS[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    answered = contract.run_contract(schema, headers=headers, max_examples=EXAMPLES_PER_OPERATION)

    assert answered  # every operation was called
