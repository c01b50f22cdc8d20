"""Order emails from outside: orders' own mail sender as a real process
(`manage.py send_outbox --loop 1` in orders_site) delivering to a real SMTP server on
loopback (aiosmtpd), the shop driven through the gateway.

A customer in English and one in Spanish each check out with a shipping method, pay
(manual, staff mark it received), are shipped with a tracking number, and one cancels
a paid order: every email arrives once, to the order's email, in the customer's
language, with the order's figures.
"""

import uuid
from decimal import Decimal

import pytest

from shopkit.processes import Process, manage_argv, project_dir
from tests.support.smtp_sink import SmtpSink
from tests.support.tokens import mint_access_token
from tests.system.shopping import ADDRESS, ShopUser, create_product, shop_shipping

D = Decimal


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def order_sender(shop, smtp):
    env = {
        **shop.env,
        "EMAIL_URL": smtp.url,
        "DEFAULT_FROM_EMAIL": "Tienda <shop@tienda.test>",
        "OUTBOX_RETRY_BASE_SECONDS": "1",
        "OUTBOX_RETRY_MAX_SECONDS": "2",
    }
    process = Process(
        "order-mail-sender",
        manage_argv("send_outbox", "--loop", "1"),
        cwd=project_dir("orders"),
        env=env,
        log=shop.log_dir / "order-mail-sender.log",
    ).start()
    yield process
    process.stop()


def customer(gateway, language: str | None) -> ShopUser:
    user_id = 700_000 + uuid.uuid4().int % 100_000
    email = f"orders-{uuid.uuid4().hex[:8]}@example.com"
    claims = {"language": language} if language else {}
    token = mint_access_token(user_id=user_id, email=email, **claims)
    buyer = ShopUser(gateway.url, token, user_id=user_id)
    buyer.email = email
    return buyer


def arrived(smtp, email: str, count: int) -> list:
    smtp.wait_for(lambda _: len(smtp.to(email)) >= count, timeout=60)
    return smtp.to(email)


def by_subject(messages, fragment: str):
    [message] = [m for m in messages if fragment in m.subject]
    return message


def buy_pay_ship(gateway, staff, buyer, product, method: str) -> dict:
    buyer.add_to_cart(product["id"], 2)
    order = buyer.checkout(body={"shipping_method": method}, expect=201).json()
    payment = buyer.post(
        f"/api/v1/orders/{order['id']}/payments/",
        json={"provider": "manual"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=201,
    ).json()
    manager = staff["orders"]
    manager.post(f"/api/v1/orders/{order['id']}/payments/{payment['id']}/received/", expect=200)
    status = f"/api/v1/orders/{order['id']}/status/"
    manager.post(status, json={"status": "processing"}, expect=200)
    manager.post(
        status,
        json={"status": "shipped", "carrier": "Correos", "tracking_number": "PK123ES"},
        expect=200,
    )
    return order


def test_placed_paid_shipped_in_english_and_spanish(gateway, staff, shop, smtp, order_sender):
    product = create_product(staff["catalog"], stock=20, price="10.00", weight="0.500")
    with shop_shipping(staff["orders"]):
        english = customer(gateway, "en")
        order = buy_pay_ship(gateway, staff, english, product, "express")
        spanish = customer(gateway, None)  # no language claim: SHOP_LANGUAGE, es
        pedido = buy_pay_ship(gateway, staff, spanish, product, "standard")

    messages = arrived(smtp, english.email, 3)
    assert len(messages) == 3
    assert {m.mail_from for m in messages} == {"shop@tienda.test"}
    assert all(m.recipients == [english.email] for m in messages)
    placed = by_subject(messages, f"order {order['number']} received")
    # 2 × 10.00 + 21 % = 24.20; express 9.95 + 21 % = 12.04; total 36.24.
    assert (order["total"], order["shipping_total"], order["shipping_tax"]) == (
        "36.24",
        "9.95",
        "2.09",
    )
    assert f"2 × {product['name']} ({product['sku']}), 10.00 EUR each: 20.00 EUR" in placed.text
    assert "Subtotal: 20.00 EUR" in placed.text and "Tax: 4.20 EUR" in placed.text
    assert "Shipping (Express, SEUR): 12.04 EUR" in placed.text
    assert "Total: 36.24 EUR" in placed.text
    assert "<strong>36.24 EUR</strong>" in placed.html
    paid = by_subject(messages, f"payment received for order {order['number']}")
    assert "36.24 EUR" in paid.text
    shipped = by_subject(messages, f"your order {order['number']} is on its way")
    assert "has shipped with Correos" in shipped.text
    assert "Tracking number: PK123ES" in shipped.text
    assert "localizador/envios/detalle?tracking-number=PK123ES" in shipped.text

    mensajes = arrived(smtp, spanish.email, 3)
    assert len(mensajes) == 3
    recibido = by_subject(mensajes, f"pedido {pedido['number']} recibido")
    shipping = D(pedido["shipping_total"]) + D(pedido["shipping_tax"])
    assert f"Envío (Standard, Correos): {shipping} EUR" in recibido.text
    assert f"Total: {pedido['total']} EUR" in recibido.text
    assert "España" in recibido.text
    by_subject(mensajes, f"pago recibido del pedido {pedido['number']}")
    camino = by_subject(mensajes, f"tu pedido {pedido['number']} va de camino")
    assert "Número de seguimiento: PK123ES" in camino.text

    rows = shop.query(
        "ecommerce",
        "SELECT kind, status FROM outbox_outboxmessage WHERE dedupe_key LIKE %s ORDER BY id",
        f"order:{order['number']}:%",
    )
    assert list(rows) == [
        ("orders.placed", "sent"),
        ("orders.paid", "sent"),
        ("orders.shipped", "sent"),
    ]


def test_cancelling_a_paid_order_emails_the_cancellation_and_the_refund(
    gateway, staff, shop, smtp, order_sender
):
    product = create_product(staff["catalog"], stock=5, price="10.00")
    buyer = customer(gateway, "en")
    buyer.add_to_cart(product["id"], 1)
    order = buyer.checkout(expect=201).json()
    payment = buyer.post(
        f"/api/v1/orders/{order['id']}/payments/",
        json={"provider": "manual"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=201,
    ).json()
    staff["orders"].post(
        f"/api/v1/orders/{order['id']}/payments/{payment['id']}/received/", expect=200
    )
    buyer.post(f"/api/v1/orders/{order['id']}/cancel/", json={}, expect=200)
    messages = arrived(smtp, buyer.email, 4)
    assert len(messages) == 4
    cancelled = by_subject(messages, f"order {order['number']} cancelled")
    assert "(12.10 EUR) has been cancelled" in cancelled.text
    refunded = by_subject(messages, "refund of 12.10 EUR")
    assert order["number"] in refunded.subject


def test_a_guest_buys_pays_is_shipped_and_reads_every_email(
    gateway, staff, shop, smtp, order_sender
):
    """The guest journey through the gateway: cart → checkout with an email → manual
    payment with the order token → staff received → shipped; the emails carry the figures
    and the access token that works."""
    product = create_product(staff["catalog"], stock=10, price="10.00", weight="0.500")
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    guest = ShopUser(gateway.url)
    cart_token = guest.add_to_cart(product["id"], 3).headers["X-Cart-Token"]
    with shop_shipping(staff["orders"]):
        without_email = guest.post(
            "/api/v1/orders/",
            json={"shipping_address": ADDRESS, "shipping_method": "express"},
            headers={"Idempotency-Key": uuid.uuid4().hex, "X-Cart-Token": cart_token},
        )
        assert without_email.status_code == 400
        placed = guest.post(
            "/api/v1/orders/",
            json={
                "shipping_address": ADDRESS,
                "shipping_method": "express",
                "email": email,
                "language": "en",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex, "X-Cart-Token": cart_token},
            expect=201,
        ).json()
    token, number = placed["access_token"], placed["number"]
    assert placed["user_id"] is None and placed["email"] == email
    # 3 × 10.00 + 21 % = 36.30; express 9.95 + 21 % = 12.04; total 48.34.
    assert placed["total"] == "48.34"
    assert (
        guest.get("/api/v1/cart/", headers={"X-Cart-Token": cart_token}, expect=200).json()["items"]
        == []
    )
    order_token = {"X-Order-Token": token}
    shown = guest.get(f"/api/v1/orders/guest/{number}/", headers=order_token, expect=200)
    assert shown.json()["status"] == "pending"
    guest.get(f"/api/v1/orders/guest/{number}/", headers={"X-Order-Token": "x"}, expect=404)

    payment = guest.post(
        f"/api/v1/orders/guest/{number}/payments/",
        json={"provider": "manual"},
        headers={**order_token, "Idempotency-Key": uuid.uuid4().hex},
        expect=201,
    ).json()
    assert payment["amount"] == "48.34"
    manager = staff["orders"]
    order_id = placed["id"]
    manager.post(f"/api/v1/orders/{order_id}/payments/{payment['id']}/received/", expect=200)
    status = f"/api/v1/orders/{order_id}/status/"
    manager.post(status, json={"status": "processing"}, expect=200)
    manager.post(
        status,
        json={"status": "shipped", "carrier": "SEUR", "tracking_number": "SEUR-778"},
        expect=200,
    )
    shown = guest.get(f"/api/v1/orders/guest/{number}/", headers=order_token, expect=200).json()
    assert (shown["status"], shown["payment_status"]) == ("shipped", "paid")

    messages = arrived(smtp, email, 3)
    assert len(messages) == 3
    confirmation = by_subject(messages, f"order {number} received")
    assert token in confirmation.text and f"/orders/guest/{number}" in confirmation.text
    assert f"3 × {product['name']} ({product['sku']}), 10.00 EUR each: 30.00 EUR" in (
        confirmation.text
    )
    assert "Shipping (Express, SEUR): 12.04 EUR" in confirmation.text
    assert "Total: 48.34 EUR" in confirmation.text
    assert "48.34 EUR" in by_subject(messages, f"payment received for order {number}").text
    shipped = by_subject(messages, f"your order {number} is on its way")
    assert "Tracking number: SEUR-778" in shipped.text
    assert "segOnlineIdentificador=SEUR-778" in shipped.text
    row = shop.query(
        "ecommerce",
        "SELECT user_id, access_token_hash <> '', status FROM orders_order WHERE number = %s",
        number,
    )
    assert list(row) == [(None, 1, "shipped")]
