"""Reads of the auth service."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework_simplejwt.settings import api_settings

from accounts.errors import AccountsErrorCode
from accounts.models import AccessRevocation, Address, Profile
from shopkit.errors import ApplicationError
from shopkit.registry import SERVICES

# The apps whose permissions travel in access tokens: those of the other services,
# which check them without asking auth.
TOKEN_PERMISSION_APPS = frozenset(
    label for service in SERVICES if service.name != "auth" for label in service.app_labels
)


def username_for_email(email: str) -> str:
    """The login key of an email: its lower-case form (unique, so case-insensitively unique)."""
    return email.strip().lower()


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    users = User.objects.filter(username=username_for_email(email))
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


def profile_of(user: User) -> Profile:
    """The user's profile, or an unsaved one with the defaults (SHOP_LANGUAGE, unverified)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user, language=settings.SHOP_LANGUAGE)


def user_for_uid(uid: str) -> User | None:
    """The active user an emailed link's `uid` (base64 of the id) names, or None."""
    from django.utils.http import urlsafe_base64_decode

    try:
        user_id = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return None
    if not 0 < user_id < 2**63:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def active_user_for_email(email: str) -> User | None:
    return User.objects.filter(username=username_for_email(email), is_active=True).first()


def user_token_permissions(*, user: User) -> list[str]:
    """Sorted "app.codename" permissions of an active staff member for catalog, carts, orders.

    Customers get none, even if someone granted them a permission: staff status
    is what opens the back office everywhere (Django admin included).
    """
    if not (user.is_active and user.is_staff):
        return []
    return sorted(
        name
        for name in user.get_all_permissions()
        if name.partition(".")[0] in TOKEN_PERMISSION_APPS
    )


def address_count(*, user_id: int) -> int:
    return Address.objects.filter(user_id=user_id).count()


def address_list(*, user_id: int) -> QuerySet[Address]:
    return Address.objects.filter(user_id=user_id).order_by("id")


def address_get(*, user_id: int, address_id: int) -> Address:
    """The user's address; another user's address is as absent as a missing one (404)."""
    address = Address.objects.filter(user_id=user_id, pk=address_id).first()
    if address is None:
        raise ApplicationError(
            "No such address.", code=AccountsErrorCode.ADDRESS_NOT_FOUND, status=404
        )
    return address


def access_revocations_recent(*, now: datetime) -> QuerySet[AccessRevocation]:
    """Revocations that can still refuse a live access token: younger than a token's
    lifetime (plus the verification leeway). Older ones matter no more: every token
    they refuse has expired anyway."""
    leeway = api_settings.LEEWAY
    if not isinstance(leeway, timedelta):
        leeway = timedelta(seconds=leeway)
    horizon = now - api_settings.ACCESS_TOKEN_LIFETIME - leeway
    return AccessRevocation.objects.filter(not_before__gt=horizon).order_by("user_id")
