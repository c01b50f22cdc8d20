"""The postal address, once: auth's saved addresses and orders' shipping addresses.

Fields and limits (`PostalAddress`, an abstract model), validators and the serializer of
its JSON shape live here only, so a saved address always fits a checkout and both
sides answer a bad address with the same messages.

- country: ISO 3166-1 alpha-2 (the 249 officially assigned codes django-countries
  ships), accepted in any case, stored and shown upper-case ("ES"); names come from
  django-countries in the shop's language (`country_names`).
- phone: optional; stored and shown in E.164 ("+34612345678"), the form carriers and
  shipping labels take. Written in any usual format ("+34 612 34 56 78",
  "(020) 7946 0018"); without a leading "+" it is a number of the address's country.
  It must be a valid number for its country (Google's libphonenumber rules, through
  `phonenumbers`); extensions are refused (E.164 has none).
"""

from collections.abc import Mapping
from functools import cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import translation
from django_countries import countries
from django_countries.data import COUNTRIES
from django_countries.fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ADDRESS_FIELDS = (
    "full_name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)
OPTIONAL_FIELDS = frozenset({"line2", "region", "phone"})
# Characters per text field; phone is the longest input accepted (stored: E.164, <= 16).
MAX_LENGTH = {
    "full_name": 150,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "phone": 32,
}

COUNTRY_CODES = frozenset(COUNTRIES)
COUNTRY_MESSAGE = "Not an ISO 3166-1 alpha-2 country code (e.g. ES, FR, DE)."
PHONE_MESSAGE = (
    "Enter a valid phone number, e.g. +34 612 345 678 "
    "(without a leading +, a number of the address's country)."
)


def validate_country_code(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError(COUNTRY_MESSAGE, code="invalid_country")


def phone_to_e164(phone: str, *, country: str) -> str:
    """The phone number in E.164 ("" stays ""), or a ValidationError with PHONE_MESSAGE."""
    phone = phone.strip()
    if not phone:
        return ""
    region = country if country in COUNTRY_CODES else None
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or number.extension or not phonenumbers.is_valid_number(number):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def _country_names(language: str) -> tuple[dict[str, str], ...]:
    with translation.override(language):
        return tuple({"code": country.code, "name": str(country.name)} for country in countries)


def country_names() -> tuple[dict[str, str], ...]:
    """Every country as {code, name}, named and sorted in the shop's language (LANGUAGE_CODE)."""
    return _country_names(settings.LANGUAGE_CODE)


class PostalAddress(models.Model):
    """The address fields of a model (abstract): the same columns and rules wherever kept."""

    full_name = models.CharField(max_length=MAX_LENGTH["full_name"])
    line1 = models.CharField(max_length=MAX_LENGTH["line1"])
    line2 = models.CharField(max_length=MAX_LENGTH["line2"], blank=True)
    city = models.CharField(max_length=MAX_LENGTH["city"])
    region = models.CharField(max_length=MAX_LENGTH["region"], blank=True)
    postal_code = models.CharField(max_length=MAX_LENGTH["postal_code"])
    country = CountryField(
        error_messages={"invalid_choice": COUNTRY_MESSAGE}, help_text="ISO 3166-1 alpha-2"
    )
    phone = models.CharField(max_length=MAX_LENGTH["phone"], blank=True, help_text="E.164")

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if str(self.country) not in COUNTRY_CODES:
            return  # the country's own error; the phone is judged once it is right (as in the API)
        try:
            self.phone = phone_to_e164(self.phone, country=str(self.country))
        except ValidationError as error:
            raise ValidationError({"phone": error.error_list})


@extend_schema_field(
    {
        "type": "string",
        "enum": sorted(COUNTRY_CODES),
        "description": "ISO 3166-1 alpha-2 country code (lower case is accepted too).",
    }
)
class CountryCodeField(serializers.CharField):
    """ISO 3166-1 alpha-2, accepted in any case and given back upper-case."""

    default_error_messages = {"invalid_country": COUNTRY_MESSAGE}

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in COUNTRY_CODES:
            self.fail("invalid_country")
        return code


# Surrounding whitespace is trimmed, so a required text needs one visible character
# (the pattern also tells the OpenAPI schema so).
VISIBLE_TEXT = RegexValidator(r"\S", "This field may not be blank.")


def _text_field(name: str) -> serializers.CharField:
    if name in OPTIONAL_FIELDS:
        return serializers.CharField(
            max_length=MAX_LENGTH[name], required=False, allow_blank=True, default=""
        )
    return serializers.CharField(max_length=MAX_LENGTH[name], validators=[VISIBLE_TEXT])


class PostalAddressSerializer(serializers.Serializer):
    """An address as the APIs take and show it; the phone comes out in E.164."""

    full_name = _text_field("full_name")
    line1 = _text_field("line1")
    line2 = _text_field("line2")
    city = _text_field("city")
    region = _text_field("region")
    postal_code = _text_field("postal_code")
    country = CountryCodeField()
    # No pattern in the schema: any usual way of writing a number is accepted.
    phone = serializers.CharField(
        max_length=MAX_LENGTH["phone"],
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional. Any usual format in; E.164 out (+34612345678). Without a "
        "leading +, a number of the address's country.",
    )

    def validate(self, attrs):
        if "phone" in attrs:
            # A partial update may change the phone alone: the stored country then counts.
            country = attrs.get("country", getattr(self.instance, "country", ""))
            try:
                attrs["phone"] = phone_to_e164(attrs["phone"], country=str(country))
            except ValidationError as error:
                raise serializers.ValidationError({"phone": error.messages})
        return attrs


def address_validated(data: Mapping[str, object]) -> dict[str, str]:
    """The address as it is stored (trimmed, country upper-case, phone E.164).

    Raises ValidationError with the messages per field when it is not a valid address.
    """
    serializer = PostalAddressSerializer(data=data)
    if not serializer.is_valid():
        raise ValidationError(
            {
                field: [str(message) for message in messages]
                for field, messages in serializer.errors.items()
            }
        )
    return dict(serializer.validated_data)
