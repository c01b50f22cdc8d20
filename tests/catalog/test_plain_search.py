"""A plain search (only `search`, `page`, `page_size`) skips the FilterSet: the same
answers, the same errors, and a kept search costs only its rows.

These tests commit their rows (transaction=True): InnoDB's FULLTEXT index sees a
row only once its transaction has committed.
"""

import pytest
from rest_framework.test import APIClient

from catalog.apis import ProductViewSet
from catalog.filters import ProductFilter, plain_search_value
from catalog.models import Product
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "ecommerce"])

PRODUCTS = "/api/v1/catalog/products/"


@pytest.fixture
def filtersets(monkeypatch):
    """How many FilterSets the product list builds."""
    built = []

    class CountedProductFilter(ProductFilter):
        def __init__(self, *args, **kwargs):
            built.append(kwargs.get("data"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(ProductViewSet, "filterset_class", CountedProductFilter)
    return built


def catalogue():
    ProductFactory(sku="B", name="Blue lamp", description="Blue, blue, blue: the bluest lamp.")
    ProductFactory(sku="C", name="Chair", description="Goes with a blue lamp.")
    ProductFactory(sku="A", name="Alpha lamp", description="For reading.")
    ProductFactory(sku="S", name="Blue sofa", description="Blue.", stock=0)
    ProductFactory(sku="X", name="Blue box", description="Gone.", is_active=False)


def without_links(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("next", "previous")}


@pytest.mark.parametrize(
    "params",
    [
        {"search": "blue"},
        {"search": "  lamp "},
        {"search": "blue lamp", "page_size": 1, "page": 2},
        {"search": "la"},  # a short word: a substring match
        {"search": "nothing-like-it"},
    ],
)
def test_the_same_answer_as_through_the_filterset(params, filtersets):
    catalogue()
    client = APIClient()
    plain = client.get(PRODUCTS, params)
    assert plain.status_code == 200 and filtersets == []
    # min_price=0 matches every product: the same search through the FilterSet.
    filtered = client.get(PRODUCTS, {**params, "min_price": "0"})
    assert filtered.status_code == 200 and len(filtersets) == 1
    assert without_links(plain.json()) == without_links(filtered.json())
    assert "X" not in [product["sku"] for product in plain.json()["results"]]


def test_customers_see_active_ones_and_staff_inactive_ones_too(staff_client, filtersets):
    catalogue()
    body = APIClient().get(PRODUCTS, {"search": "blue"}).json()
    assert body["count"] == 3
    assert sorted(product["sku"] for product in body["results"]) == ["B", "C", "S"]
    staff = staff_client.get(PRODUCTS, {"search": "blue"}).json()
    assert staff["count"] == 4 and "X" in [product["sku"] for product in staff["results"]]
    assert filtersets == []


@pytest.mark.parametrize(
    "params",
    [{"search": "x" * 101}, {"search": "blue\x00"}, {"search": "blue", "page": "nope"}],
)
def test_bad_input_is_answered_as_before(params):
    catalogue()
    client = APIClient()
    plain = client.get(PRODUCTS, params)
    assert plain.status_code in (400, 404)
    # The same problem document as with another filter beside it.
    filtered = client.get(PRODUCTS, {**params, "min_price": "0"})
    assert (plain.status_code, plain.json()) == (filtered.status_code, filtered.json())
    assert Product.objects.count() == 5


def test_which_parameters_make_a_plain_search():
    assert plain_search_value({"search": " blue  jacket "}) == "blue  jacket"
    assert plain_search_value({"search": "blue", "page": "2", "page_size": "5"}) == "blue"
    assert plain_search_value({"search": "blue", "ordering": "price"}) is None
    assert plain_search_value({"search": "blue", "category": "lamps"}) is None
    assert plain_search_value({"search": "   "}) is None  # no search at all: the FilterSet's list
    assert plain_search_value({"search": "x" * 101}) is None  # its 400 comes from the FilterSet
    assert plain_search_value({"page": "2"}) is None


def test_a_kept_search_costs_one_query_and_builds_no_queryset(
    django_assert_max_num_queries, monkeypatch
):
    catalogue()
    client = APIClient()
    with django_assert_max_num_queries(2, using="ecommerce"):  # the ids, the rows
        first = client.get(PRODUCTS, {"search": "blue"}).json()

    def no_queryset(*args, **kwargs):
        raise AssertionError("a kept search built a QuerySet")

    monkeypatch.setattr("catalog.filters.search_products", no_queryset)
    Product.objects.filter(sku="C").update(price="99.00")
    with django_assert_max_num_queries(1, using="ecommerce"):  # the rows only
        again = client.get(PRODUCTS, {"search": "blue"}).json()
    assert [p["sku"] for p in again["results"]] == [p["sku"] for p in first["results"]]
    assert {p["sku"]: p["price"] for p in again["results"]}["C"] == "99.00"


def test_a_large_search_is_read_page_by_page(monkeypatch, django_assert_max_num_queries):
    from shopkit import pagination

    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 5)
    for n in range(8):
        ProductFactory(sku=f"L-{n}", name=f"Lamp {n:02}")
    client = APIClient()
    pages = [
        client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": page}).json()
        for page in (1, 2, 3)
    ]
    assert [body["count"] for body in pages] == [8, 8, 8]
    assert [[p["sku"] for p in body["results"]] for body in pages] == [
        ["L-0", "L-1", "L-2"],
        ["L-3", "L-4", "L-5"],
        ["L-6", "L-7"],
    ]
    with django_assert_max_num_queries(1, using="ecommerce"):  # count and page kept
        again = client.get(PRODUCTS, {"search": "lamp", "page_size": 3, "page": 2}).json()
    assert [p["sku"] for p in again["results"]] == ["L-3", "L-4", "L-5"]
