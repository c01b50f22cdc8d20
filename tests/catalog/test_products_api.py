"""The public product API: browsing, filters, staff writes, permissions, query budgets."""

from decimal import Decimal

import pytest

from catalog.models import Product
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

PRODUCTS = "/api/v1/catalog/products/"


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [product["sku"] for product in response.json()["results"]]


@pytest.fixture
def shelf():
    """A small tree (home > kitchen > knives; garden) with products in each."""
    home = CategoryFactory(name="Home", slug="home")
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen", parent=home)
    knives = CategoryFactory(name="Knives", slug="knives", parent=kitchen)
    garden = CategoryFactory(name="Garden", slug="garden")
    return {
        "lamp": ProductFactory(sku="LAMP", name="Desk lamp", category=home, price="30.00"),
        "pan": ProductFactory(
            sku="PAN", name="Paella pan", category=kitchen, price="25.00", stock=0
        ),
        "knife": ProductFactory(
            sku="KNIFE",
            name="Chef knife",
            category=knives,
            price="60.00",
            description="Forged steel blade",
        ),
        "hose": ProductFactory(sku="HOSE", name="Garden hose", category=garden, price="15.50"),
        "old": ProductFactory(
            sku="OLD", name="Old lamp", category=home, price="5.00", is_active=False
        ),
    }


class TestBrowsing:
    def test_anonymous_sees_active_products_with_every_public_field(self, api_client, shelf):
        response = api_client.get(PRODUCTS)
        body = response.json()
        assert body["count"] == 4
        assert set(body) == {"count", "next", "previous", "results"}
        knife = next(p for p in body["results"] if p["sku"] == "KNIFE")
        assert set(knife) == {
            "id",
            "sku",
            "slug",
            "name",
            "description",
            "category",
            "price",
            "tax_rate",
            "tax_class",
            "stock",
            "in_stock",
            "is_active",
            "image_url",
            "weight",
            "created_at",
            "updated_at",
        }
        assert knife["price"] == "60.00"
        assert knife["tax_rate"] == "0.21"
        assert knife["category"] == shelf["knife"].category_id
        assert knife["in_stock"] is True

    def test_inactive_products_are_hidden_from_customers_and_visible_to_staff(
        self, api_client, customer_client, staff_client, shelf
    ):
        old = shelf["old"]
        assert "OLD" not in skus(api_client.get(PRODUCTS))
        assert "OLD" not in skus(customer_client.get(PRODUCTS))
        assert_problem(customer_client.get(f"{PRODUCTS}{old.pk}/"), 404)
        assert "OLD" in skus(staff_client.get(PRODUCTS))
        assert staff_client.get(f"{PRODUCTS}{old.pk}/").json()["is_active"] is False

    def test_order_managers_with_view_permission_see_inactive_products(self, client_for, shelf):
        reader = client_for(7, is_staff=True, perms=["catalog.view_product"])
        assert "OLD" in skus(reader.get(PRODUCTS))

    def test_detail_by_id(self, api_client, shelf):
        response = api_client.get(f"{PRODUCTS}{shelf['lamp'].pk}/")
        assert response.status_code == 200
        assert response.json()["sku"] == "LAMP"

    @pytest.mark.parametrize("pk", ["999999", "abc", "99999999999999999999999"])
    def test_unknown_or_malformed_id_is_a_404_problem(self, api_client, pk):
        assert_problem(api_client.get(f"{PRODUCTS}{pk}/"), 404)


class TestFilters:
    def test_category_includes_every_subcategory(self, api_client, shelf):
        assert sorted(skus(api_client.get(PRODUCTS, {"category": "home"}))) == [
            "KNIFE",
            "LAMP",
            "PAN",
        ]
        assert sorted(skus(api_client.get(PRODUCTS, {"category": "kitchen"}))) == ["KNIFE", "PAN"]
        assert skus(api_client.get(PRODUCTS, {"category": "knives"})) == ["KNIFE"]

    def test_unknown_category_matches_nothing(self, api_client, shelf):
        assert skus(api_client.get(PRODUCTS, {"category": "no-such-thing"})) == []

    def test_price_range_is_inclusive(self, api_client, shelf):
        response = api_client.get(PRODUCTS, {"min_price": "15.50", "max_price": "30"})
        assert sorted(skus(response)) == ["HOSE", "LAMP", "PAN"]

    def test_in_stock(self, api_client, shelf):
        assert "PAN" not in skus(api_client.get(PRODUCTS, {"in_stock": "true"}))
        assert skus(api_client.get(PRODUCTS, {"in_stock": "false"})) == ["PAN"]

    # Committed rows: InnoDB's FULLTEXT index (the search on MariaDB) sees a row only
    # once its transaction commits, so the search tests cannot run inside one.
    @pytest.mark.django_db(transaction=True, databases=["default", "ecommerce"])
    def test_search_looks_in_name_description_and_sku(self, api_client, shelf):
        assert skus(api_client.get(PRODUCTS, {"search": "paella"})) == ["PAN"]
        assert skus(api_client.get(PRODUCTS, {"search": "forged steel"})) == ["KNIFE"]
        assert skus(api_client.get(PRODUCTS, {"search": "hose"})) == ["HOSE"]
        assert sorted(skus(api_client.get(PRODUCTS, {"search": "LAMP"}))) == ["LAMP"]

    def test_ids(self, api_client, shelf):
        wanted = f"{shelf['lamp'].pk}, {shelf['hose'].pk},{shelf['old'].pk}"
        assert sorted(skus(api_client.get(PRODUCTS, {"ids": wanted}))) == ["HOSE", "LAMP"]
        assert skus(api_client.get(PRODUCTS, {"ids": "0"})) == []
        assert len(skus(api_client.get(PRODUCTS, {"ids": ""}))) == 4

    @pytest.mark.parametrize(
        "params",
        [
            {"min_price": "abc"},
            {"max_price": "NaN"},
            {"min_price": "1e400"},
            {"ids": "1,two"},
            {"ids": "-1"},
            {"ids": ",".join(str(n) for n in range(1, 102))},
            {"ordering": "sku"},
            {"search": "x" * 101},
        ],
    )
    def test_invalid_filter_values_are_400_problems(self, api_client, shelf, params):
        body = assert_problem(api_client.get(PRODUCTS, params), 400, "invalid")
        assert set(body["errors"]) == set(params)

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            ("price", ["HOSE", "PAN", "LAMP", "KNIFE"]),
            ("-price", ["KNIFE", "LAMP", "PAN", "HOSE"]),
            ("name", ["KNIFE", "LAMP", "HOSE", "PAN"]),
            ("-name", ["PAN", "HOSE", "LAMP", "KNIFE"]),
        ],
    )
    def test_ordering(self, api_client, shelf, ordering, expected):
        assert skus(api_client.get(PRODUCTS, {"ordering": ordering})) == expected

    def test_newest_first_and_ties_broken_by_id(self, api_client, db):
        first, second, third = ProductFactory.create_batch(3, price="9.99")
        Product.objects.update(created_at=first.created_at)  # all at the same instant
        newest = skus(api_client.get(PRODUCTS, {"ordering": "-created_at"}))
        assert newest == [first.sku, second.sku, third.sku]
        assert skus(api_client.get(PRODUCTS, {"ordering": "price"})) == newest


class TestPagination:
    def test_page_size_is_capped_at_100(self, api_client):
        ProductFactory.create_batch(105)
        body = api_client.get(PRODUCTS, {"page_size": 1000000}).json()
        assert body["count"] == 105
        assert len(body["results"]) == 100
        assert body["next"]

    def test_pages_do_not_overlap(self, api_client):
        ProductFactory.create_batch(7, name="Same name")
        first = skus(api_client.get(PRODUCTS, {"page_size": 4}))
        second = skus(api_client.get(PRODUCTS, {"page_size": 4, "page": 2}))
        assert len(set(first) | set(second)) == 7


class TestQueryBudget:
    @pytest.mark.parametrize("page_size", [5, 100])
    def test_list_costs_the_same_whatever_the_page_size(
        self, api_client, django_assert_max_num_queries, page_size
    ):
        category = CategoryFactory()
        ProductFactory.create_batch(120, category=category)
        # COUNT + one page; a category filter adds one read of the (small) category table.
        with django_assert_max_num_queries(2, using="ecommerce"):
            assert len(skus(api_client.get(PRODUCTS, {"page_size": page_size}))) == page_size
        with django_assert_max_num_queries(3, using="ecommerce"):
            response = api_client.get(
                PRODUCTS, {"page_size": page_size, "category": category.slug, "ordering": "-price"}
            )
            assert len(skus(response)) == page_size

    def test_staff_list_costs_no_more(self, staff_client, django_assert_max_num_queries):
        ProductFactory.create_batch(30)
        with django_assert_max_num_queries(2, using="ecommerce"):
            assert staff_client.get(PRODUCTS, {"page_size": 30}).status_code == 200

    def test_detail_is_one_query(self, api_client, django_assert_max_num_queries):
        product = ProductFactory(category=CategoryFactory())
        with django_assert_max_num_queries(1, using="ecommerce"):
            assert api_client.get(f"{PRODUCTS}{product.pk}/").status_code == 200


def new_product(**overrides) -> dict:
    return {
        "sku": "NEW-1",
        "name": "New kettle",
        "price": "19.99",
        "tax_rate": "0.21",
        "stock": 3,
        **overrides,
    }


class TestStaffWrites:
    def test_create_fills_slug_and_ignores_derived_fields(self, staff_client):
        response = staff_client.post(
            PRODUCTS,
            new_product(created_at="2000-01-01T00:00:00Z", in_stock=False, id=12345),
        )
        assert response.status_code == 201, response.content
        body = response.json()
        product = Product.objects.get(sku="NEW-1")
        assert body["id"] == product.pk != 12345
        assert product.slug == body["slug"] == "new-kettle-new-1"
        assert product.created_at.year > 2000
        assert body["in_stock"] is True
        assert product.price == Decimal("19.99") and product.stock == 3

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"price": "-1.00"}, "price"),
            ({"stock": -1}, "stock"),
            ({"tax_rate": "1.5"}, "tax_rate"),
            ({"tax_rate": "-0.1"}, "tax_rate"),
            ({"tax_rate": "0.12345"}, "tax_rate"),
            ({"price": "abc"}, "price"),
            ({"stock": 2**31}, "stock"),
            ({"weight": "-2"}, "weight"),
            ({"category": 999999}, "category"),
            ({"image_url": "not a url"}, "image_url"),
            ({"sku": ""}, "sku"),
        ],
    )
    def test_invalid_values_are_400_and_nothing_is_created(self, staff_client, overrides, field):
        body = assert_problem(staff_client.post(PRODUCTS, new_product(**overrides)), 400, "invalid")
        assert field in body["errors"]
        assert not Product.objects.exists()

    def test_a_reduced_rate_with_more_decimals_is_kept_exactly(self, staff_client):
        response = staff_client.post(PRODUCTS, new_product(tax_rate="0.055"))
        assert response.status_code == 201, response.content
        assert response.json()["tax_rate"] == "0.055"
        assert Product.objects.get(sku="NEW-1").tax_rate == Decimal("0.055")

    def test_duplicate_sku_or_slug_is_400(self, staff_client):
        ProductFactory(sku="NEW-1", slug="taken")
        body = assert_problem(staff_client.post(PRODUCTS, new_product()), 400, "invalid")
        assert "sku" in body["errors"]
        body = assert_problem(
            staff_client.post(PRODUCTS, new_product(sku="NEW-2", slug="taken")), 400, "invalid"
        )
        assert "slug" in body["errors"]
        assert Product.objects.count() == 1

    def test_patch_changes_only_what_is_sent(self, staff_client):
        product = ProductFactory(price="10.00", stock=7)
        response = staff_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "12.50"})
        assert response.status_code == 200, response.content
        product.refresh_from_db()
        assert product.price == Decimal("12.50") and product.stock == 7

    def test_patch_sets_stock(self, staff_client):
        product = ProductFactory(stock=7)
        response = staff_client.patch(f"{PRODUCTS}{product.pk}/", {"stock": 0})
        assert response.json()["in_stock"] is False
        product.refresh_from_db()
        assert product.stock == 0

    def test_patch_with_invalid_value_changes_nothing(self, staff_client):
        product = ProductFactory(price="10.00", stock=7)
        assert_problem(
            staff_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "5", "stock": -3}), 400
        )
        product.refresh_from_db()
        assert (product.price, product.stock) == (Decimal("10.00"), 7)

    def test_put_replaces_the_product(self, staff_client):
        product = ProductFactory()
        response = staff_client.put(
            f"{PRODUCTS}{product.pk}/", new_product(sku=product.sku, slug=product.slug)
        )
        assert response.status_code == 200, response.content
        product.refresh_from_db()
        assert product.name == "New kettle"

    def test_delete_deactivates_and_keeps_the_row(self, staff_client, api_client):
        product = ProductFactory()
        assert staff_client.delete(f"{PRODUCTS}{product.pk}/").status_code == 204
        product.refresh_from_db()
        assert product.is_active is False
        assert_problem(api_client.get(f"{PRODUCTS}{product.pk}/"), 404)

    def test_stock_adjustment_adds_and_removes_units(self, staff_client):
        product = ProductFactory(stock=4)
        url = f"{PRODUCTS}{product.pk}/stock-adjustment/"
        assert staff_client.post(url, {"delta": 10}).json()["stock"] == 14
        assert staff_client.post(url, {"delta": -14}).json()["stock"] == 0
        body = assert_problem(staff_client.post(url, {"delta": -1}), 409, "insufficient_stock")
        assert body["available"] == 0
        product.refresh_from_db()
        assert product.stock == 0

    def test_stock_adjustment_cannot_overflow(self, staff_client):
        product = ProductFactory(stock=2**31 - 5)
        url = f"{PRODUCTS}{product.pk}/stock-adjustment/"
        assert_problem(staff_client.post(url, {"delta": 10}), 400)
        product.refresh_from_db()
        assert product.stock == 2**31 - 5


class TestPermissions:
    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_anonymous_writes_are_401(self, api_client, method):
        product = ProductFactory()
        url = PRODUCTS if method == "post" else f"{PRODUCTS}{product.pk}/"
        response = getattr(api_client, method)(url, new_product())
        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert Product.objects.get().name == product.name

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_customer_writes_are_403(self, customer_client, method):
        product = ProductFactory()
        url = PRODUCTS if method == "post" else f"{PRODUCTS}{product.pk}/"
        assert_problem(getattr(customer_client, method)(url, new_product()), 403)
        assert Product.objects.get().is_active

    def test_staff_without_catalog_permissions_is_403(self, client_for):
        orders_staff = client_for(5, is_staff=True, perms=["orders.change_order"])
        assert_problem(orders_staff.post(PRODUCTS, new_product()), 403)
        assert not Product.objects.exists()

    def test_stock_adjustment_needs_change_permission(self, client_for):
        product = ProductFactory(stock=1)
        adder = client_for(5, is_staff=True, perms=["catalog.add_product"])
        url = f"{PRODUCTS}{product.pk}/stock-adjustment/"
        assert_problem(adder.post(url, {"delta": 5}), 403)
        product.refresh_from_db()
        assert product.stock == 1

    def test_superuser_may_write_without_listed_perms(self, client_for):
        boss = client_for(1, is_staff=True, is_superuser=True)
        assert boss.post(PRODUCTS, new_product()).status_code == 201

    def test_invalid_token_is_401_even_for_reads(self, api_client):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
        assert_problem(api_client.get(PRODUCTS), 401)
