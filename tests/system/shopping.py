"""People using the shop through a gateway, for the system tests.

Customers who only need to buy carry access tokens minted with the key the
services trust (tests/support/tokens.py): that keeps sign-ups under auth's
per-address throttle. Staff either sign in (the seeded demo accounts) or carry a
minted staff token with the permissions they need.
"""

import contextlib
import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.tokens import mint_access_token

STAFF_PASSWORD = "tienda-staff-2026"  # auth's `seed_users --dev` demo staff
CUSTOMER_PASSWORD = "tienda-demo-2026"
ADDRESS = {
    "full_name": "Ana García",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postal_code": "28013",
    "country": "ES",
    "phone": "+34600000000",
}
_minted_user_ids = itertools.count(700_000)


class ShopUser:
    """Someone using the shop through a gateway: a keep-alive session, maybe a token."""

    def __init__(self, base_url: str, token: str | None = None, *, user_id: int | None = None):
        self.base_url = base_url
        self.user_id = user_id
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, *, expect: int | None = None, **kwargs):
        response = self.session.request(method, self.base_url + path, timeout=60, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.call("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def add_to_cart(self, product_id: int, quantity: int, **kwargs):
        response = self.post(
            "/api/v1/cart/items/", json={"product_id": product_id, "quantity": quantity}, **kwargs
        )
        if "expect" not in kwargs:
            assert response.status_code in (200, 201), response.text
        return response

    def cart_quantities(self) -> dict[int, int]:
        items = self.get("/api/v1/cart/", expect=200).json()["items"]
        return {item["product_id"]: item["quantity"] for item in items}

    def checkout(self, key: str | None = None, *, body: dict | None = None, **kwargs):
        return self.post(
            "/api/v1/orders/",
            json={"shipping_address": ADDRESS} | (body or {}),
            headers={"Idempotency-Key": key or uuid.uuid4().hex, **kwargs.pop("headers", {})},
            **kwargs,
        )


def sign_in(base_url: str, email: str, password: str) -> ShopUser:
    response = requests.post(
        f"{base_url}/api/v1/auth/token/", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return ShopUser(base_url, response.json()["access"])


def token_buyer(base_url: str) -> ShopUser:
    """A customer with a fresh user id, a token, and an empty cart."""
    user_id = next(_minted_user_ids)
    token = mint_access_token(user_id=user_id, email=f"buyer{user_id}@example.com")
    return ShopUser(base_url, token, user_id=user_id)


def token_staff(base_url: str, perms: list[str]) -> ShopUser:
    user_id = next(_minted_user_ids)
    token = mint_access_token(user_id=user_id, is_staff=True, perms=perms)
    return ShopUser(base_url, token, user_id=user_id)


def create_product(catalog_manager: ShopUser, *, stock: int, price="19.99", **fields) -> dict:
    sku = f"SYS-{uuid.uuid4().hex[:10].upper()}"
    body = {
        "sku": sku,
        "name": f"System product {sku}",
        "price": price,
        "tax_rate": "0.21",
        "stock": stock,
    }
    return catalog_manager.post("/api/v1/catalog/products/", json=body | fields, expect=201).json()


def product_stock(base_url: str, product_id: int) -> int:
    # Read signed in: anonymous catalogue reads may come from the gateway's
    # micro-cache (up to GATEWAY_CATALOG_CACHE_SECONDS old); a customer's never do.
    response = requests.get(
        f"{base_url}/api/v1/catalog/products/{product_id}/",
        headers={"Authorization": f"Bearer {mint_access_token(user_id=999_999)}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def in_parallel(calls):
    """Run the calls in threads released at the same instant; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# The shop's shipping for the tests that check out with it: two zones, three methods
# (the rules of orders/shipping.py; prices net).
SHIPPING_ZONES = {"Spain": ["ES"], "Rest of the EU": ["DE", "FR", "IT", "PT"]}
SHIPPING_METHODS = [
    {
        "code": "standard",
        "name": "Standard",
        "carrier": "Correos",
        "estimated_days_min": 2,
        "estimated_days_max": 5,
        "zones": ["Spain", "Rest of the EU"],
        "rate_kind": "weight",
        "tiers": [{"max_weight": "2", "price": "4.95"}, {"max_weight": "10", "price": "7.95"}],
        "tax_mode": "highest_in_cart",
    },
    {
        "code": "express",
        "name": "Express",
        "carrier": "SEUR",
        "estimated_days_min": 1,
        "estimated_days_max": 1,
        "zones": ["Spain"],
        "rate_kind": "flat",
        "flat_price": "9.95",
        "tax_mode": "fixed",
        "tax_rate": "0.21",
    },
    {
        "code": "free-over-50",
        "name": "Economy, free over 50 EUR",
        "carrier": "Correos",
        "estimated_days_min": 4,
        "estimated_days_max": 8,
        "zones": ["Spain", "Rest of the EU"],
        "rate_kind": "flat",
        "flat_price": "5.95",
        "free_above": "50.00",
        "tax_mode": "fixed",
        "tax_rate": "0.21",
    },
]


@contextlib.contextmanager
def shop_shipping(order_manager: ShopUser):
    """SHIPPING_METHODS, made by an order manager over the staff API and removed after.

    While they exist every checkout to their countries must name a method, so they
    live only as long as the test that uses them.
    """
    zones = {
        name: order_manager.post(
            "/api/v1/orders/shipping/zones/",
            json={"name": f"{name} {uuid.uuid4().hex[:6]}", "countries": countries},
            expect=201,
        ).json()["id"]
        for name, countries in SHIPPING_ZONES.items()
    }
    methods = [
        order_manager.post(
            "/api/v1/orders/shipping/methods/",
            json=method | {"zones": [zones[name] for name in method["zones"]]},
            expect=201,
        ).json()["id"]
        for method in SHIPPING_METHODS
    ]
    try:
        yield
    finally:
        for method_id in methods:
            order_manager.delete(f"/api/v1/orders/shipping/methods/{method_id}/", expect=204)
        for zone_id in zones.values():
            order_manager.delete(f"/api/v1/orders/shipping/zones/{zone_id}/", expect=204)
