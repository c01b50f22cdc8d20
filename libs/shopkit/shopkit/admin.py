"""What the four admins share: sign-in by email, and users managed in auth's admin only."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group, User


class EmailAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in asks for the email, in any letter case.

    Accounts store `username = email.lower()` (see accounts.services), so the
    lower-cased email is the username Django's backend looks up.
    """

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


def configure_admin_site(service_name: str) -> None:
    admin.site.login_form = EmailAdminAuthenticationForm
    admin.site.site_header = "Tienda back-office"
    admin.site.site_title = "Tienda back-office"
    admin.site.index_title = f"{service_name.capitalize()} administration"
    if service_name != "auth":
        # Users and groups are edited where their rules live (auth's admin, which
        # enforces email = login); the other admins only link there.
        for model in (User, Group):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
