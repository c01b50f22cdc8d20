"""A stand-in for the catalog service (tests/support/fake_service.py).

It answers `GET /internal/catalog/products/?ids=...` as docs/internal-api.md
says (inactive products included, unknown ids absent, 400 beyond 100 ids or for
non-integers, 403 without the service credential) from an in-memory dict, and
records every request it receives. tests/catalog/test_internal_contract.py runs it
and the real catalog through the same assertions.
"""

import itertools

from shopkit.address import COUNTRY_CODES as VALID_COUNTRIES
from tests.support.fake_service import FakeService, problem

PRODUCTS_PATH = "/internal/catalog/products/"


class FakeCatalog(FakeService):
    routes = [("GET", r"^/internal/catalog/products/$", "catalog", "product_list")]

    def __init__(self, service_token: str):
        self.products: dict[int, dict] = {}
        # What the catalog answers for a destination (its TAX_BY_DESTINATION and rates):
        # country -> product id -> tax rate.
        self.destination_rates: dict[str, dict[int, str]] = {}
        self._ids = itertools.count(1)
        super().__init__(service_token)

    def product_list(self, query: dict) -> tuple[int, dict]:
        try:
            ids = [int(value) for value in query.get("ids", "").split(",") if value]
        except ValueError:
            return problem(400, "invalid")
        if len(ids) > 100 or query.get("country", "ES") not in VALID_COUNTRIES:
            return problem(400, "invalid")
        rates = self.destination_rates.get(query.get("country"), {})
        results = [
            {**self.products[i], "tax_rate": rates.get(i, self.products[i]["tax_rate"])}
            for i in ids
            if i in self.products
        ]
        return 200, {"results": results}

    def add_product(
        self,
        *,
        price: str = "10.00",
        tax_rate: str = "0.21",
        stock: int = 100,
        is_active: bool = True,
        product_id: int | None = None,
    ) -> dict:
        product_id = product_id or next(self._ids)
        product = {
            "id": product_id,
            "sku": f"SKU-{product_id:05d}",
            "name": f"Product {product_id}",
            "slug": f"product-{product_id}",
            "price": price,
            "tax_rate": tax_rate,
            "tax_class": "standard",
            "stock": stock,
            "is_active": is_active,
            "weight": None,
        }
        with self.lock:
            self.products[product_id] = product
        return product

    def update_product(self, product_id: int, **changes) -> None:
        with self.lock:
            self.products[product_id].update(changes)

    def remove_product(self, product_id: int) -> None:
        with self.lock:
            del self.products[product_id]

    @property
    def product_requests(self) -> int:
        return sum(1 for path in self.requests if path.startswith(PRODUCTS_PATH))
