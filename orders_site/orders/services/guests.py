"""Guest orders becoming a customer's: when someone verifies the email a guest ordered with.

No call from auth and no job: orders sees the verification in the customer's own access
token (`email_verified`, internal-api.md) and claims the guest orders of that email when
the customer reads their orders (list, one order, stats). Nothing can be lost (an auth event that never arrived,
a job that did not run): the claim happens whenever it is first needed, and again at
every read for orders placed as a guest later.
"""

from django.db import transaction

from orders.models import Order
from shopkit.routers import ECOMMERCE_DB


def guest_orders_claim(*, user_id: int, email: str) -> int:
    """Give the guest orders of `email` (verified by the caller) to `user_id`; how many.

    One UPDATE on the (email, user_id) index; a guest order is never taken from anyone,
    only given when it has no user yet.
    """
    if not email:
        return 0
    with transaction.atomic(using=ECOMMERCE_DB):
        return Order.objects.filter(user_id__isnull=True, email=email.lower()).update(
            user_id=user_id
        )
