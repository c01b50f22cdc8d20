"""Payments: the manual provider, Stripe through its stand-in, webhooks, refunds, expiry.

Real MariaDB; the Stripe side is tests/support/stripe_standin.py (a real HTTP server on
loopback) called by the official `stripe` library, and webhooks are signed as Stripe
signs them and verified by `stripe.Webhook.construct_event`.
"""

import io
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import (
    Order,
    OrderPaymentStatus,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.services import payments as payment_services
from tests.orders.api import CUSTOMER_ID, STAFF_ID
from tests.orders.factories import OrderFactory
from tests.orders.payments import deliver, pay, received, refund
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.fixture
def order(neighbours):
    return OrderFactory(user_id=CUSTOMER_ID, total=Decimal("24.20"))


@pytest.fixture
def secret(settings):
    return settings.STRIPE_WEBHOOK_SECRET


def state(order):
    order.refresh_from_db()
    return order.status, order.payment_status


# --- manual -----------------------------------------------------------------------------


def test_manual_payment_then_staff_mark_it_received_and_the_order_confirms(customer, staff, order):
    response = pay(customer, order, "manual")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["provider"], body["status"], body["amount"], body["currency"]) == (
        "manual",
        "requires_action",
        "24.20",
        "EUR",
    )
    assert order.number in body["instructions"] and body["client_secret"] == ""
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)

    answer = received(staff, order, body["id"])
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "succeeded"
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PAID)
    assert order.paid_at is not None
    change = order.history.last()
    assert (change.from_status, change.to_status, change.by_user_id) == (
        "pending",
        "confirmed",
        STAFF_ID,
    )
    assert change.note.startswith("payment: manual manual-") and "succeeded" in change.note
    shown = customer.get(f"/api/v1/orders/{order.pk}/").json()
    assert shown["payment_status"] == "paid" and shown["paid_at"]
    # Twice is refused and changes nothing.
    again = received(staff, order, body["id"])
    assert again.status_code == 409 and again.json()["code"] == "order_not_payable"
    assert order.history.count() == 2


def test_only_order_managers_mark_received_and_only_the_owner_pays(
    customer, other_customer, staff, order, client_for
):
    payment_id = pay(customer, order).json()["id"]
    assert received(customer, order, payment_id).status_code == 403
    catalog_staff = client_for(901, is_staff=True, perms=("catalog.change_product",))
    assert received(catalog_staff, order, payment_id).status_code == 403
    assert pay(other_customer, order).status_code == 404  # not theirs: not even seen
    assert pay(staff, order).status_code == 403  # staff see it, but do not pay for the customer
    assert Payment.objects.get().status == PaymentStatus.REQUIRES_ACTION
    assert Payment.objects.count() == 1


def test_payment_needs_an_idempotency_key_and_a_known_provider(customer, order):
    missing = pay(customer, order, key="")
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    unknown = pay(customer, order, "paypal")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "payment_provider_unavailable"
    assert "provider" in unknown.json()["errors"]
    bad = customer.post(
        f"/api/v1/orders/{order.pk}/payments/",
        {"provider": "manual", "amount": "0.01"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    # An amount from the client is ignored: the order's total is what is paid.
    assert bad.status_code == 201 and bad.json()["amount"] == "24.20"
    assert Payment.objects.count() == 1


def test_the_same_key_replays_and_another_body_is_422(customer, order, stripe_standin):
    first = pay(customer, order, "manual", key="pay-1")
    again = pay(customer, order, "manual", key="pay-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = pay(customer, order, "stripe", key="pay-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1
    assert stripe_standin.intents == {}


def test_no_payment_for_a_cancelled_or_paid_order(customer, neighbours):
    cancelled = OrderFactory(user_id=CUSTOMER_ID, status=OrderStatus.CANCELLED)
    answer = pay(customer, cancelled)
    assert answer.status_code == 409 and answer.json()["code"] == "order_not_payable"
    paid = OrderFactory(user_id=CUSTOMER_ID, payment_status=OrderPaymentStatus.PAID)
    answer = pay(customer, paid)
    assert answer.status_code == 409 and answer.json()["payment_status"] == "paid"
    assert Payment.objects.count() == 0


def test_payments_are_listed_for_the_owner_and_staff_only(customer, other_customer, staff, order):
    pay(customer, order)
    assert [p["provider"] for p in customer.get(f"/api/v1/orders/{order.pk}/payments/").json()] == [
        "manual"
    ]
    assert len(staff.get(f"/api/v1/orders/{order.pk}/payments/").json()) == 1
    assert other_customer.get(f"/api/v1/orders/{order.pk}/payments/").status_code == 404


# --- stripe through the stand-in -----------------------------------------------------------


def stripe_payment(customer, order):
    response = pay(customer, order, "stripe")
    assert response.status_code == 201, response.json()
    return response.json()


def test_stripe_payment_answers_the_client_secret_and_a_signed_webhook_confirms(
    customer, order, stripe_standin, api_client, secret
):
    body = stripe_payment(customer, order)
    intent = stripe_standin.intents[body["provider_reference"]]
    assert body["client_secret"] == intent["client_secret"]
    assert (intent["amount"], intent["currency"]) == (2420, "eur")
    assert intent["metadata"] == {"order_number": order.number, "payment_id": str(body["id"])}

    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(intent["id"]))
    answer = deliver(api_client, event, secret)
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"received": True, "event_id": event["id"], "duplicate": False}
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PAID)
    change = order.history.last()
    assert change.by_user_id is None and change.by_email == ""  # by "payment": the note
    assert change.note == f"payment: stripe {intent['id']} succeeded (24.20 EUR)."
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED

    # Replayed (Stripe retries, or an attacker resends it): nothing changes.
    replay = deliver(api_client, event, secret)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert PaymentEvent.objects.count() == 1
    assert order.history.count() == 2


@pytest.mark.parametrize(
    "signature",
    [
        "t=1,v1=0000",
        "",
        "v1=deadbeef",
        "t=notanumber,v1=ab",
    ],
)
def test_forged_webhooks_are_400_and_change_nothing(
    customer, order, stripe_standin, api_client, signature, secret
):
    body = stripe_payment(customer, order)
    event = stripe_standin.event(
        "payment_intent.succeeded", stripe_standin.succeed(body["provider_reference"])
    )
    answer = deliver(api_client, event, secret, signature=signature)
    assert answer.status_code == 400 and answer.json()["code"] == "webhook_invalid"
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)
    assert PaymentEvent.objects.count() == 0


def test_a_webhook_signed_with_another_secret_or_altered_is_400(
    customer, order, stripe_standin, api_client, secret
):
    body = stripe_payment(customer, order)
    event = stripe_standin.event(
        "payment_intent.succeeded", stripe_standin.succeed(body["provider_reference"])
    )
    assert deliver(api_client, event, "whsec_someone_else").status_code == 400
    payload, header = stripe_standin.signed(event, secret)
    tampered = payload.replace(b'"amount": 2420', b'"amount": 1')
    answer = api_client.post(
        "/api/v1/orders/payments/webhooks/stripe/",
        tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert answer.status_code == 400
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)
    assert PaymentEvent.objects.count() == 0


def test_a_stale_webhook_is_400_and_changes_nothing(
    customer, order, stripe_standin, api_client, secret
):
    body = stripe_payment(customer, order)
    event = stripe_standin.event(
        "payment_intent.succeeded", stripe_standin.succeed(body["provider_reference"])
    )
    answer = deliver(api_client, event, secret, timestamp=int(time.time()) - 301)
    assert answer.status_code == 400 and "tolerance" in answer.json()["detail"].lower()
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)
    assert PaymentEvent.objects.count() == 0


def test_events_out_of_order_a_late_failure_does_not_undo_a_success(
    customer, order, stripe_standin, api_client, secret
):
    body = stripe_payment(customer, order)
    reference = body["provider_reference"]
    failed = stripe_standin.event("payment_intent.payment_failed", stripe_standin.fail(reference))
    succeeded = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    assert deliver(api_client, succeeded, secret).status_code == 200
    assert deliver(api_client, failed, secret).status_code == 200  # older, delivered late
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PAID)


def test_a_failure_then_a_success_on_the_same_intent_pays(
    customer, order, stripe_standin, api_client, secret
):
    reference = stripe_payment(customer, order)["provider_reference"]
    failed = stripe_standin.event("payment_intent.payment_failed", stripe_standin.fail(reference))
    assert deliver(api_client, failed, secret).status_code == 200
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)
    succeeded = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    assert deliver(api_client, succeeded, secret).status_code == 200
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PAID)


def test_a_success_for_less_than_the_total_does_not_pay_and_is_refunded(
    customer, order, stripe_standin, api_client, secret
):
    reference = stripe_payment(customer, order)["provider_reference"]
    intent = stripe_standin.succeed(reference)
    intent["amount_received"] = 100
    stripe_standin.intents[reference]["amount_received"] = 100
    answer = deliver(api_client, stripe_standin.event("payment_intent.succeeded", intent), secret)
    assert answer.status_code == 200
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)
    assert Refund.objects.get().amount == Decimal("24.20")


def test_stripe_down_is_503_and_the_same_key_then_makes_one_intent(customer, order, stripe_standin):
    stripe_standin.down = True
    down = pay(customer, order, "stripe", key="card-1")
    assert down.status_code == 503 and down.json()["service"] == "stripe"
    assert stripe_standin.intents == {}
    stripe_standin.down = False
    first = pay(customer, order, "stripe", key="card-1")
    again = pay(customer, order, "stripe", key="card-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["provider_reference"] == again.json()["provider_reference"]
    assert len(stripe_standin.intents) == 1
    assert Payment.objects.count() == 1


# --- cancellation and refunds -----------------------------------------------------------


def test_cancelling_a_paid_order_refunds_it_in_full_through_stripe(
    customer, order, stripe_standin, api_client, secret, neighbours
):
    reference = stripe_payment(customer, order)["provider_reference"]
    deliver(
        api_client,
        stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference)),
        secret,
    )
    answer = customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["payment_status"] == "refunded"
    assert state(order) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)
    payment = Payment.objects.get()
    assert payment.refunded_amount == Decimal("24.20")
    refund_row = Refund.objects.get()
    assert refund_row.status == RefundStatus.SUCCEEDED and refund_row.provider_reference
    assert stripe_standin.intents[reference]["amount_refunded"] == 2420
    # Stripe's charge.refunded for it afterwards changes nothing more.
    event = stripe_standin.event("charge.refunded", stripe_standin.charge_refunded(reference))
    assert deliver(api_client, event, secret).status_code == 200
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("24.20") and Refund.objects.count() == 1
    listed = customer.get(f"/api/v1/orders/{order.pk}/payments/").json()[0]
    assert listed["refunds"][0]["amount"] == "24.20"


def test_a_payment_succeeding_after_the_cancellation_is_refunded(
    customer, order, stripe_standin, api_client, secret, neighbours
):
    reference = stripe_payment(customer, order)["provider_reference"]
    customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    # The cancellation cancelled the intent at Stripe; here the customer paid just before.
    stripe_standin.intents[reference]["status"] = "requires_payment_method"
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    assert deliver(api_client, event, secret).status_code == 200
    assert state(order)[0] == OrderStatus.CANCELLED
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED and not payment.pays_order
    assert payment.refunded_amount == Decimal("24.20")
    assert stripe_standin.intents[reference]["amount_refunded"] == 2420


def test_staff_partial_refunds_never_more_than_paid(customer, staff, order, neighbours):
    payment_id = pay(customer, order).json()["id"]
    received(staff, order, payment_id)
    first = refund(staff, order, payment_id, "10.00", "a broken mug")
    assert first.status_code == 201, first.json()
    assert first.json()["refunded_amount"] == "10.00"
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PARTIALLY_REFUNDED)
    too_much = refund(staff, order, payment_id, "14.21")
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_paid"
    assert too_much.json()["refundable"] == "14.20"
    assert refund(customer, order, payment_id, "1.00").status_code == 403
    for amount in ("0", "-1", "abc", "1.001"):
        assert refund(staff, order, payment_id, amount).status_code == 400, amount
    rest = refund(staff, order, payment_id, "14.20")
    assert rest.status_code == 201
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.REFUNDED)
    assert list(Refund.objects.values_list("amount", "status", "by_user_id")) == [
        (Decimal("10.00"), "succeeded", STAFF_ID),
        (Decimal("14.20"), "succeeded", STAFF_ID),
    ]
    # Cancelling now has nothing left to refund.
    staff.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert Refund.objects.count() == 2


def test_a_refund_stripe_cannot_take_now_is_retried_by_reconcile(
    customer, staff, order, stripe_standin, api_client, secret, neighbours
):
    reference = stripe_payment(customer, order)["provider_reference"]
    deliver(
        api_client,
        stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference)),
        secret,
    )
    stripe_standin.down = True
    answer = refund(staff, order, Payment.objects.get().pk, "5.00")
    assert answer.status_code == 201
    assert Refund.objects.get().status == RefundStatus.PENDING
    stripe_standin.down = False
    out = io.StringIO()
    call_command("reconcile_checkouts", stdout=out)
    assert "refunds made: 1" in out.getvalue()
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert stripe_standin.intents[reference]["amount_refunded"] == 500


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(
    customer, order, stripe_standin, api_client, secret
):
    reference = stripe_payment(customer, order)["provider_reference"]
    deliver(
        api_client,
        stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference)),
        secret,
    )
    stripe_standin.intents[reference]["amount_refunded"] = 700
    first = stripe_standin.event("charge.refunded", stripe_standin.charge_refunded(reference))
    stripe_standin.intents[reference]["amount_refunded"] = 1000
    second = stripe_standin.event("charge.refunded", stripe_standin.charge_refunded(reference))
    assert deliver(api_client, second, secret).status_code == 200
    assert deliver(api_client, first, secret).status_code == 200  # older, late: ignored
    payment = Payment.objects.get()
    assert payment.refunded_amount == Decimal("10.00")
    assert state(order)[1] == OrderPaymentStatus.PARTIALLY_REFUNDED


# --- expiry ---------------------------------------------------------------------------


def test_an_unpaid_card_order_expires_and_gives_its_stock_back(
    customer, stripe_standin, neighbours, settings
):
    neighbours.add_product(1, stock=10)
    neighbours.fill_cart(CUSTOMER_ID, {1: 3})
    from tests.orders.api import checkout

    placed = checkout(customer)
    assert placed.status_code == 201
    order = Order.objects.get(pk=placed.json()["id"])
    assert neighbours.products[1].stock == 7
    reference = stripe_payment(customer, order)["provider_reference"]
    paid_manual = OrderFactory(user_id=CUSTOMER_ID)
    pay(customer, paid_manual, "manual")  # manual orders wait for staff, never expire

    call_command("reconcile_checkouts", stdout=io.StringIO())
    assert state(order) == (OrderStatus.PENDING, OrderPaymentStatus.UNPAID)  # not yet

    old = timezone.now() - timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES + 1)
    Order.objects.filter(pk__in=[order.pk, paid_manual.pk]).update(created_at=old)
    out = io.StringIO()
    call_command("reconcile_checkouts", stdout=out)
    assert "unpaid orders expired: 1" in out.getvalue()
    assert state(order) == (OrderStatus.CANCELLED, OrderPaymentStatus.UNPAID)
    assert neighbours.products[1].stock == 10
    assert stripe_standin.intents[reference]["status"] == "canceled"
    assert Payment.objects.get(order=order).status == PaymentStatus.CANCELLED
    assert "not paid within" in order.history.last().note
    assert state(paid_manual)[0] == OrderStatus.PENDING


def test_an_order_whose_success_webhook_was_lost_is_paid_not_expired(
    customer, order, stripe_standin, settings
):
    reference = stripe_payment(customer, order)["provider_reference"]
    stripe_standin.succeed(reference)  # paid at Stripe; the webhook never came
    old = timezone.now() - timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES + 1)
    Order.objects.filter(pk=order.pk).update(created_at=old)
    call_command("reconcile_checkouts", stdout=io.StringIO())
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PAID)


# --- stats ------------------------------------------------------------------------------


def test_stats_report_paid_revenue_and_refunds(customer, staff, neighbours):
    orders = [OrderFactory(user_id=CUSTOMER_ID, total=Decimal("24.20")) for _ in range(2)]
    for order in orders:
        received(staff, order, pay(customer, order).json()["id"])
    refund(staff, orders[0], Payment.objects.filter(order=orders[0]).get().pk, "4.20")
    stats = staff.get("/api/v1/orders/stats/").json()
    assert (stats["paid_revenue"], stats["refunded"], stats["net_revenue"]) == (
        "48.40",
        "4.20",
        "44.20",
    )
    mine = customer.get("/api/v1/orders/stats/").json()
    assert mine["paid_revenue"] == "48.40"


def test_the_service_refuses_refunds_of_unpaid_payments(customer, order):
    payment = Payment.objects.get(pk=pay(customer, order).json()["id"])
    from shopkit.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        payment_services.payment_refund(payment=payment, amount=Decimal("1.00"), by_user_id=1)
    assert refused.value.code == "payment_not_refundable"
    assert Refund.objects.count() == 0


def test_without_its_keys_the_stripe_provider_is_absent(customer, order, settings, api_client):
    settings.PAYMENT_PROVIDERS = {"manual": settings.PAYMENT_PROVIDERS["manual"]}
    answer = pay(customer, order, "stripe")
    assert answer.status_code == 400
    assert answer.json()["code"] == "payment_provider_unavailable"
    assert "manual" in answer.json()["detail"]
    assert Payment.objects.count() == 0


def test_only_the_paying_customer_sees_the_client_secret(customer, staff, order, stripe_standin):
    body = stripe_payment(customer, order)
    assert body["client_secret"].startswith(body["provider_reference"])
    mine = customer.get(f"/api/v1/orders/{order.pk}/payments/").json()
    assert mine[0]["client_secret"] == body["client_secret"]
    seen_by_staff = staff.get(f"/api/v1/orders/{order.pk}/payments/").json()
    assert seen_by_staff[0]["client_secret"] == ""
    assert seen_by_staff[0]["provider_reference"] == body["provider_reference"]


def test_stored_events_keep_no_client_secret(customer, order, stripe_standin, api_client, secret):
    reference = stripe_payment(customer, order)["provider_reference"]
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    assert "client_secret" in event["data"]["object"]
    deliver(api_client, event, secret)
    stored = PaymentEvent.objects.get()
    assert stored.payment.provider_reference == reference
    assert "client_secret" not in stored.payload["data"]["object"]


def test_listing_payments_costs_the_same_whatever_their_number(
    customer, order, django_assert_max_num_queries
):
    for _ in range(5):
        pay(customer, order)
    # The order (lines and history prefetched: +2), its payments, their refunds.
    with django_assert_max_num_queries(5, using="ecommerce"):
        answer = customer.get(f"/api/v1/orders/{order.pk}/payments/")
    assert answer.status_code == 200 and len(answer.json()) == 5


def test_a_webhook_costs_a_fixed_number_of_queries(
    customer, order, stripe_standin, api_client, secret, django_assert_max_num_queries
):
    reference = stripe_payment(customer, order)["provider_reference"]
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    with django_assert_max_num_queries(16, using="ecommerce"):
        assert deliver(api_client, event, secret).status_code == 200
    # A replay: the payment, the order lock, the event (+ the savepoint of the test transaction).
    with django_assert_max_num_queries(5, using="ecommerce"):
        assert deliver(api_client, event, secret).json()["duplicate"] is True


def test_a_refund_event_that_overtakes_the_success_event_ends_the_same(
    customer, order, stripe_standin, api_client, secret
):
    reference = stripe_payment(customer, order)["provider_reference"]
    succeeded = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    stripe_standin.intents[reference]["amount_refunded"] = 420
    refunded = stripe_standin.event("charge.refunded", stripe_standin.charge_refunded(reference))
    assert deliver(api_client, refunded, secret).status_code == 200
    assert deliver(api_client, succeeded, secret).status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.refunded_amount) == (PaymentStatus.SUCCEEDED, Decimal("4.20"))
    assert state(order) == (OrderStatus.CONFIRMED, OrderPaymentStatus.PARTIALLY_REFUNDED)
    assert order.history.filter(to_status=OrderStatus.CONFIRMED).count() == 1


def test_a_paid_order_cancelled_without_its_refund_is_refunded_by_reconcile(
    customer, staff, order, stripe_standin, api_client, secret
):
    """The process died between the cancellation's commit and the refund."""
    reference = stripe_payment(customer, order)["provider_reference"]
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    deliver(api_client, event, secret)
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.CANCELLED, stock_released_at=timezone.now()
    )
    call_command("reconcile_checkouts", stdout=io.StringIO())
    assert state(order) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert stripe_standin.intents[reference]["amount_refunded"] == 2420
    call_command("reconcile_checkouts", stdout=io.StringIO())  # nothing more
    assert Refund.objects.count() == 1


def test_cancelling_an_unpaid_order_stops_its_open_payments(customer, staff, order, neighbours):
    payment_id = pay(customer, order).json()["id"]
    customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    late = received(staff, order, payment_id)
    assert late.status_code == 409 and late.json()["code"] == "order_not_payable"
    assert state(order) == (OrderStatus.CANCELLED, OrderPaymentStatus.UNPAID)
    assert Refund.objects.count() == 0


def test_a_retry_after_503_for_an_order_cancelled_meanwhile_starts_nothing(
    customer, order, stripe_standin, neighbours
):
    stripe_standin.down = True
    assert pay(customer, order, "stripe", key="card-2").status_code == 503
    stripe_standin.down = False
    customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    retry = pay(customer, order, "stripe", key="card-2")
    assert retry.status_code == 201 and retry.json()["status"] == "cancelled"
    assert stripe_standin.intents == {}
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
