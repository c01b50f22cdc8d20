"""What goes in and out of the orders API. Explicit fields; everything an order shows is read-only."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderLine, OrderStatus, StatusChange
from shopkit.countries import COUNTRY_CODES
from shopkit.fields import TaxRateField

# The same rules as auth's saved addresses, so a saved address always fits an order.
PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9][0-9 ().-]{3,30}$",
    "Enter a phone number: digits, spaces and ( ) . - only, optionally starting with +.",
)
# Surrounding whitespace is trimmed, so a required text needs one visible character
# (the pattern also tells the OpenAPI schema so).
VISIBLE_TEXT = RegexValidator(r"\S", "This field may not be blank.")


@extend_schema_field(
    {
        "type": "string",
        "enum": sorted(COUNTRY_CODES),
        "description": "ISO 3166-1 alpha-2 country code (lower case is accepted too).",
    }
)
class CountryCodeField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in COUNTRY_CODES:
            raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.")
        return code


class ShippingAddressSerializer(serializers.Serializer):
    """An address inline in a checkout (or a saved one, checked the same way)."""

    full_name = serializers.CharField(max_length=150, validators=[VISIBLE_TEXT])
    line1 = serializers.CharField(max_length=200, validators=[VISIBLE_TEXT])
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, validators=[VISIBLE_TEXT])
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, validators=[VISIBLE_TEXT])
    country = CountryCodeField()
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        validators=[PHONE_VALIDATOR],
    )


class CheckoutSerializer(serializers.Serializer):
    shipping_address = ShippingAddressSerializer(
        required=False, help_text="The address inline; or give address_id instead."
    )
    address_id = serializers.IntegerField(
        min_value=1,
        max_value=2**53,
        required=False,
        help_text="One of the customer's saved addresses (auth); or give shipping_address.",
    )
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        given = [name for name in ("shipping_address", "address_id") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"shipping_address": ["Give either shipping_address or address_id (exactly one)."]}
            )
        return attrs


# The two shapes a checkout body takes, for the OpenAPI document (oneOf).
class CheckoutInlineAddressSerializer(CheckoutSerializer):
    shipping_address = ShippingAddressSerializer()
    address_id = None


class CheckoutSavedAddressSerializer(CheckoutSerializer):
    shipping_address = None
    address_id = serializers.IntegerField(
        min_value=1, max_value=2**53, help_text="One of the customer's saved addresses (auth)."
    )


class OrderLineSerializer(serializers.ModelSerializer):
    tax_rate = TaxRateField(read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "product_id",
            "sku",
            "name",
            "unit_price",
            "tax_rate",
            "quantity",
            "line_total",
            "line_tax",
        ]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.IntegerField(
        source="by_user_id",
        read_only=True,
        allow_null=True,
        help_text="Who made the change (user id); null for the system.",
    )

    class Meta:
        model = StatusChange
        fields = ["from_status", "to_status", "by", "at", "note"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "user_id",
            "email",
            "shipping_address",
            "notes",
            "currency",
            "subtotal",
            "tax",
            "total",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    history = StatusChangeSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "history"]
        read_only_fields = fields


class OrderListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    user_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Staff only: one customer."
    )


class OrderStatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OrderCancelSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StatusStatsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderStatsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    by_status = StatusStatsSerializer(many=True)
