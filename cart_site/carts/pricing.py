"""A cart's lines priced with the catalog's current data (shopkit.money rules).

Prices are net; per line `line_total = unit_price × quantity` and its tax is
rounded half up to the cent; subtotal, tax and total are sums of the lines.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings

from carts.clients import CatalogProduct
from carts.models import CartLine
from shopkit.money import line_amounts, totals


class LineQuantity(NamedTuple):
    """A line as a read prices it: no model instance to build for every line of every read."""

    id: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    id: int
    product_id: int
    quantity: int
    # None when the catalog no longer knows the product (deleted meanwhile).
    sku: str | None
    name: str | None
    unit_price: Decimal | None
    tax_rate: Decimal | None
    line_total: Decimal | None
    # The product is active and its stock covers the quantity.
    available: bool


@dataclass(frozen=True)
class PricedCart:
    items: list[PricedLine]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    item_count: int
    currency: str
    is_guest: bool
    # The guest's token, when the guest has a cart (answered in body and header).
    cart_token: str | None = None


def price_cart(
    *,
    lines: Iterable[CartLine | LineQuantity],
    products: Mapping[int, CatalogProduct],
    is_guest: bool,
    cart_token: str | None = None,
) -> PricedCart:
    items, amounts = [], []
    for line in sorted(lines, key=lambda line: line.id):
        product = products.get(line.product_id)
        if product is None:
            items.append(
                PricedLine(
                    id=line.id,
                    product_id=line.product_id,
                    quantity=line.quantity,
                    sku=None,
                    name=None,
                    unit_price=None,
                    tax_rate=None,
                    line_total=None,
                    available=False,
                )
            )
            continue
        line_amount = line_amounts(product.price, line.quantity, product.tax_rate)
        amounts.append(line_amount)
        items.append(
            PricedLine(
                id=line.id,
                product_id=line.product_id,
                quantity=line.quantity,
                sku=product.sku,
                name=product.name,
                unit_price=product.price,
                tax_rate=product.tax_rate,
                line_total=line_amount.line_total,
                available=product.is_active and product.stock >= line.quantity,
            )
        )
    cart_totals = totals(amounts)
    return PricedCart(
        items=items,
        subtotal=cart_totals.subtotal,
        tax=cart_totals.tax,
        total=cart_totals.total,
        item_count=sum(item.quantity for item in items),
        currency=settings.SHOP_CURRENCY,
        is_guest=is_guest,
        cart_token=cart_token,
    )


def empty_cart(*, is_guest: bool, cart_token: str | None = None) -> PricedCart:
    return price_cart(lines=[], products={}, is_guest=is_guest, cart_token=cart_token)
