"""Input and output shapes of the cart APIs (public and internal)."""

from django.conf import settings
from rest_framework import serializers

from carts.pricing import PricedCart
from carts.selectors import CheckoutCart
from carts.services import ClearOutcome
from shopkit.address import validate_country_code
from shopkit.fields import TaxRateField
from shopkit.serializers import FieldsBuiltOncePerThread

# The largest id a product (BigAutoField in the catalog) can have.
MAX_PRODUCT_ID = 2**63 - 1


class JsonIntegerField(serializers.IntegerField):
    """An integer written as a JSON number: "3", 3.0 and true are refused, not coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- public API: input ---------------------------------------------------------------


class LineAddInputSerializer(FieldsBuiltOncePerThread, serializers.Serializer):
    product_id = JsonIntegerField(min_value=1, max_value=MAX_PRODUCT_ID)
    quantity = JsonIntegerField(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY)


class LineQuantityInputSerializer(FieldsBuiltOncePerThread, serializers.Serializer):
    # PATCH items/{id}/ sets the quantity, so it is required: this serializer is
    # never partial (which also keeps the OpenAPI schema from marking it optional).
    quantity = JsonIntegerField(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY)

    @property
    def partial(self):
        return False

    @partial.setter
    def partial(self, value):
        pass


# --- public API: output ---------------------------------------------------------------


class CartItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product_id = serializers.IntegerField(read_only=True)
    # Null when the catalog no longer knows the product (the line can still be removed).
    sku = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True, allow_null=True)
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    tax_rate = TaxRateField(read_only=True, allow_null=True)
    quantity = serializers.IntegerField(read_only=True)
    line_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )
    available = serializers.BooleanField(
        read_only=True, help_text="The product is for sale and its stock covers the quantity."
    )


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True, read_only=True)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    tax = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    item_count = serializers.IntegerField(read_only=True, help_text="Units in the cart.")
    currency = serializers.CharField(read_only=True)
    cart_token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="A guest's cart token (also in the X-Cart-Token header); null for "
        "signed-in customers and for a guest without a cart.",
    )


# The cart read shapes its JSON directly: the same text as CartSerializer (the fields
# that format a value are DRF's own; tests compare the two) without walking a
# serializer's fields for every line of every read.
_MONEY = serializers.DecimalField(max_digits=14, decimal_places=2)
_TAX_RATE = TaxRateField()


def _money_text(value):
    return None if value is None else _MONEY.to_representation(value)


def cart_representation(cart: PricedCart) -> dict:
    """A PricedCart as the public API shows it (the shape of CartSerializer)."""
    return {
        "items": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "unit_price": _money_text(line.unit_price),
                "tax_rate": None
                if line.tax_rate is None
                else _TAX_RATE.to_representation(line.tax_rate),
                "quantity": line.quantity,
                "line_total": _money_text(line.line_total),
                "available": line.available,
            }
            for line in cart.items
        ],
        "subtotal": _MONEY.to_representation(cart.subtotal),
        "tax": _MONEY.to_representation(cart.tax),
        "total": _MONEY.to_representation(cart.total),
        "item_count": cart.item_count,
        "currency": cart.currency,
        "cart_token": cart.cart_token,
    }


class MergeAdjustmentSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(read_only=True)
    requested = serializers.IntegerField(
        read_only=True, help_text="The customer's quantity plus the guest's."
    )
    quantity = serializers.IntegerField(
        read_only=True, help_text="What the customer's line holds now (0: no line)."
    )
    reason = serializers.CharField(read_only=True)


class MergeResultSerializer(CartSerializer):
    merged = serializers.BooleanField(
        read_only=True, help_text="False when no guest cart had that token (merged already)."
    )
    adjustments = MergeAdjustmentSerializer(many=True, read_only=True)

    def to_representation(self, instance):
        return {
            **super().to_representation(instance.cart),
            "merged": instance.merged,
            "adjustments": MergeAdjustmentSerializer(instance.adjustments, many=True).data,
        }


# --- internal API -------------------------------------------------------------------


class CheckoutLineSerializer(serializers.Serializer):
    product_id = JsonIntegerField(min_value=1, max_value=MAX_PRODUCT_ID)
    quantity = JsonIntegerField(min_value=1)


class CheckoutCartSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(read_only=True, allow_null=True)
    version = serializers.IntegerField(read_only=True)
    lines = CheckoutLineSerializer(many=True, read_only=True)


class CartReadQuerySerializer(serializers.Serializer):
    country = serializers.CharField(
        required=False,
        validators=[validate_country_code],
        help_text="The destination (ISO 3166-1 alpha-2, e.g. DE): its tax rates apply "
        "when the shop charges tax by destination.",
    )


class GuestCartLookupSerializer(serializers.Serializer):
    cart_token = serializers.CharField(min_length=1, max_length=128)


def checkout_cart_representation(cart: CheckoutCart) -> dict:
    """The internal answer (the shape of CheckoutCartSerializer)."""
    return {
        "user_id": cart.user_id,
        "version": cart.version,
        "lines": [
            {"product_id": line.product_id, "quantity": line.quantity} for line in cart.lines
        ],
    }


class ClearInputSerializer(FieldsBuiltOncePerThread, serializers.Serializer):
    reference = serializers.CharField(min_length=1, max_length=64)
    version = JsonIntegerField(min_value=0)
    lines = CheckoutLineSerializer(many=True, allow_empty=True)


class GuestClearInputSerializer(ClearInputSerializer):
    cart_token_hash = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="SHA-256 hex")


class ClearOutcomeSerializer(serializers.Serializer):
    cleared = serializers.BooleanField(read_only=True)
    version = serializers.IntegerField(read_only=True)


def clear_outcome_representation(outcome: ClearOutcome) -> dict:
    """The internal answer to a clear (the shape of ClearOutcomeSerializer)."""
    return {"cleared": outcome.cleared, "version": outcome.version}
