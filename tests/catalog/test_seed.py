"""manage.py seed_catalog: realistic, deterministic for a seed, idempotent by sku."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Category, Product
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

FIELDS = ("sku", "slug", "name", "description", "category__slug", "price", "tax_rate", "stock",
          "is_active", "image_url", "weight")  # fmt: skip


def seed(*args) -> str:
    output = StringIO()
    call_command("seed_catalog", *args, stdout=output)
    return output.getvalue()


def catalogue() -> list[tuple]:
    return list(Product.objects.order_by("sku").values_list(*FIELDS))


def test_seeds_a_tree_and_realistic_products():
    output = seed("--products", "300", "--seed", "7")
    assert "300 products created" in output
    top_level = Category.objects.filter(parent=None)
    assert top_level.count() == 8
    for category in top_level:
        assert 3 <= category.children.count() <= 5
    assert Product.objects.count() == 300
    assert not Product.objects.filter(category__parent=None).exists()  # products sit in leaves
    assert set(Product.objects.values_list("tax_rate", flat=True)) == {
        Decimal("0.21"), Decimal("0.10"), Decimal("0.04"),
    }  # fmt: skip
    assert Product.objects.filter(stock=0).exists()
    assert Product.objects.filter(stock__gt=0).count() > 250
    assert all(Decimal("1") <= price <= Decimal("2500") for price in
               Product.objects.values_list("price", flat=True))  # fmt: skip
    books = Product.objects.filter(category__parent__slug="books")
    assert set(books.values_list("tax_rate", flat=True)) == {Decimal("0.04")}


def test_same_seed_same_catalogue_and_other_seed_another():
    seed("--products", "40", "--seed", "3")
    first = catalogue()
    Product.objects.all().delete()
    seed("--products", "40", "--seed", "3")
    assert catalogue() == first
    Product.objects.all().delete()
    seed("--products", "40", "--seed", "4")
    other = catalogue()
    assert [row[0] for row in other] == [row[0] for row in first]  # same skus
    assert [row[2] for row in other] != [row[2] for row in first]  # other names


def test_rerunning_creates_nothing_and_changes_nothing():
    seed("--products", "50", "--seed", "1")
    before = catalogue()
    Product.objects.filter(sku="TND-0000001").update(stock=999)  # a staff change survives
    output = seed("--products", "50", "--seed", "1")
    assert "0 categories created, 0 products created, 50 already present" in output
    assert Product.objects.count() == 50
    assert Product.objects.get(sku="TND-0000001").stock == 999
    assert [row for row in catalogue() if row[0] != "TND-0000001"] == [
        row for row in before if row[0] != "TND-0000001"
    ]


def test_growing_the_catalogue_adds_only_the_missing_products():
    seed("--products", "20", "--seed", "5")
    small = catalogue()
    output = seed("--products", "30", "--seed", "5", "--batch-size", "7")
    assert "10 products created, 20 already present" in output
    assert catalogue()[:20] == small


def test_progress_is_printed_on_large_runs_only():
    assert "products  (" not in seed("--products", "10")
    assert seed("--products", "10", "--verbosity", "2").count("products  (") == 1


def test_bad_arguments():
    with pytest.raises(CommandError):
        seed("--products", "-1")
