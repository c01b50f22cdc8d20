"""Reads of the orders service. Who sees what is decided here, once."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from orders.models import Order, OrderStatus, ShippingMethod

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


def order_stats(*, user) -> dict:
    """Count and total per status (every status listed): own orders, or all for staff."""
    rows = {
        row["status"]: row
        for row in _visible_orders(user=user)
        .order_by()
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
    }


def shipping_methods_active() -> list[ShippingMethod]:
    """Every active shipping method with its zones and tiers (three queries)."""
    return list(
        ShippingMethod.objects.filter(is_active=True)
        .order_by("code")
        .prefetch_related("zones", "tiers")
    )
