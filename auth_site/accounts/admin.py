"""The back office for accounts: users (the email is the login), groups, addresses.

Admin forms check and save through the services the API uses (accounts.services):
the email rule (user_email_check: username = email in lower case, fits, unique) and
the address rules (address_save: shopkit's address validation, the per-user limit).
A user links to their addresses here and to their orders in the orders admin
(another service, same sign-in: the link is a plain path through the gateway).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Address
from accounts.selectors import profile_of
from accounts.services import (
    address_delete,
    address_room_check,
    address_save,
    user_email_check,
    user_staff_save,
)
from shopkit.address import ADDRESS_FIELDS
from shopkit.errors import ApplicationError

# The orders admin's changelist filtered on one customer (orders keep user_id, no FK).
CUSTOMER_ORDERS_URL = "/orders/admin/orders/order/?user_id={}"


def _form_error(error: ApplicationError) -> forms.ValidationError:
    return forms.ValidationError(error.detail, code=str(error.code))


class EmailLoginFormMixin:
    """Checks the email with the API's rule (user_email_check) and makes it the username."""

    def clean_email(self):
        email = self.cleaned_data.get("email", "").strip()
        if not email:
            raise forms.ValidationError("The email is the login: it is required.")
        try:
            self.instance.username = user_email_check(email=email, user_id=self.instance.pk)
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict["email"])
        except ApplicationError as error:
            raise _form_error(error)
        return email


class UserCreationByEmailForm(EmailLoginFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        fields = ("email", "first_name", "last_name")


class UserChangeByEmailForm(EmailLoginFormMixin, UserChangeForm):
    pass


ADDRESS_LAYOUT = [
    "full_name",
    ("line1", "line2"),
    ("city", "region", "postal_code", "country"),
    "phone",
]


class ServiceRefusalAsMessageMixin:
    """A rule a service enforces at save time (a parallel write got there first) is
    shown as an error on the page, not a server error; the transaction rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class AddressInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [form for form in self.forms if form.has_changed() or form.instance.pk]
        deleting = [form for form in kept if self._should_delete_form(form)]
        adding = [form for form in kept if not form.instance.pk and form not in deleting]
        removing = [form for form in deleting if form.instance.pk]
        try:
            address_room_check(user=self.instance, adding=len(adding), removing=len(removing))
        except ApplicationError as error:
            raise _form_error(error)


class AddressInline(admin.StackedInline):
    model = Address
    formset = AddressInlineFormSet
    extra = 0
    fields = ADDRESS_LAYOUT


admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(ServiceRefusalAsMessageMixin, UserAdmin):
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
    readonly_fields = [
        "username",
        "email_verified",
        "language",
        "last_login",
        "date_joined",
        "orders_link",
        "addresses_link",
    ]
    fieldsets = [
        (None, {"fields": ["email", "email_verified", "username", "password", "language"]}),
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

    def save_model(self, request, obj, form, change):
        user_staff_save(user=obj, email_changed=change and "email" in form.changed_data)

    @admin.display(description="language")
    def language(self, user):
        return profile_of(user).get_language_display()

    @admin.display(description="email verified", boolean=True)
    def email_verified(self, user):
        return profile_of(user).email_verified

    def save_formset(self, request, form, formset, change):
        if formset.model is not Address:
            return super().save_formset(request, form, formset, change)
        # Through the services, deletions first: swapping one address at the limit works.
        changed = formset.save(commit=False)
        for address in formset.deleted_objects:
            address_delete(address=address)
        for address in changed:
            address_save(address=address)

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


class AddressAdminForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["user", *ADDRESS_FIELDS]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("user"):
            try:
                address_room_check(user=cleaned["user"])
            except ApplicationError as error:
                raise _form_error(error)
        return cleaned


@admin.register(Address)
class AddressAdmin(ServiceRefusalAsMessageMixin, admin.ModelAdmin):
    form = AddressAdminForm
    fields = ["user", *ADDRESS_LAYOUT, "created_at", "updated_at"]
    list_display = ["full_name", "user", "city", "postal_code", "country", "updated_at"]
    list_filter = ["country"]
    search_fields = ["full_name", "line1", "city", "postal_code", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # An address stays with its user, as in the API.
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        address_save(address=obj)

    def delete_model(self, request, obj):
        address_delete(address=obj)
