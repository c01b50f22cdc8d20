"""Tax by destination: the catalog's table of rates per country and tax class, and the
internal lookup and reservation that apply it when TAX_BY_DESTINATION is on."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from catalog.eu_vat import CHECKED_ON, EU_VAT_RATES, eu_tax_rate_rows
from catalog.models import ReservationLine, TaxRate
from tests.catalog.factories import ProductFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

BASE = "/internal/catalog"
D = Decimal


@pytest.fixture
def german_rates():
    for tax_class, rate in (("standard", "0.19"), ("reduced", "0.07")):
        TaxRate.objects.update_or_create(
            country="DE",
            tax_class=tax_class,
            defaults={"rate": D(rate), "checked_on": datetime.date(2026, 1, 1)},
        )
    TaxRate.objects.filter(country="DE", tax_class="super_reduced").delete()


@pytest.fixture
def products():
    return {
        "kettle": ProductFactory(price="40.00", tax_rate="0.21", weight=D("1.250")),
        "book": ProductFactory(price="10.00", tax_rate="0.04", tax_class="reduced"),
        "bread": ProductFactory(price="2.00", tax_rate="0.04", tax_class="super_reduced"),
    }


def lookup(client, products, country=None):
    query = {"ids": ",".join(str(product.pk) for product in products.values())}
    if country is not None:
        query["country"] = country
    response = client.get(f"{BASE}/products/", query)
    assert response.status_code == 200, response.json()
    by_id = {row["id"]: row for row in response.json()["results"]}
    return {name: by_id[product.pk] for name, product in products.items()}


def test_the_eu_table_has_every_member_states_standard_and_reduced_rate():
    assert len(EU_VAT_RATES) == 27
    rows = {(row["country"], row["tax_class"]): row["rate"] for row in eu_tax_rate_rows()}
    assert {country for country, _ in rows} == set(EU_VAT_RATES)
    for country in EU_VAT_RATES:
        assert (country, "standard") in rows and (country, "reduced") in rows
        assert rows[(country, "reduced")] <= rows[(country, "standard")]
    assert (rows[("ES", "standard")], rows[("DE", "standard")], rows[("FR", "reduced")]) == (
        D("0.21"),
        D("0.19"),
        D("0.055"),
    )


def test_the_migration_seeded_the_table_with_its_checked_date():
    seeded = TaxRate.objects.filter(checked_on=CHECKED_ON)
    assert seeded.filter(tax_class="standard").count() == 27
    assert seeded.get(country="ES", tax_class="standard").rate == D("0.21")


def test_off_by_default_every_country_pays_the_products_own_rate(
    settings, service_api_client, products, german_rates
):
    assert settings.TAX_BY_DESTINATION is False
    rows = lookup(service_api_client, products, "DE")
    assert [rows[name]["tax_rate"] for name in products] == ["0.21", "0.04", "0.04"]
    assert rows == lookup(service_api_client, products)  # exactly as without a country


def test_on_the_destinations_rate_for_each_class_applies(
    settings, service_api_client, products, german_rates, django_assert_max_num_queries
):
    settings.TAX_BY_DESTINATION = True
    with django_assert_max_num_queries(2, using="ecommerce"):  # products, then the rates
        rows = lookup(service_api_client, products, "DE")
    # No German super-reduced row: the product's own rate.
    assert [rows[name]["tax_rate"] for name in products] == ["0.19", "0.07", "0.04"]
    assert (rows["kettle"]["tax_class"], rows["kettle"]["weight"]) == ("standard", "1.250")
    assert rows["book"]["weight"] is None
    # Without a country: the products' own rates, as always.
    plain = lookup(service_api_client, products)
    assert [plain[name]["tax_rate"] for name in products] == ["0.21", "0.04", "0.04"]


@pytest.mark.parametrize("country", ["XX", "de", "DEU", ""])
def test_a_country_that_is_not_one_is_400(settings, service_api_client, products, country):
    settings.TAX_BY_DESTINATION = True
    response = service_api_client.get(
        f"{BASE}/products/", {"ids": str(products["kettle"].pk), "country": country}
    )
    assert "country" in assert_problem(response, 400)["errors"]
    response = service_api_client.post(
        f"{BASE}/reservations/",
        {
            "reference": "T-TAXBAD0001",
            "lines": [{"product_id": products["kettle"].pk, "quantity": 1}],
            "country": country,
        },
        format="json",
    )
    assert "country" in assert_problem(response, 400)["errors"]
    assert not ReservationLine.objects.exists()
    products["kettle"].refresh_from_db()
    assert products["kettle"].stock == 10


def reserve(client, reference, products, country):
    return client.post(
        f"{BASE}/reservations/",
        {
            "reference": reference,
            "lines": [{"product_id": product.pk, "quantity": 2} for product in products.values()],
            "country": country,
        },
        format="json",
    )


def test_the_reservation_keeps_the_rate_it_charged(
    settings, service_api_client, products, german_rates
):
    settings.TAX_BY_DESTINATION = True
    response = reserve(service_api_client, "T-TAXDE00001", products, "DE")
    assert response.status_code == 201, response.json()
    lines = {line["product_id"]: line for line in response.json()["lines"]}
    assert [lines[product.pk]["tax_rate"] for product in products.values()] == [
        "0.19",
        "0.07",
        "0.04",
    ]
    assert lines[products["kettle"].pk]["weight"] == "1.250"
    stored = dict(
        ReservationLine.objects.filter(reservation__reference="T-TAXDE00001").values_list(
            "product_id", "tax_rate"
        )
    )
    assert stored == {
        products["kettle"].pk: D("0.19"),
        products["book"].pk: D("0.07"),
        products["bread"].pk: D("0.04"),
    }
    # The rate changes later; a retry of the same reservation answers what was charged.
    TaxRate.objects.filter(country="DE", tax_class="standard").update(rate=D("0.20"))
    again = reserve(service_api_client, "T-TAXDE00001", products, "DE")
    assert again.status_code == 200 and again.json()["lines"] == response.json()["lines"]


def test_a_reservation_with_the_setting_off_charges_the_products_rates(
    service_api_client, products, german_rates
):
    response = reserve(service_api_client, "T-TAXOFF0001", products, "DE")
    assert [line["tax_rate"] for line in response.json()["lines"]] == ["0.21", "0.04", "0.04"]


def test_staff_keep_the_rates_in_the_catalog_admin(client):
    boss = User.objects.create_superuser("vat", "vat@example.com", "pw-not-used")
    client.force_login(boss)
    page = client.get("/catalog/admin/catalog/taxrate/?q=DE").content.decode()
    assert "DE" in page
    rate = TaxRate.objects.get(country="DE", tax_class="standard")
    response = client.post(
        f"/catalog/admin/catalog/taxrate/{rate.pk}/change/",
        {"country": "DE", "tax_class": "standard", "rate": "0.2", "checked_on": "2026-12-01"},
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert (rate.rate, rate.checked_on) == (D("0.2000"), datetime.date(2026, 12, 1))
    refused = client.post(
        f"/catalog/admin/catalog/taxrate/{rate.pk}/change/",
        {"country": "DE", "tax_class": "standard", "rate": "1.5", "checked_on": "2026-12-01"},
    )
    assert refused.status_code == 200
    rate.refresh_from_db()
    assert rate.rate == D("0.2000")


def test_a_product_carries_its_tax_class_in_the_public_api(api_client, staff_client):
    product = ProductFactory(tax_class="reduced")
    assert api_client.get(f"/api/v1/catalog/products/{product.pk}/").json()["tax_class"] == (
        "reduced"
    )
    response = staff_client.patch(
        f"/api/v1/catalog/products/{product.pk}/", {"tax_class": "zero"}, format="json"
    )
    assert response.status_code == 200, response.json()
    product.refresh_from_db()
    assert product.tax_class == "zero"
    bad = staff_client.patch(
        f"/api/v1/catalog/products/{product.pk}/", {"tax_class": "luxury"}, format="json"
    )
    assert "tax_class" in assert_problem(bad, 400)["errors"]
    product.refresh_from_db()
    assert product.tax_class == "zero"
