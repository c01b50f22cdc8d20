"""Carts live in ecommerce_db. Products and users belong to other services, so
`user_id` and `product_id` are plain indexed integers, never foreign keys."""

from django.db import models
from django.db.models import Q


class Cart(models.Model):
    """A signed-in customer's cart (`user_id`) or a guest's (`guest_token_hash`).

    The guest token itself is never stored: only its SHA-256, so a leaked table
    does not hand out carts. `version` changes on every write; the checkout reads
    it and clears the cart only if it did not move.
    """

    user_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    guest_token_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            # Exactly one owner: a customer or a guest token, never both.
            models.CheckConstraint(
                condition=(Q(user_id__isnull=False) & Q(guest_token_hash__isnull=True))
                | (Q(user_id__isnull=True) & Q(guest_token_hash__isnull=False)),
                name="carts_cart_one_owner",
            ),
        ]

    def __str__(self):
        return f"Cart {self.pk} ({self.owner_label})"

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def owner_label(self) -> str:
        return "guest" if self.is_guest else f"user {self.user_id}"


class CartLine(models.Model):
    """`quantity` units of catalog product `product_id`. No price or name is kept:
    the catalog is asked for them whenever the cart is shown."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product_id = models.PositiveBigIntegerField(db_index=True)
    quantity = models.PositiveIntegerField()
    # The cart version the write that created this line produced. A checkout that read
    # the cart at an older version did not see this line, so its late clear leaves the
    # line alone (the customer added the product again afterwards).
    created_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "product_id"], name="carts_line_one_per_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="carts_line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × product {self.product_id}"


class AppliedClear(models.Model):
    """A checkout's clear request already applied to a cart (by order reference),
    so a retried clear changes nothing."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="applied_clears")
    reference = models.CharField(max_length=64)
    read_version = models.PositiveIntegerField(
        default=0, help_text="The cart version the checkout read (and ordered)."
    )
    # What the first application did: the whole cart emptied (True) or only the
    # ordered quantities taken out because the cart had changed (False).
    cleared_all = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "reference"], name="carts_clear_once_per_reference"
            ),
        ]

    def __str__(self):
        return f"{self.reference} on cart {self.cart_id}"
