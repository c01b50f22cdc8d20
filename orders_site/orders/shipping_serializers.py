"""What goes in and out of the shipping endpoints (quote, and staff's zones and methods)."""

from rest_framework import serializers

from orders.models import ShippingMethod, ShippingRateKind, ShippingTaxMode, ShippingZone
from shopkit.address import validate_country_code
from shopkit.fields import TaxRateField

MONEY = {"max_digits": 12, "decimal_places": 2}


class ShippingQuoteQuerySerializer(serializers.Serializer):
    country = serializers.CharField(
        validators=[validate_country_code],
        help_text="The destination, ISO 3166-1 alpha-2 (e.g. ES).",
    )


class ShippingTierSerializer(serializers.Serializer):
    max_weight = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=0, help_text="Kilograms, inclusive."
    )
    price = serializers.DecimalField(**MONEY, min_value=0)


class ShippingRulesSerializer(serializers.Serializer):
    """How a method is priced (docs/architecture.md, "Shipping")."""

    rate_kind = serializers.ChoiceField(choices=ShippingRateKind.choices)
    flat_price = serializers.DecimalField(**MONEY)
    tiers = ShippingTierSerializer(many=True)
    free_above = serializers.DecimalField(**MONEY, allow_null=True)
    tax_mode = serializers.ChoiceField(choices=ShippingTaxMode.choices)
    tax_rate = TaxRateField(help_text="For tax_mode fixed.")


class ShippingOptionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    carrier = serializers.CharField()
    price = serializers.DecimalField(
        **MONEY, allow_null=True, help_text="Net, for the caller's cart; null without a cart."
    )
    tax = serializers.DecimalField(**MONEY, allow_null=True)
    total = serializers.DecimalField(**MONEY, allow_null=True)
    tax_rate = TaxRateField(allow_null=True, help_text="The rate the shipping tax used.")
    estimated_days_min = serializers.IntegerField()
    estimated_days_max = serializers.IntegerField()
    note = serializers.CharField(help_text="e.g. that products without a weight count as 0 kg.")
    rules = ShippingRulesSerializer()


def shipping_rules(method: ShippingMethod) -> dict:
    return {
        "rate_kind": method.rate_kind,
        "flat_price": method.flat_price,
        "tiers": [
            {"max_weight": tier.max_weight, "price": tier.price} for tier in method.tiers.all()
        ],
        "free_above": method.free_above,
        "tax_mode": method.tax_mode,
        "tax_rate": method.tax_rate,
    }


class ShippingZoneSerializer(serializers.ModelSerializer):
    countries = serializers.ListField(
        child=serializers.CharField(validators=[validate_country_code]),
        allow_empty=False,
        help_text="ISO 3166-1 alpha-2 codes.",
    )

    class Meta:
        model = ShippingZone
        fields = ["id", "name", "countries"]
        read_only_fields = ["id"]


class ShippingMethodSerializer(serializers.ModelSerializer):
    zones = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ShippingZone.objects.all(), help_text="Zone ids."
    )
    tiers = ShippingTierSerializer(many=True, required=False, help_text="For rate_kind weight.")
    tax_rate = TaxRateField(required=False)

    class Meta:
        model = ShippingMethod
        fields = [
            "id",
            "code",
            "name",
            "carrier",
            "estimated_days_min",
            "estimated_days_max",
            "is_active",
            "zones",
            "rate_kind",
            "flat_price",
            "tiers",
            "free_above",
            "tax_mode",
            "tax_rate",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs):
        days_min = attrs.get("estimated_days_min", getattr(self.instance, "estimated_days_min", 0))
        days_max = attrs.get("estimated_days_max", getattr(self.instance, "estimated_days_max", 0))
        if days_min > days_max:
            raise serializers.ValidationError(
                {"estimated_days_max": ["At least estimated_days_min."]}
            )
        kind = attrs.get("rate_kind", getattr(self.instance, "rate_kind", ShippingRateKind.FLAT))
        tiers = attrs.get("tiers")
        if tiers is not None:
            weights = [tier["max_weight"] for tier in tiers]
            if len(set(weights)) != len(weights):
                raise serializers.ValidationError({"tiers": ["One tier per max_weight."]})
        has_tiers = (
            bool(tiers)
            if tiers is not None
            else bool(self.instance and self.instance.tiers.exists())
        )
        if kind == ShippingRateKind.WEIGHT and not has_tiers:
            raise serializers.ValidationError({"tiers": ["A weight-priced method needs tiers."]})
        return attrs
