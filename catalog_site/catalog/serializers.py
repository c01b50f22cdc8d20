"""Shapes of the catalog's JSON, public and internal. Explicit fields, never __all__."""

from rest_framework import serializers

from catalog.models import MAX_STOCK, Category, Product, Reservation, ReservationLine
from catalog.services import RESERVATION_MAX_TTL_SECONDS
from shopkit.fields import TaxRateField

MAX_LINES = 100


class CategorySerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=140, required=False, help_text="Defaults to the slugified name."
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]
        read_only_fields = ["id"]

    def validate_slug(self, value):
        duplicates = Category.objects.filter(slug=value)
        if self.instance is not None:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise serializers.ValidationError("A category with this slug already exists.")
        return value


class ProductSerializer(serializers.ModelSerializer):
    """The public product (the catalog's API). Staff write it; `in_stock` and timestamps are derived."""

    slug = serializers.SlugField(
        max_length=200, required=False, help_text="Defaults to the slugified name and sku."
    )
    in_stock = serializers.BooleanField(read_only=True)
    tax_rate = TaxRateField(help_text="VAT as a fraction, e.g. 0.21 (up to 4 decimals: 0.055).")

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "slug",
            "name",
            "description",
            "category",
            "price",
            "tax_rate",
            "stock",
            "in_stock",
            "is_active",
            "image_url",
            "weight",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "in_stock", "created_at", "updated_at"]

    def validate_slug(self, value):
        duplicates = Product.objects.filter(slug=value)
        if self.instance is not None:
            duplicates = duplicates.exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise serializers.ValidationError("A product with this slug already exists.")
        return value


class StockAdjustmentSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text="Units to add (a delivery) or, negative, to remove (breakage, a count).",
    )


# --- Internal API (docs/internal-api.md) ---------------------------------------------


class InternalProductSerializer(serializers.Serializer):
    """One row of GET /internal/catalog/products/?ids=… (from `.values()`, no model)."""

    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    tax_rate = TaxRateField()
    stock = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ReservationLineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)


class ReservationReferenceSerializer(serializers.Serializer):
    reference = serializers.RegexField(
        r"^[^\s/]{1,64}$",
        max_length=64,
        trim_whitespace=False,
        error_messages={"invalid": "1 to 64 characters, without spaces or slashes."},
    )


class ReservationInputSerializer(ReservationReferenceSerializer):
    lines = ReservationLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    ttl_seconds = serializers.IntegerField(
        min_value=1, max_value=RESERVATION_MAX_TTL_SECONDS, required=False
    )


class ReservationLineSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    tax_rate = TaxRateField(read_only=True)

    class Meta:
        model = ReservationLine
        fields = ["product_id", "sku", "name", "unit_price", "tax_rate", "quantity"]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    lines = ReservationLineSerializer(many=True, read_only=True)

    class Meta:
        model = Reservation
        fields = ["reference", "state", "expires_at", "lines"]
        read_only_fields = fields
