"""Shapes of the catalog's JSON, public and internal. Explicit fields, never __all__."""

from datetime import UTC

from django.conf import settings
from rest_framework import serializers

from catalog.models import (
    MAX_STOCK,
    PRODUCT_EDITABLE_FIELDS,
    Category,
    Product,
    Reservation,
    ReservationLine,
)
from catalog.services import RESERVATION_MAX_TTL_SECONDS
from shopkit.fields import TaxRateField
from shopkit.rendering import KeptJson
from shopkit.serializers import FieldsBuiltOncePerThread

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


def category_representation(row: dict) -> dict:
    """One category as the public API shows it (the shape of CategorySerializer)."""
    return {"id": row["id"], "name": row["name"], "slug": row["slug"], "parent": row["parent_id"]}


category_json = KeptJson(category_representation, kept=1000)


class ProductSerializer(serializers.ModelSerializer):
    """The public product (the catalog's API). Staff write its editable fields (declared
    once, in catalog.models); `in_stock` and timestamps are derived."""

    in_stock = serializers.BooleanField(read_only=True)
    tax_rate = TaxRateField(help_text="VAT as a fraction, e.g. 0.21 (up to 4 decimals: 0.055).")
    expected_stock = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=0,
        max_value=MAX_STOCK,
        help_text=(
            "Changing a product: the stock you last read. When the stock is no longer "
            "that (orders or another user moved it), nothing is written: 409 stale_stock."
        ),
    )

    class Meta:
        model = Product
        # The editable fields in their declared order, `in_stock` right after `stock`.
        fields = [
            "id",
            *PRODUCT_EDITABLE_FIELDS[: PRODUCT_EDITABLE_FIELDS.index("stock") + 1],
            "in_stock",
            *PRODUCT_EDITABLE_FIELDS[PRODUCT_EDITABLE_FIELDS.index("stock") + 1 :],
            "expected_stock",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "in_stock", "created_at", "updated_at"]
        extra_kwargs = {
            "slug": {"required": False, "help_text": "Defaults to the slugified name and sku."}
        }

    def validate_expected_stock(self, value):
        if self.instance is None:
            raise serializers.ValidationError("Only for changing an existing product.")
        return value


# The read side: the same JSON as ProductSerializer, built straight from a `.values()`
# row (selectors.product_rows). Walking a ModelSerializer's fields for every product
# was the larger part of a list's time; the fields that format a value are DRF's own,
# so the text is identical (tests compare the two).
_PRICE = serializers.DecimalField(max_digits=10, decimal_places=2)
_TAX_RATE = TaxRateField()
_WEIGHT = serializers.DecimalField(max_digits=8, decimal_places=3)
_TIMESTAMP = serializers.DateTimeField()
# The rows' timestamps come from the database converters in UTC; with the services'
# TIME_ZONE (UTC) DRF's text for them is plain ISO 8601 with "Z", written here
# without DRF's time zone conversion (a tenth of a list's time). Anything else: DRF.
_UTC_TEXT = settings.TIME_ZONE == "UTC"


def _timestamp_text(value) -> str:
    if _UTC_TEXT and value.tzinfo is UTC:
        return value.isoformat()[:-6] + "Z"
    return _TIMESTAMP.to_representation(value)


def product_representation(row: dict) -> dict:
    """One product as the public API shows it (the shape of ProductSerializer)."""
    weight = row["weight"]
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "category": row["category_id"],
        "price": _PRICE.to_representation(row["price"]),
        "tax_rate": _TAX_RATE.to_representation(row["tax_rate"]),
        "tax_class": row["tax_class"],
        "stock": row["stock"],
        "in_stock": row["stock"] > 0,
        "is_active": row["is_active"],
        "image_url": row["image_url"],
        "weight": None if weight is None else _WEIGHT.to_representation(weight),
        "created_at": _timestamp_text(row["created_at"]),
        "updated_at": _timestamp_text(row["updated_at"]),
    }


# Each product's JSON text, kept per process by the row it was made from: a list or
# product page joins kept texts instead of shaping and encoding every product again.
product_json = KeptJson(product_representation, kept=2000)


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
    tax_rate = TaxRateField(help_text="The destination's rate when a country was given.")
    tax_class = serializers.CharField()
    stock = serializers.IntegerField()
    is_active = serializers.BooleanField()
    weight = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True)


def internal_product_representation(row: dict) -> dict:
    """One row of the internal batch lookup (the shape of InternalProductSerializer)."""
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "slug": row["slug"],
        "price": _PRICE.to_representation(row["price"]),
        "tax_rate": _TAX_RATE.to_representation(row["tax_rate"]),
        "tax_class": row["tax_class"],
        "stock": row["stock"],
        "is_active": row["is_active"],
        "weight": None if row["weight"] is None else _WEIGHT.to_representation(row["weight"]),
    }


# Each looked-up product's JSON text, kept by its row like product_json: every cart
# read and cart write asks for its lines' products, mostly the same rows again.
internal_product_json = KeptJson(internal_product_representation, kept=2000)


class ReservationLineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)


class ReservationReferenceSerializer(FieldsBuiltOncePerThread, serializers.Serializer):
    reference = serializers.RegexField(
        r"^[^\s/]{1,64}$",
        max_length=64,
        trim_whitespace=False,
        error_messages={"invalid": "1 to 64 characters, without spaces or slashes."},
    )


def validate_country_code(value: str) -> None:
    """shopkit.address.validate_country_code, imported by the first destination to check:
    that module brings phonenumbers and django-countries (about 1 MB of every catalog
    worker), and only the internal calls that name a country need it."""
    from shopkit.address import validate_country_code as validate

    validate(value)


class DestinationCountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 destination country (shopkit.address's list)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [validate_country_code])
        super().__init__(**kwargs)


class DestinationSerializer(serializers.Serializer):
    country = DestinationCountryField(required=False, allow_null=True, default=None)


class ReservationInputSerializer(ReservationReferenceSerializer):
    lines = ReservationLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    ttl_seconds = serializers.IntegerField(
        min_value=1, max_value=RESERVATION_MAX_TTL_SECONDS, required=False
    )
    country = DestinationCountryField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The destination: with TAX_BY_DESTINATION its rates apply.",
    )


class ReservationLineSerializer(serializers.ModelSerializer):
    product_id = serializers.IntegerField(read_only=True)
    tax_rate = TaxRateField(read_only=True)

    class Meta:
        model = ReservationLine
        fields = ["product_id", "sku", "name", "unit_price", "tax_rate", "quantity", "weight"]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    lines = ReservationLineSerializer(many=True, read_only=True)

    class Meta:
        model = Reservation
        fields = ["reference", "state", "expires_at", "lines"]
        read_only_fields = fields


def reservation_representation(reservation: Reservation) -> dict:
    """A reservation as the internal API answers it (the shape of ReservationSerializer),
    from its lines as they are loaded (prefetched, or remembered by the reserve)."""
    return {
        "reference": reservation.reference,
        "state": reservation.state,
        "expires_at": _timestamp_text(reservation.expires_at),
        "lines": [
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "unit_price": _PRICE.to_representation(line.unit_price),
                "tax_rate": _TAX_RATE.to_representation(line.tax_rate),
                "quantity": line.quantity,
                "weight": None if line.weight is None else _WEIGHT.to_representation(line.weight),
            }
            for line in reservation.lines.all()
        ],
    }


def reservation_rows_representation(rows: list[dict]) -> dict:
    """The same answer from selectors.reservation_rows (the reservation joined to its lines)."""
    first = rows[0]
    return {
        "reference": first["reference"],
        "state": first["state"],
        "expires_at": _timestamp_text(first["expires_at"]),
        "lines": [
            {
                "product_id": row["lines__product_id"],
                "sku": row["lines__sku"],
                "name": row["lines__name"],
                "unit_price": _PRICE.to_representation(row["lines__unit_price"]),
                "tax_rate": _TAX_RATE.to_representation(row["lines__tax_rate"]),
                "quantity": row["lines__quantity"],
                "weight": None
                if row["lines__weight"] is None
                else _WEIGHT.to_representation(row["lines__weight"]),
            }
            for row in rows
            if row["lines__id"] is not None
        ],
    }
