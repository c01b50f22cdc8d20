"""Serializer fields with one meaning across the services."""

from decimal import Decimal

from rest_framework import serializers

from shopkit import money


class TaxRateField(serializers.DecimalField):
    """A tax rate as a fraction in [0, 1] with up to 4 decimals (0.055 for 5.5 %).

    Written as a decimal string with at least two decimals, so Spain's IVA reads
    "0.21", "0.10", "0.04" and France's reduced rate "0.055" wherever it appears
    (catalog, cart, orders).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 4)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(1))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return money.tax_rate_text(value)
