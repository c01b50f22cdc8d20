"""Accounts are Django's own User (username = the email in lower case); addresses are ours."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from shopkit.countries import validate_country_code

validate_phone = RegexValidator(
    r"^\+?[0-9][0-9 ().-]{3,30}$",
    "Enter a phone number: digits, spaces and ( ) . - only, optionally starting with +.",
    code="invalid_phone",
)


class Address(models.Model):
    """A saved shipping address of one user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    full_name = models.CharField(max_length=150)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(
        max_length=2, validators=[validate_country_code], help_text="ISO 3166-1 alpha-2"
    )
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return f"{self.full_name}, {self.line1}, {self.city} ({self.country})"
