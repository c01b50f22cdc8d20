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
from tests.system.shopping import ShopUser, create_product, shop_shipping

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
