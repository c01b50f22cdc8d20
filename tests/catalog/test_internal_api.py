"""/internal/catalog/: the contract of docs/internal-api.md (service credential only)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Product, Reservation
from tests.catalog.factories import ProductFactory, ReservationFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

BASE = "/internal/catalog"


def reserve(client, reference="T-0000000001", lines=None, **extra):
    return client.post(f"{BASE}/reservations/", {"reference": reference, "lines": lines, **extra})


def stock_of(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


class TestCredential:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", "/products/?ids=1"),
            ("post", "/reservations/"),
            ("get", "/reservations/T-1/"),
            ("post", "/reservations/T-1/commit/"),
            ("post", "/reservations/T-1/release/"),
        ],
    )
    def test_without_the_service_token_every_endpoint_is_403(
        self, api_client, staff_client, method, path
    ):
        product = ProductFactory(stock=5)
        for client in (api_client, staff_client):
            assert_problem(getattr(client, method)(BASE + path, {}), 403)
        api_client.credentials(HTTP_X_SERVICE_TOKEN="wrong")
        assert_problem(getattr(api_client, method)(BASE + path, {}), 403)
        assert stock_of(product) == 5
        assert not Reservation.objects.exists()


class TestProductLookup:
    def test_returns_known_ids_including_inactive(self, service_api_client):
        active = ProductFactory(price="3.50", tax_rate="0.10", stock=4)
        inactive = ProductFactory(is_active=False)
        response = service_api_client.get(
            f"{BASE}/products/", {"ids": f"{inactive.pk},{active.pk},999999"}
        )
        assert response.status_code == 200
        results = response.json()["results"]
        assert [row["id"] for row in results] == sorted([active.pk, inactive.pk])
        row = next(row for row in results if row["id"] == active.pk)
        assert row == {
            "id": active.pk,
            "sku": active.sku,
            "name": active.name,
            "slug": active.slug,
            "price": "3.50",
            "tax_rate": "0.10",
            "tax_class": "standard",
            "stock": 4,
            "is_active": True,
            "weight": None,
        }

    def test_one_query_whatever_the_number_of_ids(
        self, service_api_client, django_assert_max_num_queries
    ):
        ids = ",".join(str(product.pk) for product in ProductFactory.create_batch(100))
        with django_assert_max_num_queries(1, using="ecommerce"):
            response = service_api_client.get(f"{BASE}/products/", {"ids": ids})
        assert len(response.json()["results"]) == 100

    @pytest.mark.parametrize(
        "ids", [None, "", "a,b", "1.5", "-1", ",".join(str(n) for n in range(1, 102))]
    )
    def test_missing_bad_or_too_many_ids_are_400(self, service_api_client, ids):
        params = {} if ids is None else {"ids": ids}
        body = assert_problem(service_api_client.get(f"{BASE}/products/", params), 400, "invalid")
        assert "ids" in body["errors"]

    def test_ids_no_product_can_have_are_simply_absent(self, service_api_client):
        product = ProductFactory()
        response = service_api_client.get(
            f"{BASE}/products/", {"ids": f"0,{product.pk},{2**63},{'9' * 5000}"}
        )
        assert [row["id"] for row in response.json()["results"]] == [product.pk]


class TestReserve:
    def test_takes_stock_and_returns_authoritative_lines(self, service_api_client):
        kettle = ProductFactory(name="Kettle", price="20.00", tax_rate="0.21", stock=5)
        book = ProductFactory(name="Book", price="9.90", tax_rate="0.04", stock=2)
        response = reserve(
            service_api_client,
            lines=[
                {"product_id": book.pk, "quantity": 1},
                {"product_id": kettle.pk, "quantity": 2},
                {"product_id": book.pk, "quantity": 1},  # summed with the first line
            ],
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["reference"] == "T-0000000001"
        assert body["state"] == "reserved"
        expires_at = Reservation.objects.get().expires_at
        assert timedelta(minutes=14) < expires_at - timezone.now() <= timedelta(minutes=15)
        assert sorted(body["lines"], key=lambda line: line["product_id"]) == sorted(
            [
                {
                    "product_id": kettle.pk,
                    "sku": kettle.sku,
                    "name": "Kettle",
                    "unit_price": "20.00",
                    "tax_rate": "0.21",
                    "quantity": 2,
                    "weight": None,
                },
                {
                    "product_id": book.pk,
                    "sku": book.sku,
                    "name": "Book",
                    "unit_price": "9.90",
                    "tax_rate": "0.04",
                    "quantity": 2,
                    "weight": None,
                },
            ],
            key=lambda line: line["product_id"],
        )
        assert (stock_of(kettle), stock_of(book)) == (3, 0)

    def test_ttl_seconds(self, service_api_client):
        product = ProductFactory()
        reserve(
            service_api_client, lines=[{"product_id": product.pk, "quantity": 1}], ttl_seconds=60
        )
        remaining = Reservation.objects.get().expires_at - timezone.now()
        assert timedelta(seconds=50) < remaining <= timedelta(seconds=60)

    def test_a_retry_returns_200_and_takes_nothing_more(self, service_api_client):
        product = ProductFactory(stock=5)
        lines = [{"product_id": product.pk, "quantity": 2}]
        first = reserve(service_api_client, lines=lines)
        again = reserve(service_api_client, lines=lines)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert stock_of(product) == 3

    def test_short_lines_are_409_and_nothing_is_held(self, service_api_client):
        plenty = ProductFactory(stock=10)
        scarce = ProductFactory(stock=1)
        body = assert_problem(
            reserve(
                service_api_client,
                lines=[
                    {"product_id": plenty.pk, "quantity": 3},
                    {"product_id": scarce.pk, "quantity": 2},
                ],
            ),
            409,
            "insufficient_stock",
        )
        assert body["short_lines"] == [{"product_id": scarce.pk, "requested": 2, "available": 1}]
        assert (stock_of(plenty), stock_of(scarce)) == (10, 1)
        assert not Reservation.objects.exists()

    def test_unknown_or_inactive_products_are_400_and_nothing_is_held(self, service_api_client):
        plenty = ProductFactory(stock=10)
        inactive = ProductFactory(stock=10, is_active=False)
        body = assert_problem(
            reserve(
                service_api_client,
                lines=[
                    {"product_id": plenty.pk, "quantity": 1},
                    {"product_id": inactive.pk, "quantity": 1},
                    {"product_id": 999999, "quantity": 1},
                ],
            ),
            400,
            "unknown_product",
        )
        assert sorted(body["product_ids"]) == sorted([inactive.pk, 999999])
        assert (stock_of(plenty), stock_of(inactive)) == (10, 10)
        assert not Reservation.objects.exists()

    def test_the_same_reference_with_other_lines_is_a_conflict(self, service_api_client):
        product = ProductFactory(stock=10)
        reserve(service_api_client, lines=[{"product_id": product.pk, "quantity": 1}])
        assert_problem(
            reserve(service_api_client, lines=[{"product_id": product.pk, "quantity": 2}]),
            409,
            "reference_conflict",
        )
        assert stock_of(product) == 9

    @pytest.mark.parametrize(
        "payload",
        [
            {},
            {"reference": "T-1", "lines": []},
            {"reference": "", "lines": [{"product_id": 1, "quantity": 1}]},
            {"reference": "x" * 65, "lines": [{"product_id": 1, "quantity": 1}]},
            {"reference": "T 1", "lines": [{"product_id": 1, "quantity": 1}]},
            {"reference": "T/1", "lines": [{"product_id": 1, "quantity": 1}]},
            {"reference": "T-1", "lines": [{"product_id": 1, "quantity": 0}]},
            {"reference": "T-1", "lines": [{"product_id": "a", "quantity": 1}]},
            {"reference": "T-1", "lines": [{"product_id": 1}]},
            {"reference": "T-1", "lines": [{"product_id": 1, "quantity": 1}], "ttl_seconds": 3601},
            {"reference": "T-1", "lines": [{"product_id": 1, "quantity": 1}], "ttl_seconds": 0},
            {"reference": "T-1", "lines": "nope"},
        ],
    )
    def test_invalid_payloads_are_400(self, service_api_client, payload):
        ProductFactory(pk=1, stock=5)
        assert_problem(service_api_client.post(f"{BASE}/reservations/", payload), 400, "invalid")
        assert not Reservation.objects.exists()
        assert Product.objects.get(pk=1).stock == 5


class TestCommitReleaseGet:
    @pytest.fixture
    def reserved(self, service_api_client):
        product = ProductFactory(stock=5)
        response = reserve(
            service_api_client, "T-R1", lines=[{"product_id": product.pk, "quantity": 2}]
        )
        assert response.status_code == 201
        return product

    def test_get(self, service_api_client, reserved):
        body = service_api_client.get(f"{BASE}/reservations/T-R1/").json()
        assert body["state"] == "reserved"
        assert body["lines"][0]["quantity"] == 2
        assert_problem(service_api_client.get(f"{BASE}/reservations/T-NOPE/"), 404)

    def test_commit_is_idempotent_and_keeps_the_stock_taken(self, service_api_client, reserved):
        for _ in range(2):
            response = service_api_client.post(f"{BASE}/reservations/T-R1/commit/")
            assert response.status_code == 200
            assert response.json()["state"] == "committed"
        assert stock_of(reserved) == 3
        # A reserve retried after the commit is still the same reservation.
        again = reserve(
            service_api_client, "T-R1", lines=[{"product_id": reserved.pk, "quantity": 2}]
        )
        assert (again.status_code, again.json()["state"]) == (200, "committed")
        assert stock_of(reserved) == 3

    def test_commit_unknown_is_404(self, service_api_client):
        assert_problem(
            service_api_client.post(f"{BASE}/reservations/T-NOPE/commit/"),
            404,
            "reservation_not_found",
        )
        assert not Reservation.objects.exists()

    def test_release_gives_the_stock_back_once(self, service_api_client, reserved):
        for _ in range(2):
            response = service_api_client.post(f"{BASE}/reservations/T-R1/release/")
            assert response.status_code == 200
            assert response.json()["state"] == "released"
        assert stock_of(reserved) == 5

    def test_release_after_commit_gives_the_stock_back(self, service_api_client, reserved):
        service_api_client.post(f"{BASE}/reservations/T-R1/commit/")
        assert service_api_client.post(f"{BASE}/reservations/T-R1/release/").status_code == 200
        assert stock_of(reserved) == 5

    def test_commit_after_release_is_409(self, service_api_client, reserved):
        service_api_client.post(f"{BASE}/reservations/T-R1/release/")
        assert_problem(
            service_api_client.post(f"{BASE}/reservations/T-R1/commit/"),
            409,
            "reservation_released",
        )
        assert Reservation.objects.get().state == "released"
        assert stock_of(reserved) == 5

    def test_reserve_after_release_is_409(self, service_api_client, reserved):
        service_api_client.post(f"{BASE}/reservations/T-R1/release/")
        assert_problem(
            reserve(service_api_client, "T-R1", lines=[{"product_id": reserved.pk, "quantity": 2}]),
            409,
            "reservation_released",
        )
        assert stock_of(reserved) == 5

    def test_release_of_an_unknown_reference_blocks_a_late_reserve(self, service_api_client):
        product = ProductFactory(stock=5)
        response = service_api_client.post(f"{BASE}/reservations/T-LATE/release/")
        assert response.status_code == 200
        assert response.json() == {
            "reference": "T-LATE",
            "state": "released",
            "expires_at": response.json()["expires_at"],
            "lines": [],
        }
        assert_problem(
            reserve(
                service_api_client, "T-LATE", lines=[{"product_id": product.pk, "quantity": 1}]
            ),
            409,
            "reservation_released",
        )
        assert stock_of(product) == 5

    def test_release_of_an_invalid_reference_is_400(self, service_api_client):
        assert_problem(service_api_client.post(f"{BASE}/reservations/{'x' * 65}/release/"), 400)
        assert not Reservation.objects.exists()

    def test_an_expired_but_unreleased_reservation_can_still_be_committed(
        self, service_api_client, reserved
    ):
        Reservation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
        response = service_api_client.post(f"{BASE}/reservations/T-R1/commit/")
        assert response.json()["state"] == "committed"
        assert stock_of(reserved) == 3


class TestReservationStatementBudgets:
    """Every checkout reserves and commits: a fixed number of statements, whatever the
    number of lines (BEGIN and COMMIT count)."""

    @pytest.mark.parametrize("line_count", [1, 5])
    def test_a_reserve_is_six_statements(
        self, service_api_client, line_count, django_assert_max_num_queries
    ):
        products = [ProductFactory(stock=4) for _ in range(line_count)]
        lines = [{"product_id": product.pk, "quantity": 3} for product in products]
        # BEGIN, the reference, the products locked, one UPDATE of their stock, the
        # lines, COMMIT.
        with django_assert_max_num_queries(6, using="ecommerce"):
            assert reserve(service_api_client, lines=lines).status_code == 201
        assert [stock_of(product) for product in products] == [1] * line_count
        assert sorted(
            Reservation.objects.get().lines.values_list("product_id", "quantity")
        ) == sorted((product.pk, 3) for product in products)

    def test_a_short_line_among_many_takes_nothing(self, service_api_client):
        plenty = [ProductFactory(stock=10) for _ in range(3)]
        scarce = ProductFactory(stock=2)
        lines = [{"product_id": product.pk, "quantity": 3} for product in [*plenty, scarce]]
        body = assert_problem(reserve(service_api_client, lines=lines), 409, "insufficient_stock")
        assert body["short_lines"] == [{"product_id": scarce.pk, "requested": 3, "available": 2}]
        assert [stock_of(product) for product in [*plenty, scarce]] == [10, 10, 10, 2]
        assert not Reservation.objects.exists()

    def test_a_commit_is_two_statements(self, service_api_client, django_assert_max_num_queries):
        product = ProductFactory(stock=5)
        reserve(service_api_client, "T-C1", lines=[{"product_id": product.pk, "quantity": 2}])
        # The conditional UPDATE, then the reservation joined to its lines.
        with django_assert_max_num_queries(2, using="ecommerce"):
            response = service_api_client.post(f"{BASE}/reservations/T-C1/commit/")
        assert response.json()["state"] == "committed"
        reservation = Reservation.objects.get(reference="T-C1")
        assert reservation.state == "committed" and reservation.committed_at is not None
        assert stock_of(product) == 3

    def test_a_release_gives_every_line_back_in_one_update(
        self, service_api_client, django_assert_max_num_queries
    ):
        products = [ProductFactory(stock=5) for _ in range(4)]
        lines = [
            {"product_id": product.pk, "quantity": index + 1}
            for index, product in enumerate(products)
        ]
        reserve(service_api_client, "T-L1", lines=lines)
        assert [stock_of(product) for product in products] == [4, 3, 2, 1]
        # BEGIN, the reservation locked, its lines, the stock, the state, COMMIT, the
        # lines of the answer.
        with django_assert_max_num_queries(7, using="ecommerce"):
            response = service_api_client.post(f"{BASE}/reservations/T-L1/release/")
        assert response.json()["state"] == "released"
        assert [stock_of(product) for product in products] == [5] * 4


def test_reservation_answers_are_the_serializers_shape(service_api_client):
    """The hand-shaped answers are ReservationSerializer's JSON, text for text."""
    from catalog.serializers import ReservationSerializer

    products = [ProductFactory(price="9.90", tax_rate="0.055", stock=9) for _ in range(3)]
    lines = [{"product_id": product.pk, "quantity": 2} for product in reversed(products)]

    def serialized(reference):
        reservation = Reservation.objects.prefetch_related("lines").get(reference=reference)
        return json.loads(json.dumps(ReservationSerializer(reservation).data))

    created = reserve(service_api_client, "T-S1", lines=lines)
    assert created.status_code == 201
    assert created.json() == serialized("T-S1")
    retried = reserve(service_api_client, "T-S1", lines=lines)
    assert (retried.status_code, retried.json()) == (200, serialized("T-S1"))
    assert service_api_client.get(f"{BASE}/reservations/T-S1/").json() == serialized("T-S1")
    for _ in range(2):  # the commit, then its retry
        committed = service_api_client.post(f"{BASE}/reservations/T-S1/commit/")
        assert committed.json()["state"] == "committed"
        assert committed.json() == serialized("T-S1")
    released = service_api_client.post(f"{BASE}/reservations/T-S1/release/")
    assert released.json() == serialized("T-S1")
    tombstone = service_api_client.post(f"{BASE}/reservations/T-S2/release/")
    assert tombstone.json() == serialized("T-S2")


def test_reservation_detail_costs_one_query(service_api_client, django_assert_max_num_queries):
    reservation = ReservationFactory()
    with django_assert_max_num_queries(1, using="ecommerce"):  # joined to its lines
        assert (
            service_api_client.get(f"{BASE}/reservations/{reservation.reference}/").status_code
            == 200
        )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=70),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
line_like = st.fixed_dictionaries(
    {"product_id": st.one_of(st.integers(), st.text(max_size=5), st.none()),
     "quantity": st.one_of(st.integers(), st.floats(), st.text(max_size=5))}
)  # fmt: skip
reserve_like = st.fixed_dictionaries(
    {"reference": st.one_of(st.text(max_size=70), st.integers(), st.none()),
     "lines": st.one_of(st.lists(line_like, max_size=4), json_values)},
    optional={"ttl_seconds": st.one_of(st.integers(), st.text(max_size=4), st.none())},
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=st.one_of(reserve_like, json_values))
def test_reserve_never_answers_a_server_error(service_api_client, payload):
    """Whatever a caller sends, a 4xx or a reservation; stock moves only with a 201/200."""
    product = Product.objects.get_or_create(
        sku="FUZZ", defaults={"slug": "fuzz", "name": "Fuzz", "price": 1, "tax_rate": "0.21"}
    )[0]
    before = stock_of(product)
    response = service_api_client.post(
        f"{BASE}/reservations/", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code < 500, response.content
    if response.status_code not in (200, 201):
        assert stock_of(product) == before
