"""What the four admins share: sign-in by email, and users managed in auth's admin only."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import Group, User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from shopkit.throttling import SignInFailures, minutes_to_wait


class ReadOnlyAdminMixin:
    """Staff look, never touch: what changes only through a service's API or its jobs
    (carts, order lines and history, reservation lines) is shown read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


# The refusal a service raised while the admin saved a form: (form prefix, error).
_REFUSAL = "_shopkit_admin_refusal"
_SAVING = "_shopkit_admin_saving_prefix"


class ServiceRefusalsShownOnFormsMixin:
    """For a ModelAdmin whose saves call services (the same ones as the API): when a
    service refuses (an ApplicationError, or a Django ValidationError for a check the
    form passed but the service no longer did, from save_model), the page shows the
    form again with the refusal as an error and what staff typed kept, not a 500.

    The admin's transaction was rolled back, so nothing was written; the view then
    runs once more on the same POST, with the refusal attached to the form that
    caused it (the change form, or one row of a list-editable changelist). A form
    may define `show_refusal(error)` to place it on a field (its default: the
    non-field errors).
    """

    def save_form(self, request, form, change):
        setattr(request, _SAVING, form.prefix)
        return super().save_form(request, form, change)

    def changeform_view(self, request, *args, **kwargs):
        return self._showing_refusals(super().changeform_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        return self._showing_refusals(super().changelist_view, request, *args, **kwargs)

    def _showing_refusals(self, view, request, *args, **kwargs):
        from shopkit.errors import ApplicationError

        try:
            return view(request, *args, **kwargs)
        # A ValidationError too: a check the form could not make (a slug taken meanwhile).
        except (ApplicationError, ValidationError) as error:
            if (
                request.method != "POST"
                or hasattr(request, _REFUSAL)
                or not hasattr(request, _SAVING)
            ):
                raise
            setattr(request, _REFUSAL, (getattr(request, _SAVING), error))
            return view(request, *args, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        return _form_showing_refusal(request, super().get_form(request, obj, **kwargs))

    def get_changelist_form(self, request, **kwargs):
        return _form_showing_refusal(request, super().get_changelist_form(request, **kwargs))


def _form_showing_refusal(request, form_class):
    refusal = getattr(request, _REFUSAL, None)
    if refusal is None:
        return form_class
    prefix, error = refusal

    class FormShowingRefusal(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._refusal = None
            if self.is_bound and self.prefix == prefix:
                self._refusal = _refusal_errors(self, error)

        def clean(self):
            cleaned_data = super().clean()
            for field, messages in (self._refusal or {}).items():
                # The form's own check may have found the same thing on this run.
                shown = self._errors.get(field or NON_FIELD_ERRORS, [])
                new = [message for message in messages if message not in shown]
                if new:
                    self.add_error(field, new)
            return cleaned_data

    FormShowingRefusal.__name__ = form_class.__name__
    return FormShowingRefusal


def _refusal_errors(form, error) -> dict:
    """{field or None: messages} for a refusal, on the form's own fields only."""
    if isinstance(error, ValidationError):
        if not hasattr(error, "error_dict"):
            return {None: error.messages}
        return {
            (name if name in form.fields else None): messages
            for name, messages in error.message_dict.items()
        }
    show = getattr(form, "show_refusal", None)
    return {(show(error) if show else None): [error.detail]}
