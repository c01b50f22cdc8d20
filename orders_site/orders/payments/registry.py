"""The configured payment providers, by name (settings.PAYMENT_PROVIDERS)."""

import json
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from orders.payments.base import PaymentProvider


@cache
def _providers(config: str) -> dict[str, PaymentProvider]:
    providers = {}
    for name, entry in json.loads(config).items():
        options = {key: value for key, value in entry.items() if key != "CLASS"}
        providers[name] = import_string(entry["CLASS"])(name=name, **options)
    return providers


def configured_providers() -> dict[str, PaymentProvider]:
    # Keyed by the configuration itself, so a changed setting (a test's) builds them anew.
    return _providers(json.dumps(settings.PAYMENT_PROVIDERS, sort_keys=True))


def payment_provider(name: str) -> PaymentProvider | None:
    """The provider of that name, or None when it is not configured."""
    return configured_providers().get(name)


def provider_names() -> list[str]:
    return list(configured_providers())
