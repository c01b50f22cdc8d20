"""Calls to the neighbour services, exactly as docs/internal-api.md describes them.

Every call goes through shopkit's one client (timeouts, X-Request-ID, service
credential; unreachable, timing out or 5xx -> ServiceUnavailable). This module
turns the answers into plain values, and the 4xx answers the contract names into
the orders domain's errors. Any other answer is a broken contract: it is logged
and treated like an unavailable neighbour, so the checkout gives up cleanly.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from orders.errors import OrderErrorCode
from shopkit.client import service_client
from shopkit.errors import ApplicationError, ServiceUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineQuantity:
    product_id: int
    quantity: int

    def as_json(self) -> dict:
        return {"product_id": self.product_id, "quantity": self.quantity}


@dataclass(frozen=True)
class CartSnapshot:
    version: int
    lines: tuple[LineQuantity, ...]


@dataclass(frozen=True)
class ReservedLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal
    quantity: int
    weight: Decimal | None = None  # kilograms per unit; None: the product has no weight


@dataclass(frozen=True)
class CatalogProduct:
    id: int
    price: Decimal
    tax_rate: Decimal
    weight: Decimal | None
    is_active: bool


@dataclass(frozen=True)
class Reservation:
    reference: str
    state: str
    lines: tuple[ReservedLine, ...]


class ReservationReleased(Exception):
    """The catalog released (or expired) this reference: it can no longer be committed."""


def _unexpected(service: str, response, what: str) -> ServiceUnavailable:
    logger.error(
        "unexpected answer from a neighbour",
        extra={"target": service, "call": what, "status": response.status_code},
    )
    return ServiceUnavailable(
        f"The {service} service gave an unexpected answer; nothing was changed, retry later.",
        extra={"service": service},
    )


def _json(service: str, response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise _unexpected(service, response, what)
    if not isinstance(body, dict):
        raise _unexpected(service, response, what)
    return body


def _problem_code(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


# --- cart -------------------------------------------------------------------------


def cart_read(*, user_id: int) -> CartSnapshot:
    """The user's cart as the checkout sees it: its version and (product, quantity) lines."""
    return _cart_snapshot(service_client("cart").get(f"/internal/cart/users/{user_id}/"))


def cart_read_guest(*, cart_token: str) -> CartSnapshot | None:
    """A guest's cart by its token (None when no guest cart has it)."""
    # A POST so the token travels in the body, never in a logged URL; a read, so retried.
    response = service_client("cart").post(
        "/internal/cart/guests/lookup/", json={"cart_token": cart_token}, idempotent=True
    )
    if response.status_code == 404:
        return None
    return _cart_snapshot(response)


def _cart_snapshot(response) -> CartSnapshot:
    if response.status_code != 200:
        raise _unexpected("cart", response, "read")
    body = _json("cart", response, "read")
    try:
        return CartSnapshot(
            version=int(body["version"]),
            lines=tuple(
                LineQuantity(product_id=int(line["product_id"]), quantity=int(line["quantity"]))
                for line in body["lines"]
            ),
        )
    except (KeyError, TypeError, ValueError):
        raise _unexpected("cart", response, "read")


def cart_clear(*, user_id: int, reference: str, version: int, lines: list[LineQuantity]) -> None:
    """Take what was ordered out of the cart; idempotent per reference, so retried."""
    response = service_client("cart").post(
        f"/internal/cart/users/{user_id}/clear/",
        json={
            "reference": reference,
            "version": version,
            "lines": [line.as_json() for line in lines],
        },
        idempotent=True,
    )
    if response.status_code != 200:
        raise _unexpected("cart", response, "clear")


def cart_clear_guest(
    *, cart_token_hash: str, reference: str, version: int, lines: list[LineQuantity]
) -> None:
    """cart_clear for a guest order's guest cart, named by its token's SHA-256."""
    response = service_client("cart").post(
        "/internal/cart/guests/clear/",
        json={
            "cart_token_hash": cart_token_hash,
            "reference": reference,
            "version": version,
            "lines": [line.as_json() for line in lines],
        },
        idempotent=True,
    )
    if response.status_code != 200:
        raise _unexpected("cart", response, "clear")


# --- catalog ----------------------------------------------------------------------


def _reservation_from(response) -> Reservation:
    body = _json("catalog", response, "reserve")
    try:
        return Reservation(
            reference=str(body["reference"]),
            state=str(body["state"]),
            lines=tuple(
                ReservedLine(
                    product_id=int(line["product_id"]),
                    sku=str(line["sku"]),
                    name=str(line["name"]),
                    unit_price=Decimal(str(line["unit_price"])),
                    tax_rate=Decimal(str(line["tax_rate"])),
                    quantity=int(line["quantity"]),
                    weight=_weight(line.get("weight")),
                )
                for line in body["lines"]
            ),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise _unexpected("catalog", response, "reserve")


def _weight(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def catalog_products(*, product_ids: list[int], country: str) -> dict[int, CatalogProduct]:
    """Prices, tax rates for `country` and weights of these products (one call, <= 100 ids)."""
    if not product_ids:
        return {}
    response = service_client("catalog").get(
        "/internal/catalog/products/",
        params={"ids": ",".join(str(product_id) for product_id in product_ids), "country": country},
    )
    if response.status_code != 200:
        raise _unexpected("catalog", response, "products")
    body = _json("catalog", response, "products")
    try:
        return {
            int(item["id"]): CatalogProduct(
                id=int(item["id"]),
                price=Decimal(str(item["price"])),
                tax_rate=Decimal(str(item["tax_rate"])),
                weight=_weight(item.get("weight")),
                is_active=item["is_active"] is True,
            )
            for item in body["results"]
        }
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise _unexpected("catalog", response, "products")


def catalog_reserve(
    *, reference: str, lines: list[LineQuantity], country: str | None = None
) -> Reservation:
    """Hold stock for every line or none; prices, names and tax rates come back with it.

    With the destination `country` the catalog charges its rates (TAX_BY_DESTINATION).
    Safe to retry: the catalog answers a repeated reference with the same reservation.
    """
    body = {"reference": reference, "lines": [line.as_json() for line in lines]}
    if country:
        body["country"] = country
    response = service_client("catalog").post(
        "/internal/catalog/reservations/", json=body, idempotent=True
    )
    if response.status_code in (200, 201):
        return _reservation_from(response)
    code = _problem_code(response)
    if response.status_code == 409 and code == "insufficient_stock":
        short_lines = response.json().get("short_lines", [])
        raise ApplicationError(
            "Some products do not have enough stock; nothing was reserved or ordered.",
            code=OrderErrorCode.OUT_OF_STOCK,
            status=409,
            extra={"short_lines": short_lines},
        )
    if response.status_code == 400 and code == "unknown_product":
        raise ApplicationError(
            "Some products in the cart are no longer sold; remove them and check out again.",
            code=OrderErrorCode.PRODUCTS_UNAVAILABLE,
            status=409,
            extra={"product_ids": response.json().get("product_ids", [])},
        )
    raise _unexpected("catalog", response, "reserve")


def catalog_commit(*, reference: str) -> None:
    """Make the reservation permanent (the order exists). Idempotent, so retried."""
    response = service_client("catalog").post(
        f"/internal/catalog/reservations/{reference}/commit/", json={}, idempotent=True
    )
    if response.status_code == 200:
        return
    if response.status_code == 409 and _problem_code(response) == "reservation_released":
        raise ReservationReleased(reference)
    raise _unexpected("catalog", response, "commit")


def catalog_release(*, reference: str) -> None:
    """Give the stock back (reserved or committed); an unknown reference becomes a tombstone."""
    response = service_client("catalog").post(
        f"/internal/catalog/reservations/{reference}/release/", json={}, idempotent=True
    )
    if response.status_code != 200:
        raise _unexpected("catalog", response, "release")


def catalog_release_quietly(*, reference: str) -> bool:
    """Release a reservation if the catalog answers (True); otherwise its expiry will."""
    try:
        catalog_release(reference=reference)
        return True
    except ServiceUnavailable:
        logger.warning("reservation left to expire", extra={"reference": reference})
        return False


# --- auth -------------------------------------------------------------------------


def auth_address(*, user_id: int, address_id: int) -> dict:
    """One of the user's saved addresses; 400 problem if it is not theirs or does not exist."""
    response = service_client("auth").get(f"/internal/auth/users/{user_id}/addresses/{address_id}/")
    if response.status_code == 404:
        raise ApplicationError(
            "No saved address with this id.",
            code=OrderErrorCode.ADDRESS_NOT_FOUND,
            status=400,
            errors={"address_id": ["No saved address with this id."]},
        )
    if response.status_code != 200:
        raise _unexpected("auth", response, "address")
    return _json("auth", response, "address")
