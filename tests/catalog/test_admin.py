"""The staff back office (/catalog/admin/): it writes through the same services as the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Category, Product
from catalog.services import reservation_reserve
from tests.catalog.factories import CategoryFactory, ProductFactory, ReservationLineFactory
from tests.support.databases import BOTH_DATABASES

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

ADMIN = "/catalog/admin/catalog"


def changelist_post(products, **changes) -> dict:
    """The list-editable formset as the page posts it; changes = {index: {field: value}}."""
    data = {
        "form-TOTAL_FORMS": str(len(products)),
        "form-INITIAL_FORMS": str(len(products)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, product in enumerate(products):
        data[f"form-{index}-id"] = str(product.pk)
        data[f"form-{index}-price"] = str(product.price)
        data[f"form-{index}-stock"] = str(product.stock)
        data[f"initial-form-{index}-stock"] = str(product.stock)  # what the page showed
        for field, value in changes.get(f"row{index}", {}).items():
            data[f"form-{index}-{field}"] = str(value)
    return data


class TestProductList:
    def test_search_and_filters(self, admin_client, settings):
        settings.LOW_STOCK_THRESHOLD = 5
        ProductFactory(sku="FULL", name="Full shelf", stock=50)
        ProductFactory(sku="LOW", name="Nearly gone", stock=2)
        ProductFactory(sku="NONE", name="Sold out", stock=0)

        def listed(**params):
            response = admin_client.get(f"{ADMIN}/product/", params)
            assert response.status_code == 200
            return sorted(product.sku for product in response.context["cl"].result_list)

        assert listed() == ["FULL", "LOW", "NONE"]
        assert listed(in_stock="yes") == ["FULL", "LOW"]
        assert listed(in_stock="no") == ["NONE"]
        assert listed(low_stock="yes") == ["LOW", "NONE"]
        assert listed(q="gone") == ["LOW"]
        assert listed(q="FULL") == ["FULL"]

    def test_changelist_queries_do_not_grow_with_rows(
        self, admin_client, django_assert_max_num_queries
    ):
        ProductFactory.create_batch(40, category=CategoryFactory())
        # Session and user (auth_db), the page, the category filter's choices, and the like.
        with django_assert_max_num_queries(12):
            assert admin_client.get(f"{ADMIN}/product/").status_code == 200

    def test_list_editable_sets_price_and_stock(self, admin_client):
        kettle, lamp = ProductFactory(stock=5, price="10.00"), ProductFactory(stock=5)
        response = admin_client.post(
            f"{ADMIN}/product/",
            changelist_post([kettle, lamp], row0={"stock": 12, "price": "11.50"}),
        )
        assert response.status_code == 302
        kettle.refresh_from_db()
        lamp.refresh_from_db()
        assert (str(kettle.price), kettle.stock, lamp.stock) == ("11.50", 12, 5)

    def test_a_price_edit_does_not_overwrite_stock_moved_by_a_reservation(self, admin_client):
        kettle = ProductFactory(stock=5, price="10.00")
        page = changelist_post([kettle], row0={"price": "9.00"})  # the page shows stock 5
        reservation_reserve(reference="T-ADMIN", lines=[{"product_id": kettle.pk, "quantity": 2}])
        assert admin_client.post(f"{ADMIN}/product/", page).status_code == 302
        kettle.refresh_from_db()
        assert (str(kettle.price), kettle.stock) == ("9.00", 3)

    def test_a_stale_stock_edit_is_refused(self, admin_client):
        kettle = ProductFactory(stock=5)
        page = changelist_post([kettle], row0={"stock": 20})  # typed over a shown 5
        reservation_reserve(reference="T-ADMIN", lines=[{"product_id": kettle.pk, "quantity": 2}])
        response = admin_client.post(f"{ADMIN}/product/", page)
        assert response.status_code == 200
        assert "changed from 5 to 3" in response.content.decode()
        kettle.refresh_from_db()
        assert kettle.stock == 3

    def test_negative_stock_is_a_form_error(self, admin_client):
        kettle = ProductFactory(stock=5)
        response = admin_client.post(
            f"{ADMIN}/product/", changelist_post([kettle], row0={"stock": -1})
        )
        assert response.status_code == 200
        kettle.refresh_from_db()
        assert kettle.stock == 5

    def test_deactivate_and_activate_actions(self, admin_client):
        products = ProductFactory.create_batch(3)
        selected = [str(product.pk) for product in products[:2]]
        response = admin_client.post(
            f"{ADMIN}/product/", {"action": "deactivate_products", "_selected_action": selected}
        )
        assert response.status_code == 302
        assert dict(Product.objects.values_list("pk", "is_active")) == {
            products[0].pk: False,
            products[1].pk: False,
            products[2].pk: True,
        }
        admin_client.post(
            f"{ADMIN}/product/", {"action": "activate_products", "_selected_action": selected}
        )
        assert Product.objects.filter(is_active=True).count() == 3

    def test_export_selected_action(self, admin_client):
        products = ProductFactory.create_batch(3)
        response = admin_client.post(
            f"{ADMIN}/product/",
            {"action": "export_products_csv", "_selected_action": [str(products[1].pk)]},
        )
        assert response["Content-Type"].startswith("text/csv")
        lines = response.content.decode().splitlines()
        assert lines[0].startswith("sku,name,slug")
        assert len(lines) == 2 and lines[1].startswith(products[1].sku)


class TestProductForm:
    def form_data(self, **overrides) -> dict:
        return {
            "sku": "ADM-1",
            "name": "Admin kettle",
            "slug": "admin-kettle",
            "description": "",
            "category": "",
            "price": "15.00",
            "tax_rate": "0.21",
            "tax_class": "standard",
            "stock": "4",
            "initial-stock": "0",
            "is_active": "on",
            "image_url": "",
            "weight": "",
            **overrides,
        }

    def test_add(self, admin_client):
        response = admin_client.post(f"{ADMIN}/product/add/", self.form_data())
        assert response.status_code == 302, response.context["adminform"].form.errors
        product = Product.objects.get(sku="ADM-1")
        assert (product.stock, str(product.price)) == (4, "15.00")

    def test_add_with_invalid_values_shows_errors(self, admin_client):
        response = admin_client.post(
            f"{ADMIN}/product/add/", self.form_data(price="-1", tax_rate="2")
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert {"price", "tax_rate"} <= set(errors)
        assert not Product.objects.exists()

    def test_change_keeps_stock_moved_meanwhile(self, admin_client):
        product = ProductFactory(sku="ADM-1", slug="admin-kettle", stock=4)
        data = self.form_data(name="Renamed", **{"initial-stock": "4"})
        reservation_reserve(reference="T-FORM", lines=[{"product_id": product.pk, "quantity": 1}])
        response = admin_client.post(f"{ADMIN}/product/{product.pk}/change/", data)
        assert response.status_code == 302
        product.refresh_from_db()
        assert (product.name, product.stock) == ("Renamed", 3)

    def test_change_page_renders(self, admin_client):
        product = ProductFactory()
        assert admin_client.get(f"{ADMIN}/product/{product.pk}/change/").status_code == 200
        assert admin_client.get(f"{ADMIN}/product/add/").status_code == 200


class TestCsvViews:
    def test_export_all(self, admin_client):
        ProductFactory.create_batch(3)
        response = admin_client.get(f"{ADMIN}/product/export-csv/")
        assert response.status_code == 200
        assert 'attachment; filename="products-' in response["Content-Disposition"]
        assert len(response.content.decode().splitlines()) == 4

    def test_changelist_links_to_import_and_export(self, admin_client):
        page = admin_client.get(f"{ADMIN}/product/").content.decode()
        assert f"{ADMIN}/product/import-csv/" in page
        assert f"{ADMIN}/product/export-csv/" in page

    def test_import_applies_a_good_file(self, admin_client):
        ProductFactory(sku="OLD-1", stock=1)
        upload = SimpleUploadedFile(
            "products.csv",
            "\ufeffsku,name,price,tax_rate,stock\nOLD-1,Old,5.00,0.21,9\nNEW-1,New,3.00,0.10,2\n".encode(),
            content_type="text/csv",
        )
        assert admin_client.get(f"{ADMIN}/product/import-csv/").status_code == 200
        response = admin_client.post(f"{ADMIN}/product/import-csv/", {"file": upload})
        assert response.status_code == 302
        assert dict(Product.objects.values_list("sku", "stock")) == {"OLD-1": 9, "NEW-1": 2}

    def test_import_reports_bad_lines_and_applies_nothing(self, admin_client):
        ProductFactory(sku="OLD-1", stock=1)
        upload = SimpleUploadedFile(
            "products.csv", b"sku,stock\nOLD-1,9\nOLD-2,-4\n", content_type="text/csv"
        )
        response = admin_client.post(f"{ADMIN}/product/import-csv/", {"file": upload})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Line 3: " in page
        assert "stock: Ensure this value is greater than or equal to 0." in page
        assert Product.objects.get(sku="OLD-1").stock == 1

    def test_import_needs_add_and_change_permissions(self, client, django_user_model):
        viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
        client.force_login(viewer)
        assert client.get(f"{ADMIN}/product/import-csv/").status_code == 403


class TestCategoriesAndReservations:
    def test_add_a_category_with_a_parent(self, admin_client):
        parent = CategoryFactory(slug="home")
        response = admin_client.post(
            f"{ADMIN}/category/add/", {"name": "Lamps", "slug": "lamps", "parent": parent.pk}
        )
        assert response.status_code == 302
        assert Category.objects.get(slug="lamps").parent == parent

    def test_a_category_cannot_become_its_own_ancestor(self, admin_client):
        top = CategoryFactory(slug="top")
        child = CategoryFactory(slug="child", parent=top)
        response = admin_client.post(
            f"{ADMIN}/category/{top.pk}/change/", {"name": "Top", "slug": "top", "parent": child.pk}
        )
        assert response.status_code == 200
        top.refresh_from_db()
        assert top.parent is None

    def test_reservations_are_read_only(self, admin_client):
        line = ReservationLineFactory()
        reservation = line.reservation
        assert admin_client.get(f"{ADMIN}/reservation/").status_code == 200
        page = admin_client.get(f"{ADMIN}/reservation/{reservation.pk}/change/")
        assert page.status_code == 200
        assert line.sku in page.content.decode()
        assert admin_client.get(f"{ADMIN}/reservation/add/").status_code == 403
        response = admin_client.post(
            f"{ADMIN}/reservation/{reservation.pk}/change/", {"state": "released"}
        )
        assert response.status_code == 403
        reservation.refresh_from_db()
        assert reservation.state == "reserved"
