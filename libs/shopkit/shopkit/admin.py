"""What the four admins share: sign-in by email, and users managed in auth's admin only."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group, User

from shopkit.throttling import SignInFailures, minutes_to_wait


class EmailAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in asks for the email, in any letter case.

    Accounts store `username = email.lower()` (see accounts.services), so the
    lower-cased email is the username Django's backend looks up.
    """

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "too_many_attempts": "Too many failed sign-ins for this email or from this address: "
        "try again in %(minutes)d minute(s).",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def clean(self):
        """The API's failed sign-in counters, shared: refused while either is full,
        and a wrong password here counts there too (and the other way round)."""
        email = self.cleaned_data.get("username")
        if not email or not self.cleaned_data.get("password"):
            return super().clean()  # Django's own "required" errors; nothing was tried
        failures = SignInFailures(self.request, email=email)
        wait = failures.wait()
        if wait is not None:
            raise forms.ValidationError(
                self.error_messages["too_many_attempts"],
                code="too_many_attempts",
                params={"minutes": minutes_to_wait(wait)},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if self.user_cache is None:  # wrong email or password, not "not staff"
                failures.record_failure()
            raise


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
