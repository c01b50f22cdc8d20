"""The product search on MariaDB: the FULLTEXT index, relevance order, the old meaning kept.

These tests commit their rows (transaction=True): InnoDB's FULLTEXT index sees a
row only once its transaction has committed.
"""

import pytest
from django.db import connections
from rest_framework.test import APIClient

from catalog.filters import fulltext_query
from catalog.models import Product
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "ecommerce"])

PRODUCTS = "/api/v1/catalog/products/"


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [product["sku"] for product in response.json()["results"]]


def test_the_catalog_table_has_the_fulltext_index():
    with connections["ecommerce"].cursor() as cursor:
        cursor.execute(
            "SELECT INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'catalog_product' AND INDEX_NAME = 'catalog_prod_search_ft'"
        )
        assert {row[0] for row in cursor.fetchall()} == {"FULLTEXT"}


def test_most_relevant_first_then_by_name():
    ProductFactory(sku="A", name="Alpha lamp", description="For reading.")
    ProductFactory(sku="B", name="Blue lamp", description="Blue, blue, blue: the bluest lamp.")
    ProductFactory(sku="C", name="Chair", description="Goes with a blue lamp.")
    ProductFactory(sku="D", name="Desk", description="No colour at all.")

    client = APIClient()
    assert skus(client.get(PRODUCTS, {"search": "blue"})) == ["B", "C"]
    assert skus(client.get(PRODUCTS, {"search": "lamp"}))[0] == "B"
    # An explicit ordering replaces the relevance order.
    assert skus(client.get(PRODUCTS, {"search": "lamp", "ordering": "-name"})) == ["C", "B", "A"]
    body = client.get(PRODUCTS, {"search": "lamp", "page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2


def test_every_word_must_match_and_words_match_by_their_start():
    ProductFactory(sku="KET-001", name="Steel kettle", description="Boils fast.")
    ProductFactory(sku="KET-002", name="Glass kettle", description="Boils slowly.")
    ProductFactory(sku="PAN-001", name="Steel pan")

    client = APIClient()
    assert skus(client.get(PRODUCTS, {"search": "steel kettle"})) == ["KET-001"]
    assert sorted(skus(client.get(PRODUCTS, {"search": "kett"}))) == ["KET-001", "KET-002"]
    assert skus(client.get(PRODUCTS, {"search": "ket-002"})) == ["KET-002"]
    # Short words and stopwords are not in the index: matched as substrings only.
    assert sorted(skus(client.get(PRODUCTS, {"search": "st"}))) == ["KET-001", "PAN-001"]
    assert skus(client.get(PRODUCTS, {"search": "the steel pan"})) == []
    assert skus(client.get(PRODUCTS, {"search": "nothing-like-it"})) == []


def test_inactive_products_stay_hidden_from_customers_when_searching(staff_client):
    ProductFactory(sku="ON", name="Lantern")
    ProductFactory(sku="OFF", name="Lantern old", is_active=False)

    assert skus(APIClient().get(PRODUCTS, {"search": "lantern"})) == ["ON"]
    assert sorted(skus(staff_client.get(PRODUCTS, {"search": "lantern"}))) == ["OFF", "ON"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("blue", "+blue*"),
        ("Navy  JACKET", "+navy* +jacket*"),
        ("KET-001", "+ket* +001*"),
        ("a to the", ""),
        ('x"); DROP TABLE catalog_product; --', "+drop* +table* +catalog_product*"),
        ("blue blue", "+blue*"),
    ],
)
def test_fulltext_query_keeps_indexable_word_tokens_only(search, expected):
    assert fulltext_query(search.split()) == expected


def test_a_search_page_costs_two_queries(django_assert_num_queries):
    for number in range(30):
        ProductFactory(sku=f"S-{number}", name=f"Blue thing {number}", price="5.00")
    client = APIClient()
    # The ids of every match in relevance order (at most EXACT_COUNT_LIMIT + 1 of
    # them: the count and the page come from this one FULLTEXT query), the page's rows.
    with django_assert_num_queries(2, using="ecommerce"):
        body = client.get(PRODUCTS, {"search": "blue thing", "page_size": 10, "page": 2}).json()
    assert body["count"] == 30 and len(body["results"]) == 10
    assert all(product["name"].startswith("Blue thing") for product in body["results"])


class TestLargeMatchSets:
    """More matches than EXACT_COUNT_LIMIT: the count and which ids are on a page are kept."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch):
        from shopkit import pagination

        monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
        pagination.forget_cached_counts()
        yield pagination
        pagination.forget_cached_counts()

    def test_a_large_search_then_costs_only_its_rows(self, small_limit, django_assert_num_queries):
        products = [
            ProductFactory(sku=f"L-{n}", name=f"Lamp {n:02}", price="5.00") for n in range(8)
        ]
        client = APIClient()
        first = client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": 2}).json()
        assert first["count"] == 8
        assert [p["sku"] for p in first["results"]] == ["L-3", "L-4", "L-5"]
        # Known to be large now: the kept count and the kept page, and the rows read fresh.
        Product.objects.filter(pk=products[4].pk).update(price="7.00", stock=0)
        with django_assert_num_queries(1, using="ecommerce"):
            again = client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": 2}).json()
        assert again["count"] == 8
        assert [(p["sku"], p["price"], p["in_stock"]) for p in again["results"]] == [
            ("L-3", "5.00", True),
            ("L-4", "7.00", False),
            ("L-5", "5.00", True),
        ]
        # A deactivated product leaves the customers' results at once ...
        Product.objects.filter(pk=products[3].pk).update(is_active=False)
        again = client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": 2}).json()
        assert [p["sku"] for p in again["results"]] == ["L-4", "L-5"]
        # ... and which products match is read again once the kept page is dropped (or old).
        small_limit.forget_cached_counts()
        again = client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": 2}).json()
        assert again["count"] == 7
        assert [p["sku"] for p in again["results"]] == ["L-4", "L-5", "L-6"]

    def test_other_pages_and_searches_are_their_own(self, small_limit):
        for n in range(7):
            ProductFactory(sku=f"L-{n}", name=f"Lamp {n}", description="blue")
        client = APIClient()
        pages = [
            [
                p["sku"]
                for p in client.get(
                    PRODUCTS, {"search": "lamp", "page_size": 3, "page": page}
                ).json()["results"]
            ]
            for page in (1, 2, 3)
        ]
        assert pages == [["L-0", "L-1", "L-2"], ["L-3", "L-4", "L-5"], ["L-6"]]
        ordered = client.get(PRODUCTS, {"search": "lamp", "ordering": "-name"}).json()
        assert [p["sku"] for p in ordered["results"]][:2] == ["L-6", "L-5"]


def test_a_repeated_search_costs_only_its_rows_and_shows_changes_of_rows_at_once(
    django_assert_num_queries,
):
    from shopkit import pagination

    kettle = ProductFactory(sku="K-1", name="Steel kettle", price="20.00")
    ProductFactory(sku="K-2", name="Glass kettle", price="30.00")
    client = APIClient()
    assert sorted(skus(client.get(PRODUCTS, {"search": "kettle"}))) == ["K-1", "K-2"]
    Product.objects.filter(pk=kettle.pk).update(price="25.00")
    with django_assert_num_queries(1, using="ecommerce"):  # the kept ids' rows
        body = client.get(PRODUCTS, {"search": "kettle"}).json()
    assert {p["sku"]: p["price"] for p in body["results"]} == {"K-1": "25.00", "K-2": "30.00"}
    # Which products match is kept for PAGE_TTL_SECONDS: a new kettle shows after it.
    ProductFactory(sku="K-3", name="Copper kettle")
    assert body["count"] == 2 == client.get(PRODUCTS, {"search": "kettle"}).json()["count"]
    pagination.forget_cached_counts()  # as PAGE_TTL_SECONDS passing would
    assert sorted(skus(client.get(PRODUCTS, {"search": "kettle"}))) == ["K-1", "K-2", "K-3"]
