"""Demo orders made the way a storefront makes them (`manage.py seed_orders`).

Everything goes through the public API over HTTP, by default through the gateway:
each demo customer (auth's `seed_users --dev --customers N`: customer1@example.com …)
signs in, fills their cart with random in-stock products, asks for the shipping
methods to their address and checks out with one of them and an Idempotency-Key.
(The shop's demo shipping zones and methods are made first, in the database:
orders.services.shipping.shipping_seed.) So demo orders obey stock, prices and totals exactly like real ones.

Deterministic for a seed: the same catalogue and seed give the same baskets, and the
Idempotency-Keys are derived from the seed, so running it again replays the same
checkouts instead of ordering twice.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

PRODUCT_PAGES = 5  # at most 500 products to choose from
RETRIES = 5  # for 429 (gateway rate limits) and 503 (a neighbour restarting)
TOKEN_REUSE_SECONDS = 600  # access tokens live 15 minutes: sign in again well before


class SeedingError(Exception):
    """The shop answered something seeding cannot work around."""


@dataclass
class SeedOrdersResult:
    created: int = 0
    replayed: int = 0
    skipped_out_of_stock: int = 0
    customers_signed_in: int = 0
    failures: list[str] = field(default_factory=list)


class StorefrontClient:
    """The public API as one customer uses it (token, cart, checkout), with polite retries."""

    def __init__(self, base_url: str, *, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def call(self, method: str, path: str, *, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for attempt in range(1, RETRIES + 1):
            try:
                response = self.session.request(
                    method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                if attempt == RETRIES:
                    raise SeedingError(f"{method} {path}: {exc}") from exc
                time.sleep(0.5 * attempt)
                continue
            if response.status_code not in (429, 503) or attempt == RETRIES:
                return response
            # Rate limited or a neighbour restarting: every call here is safe to repeat
            # (a checkout carries its Idempotency-Key).
            time.sleep(float(response.headers.get("Retry-After") or 0.5 * attempt))
        raise AssertionError("unreachable")

    def sign_in(self, email: str, password: str) -> str | None:
        response = self.call(
            "POST", "/api/v1/auth/token/", json={"email": email, "password": password}
        )
        return response.json()["access"] if response.status_code == 200 else None

    def products_in_stock(self) -> list[dict]:
        products = []
        for page in range(1, PRODUCT_PAGES + 1):
            response = self.call(
                "GET",
                "/api/v1/catalog/products/",
                params={"in_stock": "true", "page_size": 100, "page": page, "ordering": "name"},
            )
            if response.status_code != 200:
                break
            body = response.json()
            products.extend(body["results"])
            if not body.get("next"):
                break
        return sorted(products, key=lambda product: product["id"])

    def first_address(self, token: str) -> tuple[int, str] | None:
        """The customer's first saved address: (id, country)."""
        response = self.call("GET", "/api/v1/auth/addresses/", token=token)
        if response.status_code != 200:
            return None
        body = response.json()
        addresses = body["results"] if isinstance(body, dict) else body
        return (addresses[0]["id"], addresses[0]["country"]) if addresses else None

    def shipping_methods(self, token: str, country: str) -> list[str]:
        """The codes of the methods that can carry this customer's cart, cheapest first."""
        response = self.call(
            "GET", "/api/v1/orders/shipping-methods/", token=token, params={"country": country}
        )
        return [option["code"] for option in response.json()] if response.ok else []


DEMO_ADDRESS = {
    "full_name": "Demo Customer",
    "line1": "Calle de Alcalá 1",
    "city": "Madrid",
    "postal_code": "28014",
    "country": "ES",
}


def orders_seed(
    *,
    orders: int,
    seed: int,
    base_url: str,
    customers: int,
    customer_password: str,
    progress: Callable[[int, SeedOrdersResult], None] = lambda done, result: None,
) -> SeedOrdersResult:
    """Place up to `orders` demo orders through the public API; skip what is out of stock."""
    shop = StorefrontClient(base_url)
    result = SeedOrdersResult()
    products = shop.products_in_stock()
    if not products:
        raise SeedingError("The catalogue has no product in stock (run seed_catalog first).")

    # customer number -> (token, saved address (id, country), signed in at)
    signed_in: dict[int, tuple[str, tuple[int, str] | None, float]] = {}

    def customer_session(number: int) -> tuple[str, tuple[int, str] | None] | None:
        known = signed_in.get(number)
        if known is None or time.monotonic() - known[2] > TOKEN_REUSE_SECONDS:
            token = shop.sign_in(f"customer{number}@example.com", customer_password)
            if token is None:
                return None
            if known is None:
                result.customers_signed_in += 1
            signed_in[number] = (token, shop.first_address(token), time.monotonic())
        token, address, _ = signed_in[number]
        return token, address

    for index in range(orders):
        # One generator per order, seeded by (seed, index): the customer and the key of
        # order i never depend on what the catalogue looks like today, so a rerun meets
        # the same (customer, Idempotency-Key) pairs and replays them.
        rng = random.Random(f"{seed}:{index}")  # noqa: S311 (demo data, deterministic on purpose)
        number = rng.randint(1, customers)
        basket = [
            (product["id"], rng.randint(1, 2))
            for product in rng.sample(products, min(rng.randint(1, 3), len(products)))
        ]
        session = customer_session(number)
        if session is None:
            result.failures.append(f"customer{number}@example.com could not sign in")
        else:
            _place_order(shop, session, basket, f"seed-orders-{seed}-{index}", result, rng)
        progress(index + 1, result)
    return result


def _place_order(shop, session, basket, idempotency_key, result, rng) -> None:
    token, address = session
    shop.call("DELETE", "/api/v1/cart/", token=token)
    added = 0
    for product_id, quantity in basket:
        response = shop.call(
            "POST",
            "/api/v1/cart/items/",
            token=token,
            json={"product_id": product_id, "quantity": quantity},
        )
        added += response.status_code in (200, 201)  # 409: not enough stock, leave it out
    if not added:
        result.skipped_out_of_stock += 1
        return
    body = {"address_id": address[0]} if address else {"shipping_address": DEMO_ADDRESS}
    # A method the shop offers for this cart and destination (chosen by the seed).
    methods = shop.shipping_methods(token, address[1] if address else DEMO_ADDRESS["country"])
    if methods:
        body["shipping_method"] = rng.choice(methods)
    response = shop.call(
        "POST",
        "/api/v1/orders/",
        token=token,
        json={**body, "notes": "Demo order (seed_orders)."},
        headers={"Idempotency-Key": idempotency_key},
    )
    if response.status_code == 201:
        if response.headers.get("Idempotent-Replayed") == "true":
            result.replayed += 1
            shop.call("DELETE", "/api/v1/cart/", token=token)  # the basket was ordered before
        else:
            result.created += 1
    elif response.status_code == 409 and response.json().get("code") == "out_of_stock":
        result.skipped_out_of_stock += 1
        shop.call("DELETE", "/api/v1/cart/", token=token)
    else:
        result.failures.append(
            f"{idempotency_key}: HTTP {response.status_code} {response.text[:200]}"
        )
