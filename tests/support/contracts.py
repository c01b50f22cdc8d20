"""The internal contracts of docs/internal-api.md as assertions, run against the real
service (in its own test process) and against every fake that stands in for it
(tests/cart/fake_catalog.py, tests/orders/fakes.py), so a fake cannot drift from
what it fakes.

Each check takes `api`, something with `call(method, path, body=None, *,
credential=True) -> (status, json body)`, and callables that arrange state the way
that implementation allows (a factory for the real one, a method of the fake).
"""

from collections.abc import Callable
from typing import Protocol

import requests

PRODUCT_KEYS = {
    "id",
    "sku",
    "name",
    "slug",
    "price",
    "tax_rate",
    "tax_class",
    "stock",
    "is_active",
    "weight",
}
RESERVATION_KEYS = {"reference", "state", "expires_at", "lines"}
RESERVATION_LINE_KEYS = {
    "product_id",
    "sku",
    "name",
    "unit_price",
    "tax_rate",
    "quantity",
    "weight",
}
UNKNOWN_ID = 987654


class InternalApi(Protocol):
    def call(
        self, method: str, path: str, body: dict | None = None, *, credential: bool = True
    ) -> tuple[int, dict]: ...


class FakeApi:
    """A fake service called over HTTP, as the services' client calls it."""

    def __init__(self, fake):
        self.fake = fake

    def call(self, method, path, body=None, *, credential=True):
        headers = {"X-Service-Token": self.fake.service_token} if credential else {}
        response = requests.request(
            method, self.fake.url + path, json=body, headers=headers, timeout=5
        )
        return response.status_code, response.json()


class InProcessApi:
    """The real service's internal API through Django's test client (APIClient)."""

    def __init__(self, service_token: str):
        from rest_framework.test import APIClient

        self.service_token = service_token
        self.client = APIClient()

    def call(self, method, path, body=None, *, credential=True):
        headers = {"HTTP_X_SERVICE_TOKEN": self.service_token} if credential else {}
        send = getattr(self.client, method.lower())
        response = (
            send(path, body, format="json", **headers)
            if body is not None
            else send(path, **headers)
        )
        return response.status_code, response.json()


def _refused(answer: tuple[int, dict], status: int, code: str) -> dict:
    assert answer[0] == status, answer
    assert answer[1]["code"] == code, answer
    return answer[1]


# --- catalog ----------------------------------------------------------------------------

PRODUCTS = "/internal/catalog/products/"
RESERVATIONS = "/internal/catalog/reservations/"

AddProduct = Callable[..., int]  # (price=, tax_rate=, stock=, is_active=) -> product id


def check_catalog_product_list(api: InternalApi, add_product: AddProduct) -> None:
    active = add_product(price="19.99", tax_rate="0.21", stock=4, is_active=True)
    inactive = add_product(price="5.00", tax_rate="0.055", stock=0, is_active=False)

    status, body = api.call("GET", f"{PRODUCTS}?ids={active},{inactive},{UNKNOWN_ID}")
    assert status == 200, body
    rows = {row["id"]: row for row in body["results"]}
    assert set(rows) == {active, inactive}  # inactive included, unknown absent
    for row in rows.values():
        assert set(row) == PRODUCT_KEYS, row
    picked = ("price", "tax_rate", "stock", "is_active")
    assert [rows[active][key] for key in picked] == ["19.99", "0.21", 4, True]
    assert [rows[inactive][key] for key in picked] == ["5.00", "0.055", 0, False]

    # A destination country (tax by destination is off here: the products' own rates).
    status, body = api.call("GET", f"{PRODUCTS}?ids={active}&country=DE")
    assert (status, body["results"][0]["tax_rate"]) == (200, "0.21"), body
    _refused(api.call("GET", f"{PRODUCTS}?ids={active}&country=XX"), 400, "invalid")

    too_many = ",".join(str(n) for n in range(1, 102))
    _refused(api.call("GET", f"{PRODUCTS}?ids={too_many}"), 400, "invalid")
    _refused(api.call("GET", f"{PRODUCTS}?ids={active},x"), 400, "invalid")
    _refused(
        api.call("GET", f"{PRODUCTS}?ids={active}", credential=False), 403, "permission_denied"
    )


def check_catalog_reservations(
    api: InternalApi, add_product: AddProduct, stock_of: Callable[[int], int]
) -> None:
    kettle = add_product(price="10.00", tax_rate="0.21", stock=5, is_active=True)
    mug = add_product(price="3.33", tax_rate="0.1", stock=2, is_active=True)
    lines = [{"product_id": mug, "quantity": 1}, {"product_id": kettle, "quantity": 2}]

    status, body = api.call("POST", RESERVATIONS, {"reference": "T-CONTRACT1", "lines": lines})
    assert status == 201, body
    assert set(body) == RESERVATION_KEYS and body["state"] == "reserved"
    assert [line["product_id"] for line in body["lines"]] == sorted([kettle, mug])
    by_product = {line["product_id"]: line for line in body["lines"]}
    assert set(by_product[kettle]) == RESERVATION_LINE_KEYS
    assert [by_product[kettle][key] for key in ("unit_price", "tax_rate", "quantity")] == [
        "10.00",
        "0.21",
        2,
    ]
    assert (stock_of(kettle), stock_of(mug)) == (3, 1)

    # A retry of the same reservation: the same answer, no second hold.
    status, again = api.call("POST", RESERVATIONS, {"reference": "T-CONTRACT1", "lines": lines})
    assert (status, again["state"]) == (200, "reserved")
    assert (stock_of(kettle), stock_of(mug)) == (3, 1)
    _refused(
        api.call(
            "POST",
            RESERVATIONS,
            {"reference": "T-CONTRACT1", "lines": [{"product_id": kettle, "quantity": 1}]},
        ),
        409,
        "reference_conflict",
    )

    short = _refused(
        api.call(
            "POST",
            RESERVATIONS,
            {"reference": "T-CONTRACT2", "lines": [{"product_id": kettle, "quantity": 100}]},
        ),
        409,
        "insufficient_stock",
    )
    assert short["short_lines"] == [{"product_id": kettle, "requested": 100, "available": 3}]
    unknown = _refused(
        api.call(
            "POST",
            RESERVATIONS,
            {"reference": "T-CONTRACT3", "lines": [{"product_id": UNKNOWN_ID, "quantity": 1}]},
        ),
        400,
        "unknown_product",
    )
    assert unknown["product_ids"] == [UNKNOWN_ID]
    assert (stock_of(kettle), stock_of(mug)) == (3, 1)

    for _ in range(2):  # committing is idempotent
        status, committed = api.call("POST", f"{RESERVATIONS}T-CONTRACT1/commit/")
        assert (status, committed["state"]) == (200, "committed")
    status, read = api.call("GET", f"{RESERVATIONS}T-CONTRACT1/")
    assert (status, read["state"]) == (200, "committed")

    # Released (an order cancelled): the stock comes back, the reference is spent.
    status, released = api.call("POST", f"{RESERVATIONS}T-CONTRACT1/release/")
    assert (status, released["state"]) == (200, "released")
    assert (stock_of(kettle), stock_of(mug)) == (5, 2)
    _refused(
        api.call("POST", RESERVATIONS, {"reference": "T-CONTRACT1", "lines": lines}),
        409,
        "reservation_released",
    )
    # A release that arrives before its reserve leaves a tombstone.
    status, tombstone = api.call("POST", f"{RESERVATIONS}T-CONTRACT4/release/")
    assert (status, tombstone["state"]) == (200, "released")
    _refused(
        api.call("POST", RESERVATIONS, {"reference": "T-CONTRACT4", "lines": lines}),
        409,
        "reservation_released",
    )
    assert (stock_of(kettle), stock_of(mug)) == (5, 2)

    _refused(api.call("POST", f"{RESERVATIONS}T-NOSUCH/commit/"), 404, "reservation_not_found")
    _refused(api.call("GET", f"{RESERVATIONS}T-NOSUCH/"), 404, "reservation_not_found")
    _refused(
        api.call("POST", RESERVATIONS, {"reference": "T-C5", "lines": lines}, credential=False),
        403,
        "permission_denied",
    )


# --- cart -------------------------------------------------------------------------------

FillCart = Callable[[int, dict[int, int]], None]  # (user_id, {product_id: quantity})


def check_cart_read_and_clear(api: InternalApi, fill_cart: FillCart) -> None:
    status, empty = api.call("GET", "/internal/cart/users/77/")
    assert (status, empty) == (200, {"user_id": 77, "version": 0, "lines": []})

    fill_cart(78, {1: 2, 2: 1})
    status, cart = api.call("GET", "/internal/cart/users/78/")
    assert status == 200 and set(cart) == {"user_id", "version", "lines"}
    assert cart["user_id"] == 78 and cart["version"] > 0
    assert sorted((line["product_id"], line["quantity"]) for line in cart["lines"]) == [
        (1, 2),
        (2, 1),
    ]

    clear = {"reference": "T-CONTRACT6", "version": cart["version"], "lines": cart["lines"]}
    status, cleared = api.call("POST", "/internal/cart/users/78/clear/", clear)
    assert status == 200 and cleared["cleared"] is True
    assert cleared["version"] > cart["version"]
    status, after = api.call("GET", "/internal/cart/users/78/")
    assert after["lines"] == [] and after["version"] == cleared["version"]

    # The customer shops again; a retry of the same clear must leave the new line alone.
    fill_cart(78, {3: 1})
    status, retried = api.call("POST", "/internal/cart/users/78/clear/", clear)
    assert status == 200 and isinstance(retried["version"], int)
    status, latest = api.call("GET", "/internal/cart/users/78/")
    assert [(line["product_id"], line["quantity"]) for line in latest["lines"]] == [(3, 1)]

    _refused(
        api.call("GET", "/internal/cart/users/78/", credential=False), 403, "permission_denied"
    )


# --- auth -------------------------------------------------------------------------------

# The fields of docs/internal-api.md (a saved address as orders copies it).
# Restated on purpose: a contract test must not read the fields from the code it checks.
ADDRESS_KEYS = {
    "id", "full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone",
}  # fmt: skip
AddAddress = Callable[[int], tuple[int, dict]]  # (user_id) -> (address id, its fields)


def check_auth_address(api: InternalApi, add_address: AddAddress, user_ids: tuple[int, int]):
    owner, other = user_ids
    address_id, fields = add_address(owner)
    status, body = api.call("GET", f"/internal/auth/users/{owner}/addresses/{address_id}/")
    assert status == 200, body
    assert set(body) >= ADDRESS_KEYS
    assert body["id"] == address_id
    assert {key: body[key] for key in fields} == fields

    url = f"/internal/auth/users/{other}/addresses/{address_id}/"  # someone else's
    _refused(api.call("GET", url), 404, "address_not_found")
    _refused(
        api.call("GET", f"/internal/auth/users/{owner}/addresses/{UNKNOWN_ID}/"),
        404,
        "address_not_found",
    )
    _refused(
        api.call("GET", f"/internal/auth/users/{owner}/addresses/{address_id}/", credential=False),
        403,
        "permission_denied",
    )
