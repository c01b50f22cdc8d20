"""An order as JSON-ready data, without the API's serializers.

A checkout stores this document on its Idempotency-Key and replays it byte for byte,
so it must not change when the API's serializers do (a field renamed for the OpenAPI
schema, say). It is exactly what `OrderDetailSerializer` renders today; a test keeps
the two equal (tests/orders/test_documents.py).
"""

from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from orders.models import SHIPPING_ADDRESS_FIELDS, Order, OrderLine, StatusChange
from shopkit import money

CENT = Decimal("0.01")


def _money(value) -> str:
    return format(Decimal(value).quantize(CENT), "f")


def _timestamp(value: datetime) -> str:
    """ISO 8601 in the current time zone (UTC), "Z" for UTC, as DRF writes it."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _line_document(line: OrderLine) -> dict:
    return {
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "unit_price": _money(line.unit_price),
        "tax_rate": money.tax_rate_text(line.tax_rate),
        "quantity": line.quantity,
        "line_total": _money(line.line_total),
        "line_tax": _money(line.line_tax),
    }


def _history_document(change: StatusChange) -> dict:
    return {
        "from_status": change.from_status,
        "to_status": change.to_status,
        "by": change.by_user_id,
        "at": _timestamp(change.at),
        "note": change.note,
    }


def shipping_method_document(order: Order) -> dict | None:
    """The method as it was charged; None for an order no method served."""
    if not order.shipping_method_code:
        return None
    return {
        "code": order.shipping_method_code,
        "name": order.shipping_method_name,
        "carrier": order.shipping_carrier,
        "tax_rate": money.tax_rate_text(order.shipping_tax_rate),
    }


def order_document(order: Order) -> dict:
    """The order with its lines and status history, as `GET /api/v1/orders/{id}/` shows it."""
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "user_id": order.user_id,
        "email": order.email,
        "shipping_address": {name: str(getattr(order, name)) for name in SHIPPING_ADDRESS_FIELDS},
        "shipping_method": shipping_method_document(order),
        "tracking_carrier": order.tracking_carrier,
        "tracking_number": order.tracking_number,
        "notes": order.notes,
        "currency": order.currency,
        "subtotal": _money(order.subtotal),
        "tax": _money(order.tax),
        "shipping_total": _money(order.shipping_total),
        "shipping_tax": _money(order.shipping_tax),
        "total": _money(order.total),
        "payment_status": order.payment_status,
        "paid_at": _timestamp(order.paid_at) if order.paid_at else None,
        "lines": [_line_document(line) for line in order.lines.all()],
        "created_at": _timestamp(order.created_at),
        "updated_at": _timestamp(order.updated_at),
        "history": [_history_document(change) for change in order.history.all()],
    }
