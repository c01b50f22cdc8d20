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
