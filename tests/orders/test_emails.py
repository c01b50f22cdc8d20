"""Order emails: enqueued with the change that causes them (placed, paid, shipped,
cancelled, refunded), once per event, in the customer's language kept at checkout, with
the order's figures; rendered from templates staff can override; delivered by
orders' own `send_outbox` job.

Real MariaDB; catalog, cart and auth are the fake neighbours (tests/orders/fakes.py).
"""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from orders.models import Order, ShippingZone
from orders.services.emails import order_paid_email, tracking_url
from shopkit.outbox.models import OutboxMessage
from shopkit.routers import ECOMMERCE_DB
from tests.orders.api import ADDRESS, CUSTOMER_ID, checkout
from tests.orders.payments import pay, received, refund
from tests.orders.test_shipping import make_method
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def messages(kind=None):
    rows = OutboxMessage.objects.using(ECOMMERCE_DB).order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def only(kind) -> OutboxMessage:
    [message] = messages(kind)
    return message


@pytest.fixture
def placed(neighbours, client_for):
    """An order of two lines placed by an English-speaking customer (12.10 + 2 × 6.05)."""
    neighbours.add_product(1, price="10.00", name="Blue mug", sku="MUG-BLUE")
    neighbours.add_product(2, price="5.00", name="Tea towel", sku="TOWEL-1")
    neighbours.fill_cart(CUSTOMER_ID, {1: 1, 2: 2})
    customer = client_for(CUSTOMER_ID, email="ada@example.com", language="en")
    response = checkout(customer)
    assert response.status_code == 201, response.json()
    return customer, Order.objects.get(number=response.json()["number"])


def test_checkout_keeps_email_and_language_and_queues_the_confirmation(placed, settings):
    _, order = placed
    assert (order.email, order.language) == ("ada@example.com", "en")
    message = only("orders.placed")
    assert message.recipients == ["ada@example.com"]
    assert (message.language, message.status) == ("en", "pending")
    assert message.dedupe_key == f"order:{order.number}:placed"
    assert message.subject == f"{settings.SHOP_NAME}: order {order.number} received"
    text = message.body_text
    assert "Hello Ada Lovelace" in text
    assert "1 × Blue mug (MUG-BLUE), 10.00 EUR each: 10.00 EUR" in text
    assert "2 × Tea towel (TOWEL-1), 5.00 EUR each: 10.00 EUR" in text
    assert "Subtotal: 20.00 EUR" in text and "Tax: 4.20 EUR" in text
    assert "Total: 24.20 EUR" in text and order.total == Decimal("24.20")
    assert "Calle Mayor 1\n2º izquierda\n28013 Madrid (Madrid)\nSpain" in text
    assert f"{settings.STOREFRONT_URL.rstrip('/')}/orders/{order.number}" in text
    assert "<strong>24.20 EUR</strong>" in message.body_html
    assert "Blue mug" in message.body_html


def test_a_replayed_checkout_queues_no_second_confirmation(neighbours, client_for):
    neighbours.add_product(1)
    neighbours.fill_cart(CUSTOMER_ID, {1: 1})
    customer = client_for(CUSTOMER_ID, email="ada@example.com")
    first = checkout(customer, key="same-key")
    again = checkout(customer, key="same-key")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert len(messages("orders.placed")) == 1


def test_spanish_by_default_with_the_shipping_method(neighbours, client_for, settings):
    spain = ShippingZone.objects.create(name="Spain", countries=["ES"])
    make_method("express", zones=[spain], name="Urgente", carrier="SEUR", flat_price="4.00")
    neighbours.add_product(1, price="10.00", name="Taza", sku="TAZA")
    neighbours.fill_cart(CUSTOMER_ID, {1: 1})
    customer = client_for(CUSTOMER_ID, email="ada@example.com")  # no language claim
    response = checkout(customer, body={"shipping_address": ADDRESS, "shipping_method": "express"})
    assert response.status_code == 201, response.json()
    message = only("orders.placed")
    assert message.language == settings.SHOP_LANGUAGE == "es"
    assert message.subject.endswith(f"pedido {response.json()['number']} recibido")
    order = Order.objects.get(number=response.json()["number"])
    assert order.shipping_total == Decimal("4.00")
    shipping = order.shipping_total + order.shipping_tax
    assert f"Envío (Urgente, SEUR): {shipping} EUR" in message.body_text
    assert f"Total: {order.total} EUR" in message.body_text
    assert order.total == Decimal("12.10") + shipping
    assert "España" in message.body_text


def test_paid_shipped_refunded_each_once_with_tracking_link(placed, staff, settings):
    customer, order = placed
    payment_id = pay(customer, order).json()["id"]
    assert received(staff, order, payment_id).status_code == 200
    paid = only("orders.paid")
    assert paid.subject == f"{settings.SHOP_NAME}: payment received for order {order.number}"
    assert "24.20 EUR" in paid.body_text
    assert received(staff, order, payment_id).status_code == 409  # twice: no second email
    assert len(messages("orders.paid")) == 1

    url = f"/api/v1/orders/{order.pk}/status/"
    assert staff.post(url, {"status": "processing"}, format="json").status_code == 200
    assert messages("orders.shipped") == []
    refused = staff.post(url, {"status": "shipped", "carrier": "SEUR"}, format="json")
    assert refused.status_code == 400 and messages("orders.shipped") == []
    shipped = staff.post(
        url,
        {"status": "shipped", "carrier": "SEUR", "tracking_number": "ES 123/45"},
        format="json",
    )
    assert shipped.status_code == 200, shipped.json()
    message = only("orders.shipped")
    assert "has shipped with SEUR" in message.body_text
    assert "Tracking number: ES 123/45" in message.body_text
    link = "https://www.seur.com/livetracking/?segOnlineIdentificador=ES%20123%2F45"
    assert link in message.body_text and link.replace("&", "&amp;") in message.body_html

    answer = refund(staff, order, payment_id, "4.20", "a chipped mug")
    assert answer.status_code == 201, answer.json()
    message = only("orders.refunded")
    assert message.subject == (f"{settings.SHOP_NAME}: refund of 4.20 EUR for order {order.number}")
    assert message.dedupe_key == f"order:{order.number}:refund:{answer.json()['id']}"


def test_cancelling_a_paid_order_tells_of_the_cancellation_and_the_refund(placed, staff):
    customer, order = placed
    payment_id = pay(customer, order).json()["id"]
    received(staff, order, payment_id)
    response = customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 200, response.json()
    cancelled = only("orders.cancelled")
    assert f"Your order {order.number} (24.20 EUR) has been cancelled." in cancelled.body_text
    assert "comes back to you" in cancelled.body_text
    assert "24.20 EUR" in only("orders.refunded").body_text
    kinds = [m.kind for m in messages()]
    assert kinds == ["orders.placed", "orders.paid", "orders.cancelled", "orders.refunded"]


def test_an_unpaid_cancellation_promises_no_refund(placed):
    customer, order = placed
    customer.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert "comes back" not in only("orders.cancelled").body_text
    assert messages("orders.refunded") == []


def test_a_refused_move_queues_nothing(placed, staff):
    _, order = placed
    url = f"/api/v1/orders/{order.pk}/status/"
    answer = staff.post(url, {"status": "delivered"}, format="json")
    assert answer.status_code == 409
    assert [m.kind for m in messages()] == ["orders.placed"]


def test_the_email_is_rolled_back_with_its_change(placed):
    _, order = placed
    with pytest.raises(RuntimeError), transaction.atomic(using=ECOMMERCE_DB):
        order_paid_email(order=order)
        assert len(messages("orders.paid")) == 1
        raise RuntimeError("the change failed")
    assert messages("orders.paid") == []


def test_tracking_links(settings):
    settings.TRACKING_URL_TEMPLATE = ""
    assert tracking_url(carrier="Correos", tracking_number="PK1").endswith("tracking-number=PK1")
    assert tracking_url(carrier="Mensajeros Paco", tracking_number="7") == ""
    settings.TRACKING_URL_TEMPLATE = "https://track.example/{carrier}/{tracking_number}"
    assert (
        tracking_url(carrier="Mensajeros Paco", tracking_number="7 8")
        == "https://track.example/Mensajeros%20Paco/7%208"
    )


def test_staff_override_a_template(placed, staff, settings, tmp_path):
    customer, order = placed
    folder = tmp_path / "emails" / "en" / "order_paid"
    folder.mkdir(parents=True)
    (folder / "subject.txt").write_text("Thanks! {{ order.number }} is paid")
    (folder / "body.txt").write_text("Paid: {{ total }}.")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    received(staff, order, pay(customer, order).json()["id"])
    message = only("orders.paid")
    assert message.subject == f"Thanks! {order.number} is paid"
    assert message.body_text == "Paid: 24.20 EUR.\n"


def test_orders_own_sender_delivers_them(placed, settings):
    _, order = placed
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_outbox")
    [sent] = mail.outbox
    assert sent.to == ["ada@example.com"]
    assert sent.subject.endswith(f"order {order.number} received")
    assert sent.extra_headers["Content-Language"] == "en"
    assert only("orders.placed").status == "sent"


# --- REQUIRE_VERIFIED_EMAIL ---------------------------------------------------------


@pytest.mark.parametrize("required", [True, False])
def test_an_unverified_customer_checks_out_only_when_not_required(
    neighbours, client_for, settings, required
):
    settings.REQUIRE_VERIFIED_EMAIL = required
    neighbours.add_product(1, stock=5)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2})
    unverified = client_for(CUSTOMER_ID, email="ada@example.com", email_verified=False)
    response = checkout(unverified, key="k-1")
    if required:
        assert response.status_code == 403
        assert response.json()["code"] == "email_not_verified"
        assert not Order.objects.exists() and messages() == []
        assert neighbours.products[1].stock == 5 and neighbours.cart_lines(CUSTOMER_ID) == {1: 2}
        verified = client_for(CUSTOMER_ID, email="ada@example.com", email_verified=True)
        response = checkout(verified, key="k-1")  # the refusal did not use the key up
    assert response.status_code == 201, response.json()
    assert Order.objects.count() == 1
