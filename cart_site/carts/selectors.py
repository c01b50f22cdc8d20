"""Reads of carts."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from carts.clients import catalog_products
from carts.models import Cart, CartLine
from carts.owners import CartOwner, hash_guest_token
from carts.pricing import LineQuantity, PricedCart, empty_cart, price_cart
from shopkit.prepared import PreparedValuesQuery


def cart_queryset_for(owner: CartOwner) -> QuerySet[Cart]:
    """The owner's cart (0 or 1 row). A guest token only ever matches a guest cart."""
    if not owner.is_guest:
        return Cart.objects.filter(user_id=owner.user_id)
    if not owner.guest_token:
        return Cart.objects.none()
    return Cart.objects.filter(
        user_id__isnull=True, guest_token_hash=hash_guest_token(owner.guest_token)
    )


# A user id no cart can have (and not a value to send to the database).
MAX_USER_ID = 2**64 - 1  # PositiveBigIntegerField


# The customer's cart LEFT JOIN its lines (a cart without lines is one row of NULLs):
# every signed-in cart read and every checkout's read. Compiled once per process
# (shopkit.prepared): building the query cost more than MariaDB's answer.
_CUSTOMER_CART_LINES = PreparedValuesQuery(
    lambda user_id: (
        Cart.objects.filter(user_id=user_id)
        .order_by("lines__id")
        .values("user_id", "version", "lines__id", "lines__product_id", "lines__quantity")
    ),
    arguments=("user_id",),
)


def _cart_line_rows(owner: CartOwner) -> list[tuple]:
    """(user_id, line id, product id, quantity) of the owner's cart; [] when there is none."""
    if not owner.is_guest:
        if not 0 < owner.user_id <= MAX_USER_ID:
            return []
        return [
            (row["user_id"], row["lines__id"], row["lines__product_id"], row["lines__quantity"])
            for row in _CUSTOMER_CART_LINES.rows(user_id=owner.user_id)
        ]
    return list(
        cart_queryset_for(owner).values_list(
            "user_id", "lines__id", "lines__product_id", "lines__quantity"
        )
    )


def cart_detail(*, owner: CartOwner, country: str | None = None) -> PricedCart:
    """The owner's cart priced by the catalog (one call whatever the number of lines).

    With a destination `country` the lines carry that country's tax rates (the same
    figures its checkout and shipping quote use). No cart yet is an empty cart.
    Raises ServiceUnavailable when the catalog is down.
    """
    # One query: the cart LEFT JOIN its lines.
    rows = _cart_line_rows(owner)
    if not rows:
        return empty_cart(is_guest=owner.is_guest)
    is_guest = rows[0][0] is None
    lines = [
        LineQuantity(id=line_id, product_id=product_id, quantity=quantity)
        for _, line_id, product_id, quantity in rows
        if line_id is not None
    ]
    return price_cart(
        lines=lines,
        products=catalog_products((line.product_id for line in lines), country=country),
        is_guest=is_guest,
        cart_token=owner.guest_token if is_guest else None,
    )


@dataclass(frozen=True)
class CheckoutLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class CheckoutCart:
    user_id: int | None  # None: a guest's cart
    version: int
    lines: list[CheckoutLine]


def cart_for_checkout(*, user_id: int) -> CheckoutCart:
    """A customer's cart as the checkout reads it: lines and version (0 with no cart).

    One query, the cart joined to its lines.
    """
    rows = _CUSTOMER_CART_LINES.rows(user_id=user_id) if 0 < user_id <= MAX_USER_ID else []
    if not rows:
        return CheckoutCart(user_id=user_id, version=0, lines=[])
    return CheckoutCart(
        user_id=user_id,
        version=rows[0]["version"],
        lines=[
            CheckoutLine(product_id=row["lines__product_id"], quantity=row["lines__quantity"])
            for row in rows
            if row["lines__id"] is not None
        ],
    )


def cart_admin_queryset() -> QuerySet[Cart]:
    return Cart.objects.annotate(line_count=Count("lines"))


def guest_cart_lines(*, cart_token: str) -> CheckoutCart | None:
    """A guest's cart by its token, as the shipping quote reads it (None: no such cart)."""
    cart = cart_queryset_for(CartOwner(guest_token=cart_token)).only("id", "version").first()
    if cart is None:
        return None
    lines = CartLine.objects.filter(cart=cart).order_by("id").values_list("product_id", "quantity")
    return CheckoutCart(
        user_id=None,
        version=cart.version,
        lines=[
            CheckoutLine(product_id=product_id, quantity=quantity) for product_id, quantity in lines
        ],
    )
