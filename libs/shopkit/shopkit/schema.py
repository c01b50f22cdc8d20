"""drf-spectacular hooks: the published schema is the public API only."""


def public_endpoints_only(endpoints, **kwargs):
    """Leave `/internal/` (service-to-service) out of the OpenAPI document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
