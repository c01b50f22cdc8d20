"""Payment races on MariaDB, with real threads (each its own connection).

A succeeded-payment webhook and a cancellation at the same moment end either "paid and
confirmed" or "cancelled and refunded" (the stock back), never cancelled with the money
kept nor paid without the stock; the same webhook delivered many times at once is
applied once.
"""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from orders.models import (
    Order,
    OrderPaymentStatus,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
)
from tests.orders.api import CUSTOMER_ID, checkout
from tests.orders.payments import WEBHOOK_URL, pay
from tests.orders.test_checkout_concurrency import client_of, in_parallel
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)


def placed_order(neighbours) -> Order:
    neighbours.fill_cart(CUSTOMER_ID, {1: 2})
    response = checkout(client_of(CUSTOMER_ID))
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def post_webhook(body: bytes, header: str):
    return APIClient().post(
        WEBHOOK_URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@pytest.mark.parametrize("round_", range(6))
def test_a_success_webhook_racing_a_cancellation_never_keeps_money_for_nothing(
    round_, neighbours, stripe_standin, settings
):
    neighbours.add_product(1, stock=10)
    order = placed_order(neighbours)
    answer = pay(client_of(CUSTOMER_ID), order, "stripe")
    assert answer.status_code == 201, answer.json()
    reference = answer.json()["provider_reference"]
    intent = stripe_standin.succeed(reference)  # the customer paid at Stripe
    body, header = stripe_standin.signed(
        stripe_standin.event("payment_intent.succeeded", intent), settings.STRIPE_WEBHOOK_SECRET
    )

    def act(index):
        if index == 0:
            return post_webhook(body, header)
        return client_of(CUSTOMER_ID).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")

    webhook, cancel = in_parallel(2, act)
    assert webhook.status_code == 200, webhook.json()
    assert cancel.status_code == 200, cancel.json()  # the owner may cancel pending or confirmed

    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED
    # Whichever came first, the cancellation wins in the end here (it is allowed either
    # way), so the money must be back and the stock too.
    assert order.status == OrderStatus.CANCELLED
    assert order.payment_status in (OrderPaymentStatus.REFUNDED, OrderPaymentStatus.UNPAID)
    assert payment.refunded_amount == payment.amount == Decimal(order.total)
    assert stripe_standin.intents[reference]["amount_refunded"] == 2 * 1210
    assert Refund.objects.filter(payment=payment).count() == 1
    assert neighbours.stock(1) == 10
    if payment.pays_order:  # paid first, then cancelled
        assert order.payment_status == OrderPaymentStatus.REFUNDED
        assert [c.to_status for c in order.history.all()] == ["pending", "confirmed", "cancelled"]
    else:  # cancelled first, the late success refunded
        assert order.payment_status == OrderPaymentStatus.UNPAID
        assert [c.to_status for c in order.history.all()] == ["pending", "cancelled"]


@pytest.mark.parametrize("round_", range(3))
def test_a_success_webhook_racing_the_expiry_ends_paid_or_cancelled_and_refunded(
    round_, neighbours, stripe_standin, settings
):
    """The expiry may only cancel an unpaid order: paid meanwhile, it stays confirmed."""
    from orders.services import payments as payment_services

    neighbours.add_product(1, stock=10)
    order = placed_order(neighbours)
    reference = pay(client_of(CUSTOMER_ID), order, "stripe").json()["provider_reference"]
    intent = stripe_standin.succeed(reference)
    body, header = stripe_standin.signed(
        stripe_standin.event("payment_intent.succeeded", intent), settings.STRIPE_WEBHOOK_SECRET
    )
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 0

    def act(index):
        if index == 0:
            return post_webhook(body, header)
        return payment_services.payments_reconcile()

    webhook, _ = in_parallel(2, act)
    assert webhook.status_code == 200
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED
    # The expiry asks Stripe first: the intent had succeeded, so the order is paid.
    assert (order.status, order.payment_status) == (
        OrderStatus.CONFIRMED,
        OrderPaymentStatus.PAID,
    )
    assert payment.refunded_amount == 0 and neighbours.stock(1) == 8


def test_ten_deliveries_of_one_event_at_once_apply_it_once(neighbours, stripe_standin, settings):
    neighbours.add_product(1, stock=10)
    order = placed_order(neighbours)
    reference = pay(client_of(CUSTOMER_ID), order, "stripe").json()["provider_reference"]
    body, header = stripe_standin.signed(
        stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference)),
        settings.STRIPE_WEBHOOK_SECRET,
    )

    answers = in_parallel(10, lambda index: post_webhook(body, header))

    assert {answer.status_code for answer in answers} == {200}
    assert sorted(answer.json()["duplicate"] for answer in answers) == [False] + [True] * 9
    assert PaymentEvent.objects.count() == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (
        OrderStatus.CONFIRMED,
        OrderPaymentStatus.PAID,
    )
    assert order.history.filter(to_status=OrderStatus.CONFIRMED).count() == 1


def test_two_payments_succeeding_at_once_pay_once_and_refund_the_other(
    neighbours, stripe_standin, settings
):
    neighbours.add_product(1, stock=10)
    order = placed_order(neighbours)
    customer = client_of(CUSTOMER_ID)
    references = [pay(customer, order, "stripe").json()["provider_reference"] for _ in range(2)]
    deliveries = [
        stripe_standin.signed(
            stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference)),
            settings.STRIPE_WEBHOOK_SECRET,
        )
        for reference in references
    ]

    answers = in_parallel(2, lambda index: post_webhook(*deliveries[index]))

    assert [answer.status_code for answer in answers] == [200, 200]
    order.refresh_from_db()
    assert order.payment_status == OrderPaymentStatus.PAID
    payments = list(Payment.objects.filter(order=order))
    assert sorted(p.pays_order for p in payments) == [False, True]
    kept = next(p for p in payments if p.pays_order)
    other = next(p for p in payments if not p.pays_order)
    assert kept.refunded_amount == 0 and other.refunded_amount == other.amount
    assert stripe_standin.intents[other.provider_reference]["amount_refunded"] == 2420
    assert stripe_standin.intents[kept.provider_reference]["amount_refunded"] == 0
