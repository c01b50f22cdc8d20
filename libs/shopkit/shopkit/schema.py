"""OpenAPI pieces every service shares: the schema class, the hooks and the problem responses.

The published document must be exact enough for a generated client to trust it:
optional sign-in declared as such, every status an operation can answer documented
(at least a `default` problem), ids as integers, enums with readable names. The
rules that hold for every operation live here, once; what only one operation knows
(its own 409s, its headers) stays in its `extend_schema`.

drf-spectacular imports this module after Django is set up, so DRF is safe here.
"""

import re
from http import HTTPStatus

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema_field
from rest_framework import permissions, serializers

from shopkit.errors import PROBLEM_CONTENT_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What a field's `errors` entry holds: a list of messages, or, for a nested object
# or a list of objects, the same shape again (an object per field or per position).
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Per-field messages (validation errors only). A value is a list of "
    "messages or, for a nested object, an object of the same shape; for a list of "
    'objects, an object keyed by position ({"1": {"quantity": [...]}}).',
    "additionalProperties": {
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]
                },
            },
            {"type": "object", "additionalProperties": True},
        ]
    },
    "example": {"quantity": ["Ensure this value is less than or equal to 99."]},
}

RETRY_AFTER_HEADER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before trying again.",
}
# Statuses any operation can answer, whatever it does (the gateway and shopkit.errors).
STATUS_DESCRIPTIONS = {
    400: "Bad Request: invalid input (`errors` per field), malformed JSON or a malformed request.",
    401: "Unauthorized: the access token is missing where required, invalid or expired.",
    404: "Not Found: no such resource, not the caller's, or an invalid page.",
    413: "Content Too Large: the body is larger than the gateway accepts.",
    415: "Unsupported Media Type: the body must be sent as application/json.",
    429: "Too Many Requests: retry after `Retry-After` seconds.",
    503: "Service Unavailable: a service or database it needs is down; nothing was "
    "changed, retry later.",
}
DEFAULT_DESCRIPTION = (
    "Any other error, as a problem document (e.g. 405, 406, 502 and 504 from the gateway)."
)


def public_endpoints_only(endpoints, **kwargs):
    """Leave `/internal/` (service-to-service) out of the OpenAPI document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


@extend_schema_field(FIELD_ERRORS_SCHEMA)
class FieldErrorsField(serializers.DictField):
    """`errors` of a problem document (for the schema: nested objects and lists)."""


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every Tienda service answers errors (shopkit.errors).

    Extension members that only some codes carry are added per service by
    `document_every_answer` (from the service's PROBLEM_EXTENSION_MEMBERS).
    """

    type = serializers.CharField(help_text="urn:tienda:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, out_of_stock.")
    errors = FieldErrorsField(required=False)
    retry_after = serializers.IntegerField(
        required=False,
        help_text="Seconds to wait (429 and checkout_in_progress; also Retry-After).",
    )


def problem_responses(*statuses: int) -> dict:
    """`extend_schema(responses=...)` entries for the problem documents an operation may answer."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=HTTPStatus(status).phrase
        )
        for status in statuses
    }


class TiendaAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with Tienda's auth and request-body rules."""

    def get_auth(self):
        """Optional sign-in as `[{}, {jwtAuth: []}]` (anonymous first); none as `[]`.

        A view without authentication classes ignores tokens altogether (sign-in,
        register): no security at all, so generated clients need no token for it.
        """
        if not self.view.get_authenticators():
            return []
        schemes = [requirement for requirement in super().get_auth() if requirement]
        if self._anonymous_allowed():
            return [{}, *schemes]
        return schemes

    def _anonymous_allowed(self) -> bool:
        safe = self.method in permissions.SAFE_METHODS
        for permission in self.view.get_permissions():
            if isinstance(permission, permissions.AllowAny):
                continue
            if safe and isinstance(
                permission,
                (
                    permissions.IsAuthenticatedOrReadOnly,
                    permissions.DjangoModelPermissionsOrAnonReadOnly,
                ),
            ):
                continue
            return False
        return True

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer):
            # Each alternative has required fields, so some body is required.
            required = all(
                any(field.required for field in _instance(choice).fields.values())
                for choice in _choices(serializer)
            )
        return schema, required


def _choices(proxy: PolymorphicProxySerializer):
    choices = proxy.serializers
    return choices.values() if isinstance(choices, dict) else choices


def _instance(serializer):
    return serializer() if isinstance(serializer, type) else serializer


# --- postprocessing ----------------------------------------------------------------


def document_every_answer(result, generator, request, public):
    """Complete every operation with what shopkit and the gateway make true everywhere."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    _complete_problem(schemas)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                _integer_path_ids(operation)
                _add_common_responses(operation)
    for schema in _enum_schemas(result):
        _name_enum_values(schema)
    _optional_sign_in_as_the_default(result)
    return result


def _optional_sign_in_as_the_default(result: dict) -> None:
    """Optional sign-in (`[{}, {jwtAuth: []}]`) becomes the document's top-level security,
    inherited by the operations that allow it; the others keep their own.

    Same meaning in OpenAPI, and generators that only look at an operation's own
    `security` (openapi-python-client: any non-empty list demands an authenticated
    client) then let anonymous callers use those operations too.
    """
    operations = [
        operation
        for operations in result.get("paths", {}).values()
        for operation in operations.values()
        if isinstance(operation, dict) and "responses" in operation
    ]
    optional = [op for op in operations if _is_optional(op.get("security", []))]
    if not optional:
        return
    result["security"] = optional[0]["security"]
    for operation in optional:
        if operation["security"] == result["security"]:
            del operation["security"]


def _is_optional(security: list) -> bool:
    return len(security) > 1 and security[0] == {}


def _complete_problem(schemas: dict) -> None:
    problem = schemas.get("Problem")
    if problem is None:
        return
    members = getattr(settings, "PROBLEM_EXTENSION_MEMBERS", None)
    if isinstance(members, str):
        members = import_string(members)
    problem["properties"].update(members or {})
    problem["additionalProperties"] = True  # RFC 9457: clients ignore unknown members
    problem["description"] = (
        "An RFC 9457 problem document (application/problem+json). `code` says what went "
        "wrong; the other members that some codes carry are listed with the codes."
    )


def _problem(description: str, **headers) -> dict:
    response = {
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
        "description": description,
    }
    if headers:
        response["headers"] = headers
    return response


def _add_common_responses(operation: dict) -> None:
    # Declared even when empty: "no security" said, not inherited.
    operation.setdefault("security", [])
    responses = operation["responses"]
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    signed_in = any("jwtAuth" in requirement for requirement in operation.get("security", []))
    paginated = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
    has_path_ids = any(p["in"] == "path" for p in parameters)
    # 400 from any malformed request (the gateway's too), 429 from the gateway's and
    # the configurable throttles, 503 when a database or neighbour does not answer.
    wanted = {400, 429, 503}
    if signed_in:
        wanted.add(401)
    if paginated or has_path_ids:
        wanted.add(404)
    if has_body:
        wanted.update((413, 415))
    for status in sorted(wanted):
        key = str(status)
        if key not in responses:
            responses[key] = _problem(STATUS_DESCRIPTIONS[status])
        if status in (429, 503):
            responses[key].setdefault("headers", {}).setdefault("Retry-After", RETRY_AFTER_HEADER)
    responses.setdefault("default", _problem(DEFAULT_DESCRIPTION))
    operation["responses"] = dict(
        sorted(responses.items(), key=lambda item: _status_order(item[0]))
    )


def _status_order(key: str) -> tuple[int, str]:
    return (1, key) if key == "default" else (0, key)


# Digit-only patterns of the routers' lookups (r"\d+", r"[0-9]{1,18}") and the largest id each allows.
_DIGITS = re.compile(r"^\^(?:\\d|\[0-9\])(?:\+|\{1,(\d+)\})\$$")
MAX_ID = 2**63 - 1  # BIGINT primary keys


def _integer_path_ids(operation: dict) -> None:
    """Path ids are integers, whatever the router's regex says."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter["schema"]
        match = _DIGITS.match(schema.get("pattern", "")) if schema.get("type") == "string" else None
        if match:
            digits = match.group(1)
            parameter["schema"] = {
                "type": "integer",
                "minimum": 1,
                "maximum": min(MAX_ID, 10 ** int(digits) - 1) if digits else MAX_ID,
            }
        elif schema.get("type") == "integer":
            schema.setdefault("minimum", 1)
            schema.setdefault("maximum", MAX_ID)


def objects_in(node):
    """Every JSON object in a (part of a) document, `node` itself included, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from objects_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from objects_in(value)


def _enum_schemas(document: dict):
    return (node for node in objects_in(document) if isinstance(node.get("enum"), list))


def enum_varname(value) -> str:
    """A readable constant name for an enum value: "-price" → PRICE_DESC, "" → BLANK."""
    if value is None:
        return "NONE"
    text = str(value)
    descending = text.startswith("-")
    name = re.sub(r"[^0-9A-Za-z]+", "_", text.lstrip("-")).strip("_").upper() or "BLANK"
    if name[0].isdigit():
        name = f"VALUE_{name}"
    return f"{name}_DESC" if descending else name


def _name_enum_values(schema: dict) -> None:
    values = schema["enum"]
    if "x-enum-varnames" in schema or not all(isinstance(v, str) for v in values):
        return
    names = [enum_varname(value) for value in values]
    if len(set(names)) != len(names):
        warn(f"enum values {values} do not give distinct names; left without x-enum-varnames")
        return
    schema["x-enum-varnames"] = names
