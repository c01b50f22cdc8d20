"""The catalog's machine-readable error codes (the `code` of its problem responses)."""

from enum import StrEnum

from shopkit.errors import ApplicationError


class CatalogErrorCode(StrEnum):
    # Reservations (docs/internal-api.md)
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_PRODUCT = "unknown_product"
    REFERENCE_CONFLICT = "reference_conflict"
    RESERVATION_RELEASED = "reservation_released"
    RESERVATION_NOT_FOUND = "reservation_not_found"
    # A row stayed locked (deadlock or lock wait timeout) through every retry.
    STOCK_BUSY = "stock_busy"
    # Staff writes
    CATEGORY_IN_USE = "category_in_use"
    # The stock moved (reservations, another user) since the writer last read it.
    STALE_STOCK = "stale_stock"
    # A product that was ever reserved (so maybe ordered) is kept: deactivate it.
    PRODUCT_IN_USE = "product_in_use"
    CSV_INVALID = "csv_invalid"


def reservation_not_found(reference: str) -> ApplicationError:
    return ApplicationError(
        f"No reservation {reference}.", code=CatalogErrorCode.RESERVATION_NOT_FOUND, status=404
    )


# Extension members of the catalog's public problem documents, for the OpenAPI schema
# (shopkit.schema adds them to Problem; the codes that carry each are named).
PROBLEM_EXTENSION_MEMBERS = {
    "available": {
        "type": "integer",
        "description": "insufficient_stock (stock adjustment): the units in stock now.",
    },
}
