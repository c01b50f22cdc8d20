"""The cart's machine-readable error codes (the `code` of its problem responses)."""

from enum import StrEnum


class CartErrorCode(StrEnum):
    UNKNOWN_PRODUCT = "unknown_product"
    INACTIVE_PRODUCT = "inactive_product"
    QUANTITY_TOO_LARGE = "quantity_too_large"
    TOO_MANY_LINES = "too_many_lines"
    INSUFFICIENT_STOCK = "insufficient_stock"
    LINE_NOT_FOUND = "line_not_found"
    CART_TOKEN_REQUIRED = "cart_token_required"
    CART_BUSY = "cart_busy"
    CART_NOT_FOUND = "cart_not_found"


# Extension members of the cart's problem documents, for the OpenAPI schema
# (shopkit.schema adds them to Problem; the codes that carry each are named).
PROBLEM_EXTENSION_MEMBERS = {
    "product_id": {
        "type": "integer",
        "description": "unknown_product, inactive_product, quantity_too_large, "
        "insufficient_stock: the product concerned.",
    },
    "requested": {
        "type": "integer",
        "description": "quantity_too_large, insufficient_stock: the quantity the line would have.",
    },
    "available": {
        "type": "integer",
        "description": "insufficient_stock: the units in stock.",
    },
    "max_quantity": {
        "type": "integer",
        "description": "quantity_too_large: the most units one line may hold.",
    },
    "max_lines": {
        "type": "integer",
        "description": "too_many_lines: the most different products a cart may hold.",
    },
    "service": {
        "type": "string",
        "description": "service_unavailable: the service that did not answer (catalog).",
    },
}
