"""Shipping: quotes for a cart, the method a checkout charges, and staff's writes.

The rules are in orders/shipping.py (pure arithmetic); this module gathers what they
need: the active methods (three queries, whatever their number), the caller's cart
(cart) and its products' prices, tax rates for the destination and weights (catalog,
one call).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from orders import clients
from orders.clients import CartSnapshot, Reservation
from orders.errors import OrderErrorCode
from orders.models import ShippingMethod, ShippingWeightTier, ShippingZone
from orders.selectors import shipping_methods_active
from orders.shipping import (
    CartForShipping,
    CartLineForShipping,
    ShippingCharge,
    cart_for_shipping,
    methods_for_country,
    shipping_charge,
    shipping_charges,
)
from shopkit.errors import ApplicationError
from shopkit.routers import ECOMMERCE_DB


@dataclass(frozen=True)
class ShippingQuote:
    country: str
    cart: CartForShipping | None  # None: no cart identified, the methods' rules only
    charges: list[ShippingCharge]
    methods: list[ShippingMethod]  # without a cart: the methods serving the country


def shipping_quote(
    *, country: str, user_id: int | None = None, cart_token: str | None = None
) -> ShippingQuote:
    """The methods serving `country`, priced for the caller's cart when there is one.

    A signed-in caller's cart (user_id) or a guest's (cart_token); neither, or a token
    no cart has: the methods and their rules, unpriced. 503 when a neighbour is down.
    """
    methods = methods_for_country(shipping_methods_active(), country)
    if not methods:  # nothing to price: no call to the neighbours
        return ShippingQuote(country=country, cart=None, charges=[], methods=[])
    snapshot = _caller_cart(user_id=user_id, cart_token=cart_token)
    if snapshot is None:
        return ShippingQuote(country=country, cart=None, charges=[], methods=methods)
    cart = _cart_priced(snapshot, country=country)
    return ShippingQuote(
        country=country, cart=cart, charges=shipping_charges(methods, cart), methods=methods
    )


def _caller_cart(*, user_id: int | None, cart_token: str | None) -> CartSnapshot | None:
    if user_id is not None:
        return clients.cart_read(user_id=user_id)
    if cart_token:
        return clients.cart_read_guest(cart_token=cart_token)
    return None


def _cart_priced(snapshot: CartSnapshot, *, country: str) -> CartForShipping:
    """The cart's figures as the cart shows them for `country` (unknown products left out,
    as the cart leaves them out of its totals)."""
    products = clients.catalog_products(
        product_ids=[line.product_id for line in snapshot.lines], country=country
    )
    return cart_for_shipping(
        CartLineForShipping(
            unit_price=products[line.product_id].price,
            quantity=line.quantity,
            tax_rate=products[line.product_id].tax_rate,
            weight=products[line.product_id].weight,
        )
        for line in snapshot.lines
        if line.product_id in products
    )


def shipping_method_for_checkout(*, code: str | None, country: str) -> ShippingMethod | None:
    """The method a checkout to `country` will charge (before anything is reserved).

    None when no method serves the country and none was asked for. 400
    `shipping_method_required` when methods serve it and none was given; 409
    `shipping_method_unavailable` when the one given is unknown, inactive (perhaps
    deactivated since the quote) or does not serve the country.
    """
    methods = methods_for_country(shipping_methods_active(), country)
    if code is None:
        if methods:
            raise ApplicationError(
                "Choose a shipping method (GET /api/v1/orders/shipping-methods/?country="
                f"{country} lists them).",
                code=OrderErrorCode.SHIPPING_METHOD_REQUIRED,
                status=400,
                errors={"shipping_method": [f"Required for deliveries to {country}."]},
            )
        return None
    method = next((method for method in methods if method.code == code), None)
    if method is None:
        raise shipping_method_unavailable(code, country)
    return method


def shipping_method_unavailable(code: str, country: str) -> ApplicationError:
    return ApplicationError(
        f"The shipping method {code!r} is not available for {country} (any more); "
        "choose another from the shipping methods.",
        code=OrderErrorCode.SHIPPING_METHOD_UNAVAILABLE,
        status=409,
        errors={"shipping_method": [f"Not available for {country}."]},
    )


def shipping_charge_for_reservation(
    *, method: ShippingMethod, reservation: Reservation, country: str
) -> ShippingCharge:
    """What the order pays for shipping: the rules applied to the reserved lines (prices,
    destination tax rates and weights as the catalog reserved them)."""
    cart = cart_for_shipping(
        CartLineForShipping(
            unit_price=line.unit_price,
            quantity=line.quantity,
            tax_rate=line.tax_rate,
            weight=line.weight,
        )
        for line in reservation.lines
    )
    charge = shipping_charge(method, cart)
    if charge is None:  # heavier than the method's last weight tier
        raise shipping_method_unavailable(method.code, country)
    return charge


def shipping_method_save(
    *, method: ShippingMethod, zone_ids: list[int] | None = None, tiers: list[dict] | None = None
) -> ShippingMethod:
    """Create or change a method, its zones and (when given) its weight tiers, together.

    The admin and the staff API both write through here.
    """
    method.full_clean(exclude=["zones"])
    with transaction.atomic(using=ECOMMERCE_DB):
        method.save()
        if zone_ids is not None:
            method.zones.set(zone_ids)
        if tiers is not None:
            method.tiers.all().delete()
            ShippingWeightTier.objects.bulk_create(
                ShippingWeightTier(
                    method=method, max_weight=tier["max_weight"], price=tier["price"]
                )
                for tier in tiers
            )
    return method


# --- demo data (seed_orders) -------------------------------------------------------

EU_COUNTRIES = [
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
]

DEMO_ZONES = {"Spain": ["ES"], "Rest of the EU": [code for code in EU_COUNTRIES if code != "ES"]}
DEMO_METHODS = [
    {
        "code": "standard",
        "name": "Standard delivery",
        "carrier": "Correos",
        "estimated_days_min": 2,
        "estimated_days_max": 5,
        "zones": ["Spain", "Rest of the EU"],
        "rate_kind": "weight",
        "tiers": [("2", "4.95"), ("10", "7.95"), ("30", "14.95")],
        "tax_mode": "highest_in_cart",
        "tax_rate": "0",
    },
    {
        "code": "express",
        "name": "Express (next day in Spain)",
        "carrier": "SEUR",
        "estimated_days_min": 1,
        "estimated_days_max": 2,
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
        "tax_mode": "highest_in_cart",
        "tax_rate": "0",
    },
]


def shipping_seed() -> tuple[int, int]:
    """The demo shop's zones (Spain; rest of the EU) and methods (standard, express,
    free over 50 EUR). Idempotent: existing ones (by name, by code) are left as staff
    set them. Returns (zones, methods) created."""
    zones_created = methods_created = 0
    zones = {}
    for name, countries in DEMO_ZONES.items():
        zone, created = ShippingZone.objects.get_or_create(
            name=name, defaults={"countries": countries}
        )
        zones[name], zones_created = zone, zones_created + created
    for spec in DEMO_METHODS:
        if ShippingMethod.objects.filter(code=spec["code"]).exists():
            continue
        fields = {name: value for name, value in spec.items() if name not in ("zones", "tiers")}
        shipping_method_save(
            method=ShippingMethod(**fields),
            zone_ids=[zones[name].pk for name in spec["zones"]],
            tiers=[
                {"max_weight": Decimal(weight), "price": Decimal(price)}
                for weight, price in spec.get("tiers", [])
            ],
        )
        methods_created += 1
    return zones_created, methods_created
