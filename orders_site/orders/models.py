"""Orders, their lines and status history, the checkout's idempotency keys, and the
orders' payments, refunds and provider events (ecommerce_db).

No foreign key leaves this app: `user_id` (auth) and `product_id` (catalog) are plain
indexed integers, and a line keeps the name, sku and prices the catalog's
reservation returned, so an order reads the same whatever happens to the product.
"""

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from shopkit.address import ADDRESS_FIELDS, COUNTRY_CODES, PostalAddress

ORDER_NUMBER_PATTERN = r"^T-[0-9A-HJKMNP-TV-Z]{10}$"  # "T-" + 10 Crockford base32 characters


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    PROCESSING = "processing", "Processing"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# The status machine of docs/architecture.md: every allowed move, nothing else.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

MONEY = {"max_digits": 12, "decimal_places": 2}
SHIPPING_ADDRESS_FIELDS = ADDRESS_FIELDS


class OrderPaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class Order(PostalAddress):
    """An order; its shipping address (PostalAddress's fields) is copied at checkout,
    so a saved address may change later without changing the order."""

    number = models.CharField(
        max_length=12, unique=True, validators=[RegexValidator(ORDER_NUMBER_PATTERN)]
    )
    # null: a guest's order (no account), until a customer verifies its email
    # (orders.services.guests: the order becomes theirs).
    user_id = models.PositiveBigIntegerField(db_index=True, null=True, blank=True)
    # A guest's order: the SHA-256 of its access token (X-Order-Token: read, pay,
    # cancel) and of the guest cart's token (the cart clear it owes). Empty otherwise.
    access_token_hash = models.CharField(max_length=64, blank=True, default="")
    guest_cart_token_hash = models.CharField(max_length=64, blank=True, default="")
    # Where and in which language the order's emails go (orders.services.emails), kept
    # from the checkout (the token's claims) so later ones need no token.
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )

    notes = models.TextField(max_length=1000, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    # The shipping method as it was charged (orders.shipping): later rate changes
    # never change an order. Empty when no method covered the destination.
    shipping_method_code = models.CharField(max_length=32, blank=True)
    shipping_method_name = models.CharField(max_length=100, blank=True)
    shipping_carrier = models.CharField(max_length=100, blank=True)
    shipping_tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    shipping_total = models.DecimalField(**MONEY, default=0)
    shipping_tax = models.DecimalField(**MONEY, default=0)
    # subtotal + tax + shipping_total + shipping_tax
    total = models.DecimalField(**MONEY)
    # Set when the order is shipped (both required for that move).
    tracking_carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)

    # Checkout saga bookkeeping (see services.py): what the follow-up steps still owe.
    cart_version = models.PositiveBigIntegerField(
        help_text="The cart version the checkout read; the cart clear is checked against it."
    )
    reservation_committed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cart_cleared_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when a cancelled order's units are back in the catalog (retried until then).
    stock_released_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # Kept by orders/services/payments.py from the order's payments (never by a client).
    payment_status = models.CharField(
        max_length=20, choices=OrderPaymentStatus.choices, default=OrderPaymentStatus.UNPAID
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="order_user_created_idx"),
            models.Index(fields=["status"], name="order_status_idx"),
            models.Index(fields=["-created_at"], name="order_created_idx"),
            models.Index(fields=["payment_status", "status"], name="order_payment_status_idx"),
            # Guest orders of an email, claimed when a customer verifies it.
            models.Index(fields=["email", "user_id"], name="order_email_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax__gte=0) & Q(total__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(shipping_total__gte=0) & Q(shipping_tax__gte=0),
                name="order_shipping_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(payment_status__in=OrderPaymentStatus.values),
                name="order_payment_status_valid",
            ),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.PositiveBigIntegerField(db_index=True)
    sku = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=255)
    unit_price = models.DecimalField(**MONEY)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    line_total = models.DecimalField(**MONEY)
    line_tax = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product_id"], name="order_line_unique_product"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class StatusChange(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    # null: the order was created (the API shows null, not an empty string)
    from_status = models.CharField(  # noqa: DJ001
        max_length=16, choices=OrderStatus.choices, null=True, blank=True
    )
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    by_user_id = models.PositiveBigIntegerField(
        null=True, blank=True
    )  # null: the system (reconcile_checkouts)
    by_email = models.EmailField(blank=True)
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status or '-'} → {self.to_status}"


class IdempotencyKeyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"  # a response is stored and replayed
    FAILED = "failed", "Failed"  # no response stored: the same key may run the checkout again


class IdempotencyKey(models.Model):
    """One checkout request per (user, Idempotency-Key), and the response it got."""

    user_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="sha256 of the request body as canonical JSON"
    )
    state = models.CharField(
        max_length=16,
        choices=IdempotencyKeyState.choices,
        default=IdempotencyKeyState.IN_PROGRESS,
    )
    order_number = models.CharField(
        max_length=12,
        unique=True,
        validators=[RegexValidator(ORDER_NUMBER_PATTERN)],
        help_text="The number (and catalog/cart reference) of the current attempt",
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # The lease of the attempt running the checkout (orders/services/idempotency.py):
    # `lease_owner` names the attempt, which renews `lease_expires_at` while it lives;
    # every write of the attempt is conditional on still being the owner.
    lease_owner = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The customer's id while this key is in progress, null otherwise: unique, so a
    # customer runs one checkout at a time and two never sell the same cart lines.
    running_for_user = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    # A guest's checkout: user_id is 0 (auth's ids start at 1) and the key is scoped to
    # the guest cart (the SHA-256 of its token); `running_for_guest` is the guest's
    # one-checkout-at-a-time slot, as `running_for_user` is a customer's.
    guest_scope = models.CharField(max_length=64, blank=True, default="")
    running_for_guest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "guest_scope", "key"], name="idempotency_key_unique_per_owner"
            )
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="idempotency_state_idx")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


# --- Shipping (orders.shipping) ----------------------------------------------------


class ShippingZone(models.Model):
    """A set of destination countries that shipping methods serve."""

    name = models.CharField(max_length=100, unique=True)
    countries = models.JSONField(default=list, help_text='ISO 3166-1 alpha-2 codes, e.g. ["ES"].')

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        countries = self.countries
        if not isinstance(countries, list) or not all(
            isinstance(code, str) and code in COUNTRY_CODES for code in countries
        ):
            raise ValidationError(
                {"countries": 'A list of ISO 3166-1 alpha-2 codes, e.g. ["ES", "PT"].'}
            )
        self.countries = sorted(set(countries))


class ShippingRateKind(models.TextChoices):
    FLAT = "flat", "Flat price"
    WEIGHT = "weight", "By total weight, in tiers"


class ShippingTaxMode(models.TextChoices):
    FIXED = "fixed", "A fixed rate"
    HIGHEST_IN_CART = "highest_in_cart", "The highest rate in the cart"


class ShippingMethod(models.Model):
    """How an order travels, and what it costs (orders.shipping prices it)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    carrier = models.CharField(max_length=100)
    estimated_days_min = models.PositiveSmallIntegerField()
    estimated_days_max = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)
    zones = models.ManyToManyField(ShippingZone, related_name="methods")
    rate_kind = models.CharField(
        max_length=16, choices=ShippingRateKind.choices, default=ShippingRateKind.FLAT
    )
    flat_price = models.DecimalField(
        **MONEY, default=0, validators=[MinValueValidator(0)], help_text="Net, for rate_kind flat."
    )
    free_above = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Free when the cart's net subtotal is at least this (empty: never).",
    )
    tax_mode = models.CharField(
        max_length=16, choices=ShippingTaxMode.choices, default=ShippingTaxMode.FIXED
    )
    tax_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="For tax_mode fixed: VAT on shipping as a fraction, e.g. 0.21.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_days_min__lte=models.F("estimated_days_max")),
                name="shipping_method_days_ordered",
            ),
            models.CheckConstraint(
                condition=Q(flat_price__gte=0) & Q(tax_rate__gte=0, tax_rate__lte=1),
                name="shipping_method_amounts_valid",
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.name})"

    def clean(self):
        super().clean()
        if (
            self.estimated_days_min is not None
            and self.estimated_days_max is not None
            and self.estimated_days_min > self.estimated_days_max
        ):
            raise ValidationError({"estimated_days_max": "At least estimated_days_min."})


class ShippingWeightTier(models.Model):
    """For a weight-priced method: this price up to (and including) `max_weight` kg."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="tiers")
    max_weight = models.DecimalField(
        max_digits=8, decimal_places=3, validators=[MinValueValidator(0)], help_text="Kilograms."
    )
    price = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["method", "max_weight"]
        constraints = [
            models.UniqueConstraint(
                fields=["method", "max_weight"], name="shipping_tier_one_per_weight"
            ),
            models.CheckConstraint(
                condition=Q(max_weight__gte=0) & Q(price__gte=0),
                name="shipping_tier_not_negative",
            ),
        ]

    def __str__(self):
        return f"≤ {self.max_weight} kg: {self.price}"


# --- Payments (orders/payments/: the providers; orders/services/payments.py: the rules) ---


class PaymentStatus(models.TextChoices):
    REQUIRES_ACTION = "requires_action", "Requires action"  # the customer (or staff) acts next
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Payment(models.Model):
    """One attempt to pay an order through one provider, for the order's whole total.

    The amount and currency are the order's when the payment was created (the client
    never sends them). `refunded_amount` counts every refund asked for (pending ones
    too), so the sum of refunds can never pass what was paid.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=32)
    # The provider's id for it (a Stripe PaymentIntent id); empty until the provider answered.
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_ACTION
    )
    refunded_amount = models.DecimalField(**MONEY, default=0)
    # What the customer needs to finish paying: Stripe.js's client secret, or the
    # manual provider's instructions (bank transfer details).
    client_secret = models.CharField(max_length=255, blank=True)
    instructions = models.TextField(blank=True)
    # The request that created it (the Idempotency-Key rules of the checkout).
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # True for the one payment that paid its order. Another one that succeeds too (a
    # second attempt, or after a cancellation) is refunded in full instead.
    pays_order = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"], name="payment_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=models.F("amount")),
                name="payment_refunds_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_idx")]

    def __str__(self):
        return f"{self.provider} {self.provider_reference or self.pk} ({self.status})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # asked of the provider; retried by reconcile until it answers
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # the provider refused it; its amount is no longer counted


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider_reference = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    by_user_id = models.PositiveBigIntegerField(null=True, blank=True)  # null: the system
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="refund_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.amount} of {self.payment_id} ({self.status})"


class PaymentEvent(models.Model):
    """A provider's webhook event, stored once per (provider, event id): a replayed or
    duplicated delivery finds its row and changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=64)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="payment_event_unique_per_provider"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id} {self.type}"
