"""Paying orders through the gateway, on the real processes and MariaDB.

The manual provider from checkout to a confirmed order; the stripe provider against the
stand-in of Stripe's API (tests/support/stripe_standin.py, started by conftest.py and
named to the orders service in STRIPE_API_BASE), with webhooks signed as Stripe signs
them, forged, stale and replayed; a paid order cancelled and refunded; an unpaid card
order expiring and giving its stock back.
"""

import json
import time
import uuid

from tests.support.problems import assert_problem
from tests.system.conftest import STRIPE_WEBHOOK_SECRET
from tests.system.shopping import ShopUser, create_product, product_stock, token_buyer

WEBHOOK = "/api/v1/orders/payments/webhooks/stripe/"


def placed_order(gateway, catalog_manager, *, stock=5, quantity=2):
    product = create_product(catalog_manager, stock=stock, price="10.00")
    buyer = token_buyer(gateway.url)
    buyer.add_to_cart(product["id"], quantity)
    order = buyer.checkout(expect=201).json()
    return buyer, product, order


def pay(buyer: ShopUser, order: dict, provider: str, key: str | None = None):
    return buyer.post(
        f"/api/v1/orders/{order['id']}/payments/",
        json={"provider": provider},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def deliver(gateway, event: dict, *, secret=STRIPE_WEBHOOK_SECRET, timestamp=None, header=None):
    """A webhook as Stripe posts it: no token, only its signature."""
    from tests.support.stripe_standin import StripeStandIn

    body, signature = StripeStandIn.signed(event, secret, timestamp)
    anonymous = ShopUser(gateway.url)
    return anonymous.post(
        WEBHOOK,
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": header if header is not None else signature,
        },
    )


def order_row(shop, order_id):
    return shop.query(
        "ecommerce", "SELECT status, payment_status FROM orders_order WHERE id = %s", order_id
    )[0]


def test_manual_payment_received_by_staff_confirms_the_order(gateway, staff, shop):
    buyer, _, order = placed_order(gateway, staff["catalog"])
    payment = pay(buyer, order, "manual")
    assert payment.status_code == 201, payment.text
    body = payment.json()
    assert (body["status"], body["amount"]) == ("requires_action", order["total"])
    assert order["number"] in body["instructions"]

    assert_problem(
        buyer.post(f"/api/v1/orders/{order['id']}/payments/{body['id']}/received/"),
        403,
    )
    received = staff["orders"].post(
        f"/api/v1/orders/{order['id']}/payments/{body['id']}/received/", expect=200
    )
    assert received.json()["status"] == "succeeded"
    shown = buyer.get(f"/api/v1/orders/{order['id']}/", expect=200).json()
    assert (shown["status"], shown["payment_status"]) == ("confirmed", "paid")
    assert shown["history"][-1]["note"].startswith("payment: manual ")
    assert order_row(shop, order["id"]) == ("confirmed", "paid")


def test_stripe_webhooks_signed_forged_stale_and_replayed(gateway, staff, shop, stripe_standin):
    buyer, _, order = placed_order(gateway, staff["catalog"])
    answer = pay(buyer, order, "stripe")
    assert answer.status_code == 201, answer.text
    payment = answer.json()
    intent = stripe_standin.intents[payment["provider_reference"]]
    assert payment["client_secret"] == intent["client_secret"]
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(intent["id"]))

    forged = deliver(gateway, event, secret="whsec_not_ours")
    assert_problem(forged, 400, "webhook_invalid")
    assert_problem(deliver(gateway, event, header="t=1,v1=00"), 400, "webhook_invalid")
    stale = deliver(gateway, event, timestamp=int(time.time()) - 600)
    assert_problem(stale, 400, "webhook_invalid")
    assert order_row(shop, order["id"]) == ("pending", "unpaid")

    signed = deliver(gateway, event)
    assert signed.status_code == 200, signed.text
    assert signed.json()["duplicate"] is False
    replayed = deliver(gateway, event)
    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True
    assert order_row(shop, order["id"]) == ("confirmed", "paid")
    events = shop.query(
        "ecommerce", "SELECT COUNT(*) FROM orders_paymentevent WHERE event_id = %s", event["id"]
    )
    assert events == [(1,)]
    confirmations = shop.query(
        "ecommerce",
        "SELECT COUNT(*) FROM orders_statuschange WHERE order_id = %s AND to_status = 'confirmed'",
        order["id"],
    )
    assert confirmations == [(1,)]


def test_cancelling_a_paid_order_refunds_it(gateway, staff, shop, stripe_standin):
    buyer, product, order = placed_order(gateway, staff["catalog"], stock=5, quantity=2)
    reference = pay(buyer, order, "stripe").json()["provider_reference"]
    event = stripe_standin.event("payment_intent.succeeded", stripe_standin.succeed(reference))
    assert deliver(gateway, event).status_code == 200
    assert product_stock(gateway.url, product["id"]) == 3

    cancelled = buyer.post(f"/api/v1/orders/{order['id']}/cancel/", json={}, expect=200).json()
    assert (cancelled["status"], cancelled["payment_status"]) == ("cancelled", "refunded")
    payments = buyer.get(f"/api/v1/orders/{order['id']}/payments/", expect=200).json()
    assert payments[0]["refunded_amount"] == order["total"]
    assert [refund["status"] for refund in payments[0]["refunds"]] == ["succeeded"]
    assert (
        stripe_standin.intents[reference]["amount_refunded"]
        == stripe_standin.intents[reference]["amount"]
    )
    assert product_stock(gateway.url, product["id"]) == 5
    stats = staff["orders"].get("/api/v1/orders/stats/", expect=200).json()
    assert float(stats["refunded"]) >= float(order["total"])


def test_an_unpaid_card_order_expires_and_gives_its_stock_back(
    gateway, staff, shop, stripe_standin
):
    buyer, product, order = placed_order(gateway, staff["catalog"], stock=4, quantity=3)
    reference = pay(buyer, order, "stripe").json()["provider_reference"]
    assert product_stock(gateway.url, product["id"]) == 1
    # Placed "31 minutes ago": the order is past ORDER_PAYMENT_TIMEOUT_MINUTES (30).
    shop.query(
        "ecommerce",
        "UPDATE orders_order SET created_at = UTC_TIMESTAMP(6) - INTERVAL 31 MINUTE WHERE id = %s",
        order["id"],
    )
    report = shop.manage("orders", "reconcile_checkouts")
    assert "unpaid orders expired: 1" in report.stdout, report.stdout
    shown = buyer.get(f"/api/v1/orders/{order['id']}/", expect=200).json()
    assert (shown["status"], shown["payment_status"]) == ("cancelled", "unpaid")
    assert "not paid within 30 minutes" in shown["history"][-1]["note"]
    assert stripe_standin.intents[reference]["status"] == "canceled"
    assert product_stock(gateway.url, product["id"]) == 4
    # The customer cannot pay it any more.
    assert_problem(pay(buyer, order, "manual"), 409, "order_not_payable")


def test_the_webhook_needs_no_token_but_everything_else_does(gateway):
    anonymous = ShopUser(gateway.url)
    unsigned = anonymous.post(WEBHOOK, data=json.dumps({"id": "evt_x"}))
    assert_problem(unsigned, 400, "webhook_invalid")
    assert_problem(anonymous.get("/api/v1/orders/1/payments/"), 401)
