"""The orders service's neighbours, faked as one tiny HTTP server in the test process
(tests/support/fake_service.py: the credential check, call records, failures).

It implements the internal contracts of docs/internal-api.md (catalog reservations,
cart read/clear, auth addresses) on in-memory state; tests/*/test_internal_contract.py
run it and the real services through the same assertions.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from shopkit.address import COUNTRY_CODES
from tests.support.fake_service import FakeService
from tests.support.fake_service import problem as _problem

ROUTES = [
    ("POST", r"^/internal/catalog/reservations/$", "catalog", "reserve"),
    ("POST", r"^/internal/catalog/reservations/(?P<reference>[^/]+)/commit/$", "catalog", "commit"),
    (
        "POST",
        r"^/internal/catalog/reservations/(?P<reference>[^/]+)/release/$",
        "catalog",
        "release",
    ),
    ("GET", r"^/internal/catalog/reservations/(?P<reference>[^/]+)/$", "catalog", "get"),
    ("GET", r"^/internal/catalog/products/$", "catalog", "product_list"),
    ("GET", r"^/internal/cart/users/(?P<user_id>\d+)/$", "cart", "read"),
    ("POST", r"^/internal/cart/guests/lookup/$", "cart", "guest_read"),
    ("POST", r"^/internal/cart/guests/clear/$", "cart", "guest_clear"),
    ("POST", r"^/internal/cart/users/(?P<user_id>\d+)/clear/$", "cart", "clear"),
    (
        "GET",
        r"^/internal/auth/users/(?P<user_id>\d+)/addresses/(?P<address_id>\d+)/$",
        "auth",
        "address",
    ),
]


@dataclass
class Product:
    id: int
    sku: str
    name: str
    price: Decimal
    tax_rate: Decimal
    stock: int
    is_active: bool = True
    tax_class: str = "standard"
    weight: Decimal | None = None


@dataclass
class FakeReservation:
    reference: str
    state: str  # reserved | committed | released
    lines: dict[int, int] = field(default_factory=dict)  # product_id -> quantity
    rates: dict[int, Decimal] = field(default_factory=dict)  # product_id -> rate charged


@dataclass
class FakeCart:
    version: int = 0
    lines: dict[int, int] = field(default_factory=dict)
    created: dict[int, int] = field(default_factory=dict)  # product_id -> version that added it
    applied_references: set[str] = field(default_factory=set)


class FakeNeighbours(FakeService):
    routes = ROUTES

    def __init__(self, service_token: str):
        self.products: dict[int, Product] = {}
        self.reservations: dict[str, FakeReservation] = {}
        self.carts: dict[int, FakeCart] = {}
        self.addresses: dict[tuple[int, int], dict] = {}
        self.guest_carts: dict[str, FakeCart] = {}
        # The catalog's TAX_BY_DESTINATION and its TaxRate rows: (country, class) -> rate.
        self.tax_by_destination = False
        self.destination_rates: dict[tuple[str, str], Decimal] = {}
        super().__init__(service_token)

    # --- arranging state ---------------------------------------------------------------

    def add_product(self, product_id, *, price="10.00", tax_rate="0.21", stock=10, **fields):
        product = Product(
            id=product_id,
            sku=fields.pop("sku", f"SKU-{product_id}"),
            name=fields.pop("name", f"Product {product_id}"),
            price=Decimal(price),
            tax_rate=Decimal(tax_rate),
            stock=stock,
            weight=None if fields.get("weight") is None else Decimal(fields.pop("weight")),
            **{name: value for name, value in fields.items() if name != "weight"},
        )
        self.products[product_id] = product
        return product

    def fill_cart(self, user_id, lines: dict[int, int]):
        """Set these lines' quantities (a product not in the cart gets a new line)."""
        cart = self.carts.setdefault(user_id, FakeCart())
        cart.version += 1
        for product_id in lines:
            cart.created.setdefault(product_id, cart.version)
        cart.lines.update(lines)
        return cart

    def remove_line(self, user_id, product_id):
        cart = self.carts[user_id]
        cart.version += 1
        cart.lines.pop(product_id)
        cart.created.pop(product_id)

    def cart_lines(self, user_id) -> dict[int, int]:
        return dict(self.carts.get(user_id, FakeCart()).lines)

    def stock(self, product_id) -> int:
        return self.products[product_id].stock

    def held(self) -> dict[str, str]:
        """reference -> state of every reservation that still holds stock."""
        return {ref: r.state for ref, r in self.reservations.items() if r.state != "released"}

    def expire(self, reference):
        """What the catalog's expiry job does to a reservation still reserved."""
        with self.lock:
            self._release(reference)

    def rate_for(self, product, country) -> Decimal:
        if self.tax_by_destination and country:
            return self.destination_rates.get((country, product.tax_class), product.tax_rate)
        return product.tax_rate

    # --- the contract ------------------------------------------------------------------

    def _release(self, reference):
        reservation = self.reservations.get(reference)
        if reservation is None:
            self.reservations[reference] = FakeReservation(reference, "released")
            return
        if reservation.state != "released":
            for product_id, quantity in reservation.lines.items():
                self.products[product_id].stock += quantity
            reservation.state = "released"

    def _reservation_body(self, reservation):
        return {
            "reference": reservation.reference,
            "state": reservation.state,
            "expires_at": "2099-01-01T00:00:00Z",
            "lines": [
                {
                    "product_id": product_id,
                    "sku": self.products[product_id].sku,
                    "name": self.products[product_id].name,
                    "unit_price": str(self.products[product_id].price),
                    "tax_rate": str(
                        reservation.rates.get(product_id, self.products[product_id].tax_rate)
                    ),
                    "quantity": quantity,
                    "weight": _text(self.products[product_id].weight),
                }
                for product_id, quantity in sorted(reservation.lines.items())
            ],
        }

    def reserve(self, body, **_):
        reference = body["reference"]
        wanted = Counter()
        for line in body["lines"]:
            wanted[int(line["product_id"])] += int(line["quantity"])
        existing = self.reservations.get(reference)
        if existing is not None:
            if existing.state == "released":
                return _problem(409, "reservation_released")
            if existing.lines != dict(wanted):
                return _problem(409, "reference_conflict")
            return 200, self._reservation_body(existing)
        unknown = [
            pid for pid in wanted if pid not in self.products or not self.products[pid].is_active
        ]
        if unknown:
            return _problem(400, "unknown_product", product_ids=sorted(unknown))
        short = [
            {"product_id": pid, "requested": qty, "available": self.products[pid].stock}
            for pid, qty in sorted(wanted.items())
            if self.products[pid].stock < qty
        ]
        if short:
            return _problem(409, "insufficient_stock", short_lines=short)
        for pid, qty in wanted.items():
            self.products[pid].stock -= qty
        country = body.get("country")
        rates = {pid: self.rate_for(self.products[pid], country) for pid in wanted}
        reservation = FakeReservation(reference, "reserved", dict(wanted), rates)
        self.reservations[reference] = reservation
        return 201, self._reservation_body(reservation)

    def commit(self, body, reference):
        reservation = self.reservations.get(reference)
        if reservation is None:
            return _problem(404, "reservation_not_found")
        if reservation.state == "released":
            return _problem(409, "reservation_released")
        reservation.state = "committed"
        return 200, self._reservation_body(reservation)

    def release(self, body, reference):
        self._release(reference)
        return 200, {"reference": reference, "state": "released"}

    def get(self, body, reference):
        reservation = self.reservations.get(reference)
        if reservation is None:
            return _problem(404, "reservation_not_found")
        return 200, self._reservation_body(reservation)

    def read(self, body, user_id):
        cart = self.carts.get(int(user_id), FakeCart())
        return 200, {
            "user_id": int(user_id),
            "version": cart.version,
            "lines": [
                {"product_id": pid, "quantity": qty} for pid, qty in sorted(cart.lines.items())
            ],
        }

    def product_list(self, query, **_):
        try:
            ids = [int(part) for part in query.get("ids", "").split(",") if part]
        except ValueError:
            return _problem(400, "invalid")
        country = query.get("country")
        if len(ids) > 100 or (country is not None and country not in COUNTRY_CODES):
            return _problem(400, "invalid")
        return 200, {
            "results": [
                {
                    "id": product.id,
                    "sku": product.sku,
                    "name": product.name,
                    "slug": product.sku.lower(),
                    "price": str(product.price),
                    "tax_rate": str(self.rate_for(product, country)),
                    "tax_class": product.tax_class,
                    "stock": product.stock,
                    "is_active": product.is_active,
                    "weight": _text(product.weight),
                }
                for product in (self.products[pid] for pid in sorted(ids) if pid in self.products)
            ]
        }

    def guest_read(self, body, **_):
        cart = self.guest_carts.get(body["cart_token"])
        if cart is None:
            return _problem(404, "cart_not_found")
        return 200, {
            "user_id": None,
            "version": cart.version,
            "lines": [
                {"product_id": pid, "quantity": qty} for pid, qty in sorted(cart.lines.items())
            ],
        }

    def clear(self, body, user_id):
        return self._clear(self.carts.setdefault(int(user_id), FakeCart()), body)

    def guest_clear(self, body, **_):
        """The real cart's rule: a guest cart by its token's SHA-256."""
        for token, cart in self.guest_carts.items():
            if hashlib.sha256(token.encode()).hexdigest() == body["cart_token_hash"]:
                return self._clear(cart, body)
        return 200, {"cleared": False, "version": 0}

    def _clear(self, cart, body):
        if body["reference"] in cart.applied_references:
            return 200, {"cleared": False, "version": cart.version}
        if body["version"] == cart.version:
            cart.lines.clear()
            cart.created.clear()
        else:
            for line in body["lines"]:
                product_id = line["product_id"]
                if cart.created.get(product_id, body["version"] + 1) > body["version"]:
                    continue  # not in the cart the checkout read: added (again) since
                left = cart.lines[product_id] - line["quantity"]
                if left > 0:
                    cart.lines[product_id] = left
                else:
                    del cart.lines[product_id], cart.created[product_id]
        cart.applied_references.add(body["reference"])
        cart.version += 1
        return 200, {"cleared": True, "version": cart.version}

    def address(self, body, user_id, address_id):
        address = self.addresses.get((int(user_id), int(address_id)))
        if address is None:
            return _problem(404, "address_not_found")
        return 200, {"id": int(address_id), **address}


def _text(value) -> str | None:
    return None if value is None else str(value)
