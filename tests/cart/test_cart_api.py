"""The signed-in customer's cart through /api/v1/cart/, with the fake catalog."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from carts.models import Cart, CartLine
from tests.cart.api import CART, ITEMS, add, item_url
from tests.cart.factories import CartFactory, CartLineFactory
from tests.cart.state import carts_snapshot, user_quantities
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

# --- reading ---------------------------------------------------------------------------


def test_without_a_cart_the_customer_sees_an_empty_cart(customer, catalog, settings):
    response = customer.get(CART)
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "subtotal": "0.00",
        "tax": "0.00",
        "total": "0.00",
        "item_count": 0,
        "currency": settings.SHOP_CURRENCY,
        "cart_token": None,
    }
    assert "X-Cart-Token" not in response
    assert catalog.product_requests == 0  # nothing to ask about
    assert not Cart.objects.exists()  # reading creates nothing


def test_each_line_is_enriched_from_the_catalog(customer, catalog):
    product = catalog.add_product(price="19.99", tax_rate="0.21", stock=5)
    line = CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=3
    )
    response = customer.get(CART)
    assert response.status_code == 200
    assert response.json()["items"] == [
        {
            "id": line.id,
            "product_id": product["id"],
            "sku": product["sku"],
            "name": product["name"],
            "unit_price": "19.99",
            "tax_rate": "0.21",
            "quantity": 3,
            "line_total": "59.97",
            "available": True,
        }
    ]


def test_totals_are_sums_of_lines_with_tax_rounded_half_up_per_line(customer, catalog):
    prices = [("19.99", "0.21", 3), ("4.10", "0.04", 2), ("0.05", "0.10", 1), ("7.35", "0.10", 7)]
    cart = CartFactory(user_id=customer.user_id)
    for price, rate, quantity in prices:
        product = catalog.add_product(price=price, tax_rate=rate)
        CartLineFactory(cart=cart, product_id=product["id"], quantity=quantity)

    body = customer.get(CART).json()

    cent = Decimal("0.01")
    subtotal = sum(Decimal(p) * q for p, _, q in prices)
    tax = sum(
        (Decimal(p) * q * Decimal(r)).quantize(cent, rounding=ROUND_HALF_UP) for p, r, q in prices
    )
    assert Decimal(body["subtotal"]) == subtotal == Decimal("119.67")
    assert Decimal(body["tax"]) == tax
    assert Decimal(body["total"]) == subtotal + tax
    assert body["subtotal"] == "119.67" and body["tax"] == "18.08" and body["total"] == "137.75"
    for item in body["items"]:
        assert Decimal(item["line_total"]) == Decimal(item["unit_price"]) * item["quantity"]
    assert body["item_count"] == 13


def test_available_is_false_when_the_stock_is_short_or_the_product_withdrawn(customer, catalog):
    short = catalog.add_product(stock=2)
    withdrawn = catalog.add_product(is_active=False)
    fine = catalog.add_product(stock=3)
    cart = CartFactory(user_id=customer.user_id)
    for product in (short, withdrawn, fine):
        CartLineFactory(cart=cart, product_id=product["id"], quantity=3)
    items = {item["product_id"]: item for item in customer.get(CART).json()["items"]}
    assert items[short["id"]]["available"] is False
    assert items[withdrawn["id"]]["available"] is False
    assert items[fine["id"]]["available"] is True


def test_a_line_whose_product_vanished_is_shown_unpriced_and_left_out_of_totals(customer, catalog):
    kept = catalog.add_product(price="2.00", tax_rate="0.00")
    cart = CartFactory(user_id=customer.user_id)
    CartLineFactory(cart=cart, product_id=kept["id"], quantity=1)
    gone = CartLineFactory(cart=cart, product_id=999, quantity=2)
    body = customer.get(CART).json()
    assert body["items"][1] == {
        "id": gone.id,
        "product_id": 999,
        "sku": None,
        "name": None,
        "unit_price": None,
        "tax_rate": None,
        "quantity": 2,
        "line_total": None,
        "available": False,
    }
    assert body["subtotal"] == "2.00" and body["total"] == "2.00"


@pytest.mark.parametrize("line_count", [1, 30])
def test_a_cart_read_is_one_catalog_call_and_a_fixed_number_of_queries(
    customer, catalog, line_count, django_assert_max_num_queries
):
    cart = CartFactory(user_id=customer.user_id)
    for _ in range(line_count):
        product = catalog.add_product()
        CartLineFactory(cart=cart, product_id=product["id"], quantity=1)
    catalog.forget_requests()
    with django_assert_max_num_queries(1, using="ecommerce"):  # the cart joined to its lines
        response = customer.get(CART)
    assert response.status_code == 200
    assert len(response.json()["items"]) == line_count
    assert catalog.product_requests == 1


def test_a_bad_access_token_is_a_401(api_client, catalog):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_problem(api_client.get(CART), 401, "token_not_valid")


# --- adding ----------------------------------------------------------------------------


def test_adding_2_then_1_of_a_product_gives_one_line_of_3(customer, catalog):
    product = catalog.add_product(stock=10)
    first = add(customer, product["id"], 2)
    assert first.status_code == 201
    second = add(customer, product["id"], 1)
    assert second.status_code == 200
    assert [(i["product_id"], i["quantity"]) for i in second.json()["items"]] == [
        (product["id"], 3)
    ]
    assert user_quantities(customer.user_id) == {product["id"]: 3}
    assert Cart.objects.get(user_id=customer.user_id).version == 2


def test_a_write_asks_the_catalog_once_and_stays_within_its_query_budget(
    customer, catalog, django_assert_max_num_queries
):
    cart = CartFactory(user_id=customer.user_id)
    for _ in range(10):
        CartLineFactory(cart=cart, product_id=catalog.add_product()["id"])
    product = catalog.add_product()
    catalog.forget_requests()
    # lock the cart with its lines, insert the line, bump the version (+ savepoint)
    with django_assert_max_num_queries(5, using="ecommerce"):
        assert add(customer, product["id"], 1).status_code == 201
    assert catalog.product_requests == 1


def test_one_more_than_the_stock_is_a_409_and_changes_nothing(customer, catalog):
    product = catalog.add_product(stock=3)
    assert add(customer, product["id"], 2).status_code == 201
    before = carts_snapshot()
    body = assert_problem(add(customer, product["id"], 2), 409, "insufficient_stock")
    assert body["available"] == 3
    assert body["requested"] == 4
    assert carts_snapshot() == before
    assert user_quantities(customer.user_id) == {product["id"]: 2}


def test_exactly_the_stock_is_accepted(customer, catalog):
    product = catalog.add_product(stock=4)
    assert add(customer, product["id"], 4).status_code == 201


@pytest.mark.parametrize(
    "quantity",
    [0, -1, "abc", 10**9, 2.5, 3.0, True, None, "3", [], {}, 100],
    ids=repr,
)
def test_bad_quantities_are_a_400_and_change_nothing(customer, catalog, quantity):
    product = catalog.add_product()
    CartLineFactory(cart=CartFactory(user_id=customer.user_id), product_id=product["id"])
    before = carts_snapshot()
    body = assert_problem(add(customer, product["id"], quantity), 400, "invalid")
    assert "quantity" in body["errors"]
    assert carts_snapshot() == before


@pytest.mark.parametrize("product_id", [0, -5, "x", 1.5, None, 2**63])
def test_bad_product_ids_are_a_400(customer, catalog, product_id):
    body = assert_problem(add(customer, product_id, 1), 400, "invalid")
    assert "product_id" in body["errors"]
    assert not Cart.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"quantity": 1}, {"product_id": 1}, [], "text", {"product_id": 1, "quantity": 1}],
    ids=["empty", "no-product", "no-quantity", "list", "string", "unknown-product"],
)
def test_malformed_bodies_are_a_400_and_create_no_cart(customer, catalog, body):
    response = customer.post(ITEMS, body, format="json")
    assert response.status_code == 400
    assert not Cart.objects.exists()


def test_an_unknown_product_is_a_400_and_changes_nothing(customer, catalog):
    CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=catalog.add_product()["id"]
    )
    before = carts_snapshot()
    body = assert_problem(add(customer, 424242, 1), 400, "unknown_product")
    assert body["product_id"] == 424242
    assert carts_snapshot() == before


def test_an_inactive_product_is_a_400(customer, catalog):
    product = catalog.add_product(is_active=False)
    assert_problem(add(customer, product["id"], 1), 400, "inactive_product")
    assert not Cart.objects.exists()


def test_a_line_may_not_grow_past_the_per_line_maximum(customer, catalog, settings):
    product = catalog.add_product(stock=1000)
    assert add(customer, product["id"], settings.CART_MAX_LINE_QUANTITY).status_code == 201
    before = carts_snapshot()
    body = assert_problem(add(customer, product["id"], 1), 400, "quantity_too_large")
    assert body["max_quantity"] == settings.CART_MAX_LINE_QUANTITY
    assert carts_snapshot() == before


def test_a_cart_holds_at_most_the_configured_number_of_lines(customer, catalog, settings):
    settings.CART_MAX_LINES = 2
    products = [catalog.add_product() for _ in range(3)]
    assert add(customer, products[0]["id"], 1).status_code == 201
    assert add(customer, products[1]["id"], 1).status_code == 201
    before = carts_snapshot()
    assert_problem(add(customer, products[2]["id"], 1), 400, "too_many_lines")
    assert carts_snapshot() == before
    # More of a product already in the cart is still fine.
    assert add(customer, products[0]["id"], 1).status_code == 200


# --- changing and removing lines ----------------------------------------------------------


def test_patch_sets_the_quantity(customer, catalog):
    product = catalog.add_product(stock=10)
    line = CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=5
    )
    response = customer.patch(item_url(line.id), {"quantity": 2})
    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 2
    line.refresh_from_db()
    assert line.quantity == 2
    assert Cart.objects.get(pk=line.cart_id).version == 2


def test_patch_beyond_the_stock_is_a_409_and_changes_nothing(customer, catalog):
    product = catalog.add_product(stock=6)
    line = CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=5
    )
    before = carts_snapshot()
    assert_problem(customer.patch(item_url(line.id), {"quantity": 7}), 409, "insufficient_stock")
    assert carts_snapshot() == before


@pytest.mark.parametrize("quantity", [0, -1, "abc", 10**9, 1.5, False])
def test_patch_with_a_bad_quantity_is_a_400(customer, catalog, quantity):
    product = catalog.add_product()
    line = CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=product["id"], quantity=5
    )
    before = carts_snapshot()
    assert_problem(customer.patch(item_url(line.id), {"quantity": quantity}), 400, "invalid")
    assert_problem(customer.patch(item_url(line.id), {}), 400, "invalid")
    assert carts_snapshot() == before


def test_another_customers_line_is_a_404_and_stays_unchanged(customer, other_customer, catalog):
    product = catalog.add_product()
    theirs = CartLineFactory(
        cart=CartFactory(user_id=other_customer.user_id), product_id=product["id"], quantity=4
    )
    CartLineFactory(cart=CartFactory(user_id=customer.user_id), product_id=product["id"])
    before = carts_snapshot()
    assert_problem(customer.patch(item_url(theirs.id), {"quantity": 1}), 404, "line_not_found")
    assert_problem(customer.delete(item_url(theirs.id)), 404, "line_not_found")
    assert carts_snapshot() == before


@pytest.mark.parametrize("line_id", [987654, 2**70])
def test_a_line_that_does_not_exist_is_a_404(customer, catalog, line_id):
    CartFactory(user_id=customer.user_id)
    assert_problem(customer.patch(item_url(line_id), {"quantity": 1}), 404, "line_not_found")
    assert_problem(customer.delete(item_url(line_id)), 404, "line_not_found")


def test_delete_removes_one_line(customer, catalog):
    cart = CartFactory(user_id=customer.user_id)
    keep = CartLineFactory(cart=cart, product_id=catalog.add_product()["id"])
    drop = CartLineFactory(cart=cart, product_id=catalog.add_product()["id"])
    response = customer.delete(item_url(drop.id))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [keep.id]
    assert list(CartLine.objects.values_list("pk", flat=True)) == [keep.id]
    cart.refresh_from_db()
    assert cart.version == 2


def test_delete_of_the_cart_clears_every_line(customer, catalog, settings):
    cart = CartFactory(user_id=customer.user_id)
    for _ in range(3):
        CartLineFactory(cart=cart, product_id=catalog.add_product()["id"])
    response = customer.delete(CART)
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["total"] == "0.00"
    assert not CartLine.objects.exists()
    cart.refresh_from_db()
    assert cart.version == 2


def test_clearing_without_a_cart_is_harmless(customer, catalog):
    assert customer.delete(CART).status_code == 200
    assert not Cart.objects.exists()


# --- the catalog is down ---------------------------------------------------------------


def test_when_the_catalog_is_down_writes_are_503_and_nothing_is_written(customer, catalog):
    product = catalog.add_product()
    cart = CartFactory(user_id=customer.user_id)
    line = CartLineFactory(cart=cart, product_id=product["id"], quantity=2)
    catalog.stop()
    before = carts_snapshot()
    assert_problem(add(customer, product["id"], 1), 503, "service_unavailable")
    assert_problem(customer.patch(item_url(line.id), {"quantity": 1}), 503, "service_unavailable")
    assert_problem(customer.delete(item_url(line.id)), 503, "service_unavailable")
    assert carts_snapshot() == before


def test_when_the_catalog_is_down_a_first_add_creates_no_cart(customer, catalog):
    product = catalog.add_product()
    catalog.stop()
    assert_problem(add(customer, product["id"], 1), 503, "service_unavailable")
    assert not Cart.objects.exists()


def test_when_the_catalog_is_down_a_read_is_503(customer, catalog):
    CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=catalog.add_product()["id"]
    )
    catalog.stop()
    body = assert_problem(customer.get(CART), 503, "service_unavailable")
    assert body["service"] == "catalog"


def test_clearing_needs_no_catalog(customer, catalog):
    CartLineFactory(
        cart=CartFactory(user_id=customer.user_id), product_id=catalog.add_product()["id"]
    )
    catalog.stop()
    assert customer.delete(CART).status_code == 200
    assert not CartLine.objects.exists()


def test_a_catalog_breaking_its_contract_is_a_503_not_a_500(customer, catalog, settings):
    # Wrong service credential: the catalog answers 403, which the cart cannot fix.
    settings.SERVICE_TOKEN = "not-the-catalog-s"
    product = catalog.add_product()
    assert_problem(add(customer, product["id"], 1), 503, "service_unavailable")
    assert not Cart.objects.exists()


# --- a destination country (tax by destination) ------------------------------------------


def test_the_cart_for_a_destination_shows_the_catalogs_rates_for_it(customer, catalog):
    lamp = catalog.add_product(price="39.98", tax_rate="0.21", stock=5)
    book = catalog.add_product(price="3.33", tax_rate="0.04", stock=5)
    catalog.destination_rates["DE"] = {lamp["id"]: "0.19", book["id"]: "0.07"}
    cart = CartFactory(user_id=customer.user_id)
    CartLineFactory(cart=cart, product_id=lamp["id"], quantity=1)
    CartLineFactory(cart=cart, product_id=book["id"], quantity=3)

    spain = customer.get(CART).json()
    assert (spain["tax"], spain["total"]) == ("8.80", "58.77")  # 8.40 + 0.40
    germany = customer.get(CART, {"country": "DE"}).json()
    assert [item["tax_rate"] for item in germany["items"]] == ["0.19", "0.07"]
    assert (germany["subtotal"], germany["tax"], germany["total"]) == ("49.97", "8.30", "58.27")
    assert any("country=DE" in path for path in catalog.requests)
    assert CartLine.objects.filter(cart=cart).count() == 2  # a read changes nothing


@pytest.mark.parametrize("country", ["XX", "de", "ESP", ""])
def test_a_country_that_is_not_one_is_400(customer, catalog, country):
    product = catalog.add_product()
    CartLineFactory(cart=CartFactory(user_id=customer.user_id), product_id=product["id"])
    assert "country" in assert_problem(customer.get(CART, {"country": country}), 400)["errors"]
    assert catalog.product_requests == 0
