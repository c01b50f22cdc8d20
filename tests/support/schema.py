"""Checks on a published OpenAPI document that spectacular's own validation does not make."""

import jsonschema


def defaults_breaking_their_schema(document: dict) -> list[str]:
    """Every component property whose default does not fit its own schema (pattern, enum...).

    A client validating with the document would refuse the server's own default.
    """
    broken = []
    for name, component in document["components"]["schemas"].items():
        for prop, schema in component.get("properties", {}).items():
            if "default" not in schema:
                continue
            try:
                jsonschema.validate(schema["default"], schema)
            except jsonschema.ValidationError as error:
                broken.append(f"{name}.{prop}: {error.message}")
    return broken
