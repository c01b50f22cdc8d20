"""A user's sessions end when their password changes or they are deactivated, however it happens.

Ending them means two things: every refresh token is blacklisted (no new access
token), and an access revocation is recorded (the access tokens already out are
refused by cart and orders within seconds: see shopkit.revocation). Deleting a
user records a revocation too.

The API's password change, the admin's password form and user form, `manage.py
changepassword` and seeding all end in `User.save()`, so the check lives here, once:
pre_save compares the row about to be written with the stored one, post_save
blacklists every refresh token of the user (in the save's transaction, if any).

Not seen: queryset .update(), bulk_create() and bulk_update(), which send no signals
(seed_users resets its demo customers that way on purpose: see accounts.seeding).
"""

from django.contrib.auth.models import User

from accounts.services import access_tokens_revoke, refresh_tokens_revoke

CREDENTIAL_FIELDS = frozenset({"password", "is_active"})
_REVOKE_FLAG = "_revoke_refresh_tokens"


def _is_password_hash_upgrade(user: User, update_fields: frozenset[str] | None) -> bool:
    """Django re-hashing a correct password at sign-in (new hasher or iterations).

    AbstractBaseUser.check_password() does it with set_password(), then clears
    `_password` ("hash upgrades shouldn't be considered password changes") and
    saves the password alone. Same password: the sessions may stay.
    """
    return update_fields == frozenset({"password"}) and user._password is None


def user_credentials_compare(
    sender, instance: User, raw: bool, using: str, update_fields: frozenset[str] | None, **kwargs
):
    """pre_save: flag the user when the stored password hash changes or is_active goes off.

    Free for a new user (no pk yet) and for saves of other fields only (sign-in's
    last_login, profile edits); otherwise one read of the stored row by primary key.
    """
    if raw or instance.pk is None:
        return
    fields = CREDENTIAL_FIELDS if update_fields is None else CREDENTIAL_FIELDS & update_fields
    if not fields or _is_password_hash_upgrade(instance, update_fields):
        return
    stored = User.objects.using(using).filter(pk=instance.pk).values(*fields).first()
    if stored is None:
        return
    password_changed = "password" in stored and stored["password"] != instance.password
    deactivated = stored.get("is_active", False) and not instance.is_active
    if password_changed or deactivated:
        setattr(instance, _REVOKE_FLAG, "deactivated" if deactivated else "password")


def user_refresh_tokens_revoke(sender, instance: User, **kwargs):
    """post_save: sign a flagged user out everywhere (every live refresh token blacklisted)."""
    reason = getattr(instance, _REVOKE_FLAG, None)
    if reason:
        delattr(instance, _REVOKE_FLAG)  # a later save of the same object starts afresh
        refresh_tokens_revoke(user=instance)
        # Every access token signed until now dies too; a sign-in right after a password
        # change still gets a token that counts (see _revocation_second_wait).
        access_tokens_revoke(user_id=instance.pk)


def user_deleted_revoke(sender, instance: User, **kwargs):
    """post_delete: the access tokens of a deleted user die with the account."""
    access_tokens_revoke(user_id=instance.pk)
