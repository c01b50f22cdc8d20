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
