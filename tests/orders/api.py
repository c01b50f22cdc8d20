"""Calling the orders API the way a storefront does."""

import uuid

CUSTOMER_ID = 7
CUSTOMER_EMAIL = "ada@example.com"
OTHER_CUSTOMER_ID = 8
STAFF_ID = 900
STAFF_PERMS = ("orders.change_order", "orders.view_order")

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "Calle Mayor 1",
    "line2": "2º izquierda",
    "city": "Madrid",
    "region": "Madrid",
    "postal_code": "28013",
    "country": "ES",
    "phone": "+34 600 000 000",
}


def checkout(client, *, key=None, body=None):
    """POST a checkout (a fresh Idempotency-Key unless given; key="" sends none)."""
    key = str(uuid.uuid4()) if key is None else key
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/orders/",
        body if body is not None else {"shipping_address": ADDRESS},
        format="json",
        **headers,
    )
