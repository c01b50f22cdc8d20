"""The one address of shopkit: its serializer, phone numbers in E.164, countries and names."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from shopkit.address import (
    ADDRESS_FIELDS,
    COUNTRY_MESSAGE,
    PHONE_MESSAGE,
    PostalAddressSerializer,
    address_validated,
    country_names,
    phone_to_e164,
)
from tests.support.addresses import ADDRESS


def test_a_valid_address_comes_out_as_stored():
    assert address_validated(ADDRESS) == {**ADDRESS, "country": "ES", "phone": "+34612345678"}


def test_optional_fields_default_to_blank():
    required = {name: ADDRESS[name] for name in ("full_name", "line1", "city", "postal_code")}
    validated = address_validated({**required, "country": "FR"})
    assert set(validated) == set(ADDRESS_FIELDS)
    assert (validated["line2"], validated["region"], validated["phone"]) == ("", "", "")


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+34 612 34 56 78", "ES", "+34612345678"),
        ("612 345 678", "ES", "+34612345678"),  # national: the address's country
        ("(020) 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "ES", "+442079460018"),  # a + number keeps its own country
        ("+34612345678", "XX", "+34612345678"),
        ("  ", "ES", ""),
    ],
)
def test_phones_are_stored_in_e164(raw, country, e164):
    assert phone_to_e164(raw, country=country) == e164


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("call me", "ES"),
        ("1234", "ES"),
        ("+1 555 0100", "US"),  # possible length, but no such US number
        ("612 345 678", "XX"),  # national, and no country to read it in
        ("+34 612 345 678 ext. 12", "ES"),  # E.164 has no extensions
    ],
)
def test_invalid_phones_are_refused_with_one_message(raw, country):
    with pytest.raises(ValidationError) as refused:
        phone_to_e164(raw, country=country)
    assert refused.value.messages == [PHONE_MESSAGE]
    assert refused.value.error_list[0].code == "invalid_phone"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"country": "XX"}, "country", COUNTRY_MESSAGE),
        ({"country": "ESP"}, "country", COUNTRY_MESSAGE),
        ({"country": ""}, "country", "This field may not be blank."),
        ({"postal_code": "   "}, "postal_code", "This field may not be blank."),
        (
            {"full_name": "x" * 151},
            "full_name",
            "Ensure this field has no more than 150 characters.",
        ),
        ({"phone": "call me"}, "phone", PHONE_MESSAGE),
        ({"phone": "0" * 33}, "phone", "Ensure this field has no more than 32 characters."),
    ],
)
def test_invalid_addresses_name_the_field(change, field, message):
    with pytest.raises(ValidationError) as refused:
        address_validated({**ADDRESS, **change})
    assert refused.value.message_dict == {field: [message]}


def test_a_partial_update_reads_a_national_phone_in_the_stored_country():
    class Stored:
        country = "GB"

    serializer = PostalAddressSerializer(Stored(), data={"phone": "020 7946 0018"}, partial=True)
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"phone": "+442079460018"}


def test_country_names_are_every_code_once_in_the_shops_language():
    english = country_names()
    assert len(english) == 249
    assert len({country["code"] for country in english}) == 249
    assert {"code": "ES", "name": "Spain"} in english
    names = [country["name"] for country in english]
    assert names.index("Afghanistan") < names.index("Spain") < names.index("Zimbabwe")
    with override_settings(LANGUAGE_CODE="es"):
        spanish = country_names()
    assert {"code": "ES", "name": "España"} in spanish
    assert {"code": "DE", "name": "Alemania"} in spanish
