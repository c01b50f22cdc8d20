"""Calls from the cart to the catalog (docs/internal-api.md, "Catalog internal API")."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from shopkit.client import service_client
from shopkit.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

PRODUCTS_PATH = "/internal/catalog/products/"
# The catalog answers at most this many ids per call. A cart holds at most
# CART_MAX_LINES (50) lines, and a merge at most twice that, so one call it is.
MAX_IDS_PER_CALL = 100


@dataclass(frozen=True)
class CatalogProduct:
    id: int
    sku: str
    name: str
    price: Decimal
    tax_rate: Decimal
    stock: int
    is_active: bool


def catalog_products(
    product_ids: Iterable[int], *, country: str | None = None
) -> dict[int, CatalogProduct]:
    """The catalog's current data for these products, by id, in one batched call.

    Unknown ids are simply absent; inactive products are included. With a destination
    `country` the tax rates are that country's (when the shop has TAX_BY_DESTINATION).
    Raises ServiceUnavailable (503) when the catalog cannot answer.
    """
    ids = sorted(set(product_ids))
    products: dict[int, CatalogProduct] = {}
    for start in range(0, len(ids), MAX_IDS_PER_CALL):
        batch = ids[start : start + MAX_IDS_PER_CALL]
        params = {"ids": ",".join(str(product_id) for product_id in batch)}
        if country:
            params["country"] = country
        response = service_client("catalog").get(PRODUCTS_PATH, params=params)
        products.update(_products_from(response))
    return products


def _products_from(response) -> dict[int, CatalogProduct]:
    try:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        return {
            int(item["id"]): CatalogProduct(
                id=int(item["id"]),
                sku=str(item["sku"]),
                name=str(item["name"]),
                price=Decimal(str(item["price"])),
                tax_rate=Decimal(str(item["tax_rate"])),
                stock=int(item["stock"]),
                is_active=item["is_active"] is True,
            )
            for item in response.json()["results"]
        }
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        # A 4xx or a malformed body means the contract is broken (or the service
        # credential is wrong): the customer can only retry later.
        logger.error("unexpected answer from the catalog", extra={"failure": str(exc)})
        raise ServiceUnavailable(
            "The catalog service gave an unexpected answer; nothing was changed, retry later.",
            extra={"service": "catalog"},
        )
