"""Staff back-office for orders (/orders/admin/).

Orders are read-only here: lines and totals come from the checkout and never change;
status moves only through the actions, which call the same services as the API (so
cancelling gives the stock back and the history names the staff member; shipping asks
for each order's carrier and tracking number on an intermediate page). Shipping zones
and methods (with their weight tiers) are kept here too, saved through the same
service as the staff API.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html

from orders import services
from orders.models import (
    SHIPPING_ADDRESS_FIELDS,
    IdempotencyKey,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    ShippingMethod,
    ShippingWeightTier,
    ShippingZone,
    StatusChange,
)
from orders.services import payments as payment_services
from orders.services.shipping import shipping_method_save
from shopkit.admin import ReadOnlyAdminMixin
from shopkit.errors import ApplicationError

CUSTOMER_ADMIN_URL = "/auth/admin/auth/user/{}/change/"


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "sku",
        "name",
        "product_id",
        "unit_price",
        "tax_rate",
        "quantity",
        "line_total",
        "line_tax",
    ]
    readonly_fields = fields


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = ["at", "from_status", "to_status", "by_user_id", "by_email", "note"]
    readonly_fields = fields
    verbose_name = "status change"
    verbose_name_plural = "history"


class PaymentInline(ReadOnlyInline):
    """The order's payments; provider data is read-only (the provider is the source)."""

    model = Payment
    fields = [
        "provider",
        "provider_reference",
        "status",
        "amount",
        "currency",
        "refunded_amount",
        "pays_order",
        "succeeded_at",
        "created_at",
    ]
    readonly_fields = fields


class CustomerFilter(admin.SimpleListFilter):
    """One customer's orders: ?user_id=<id>, the user admin's "See orders" link.

    It lists only the selected customer, named by the email of their latest order
    (one query; orders know no other names and do not ask auth), so the filter shows
    in the sidebar and "All" clears it. A value that is not a number matches nothing.
    """

    title = "customer"
    parameter_name = "user_id"

    def customer_id(self) -> int | None:
        value = self.value()
        return int(value) if value and value.isascii() and value.isdigit() else None

    def lookups(self, request, model_admin):
        value, user_id = self.value(), self.customer_id()
        if value is None:
            return []
        if user_id is None:
            return [(value, "not a customer number")]
        latest_email = (
            model_admin.get_queryset(request)
            .filter(user_id=user_id)
            .order_by("-created_at", "-id")
            .values_list("email", flat=True)
            .first()
        )
        if latest_email is None:
            return [(value, f"#{user_id} (no orders)")]
        return [(value, f"#{user_id} {latest_email}".strip())]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        user_id = self.customer_id()
        return queryset.none() if user_id is None else queryset.filter(user_id=user_id)


class ShipForm(forms.Form):
    """The ship action's intermediate page: a carrier and tracking number per order."""

    order_id = forms.IntegerField(widget=forms.HiddenInput)
    carrier = forms.CharField(max_length=100)
    tracking_number = forms.CharField(max_length=100)


ShipFormSet = forms.formset_factory(ShipForm, extra=0)


@admin.action(
    description="Mark selected orders shipped (asks for tracking)", permissions=["change"]
)
def mark_shipped(modeladmin, request, queryset):
    return modeladmin.ship(request, queryset)


def _status_action(to_status: str, label: str):
    def apply(modeladmin, request, queryset):
        modeladmin.apply_status(request, queryset, to_status)

    apply.__name__ = f"mark_{to_status}"
    return admin.action(description=label, permissions=["change"])(apply)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer_email",
        "status",
        "payment_status",
        "total",
        "currency",
        "created_at",
    ]
    list_filter = [CustomerFilter, "status", "payment_status", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["number", "email", "lines__sku"]
    list_per_page = 50
    ordering = ["-created_at", "-id"]
    inlines = [OrderLineInline, PaymentInline, StatusChangeInline]
    actions = [
        _status_action(OrderStatus.CONFIRMED, "Confirm selected orders"),
        _status_action(OrderStatus.PROCESSING, "Start processing selected orders"),
        mark_shipped,
        _status_action(OrderStatus.DELIVERED, "Mark selected orders delivered"),
        # Cancelling a paid order also refunds it (services/status.py).
        _status_action(OrderStatus.CANCELLED, "Cancel selected orders (stock goes back)"),
        "mark_manual_payment_received",
        "refund_payments",
    ]
    fieldsets = [
        (None, {"fields": ["number", "status", "customer", "created_at", "updated_at"]}),
        (
            "Shipping address",
            {"fields": list(SHIPPING_ADDRESS_FIELDS)},
        ),
        (
            "Amounts",
            {
                "fields": [
                    "currency",
                    "subtotal",
                    "tax",
                    "shipping_total",
                    "shipping_tax",
                    "total",
                    "notes",
                ]
            },
        ),
        (
            "Shipping",
            {
                "fields": [
                    "shipping_method_code",
                    "shipping_method_name",
                    "shipping_carrier",
                    "shipping_tax_rate",
                    "tracking_carrier",
                    "tracking_number",
                ]
            },
        ),
        ("Payment", {"fields": ["payment_status", "paid_at"]}),
        ("Emails", {"fields": ["language"]}),
        (
            "Checkout",
            {
                "classes": ["collapse"],
                "fields": [
                    "cart_version",
                    "reservation_committed_at",
                    "cart_cleared_at",
                    "stock_released_at",
                ],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return False  # orders are made by checkouts only

    def has_delete_permission(self, request, obj=None):
        return False  # history is kept; cancel instead

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Nothing on the page is editable: no save buttons, only the actions in the list.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only; status moves go through the actions

    @admin.display(description="customer", ordering="email")
    def customer_email(self, order):
        return order.email

    @admin.display(description="customer")
    def customer(self, order):
        if order.user_id is None:  # a guest's order, until a customer verifies the email
            return format_html("{} (guest)", order.email or "no email")
        return format_html(
            '<a href="{}">{}</a> (user {})',
            CUSTOMER_ADMIN_URL.format(order.user_id),
            order.email or "no email",
            order.user_id,
        )

    @admin.action(description="Mark manual payment received", permissions=["change"])
    def mark_manual_payment_received(self, request, queryset):
        """The waiting manual payment of each order succeeds (the same service as the API)."""
        for order in queryset.order_by("pk"):
            payment = (
                order.payments.filter(provider="manual", status=PaymentStatus.REQUIRES_ACTION)
                .order_by("-created_at")
                .first()
            )
            if payment is None:
                self.message_user(
                    request, f"{order.number}: no manual payment waiting.", messages.ERROR
                )
                continue
            try:
                payment_services.payment_mark_received(
                    payment=payment, by_user_id=request.user.pk, by_email=request.user.email
                )
                self.message_user(
                    request, f"{order.number}: payment received, order paid.", messages.SUCCESS
                )
            except ApplicationError as error:
                self.message_user(request, f"{order.number}: {error.detail}", messages.ERROR)

    @admin.action(description="Refund (all or part of) the payment", permissions=["change"])
    def refund_payments(self, request, queryset):
        """Asks for the amount (at most what is left), then refunds through the provider."""
        orders = list(queryset.order_by("pk"))
        form = RefundForm(request.POST if "refund_amount" in request.POST else None)
        payments = [
            payment
            for order in orders
            for payment in order.payments.filter(status=PaymentStatus.SUCCEEDED)
        ]
        if form.is_bound and form.is_valid():
            for payment in payments:
                left = payment.amount - payment.refunded_amount
                amount = form.cleaned_data["refund_amount"] or left
                try:
                    payment_services.payment_refund(
                        payment=payment,
                        amount=amount,
                        by_user_id=request.user.pk,
                        reason=form.cleaned_data["reason"] or "Refunded in the admin.",
                    )
                    self.message_user(
                        request,
                        f"{payment.order.number}: {amount} {payment.currency} refunded.",
                        messages.SUCCESS,
                    )
                except ApplicationError as error:
                    self.message_user(
                        request, f"{payment.order.number}: {error.detail}", messages.ERROR
                    )
            return HttpResponseRedirect(request.get_full_path())
        return TemplateResponse(
            request,
            "admin/orders/refund.html",
            {
                **self.admin_site.each_context(request),
                "title": "Refund payments",
                "orders": orders,
                "payments": payments,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    def ship(self, request, queryset):
        """Ask for each order's carrier and tracking number, then ship through the service."""
        orders = list(queryset.order_by("pk"))
        if "apply" in request.POST:
            formset = ShipFormSet(request.POST, prefix="ship")
            if formset.is_valid():
                tracking = {form.cleaned_data["order_id"]: form.cleaned_data for form in formset}
                self.apply_status(request, queryset, OrderStatus.SHIPPED, tracking=tracking)
                return None
        else:
            formset = ShipFormSet(
                prefix="ship",
                initial=[
                    {"order_id": order.pk, "carrier": order.shipping_carrier} for order in orders
                ],
            )
        by_id = {order.pk: order for order in orders}
        return TemplateResponse(
            request,
            "admin/orders/order/ship.html",
            {
                **self.admin_site.each_context(request),
                "title": "Ship orders",
                "opts": self.model._meta,
                "rows": [(by_id.get(_initial_order_id(form)), form) for form in formset.forms],
                "formset": formset,
                "selected": [order.pk for order in orders],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def apply_status(self, request, queryset, to_status, tracking=None):
        """One service call per order; each order succeeds or reports why not."""
        moved, refused = [], []
        for order in queryset.order_by("pk"):
            given = (tracking or {}).get(order.pk, {})
            try:
                services.order_change_status(
                    order=order,
                    to_status=to_status,
                    by_user_id=request.user.pk,
                    by_email=request.user.email,
                    note="Changed in the admin.",
                    carrier=given.get("carrier"),
                    tracking_number=given.get("tracking_number"),
                )
                moved.append(order.number)
            except ApplicationError as error:
                refused.append(f"{order.number}: {error.detail}")
        if moved:
            self.message_user(
                request,
                f"{len(moved)} order(s) now {to_status}: {', '.join(moved)}.",
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)


def _initial_order_id(form) -> int | None:
    value = form["order_id"].value()
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "country_list"]
    search_fields = ["name"]
    fields = ["name", "countries"]

    @admin.display(description="countries")
    def country_list(self, zone):
        return ", ".join(zone.countries)


class ShippingWeightTierInline(admin.TabularInline):
    model = ShippingWeightTier
    extra = 1
    fields = ["max_weight", "price"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    """Methods and their rates (orders.shipping says how they are priced)."""

    list_display = ["code", "name", "carrier", "rate_kind", "flat_price", "free_above", "is_active"]
    list_filter = ["is_active", "rate_kind", "zones"]
    search_fields = ["code", "name", "carrier"]
    filter_horizontal = ["zones"]
    inlines = [ShippingWeightTierInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "carrier", "is_active", "zones"]}),
        ("Delivery time", {"fields": ["estimated_days_min", "estimated_days_max"]}),
        ("Rate", {"fields": ["rate_kind", "flat_price", "free_above"]}),
        ("Tax on shipping", {"fields": ["tax_mode", "tax_rate"]}),
    ]

    def save_model(self, request, obj, form, change):
        # The same service as the staff API; zones and tiers follow in save_related.
        shipping_method_save(method=obj)


class RefundForm(forms.Form):
    refund_amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Per payment; empty refunds what is left of each.",
    )
    reason = forms.CharField(max_length=500, required=False)

    def clean_refund_amount(self):
        value = self.cleaned_data["refund_amount"]
        try:
            return None if value is None else Decimal(value)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount.") from None


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["amount", "status", "provider_reference", "reason", "by_user_id", "created_at"]
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments, read-only: the provider is the source of their data."""

    list_display = [
        "order",
        "provider",
        "provider_reference",
        "status",
        "amount",
        "refunded_amount",
        "created_at",
    ]
    list_filter = ["status", "provider", "created_at"]
    search_fields = ["order__number", "provider_reference"]
    list_select_related = ["order"]
    inlines = [RefundInline]
    exclude = ["client_secret", "request_fingerprint"]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Webhook events as received, for support (each applied once)."""

    list_display = ["event_id", "provider", "type", "payment", "received_at"]
    list_filter = ["provider", "type"]
    search_fields = ["event_id"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Checkout attempts, for support: which key made which order, and what it answered."""

    list_display = ["key", "user_id", "state", "order_number", "response_status", "updated_at"]
    list_filter = ["state", "response_status"]
    search_fields = ["key", "order_number"]
    readonly_fields = [
        "user_id",
        "key",
        "fingerprint",
        "state",
        "order_number",
        "response_status",
        "response_body",
        "lease_expires_at",
        "running_for_user",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
