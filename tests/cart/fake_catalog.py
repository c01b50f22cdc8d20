"""A stand-in for the catalog service: a real HTTP server in the test process.

It answers `GET /internal/catalog/products/?ids=...` exactly as docs/internal-api.md
says (inactive products included, unknown ids absent, 400 beyond 100 ids or for
non-integers, 403 without the service credential) from an in-memory dict, and
records every request it receives.
"""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PRODUCTS_PATH = "/internal/catalog/products/"


class FakeCatalog:
    def __init__(self, service_token: str):
        self.service_token = service_token
        self.products: dict[int, dict] = {}
        self.requests: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        catalog = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with catalog._lock:
                    catalog.requests.append(self.path)
                status, body = catalog.answer(self.path, self.headers)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.running = True

    def answer(self, path: str, headers) -> tuple[int, dict]:
        url = urlsplit(path)
        if url.path != PRODUCTS_PATH:
            return 404, {"code": "not_found"}
        if headers.get("X-Service-Token") != self.service_token:
            return 403, {"code": "permission_denied"}
        raw_ids = parse_qs(url.query).get("ids", [""])[0]
        try:
            ids = [int(value) for value in raw_ids.split(",") if value]
        except ValueError:
            return 400, {"code": "invalid"}
        if len(ids) > 100:
            return 400, {"code": "invalid"}
        with self._lock:
            results = [dict(self.products[i]) for i in ids if i in self.products]
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
            "stock": stock,
            "is_active": is_active,
        }
        with self._lock:
            self.products[product_id] = product
        return product

    def update_product(self, product_id: int, **changes) -> None:
        with self._lock:
            self.products[product_id].update(changes)

    def remove_product(self, product_id: int) -> None:
        with self._lock:
            del self.products[product_id]

    @property
    def product_requests(self) -> int:
        return sum(1 for path in self.requests if path.startswith(PRODUCTS_PATH))

    def forget_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def stop(self) -> None:
        """The catalog process is gone: connections are refused from now on."""
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.running = False
