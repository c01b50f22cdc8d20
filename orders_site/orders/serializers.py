"""What goes in and out of the orders API. Explicit fields; everything an order shows is read-only."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderLine, OrderStatus, StatusChange
from shopkit.address import PostalAddressSerializer
from shopkit.fields import TaxRateField
from shopkit.serializers import FieldsBuiltOncePerThread


class ShippingAddressSerializer(PostalAddressSerializer):
    """An address inline in a checkout (a saved one is checked the same way: shopkit.address)."""


class CheckoutSerializer(FieldsBuiltOncePerThread, serializers.Serializer):
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
    shipping_method = serializers.SlugField(
        max_length=32,
        required=False,
        help_text="The code of a shipping method serving the destination "
        "(GET shipping-methods/?country=); required when one does.",
    )

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


class GuestCheckoutSerializer(CheckoutInlineAddressSerializer):
    """A guest's checkout (no token; the X-Cart-Token header names the guest cart)."""

    email = serializers.EmailField(
        max_length=254, help_text="Where the order's emails go (a guest checkout only)."
    )
    language = serializers.ChoiceField(
        choices=settings.SHOP_LANGUAGES,
        required=False,
        help_text="The language of the order's emails; default the shop's.",
    )


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


class OrderShippingMethodSerializer(serializers.Serializer):
    """The shipping method as the order was charged for it."""

    code = serializers.CharField(source="shipping_method_code")
    name = serializers.CharField(source="shipping_method_name")
    carrier = serializers.CharField(source="shipping_carrier")
    tax_rate = TaxRateField(source="shipping_tax_rate")


class OrderSerializer(serializers.ModelSerializer):
    shipping_address = ShippingAddressSerializer(source="*", read_only=True)
    shipping_method = serializers.SerializerMethodField(
        help_text="The method as charged; null when no method served the destination."
    )
    lines = OrderLineSerializer(many=True, read_only=True)

    @extend_schema_field(OrderShippingMethodSerializer(allow_null=True))
    def get_shipping_method(self, order):
        if not order.shipping_method_code:
            return None
        return OrderShippingMethodSerializer(order).data

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "user_id",
            "email",
            "shipping_address",
            "shipping_method",
            "tracking_carrier",
            "tracking_number",
            "notes",
            "currency",
            "subtotal",
            "tax",
            "shipping_total",
            "shipping_tax",
            "total",
            "payment_status",
            "paid_at",
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


class CheckoutResultSerializer(OrderDetailSerializer):
    """The 201 of a checkout: the order, and for a guest its access token."""

    # Not read_only: the schema would then mark it required (output only: never parsed).
    access_token = serializers.CharField(
        required=False,
        help_text="A guest checkout's first 201 only (also in the confirmation email; "
        "a replay does not repeat it): send it as X-Order-Token to read, pay or cancel "
        "the order under /api/v1/orders/guest/{number}/.",
    )

    class Meta(OrderDetailSerializer.Meta):
        fields = [*OrderDetailSerializer.Meta.fields, "access_token"]
        read_only_fields = OrderDetailSerializer.Meta.fields


class OrderListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    user_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Staff only: one customer."
    )


class OrderStatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    carrier = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Moving to shipped: required, with tracking_number.",
    )
    tracking_number = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Moving to shipped: required, with carrier.",
    )


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
    paid_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The sum of succeeded payments."
    )
    refunded = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The sum of their refunds (not failed ones)."
    )
    net_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="paid_revenue - refunded."
    )
