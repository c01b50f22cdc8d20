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
