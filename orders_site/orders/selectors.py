"""Reads of the orders service. Who sees what is decided here, once."""

import hashlib
import hmac
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum, prefetch_related_objects
from django.http import Http404

from orders.models import Order, OrderStatus, Payment, PaymentStatus, ShippingMethod
from shopkit.prepared import PreparedValuesQuery
from shopkit.routers import ECOMMERCE_DB

VIEW_ALL_ORDERS = "orders.view_order"
CHANGE_ORDERS = "orders.change_order"


def can_see_all_orders(user) -> bool:
    """Staff with the order permissions see every customer's orders; others their own."""
    return user.has_perm(VIEW_ALL_ORDERS) or user.has_perm(CHANGE_ORDERS)


def can_change_orders(user) -> bool:
    return user.has_perm(CHANGE_ORDERS)


def _visible_orders(*, user) -> QuerySet[Order]:
    orders = Order.objects.all()
    return orders if can_see_all_orders(user) else orders.filter(user_id=user.id)


def order_list(
    *, user, status: str | None = None, customer_id: int | None = None
) -> QuerySet[Order]:
    """Orders `user` may see, newest first, lines prefetched (two queries per page)."""
    orders = _visible_orders(user=user)
    if status:
        orders = orders.filter(status=status)
    if customer_id is not None:
        orders = orders.filter(user_id=customer_id)
    return orders.order_by("-created_at", "-id").prefetch_related("lines")


def order_get(*, user, order_id: int) -> Order:
    """One order with lines and history, if `user` may see it (404 otherwise, never 403)."""
    order = (
        _visible_orders(user=user).prefetch_related("lines", "history").filter(pk=order_id).first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


def guest_order_get(*, number: str, access_token: str) -> Order:
    """A guest order by its number and access token (404 for any mismatch, never 403)."""
    order = Order.objects.prefetch_related("lines", "history").filter(number=number).first()
    given = hashlib.sha256(access_token.encode()).hexdigest()
    if order is None or not order.access_token_hash:
        raise Http404("No such order.")
    if not hmac.compare_digest(order.access_token_hash, given):
        raise Http404("No such order.")
    return order


def order_stats(*, user) -> dict:
    """Count and total per status (every status listed), and the money paid and refunded:
    own orders, or all for staff."""
    visible = _visible_orders(user=user)
    rows = {
        row["status"]: row
        for row in visible.order_by()
        .values("status")
        .annotate(count=Count("id"), total=Sum("total"))
    }
    by_status = [
        {
            "status": status,
            "count": rows.get(status, {}).get("count", 0),
            "total": rows.get(status, {}).get("total") or Decimal("0.00"),
        }
        for status in OrderStatus.values
    ]
    return {
        "currency": settings.SHOP_CURRENCY,
        "count": sum(entry["count"] for entry in by_status),
        "by_status": by_status,
        **payment_stats(orders=visible),
    }


_SHIPPING_METHOD_COLUMNS = [field.attname for field in ShippingMethod._meta.concrete_fields]
# Every checkout and shipping quote reads the active methods: compiled once per process.
_ACTIVE_SHIPPING_METHODS = PreparedValuesQuery(
    lambda: (
        ShippingMethod.objects.filter(is_active=True)
        .order_by("code")
        .values(*_SHIPPING_METHOD_COLUMNS)
    ),
    arguments=(),
)


def shipping_methods_active() -> list[ShippingMethod]:
    """Every active shipping method with its zones and tiers (three queries; one when
    the shop has none)."""
    methods = [
        ShippingMethod.from_db(
            ECOMMERCE_DB, _SHIPPING_METHOD_COLUMNS, [row[name] for name in _SHIPPING_METHOD_COLUMNS]
        )
        for row in _ACTIVE_SHIPPING_METHODS.rows()
    ]
    prefetch_related_objects(methods, "zones", "tiers")
    return methods


# --- Payments ----------------------------------------------------------------------------


def payment_list(*, order: Order) -> QuerySet[Payment]:
    """An order's payments, oldest first, with their refunds (two queries)."""
    return order.payments.order_by("created_at", "id").prefetch_related("refunds")


def payment_get(*, order: Order, payment_id: int) -> Payment:
    payment = order.payments.filter(pk=payment_id).select_related("order").first()
    if payment is None:
        raise Http404("No such payment.")
    return payment


def payment_stats(*, orders: QuerySet[Order]) -> dict:
    """Money received (succeeded payments) and given back (refunds asked for, not failed)."""
    sums = Payment.objects.filter(
        order__in=orders.order_by().values("pk"), status=PaymentStatus.SUCCEEDED
    ).aggregate(paid=Sum("amount"), refunded=Sum("refunded_amount"))
    paid = sums["paid"] or Decimal("0.00")
    refunded = sums["refunded"] or Decimal("0.00")
    return {"paid_revenue": paid, "refunded": refunded, "net_revenue": paid - refunded}
