"""The order's emails to its customer, written to the outbox (shopkit.outbox).

Each is enqueued by the service function that makes the change, inside its
`transaction.atomic(using=ECOMMERCE_DB)`: the email exists exactly when the change
committed, and the `send_outbox` job of orders delivers it later. One dedupe key per
event (`order:<number>:<event>`, a refund's own id), so a replayed or retried step
never sends the same email twice.

The recipient and language are the order's (`Order.email`, `Order.language`, kept at
checkout), so staff, webhooks and reconcile can cause emails without the customer's
token. Templates: `orders/templates/emails/<language>/order_<event>/`, overridable
through EMAIL_TEMPLATE_DIR like every email of the shop.
"""

from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings

from orders.models import Order, OrderLine, Refund
from shopkit.outbox.models import OutboxMessage
from shopkit.outbox.services import enqueue_template

# Tracking pages of carriers the shop knows (lower-case names); any other carrier uses
# TRACKING_URL_TEMPLATE, if set. {tracking_number} is URL-encoded.
CARRIER_TRACKING_URLS = {
    "correos": "https://www.correos.es/es/es/herramientas/localizador/envios/detalle"
    "?tracking-number={tracking_number}",
    "correos express": "https://s.correosexpress.com/search?s={tracking_number}",
    "seur": "https://www.seur.com/livetracking/?segOnlineIdentificador={tracking_number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={tracking_number}",
    "ups": "https://www.ups.com/track?tracknum={tracking_number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={tracking_number}",
    "gls": "https://gls-group.com/track/{tracking_number}",
}


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """The carrier's tracking page for the number, or "" when the shop knows none."""
    template = CARRIER_TRACKING_URLS.get(carrier.strip().lower()) or settings.TRACKING_URL_TEMPLATE
    if not template or not tracking_number:
        return ""
    return template.format(
        carrier=quote(carrier.strip(), safe=""), tracking_number=quote(tracking_number, safe="")
    )


def _money(amount: Decimal, currency: str) -> str:
    return f"{Decimal(amount):.2f} {currency}"


def _order_context(order: Order, lines: Iterable[OrderLine] | None = None) -> dict:
    context = {
        "order": order,
        "total": _money(order.total, order.currency),
        # A guest's order: the storefront page that asks for the access token.
        "order_url": f"{settings.STOREFRONT_URL.rstrip('/')}/orders/"
        + (f"guest/{order.number}" if order.access_token_hash else order.number),
    }
    if lines is not None:
        context.update(
            lines=[
                {
                    "name": line.name,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": _money(line.unit_price, order.currency),
                    "line_total": _money(line.line_total, order.currency),
                }
                for line in lines
            ],
            subtotal=_money(order.subtotal, order.currency),
            tax=_money(order.tax, order.currency),
            shipping=_money(order.shipping_total + order.shipping_tax, order.currency),
        )
    return context


def _enqueue(
    *, order: Order, event: str, context: dict, dedupe: str | None = None
) -> OutboxMessage | None:
    if not order.email:  # orders from before emails were kept (or seeded ones): no one to tell
        return None
    return enqueue_template(
        kind=f"orders.{event}",
        to=order.email,
        template=f"order_{event}",
        context=context,
        language=order.language or None,
        dedupe_key=f"order:{order.number}:{dedupe or event}",
    )


def order_placed_email(
    *, order: Order, lines: Iterable[OrderLine], access_token: str | None = None
) -> OutboxMessage | None:
    """The confirmation of a new order: number, lines, totals, shipping method, address;
    a guest's order also its access token (the only other place it is ever shown)."""
    context = _order_context(order, lines)
    if access_token:
        context["order_token"] = access_token
    return _enqueue(order=order, event="placed", context=context)


def order_paid_email(*, order: Order) -> OutboxMessage | None:
    """The payment arrived (the order is paid, and confirmed if it was pending)."""
    return _enqueue(order=order, event="paid", context=_order_context(order))


def order_shipped_email(*, order: Order) -> OutboxMessage | None:
    """On its way: carrier, tracking number and the carrier's tracking page if known."""
    context = {
        **_order_context(order),
        "tracking_url": tracking_url(
            carrier=order.tracking_carrier, tracking_number=order.tracking_number
        ),
    }
    return _enqueue(order=order, event="shipped", context=context)


def order_cancelled_email(*, order: Order, paid: bool) -> OutboxMessage | None:
    """Cancelled (by the customer, staff or the system); `paid`: the money comes back."""
    return _enqueue(
        order=order, event="cancelled", context={**_order_context(order), "was_paid": paid}
    )


def order_refunded_email(*, order: Order, refund: Refund) -> OutboxMessage | None:
    """A refund was issued: its amount (one email per refund)."""
    context = {
        **_order_context(order),
        "refund_amount": _money(refund.amount, refund.payment.currency),
    }
    return _enqueue(order=order, event="refunded", context=context, dedupe=f"refund:{refund.pk}")
