"""The README's storefront walk, through clients generated from the four published schemas.

tests/system/test_generated_clients.py generates the packages `tienda_auth_client`,
`tienda_catalog_client`, `tienda_cart_client` and `tienda_orders_client` (with
openapi-python-client) into var/, type-checks them together with this module
(mypy --strict), then runs `walk` against a real shop through the gateway. So this
module is what a storefront developer would write: typed calls, typed answers, and
problem documents parsed as the schemas say.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

import tienda_auth_client as auth
import tienda_cart_client as cart
import tienda_catalog_client as catalog
import tienda_orders_client as orders
from tienda_auth_client.api.account import register_create
from tienda_auth_client.api.tokens import token_create
from tienda_auth_client.models import RegisterInputRequest, TokenObtainInputRequest, TokenPair, User
from tienda_cart_client.api.cart import cart_item_add, cart_merge, cart_read
from tienda_cart_client.models import Cart, LineAddInputRequest, MergeResult
from tienda_catalog_client.api.products import products_create, products_list, products_retrieve
from tienda_catalog_client.models import (
    PaginatedProductList,
    Product,
    ProductRequest,
    ProductsListOrdering,
)
from tienda_orders_client.api.orders import (
    orders_cancel,
    orders_checkout,
    orders_list,
    orders_payments_create,
    orders_payments_list,
    orders_payments_received,
    orders_retrieve,
)
from tienda_orders_client.api.shipping import orders_shipping_methods
from tienda_orders_client.models import (
    CheckoutInlineAddressRequest,
    CheckoutResult,
    CountryEnum,
    OrderCancelRequest,
    OrderDetail,
    OrderPaymentStatusEnum,
    OrderStatusEnum,
    PaginatedOrderList,
    Payment,
    PaymentCreateRequest,
    PaymentStatusEnum,
    ShippingAddressRequest,
    ShippingOption,
)
from tienda_orders_client.types import UNSET, Unset

T = TypeVar("T")


class Answer(Protocol):
    """What every generated `sync_detailed` returns (each package has its own Response)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def parsed(self) -> object: ...


def expect(answer: Answer, status: int, kind: type[T]) -> T:
    """The parsed body of an answer with this status, of the type the schema promised."""
    assert answer.status_code == status, (answer.status_code, answer.content)
    assert isinstance(answer.parsed, kind), (kind, answer.parsed, answer.content)
    return answer.parsed


@dataclass(frozen=True)
class WalkResult:
    user_id: int
    order_id: int
    product_ids: tuple[int, int]
    shipping_method: str | None


def walk(
    base_url: str,
    *,
    staff_email: str,
    staff_password: str,
    order_staff_email: str,
    order_staff_password: str,
) -> WalkResult:
    run = uuid.uuid4().hex[:8]

    # Staff stock two products (catalog writes need the staff's catalog permissions).
    staff_pair = expect(
        token_create.sync_detailed(
            client=auth.Client(base_url=base_url),
            body=TokenObtainInputRequest(email=staff_email, password=staff_password),
        ),
        200,
        TokenPair,
    )
    staff = catalog.AuthenticatedClient(base_url=base_url, token=staff_pair.access)
    kettle, mug = (
        expect(
            products_create.sync_detailed(
                client=staff,
                body=ProductRequest(
                    sku=f"WALK-{run}-{name}",
                    name=f"Walk {run} {name}",
                    price=price,
                    tax_rate="0.21",
                    stock=10,
                ),
            ),
            201,
            Product,
        )
        for name, price in (("kettle", "24.95"), ("mug", "6.50"))
    )

    # Sign up, then sign in: an access and a refresh token.
    anonymous = auth.Client(base_url=base_url)
    email, password = f"walk-{run}@example.com", f"a-Long-unusual-passphrase-{run}"
    user = expect(
        register_create.sync_detailed(
            client=anonymous,
            body=RegisterInputRequest(
                email=email, password=password, first_name="Ana", last_name="García"
            ),
        ),
        201,
        User,
    )
    pair = expect(
        token_create.sync_detailed(
            client=anonymous, body=TokenObtainInputRequest(email=email, password=password)
        ),
        200,
        TokenPair,
    )

    # Browse without signing in: filters, a decimal price bound, a named ordering.
    browser = catalog.Client(base_url=base_url)
    page = expect(
        products_list.sync_detailed(
            client=browser,
            search=f"Walk {run}",
            in_stock=True,
            max_price="50.00",
            ordering=ProductsListOrdering.PRICE_DESC,
            page_size=5,
        ),
        200,
        PaginatedProductList,
    )
    assert [product.id for product in page.results] == [kettle.id, mug.id]
    assert (
        expect(products_retrieve.sync_detailed(mug.id, client=browser), 200, Product).price
        == "6.50"
    )
    missing = expect(
        products_retrieve.sync_detailed(2**62, client=browser), 404, catalog.models.Problem
    )
    assert missing.code == "not_found"

    # A guest cart: its token comes back in X-Cart-Token (and as cart_token).
    guest = cart.Client(base_url=base_url)
    answer = cart_item_add.sync_detailed(
        client=guest, body=LineAddInputRequest(product_id=mug.id, quantity=2)
    )
    guest_cart = expect(answer, 201, Cart)
    guest_token = answer.headers["X-Cart-Token"]
    assert guest_cart.cart_token == guest_token
    too_many = expect(
        cart_item_add.sync_detailed(
            client=guest,
            body=LineAddInputRequest(product_id=kettle.id, quantity=11),
            x_cart_token=guest_token,
        ),
        409,
        cart.models.Problem,
    )
    assert (too_many.code, too_many.product_id, too_many.requested, too_many.available) == (
        "insufficient_stock",
        kettle.id,
        11,
        10,
    )

    # Signed in: merge the guest cart, add one more product, read the priced cart.
    shopper = cart.AuthenticatedClient(base_url=base_url, token=pair.access)
    merged = expect(
        cart_merge.sync_detailed(client=shopper, x_cart_token=guest_token), 200, MergeResult
    )
    assert merged.merged is True
    expect(
        cart_item_add.sync_detailed(
            client=shopper, body=LineAddInputRequest(product_id=kettle.id, quantity=1)
        ),
        201,
        Cart,
    )
    priced = expect(cart_read.sync_detailed(client=shopper), 200, Cart)
    assert {item.product_id: item.quantity for item in priced.items} == {mug.id: 2, kettle.id: 1}
    assert Decimal(priced.subtotal) + Decimal(priced.tax) == Decimal(priced.total)

    # Shipping to Spain, priced for her cart, cheapest first (none when the shop ships
    # nowhere there: then the checkout names no method and pays no shipping).
    buyer = orders.AuthenticatedClient(base_url=base_url, token=pair.access)
    answer_options = orders_shipping_methods.sync_detailed(client=buyer, country="ES")
    assert answer_options.status_code == 200, answer_options.content
    options = answer_options.parsed
    assert isinstance(options, list) and all(isinstance(o, ShippingOption) for o in options)
    shipping = Decimal("0.00")
    method_code: str | Unset = UNSET
    if options:
        cheapest = options[0]
        assert isinstance(cheapest.total, str) and isinstance(cheapest.price, str)
        assert all(
            isinstance(o.total, str) and Decimal(o.total) >= Decimal(cheapest.total)
            for o in options
        )
        shipping, method_code = Decimal(cheapest.total), cheapest.code

    # Check out; the same Idempotency-Key again answers the same order, marked replayed.
    checkout = CheckoutInlineAddressRequest(
        shipping_address=ShippingAddressRequest(
            full_name="Ana García",
            line1="Calle Mayor 1",
            city="Madrid",
            postal_code="28013",
            country=CountryEnum.ES,
            phone="+34600000000",
        ),
        shipping_method=method_code,
    )
    key = str(uuid.uuid4())
    order = expect(
        orders_checkout.sync_detailed(client=buyer, body=checkout, idempotency_key=key),
        201,
        CheckoutResult,
    )
    assert isinstance(order.access_token, Unset)  # a customer's order: no access token
    # Cart total plus the quoted shipping, to the cent.
    assert Decimal(order.total) == Decimal(priced.total) + shipping
    assert Decimal(order.shipping_total) + Decimal(order.shipping_tax) == shipping
    replay = orders_checkout.sync_detailed(client=buyer, body=checkout, idempotency_key=key)
    assert expect(replay, 201, CheckoutResult).id == order.id
    assert replay.headers["Idempotent-Replayed"] == "true"
    empty = expect(
        orders_checkout.sync_detailed(
            client=buyer, body=checkout, idempotency_key=str(uuid.uuid4())
        ),
        400,
        orders.models.Problem,
    )
    assert empty.code == "empty_cart"

    # Pay with the manual provider (bank transfer): the order's total, with instructions.
    pay_key = str(uuid.uuid4())
    payment = expect(
        orders_payments_create.sync_detailed(
            order.id,
            client=buyer,
            body=PaymentCreateRequest(provider="manual"),
            idempotency_key=pay_key,
        ),
        201,
        Payment,
    )
    assert (payment.status, payment.amount) == (PaymentStatusEnum.REQUIRES_ACTION, order.total)
    assert order.number in payment.instructions
    # Staff of the "Order managers" mark the money received: the order is paid and confirmed.
    order_staff_pair = expect(
        token_create.sync_detailed(
            client=auth.Client(base_url=base_url),
            body=TokenObtainInputRequest(email=order_staff_email, password=order_staff_password),
        ),
        200,
        TokenPair,
    )
    order_staff = orders.AuthenticatedClient(base_url=base_url, token=order_staff_pair.access)
    paid = expect(
        orders_payments_received.sync_detailed(order.id, payment.id, client=order_staff),
        200,
        Payment,
    )
    assert paid.status == PaymentStatusEnum.SUCCEEDED

    # Her orders, one order with lines, history and payment, cancelling it (and not twice).
    mine = expect(orders_list.sync_detailed(client=buyer), 200, PaginatedOrderList)
    assert [listed.id for listed in mine.results] == [order.id]
    shown = expect(orders_retrieve.sync_detailed(order.id, client=buyer), 200, OrderDetail)
    assert shown.status == OrderStatusEnum.CONFIRMED
    assert shown.payment_status == OrderPaymentStatusEnum.PAID
    assert {line.product_id: line.quantity for line in shown.lines} == {mug.id: 2, kettle.id: 1}
    cancelled = expect(
        orders_cancel.sync_detailed(
            order.id, client=buyer, body=OrderCancelRequest(note="Changed my mind")
        ),
        200,
        OrderDetail,
    )
    assert cancelled.status == OrderStatusEnum.CANCELLED
    assert cancelled.history[-1].to_status == OrderStatusEnum.CANCELLED
    # A paid order cancelled is refunded in full through its provider.
    assert cancelled.payment_status == OrderPaymentStatusEnum.REFUNDED
    payments = orders_payments_list.sync_detailed(order.id, client=buyer)
    assert payments.status_code == 200 and isinstance(payments.parsed, list)
    assert [listed.refunded_amount for listed in payments.parsed] == [order.total]
    again = expect(orders_cancel.sync_detailed(order.id, client=buyer), 409, orders.models.Problem)
    assert (again.code, again.from_status, again.to_status) == (
        "invalid_transition",
        "cancelled",
        "cancelled",
    )
    return WalkResult(
        user_id=user.id,
        order_id=order.id,
        product_ids=(kettle.id, mug.id),
        shipping_method=method_code if isinstance(method_code, str) else None,
    )
