"""What goes in and out of the payments API (orders/payment_apis.py). Amounts, currency,
status and provider data are read-only: they come from the order and the provider."""

from decimal import Decimal

from rest_framework import serializers

from orders.models import Payment, Refund


class PaymentCreateSerializer(serializers.Serializer):
    provider = serializers.CharField(
        max_length=32,
        help_text="A configured payment provider: `manual` always; `stripe` where its keys "
        "are set. The amount and currency are the order's.",
    )


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "amount", "status", "provider_reference", "reason", "created_at"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(read_only=True)
    client_secret = serializers.CharField(
        read_only=True,
        help_text="stripe: hand it to Stripe.js to collect the card (empty otherwise).",
    )
    instructions = serializers.CharField(
        read_only=True, help_text="manual: how to pay (empty otherwise)."
    )
    refunds = RefundSerializer(many=True, read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Only the customer paying needs the client secret (staff see the rest).
        if not self.context.get("show_client_secret", False):
            data["client_secret"] = ""
        return data

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_id",
            "provider",
            "provider_reference",
            "status",
            "amount",
            "currency",
            "refunded_amount",
            "client_secret",
            "instructions",
            "refunds",
            "succeeded_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="What to give back (a decimal string); at most what is left of the payment.",
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class WebhookAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    event_id = serializers.CharField()
    duplicate = serializers.BooleanField(help_text="true: this event was applied before.")
