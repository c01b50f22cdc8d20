"""What the browser tests set up through the real APIs and check in the real databases."""

import uuid

import requests
from django.core import signing

from tests.support.databases import Database

# auth's `seed_users --dev`: the superuser, the demo staff (one per seeded group) and
# the demo customers customer1@example.com … customer5@example.com, one address each.
SUPERUSER = ("admin@tienda.local", "tienda-admin-2026")
CATALOG_MANAGER = ("catalog@tienda.local", "tienda-staff-2026")
ORDER_MANAGER = ("orders@tienda.local", "tienda-staff-2026")
CUSTOMER_PASSWORD = "tienda-demo-2026"
DEMO_CUSTOMERS = 5

# django.contrib.sessions' db backend signs session data with this salt.
SESSION_SALT = "django.contrib.sessions.SessionStore"


class ShopDatabases:
    def __init__(self, *, auth: str, ecommerce: str):
        self.auth = Database(auth)
        self.ecommerce = Database(ecommerce)

    def user_id(self, email: str) -> int:
        user_id = self.auth.value("SELECT id FROM auth_user WHERE username = %s", email.lower())
        assert user_id is not None, f"no user {email}"
        return user_id

    def session_users(self, secret_key: str) -> dict[str, int | None]:
        """Every live session in auth_db: session key -> the signed-in user's id (or None)."""
        sessions = {}
        for row in self.auth.rows(
            "SELECT session_key, session_data FROM django_session WHERE expire_date > UTC_TIMESTAMP()"
        ):
            data = signing.loads(
                row["session_data"],
                key=secret_key,
                fallback_keys=[],
                salt=SESSION_SALT,
                serializer=signing.JSONSerializer,
            )
            user_id = data.get("_auth_user_id")
            sessions[row["session_key"]] = int(user_id) if user_id is not None else None
        return sessions

    def product(self, sku: str) -> dict | None:
        return self.ecommerce.row(
            "SELECT p.*, c.slug AS category_slug FROM catalog_product p "
            "LEFT JOIN catalog_category c ON c.id = p.category_id WHERE p.sku = %s",
            sku,
        )

    def order(self, number: str) -> dict | None:
        return self.ecommerce.row("SELECT * FROM orders_order WHERE number = %s", number)

    def order_history(self, number: str) -> list[dict]:
        return self.ecommerce.rows(
            "SELECT h.from_status, h.to_status, h.by_user_id, h.by_email, h.note "
            "FROM orders_statuschange h JOIN orders_order o ON o.id = h.order_id "
            "WHERE o.number = %s ORDER BY h.at, h.id",
            number,
        )


# --- The APIs, through the gateway ------------------------------------------------------------


class ApiUser:
    """Someone calling the shop's API through the gateway with an access token."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, *, expect: int, **kwargs) -> dict:
        response = self.session.request(method, self.base_url + path, timeout=30, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else {}


def api_sign_in(base_url: str, email: str, password: str) -> ApiUser:
    response = requests.post(
        f"{base_url}/api/v1/auth/token/", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return ApiUser(base_url, response.json()["access"])


def unique(prefix: str) -> str:
    """A name no other test (or earlier run) uses: PREFIX-1A2B3C4D."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def create_category(catalog: ApiUser, *, name: str) -> dict:
    slug = unique(name).lower().replace(" ", "-")
    return catalog.call(
        "POST", "/api/v1/catalog/categories/", json={"name": name, "slug": slug}, expect=201
    )


def create_product(
    catalog: ApiUser, *, sku: str, stock: int, price: str = "10.00", **fields
) -> dict:
    return catalog.call(
        "POST",
        "/api/v1/catalog/products/",
        json={
            "sku": sku,
            "name": fields.pop("name", f"Product {sku}"),
            "price": price,
            "tax_rate": "0.21",
            "stock": stock,
            **fields,
        },
        expect=201,
    )


def place_order(customer: ApiUser, *, lines: list[tuple[int, int]], address_id: int) -> dict:
    """The customer's cart filled with `lines` (product id, quantity), then a checkout."""
    for product_id, quantity in lines:
        customer.call(
            "POST",
            "/api/v1/cart/items/",
            json={"product_id": product_id, "quantity": quantity},
            expect=201,
        )
    return customer.call(
        "POST",
        "/api/v1/orders/",
        json={"address_id": address_id},
        headers={"Idempotency-Key": uuid.uuid4().hex},
        expect=201,
    )
