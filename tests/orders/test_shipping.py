"""Shipping: the rate rules, the quote, the checkout's shipping, and tax by destination
(on the fake catalog, which applies destination rates like the real one; the real
catalog's side is in tests/catalog/test_tax_by_destination.py)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from orders.models import IdempotencyKey, Order, ShippingMethod, ShippingWeightTier, ShippingZone
from orders.services.shipping import shipping_seed
from orders.shipping import CartLineForShipping, cart_for_shipping, shipping_charge
from tests.orders.api import ADDRESS, CUSTOMER_ID, checkout
from tests.orders.fakes import FakeCart
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

QUOTE = "/api/v1/orders/shipping-methods/"
D = Decimal


def make_method(code, *, zones, tiers=(), **fields):
    defaults = {
        "name": code.title(),
        "carrier": "Correos",
        "estimated_days_min": 2,
        "estimated_days_max": 4,
        "rate_kind": "weight" if tiers else "flat",
    }
    method = ShippingMethod.objects.create(code=code, **(defaults | fields))
    method.zones.set(zones)
    for max_weight, price in tiers:
        ShippingWeightTier.objects.create(method=method, max_weight=D(max_weight), price=D(price))
    return ShippingMethod.objects.prefetch_related("zones", "tiers").get(pk=method.pk)


@pytest.fixture
def zones():
    return {
        "spain": ShippingZone.objects.create(name="Spain", countries=["ES"]),
        "eu": ShippingZone.objects.create(name="Rest of the EU", countries=["DE", "FR", "PT"]),
    }


@pytest.fixture
def methods(zones):
    """standard: weight tiers, shipping taxed at the cart's highest rate; express: flat,
    21 %, Spain only; economy: flat, free from 50.00 net."""
    return {
        "standard": make_method(
            "standard",
            zones=[zones["spain"], zones["eu"]],
            tiers=[("2", "4.95"), ("10", "7.95")],
            tax_mode="highest_in_cart",
        ),
        "express": make_method(
            "express",
            zones=[zones["spain"]],
            flat_price=D("9.95"),
            tax_rate=D("0.21"),
            carrier="SEUR",
            estimated_days_min=1,
            estimated_days_max=1,
        ),
        "economy": make_method(
            "economy",
            zones=[zones["spain"], zones["eu"]],
            flat_price=D("5.95"),
            free_above=D("50.00"),
            tax_rate=D("0.21"),
        ),
    }


def cart(*lines):
    """(unit price, quantity, tax rate, kg per unit or None) -> the figures shipping uses."""
    return cart_for_shipping(
        CartLineForShipping(
            unit_price=D(price),
            quantity=qty,
            tax_rate=D(rate),
            weight=None if kg is None else D(kg),
        )
        for price, qty, rate, kg in lines
    )


# --- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kg, price",
    [("0", "4.95"), ("2", "4.95"), ("2.001", "7.95"), ("10", "7.95"), ("10.001", None)],
)
def test_weight_tiers_include_their_upper_bound_and_stop_after_the_last(methods, kg, price):
    charge = shipping_charge(methods["standard"], cart(("10.00", 1, "0.21", kg)))
    assert (None if charge is None else charge.price) == (None if price is None else D(price))


def test_the_weight_is_the_sum_over_lines_and_a_missing_weight_counts_as_zero(methods):
    figures = cart(("1.00", 3, "0.21", "0.700"), ("1.00", 5, "0.21", None))
    assert (figures.weight, figures.weight_incomplete) == (D("2.100"), True)
    assert shipping_charge(methods["standard"], figures).price == D("7.95")
    assert cart(("1.00", 1, "0.21", "1")).weight_incomplete is False


@pytest.mark.parametrize(
    "subtotal, price", [("49.99", "5.95"), ("50.00", "0.00"), ("50.01", "0.00")]
)
def test_free_above_a_net_subtotal_threshold(methods, subtotal, price):
    charge = shipping_charge(methods["economy"], cart((subtotal, 1, "0.21", None)))
    assert (charge.price, charge.tax, charge.total) == (
        D(price),
        (D(price) * D("0.21")).quantize(D("0.01")),
        D(price) + (D(price) * D("0.21")).quantize(D("0.01")),
    )


def test_free_above_combines_with_weight_tiers(zones):
    method = make_method(
        "heavy-free", zones=[zones["spain"]], tiers=[("5", "6.00")], free_above=D("100")
    )
    assert shipping_charge(method, cart(("99.99", 1, "0.21", "5"))).price == D("6.00")
    assert shipping_charge(method, cart(("100.00", 1, "0.21", "5"))).price == D("0.00")
    # Too heavy stays too heavy, free or not: the method cannot carry it.
    assert shipping_charge(method, cart(("100.00", 1, "0.21", "6"))) is None


def test_shipping_tax_fixed_or_the_highest_rate_in_the_cart(methods):
    mixed = cart(("10.00", 1, "0.04", "1"), ("10.00", 1, "0.10", "1"))
    standard = shipping_charge(methods["standard"], mixed)
    assert (standard.tax_rate, standard.tax) == (D("0.10"), D("0.50"))  # 4.95 × 10 % = 0.495
    express = shipping_charge(methods["express"], mixed)
    assert (express.tax_rate, express.tax, express.total) == (D("0.21"), D("2.09"), D("12.04"))


# --- the quote ------------------------------------------------------------------------


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.mark.parametrize("query", [{}, {"country": "XX"}, {"country": "es"}, {"country": "ESP"}])
def test_the_quote_refuses_what_is_not_a_country(anonymous, methods, query):
    body = assert_problem(anonymous.get(QUOTE, query), 400)
    assert "country" in body["errors"]


def test_a_country_no_zone_covers_has_no_methods(anonymous, customer, neighbours, methods):
    assert anonymous.get(QUOTE, {"country": "US"}).json() == []
    neighbours.add_product(1, price="10.00")
    neighbours.fill_cart(CUSTOMER_ID, {1: 1})
    assert customer.get(QUOTE, {"country": "US"}).json() == []


def test_without_a_cart_the_quote_lists_methods_and_rules(anonymous, methods):
    ShippingMethod.objects.filter(code="express").update(is_active=False)
    response = anonymous.get(QUOTE, {"country": "ES"})
    assert response.status_code == 200
    options = response.json()
    assert [option["code"] for option in options] == ["standard", "economy"]  # 4.95, 5.95
    standard = options[0]
    assert (standard["price"], standard["tax"], standard["total"]) == (None, None, None)
    assert standard["rules"]["tiers"] == [
        {"max_weight": "2.000", "price": "4.95"},
        {"max_weight": "10.000", "price": "7.95"},
    ]
    assert options[1]["rules"]["free_above"] == "50.00"


@pytest.fixture
def shop(neighbours):
    neighbours.add_product(1, price="19.99", tax_rate="0.21", stock=10, weight="0.800")
    neighbours.add_product(2, price="3.33", tax_rate="0.10", stock=10, weight=None)
    neighbours.fill_cart(CUSTOMER_ID, {1: 2, 2: 3})  # 39.98 + 9.99 net, 1.6 kg
    return neighbours


def test_the_quote_prices_the_signed_in_customers_cart_cheapest_first(customer, shop, methods):
    options = customer.get(QUOTE, {"country": "ES"}).json()
    assert [(o["code"], o["price"], o["tax"], o["total"]) for o in options] == [
        ("standard", "4.95", "1.04", "5.99"),  # ≤ 2 kg, at the cart's highest rate (21 %)
        ("economy", "5.95", "1.25", "7.20"),  # 49.97 net: not yet free
        ("express", "9.95", "2.09", "12.04"),
    ]
    assert options[0]["note"] == "Products without a weight count as 0 kg."
    assert options[0]["estimated_days_min"] == 2 and options[2]["carrier"] == "SEUR"
    # Germany: no express there.
    assert [o["code"] for o in customer.get(QUOTE, {"country": "DE"}).json()] == [
        "standard",
        "economy",
    ]


def test_the_quote_prices_a_guests_cart_by_its_token(anonymous, shop, methods):
    shop.guest_carts["guest-token-1"] = FakeCart(version=1, lines={1: 3})
    options = anonymous.get(QUOTE, {"country": "ES"}, HTTP_X_CART_TOKEN="guest-token-1").json()
    # 59.97 net: economy is free; 2.4 kg: standard's second tier.
    assert [(o["code"], o["total"]) for o in options] == [
        ("economy", "0.00"),
        ("standard", "9.62"),
        ("express", "12.04"),
    ]
    unknown = anonymous.get(QUOTE, {"country": "ES"}, HTTP_X_CART_TOKEN="nobody").json()
    assert [o["price"] for o in unknown] == [None, None, None]  # no such cart: the rules


def test_the_quote_costs_three_queries_and_two_calls_whatever_the_cart(
    customer, shop, methods, django_assert_max_num_queries
):
    """Methods, zones, tiers; the cart, then its products in one batched call."""
    for product_id in range(10, 40):
        shop.add_product(product_id, weight="0.010")
    for lines in ({1: 1}, dict.fromkeys(range(10, 40), 1)):
        shop.carts.clear()
        shop.fill_cart(CUSTOMER_ID, lines)
        shop.calls.clear()
        with django_assert_max_num_queries(3, using="ecommerce"):
            assert len(customer.get(QUOTE, {"country": "ES"}).json()) == 3
        assert sorted(shop.calls) == [("cart", "read"), ("catalog", "product_list")]


def test_the_quote_leaves_out_a_method_too_heavy_for_the_cart(customer, shop, methods):
    shop.fill_cart(CUSTOMER_ID, {1: 13})  # 10.4 kg
    assert [o["code"] for o in customer.get(QUOTE, {"country": "ES"}).json()] == [
        "economy",
        "express",
    ]


# --- the checkout ---------------------------------------------------------------------


def with_method(code, address=ADDRESS):
    return {"shipping_address": address, "shipping_method": code}


def test_checkout_charges_the_quoted_shipping_and_stores_it(customer, shop, methods):
    quoted = {o["code"]: o for o in customer.get(QUOTE, {"country": "ES"}).json()}
    response = checkout(customer, body=with_method("express"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subtotal"], body["tax"]) == ("49.97", "9.40")  # 8.40 + 1.00 per line
    assert (body["shipping_total"], body["shipping_tax"]) == (
        quoted["express"]["price"],
        quoted["express"]["tax"],
    )
    assert body["total"] == "71.41"  # 49.97 + 9.40 + 9.95 + 2.09
    assert body["shipping_method"] == {
        "code": "express",
        "name": "Express",
        "carrier": "SEUR",
        "tax_rate": "0.21",
    }
    order = Order.objects.get(number=body["number"])
    assert (
        order.shipping_method_code,
        order.shipping_method_name,
        order.shipping_carrier,
        order.shipping_total,
        order.shipping_tax,
        order.total,
    ) == ("express", "Express", "SEUR", D("9.95"), D("2.09"), D("71.41"))
    assert order.total == order.subtotal + order.tax + order.shipping_total + order.shipping_tax
    assert customer.get(f"/api/v1/orders/{order.pk}/").json() == body


@pytest.mark.parametrize("code", ["standard", "economy"])
def test_every_method_checks_out_at_its_quoted_price(customer, shop, methods, code):
    quoted = {o["code"]: o for o in customer.get(QUOTE, {"country": "ES"}).json()}[code]
    body = checkout(customer, body=with_method(code)).json()
    assert (body["shipping_total"], body["shipping_tax"]) == (quoted["price"], quoted["tax"])
    assert D(body["total"]) == D("49.97") + D("9.40") + D(quoted["total"])


def test_a_method_is_required_when_one_serves_the_destination(customer, shop, methods):
    response = checkout(customer)
    body = assert_problem(response, 400, "shipping_method_required")
    assert "shipping_method" in body["errors"]
    assert not Order.objects.exists()
    assert shop.held() == {} and shop.stock(1) == 10
    assert shop.count("catalog", "reserve") == 0


def test_no_method_is_needed_where_none_serves(customer, shop, methods):
    response = checkout(customer, body={"shipping_address": {**ADDRESS, "country": "US"}})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["shipping_method"], body["shipping_total"], body["shipping_tax"]) == (
        None,
        "0.00",
        "0.00",
    )
    assert body["total"] == "59.37"  # today's totals: subtotal + tax


def test_a_method_deactivated_between_quote_and_checkout_is_409_and_nothing_is_held(
    customer, shop, methods
):
    assert "express" in [o["code"] for o in customer.get(QUOTE, {"country": "ES"}).json()]
    ShippingMethod.objects.filter(code="express").update(is_active=False)
    response = checkout(customer, body=with_method("express"))
    assert_problem(response, 409, "shipping_method_unavailable")
    assert not Order.objects.exists()
    assert shop.count("catalog", "reserve") == 0 and shop.held() == {}
    assert (shop.stock(1), shop.stock(2)) == (10, 10)
    assert shop.cart_lines(CUSTOMER_ID) == {1: 2, 2: 3}


@pytest.mark.parametrize(
    "code, country", [("express", "DE"), ("teleport", "ES"), ("standard", "US")]
)
def test_a_method_that_does_not_serve_the_destination_is_409(
    customer, shop, methods, code, country
):
    response = checkout(customer, body=with_method(code, {**ADDRESS, "country": country}))
    assert_problem(response, 409, "shipping_method_unavailable")
    assert not Order.objects.exists() and shop.held() == {}


def test_a_cart_too_heavy_for_the_method_is_409_and_its_stock_goes_back(customer, shop, methods):
    shop.products[1].stock = 20
    shop.fill_cart(CUSTOMER_ID, {1: 13})  # 10.4 kg: above standard's last tier
    response = checkout(customer, body=with_method("standard"))
    assert_problem(response, 409, "shipping_method_unavailable")
    assert not Order.objects.exists()
    assert shop.held() == {} and shop.stock(1) == 20


def test_a_replay_returns_the_same_totals_after_the_rates_changed(customer, shop, methods):
    first = checkout(customer, key="ship-replay-1", body=with_method("express"))
    assert first.status_code == 201
    ShippingMethod.objects.filter(code="express").update(
        flat_price=D("99.00"), tax_rate=D("0.50"), name="Renamed"
    )
    replay = checkout(customer, key="ship-replay-1", body=with_method("express"))
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.json()["total"] == "71.41"
    order = Order.objects.get()
    assert (order.shipping_total, order.shipping_method_name) == (D("9.95"), "Express")
    # Deactivated meanwhile: the stored answer still comes back, nothing is re-run.
    ShippingMethod.objects.filter(code="express").update(is_active=False)
    again = checkout(customer, key="ship-replay-1", body=with_method("express"))
    assert (again.status_code, again.json()) == (201, first.json())
    assert Order.objects.count() == 1


def test_the_method_is_part_of_the_request_a_key_stands_for(customer, shop, methods):
    assert checkout(customer, key="ship-key-2", body=with_method("express")).status_code == 201
    other = checkout(customer, key="ship-key-2", body=with_method("economy"))
    assert_problem(other, 422, "idempotency_key_reused")
    assert IdempotencyKey.objects.get(key="ship-key-2").fingerprint


def test_a_malformed_method_code_is_400_before_anything(customer, shop, methods):
    response = checkout(customer, body=with_method("no spaces allowed"))
    body = assert_problem(response, 400)
    assert "shipping_method" in body["errors"]
    assert not IdempotencyKey.objects.exists() and shop.calls == []


# --- tax by destination (the catalog decides; here its fake) ---------------------------


@pytest.fixture
def destination_rates(shop):
    shop.tax_by_destination = True
    shop.destination_rates = {("DE", "standard"): D("0.19"), ("DE", "reduced"): D("0.07")}
    shop.products[2].tax_class = "reduced"
    return shop


def test_the_destinations_rates_reach_quote_and_order_alike(customer, destination_rates, methods):
    quoted = {o["code"]: o for o in customer.get(QUOTE, {"country": "DE"}).json()}
    # The cart's highest rate in Germany is 19 %: standard's shipping tax follows it.
    assert (quoted["standard"]["tax_rate"], quoted["standard"]["tax"]) == ("0.19", "0.94")
    response = checkout(customer, body=with_method("standard", {**ADDRESS, "country": "DE"}))
    body = response.json()
    assert [line["tax_rate"] for line in body["lines"]] == ["0.19", "0.07"]
    assert body["tax"] == "8.30"  # 39.98 × 19 % = 7.60, 9.99 × 7 % = 0.70
    assert (body["shipping_total"], body["shipping_tax"]) == ("4.95", "0.94")
    assert body["total"] == "64.16"
    order = Order.objects.get()
    assert list(order.lines.values_list("tax_rate", flat=True)) == [D("0.19"), D("0.07")]
    assert destination_rates.reservations[order.number].rates == {1: D("0.19"), 2: D("0.07")}


def test_with_tax_by_destination_off_every_country_pays_the_products_rates(customer, shop, methods):
    shop.destination_rates = {("DE", "standard"): D("0.19")}  # there, but not switched on
    body = checkout(customer, body=with_method("standard", {**ADDRESS, "country": "DE"})).json()
    assert [line["tax_rate"] for line in body["lines"]] == ["0.21", "0.10"]
    assert (body["tax"], body["shipping_tax"]) == ("9.40", "1.04")


# --- staff ------------------------------------------------------------------------------


@pytest.fixture
def shipping_staff(client_for):
    perms = [
        f"orders.{action}_{model}"
        for model in ("shippingzone", "shippingmethod")
        for action in ("add", "change", "delete", "view")
    ]
    return client_for(901, email="shipping@example.com", is_staff=True, perms=perms)


def test_staff_manage_zones_and_methods_over_the_api(shipping_staff, anonymous, customer):
    zone = shipping_staff.post(
        "/api/v1/orders/shipping/zones/",
        {"name": "Iberia", "countries": ["PT", "ES"]},
        format="json",
    )
    assert zone.status_code == 201, zone.json()
    assert ShippingZone.objects.get(name="Iberia").countries == ["ES", "PT"]
    method = shipping_staff.post(
        "/api/v1/orders/shipping/methods/",
        {
            "code": "parcel",
            "name": "Parcel",
            "carrier": "GLS",
            "estimated_days_min": 2,
            "estimated_days_max": 3,
            "zones": [zone.json()["id"]],
            "rate_kind": "weight",
            "tiers": [{"max_weight": "5", "price": "6.50"}],
            "free_above": "80.00",
            "tax_mode": "fixed",
            "tax_rate": "0.21",
        },
        format="json",
    )
    assert method.status_code == 201, method.json()
    saved = ShippingMethod.objects.get(code="parcel")
    assert list(saved.tiers.values_list("max_weight", "price")) == [(D("5.000"), D("6.50"))]
    assert saved.free_above == D("80.00") and saved.is_active

    off = shipping_staff.patch(
        f"/api/v1/orders/shipping/methods/{saved.pk}/", {"is_active": False}, format="json"
    )
    assert off.status_code == 200 and off.json()["tiers"] == [
        {"max_weight": "5.000", "price": "6.50"}
    ]
    saved.refresh_from_db()
    assert saved.is_active is False and saved.tiers.count() == 1
    assert anonymous.get(QUOTE, {"country": "PT"}).json() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"countries": ["XX"]}, "countries"),
        ({"countries": []}, "countries"),
        ({"countries": "ES"}, "countries"),
    ],
)
def test_a_bad_zone_is_400_and_changes_nothing(shipping_staff, body, field):
    response = shipping_staff.post(
        "/api/v1/orders/shipping/zones/", {"name": "Bad", **body}, format="json"
    )
    assert field in assert_problem(response, 400)["errors"]
    assert not ShippingZone.objects.exists()


def test_a_weight_method_without_tiers_or_with_days_backwards_is_400(shipping_staff, zones):
    base = {
        "code": "x",
        "name": "X",
        "carrier": "GLS",
        "estimated_days_min": 1,
        "estimated_days_max": 2,
        "zones": [zones["spain"].pk],
    }
    for change, field in [
        ({"rate_kind": "weight"}, "tiers"),
        ({"estimated_days_min": 5}, "estimated_days_max"),
        ({"flat_price": "-1"}, "flat_price"),
        ({"tax_rate": "1.5"}, "tax_rate"),
    ]:
        response = shipping_staff.post(
            "/api/v1/orders/shipping/methods/", base | change, format="json"
        )
        assert field in assert_problem(response, 400)["errors"], change
    assert not ShippingMethod.objects.exists()


def test_customers_and_anonymous_callers_cannot_manage_shipping(customer, anonymous, zones):
    for client, status in ((customer, 403), (anonymous, 401)):
        assert client.get("/api/v1/orders/shipping/zones/").status_code == status
        response = client.post(
            "/api/v1/orders/shipping/zones/", {"name": "Z", "countries": ["ES"]}, format="json"
        )
        assert response.status_code == status
    assert ShippingZone.objects.count() == 2


def test_the_demo_shipping_is_two_zones_and_three_methods_once():
    assert shipping_seed() == (2, 3)
    assert shipping_seed() == (0, 0)
    assert sorted(ShippingZone.objects.values_list("name", flat=True)) == [
        "Rest of the EU",
        "Spain",
    ]
    assert len(ShippingZone.objects.get(name="Rest of the EU").countries) == 26
    assert sorted(ShippingMethod.objects.values_list("code", flat=True)) == [
        "express",
        "free-over-50",
        "standard",
    ]
