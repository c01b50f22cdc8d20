"""The catalogue's fast reads: the same JSON as the serializers, counts that do not
scan, conditional GETs (ETag / 304), and what each read costs in queries."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from catalog import selectors
from catalog.models import Category, Product
from catalog.selectors import (
    category_rows,
    product_list,
    product_raw_rows,
    product_rows,
    products_raw_rows_in_order,
)
from catalog.serializers import (
    CategorySerializer,
    ProductSerializer,
    category_json,
    category_representation,
    product_json,
    product_representation,
)
from shopkit import pagination
from shopkit.prepared import PreparedPages
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db(databases=["default", "ecommerce"])

PRODUCTS = "/api/v1/catalog/products/"


@pytest.fixture(autouse=True)
def no_kept_counts():
    pagination.forget_cached_counts()
    yield
    pagination.forget_cached_counts()


class TestSameJsonAsTheSerializers:
    def test_every_kind_of_product_reads_exactly_as_product_serializer_writes_it(self):
        category = CategoryFactory()
        ProductFactory(price=Decimal("0.00"), tax_rate=Decimal("0.055"), weight=None, stock=0)
        ProductFactory(
            price=Decimal("12345678.90"),
            tax_rate=Decimal("0.2100"),
            weight=Decimal("1.5"),
            category=category,
            description="Ñandú — «quoted» \u2603",
            image_url="https://img.example/1.png",
            is_active=False,
        )
        ProductFactory(tax_rate=Decimal("1"), weight=Decimal("0.001"), stock=2**31 - 1)
        Product.objects.filter(stock=0).update(
            created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
        products = Product.objects.order_by("id")
        expected = ProductSerializer(products, many=True).data
        fast = [product_representation(row) for row in product_rows(products.all())]
        assert fast == [dict(item) for item in expected]
        assert [list(item) for item in fast] == [list(item) for item in expected]  # key order

    def test_categories_read_exactly_as_category_serializer_writes_them(self):
        root = CategoryFactory(name="Home", slug="home")
        CategoryFactory(name="Kitchen", slug="kitchen", parent=root)
        categories = root.__class__.objects.order_by("id")
        expected = [dict(item) for item in CategorySerializer(categories, many=True).data]
        assert [category_representation(row) for row in category_rows(categories.all())] == (
            expected
        )

    def test_list_and_detail_answer_what_the_serializer_gives(self, api_client):
        product = ProductFactory(weight=Decimal("2.250"), description="A kettle")
        expected = dict(ProductSerializer(Product.objects.get(pk=product.pk)).data)
        assert api_client.get(f"{PRODUCTS}{product.pk}/").json() == expected
        assert api_client.get(PRODUCTS).json()["results"] == [expected]

    def test_timestamps_read_as_drf_writes_them(self):
        from zoneinfo import ZoneInfo

        from catalog.serializers import _TIMESTAMP, _timestamp_text

        for value in (
            datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC),
            datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Madrid")),
        ):
            assert _timestamp_text(value) == _TIMESTAMP.to_representation(value)
        product = ProductFactory()
        Product.objects.filter(pk=product.pk).update(
            created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        )
        product.refresh_from_db()
        body = self.client_json(product.pk)
        assert body["created_at"] == "2026-01-02T03:04:05Z"
        assert body == dict(ProductSerializer(product).data)

    def client_json(self, pk):
        return APIClient().get(f"{PRODUCTS}{pk}/").json()

    def test_the_prepared_detail_row_is_the_querysets_row(self):
        active = ProductFactory(weight=None, description="")
        inactive = ProductFactory(is_active=False, weight=Decimal("0.125"))
        for product, include_inactive in ((active, False), (inactive, True), (active, True)):
            orm_row = product_rows(product_list(include_inactive=True)).get(pk=product.pk)
            rows = product_raw_rows(product_id=product.pk, include_inactive=include_inactive)
            assert len(rows) == 1
            row = rows.as_dict(rows[0])
            assert row == orm_row
            assert row["created_at"].tzinfo is not None and isinstance(row["is_active"], bool)
        assert product_raw_rows(product_id=inactive.pk) == []  # customers: active ones only
        assert product_raw_rows(product_id=inactive.pk + 1000) == []

    def test_a_search_pages_rows_come_in_the_order_of_its_ids(self, django_assert_num_queries):
        first, second = ProductFactory(), ProductFactory()
        inactive = ProductFactory(is_active=False)
        ids = [second.pk, inactive.pk, first.pk + 10_000, first.pk, second.pk]
        with django_assert_num_queries(1, using="ecommerce"):
            rows = products_raw_rows_in_order(ids=ids)
        by_orm = {row["id"]: row for row in product_rows(product_list(include_inactive=True))}
        assert [rows.as_dict(raw) for raw in rows] == [by_orm[second.pk], by_orm[first.pk]]
        with_inactive = products_raw_rows_in_order(ids=ids, include_inactive=True)
        assert [with_inactive.as_dict(raw)["id"] for raw in with_inactive] == [
            second.pk,
            inactive.pk,
            first.pk,
        ]
        with django_assert_num_queries(0, using="ecommerce"):
            assert products_raw_rows_in_order(ids=[]) == []

    def test_ids_beyond_any_product_are_404_without_a_query(
        self, api_client, django_assert_num_queries
    ):
        for product_id in (2**63, 10**30):
            with django_assert_num_queries(0, using="ecommerce"):
                response = api_client.get(f"{PRODUCTS}{product_id}/")
            assert response.status_code == 404
            assert response["Content-Type"] == "application/problem+json"


class TestKeptJsonTexts:
    """Answers joined from kept JSON texts are DRF's bytes, and never outlive a change."""

    @pytest.fixture(autouse=True)
    def nothing_kept(self):
        product_json.forget()
        category_json.forget()
        yield
        product_json.forget()
        category_json.forget()

    def test_list_and_detail_are_the_bytes_drf_would_render(self, api_client):
        ProductFactory.create_batch(3, description="Ñandú — «quoted» \u2028 line")
        products = Product.objects.order_by("name", "id")
        body = {
            "count": 3,
            "next": "http://testserver/api/v1/catalog/products/?page=2&page_size=2",
            "previous": None,
            "results": ProductSerializer(products[:2], many=True).data,
        }
        for _ in range(2):  # texts made, then texts kept
            response = api_client.get(PRODUCTS, {"page_size": 2})
            assert response.content == JSONRenderer().render(body)
            assert response["Content-Type"] == "application/json"
            detail = api_client.get(f"{PRODUCTS}{products[0].pk}/")
            assert detail.content == JSONRenderer().render(ProductSerializer(products[0]).data)
            assert detail["Content-Type"] == "application/json"

    def test_categories_are_the_bytes_drf_would_render(self, api_client):
        CategoryFactory.create_batch(3)
        categories = Category.objects.order_by("name", "id")
        body = {
            "count": 3,
            "next": None,
            "previous": "http://testserver/api/v1/catalog/categories/?page_size=2",
            "results": CategorySerializer(categories[2:], many=True).data,
        }
        response = api_client.get("/api/v1/catalog/categories/", {"page_size": 2, "page": 2})
        assert response.content == JSONRenderer().render(body)

    def test_a_change_shows_at_once(self, api_client, staff_client):
        product = ProductFactory(price=Decimal("10.00"), stock=5)
        assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["price"] == "10.00"
        assert api_client.get(PRODUCTS).json()["results"][0]["stock"] == 5
        assert (
            staff_client.patch(
                f"{PRODUCTS}{product.pk}/", {"price": "12.50"}, format="json"
            ).status_code
            == 200
        )
        # A stock move by a reservation does not touch updated_at: still a new row.
        Product.objects.filter(pk=product.pk).update(stock=4)
        assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["price"] == "12.50"
        first = api_client.get(PRODUCTS).json()["results"][0]
        assert (first["price"], first["stock"], first["in_stock"]) == ("12.50", 4, True)

    def test_an_indented_answer_is_still_drfs(self, api_client):
        product = ProductFactory()
        accept = "application/json; indent=4"
        detail = api_client.get(f"{PRODUCTS}{product.pk}/", HTTP_ACCEPT=accept)
        assert detail.content.decode() == json.dumps(
            ProductSerializer(product).data, indent=4, ensure_ascii=False
        )
        listed = api_client.get(PRODUCTS, HTTP_ACCEPT=accept)
        assert listed.content.startswith(b'{\n    "count": 1,') and listed.json()["count"] == 1
        categories = api_client.get("/api/v1/catalog/categories/", HTTP_ACCEPT=accept)
        assert categories.content.startswith(b'{\n    "count": 0,')

    def test_a_kept_product_of_the_list_is_not_converted_again(self, api_client, monkeypatch):
        ProductFactory.create_batch(3)
        converted = []
        as_dict = PreparedPages.as_dict
        monkeypatch.setattr(
            PreparedPages,
            "as_dict",
            lambda pages, raw: converted.append(raw) or as_dict(pages, raw),
        )
        first = api_client.get(PRODUCTS)
        assert len(converted) == 3
        assert api_client.get(PRODUCTS).content == first.content
        assert len(converted) == 3  # every text was kept: no row went through Django's converters
        Product.objects.filter(pk=first.json()["results"][0]["id"]).update(stock=7)
        assert api_client.get(PRODUCTS).json()["results"][0]["stock"] == 7
        assert len(converted) == 4  # only the changed row

    def test_the_list_and_the_product_page_share_kept_texts(self, api_client, monkeypatch):
        product = ProductFactory(price=Decimal("10.00"))
        shaped = []
        represent = product_json.represent
        monkeypatch.setattr(
            product_json, "represent", lambda row: shaped.append(row["id"]) or represent(row)
        )
        listed = api_client.get(PRODUCTS).json()["results"][0]
        detail = api_client.get(f"{PRODUCTS}{product.pk}/")
        assert detail.json() == listed and shaped == [product.pk]  # the list's text
        Product.objects.filter(pk=product.pk).update(price=Decimal("11.00"))
        assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["price"] == "11.00"
        assert shaped == [product.pk, product.pk]

    def test_a_kept_category_is_not_shaped_again(self, api_client, monkeypatch):
        category = CategoryFactory(name="Kettles")
        CategoryFactory.create_batch(2)
        shaped = []
        represent = category_json.represent
        monkeypatch.setattr(
            category_json, "represent", lambda row: shaped.append(row["id"]) or represent(row)
        )
        first = api_client.get("/api/v1/catalog/categories/")
        assert len(shaped) == 3
        assert api_client.get("/api/v1/catalog/categories/").content == first.content
        assert len(shaped) == 3  # every text found by its row's tuple
        Category.objects.filter(pk=category.pk).update(name="Teapots")
        names = [c["name"] for c in api_client.get("/api/v1/catalog/categories/").json()["results"]]
        assert "Teapots" in names and "Kettles" not in names
        assert shaped == [*shaped[:3], category.pk]  # only the renamed one

    def test_kept_texts_are_bounded(self, api_client, monkeypatch):
        monkeypatch.setattr(product_json, "kept", 3)
        ProductFactory.create_batch(5)
        assert len(api_client.get(PRODUCTS).json()["results"]) == 5
        assert len(product_json._texts) == 3


class TestCountsDoNotScan:
    def test_a_small_list_is_always_counted_exactly(self, api_client, monkeypatch):
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
        ProductFactory.create_batch(4)
        assert api_client.get(PRODUCTS).json()["count"] == 4
        ProductFactory()
        assert api_client.get(PRODUCTS).json()["count"] == 5

    def test_a_large_count_is_kept_and_the_list_then_costs_one_query(
        self, api_client, monkeypatch, django_assert_num_queries
    ):
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
        ProductFactory.create_batch(7)
        # Bounded count (6 rows seen: over the limit) + exact count + the page.
        with django_assert_num_queries(3, using="ecommerce"):
            assert api_client.get(PRODUCTS).json()["count"] == 7
        # Then the page alone, for any page of the same filters.
        with django_assert_num_queries(1, using="ecommerce"):
            body = api_client.get(PRODUCTS, {"page": 2, "page_size": 5}).json()
        assert body["count"] == 7 and len(body["results"]) == 2
        # A count above the limit may lag (COUNT_TTL_SECONDS) ...
        ProductFactory()
        assert api_client.get(PRODUCTS).json()["count"] == 7
        # ... and other filters are counted for themselves.
        assert api_client.get(PRODUCTS, {"max_price": "5"}).json()["count"] == 0
        pagination.forget_cached_counts()
        assert api_client.get(PRODUCTS).json()["count"] == 8

    def test_staff_and_customers_have_counts_of_their_own(
        self, api_client, staff_client, monkeypatch
    ):
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 2)
        ProductFactory.create_batch(3)
        ProductFactory.create_batch(2, is_active=False)
        assert api_client.get(PRODUCTS).json()["count"] == 3
        assert staff_client.get(PRODUCTS).json()["count"] == 5
        assert api_client.get(PRODUCTS).json()["count"] == 3

    def test_a_filter_matching_nothing_counts_zero(self, api_client):
        ProductFactory()
        body = api_client.get(PRODUCTS, {"category": "no-such"}).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}


class TestLargeListsKeepTheirPages:
    """Above KEEP_PAGES_ABOVE the storefront list keeps each page's ids, as a search does."""

    @pytest.fixture(autouse=True)
    def small_limits(self, monkeypatch):
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
        monkeypatch.setattr(selectors, "KEEP_PAGES_ABOVE", 3)
        monkeypatch.setattr(selectors, "KEPT_PAGE_OFFSET", 2)

    @pytest.fixture
    def products(self):
        # Name ties are ordered by id; one inactive product among them.
        made = [ProductFactory(name=f"Lamp {n % 3}", price=Decimal(10 + n)) for n in range(8)]
        Product.objects.filter(pk=made[4].pk).update(is_active=False)
        return made

    def test_every_page_is_the_one_a_single_query_gives(self, products, api_client, monkeypatch):
        numbers = range(1, 6)  # 7 active products, 2 a page, and one page past the last
        kept = [api_client.get(PRODUCTS, {"page_size": 2, "page": n}) for n in numbers]
        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10_000)  # small: read every time
        pagination.forget_cached_counts()
        read = [api_client.get(PRODUCTS, {"page_size": 2, "page": n}) for n in numbers]
        assert [a.status_code for a in kept] == [200, 200, 200, 200, 404]
        assert [a.content for a in kept[:4]] == [a.content for a in read[:4]]
        listed = [item for answer in kept[:4] for item in answer.json()["results"]]
        assert listed == ProductSerializer(list(product_list()), many=True).data

    def test_a_kept_page_shows_its_rows_changes_at_once(self, products, api_client):
        page = {"page_size": 3, "page": 2}
        first = [item["id"] for item in api_client.get(PRODUCTS, page).json()["results"]]
        Product.objects.filter(pk=first[0]).update(price=Decimal("99.00"), stock=0)
        Product.objects.filter(pk=first[1]).update(is_active=False)
        again = api_client.get(PRODUCTS, page).json()["results"]
        assert [item["id"] for item in again] == [first[0], first[2]]
        assert (again[0]["price"], again[0]["in_stock"]) == ("99.00", False)

    def test_which_products_are_on_a_page_may_lag_by_the_pages_time(
        self, products, api_client, django_assert_num_queries
    ):
        page = {"page_size": 3, "page": 2}
        with django_assert_num_queries(4, using="ecommerce"):  # counts, the ids, the rows
            before = [item["id"] for item in api_client.get(PRODUCTS, page).json()["results"]]
        third = list(product_list())[2].pk
        first_by_name = ProductFactory(name="Aardvark lamp")
        with django_assert_num_queries(1, using="ecommerce"):  # the kept ids' rows
            kept = api_client.get(PRODUCTS, page).json()["results"]
        assert [item["id"] for item in kept] == before
        # The first page (before KEPT_PAGE_OFFSET) is read every time: one query.
        with django_assert_num_queries(1, using="ecommerce"):
            first = api_client.get(PRODUCTS, {"page_size": 3}).json()["results"]
        assert first[0]["id"] == first_by_name.pk
        pagination.forget_cached_counts()  # as PAGE_TTL_SECONDS passing would
        after = api_client.get(PRODUCTS, page).json()["results"]
        assert [item["id"] for item in after] == [third, *before[:2]]

    def test_a_list_not_that_large_reads_its_pages_every_time(
        self, products, api_client, monkeypatch
    ):
        monkeypatch.setattr(selectors, "KEEP_PAGES_ABOVE", 100)  # its count is still kept
        page = {"page_size": 3, "page": 2}
        before = [item["id"] for item in api_client.get(PRODUCTS, page).json()["results"]]
        ProductFactory(name="Aardvark lamp")
        after = [item["id"] for item in api_client.get(PRODUCTS, page).json()["results"]]
        assert after[1:] == before[:2]

    def test_staff_lists_read_their_pages_every_time(self, products, staff_client):
        page = {"page_size": 3, "page": 2}
        before = [item["id"] for item in staff_client.get(PRODUCTS, page).json()["results"]]
        ProductFactory(name="Aardvark lamp", is_active=False)
        after = [item["id"] for item in staff_client.get(PRODUCTS, page).json()["results"]]
        assert after[1:] == before[:2]


class TestConditionalGets:
    @pytest.fixture
    def product(self):
        return ProductFactory(price=Decimal("10.00"))

    @pytest.mark.parametrize("path", ["list", "detail"])
    def test_etag_then_304_until_the_product_changes(self, api_client, staff_client, product, path):
        url = PRODUCTS if path == "list" else f"{PRODUCTS}{product.pk}/"
        first = api_client.get(url)
        etag = first["ETag"]
        assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
        again = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b"" and again["ETag"] == etag
        # The gateway's gzip turns the tag weak; If-None-Match compares weakly.
        assert api_client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
        assert api_client.get(url, HTTP_IF_NONE_MATCH='"other", ' + etag).status_code == 304

        response = staff_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "11.00"})
        assert response.status_code == 200
        assert Product.objects.get(pk=product.pk).price == Decimal("11.00")
        changed = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200 and changed["ETag"] != etag
        assert "11.00" in changed.content.decode()

    def test_stock_moves_change_the_tag(self, api_client, product):
        url = f"{PRODUCTS}{product.pk}/"
        etag = api_client.get(url)["ETag"]
        Product.objects.filter(pk=product.pk).update(stock=0)  # as a reservation does
        response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200 and response.json()["in_stock"] is False

    def test_staff_and_anonymous_answers_have_different_tags(self, api_client, staff_client):
        ProductFactory(is_active=False)
        ProductFactory()
        assert api_client.get(PRODUCTS)["ETag"] != staff_client.get(PRODUCTS)["ETag"]

    def test_errors_and_writes_carry_no_etag(self, api_client, staff_client, product):
        assert not api_client.get(f"{PRODUCTS}999999/").has_header("ETag")
        assert not api_client.get(PRODUCTS, {"min_price": "x"}).has_header("ETag")
        response = staff_client.patch(f"{PRODUCTS}{product.pk}/", {"stock": 3})
        assert response.status_code == 200 and not response.has_header("ETag")

    def test_unconditional_and_non_matching_requests_get_the_body(self, product):
        client = APIClient()
        response = client.get(f"{PRODUCTS}{product.pk}/", HTTP_IF_NONE_MATCH='"nope"')
        assert response.status_code == 200 and response.json()["id"] == product.pk


class TestDeepPages:
    """From DEEP_PAGE_OFFSET on, a plain list page reads its ids, then their rows."""

    @pytest.fixture
    def products(self):
        category = CategoryFactory()
        made = [ProductFactory(category=category, name=f"Kettle {n % 3}") for n in range(7)]
        made[3].is_active = False
        made[3].save()
        return made

    @pytest.mark.parametrize("signed_in_as", ["anonymous", "staff"])
    def test_every_page_is_the_one_a_single_query_gives(
        self, products, api_client, staff_client, monkeypatch, signed_in_as
    ):
        client = staff_client if signed_in_as == "staff" else api_client
        # Name ties (three names for seven products) are ordered by id on both paths.
        expected = list(product_list(include_inactive=signed_in_as == "staff"))
        pages = []
        for deep_from in (10_000, 0):  # one query per page; ids then rows on every page
            monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", deep_from)
            numbers = range(1, (len(expected) + 1) // 2 + 2)  # and one past the last
            pages.append([client.get(PRODUCTS, {"page_size": 2, "page": n}) for n in numbers])
        for found in pages:
            assert [a.status_code for a in found] == [*[200] * (len(numbers) - 1), 404]
        pages = [[answer.content for answer in found[:-1]] for found in pages]
        assert pages[0] == pages[1]
        listed = [item for page in pages[1] for item in json.loads(page)["results"]]
        assert listed == ProductSerializer(expected, many=True).data
        assert (products[3].pk in [item["id"] for item in listed]) == (signed_in_as == "staff")

    @pytest.mark.parametrize(
        "query", [{"ordering": "-price"}, {"ordering": "name"}, {"in_stock": "true"}]
    )
    def test_a_filtered_or_ordered_list_pages_the_same_way(
        self, products, api_client, monkeypatch, query
    ):
        for index, product in enumerate(products):  # distinct prices, one out of stock
            Product.objects.filter(pk=product.pk).update(
                price=Decimal(10 + index), stock=0 if index == 5 else 3
            )
        pages = []
        for deep_from in (10_000, 0):
            monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", deep_from)
            pages.append(
                [api_client.get(PRODUCTS, {**query, "page_size": 2, "page": n}) for n in (1, 2, 3)]
            )
        assert [a.status_code for a in pages[0]] == [a.status_code for a in pages[1]]
        assert [a.content for a in pages[0]] == [a.content for a in pages[1]]
        listed = [item["id"] for answer in pages[1] for item in answer.json()["results"]]
        assert len(listed) == (5 if "in_stock" in query else 6)  # the inactive one never
        assert products[3].pk not in listed

    def test_a_deep_filtered_page_is_its_ids_then_its_rows(
        self, products, api_client, monkeypatch, django_assert_num_queries
    ):
        monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", 2)
        query = {"ordering": "price", "page_size": 2}
        with django_assert_num_queries(2, using="ecommerce"):  # the count and the page
            assert api_client.get(PRODUCTS, query).status_code == 200
        with django_assert_num_queries(3, using="ecommerce"):  # the count, ids, rows
            assert api_client.get(PRODUCTS, {**query, "page": 2}).status_code == 200

    def test_a_deep_page_shows_changes_at_once(self, products, api_client, monkeypatch):
        monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", 0)
        first = api_client.get(PRODUCTS, {"page_size": 2, "page": 2}).json()["results"][0]
        Product.objects.filter(pk=first["id"]).update(stock=first["stock"] + 3)
        again = api_client.get(PRODUCTS, {"page_size": 2, "page": 2}).json()["results"][0]
        assert (again["id"], again["stock"]) == (first["id"], first["stock"] + 3)

    def test_an_indented_deep_page_is_still_drfs(self, products, api_client, monkeypatch):
        monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", 0)
        answer = api_client.get(
            PRODUCTS, {"page_size": 2, "page": 2}, HTTP_ACCEPT="application/json; indent=4"
        )
        expected = ProductSerializer(list(product_list())[2:4], many=True).data
        assert answer.content.startswith(b"{\n    ") and answer.json()["results"] == expected


class TestQueryBudgets:
    def test_unfiltered_list_is_a_count_and_a_page(self, api_client, django_assert_num_queries):
        ProductFactory.create_batch(25)
        with django_assert_num_queries(2, using="ecommerce"):
            assert len(api_client.get(PRODUCTS).json()["results"]) == 20

    def test_a_deep_page_is_its_ids_then_its_rows(
        self, api_client, monkeypatch, django_assert_num_queries
    ):
        ProductFactory.create_batch(5)
        monkeypatch.setattr(selectors, "DEEP_PAGE_OFFSET", 2)
        # A small list is counted on every read: a count, then the page, or its ids and rows.
        with django_assert_num_queries(2, using="ecommerce"):
            assert len(api_client.get(PRODUCTS, {"page_size": 2}).json()["results"]) == 2
        with django_assert_num_queries(3, using="ecommerce"):
            assert len(api_client.get(PRODUCTS, {"page_size": 2, "page": 2}).json()["results"]) == 2

    def test_detail_is_one_query_signed_in_too(self, customer_client, django_assert_num_queries):
        product = ProductFactory()
        with django_assert_num_queries(1, using="ecommerce"):
            assert customer_client.get(f"{PRODUCTS}{product.pk}/").status_code == 200
        with django_assert_num_queries(1, using="ecommerce"):
            assert customer_client.get(f"{PRODUCTS}999999/").status_code == 404


def test_internal_rows_read_exactly_as_internal_product_serializer_writes_them():
    from catalog.selectors import products_by_ids
    from catalog.serializers import InternalProductSerializer, internal_product_representation

    products = [
        ProductFactory(tax_rate=Decimal("0.055"), price=Decimal("0.50")),
        ProductFactory(is_active=False, stock=0),
    ]
    rows = products_by_ids(ids=[product.pk for product in products])
    expected = [dict(item) for item in InternalProductSerializer(rows, many=True).data]
    fast = [internal_product_representation(row) for row in rows]
    assert fast == expected
    assert [list(item) for item in fast] == [list(item) for item in expected]


def test_anonymous_reads_say_how_long_a_shared_cache_may_serve_them_stale(
    api_client, customer_client
):
    product = ProductFactory()
    category = CategoryFactory()
    paths = [
        PRODUCTS,
        f"{PRODUCTS}{product.pk}/",
        "/api/v1/catalog/categories/",
        f"/api/v1/catalog/categories/{category.pk}/",
    ]
    for path in paths:
        assert api_client.get(path).headers["Cache-Control"] == "stale-while-revalidate=1"
        assert "Cache-Control" not in customer_client.get(path).headers  # never shared
    assert "Cache-Control" not in api_client.get(f"{PRODUCTS}999999/").headers
    etag = api_client.get(f"{PRODUCTS}{product.pk}/").headers["ETag"]
    not_modified = api_client.get(f"{PRODUCTS}{product.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.headers["Cache-Control"] == "stale-while-revalidate=1"
