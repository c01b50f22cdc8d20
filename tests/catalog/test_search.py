"""The product search on MariaDB: the FULLTEXT index, relevance order, the old meaning kept.

These tests commit their rows (transaction=True): InnoDB's FULLTEXT index sees a
row only once its transaction has committed.
"""

import pytest
from django.db import connections
from rest_framework.test import APIClient

from catalog.filters import fulltext_query
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


def test_a_search_page_costs_three_queries(django_assert_num_queries):
    for number in range(30):
        ProductFactory(sku=f"S-{number}", name=f"Blue thing {number}", price="5.00")
    client = APIClient()
    # The count, the page's ids in relevance order, their rows.
    with django_assert_num_queries(3, using="ecommerce"):
        body = client.get(PRODUCTS, {"search": "blue thing", "page_size": 10, "page": 2}).json()
    assert body["count"] == 30 and len(body["results"]) == 10
    assert all(product["name"].startswith("Blue thing") for product in body["results"])
