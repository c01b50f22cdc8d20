"""Orders as the checkout leaves them, for the tests of reading and changing them."""

from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderLine, OrderStatus, StatusChange
from orders.services.idempotency import order_number_generate
from shopkit import money


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    number = factory.LazyFunction(order_number_generate)
    user_id = 1
    email = factory.LazyAttribute(lambda order: f"user{order.user_id}@example.com")
    status = OrderStatus.PENDING
    full_name = "Ada Lovelace"
    line1 = "Calle Mayor 1"
    city = "Madrid"
    postal_code = "28013"
    country = "ES"
    currency = "EUR"
    subtotal = Decimal("20.00")
    tax = Decimal("4.20")
    total = Decimal("24.20")
    cart_version = 1
    reservation_committed_at = factory.LazyFunction(timezone.now)
    cart_cleared_at = factory.SelfAttribute("reservation_committed_at")

    line = factory.RelatedFactory("tests.orders.factories.OrderLineFactory", "order")
    placed = factory.RelatedFactory(
        "tests.orders.factories.StatusChangeFactory",
        "order",
        from_status=None,
        to_status=OrderStatus.PENDING,
        by_user_id=factory.SelfAttribute("..user_id"),
        note="Order placed.",
    )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory, line=None, placed=None)
    product_id = factory.Sequence(lambda n: n + 1)
    sku = factory.LazyAttribute(lambda line: f"SKU-{line.product_id}")
    name = factory.LazyAttribute(lambda line: f"Product {line.product_id}")
    unit_price = Decimal("10.00")
    tax_rate = Decimal("0.21")
    quantity = 2
    line_total = factory.LazyAttribute(
        lambda line: money.line_amounts(line.unit_price, line.quantity, line.tax_rate).line_total
    )
    line_tax = factory.LazyAttribute(
        lambda line: money.line_amounts(line.unit_price, line.quantity, line.tax_rate).line_tax
    )


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    order = factory.SubFactory(OrderFactory, line=None, placed=None)
    from_status = None
    to_status = OrderStatus.PENDING
    by_user_id = 1
