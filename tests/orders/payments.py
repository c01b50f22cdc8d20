"""Paying orders the way a storefront, staff and Stripe's webhooks do."""

import uuid

from tests.support.stripe_standin import StripeStandIn

WEBHOOK_URL = "/api/v1/orders/payments/webhooks/stripe/"


def pay(client, order, provider="manual", *, key=None):
    key = str(uuid.uuid4()) if key is None else key
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        f"/api/v1/orders/{order.pk}/payments/", {"provider": provider}, format="json", **headers
    )


def received(client, order, payment_id):
    return client.post(f"/api/v1/orders/{order.pk}/payments/{payment_id}/received/")


def refund(client, order, payment_id, amount, reason=""):
    return client.post(
        f"/api/v1/orders/{order.pk}/payments/{payment_id}/refunds/",
        {"amount": amount, "reason": reason},
        format="json",
    )


def deliver(api_client, event: dict, secret: str, *, timestamp=None, signature=None):
    """POST a webhook event signed as Stripe signs it (or with the given signature)."""
    body, header = StripeStandIn.signed(event, secret, timestamp)
    return api_client.post(
        WEBHOOK_URL,
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else header,
    )
