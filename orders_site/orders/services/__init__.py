"""Writes of the orders service, one module per concern:

- `idempotency`: the Idempotency-Key store (claims, leases, take-overs, stored responses);
- `checkout`: the checkout saga and the steps its recovery shares (the recovery table);
- `recovery`: `checkouts_reconcile`, run by `manage.py reconcile_checkouts`;
- `status`: the status machine (shipping needs carrier and tracking number) and cancellation;
- `shipping`: shipping quotes, the method a checkout charges, staff's writes, demo data;
- `payments`: payments, refunds, provider webhooks and the expiry of unpaid orders;
- `emails`: the order's emails to its customer, through the outbox;
- `guests`: guest orders becoming a customer's once the email is verified.

The public functions are importable from here (`from orders import services`).
"""

from orders.services.checkout import GuestCheckout, checkout_follow_up, order_checkout
from orders.services.guests import guest_orders_claim
from orders.services.idempotency import (
    CheckoutResponse,
    order_number_generate,
    request_fingerprint,
)
from orders.services.payments import (
    payment_create,
    payment_mark_received,
    payment_refund,
    payment_webhook_receive,
    payments_reconcile,
)
from orders.services.recovery import ReconcileReport, checkouts_reconcile
from orders.services.status import order_cancel, order_change_status, order_release_stock

__all__ = [
    "CheckoutResponse",
    "GuestCheckout",
    "ReconcileReport",
    "checkout_follow_up",
    "checkouts_reconcile",
    "guest_orders_claim",
    "order_cancel",
    "order_change_status",
    "order_checkout",
    "order_number_generate",
    "order_release_stock",
    "payment_create",
    "payment_mark_received",
    "payment_refund",
    "payment_webhook_receive",
    "payments_reconcile",
    "request_fingerprint",
]
