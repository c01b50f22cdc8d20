"""Writes of the auth service: accounts, tokens, addresses.

Every function is keyword-only, validates before it writes, and writes in one
transaction on auth_db. Rule violations raise ApplicationError (a problem
response); field errors raise Django's ValidationError keyed by field.
"""

import time
from datetime import timedelta
from typing import TypedDict

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User, update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.errors import AccountsErrorCode
from accounts.links import (
    email_verification_link,
    email_verification_tokens,
    password_reset_link,
    password_reset_tokens,
)
from accounts.models import AccessRevocation, Address, Profile
from accounts.selectors import (
    active_user_for_email,
    address_count,
    email_taken,
    profile_of,
    user_for_uid,
    username_for_email,
)
from accounts.tokens import AccessToken, RefreshToken
from shopkit.address import ADDRESS_FIELDS
from shopkit.errors import ApplicationError
from shopkit.outbox.rendering import language_or_default, render_email, supported_languages
from shopkit.outbox.services import enqueue
from shopkit.routers import AUTH_DB

# Enough for any household; stops one account from filling the table.
ADDRESS_LIMIT_PER_USER = 20
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length


class TokenPair(TypedDict):
    access: str
    refresh: str


# --- accounts ----------------------------------------------------------------------


def _email_taken_error() -> ApplicationError:
    return ApplicationError(
        "An account with this email already exists.",
        code=AccountsErrorCode.EMAIL_TAKEN,
        errors={"email": ["An account with this email already exists."]},
    )


def user_email_check(*, email: str, user_id: int | None = None) -> str:
    """The username (login) for a user's new email, or a 400 when it is too long or taken.

    The one email rule of the API and the admin: the lower-cased email is the username,
    so it must fit the username column and be unique in any case.
    """
    username = username_for_email(email)
    if len(username) > USERNAME_MAX_LENGTH:  # lower() can lengthen some non-ASCII domains
        raise ValidationError({"email": [f"At most {USERNAME_MAX_LENGTH} characters."]})
    if email_taken(email=email, exclude_user_id=user_id):
        raise _email_taken_error()
    return username


def _check_password(password: str, *, user: User, field: str) -> None:
    """Django's validators, including similarity to the email and names."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages})


def user_save(*, user: User, update_fields: list[str] | None = None) -> None:
    """Save a user whose email passed user_email_check (API and admin alike).

    The unique username is the final word on duplicates (two sign-ups racing).
    """
    try:
        with transaction.atomic(using=AUTH_DB):
            user.save(update_fields=update_fields)
    except IntegrityError:
        raise _email_taken_error()


def _language_check(language: str | None) -> str:
    if language is not None and language != language_or_default(language):
        raise ValidationError({"language": [f"One of: {', '.join(supported_languages())}."]})
    return language_or_default(language)


def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    language: str | None = None,
) -> User:
    """Create a customer account and send the welcome email with its verification link.

    Never staff, superuser or inactive: a client cannot ask. The account, its profile
    and the email are one transaction (the email is only queued: shopkit.outbox).
    """
    user = User(email=email.strip(), first_name=first_name, last_name=last_name, is_active=True)
    user.username = user_email_check(email=user.email)
    user.full_clean(exclude=["username", "password"])
    _check_password(password, user=user, field="password")
    language = _language_check(language)
    user.set_password(password)
    with transaction.atomic(using=AUTH_DB):
        user_save(user=user)
        profile = Profile.objects.create(user=user, language=language)
        user.profile = profile
        _verification_email_enqueue(user=user, template="welcome")
    return user


def user_update(
    *,
    user: User,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    language: str | None = None,
) -> User:
    """Change a user's own profile; a new email also becomes the login (and stays unique),
    is no longer verified, and gets a verification link."""
    email_changed = email is not None and email.strip() != user.email
    if email_changed:
        user.username = user_email_check(email=email, user_id=user.pk)
        user.email = email.strip()
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    user.full_clean(exclude=["username", "password"])
    profile = profile_of(user)
    if language is not None:
        profile.language = _language_check(language)
    with transaction.atomic(using=AUTH_DB):
        user_save(user=user, update_fields=["username", "email", "first_name", "last_name"])
        if language is not None:
            profile.save()
        user.profile = profile
        if email_changed:
            user_email_verification_restart(user=user)
    return user


def user_staff_save(*, user: User, email_changed: bool) -> None:
    """The admin's save of a user: like the API, a changed email must be verified again."""
    with transaction.atomic(using=AUTH_DB):
        user_save(user=user)
        if email_changed:
            user_email_verification_restart(user=user)


def user_email_verification_restart(*, user: User) -> None:
    """The user's email changed: no longer verified, and a new link goes to the new one.

    Call inside the transaction that saves the new email.
    """
    profile = profile_of(user)
    profile.email_verified_at = None
    profile.save()
    user.profile = profile
    _verification_email_enqueue(user=user, template="email_verification")


# --- emails: verification and password reset -------------------------------------------


def _verification_email_enqueue(*, user: User, template: str) -> None:
    """Queue the email with a link verifying the user's current email (inside a transaction)."""
    enqueue(
        kind=f"accounts.{template}",
        to=user.email,
        email=render_email(
            template,
            {"user": user, "link": email_verification_link(user)},
            language=profile_of(user).language,
        ),
    )


def email_verify(*, uid: str, token: str) -> User:
    """Mark the user's email verified, once, from the emailed link (400 otherwise)."""
    user = user_for_uid(uid)
    if user is None or not email_verification_tokens.check_token(user, token):
        raise ApplicationError(
            "This verification link is invalid, was already used, or has expired.",
            code=AccountsErrorCode.VERIFICATION_LINK_INVALID,
        )
    with transaction.atomic(using=AUTH_DB):
        profile = profile_of(user)
        profile.email_verified_at = timezone.now()
        profile.save()
    return user


def password_reset_request(*, email: str) -> None:
    """Email a single-use reset link to the active account with this email, if any.

    The caller answers the same whether or not one exists, so the work is the same
    too: a token is made and the email rendered either way (for nobody, when no
    account matches); only the queueing differs.
    """
    user = active_user_for_email(email)
    recipient = user or User(pk=0, email=email.strip(), password="!")  # the same work, no one
    with transaction.atomic(using=AUTH_DB):
        rendered = render_email(
            "password_reset",
            {
                "user": recipient,
                "link": password_reset_link(recipient),
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
            language=profile_of(recipient).language,
        )
        if user is not None:
            enqueue(kind="accounts.password_reset", to=user.email, email=rendered)


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from the emailed link: once, before it expires.

    Like every new password, it signs the user out everywhere (accounts.signals). The
    link also proves the mailbox is the user's: the email counts as verified.
    """
    user = user_for_uid(uid)
    if user is None or not password_reset_tokens.check_token(user, token):
        raise ApplicationError(
            "This password reset link is invalid, was already used, or has expired.",
            code=AccountsErrorCode.RESET_LINK_INVALID,
        )
    _check_password(new_password, user=user, field="new_password")
    with transaction.atomic(using=AUTH_DB):
        # The row lock: two uses of one link at once set the password once.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.password != user.password or not password_reset_tokens.check_token(locked, token):
            raise ApplicationError(
                "This password reset link was already used.",
                code=AccountsErrorCode.RESET_LINK_INVALID,
            )
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        profile = profile_of(locked)
        if profile.email_verified_at is None:
            profile.email_verified_at = timezone.now()
            profile.save()
    return locked


def user_change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Set a new password and sign the user out everywhere (every refresh token dies).

    The save does the signing out, as for every other way of setting a password
    (accounts.signals); the transaction makes the password and the revocation one.
    """
    if not user.check_password(old_password):
        raise ApplicationError(
            "The current password is wrong.",
            code=AccountsErrorCode.WRONG_PASSWORD,
            errors={"old_password": ["The current password is wrong."]},
        )
    _check_password(new_password, user=user, field="new_password")
    with transaction.atomic(using=AUTH_DB):
        user.set_password(new_password)
        user.save(update_fields=["password"])


# --- tokens ------------------------------------------------------------------------


def _token_error(detail: str, code=AccountsErrorCode.TOKEN_NOT_VALID) -> ApplicationError:
    return ApplicationError(detail, code=code, status=401)


def _token_pair_issue(user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return {"access": str(AccessToken.for_user(user)), "refresh": str(refresh)}


def _revocation_second_wait(user: User) -> None:
    """Signed in the very second the user's tokens were revoked (a password change just
    now): wait for the next second, at most one, or the new token would be refused too.
    Called before any transaction opens, so nothing is held while it waits."""
    not_before = (
        AccessRevocation.objects.filter(user_id=user.pk)
        .values_list("not_before", flat=True)
        .first()
    )
    if not_before is not None:
        wait = (not_before - timezone.now()).total_seconds()
        if wait > 0:
            time.sleep(min(wait, 1.0))


def _refresh_token_read(raw: str) -> RefreshToken:
    """A refresh token that is ours, unexpired and not blacklisted, or a 401."""
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise _token_error(str(exc))


def token_pair_obtain(*, email: str, password: str, request=None) -> TokenPair:
    """Sign in: a new access + refresh pair. Wrong credentials and inactive users are alike."""
    user = authenticate(request, username=username_for_email(email), password=password)
    if user is None:
        raise _token_error(
            "No active account with these credentials.", AccountsErrorCode.INVALID_CREDENTIALS
        )
    _revocation_second_wait(user)
    with transaction.atomic(using=AUTH_DB):
        update_last_login(None, user)
        return _token_pair_issue(user)


def token_pair_refresh(*, refresh: str) -> TokenPair:
    """Rotate: the refresh token is blacklisted and a new pair is issued, exactly once.

    Two requests racing with the same token both reach the blacklist insert; its
    unique key lets one win and the other is refused like any reused token.
    """
    token = _refresh_token_read(refresh)
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if user is None or not user.is_active:
        raise _token_error("The account is inactive.", AccountsErrorCode.ACCOUNT_INACTIVE)
    _revocation_second_wait(user)
    with transaction.atomic(using=AUTH_DB):
        outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
        if outstanding is None:
            raise _token_error("Token is unknown.")
        _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            raise _token_error("Token is blacklisted.")
        return _token_pair_issue(user)


def token_logout(*, refresh: str) -> None:
    """Blacklist a refresh token: it can never be used again (access tokens expire on their own)."""
    token = _refresh_token_read(refresh)
    with transaction.atomic(using=AUTH_DB):
        token.blacklist()


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every live refresh token of a user; returns how many."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    with transaction.atomic(using=AUTH_DB):
        revoked = BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
        )
    return len(revoked)


def access_tokens_revoke(*, user_id: int) -> AccessRevocation:
    """Every access token of the user issued until now is refused by every service.

    A token's `iat` is a whole second, so `not_before` is one too: the next second,
    so that no token of this second survives (one signed a moment before a password
    change would otherwise). A sign-in that follows within the same second waits for
    it (`_revocation_second_wait`), so its token counts as newer.
    """
    not_before = timezone.now().replace(microsecond=0) + timedelta(seconds=1)
    revocation = AccessRevocation(user_id=user_id, not_before=not_before)
    # One upsert statement (INSERT ... ON DUPLICATE KEY UPDATE): atomic on its own,
    # and cheap enough for every save that changes a password.
    # MySQL's upsert names no conflict target (it has one unique key here); SQLite's must.
    target = (
        ["user_id"] if connections[AUTH_DB].features.supports_update_conflicts_with_target else None
    )
    AccessRevocation.objects.using(AUTH_DB).bulk_create(
        [revocation], update_conflicts=True, unique_fields=target, update_fields=["not_before"]
    )
    return revocation


# --- addresses ---------------------------------------------------------------------


def _address_limit_error() -> ApplicationError:
    return ApplicationError(
        f"At most {ADDRESS_LIMIT_PER_USER} addresses per account; delete one first.",
        code=AccountsErrorCode.ADDRESS_LIMIT_REACHED,
    )


def address_room_check(*, user: User, adding: int = 1, removing: int = 0) -> None:
    """Refuse (400 address_limit_reached) when the user would pass ADDRESS_LIMIT_PER_USER.

    For forms that add several at once (the admin's inline); address_save checks again
    under a lock, which is what holds against parallel writes.
    """
    if adding and address_count(user_id=user.pk) - removing + adding > ADDRESS_LIMIT_PER_USER:
        raise _address_limit_error()


def address_save(*, address: Address) -> Address:
    """Validate and save an address, new or changed (API and admin alike).

    A new one counts against the user's ADDRESS_LIMIT_PER_USER; the phone is stored in
    E.164 (shopkit.address).
    """
    address.full_clean()
    with transaction.atomic(using=AUTH_DB):
        if address._state.adding:
            # The user row lock makes count-then-insert safe against parallel creates.
            User.objects.select_for_update().filter(pk=address.user_id).first()
            if address_count(user_id=address.user_id) >= ADDRESS_LIMIT_PER_USER:
                raise _address_limit_error()
        address.save()
    return address


def address_create(
    *,
    user: User,
    full_name: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    region: str = "",
    phone: str = "",
) -> Address:
    """Save a new address for the user (at most ADDRESS_LIMIT_PER_USER)."""
    address = Address(
        user=user,
        full_name=full_name,
        line1=line1,
        line2=line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        phone=phone,
    )
    return address_save(address=address)


def address_update(*, address: Address, **changes: str) -> Address:
    """Change some fields of an address (only the address fields)."""
    unknown = set(changes) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"not address fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(address, field, value)
    return address_save(address=address)


def address_delete(*, address: Address) -> None:
    with transaction.atomic(using=AUTH_DB):
        address.delete()
