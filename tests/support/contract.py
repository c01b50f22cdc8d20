"""The OpenAPI contract tests every service runs on its own published schema.

- the document is valid OpenAPI 3 (openapi-spec-validator) and generated without warnings;
- schemathesis calls every operation as each of ROLES (valid and invalid input) and
  every answer must conform: no 5xx, a documented status, the documented content type
  and a body that matches the documented schema (CONTRACT_CHECKS).

Imports of schemathesis and hypothesis stay inside the functions: the system tests
import this module without Django settings.
"""

import json
from pathlib import Path

# anonymous: no token; customer: a plain signed-in user; staff: the service's staff perms.
ROLES = ("anonymous", "customer", "staff")
# Generated cases per operation, role and mode: enough to reach every branch the
# schema allows, and all four services' runs within a few minutes together.
EXAMPLES_PER_OPERATION = 12


def contract_checks() -> list:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def fuzz_settings(max_examples: int = EXAMPLES_PER_OPERATION):
    """Hypothesis settings of the contract runs: derandomized, no example database."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,  # no .hypothesis/ directory in the checkout
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def spectacular_document(tmp_path: Path) -> dict:
    """The service's schema as `manage.py spectacular --fail-on-warn --validate` writes it."""
    from django.core.management import call_command

    target = tmp_path / "schema.json"
    call_command(
        "spectacular", fail_on_warn=True, validate=True, format="openapi-json", file=str(target)
    )
    return json.loads(target.read_text())


def validate_document(document: dict) -> None:
    """Raises when the document is not valid OpenAPI 3 (openapi-spec-validator)."""
    from openapi_spec_validator import validate

    validate(document)


def operations(document: dict):
    """(method, path, operation) of every operation in the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, path, operation


def security_of(document: dict, operation: dict) -> list:
    """The operation's security requirements (its own, or the document's it inherits)."""
    return operation.get("security", document.get("security", []))


def assert_every_operation_documents_its_errors(document: dict) -> None:
    """The rules shopkit.schema makes true for every operation of every service."""
    for method, path, operation in operations(document):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert "default" in responses, where
        for status in ("400", "429", "503", "default"):
            content = responses[status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, where
        assert "Retry-After" in responses["429"]["headers"], where
        if "requestBody" in operation:
            assert "413" in responses, where
        if any("jwtAuth" in requirement for requirement in security_of(document, operation)):
            assert "401" in responses, where
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                # ids are integers; a public number (a guest's order) states its pattern
                schema = parameter["schema"]
                assert schema["type"] == "integer" or "pattern" in schema, where
        security = security_of(document, operation)
        assert {} not in security[1:], f"{where}: anonymous access must come first"


def assert_problem_schema_is_open(document: dict) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert problem["additionalProperties"] is True
    errors = problem["properties"]["errors"]["additionalProperties"]["anyOf"]
    assert {"type": "object", "additionalProperties": True} in errors  # nested fields


def load_schema(app, url: str):
    """The service's served schema, for schemathesis to call `app` (WSGI) in-process."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi(url, app)
    # Tokens are sent by the tests (one role per run), not generated.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def run_contract(
    schema,
    *,
    headers: dict,
    before_each=None,
    extra_checks=(),
    max_examples: int = EXAMPLES_PER_OPERATION,
) -> dict[str, set[int]]:
    """Call every operation with generated valid and invalid input; every answer must conform.

    Returns the statuses each operation answered ("GET /api/v1/..." → {200, 404}), so a
    test can check that the runs got past validation.
    """
    import schemathesis
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable

    checks = [*contract_checks(), *extra_checks]
    answered: dict[str, set[int]] = {}
    operations_found = [result.ok() for result in schema.get_all_operations()]
    assert operations_found, "the schema has no operations"
    for operation in operations_found:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @fuzz_settings(max_examples)
            def call(case):
                if before_each is not None:
                    before_each()
                response = case.call(headers=headers)
                answered.setdefault(case.operation.label, set()).add(response.status_code)
                case.validate_response(response, checks=checks, headers=headers)

            try:
                call()
            except Unsatisfiable:
                # Nothing to get wrong (no parameters, no body): no invalid request exists.
                if mode is not schemathesis.GenerationMode.NEGATIVE:
                    raise
    return answered
