"""OpenAPI pieces every service shares: the public-only hook and the problem responses.

drf-spectacular imports this module after Django is set up, so DRF is safe here.
"""

from http import HTTPStatus

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from shopkit.errors import PROBLEM_CONTENT_TYPE


def public_endpoints_only(endpoints, **kwargs):
    """Leave `/internal/` (service-to-service) out of the OpenAPI document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


MESSAGES_SCHEMA = {"type": "array", "items": {"type": "string"}}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                MESSAGES_SCHEMA,
                # a nested object's fields (e.g. a checkout's shipping_address)
                {"type": "object", "additionalProperties": MESSAGES_SCHEMA},
            ]
        },
    }
)
class FieldErrorsField(serializers.DictField):
    """{field: [messages]}; for a nested object, {field: {its field: [messages]}}."""


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every Tienda service answers errors (shopkit.errors)."""

    # Not read-only: spectacular would list every read-only field as required,
    # and `errors` only comes with validation problems.
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, out_of_stock.")
    errors = FieldErrorsField(
        required=False,
        help_text="Per-field messages (validation errors only).",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait (429 only; also the Retry-After header)."
    )


def problem_responses(*statuses: int) -> dict:
    """`extend_schema(responses=...)` entries for the problem documents an operation may answer."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=HTTPStatus(status).phrase
        )
        for status in statuses
    }
