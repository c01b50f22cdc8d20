"""What is sold (categories, products), how many are left (stock) and who holds them
(reservations). Tables live in ecommerce_db (app label `catalog`, see shopkit's router).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

MAX_STOCK = 2**31 - 1  # the stock column is a signed 32-bit integer

# The product fields staff set, in the order of the CSV columns. The API's write
# serializer, the admin form, the CSV columns and the services' editable set all
# derive from this one list: a new editable field is added here (and to the model).
PRODUCT_EDITABLE_FIELDS = (
    "sku",
    "name",
    "slug",
    "description",
    "category",
    "price",
    "tax_rate",
    "tax_class",
    "stock",
    "is_active",
    "image_url",
    "weight",
)


class TaxClass(models.TextChoices):
    """Which of a country's VAT rates applies to a product (catalog.TaxRate)."""

    STANDARD = "standard", "Standard"
    REDUCED = "reduced", "Reduced"
    SUPER_REDUCED = "super_reduced", "Super-reduced"
    ZERO = "zero", "Zero"


class Category(models.Model):
    """A node of the category tree; a product filter on a category includes its subtree."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        # A category with subcategories or products cannot be deleted by accident.
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.parent_id is None or self.pk is None:
            return
        # Walking up from the new parent must never reach this category (no cycles).
        parent_of = dict(Category.objects.values_list("id", "parent_id"))
        ancestor_id = self.parent_id
        while ancestor_id is not None:
            if ancestor_id == self.pk:
                raise ValidationError(
                    {"parent": "A category cannot be its own ancestor or descendant."}
                )
            ancestor_id = parent_of.get(ancestor_id)


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    # Net (tax-exclusive) unit price in the shop currency (shopkit.money).
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="VAT as a fraction, e.g. 0.21 (up to 4 decimals: 0.055).",
    )
    # With TAX_BY_DESTINATION the destination country's rate for this class applies
    # (TaxRate); `tax_rate` stays the rate at origin and the fallback.
    tax_class = models.CharField(max_length=16, choices=TaxClass.choices, default=TaxClass.STANDARD)
    # A signed column with a CHECK, so a bad decrement fails as a constraint
    # violation instead of wrapping or clipping.
    stock = models.IntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_STOCK)]
    )
    is_active = models.BooleanField(default=True)
    image_url = models.URLField(max_length=500, blank=True)
    weight = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Kilograms.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lte=1),
                name="catalog_product_tax_rate_0_1",
            ),
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalog_product_stock_gte_0"),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gte=0),
                name="catalog_product_weight_gte_0",
            ),
        ]
        # The storefront list always filters on is_active and orders by one of these.
        indexes = [
            models.Index(fields=["is_active", "name", "id"], name="catalog_prod_active_name"),
            models.Index(fields=["is_active", "price", "id"], name="catalog_prod_active_price"),
            models.Index(
                fields=["is_active", "created_at", "id"], name="catalog_prod_active_created"
            ),
            # Staff lists (inactive products included) in the default order: without it,
            # each page sorted the whole table (42 ms of MariaDB's CPU at 100,000 products).
            models.Index(fields=["name", "id"], name="catalog_prod_name"),
            models.Index(fields=["category", "is_active"], name="catalog_prod_cat_active"),
            models.Index(fields=["stock"], name="catalog_prod_stock"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


class TaxRate(models.Model):
    """A country's VAT rate for one tax class: data staff keep current (`checked_on`)."""

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE.")
    tax_class = models.CharField(max_length=16, choices=TaxClass.choices)
    rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="VAT as a fraction, e.g. 0.19.",
    )
    checked_on = models.DateField(help_text="When someone last checked this rate is current.")

    class Meta:
        ordering = ["country", "tax_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "tax_class"], name="catalog_taxrate_one_per_class"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=1), name="catalog_taxrate_rate_0_1"
            ),
        ]

    def __str__(self):
        return f"{self.country} {self.tax_class} {self.rate}"


class Reservation(models.Model):
    """Units held for a caller-chosen reference (an order number) until committed or released."""

    class State(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        COMMITTED = "committed", "Committed"
        RELEASED = "released", "Released"

    reference = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    expires_at = models.DateTimeField()
    committed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # release_expired_reservations scans state=reserved by expiry.
        indexes = [models.Index(fields=["state", "expires_at"], name="catalog_resv_state_expiry")]

    def __str__(self):
        return f"{self.reference} ({self.state})"


class ReservationLine(models.Model):
    """One product held by a reservation, with the price and tax it was reserved at."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    # Orders keep product ids: a product that was ever reserved is never erased.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    # The rate charged: the destination's when the reservation named a country
    # and TAX_BY_DESTINATION is on, else the product's own.
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    # Kilograms at reservation time (null: the product has no weight), for shipping.
    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "product"], name="catalog_resvline_one_per_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="catalog_resvline_quantity_gte_1"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"
