"""The back office for accounts: users (the email is the login), groups, addresses.

Admin forms keep the rule the API keeps: username = email in lower case, unique.
A user links to their addresses here and to their orders in the orders admin
(another service, same sign-in: the link is a plain path through the gateway).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Address
from accounts.selectors import email_taken, username_for_email

# The orders admin's changelist filtered on one customer (orders keep user_id, no FK).
CUSTOMER_ORDERS_URL = "/orders/admin/orders/order/?user_id={}"


class EmailLoginFormMixin:
    """Validates the email like the API does and makes it the username."""

    def clean_email(self):
        email = self.cleaned_data.get("email", "").strip()
        if not email:
            raise forms.ValidationError("The email is the login: it is required.")
        if email_taken(email=email, exclude_user_id=self.instance.pk):
            raise forms.ValidationError("An account with this email already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email"):
            self.instance.username = username_for_email(cleaned["email"])
        return cleaned


class UserCreationByEmailForm(EmailLoginFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        fields = ("email", "first_name", "last_name")


class UserChangeByEmailForm(EmailLoginFormMixin, UserChangeForm):
    pass


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0
    fields = [
        "full_name",
        ("line1", "line2"),
        ("city", "region", "postal_code", "country"),
        "phone",
    ]


admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    form = UserChangeByEmailForm
    add_form = UserCreationByEmailForm
    inlines = [AddressInline]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
        "orders_link",
    ]
    list_filter = ["is_staff", "is_active", "is_superuser", "groups"]
    search_fields = ["email", "username", "first_name", "last_name"]
    ordering = ["email"]
    readonly_fields = ["username", "last_login", "date_joined", "orders_link", "addresses_link"]
    fieldsets = [
        (None, {"fields": ["email", "username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name"]}),
        ("Orders and addresses", {"fields": ["orders_link", "addresses_link"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # addresses once the user exists (step two)

    @admin.display(description="orders")
    def orders_link(self, user):
        return format_html(
            '<a class="customer-orders" href="{}">See orders</a>',
            CUSTOMER_ORDERS_URL.format(user.pk),
        )

    @admin.display(description="addresses")
    def addresses_link(self, user):
        url = reverse("admin:accounts_address_changelist")
        return format_html(
            '<a class="customer-addresses" href="{}?user__id__exact={}">See addresses</a>',
            url,
            user.pk,
        )

    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["full_name", "user", "city", "postal_code", "country", "updated_at"]
    list_filter = ["country"]
    search_fields = ["full_name", "line1", "city", "postal_code", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]
