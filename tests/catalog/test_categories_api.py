"""Categories: public reads, staff writes, a tree without cycles."""

import pytest

from catalog.models import Category
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

CATEGORIES = "/api/v1/catalog/categories/"


def test_anyone_reads_the_list_and_a_category(api_client):
    home = CategoryFactory(name="Home", slug="home")
    CategoryFactory(name="Kitchen", slug="kitchen", parent=home)
    kitchen = Category.objects.get(slug="kitchen")
    body = api_client.get(CATEGORIES).json()
    assert body["count"] == 2
    assert body["results"] == [
        {"id": home.pk, "name": "Home", "slug": "home", "parent": None},
        {"id": kitchen.pk, "name": "Kitchen", "slug": "kitchen", "parent": home.pk},
    ]
    assert api_client.get(f"{CATEGORIES}{home.pk}/").json()["slug"] == "home"


def test_list_costs_one_query(api_client, django_assert_max_num_queries):
    CategoryFactory.create_batch(30)
    with django_assert_max_num_queries(1, using="ecommerce"):
        assert api_client.get(CATEGORIES, {"page_size": 30}).status_code == 200


def test_pages_of_the_list_are_cut_as_before(api_client):
    CategoryFactory.create_batch(5)
    names = [category.name for category in Category.objects.order_by("name", "id")]
    second = api_client.get(CATEGORIES, {"page_size": 2, "page": 2}).json()
    assert second["count"] == 5
    assert [row["name"] for row in second["results"]] == names[2:4]
    assert "page=3" in second["next"] and "page=" not in second["previous"]  # DRF: page 1
    last = api_client.get(CATEGORIES, {"page_size": 2, "page": 3}).json()
    assert [row["name"] for row in last["results"]] == names[4:] and last["next"] is None
    assert_problem(api_client.get(CATEGORIES, {"page_size": 2, "page": 4}), 404, "not_found")


def test_staff_creates_with_a_default_slug(staff_client):
    parent = CategoryFactory(slug="home")
    response = staff_client.post(CATEGORIES, {"name": "Garden Tools", "parent": parent.pk})
    assert response.status_code == 201, response.content
    created = Category.objects.get(slug="garden-tools")
    assert created.parent == parent
    assert response.json() == {
        "id": created.pk,
        "name": "Garden Tools",
        "slug": "garden-tools",
        "parent": parent.pk,
    }


def test_duplicate_slug_is_400(staff_client):
    CategoryFactory(slug="garden")
    body = assert_problem(staff_client.post(CATEGORIES, {"name": "Garden"}), 400, "invalid")
    assert "slug" in body["errors"]
    assert Category.objects.count() == 1


def test_a_category_cannot_move_under_its_own_descendant(staff_client):
    top = CategoryFactory(slug="top")
    middle = CategoryFactory(slug="middle", parent=top)
    leaf = CategoryFactory(slug="leaf", parent=middle)
    for new_parent in (leaf, top):
        body = assert_problem(
            staff_client.patch(f"{CATEGORIES}{top.pk}/", {"parent": new_parent.pk}), 400
        )
        assert "parent" in body["errors"]
    top.refresh_from_db()
    assert top.parent is None


def test_rename_and_move(staff_client):
    one, two = CategoryFactory(slug="one"), CategoryFactory(slug="two")
    response = staff_client.patch(f"{CATEGORIES}{two.pk}/", {"name": "Two", "parent": one.pk})
    assert response.status_code == 200, response.content
    two.refresh_from_db()
    assert (two.name, two.parent) == ("Two", one)


def test_delete_an_empty_category(staff_client):
    category = CategoryFactory()
    assert staff_client.delete(f"{CATEGORIES}{category.pk}/").status_code == 204
    assert not Category.objects.exists()


def test_a_category_in_use_is_not_deleted(staff_client):
    parent = CategoryFactory(slug="parent")
    CategoryFactory(slug="child", parent=parent)
    with_products = CategoryFactory(slug="stocked")
    ProductFactory(category=with_products)
    for category in (parent, with_products):
        assert_problem(staff_client.delete(f"{CATEGORIES}{category.pk}/"), 409, "category_in_use")
    assert Category.objects.count() == 3


def test_writes_need_the_permissions(api_client, customer_client):
    assert_problem(api_client.post(CATEGORIES, {"name": "X"}), 401)
    assert_problem(customer_client.post(CATEGORIES, {"name": "X"}), 403)
    assert not Category.objects.exists()
