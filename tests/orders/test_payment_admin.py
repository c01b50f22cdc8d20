"""Payments in the staff back-office: inline, filter, and actions through the services."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from orders.models import OrderPaymentStatus, OrderStatus, Payment, PaymentStatus, Refund
from tests.orders.api import CUSTOMER_ID
from tests.orders.factories import OrderFactory
from tests.orders.payments import pay
from tests.orders.test_admin import CHANGELIST, act
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("boss", "boss@example.com", "pw-not-used")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def manual_order(customer, neighbours):
    order = OrderFactory(user_id=CUSTOMER_ID, total=Decimal("24.20"))
    assert pay(customer, order).status_code == 201
    return order


def test_mark_manual_payment_received_confirms_the_order(admin_client, manual_order, admin_user):
    page = act(admin_client, "mark_manual_payment_received", manual_order).content.decode()
    assert "payment received, order paid" in page
    manual_order.refresh_from_db()
    assert (manual_order.status, manual_order.payment_status) == (
        OrderStatus.CONFIRMED,
        OrderPaymentStatus.PAID,
    )
    assert manual_order.history.last().by_user_id == admin_user.pk
    # Again: nothing waits any more; it says so and changes nothing.
    page = act(admin_client, "mark_manual_payment_received", manual_order).content.decode()
    assert "no manual payment waiting" in page
    assert manual_order.history.count() == 2


def test_refund_action_asks_the_amount_and_never_refunds_more_than_paid(admin_client, manual_order):
    act(admin_client, "mark_manual_payment_received", manual_order)
    form = act(admin_client, "refund_payments", manual_order).content.decode()
    assert "refund_amount" in form and manual_order.number in form
    selected = {"action": "refund_payments", "_selected_action": [manual_order.pk]}
    page = admin_client.post(
        CHANGELIST, {**selected, "refund_amount": "4.20", "reason": "dent"}, follow=True
    ).content.decode()
    assert "4.20 EUR refunded" in page
    page = admin_client.post(
        CHANGELIST, {**selected, "refund_amount": "20.01"}, follow=True
    ).content.decode()
    assert "At most 20.00 EUR" in page
    payment = Payment.objects.get()
    assert payment.refunded_amount == Decimal("4.20")
    assert list(Refund.objects.values_list("amount", "reason")) == [(Decimal("4.20"), "dent")]
    manual_order.refresh_from_db()
    assert manual_order.payment_status == OrderPaymentStatus.PARTIALLY_REFUNDED


def test_payments_inline_and_payment_status_filter(admin_client, manual_order):
    unpaid = OrderFactory()
    act(admin_client, "mark_manual_payment_received", manual_order)
    change = admin_client.get(f"{CHANGELIST}{manual_order.pk}/change/").content.decode()
    assert "manual-" + manual_order.number in change and "Succeeded" in change
    page = admin_client.get(CHANGELIST, {"payment_status__exact": "paid"}).content.decode()
    assert manual_order.number in page and unpaid.number not in page
    payments = admin_client.get("/orders/admin/orders/payment/").content.decode()
    assert manual_order.number in payments
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
