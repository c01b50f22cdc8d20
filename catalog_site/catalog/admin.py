"""The staff back office for the catalog (/catalog/admin/).

Every write goes through catalog.services, the same functions as the API's:
list-editable stock and price, the change forms, the activate/deactivate actions,
the erase action and the CSV import. Stock is edited optimistically: the form
remembers the value it showed and sends it as `expected_stock`, and the service
refuses the save when reservations moved the stock meanwhile (the API's 409
stale_stock, shown here on the form). Deleting a product deactivates it, as in the
API; erasing one is a separate action for products never reserved.
"""

import io

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from catalog.csv_io import (
    CSV_COLUMNS,
    CsvImportError,
    decode_upload,
    products_export_csv,
    products_import_csv,
)
from catalog.errors import CatalogErrorCode
from catalog.models import (
    PRODUCT_EDITABLE_FIELDS,
    Category,
    Product,
    Reservation,
    ReservationLine,
    TaxRate,
)
from catalog.services import (
    CATEGORY_EDITABLE_FIELDS,
    category_create,
    category_delete,
    category_update,
    product_create,
    product_update,
    products_delete,
    products_set_active,
)
from shopkit.admin import ReadOnlyAdminMixin, ServiceRefusalsShownOnFormsMixin
from shopkit.errors import ApplicationError
from shopkit.routers import ECOMMERCE_DB


def _copy_saved_state(target, saved) -> None:
    """Make the admin's form instance the row a service saved (pk, timestamps, state)."""
    for model_field in type(saved)._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(saved, model_field.attname))
    target._state = saved._state


# --- Categories -------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "parent"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        data = {name: value for name, value in data.items() if name in CATEGORY_EDITABLE_FIELDS}
        if change:
            saved = category_update(category_id=obj.pk, data=data) if data else obj
        else:
            saved = category_create(
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                parent=form.cleaned_data["parent"],
            )
        _copy_saved_state(obj, saved)

    # Django's delete view still refuses a category in use with its "protected" page;
    # the delete itself is the API's service.
    def delete_model(self, request, obj):
        category_delete(category_id=obj.pk)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=ECOMMERCE_DB):
            for category_id in queryset.order_by("id").values_list("pk", flat=True):
                category_delete(category_id=category_id)


# --- Products ---------------------------------------------------------------------------


class InStockListFilter(admin.SimpleListFilter):
    title = "in stock"
    parameter_name = "in_stock"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stock__gt=0)
        if self.value() == "no":
            return queryset.filter(stock=0)
        return queryset


class LowStockListFilter(admin.SimpleListFilter):
    title = "low stock"
    parameter_name = "low_stock"

    def lookups(self, request, model_admin):
        threshold = settings.LOW_STOCK_THRESHOLD
        return [("yes", f"Fewer than {threshold} left (sold-out included)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(stock__lt=settings.LOW_STOCK_THRESHOLD)
        return queryset


def _formfield_assuming_https(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")  # Django 6's default, without the warning
    return model_field.formfield(**kwargs)


class ProductAdminForm(forms.ModelForm):
    """The product's editable fields. Stock is written only when staff changed it, and
    then with the value the page showed as `expected_stock`: the service refuses the
    save (409 stale_stock) when reservations or another user moved it meanwhile."""

    class Meta:
        model = Product
        fields = list(PRODUCT_EDITABLE_FIELDS)
        formfield_callback = _formfield_assuming_https

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stock" in self.fields:
            # The value shown is posted back, so "changed" means "changed by staff".
            self.fields["stock"].show_hidden_initial = True

    def stock_shown(self) -> int | None:
        """The stock the page showed when staff changed it; None when they did not."""
        if self.instance.pk is None or "stock" not in self.changed_data:
            return None
        stock_field = self.fields["stock"]
        return stock_field.to_python(
            self._widget_data_value(stock_field.hidden_widget(), self["stock"].html_initial_name)
        )

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None and "stock" in self.changed_data:
            shown = self.data.get(self["stock"].html_initial_name, "")
            if not str(shown).strip():
                # Without the stock the page showed, the edit cannot be checked as fresh.
                self.add_error("stock", "The page is out of date; reload it and edit again.")
        return cleaned_data

    def show_refusal(self, error) -> str | None:
        """Where the service's refusal appears (ServiceRefusalsShownOnFormsMixin)."""
        if error.code != CatalogErrorCode.STALE_STOCK or "stock" not in self.fields:
            return None
        # The page now shows the current stock as the one it showed, so saving again
        # (after checking) is checked against the stock staff have now seen.
        self.data = self.data.copy()
        self.data[self["stock"].html_initial_name] = str(error.extra["stock"])
        return "stock"


class ImportProductsForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with a header row; see the columns below.")


@admin.register(Product)
class ProductAdmin(ServiceRefusalsShownOnFormsMixin, admin.ModelAdmin):
    form = ProductAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_list_template = "admin/catalog/product/change_list.html"
    list_display = ["sku", "name", "category", "price", "tax_rate", "stock", "is_active"]
    list_display_links = ["sku", "name"]
    list_editable = ["price", "stock"]
    list_select_related = ["category"]
    list_filter = ["is_active", InStockListFilter, LowStockListFilter, "category"]
    search_fields = ["sku", "name"]
    ordering = ["name", "id"]
    list_per_page = 50
    show_full_result_count = False  # a COUNT(*) less on a 100k-row table
    readonly_fields = ["in_stock", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "category", "description"]}),
        ("Price", {"fields": ["price", "tax_rate", "tax_class"]}),
        ("Stock", {"fields": ["stock", "in_stock", "is_active"]}),
        ("Shipping and media", {"fields": ["weight", "image_url"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    prepopulated_fields = {"slug": ["name", "sku"]}
    actions = [
        "activate_products",
        "deactivate_products",
        "export_products_csv",
        "erase_products",
    ]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=ProductAdminForm, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = (
                product_update(product_id=obj.pk, data=data, expected_stock=form.stock_shown())
                if data
                else obj
            )
        else:
            saved = product_create(data=form.cleaned_data)
        _copy_saved_state(obj, saved)

    # Deleting a product deactivates it, as the API's DELETE does (orders refer to it):
    # the deactivate action. Django's delete (which would erase the row) is off; a real
    # erase is the separate action below.
    def has_delete_permission(self, request, obj=None):
        return False

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate_products(self, request, queryset):
        changed = products_set_active(
            product_ids=queryset.values_list("pk", flat=True), is_active=True
        )
        self.message_user(request, f"{changed} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate_products(self, request, queryset):
        changed = products_set_active(
            product_ids=queryset.values_list("pk", flat=True), is_active=False
        )
        self.message_user(request, f"{changed} product(s) deactivated.", messages.SUCCESS)

    @admin.action(
        description="Erase selected products for good (only never reserved or ordered ones)",
        permissions=["erase"],
    )
    def erase_products(self, request, queryset):
        try:
            erased = products_delete(product_ids=queryset.values_list("pk", flat=True))
        except ApplicationError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(request, f"{erased} product(s) erased.", messages.SUCCESS)

    @admin.action(description="Export selected products to CSV", permissions=["view"])
    def export_products_csv(self, request, queryset):
        return self._csv_response(queryset)

    # --- CSV views -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv_view),
                name="catalog_product_import_csv",
            ),
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),
                name="catalog_product_export_csv",
            ),
            *super().get_urls(),
        ]

    def _csv_response(self, products) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="products-{stamp}.csv"'
        products_export_csv(output=response, products=products)
        return response

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._csv_response(Product.objects.all())

    def import_csv_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        line_errors = []
        if request.method == "POST":
            form = ImportProductsForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    text = decode_upload(form.cleaned_data["file"].read())
                    result = products_import_csv(source=io.StringIO(text, newline=""))
                except CsvImportError as exc:
                    line_errors = exc.line_errors
                    self.message_user(request, exc.detail, messages.ERROR)
                else:
                    self.message_user(
                        request,
                        f"Imported: {result.created} created, {result.updated} updated, "
                        f"{result.unchanged} unchanged.",
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:catalog_product_changelist"))
        else:
            form = ImportProductsForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import products from CSV",
            "form": form,
            "line_errors": line_errors,
            "columns": CSV_COLUMNS,
        }
        return TemplateResponse(request, "admin/catalog/product/import_csv.html", context)


# --- Reservations (read-only: they move only through the internal API and the job) ----


class ReservationLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReservationLine
    fields = ["product", "sku", "name", "quantity", "unit_price", "tax_rate"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["reference", "state", "expires_at", "created_at", "committed_at", "released_at"]
    list_filter = ["state"]
    search_fields = ["=reference"]
    date_hierarchy = "created_at"
    fields = ["reference", "state", "expires_at", "created_at", "committed_at", "released_at"]
    readonly_fields = fields
    inlines = [ReservationLineInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    """VAT per destination country and tax class: data staff keep current.

    Used at checkout when the shop charges tax by destination (TAX_BY_DESTINATION);
    set `checked_on` whenever a rate is verified against the official table.
    """

    list_display = ["country", "tax_class", "rate", "checked_on"]
    list_filter = ["tax_class", "checked_on"]
    search_fields = ["country"]
    ordering = ["country", "tax_class"]
    fields = ["country", "tax_class", "rate", "checked_on"]
