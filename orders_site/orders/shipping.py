"""Shipping rates: which methods serve a destination and what each costs for a cart.

Pure arithmetic over plain values, shared by the quote (`GET shipping-methods/`), the
checkout and the admin, so a quote and the order it becomes always agree. The rules
(docs/architecture.md, "Shipping"):

- a method serves the countries of its zones; only active methods are offered;
- its net price is `flat_price` (rate_kind flat) or, by the cart's total weight
  (Σ weight × quantity; products without a weight count as 0 kg), the price of the
  first tier whose `max_weight` is ≥ that weight (rate_kind weight; heavier than the
  last tier: the method is not offered);
- free when `free_above` is set and the cart's net subtotal is ≥ it (combines with both);
- its tax: `round_half_up(price × rate)` with the method's fixed `tax_rate`, or the
  highest rate among the cart's lines (tax_mode highest_in_cart; 0 for an empty cart);
- cheapest first (total, then code).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from orders.models import ShippingMethod, ShippingRateKind, ShippingTaxMode
from shopkit import money

ZERO = Decimal("0.00")
NO_WEIGHT_NOTE = "Products without a weight count as 0 kg."


@dataclass(frozen=True)
class CartLineForShipping:
    unit_price: Decimal
    quantity: int
    tax_rate: Decimal
    weight: Decimal | None  # kilograms per unit; None: not known


@dataclass(frozen=True)
class CartForShipping:
    subtotal: Decimal
    tax: Decimal
    weight: Decimal
    highest_tax_rate: Decimal
    # Some line has no weight (it counted as 0 kg).
    weight_incomplete: bool


@dataclass(frozen=True)
class ShippingCharge:
    method: ShippingMethod
    price: Decimal
    tax_rate: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.price + self.tax


def cart_for_shipping(lines: Iterable[CartLineForShipping]) -> CartForShipping:
    """The figures shipping depends on, computed with shopkit.money like cart and orders."""
    lines = list(lines)
    sums = money.totals(
        [money.line_amounts(line.unit_price, line.quantity, line.tax_rate) for line in lines]
    )
    return CartForShipping(
        subtotal=sums.subtotal,
        tax=sums.tax,
        weight=sum(
            ((line.weight or Decimal(0)) * line.quantity for line in lines), Decimal("0.000")
        ),
        highest_tax_rate=max((Decimal(line.tax_rate) for line in lines), default=Decimal(0)),
        weight_incomplete=any(line.weight is None for line in lines),
    )


def methods_for_country(methods: Iterable[ShippingMethod], country: str) -> list[ShippingMethod]:
    """The active methods one of whose zones contains `country` (zones prefetched)."""
    return [
        method
        for method in methods
        if method.is_active and any(country in zone.countries for zone in method.zones.all())
    ]


def method_net_price(method: ShippingMethod, cart: CartForShipping) -> Decimal | None:
    """The method's net price for this cart; None when it cannot carry it (too heavy)."""
    if method.rate_kind == ShippingRateKind.WEIGHT:
        tier = next((tier for tier in method.tiers.all() if cart.weight <= tier.max_weight), None)
        if tier is None:
            return None
        price = tier.price
    else:
        price = method.flat_price
    if method.free_above is not None and cart.subtotal >= method.free_above:
        return ZERO
    return money.to_cents(price)


def method_tax_rate(method: ShippingMethod, cart: CartForShipping) -> Decimal:
    if method.tax_mode == ShippingTaxMode.HIGHEST_IN_CART:
        return cart.highest_tax_rate
    return method.tax_rate


def shipping_charge(method: ShippingMethod, cart: CartForShipping) -> ShippingCharge | None:
    """What `method` costs for `cart` (None: it cannot carry this cart)."""
    price = method_net_price(method, cart)
    if price is None:
        return None
    rate = method_tax_rate(method, cart)
    return ShippingCharge(
        method=method, price=price, tax_rate=rate, tax=money.to_cents(price * rate)
    )


def shipping_charges(
    methods: Iterable[ShippingMethod], cart: CartForShipping
) -> list[ShippingCharge]:
    """Every method that can carry `cart`, priced, cheapest first."""
    charges = [charge for method in methods if (charge := shipping_charge(method, cart))]
    return sorted(charges, key=lambda charge: (charge.total, charge.method.code))


def method_lowest_price(method: ShippingMethod) -> Decimal:
    """The least the method can cost before tax (for listing without a cart)."""
    if method.rate_kind == ShippingRateKind.WEIGHT:
        return min((tier.price for tier in method.tiers.all()), default=ZERO)
    return method.flat_price
