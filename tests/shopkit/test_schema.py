"""shopkit.schema: the rules every service's OpenAPI document gets from one place."""

import json

import jsonschema
import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from shopkit.errors import problem_exception_handler
from shopkit.schema import FIELD_ERRORS_SCHEMA, document_every_answer, enum_varname


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("-price", "PRICE_DESC"),
        ("price", "PRICE"),
        ("-created_at", "CREATED_AT_DESC"),
        ("pending", "PENDING"),
        ("ES", "ES"),
        ("", "BLANK"),
        ("3d", "VALUE_3D"),
    ],
)
def test_enum_values_get_readable_names(value, name):
    assert enum_varname(value) == name


def _document(**operation):
    return {
        "paths": {
            "/api/v1/things/{id}/": {
                "get": {
                    "parameters": [
                        {
                            "in": "path",
                            "name": "id",
                            "schema": {"type": "string", "pattern": r"^\d+$"},
                        },
                        {
                            "in": "query",
                            "name": "sort",
                            "schema": {"type": "string", "enum": ["name", "-name"]},
                        },
                    ],
                    "security": [{}, {"jwtAuth": []}],
                    "responses": {"200": {"description": ""}},
                },
                "put": {
                    "parameters": [
                        {
                            "in": "path",
                            "name": "id",
                            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                        }
                    ],
                    "requestBody": {"content": {}},
                    "security": [{"jwtAuth": []}],
                    "responses": {"200": {"description": ""}},
                    **operation,
                },
            }
        },
        "components": {"schemas": {}},
    }


def test_every_operation_gets_the_common_answers():
    document = document_every_answer(_document(), generator=None, request=None, public=True)
    read, write = document["paths"]["/api/v1/things/{id}/"].values()
    assert list(read["responses"]) == ["200", "400", "401", "404", "429", "503", "default"]
    assert list(write["responses"]) == [
        "200",
        "400",
        "401",
        "404",
        "413",
        "415",
        "429",
        "503",
        "default",
    ]
    assert "Retry-After" in write["responses"]["429"]["headers"]


def test_path_ids_become_integers_within_what_the_route_matches():
    document = document_every_answer(_document(), generator=None, request=None, public=True)
    read, write = document["paths"]["/api/v1/things/{id}/"].values()
    assert read["parameters"][0]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert write["parameters"][0]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 10**18 - 1,
    }
    assert read["parameters"][1]["schema"]["x-enum-varnames"] == ["NAME", "NAME_DESC"]


def test_optional_sign_in_is_inherited_from_the_document():
    document = document_every_answer(_document(), generator=None, request=None, public=True)
    read, write = document["paths"]["/api/v1/things/{id}/"].values()
    assert document["security"] == [{}, {"jwtAuth": []}]
    assert "security" not in read  # inherits: anonymous first, then a token
    assert write["security"] == [{"jwtAuth": []}]


class _Line(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class _Address(serializers.Serializer):
    full_name = serializers.CharField()
    country = serializers.CharField(max_length=2)


class _Checkout(serializers.Serializer):
    shipping_address = _Address()
    lines = _Line(many=True)
    notes = serializers.CharField(max_length=3)


def test_nested_validation_errors_match_the_documented_errors_schema():
    checkout = _Checkout(
        data={
            "shipping_address": {"country": "Spain"},
            "lines": [{"quantity": 1}, {"quantity": 0}],
            "notes": "long",
        }
    )
    assert not checkout.is_valid()
    request = APIRequestFactory().post("/")
    response = problem_exception_handler(
        serializers.ValidationError(checkout.errors), {"request": request, "view": None}
    )

    errors = json.loads(json.dumps(response.data["errors"]))  # as a client reads it
    assert set(errors["shipping_address"]) == {"full_name", "country"}  # an object, not a list
    assert set(errors["lines"]) == {"1"} and "quantity" in errors["lines"]["1"]  # per position
    assert errors["notes"] == ["Ensure this field has no more than 3 characters."]
    jsonschema.validate(errors, FIELD_ERRORS_SCHEMA)
