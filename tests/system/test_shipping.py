"""Shipping through the gateway: quotes for Spain and Germany with a known cart, a
checkout with each method (totals to the cent against the rules), a method gone
between quote and checkout, staff shipping with tracking, the customer reading it."""

import uuid
from decimal import Decimal

import pytest
import requests

from tests.system.shopping import (
    ADDRESS,
    ShopUser,
    create_product,
    product_stock,
    shop_shipping,
    token_buyer,
)

QUOTE = "/api/v1/orders/shipping-methods/"
D = Decimal
# The cart: 1 kettle (24.95, 21 %, 1.2 kg) + 2 books (12.00, 4 %, no weight):
# subtotal 48.95, tax 5.24 + 0.96 = 6.20, total 55.15; 1.2 kg, under economy's 50.00.
CART_TOTAL = D("55.15")
# (code, net price, tax, total) for that cart, cheapest first, per the rules.
ES_QUOTE = [
    ("standard", "4.95", "1.04", "5.99"),  # ≤ 2 kg tier; the cart's highest rate, 21 %
    ("free-over-50", "5.95", "1.25", "7.20"),  # 48.95 < 50.00: not free
    ("express", "9.95", "2.09", "12.04"),  # flat, 21 %
]
DE_QUOTE = ES_QUOTE[:2]  # express serves Spain only


def quoted(customer: ShopUser, country: str, **kwargs) -> list[tuple]:
    options = customer.get(QUOTE, params={"country": country}, expect=200, **kwargs).json()
    return [(o["code"], o["price"], o["tax"], o["total"]) for o in options]


def fill_cart(customer: ShopUser, kettle: dict, book: dict) -> None:
    customer.delete("/api/v1/cart/", expect=200)
    customer.add_to_cart(kettle["id"], 1)
    customer.add_to_cart(book["id"], 2)


def test_quote_checkout_ship_and_track(gateway, shop, staff):
    order_manager = staff["orders"]
    kettle = create_product(staff["catalog"], stock=20, price="24.95", weight="1.200")
    book = create_product(
        staff["catalog"], stock=20, price="12.00", tax_rate="0.04", tax_class="reduced"
    )
    with shop_shipping(order_manager):
        customer = token_buyer(gateway.url)
        fill_cart(customer, kettle, book)
        cart = customer.get("/api/v1/cart/", expect=200).json()
        assert (cart["subtotal"], cart["tax"], cart["total"]) == ("48.95", "6.20", "55.15")
        # The cart for Germany shows the same figures the quote and checkout use there
        # (this shop charges the products' own rates: TAX_BY_DESTINATION is off).
        cart_de = customer.get("/api/v1/cart/", params={"country": "DE"}, expect=200).json()
        assert cart_de["total"] == cart["total"]

        # Quotes: Spain and Germany for her cart; anyone for the rules; a bad country.
        assert quoted(customer, "ES") == ES_QUOTE
        assert quoted(customer, "DE") == DE_QUOTE
        assert quoted(customer, "US") == []
        es = customer.get(QUOTE, params={"country": "ES"}, expect=200).json()
        assert es[0]["note"] == "Products without a weight count as 0 kg."
        assert (es[2]["carrier"], es[2]["estimated_days_min"]) == ("SEUR", 1)
        anonymous = ShopUser(gateway.url)
        assert [o["code"] for o in anonymous.get(QUOTE, params={"country": "ES"}).json()] == [
            "standard",
            "free-over-50",
            "express",
        ]
        assert anonymous.get(QUOTE, params={"country": "XX"}, expect=400).json()["code"] == (
            "invalid"
        )
        # A guest's cart, by its token: 3 kettles are 74.85 net (economy free), 3.6 kg.
        added = anonymous.add_to_cart(kettle["id"], 3)
        token = added.headers["X-Cart-Token"]
        assert quoted(anonymous, "ES", headers={"X-Cart-Token": token}) == [
            ("free-over-50", "0.00", "0.00", "0.00"),
            ("standard", "7.95", "1.67", "9.62"),
            ("express", "9.95", "2.09", "12.04"),
        ]

        # A checkout with each method: its totals are the cart's plus the quote's.
        orders = {}
        for code, price, tax, total in ES_QUOTE:
            fill_cart(customer, kettle, book)
            order = customer.checkout(body={"shipping_method": code}, expect=201).json()
            assert (order["subtotal"], order["tax"]) == ("48.95", "6.20")
            assert (order["shipping_total"], order["shipping_tax"]) == (price, tax)
            assert D(order["total"]) == CART_TOTAL + D(total)
            assert order["shipping_method"]["code"] == code
            orders[code] = order
        fill_cart(customer, kettle, book)
        germany = customer.checkout(
            body={"shipping_address": ADDRESS | {"country": "DE"}, "shipping_method": "standard"},
            expect=201,
        ).json()
        assert (germany["shipping_total"], germany["shipping_tax"], germany["total"]) == (
            "4.95",
            "1.04",
            "61.14",
        )
        assert shop.query(
            "ecommerce",
            "SELECT shipping_method_code, shipping_carrier, shipping_total, shipping_tax, total"
            " FROM orders_order WHERE id = %s",
            orders["express"]["id"],
        ) == [("express", "SEUR", D("9.95"), D("2.09"), D("67.19"))]

        # Refusals change nothing: no method, one that does not serve the country, one
        # deactivated between quote and checkout.
        fill_cart(customer, kettle, book)
        stock_before = product_stock(gateway.url, kettle["id"])
        missing = customer.checkout(expect=400).json()
        assert missing["code"] == "shipping_method_required"
        wrong = customer.checkout(
            body={"shipping_address": ADDRESS | {"country": "DE"}, "shipping_method": "express"},
            expect=409,
        ).json()
        assert wrong["code"] == "shipping_method_unavailable"
        assert quoted(customer, "ES")[2][0] == "express"
        express_id = next(
            m["id"]
            for m in order_manager.get("/api/v1/orders/shipping/methods/", expect=200).json()[
                "results"
            ]
            if m["code"] == "express"
        )
        order_manager.patch(
            f"/api/v1/orders/shipping/methods/{express_id}/", json={"is_active": False}, expect=200
        )
        gone = customer.checkout(body={"shipping_method": "express"}, expect=409).json()
        assert gone["code"] == "shipping_method_unavailable"
        assert product_stock(gateway.url, kettle["id"]) == stock_before
        assert customer.cart_quantities() == {kettle["id"]: 1, book["id"]: 2}

        # A replay after the rates changed: the same totals.
        key = uuid.uuid4().hex
        first = customer.checkout(key, body={"shipping_method": "free-over-50"}, expect=201)
        economy_id = next(
            m["id"]
            for m in order_manager.get("/api/v1/orders/shipping/methods/").json()["results"]
            if m["code"] == "free-over-50"
        )
        order_manager.patch(
            f"/api/v1/orders/shipping/methods/{economy_id}/",
            json={"flat_price": "99.00"},
            expect=200,
        )
        replay = customer.checkout(key, body={"shipping_method": "free-over-50"}, expect=201)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json() and first.json()["total"] == "62.35"

    # Staff ship the express order: carrier and tracking number are required.
    express = orders["express"]
    for status in ("confirmed", "processing"):
        order_manager.post(
            f"/api/v1/orders/{express['id']}/status/", json={"status": status}, expect=200
        )
    refused = order_manager.post(
        f"/api/v1/orders/{express['id']}/status/",
        json={"status": "shipped", "carrier": "SEUR"},
        expect=400,
    ).json()
    assert (refused["code"], list(refused["errors"])) == ("tracking_required", ["tracking_number"])
    order_manager.post(
        f"/api/v1/orders/{express['id']}/status/",
        json={"status": "shipped", "carrier": "SEUR", "tracking_number": "SEUR-0099-1234"},
        expect=200,
    )

    # The customer reads it back.
    shown = customer.get(f"/api/v1/orders/{express['id']}/", expect=200).json()
    assert (shown["status"], shown["tracking_carrier"], shown["tracking_number"]) == (
        "shipped",
        "SEUR",
        "SEUR-0099-1234",
    )
    assert shown["history"][-1]["note"] == "Shipped with SEUR, tracking number SEUR-0099-1234."
    assert (shown["shipping_total"], shown["shipping_tax"], shown["total"]) == (
        "9.95",
        "2.09",
        "67.19",
    )
    # The methods are gone with the test: checkouts elsewhere need none again.
    assert requests.get(f"{gateway.url}{QUOTE}", params={"country": "ES"}, timeout=30).json() == []


@pytest.fixture
def catalog_taxing_by_destination(shop):
    """The catalog restarted with TAX_BY_DESTINATION=1 (its seeded EU rates apply)."""
    catalog = shop.services["catalog"]
    catalog.stop()
    catalog.env["TAX_BY_DESTINATION"] = "1"
    catalog.start()
    yield catalog
    catalog.stop()
    catalog.env.pop("TAX_BY_DESTINATION")
    catalog.start()


def test_tax_by_destination_cart_quote_and_order_agree_to_the_cent(
    gateway, shop, staff, catalog_taxing_by_destination
):
    # Rates at origin 21 % and 4 %; the classes decide abroad (seeded: DE 19 % / 7 %,
    # ES 21 % / 10 %).
    kettle = create_product(staff["catalog"], stock=10, price="24.95", weight="1.200")
    book = create_product(
        staff["catalog"], stock=10, price="12.00", tax_rate="0.04", tax_class="reduced"
    )
    with shop_shipping(staff["orders"]):
        customer = token_buyer(gateway.url)
        expected = {
            # country: (line rates, tax, cart total, standard's shipping tax and total)
            "DE": (["0.19", "0.07"], "6.42", "55.37", "0.94", "5.89"),
            "ES": (["0.21", "0.10"], "7.64", "56.59", "1.04", "5.99"),
        }
        for country, (rates, tax, total, shipping_tax, shipping_total) in expected.items():
            fill_cart(customer, kettle, book)
            cart = customer.get("/api/v1/cart/", params={"country": country}, expect=200).json()
            assert [item["tax_rate"] for item in cart["items"]] == rates
            assert (cart["subtotal"], cart["tax"], cart["total"]) == ("48.95", tax, total)
            standard = customer.get(QUOTE, params={"country": country}, expect=200).json()[0]
            assert (standard["code"], standard["tax"], standard["total"]) == (
                "standard",
                shipping_tax,
                shipping_total,
            )
            order = customer.checkout(
                body={
                    "shipping_address": ADDRESS | {"country": country},
                    "shipping_method": "standard",
                },
                expect=201,
            ).json()
            assert [line["tax_rate"] for line in order["lines"]] == rates
            assert (order["subtotal"], order["tax"], order["shipping_tax"]) == (
                cart["subtotal"],
                cart["tax"],
                standard["tax"],
            )
            assert D(order["total"]) == D(cart["total"]) + D(standard["total"])
            assert shop.query(
                "ecommerce",
                "SELECT tax_rate FROM orders_orderline WHERE order_id = %s ORDER BY id",
                order["id"],
            ) == [(D(rate),) for rate in rates]
        # Without a country the cart shows the products' own rates, as always.
        fill_cart(customer, kettle, book)
        plain = customer.get("/api/v1/cart/", expect=200).json()
        assert [item["tax_rate"] for item in plain["items"]] == ["0.21", "0.04"]
