"""Accounts are Django's own User (username = the email in lower case); addresses are ours."""

from django.conf import settings
from django.db import models

from shopkit.address import PostalAddress


class Address(PostalAddress):
    """A saved shipping address of one user (fields and rules: shopkit.address)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.full_name}, {self.line1}, {self.city} ({self.country})"


class AccessRevocation(models.Model):
    """Access tokens of a user issued before `not_before` are dead in every service.

    One row per user, moved forward by each deactivation, deletion or password
    change (accounts.signals). No foreign key: the row must outlive a deleted user.
    auth publishes the recent rows on /internal/auth/revocations/ and the other
    services poll them (shopkit.revocation); rows older than an access token's
    lifetime no longer matter and are left out.
    """

    user_id = models.BigIntegerField(unique=True)
    not_before = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["not_before"]

    def __str__(self) -> str:
        return f"user {self.user_id}: tokens before {self.not_before:%Y-%m-%d %H:%M:%S}"


class Profile(models.Model):
    """What accounts keeps about a user beyond Django's User: language and email verification.

    Written by the services that change it (registration, `me/`, verification); a user
    without a row (made before it existed, by the admin or by seeding) reads as the
    defaults: SHOP_LANGUAGE, not verified (accounts.selectors.profile_of).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    language = models.CharField(
        max_length=8,
        choices=settings.SHOP_LANGUAGES,
        help_text="The language of the emails the customer gets.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current email was verified; empty: not yet."
    )

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
