"""The machine-readable error codes of the orders domain (the `code` of a problem response)."""

from enum import StrEnum

from shopkit.errors import ApplicationError


class OrderErrorCode(StrEnum):
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    CHECKOUT_IN_PROGRESS = "checkout_in_progress"
    EMPTY_CART = "empty_cart"
    OUT_OF_STOCK = "out_of_stock"
    PRODUCTS_UNAVAILABLE = "products_unavailable"
    ADDRESS_NOT_FOUND = "address_not_found"
    ADDRESS_INVALID = "address_invalid"
    INVALID_TRANSITION = "invalid_transition"
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_UNAVAILABLE = "shipping_method_unavailable"
    TRACKING_REQUIRED = "tracking_required"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    ORDER_TOKEN_REQUIRED = "order_token_required"
    # payments (orders/services/payments.py)
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    ORDER_NOT_PAYABLE = "order_not_payable"
    PAYMENT_NOT_RECEIVABLE = "payment_not_receivable"
    PAYMENT_NOT_REFUNDABLE = "payment_not_refundable"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    WEBHOOK_INVALID = "webhook_invalid"


# Checkout outcomes that are a decision about the request (not an accident on the way):
# they are stored on the Idempotency-Key and replayed, like a 201.
FINAL_CHECKOUT_ERRORS = frozenset(
    {
        OrderErrorCode.EMPTY_CART,
        OrderErrorCode.OUT_OF_STOCK,
        OrderErrorCode.PRODUCTS_UNAVAILABLE,
        OrderErrorCode.ADDRESS_NOT_FOUND,
        OrderErrorCode.ADDRESS_INVALID,
        OrderErrorCode.SHIPPING_METHOD_REQUIRED,
        OrderErrorCode.SHIPPING_METHOD_UNAVAILABLE,
    }
)

CHECKOUT_RETRY_AFTER_SECONDS = 1

# Extension members of the orders problem documents, for the OpenAPI schema
# (shopkit.schema adds them to Problem; the codes that carry each are named).
PROBLEM_EXTENSION_MEMBERS = {
    "short_lines": {
        "type": "array",
        "description": "out_of_stock: the lines the stock cannot cover.",
        "items": {
            "type": "object",
            "properties": {
                "product_id": {"type": "integer"},
                "requested": {"type": "integer"},
                "available": {"type": "integer"},
            },
            "required": ["product_id", "requested", "available"],
        },
    },
    "product_ids": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "products_unavailable: the products no longer sold.",
    },
    "from_status": {
        "type": "string",
        "description": "invalid_transition: the order's status.",
    },
    "to_status": {
        "type": "string",
        "description": "invalid_transition: the status asked for.",
    },
    "refundable": {
        "type": "string",
        "description": "refund_exceeds_paid: what can still be refunded (a decimal string).",
    },
    "payment_status": {
        "type": "string",
        "description": "order_not_payable: the order's payment status.",
    },
    "service": {
        "type": "string",
        "description": "service_unavailable: the service that did not answer (auth, catalog, cart).",
    },
}


class CheckoutInProgress(ApplicationError):
    """Another request holds this Idempotency-Key right now; retrying later gives its result."""

    status = 409
    code = OrderErrorCode.CHECKOUT_IN_PROGRESS

    def __init__(
        self,
        detail: str = "A checkout with this Idempotency-Key is in progress; retry shortly to "
        "get its result.",
    ):
        super().__init__(
            detail,
            extra={"retry_after": CHECKOUT_RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(CHECKOUT_RETRY_AFTER_SECONDS)},
        )
