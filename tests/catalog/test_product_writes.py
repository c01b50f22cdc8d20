"""Staff change products through the API and through the admin: the same services
behind both, so the same rules, answers and database state. Each test runs once per
way in; a few drive both on one product."""

import io
import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from catalog import admin as admin_module
from catalog.csv_io import CsvImportError, products_import_csv
from catalog.errors import CatalogErrorCode
from catalog.models import Product
from catalog.services import products_delete, reservation_reserve
from shopkit.errors import ApplicationError
from tests.catalog.factories import ProductFactory, ReservationLineFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.problems import assert_problem

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

PRODUCTS = "/api/v1/catalog/products/"
ADMIN = "/catalog/admin/catalog/product/"


@dataclass
class Outcome:
    written: bool
    errors: dict[str, list[str]]  # field (or "detail") -> messages


def snapshot(product: Product) -> Product:
    """The product as a reader saw it now (an API GET, an admin page)."""
    return Product.objects.get(pk=product.pk)


def state(product: Product) -> tuple:
    row = Product.objects.get(pk=product.pk)
    return (row.name, row.price, row.stock, row.is_active)


class ApiWriter:
    """A staff member using the API: PATCH with the stock they read as expected_stock."""

    name = "api"

    def __init__(self, client):
        self.client = client

    def change(self, shown: Product, **changes) -> Outcome:
        body = {name: str(value) for name, value in changes.items()}
        if "stock" in changes:
            body["expected_stock"] = shown.stock
        response = self.client.patch(f"{PRODUCTS}{shown.pk}/", body, format="json")
        if response.status_code == 200:
            return Outcome(True, {})
        problem = assert_problem(response, response.status_code)
        if problem["code"] == CatalogErrorCode.STALE_STOCK:
            assert response.status_code == 409
            return Outcome(False, {"stock": [problem["detail"]]})
        assert (response.status_code, problem["code"]) == (400, "invalid")
        return Outcome(False, problem["errors"])

    def delete(self, product: Product) -> None:
        assert self.client.delete(f"{PRODUCTS}{product.pk}/").status_code == 204


class AdminWriter:
    """A staff member in the admin: the change form as the page posts it."""

    name = "admin"

    def __init__(self, client):
        self.client = client

    def change(self, shown: Product, **changes) -> Outcome:
        response = self.client.post(f"{ADMIN}{shown.pk}/change/", change_form(shown, **changes))
        if response.status_code == 302:
            return Outcome(True, {})
        assert response.status_code == 200
        form = response.context["adminform"].form
        return Outcome(False, {name: list(messages) for name, messages in form.errors.items()})

    def delete(self, product: Product) -> None:
        response = self.client.post(
            ADMIN, {"action": "deactivate_products", "_selected_action": [str(product.pk)]}
        )
        assert response.status_code == 302


def change_form(shown: Product, **changes) -> dict:
    """The admin change form of `shown` (what the page showed), with `changes` typed in."""
    data = {
        "sku": shown.sku,
        "name": shown.name,
        "slug": shown.slug,
        "description": shown.description,
        "category": shown.category_id or "",
        "price": str(shown.price),
        "tax_rate": str(shown.tax_rate),
        "tax_class": shown.tax_class,
        "stock": str(shown.stock),
        "initial-stock": str(shown.stock),  # the hidden copy of the stock shown
        "is_active": "on" if shown.is_active else "",
        "image_url": shown.image_url,
        "weight": "" if shown.weight is None else str(shown.weight),
    }
    data.update({name: str(value) for name, value in changes.items()})
    if not data["is_active"]:
        del data["is_active"]  # an unticked checkbox is not posted
    return data


@pytest.fixture
def api_writer(staff_client):
    return ApiWriter(staff_client)


@pytest.fixture
def admin_writer(admin_client):
    return AdminWriter(admin_client)


@pytest.fixture(params=["api", "admin"])
def writer(request):
    return request.getfixturevalue(f"{request.param}_writer")


def take(product: Product, quantity: int, reference: str) -> None:
    """A checkout reserves units of the product (the stock moves under the writer)."""
    reservation_reserve(
        reference=reference, lines=[{"product_id": product.pk, "quantity": quantity}]
    )


class TestEitherWayIn:
    def test_a_stock_edit_over_a_stock_moved_meanwhile_is_refused(self, writer):
        kettle = ProductFactory(stock=5)
        shown = snapshot(kettle)
        take(kettle, 2, "T-STALE")
        outcome = writer.change(shown, stock=20)
        assert not outcome.written
        assert outcome.errors == {
            "stock": [
                "The stock changed from 5 to 3 while you were editing (orders or another "
                "user); check the new value and save again."
            ]
        }
        assert state(kettle) == (kettle.name, kettle.price, 3, True)

    def test_a_stock_edit_over_the_current_stock_is_written(self, writer):
        kettle = ProductFactory(stock=5)
        assert writer.change(snapshot(kettle), stock=20).written
        assert state(kettle)[2] == 20

    def test_an_edit_that_leaves_stock_alone_keeps_what_reservations_took(self, writer):
        kettle = ProductFactory(stock=5, price="10.00")
        shown = snapshot(kettle)
        take(kettle, 2, "T-PRICE")
        assert writer.change(shown, price="9.00", name="Kettle, cheaper").written
        assert state(kettle) == ("Kettle, cheaper", Decimal("9.00"), 3, True)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [({"price": "-1"}, "price"), ({"tax_rate": "1.5"}, "tax_rate"), ({"stock": -1}, "stock")],
    )
    def test_values_out_of_the_models_limits_are_refused_with_the_same_message(
        self, writer, changes, field
    ):
        kettle = ProductFactory(stock=5, price="10.00")
        outcome = writer.change(snapshot(kettle), **changes)
        assert not outcome.written
        assert set(outcome.errors) == {field}
        assert outcome.errors[field][0].startswith("Ensure this value is ")
        assert state(kettle) == (kettle.name, Decimal("10.00"), 5, True)

    def test_a_slug_taken_by_another_product_is_refused(self, writer):
        ProductFactory(slug="taken")
        kettle = ProductFactory(slug="kettle")
        outcome = writer.change(snapshot(kettle), slug="taken")
        assert not outcome.written and set(outcome.errors) == {"slug"}
        assert Product.objects.get(pk=kettle.pk).slug == "kettle"

    def test_delete_deactivates_and_keeps_the_row(self, writer):
        kettle = ProductFactory()
        writer.delete(kettle)
        assert Product.objects.filter(pk=kettle.pk, is_active=False).exists()


class TestBothOnOneProduct:
    def test_the_api_moves_the_stock_under_an_open_admin_page(self, api_writer, admin_client):
        kettle = ProductFactory(stock=5)
        page = snapshot(kettle)  # staff open the change page
        assert api_writer.change(snapshot(kettle), stock=7).written
        response = admin_client.post(f"{ADMIN}{kettle.pk}/change/", change_form(page, stock=9))
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert form.errors["stock"] == [
            "The stock changed from 5 to 7 while you were editing (orders or another "
            "user); check the new value and save again."
        ]
        assert state(kettle)[2] == 7
        # The page shows the refused value again, now checked against the 7 staff saw:
        # saving it once more is written.
        assert form.data["initial-stock"] == "7" and form.data["stock"] == "9"
        again = admin_client.post(f"{ADMIN}{kettle.pk}/change/", form.data)
        assert again.status_code == 302
        assert state(kettle)[2] == 9

    def test_the_admin_moves_the_stock_under_an_api_reader(self, api_writer, admin_writer):
        kettle = ProductFactory(stock=5)
        read_by_api = snapshot(kettle)
        assert admin_writer.change(snapshot(kettle), stock=1).written
        outcome = api_writer.change(read_by_api, stock=4)
        assert outcome.errors["stock"][0].startswith("The stock changed from 5 to 1 ")
        assert state(kettle)[2] == 1

    def test_an_admin_changelist_row_is_refused_like_the_api(self, api_writer, admin_client):
        kettle, lamp = ProductFactory(stock=5), ProductFactory(stock=8)
        page = {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "_save": "Save",
        }
        for index, product in enumerate([kettle, lamp]):
            page |= {
                f"form-{index}-id": str(product.pk),
                f"form-{index}-price": str(product.price),
                f"form-{index}-stock": str(product.stock),
                f"initial-form-{index}-stock": str(product.stock),
            }
        page |= {"form-0-stock": "6", "form-1-stock": "10"}  # staff type both rows
        assert api_writer.change(snapshot(lamp), stock=2).written
        response = admin_client.post(ADMIN, page)
        assert response.status_code == 200
        forms = response.context["cl"].formset.forms
        assert forms[0].errors == {}
        assert forms[1].errors["stock"][0].startswith("The stock changed from 8 to 2 ")
        # One save for the page: the good row was not written either.
        assert (state(kettle)[2], state(lamp)[2]) == (5, 2)

    def test_expected_stock_is_only_for_changes(self, staff_client):
        body = {"sku": "NEW-1", "name": "New", "price": "1.00", "tax_rate": "0.21"}
        problem = assert_problem(
            staff_client.post(PRODUCTS, {**body, "expected_stock": 0}), 400, "invalid"
        )
        assert "expected_stock" in problem["errors"]
        assert not Product.objects.exists()


class TestErasing:
    """Django's delete is off in the admin; erasing is a separate, guarded action."""

    def test_the_admin_has_no_plain_delete(self, admin_client):
        kettle = ProductFactory()
        assert admin_client.get(f"{ADMIN}{kettle.pk}/delete/").status_code == 403
        response = admin_client.post(
            ADMIN,
            {"action": "delete_selected", "_selected_action": [str(kettle.pk)], "post": "yes"},
        )
        assert response.status_code == 302  # "no action selected": back to the list
        assert Product.objects.filter(pk=kettle.pk).exists()

    def test_never_reserved_products_are_erased(self, admin_client):
        kept, erased = ProductFactory(), ProductFactory()
        response = admin_client.post(
            ADMIN, {"action": "erase_products", "_selected_action": [str(erased.pk)]}
        )
        assert response.status_code == 302
        assert list(Product.objects.values_list("pk", flat=True)) == [kept.pk]

    def test_a_selection_with_a_reserved_product_erases_nothing(self, admin_client):
        line = ReservationLineFactory()
        never_reserved = ProductFactory()
        response = admin_client.post(
            ADMIN,
            {
                "action": "erase_products",
                "_selected_action": [str(line.product_id), str(never_reserved.pk)],
            },
            follow=True,
        )
        assert "were ever reserved or ordered are kept" in response.content.decode()
        assert Product.objects.count() == 2

    def test_erasing_needs_the_delete_permission(self, client, django_user_model):
        manager = django_user_model.objects.create_user("manager", password="pw", is_staff=True)
        manager.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="catalog", codename__in=["view_product", "change_product"]
            )
        )
        client.force_login(manager)
        kettle = ProductFactory()
        client.post(ADMIN, {"action": "erase_products", "_selected_action": [str(kettle.pk)]})
        assert Product.objects.filter(pk=kettle.pk).exists()
        manager.user_permissions.add(
            Permission.objects.get(content_type__app_label="catalog", codename="delete_product")
        )
        manager = django_user_model.objects.get(pk=manager.pk)  # no cached permissions
        client.force_login(manager)
        client.post(ADMIN, {"action": "erase_products", "_selected_action": [str(kettle.pk)]})
        assert not Product.objects.filter(pk=kettle.pk).exists()

    def test_the_service_refuses_reserved_products_by_id(self):
        line = ReservationLineFactory()
        other = ProductFactory()
        with pytest.raises(ApplicationError) as refused:
            products_delete(product_ids=[other.pk, line.product_id])
        assert (refused.value.status, refused.value.code) == (409, "product_in_use")
        assert refused.value.extra == {"product_ids": [line.product_id]}
        assert Product.objects.count() == 2
        assert products_delete(product_ids=[other.pk]) == 1
        assert not Product.objects.filter(pk=other.pk).exists()


class TestOneRuleEveryWayIn:
    """A rule declared on the model holds for the API, the admin and a CSV import."""

    @pytest.fixture
    def no_x_in_names(self, monkeypatch):
        name_field = Product._meta.get_field("name")

        def no_x(value):
            if "x" in value.lower():
                raise ValidationError("No x in product names.")

        monkeypatch.setitem(name_field.__dict__, "validators", [*name_field.validators, no_x])

    def test_a_model_rule_refuses_the_same_value_everywhere(self, writer, no_x_in_names):
        kettle = ProductFactory(name="Kettle", sku="KET-1")
        outcome = writer.change(snapshot(kettle), name="Xylophone")
        assert outcome.errors == {"name": ["No x in product names."]}
        with pytest.raises(CsvImportError) as refused:
            products_import_csv(source=io.StringIO("sku,name\nKET-1,Xylophone\n"))
        assert str(refused.value.line_errors[0]) == "line 2: name: No x in product names."
        assert Product.objects.get(pk=kettle.pk).name == "Kettle"

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("price", "-1"),
            ("tax_rate", "1.5"),
            ("stock", "-1"),
            ("weight", "-0.5"),
            ("name", "n" * 201),
            ("slug", "not a slug"),
            ("image_url", "not a url"),
        ],
    )
    def test_a_csv_row_is_refused_where_the_api_refuses(self, staff_client, column, value):
        kettle = ProductFactory(sku="KET-1", stock=5)
        api = staff_client.patch(f"{PRODUCTS}{kettle.pk}/", {column: value}, format="json")
        assert column in assert_problem(api, 400, "invalid")["errors"]
        with pytest.raises(CsvImportError) as refused:
            products_import_csv(source=io.StringIO(f"sku,{column}\nKET-1,{value}\n"))
        assert refused.value.line_errors[0].message.startswith(f"{column}: ")
        assert state(kettle) == (kettle.name, kettle.price, 5, True)


@pytest.mark.django_db(databases=BOTH_DATABASES, transaction=True)
def test_a_slug_taken_while_the_admin_saved_is_shown_on_the_form(admin_client, monkeypatch):
    kettle = ProductFactory(slug="kettle")
    update = admin_module.product_update

    def update_after_another_user_took_the_slug(**arguments):
        # Another user's product, committed on its own connection meanwhile.
        other = threading.Thread(target=lambda: ProductFactory(slug="kettle-steel"))
        other.start()
        other.join()
        return update(**arguments)

    monkeypatch.setattr(admin_module, "product_update", update_after_another_user_took_the_slug)
    response = admin_client.post(
        f"{ADMIN}{kettle.pk}/change/", change_form(snapshot(kettle), slug="kettle-steel")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["slug"] == [
        "Product with this Slug already exists."
    ]
    assert Product.objects.get(pk=kettle.pk).slug == "kettle"
